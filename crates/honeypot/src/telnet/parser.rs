//! The Telnet byte stream (RFC 854/855), parsed without I/O: bytes in, user data
//! and [`Command`]s out. The state survives between calls, so a sequence split
//! across reads parses the same as in one piece.
//!
//! Written here rather than taken from a crate because the crates we looked at
//! (libtelnet-rs, the `nectar` codec) append incoming bytes to an internal buffer
//! until a sequence completes, so an attacker's endless `IAC SB` grows memory
//! without limit. This machine keeps at most [`MAX_SUB`] bytes of one
//! subnegotiation and drops the rest; it never buffers user data.

/// Interpret As Command.
pub const IAC: u8 = 255;
/// Refuse a request to perform an option (`IAC DONT opt`).
pub const DONT: u8 = 254;
/// Request the other side perform an option (`IAC DO opt`).
pub const DO: u8 = 253;
/// Refuse to perform an option (`IAC WONT opt`).
pub const WONT: u8 = 252;
/// Offer to perform an option (`IAC WILL opt`).
pub const WILL: u8 = 251;
/// Start of subnegotiation.
pub const SB: u8 = 250;
/// End of subnegotiation.
pub const SE: u8 = 240;
/// Interrupt Process (Ctrl-C).
pub const IP: u8 = 244;
/// Erase Character (backspace).
pub const EC: u8 = 247;
/// Erase Line (Ctrl-U).
pub const EL: u8 = 248;

/// Option: echo (RFC 857).
pub const OPT_ECHO: u8 = 1;
/// Option: suppress go-ahead (RFC 858).
pub const OPT_SGA: u8 = 3;
/// Option: terminal type (RFC 1091).
pub const OPT_TTYPE: u8 = 24;
/// Option: window size (NAWS, RFC 1073).
pub const OPT_NAWS: u8 = 31;

/// Most bytes of one subnegotiation kept (a terminal type or window size needs
/// far fewer); the rest is dropped until `IAC SE`.
pub const MAX_SUB: usize = 64;

/// A Telnet command found in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `IAC WILL|WONT|DO|DONT option`.
    Negotiate {
        /// WILL, WONT, DO or DONT.
        verb: u8,
        /// The option.
        option: u8,
    },
    /// `IAC SB option payload IAC SE`, payload unescaped and cut at [`MAX_SUB`].
    Sub {
        /// The option.
        option: u8,
        /// The first bytes of its payload.
        payload: Vec<u8>,
        /// Bytes dropped past [`MAX_SUB`].
        dropped: usize,
    },
    /// Any other two-byte command (`IAC NOP`, `IAC AYT`, ...), after the ones
    /// that edit input were turned into their control characters.
    Other(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    Iac,
    Verb(u8),
    SubOption,
    Sub,
    SubIac,
}

/// The parser's state between calls.
#[derive(Debug)]
pub struct Parser {
    state: State,
    sub_option: u8,
    sub: Vec<u8>,
    sub_dropped: usize,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Parser {
        Parser {
            state: State::Data,
            sub_option: 0,
            sub: Vec::new(),
            sub_dropped: 0,
        }
    }

    /// Whether the stream is inside a command (so a byte count of "user data"
    /// must not be judged yet).
    pub fn in_command(&self) -> bool {
        self.state != State::Data
    }

    /// Parses `input`: user data is appended to `data`, commands to `commands`.
    /// `IAC IP`, `IAC EC` and `IAC EL` become Ctrl-C, backspace and Ctrl-U in the
    /// data, as a terminal driver would deliver them.
    pub fn feed(&mut self, input: &[u8], data: &mut Vec<u8>, commands: &mut Vec<Command>) {
        let mut rest = input;
        while !rest.is_empty() {
            if self.state == State::Data {
                // Copy the run up to the next IAC in one go.
                let run = rest.iter().position(|&b| b == IAC).unwrap_or(rest.len());
                data.extend_from_slice(&rest[..run]);
                rest = &rest[run..];
                if rest.is_empty() {
                    break;
                }
                self.state = State::Iac;
                rest = &rest[1..];
                continue;
            }
            let b = rest[0];
            rest = &rest[1..];
            self.state = match self.state {
                State::Data => State::Data,
                State::Iac => match b {
                    IAC => {
                        data.push(IAC);
                        State::Data
                    }
                    WILL | WONT | DO | DONT => State::Verb(b),
                    SB => State::SubOption,
                    IP => {
                        data.push(0x03);
                        State::Data
                    }
                    EC => {
                        data.push(0x7f);
                        State::Data
                    }
                    EL => {
                        data.push(0x15);
                        State::Data
                    }
                    other => {
                        commands.push(Command::Other(other));
                        State::Data
                    }
                },
                State::Verb(verb) => {
                    commands.push(Command::Negotiate { verb, option: b });
                    State::Data
                }
                State::SubOption => {
                    self.sub_option = b;
                    self.sub.clear();
                    self.sub_dropped = 0;
                    State::Sub
                }
                State::Sub => {
                    if b == IAC {
                        State::SubIac
                    } else {
                        self.keep_sub(b);
                        State::Sub
                    }
                }
                State::SubIac => match b {
                    SE => {
                        commands.push(Command::Sub {
                            option: self.sub_option,
                            payload: std::mem::take(&mut self.sub),
                            dropped: self.sub_dropped,
                        });
                        State::Data
                    }
                    IAC => {
                        self.keep_sub(IAC);
                        State::Sub
                    }
                    // RFC 855 leaves this undefined; like most servers, end the
                    // subnegotiation and read `IAC b` as a new command: step
                    // back one byte and parse it in the IAC state.
                    _ => {
                        self.sub.clear();
                        let consumed = input.len() - rest.len();
                        rest = &input[consumed - 1..];
                        State::Iac
                    }
                },
            };
        }
    }

    fn keep_sub(&mut self, b: u8) {
        if self.sub.len() < MAX_SUB {
            self.sub.push(b);
        } else {
            self.sub_dropped = self.sub_dropped.saturating_add(1);
        }
    }
}

/// `IAC verb option`.
pub fn negotiation(verb: u8, option: u8) -> [u8; 3] {
    [IAC, verb, option]
}

/// Appends `data` with every 0xFF doubled, as user data must travel.
pub fn escape_into(data: &[u8], out: &mut Vec<u8>) {
    let mut rest = data;
    while let Some(i) = rest.iter().position(|&b| b == IAC) {
        out.extend_from_slice(&rest[..=i]);
        out.push(IAC);
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
}

/// The window size of a NAWS payload (width, height).
pub fn naws(payload: &[u8]) -> Option<(u16, u16)> {
    match payload {
        [w1, w2, h1, h2] => Some((
            u16::from_be_bytes([*w1, *w2]),
            u16::from_be_bytes([*h1, *h2]),
        )),
        _ => None,
    }
}

/// The terminal name of a `TTYPE IS name` payload, printable ASCII only.
pub fn terminal_type(payload: &[u8]) -> Option<String> {
    let (&is, name) = payload.split_first()?;
    if is != 0 || name.is_empty() {
        return None;
    }
    Some(
        name.iter()
            .take(40)
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    char::from(b)
                } else {
                    '?'
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(chunks: &[&[u8]]) -> (Vec<u8>, Vec<Command>) {
        let mut p = Parser::new();
        let (mut data, mut commands) = (Vec::new(), Vec::new());
        for c in chunks {
            p.feed(c, &mut data, &mut commands);
        }
        (data, commands)
    }

    #[test]
    fn data_negotiation_and_escapes() {
        let (data, cmds) = parse(&[b"ro\xff\xfb\x18ot\xff\xff\r\n"]);
        assert_eq!(data, b"root\xff\r\n");
        assert_eq!(
            cmds,
            [Command::Negotiate {
                verb: WILL,
                option: OPT_TTYPE
            }]
        );
        let (data, cmds) = parse(&[b"a\xff\xf4b\xff\xf1"]);
        assert_eq!(data, b"a\x03b");
        assert_eq!(cmds, [Command::Other(0xf1)]);
    }

    #[test]
    fn split_sequences_parse_the_same() {
        let whole: &[u8] = b"x\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0\xff\xfd\x01y";
        let (d1, c1) = parse(&[whole]);
        let pieces: Vec<&[u8]> = whole.chunks(1).collect();
        let (d2, c2) = parse(&pieces);
        assert_eq!((d1.clone(), c1.clone()), (d2, c2));
        assert_eq!(d1, b"xy");
        assert_eq!(
            c1[0],
            Command::Sub {
                option: OPT_NAWS,
                payload: vec![0, 80, 0, 24],
                dropped: 0
            }
        );
        assert_eq!(naws(&[0, 80, 0, 24]), Some((80, 24)));
        assert_eq!(
            c1[1],
            Command::Negotiate {
                verb: DO,
                option: OPT_ECHO
            }
        );
    }

    #[test]
    fn subnegotiation_is_bounded_and_unescaped() {
        let mut p = Parser::new();
        let (mut data, mut cmds) = (Vec::new(), Vec::new());
        p.feed(b"\xff\xfa\x18\x00xt\xff\xffm", &mut data, &mut cmds);
        for _ in 0..10_000 {
            p.feed(&[b'A'; 1000], &mut data, &mut cmds);
        }
        assert!(p.sub.capacity() <= 4 * MAX_SUB, "{}", p.sub.capacity());
        assert!(p.in_command());
        p.feed(b"\xff\xf0ok", &mut data, &mut cmds);
        assert_eq!(data, b"ok");
        let Command::Sub {
            option,
            payload,
            dropped,
        } = &cmds[0]
        else {
            panic!("{cmds:?}")
        };
        assert_eq!(*option, OPT_TTYPE);
        assert_eq!(&payload[..5], b"\x00xt\xffm");
        assert_eq!(payload.len(), MAX_SUB);
        assert_eq!(*dropped, 10_000_000 + 5 - MAX_SUB);
        assert_eq!(terminal_type(b"\x00XTERM\x01"), Some("XTERM?".into()));
        assert_eq!(terminal_type(b"\x01"), None);
    }

    #[test]
    fn iac_inside_sub_without_se_ends_it() {
        let (data, cmds) = parse(&[b"\xff\xfa\x1f\x00\xff\xfd\x03z"]);
        assert_eq!(data, b"z");
        assert_eq!(
            cmds,
            [Command::Negotiate {
                verb: DO,
                option: OPT_SGA
            }]
        );
        let (data, cmds) = parse(&[b"\xff\xfa\x1f\x00\xff\xf4z"]);
        assert_eq!(data, b"\x03z");
        assert!(cmds.is_empty());
    }

    /// Pseudo-random streams, IAC-heavy, fed whole and in random pieces: the
    /// parser never panics, never emits more data than it got, keeps its
    /// subnegotiation buffer bounded, and does not depend on how input is split.
    #[test]
    fn random_streams_parse_the_same_in_any_pieces() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..200 {
            let len = (next() % 4096) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| match next() % 8 {
                    0 | 1 => IAC,
                    2 => [SB, SE, WILL, DO][(next() % 4) as usize],
                    _ => next() as u8,
                })
                .collect();
            let (whole_data, whole_cmds) = parse(&[&input]);
            let mut p = Parser::new();
            let (mut data, mut cmds) = (Vec::new(), Vec::new());
            let mut rest = &input[..];
            while !rest.is_empty() {
                let n = ((next() % 17) as usize).min(rest.len()).max(1);
                p.feed(&rest[..n], &mut data, &mut cmds);
                assert!(p.sub.len() <= MAX_SUB);
                rest = &rest[n..];
            }
            assert!(whole_data.len() <= input.len());
            assert_eq!((data, cmds), (whole_data, whole_cmds));
        }
    }

    #[test]
    fn escaping_doubles_iac() {
        let mut out = Vec::new();
        escape_into(b"a\xffb\xff", &mut out);
        assert_eq!(out, b"a\xff\xffb\xff\xff");
        let (data, _) = parse(&[&out]);
        assert_eq!(data, b"a\xffb\xff");
    }
}
