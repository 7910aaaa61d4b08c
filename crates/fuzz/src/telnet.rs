//! The Telnet byte stream: option negotiation, subnegotiation and user data.

use nectar_honeypot::telnet::parser::{self, Command, MAX_SUB, Parser};

/// Parses `data` whole and cut into pieces: both give the same user data and
/// commands; user data never outgrows the input; a subnegotiation keeps at most
/// `MAX_SUB` bytes; escaping user data and parsing it back gives it unchanged.
pub fn telnet_stream(data: &[u8]) {
    let (whole, commands) = parse(std::iter::once(data));
    let (pieces, piece_commands) = parse(crate::cuts(data));
    assert_eq!(whole, pieces, "user data depends on how the stream was cut");
    assert_eq!(commands, piece_commands);
    assert!(whole.len() <= data.len());
    for command in &commands {
        if let Command::Sub { payload, .. } = command {
            assert!(payload.len() <= MAX_SUB);
            let _ = parser::naws(payload);
            if let Some(name) = parser::terminal_type(payload) {
                assert!(name.len() <= 40 && name.bytes().all(|b| (0x20..0x7f).contains(&b)));
            }
        }
    }
    let mut escaped = Vec::new();
    parser::escape_into(data, &mut escaped);
    let (back, none) = parse(std::iter::once(escaped.as_slice()));
    assert_eq!(back, data, "escaped user data did not come back whole");
    assert!(none.is_empty());
    // The probe classifiers take any bytes and any line.
    let _ = nectar_honeypot::telnet::probe::first_bytes(&whole);
    let _ = nectar_honeypot::telnet::probe::line(&String::from_utf8_lossy(&whole));
    let _ = nectar_honeypot::shell::activity::classify(&String::from_utf8_lossy(&whole));
}

fn parse<'a>(pieces: impl Iterator<Item = &'a [u8]>) -> (Vec<u8>, Vec<Command>) {
    let mut parser = Parser::new();
    let mut data = Vec::new();
    let mut commands = Vec::new();
    for piece in pieces {
        parser.feed(piece, &mut data, &mut commands);
    }
    (data, commands)
}
