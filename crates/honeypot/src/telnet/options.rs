//! Telnet option negotiation of one connection, without I/O: what the server
//! offers first (as the impersonated telnetd does), how it answers the client's
//! WILL/WONT/DO/DONT (RFC 1143's rule: never answer a request for the state an
//! option is already in, so two sides cannot loop), and what the client told
//! about its terminal. Raw-TCP bots never answer; nothing here waits for them.

use super::config::TelnetProfile;
use super::parser::{
    Command, DO, DONT, IAC, OPT_ECHO, OPT_NAWS, OPT_SGA, OPT_TTYPE, SB, SE, WILL, WONT, naws,
    negotiation, terminal_type,
};

/// Answers sent at most, per connection: a client flooding requests gets this
/// many replies, then silence (its bytes still count against the session's cap).
pub const MAX_REPLIES: u32 = 256;

/// A set of the 256 option codes.
#[derive(Debug, Default, Clone, Copy)]
struct Set([u64; 4]);

impl Set {
    fn has(&self, option: u8) -> bool {
        self.0[usize::from(option / 64)] & (1 << (option % 64)) != 0
    }
    fn put(&mut self, option: u8, on: bool) {
        let word = &mut self.0[usize::from(option / 64)];
        if on {
            *word |= 1 << (option % 64);
        } else {
            *word &= !(1 << (option % 64));
        }
    }
}

/// Options we perform when asked.
const OURS: &[u8] = &[OPT_ECHO, OPT_SGA];
/// Options we let the client perform.
const THEIRS: &[u8] = &[OPT_NAWS, OPT_TTYPE, OPT_SGA];

/// The negotiation state of one connection.
#[derive(Debug, Default)]
pub struct Options {
    us: Set,
    him: Set,
    asked_us: Set,
    asked_him: Set,
    replies: u32,
    /// The client sent at least one Telnet command.
    pub negotiated: bool,
    /// The terminal type the client reported (TTYPE IS).
    pub term: Option<String>,
    /// The window size the client reported (NAWS), columns and rows.
    pub window: Option<(u16, u16)>,
}

impl Options {
    /// The state after the server's opening requests, and those requests' bytes.
    pub fn opening(profile: TelnetProfile) -> (Options, Vec<u8>) {
        let mut options = Options::default();
        // BusyBox telnetd's first bytes; netkit telnetd (Debian) asks for the
        // terminal type first.
        let sequence: &[(u8, u8)] = match profile {
            TelnetProfile::Busybox => &[
                (DO, OPT_ECHO),
                (DO, OPT_NAWS),
                (WILL, OPT_ECHO),
                (WILL, OPT_SGA),
            ],
            TelnetProfile::Debian => &[
                (DO, OPT_TTYPE),
                (WILL, OPT_ECHO),
                (WILL, OPT_SGA),
                (DO, OPT_NAWS),
            ],
        };
        let mut out = Vec::with_capacity(sequence.len() * 3);
        for &(verb, option) in sequence {
            if verb == DO {
                options.asked_him.put(option, true);
            } else {
                options.asked_us.put(option, true);
            }
            out.extend_from_slice(&negotiation(verb, option));
        }
        (options, out)
    }

    /// Takes one command from the client; appends what to answer to `out`.
    pub fn handle(&mut self, command: &Command, out: &mut Vec<u8>) {
        self.negotiated = true;
        match command {
            Command::Negotiate { verb, option } => self.negotiate(*verb, *option, out),
            Command::Sub {
                option, payload, ..
            } => match *option {
                OPT_NAWS => self.window = naws(payload).or(self.window),
                OPT_TTYPE => {
                    if let Some(term) = terminal_type(payload) {
                        self.term = Some(term);
                    }
                }
                _ => {}
            },
            Command::Other(_) => {}
        }
    }

    fn negotiate(&mut self, verb: u8, option: u8, out: &mut Vec<u8>) {
        let reply = match verb {
            WILL if self.him.has(option) => None,
            WILL if self.asked_him.has(option) || THEIRS.contains(&option) => {
                let asked = self.asked_him.has(option);
                self.asked_him.put(option, false);
                self.him.put(option, true);
                if option == OPT_TTYPE {
                    self.send(&[IAC, SB, OPT_TTYPE, 1, IAC, SE], out);
                }
                (!asked).then_some(DO)
            }
            WILL => Some(DONT),
            WONT => {
                self.asked_him.put(option, false);
                let was = self.him.has(option);
                self.him.put(option, false);
                was.then_some(DONT)
            }
            DO if self.us.has(option) => None,
            DO if self.asked_us.has(option) || OURS.contains(&option) => {
                let asked = self.asked_us.has(option);
                self.asked_us.put(option, false);
                self.us.put(option, true);
                (!asked).then_some(WILL)
            }
            DO => Some(WONT),
            DONT => {
                self.asked_us.put(option, false);
                let was = self.us.has(option);
                self.us.put(option, false);
                was.then_some(WONT)
            }
            _ => None,
        };
        if let Some(verb) = reply {
            self.send(&negotiation(verb, option), out);
        }
    }

    fn send(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        if self.replies < MAX_REPLIES {
            self.replies += 1;
            out.extend_from_slice(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neg(verb: u8, option: u8) -> Command {
        Command::Negotiate { verb, option }
    }

    #[test]
    fn answers_like_rfc_1143() {
        let (mut o, first) = Options::opening(TelnetProfile::Busybox);
        assert_eq!(first, b"\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03");
        let mut out = Vec::new();
        // Replies to our own requests are acknowledgements: nothing to answer.
        o.handle(&neg(WILL, OPT_NAWS), &mut out);
        o.handle(&neg(DO, OPT_ECHO), &mut out);
        o.handle(&neg(DO, OPT_SGA), &mut out);
        o.handle(&neg(WONT, OPT_ECHO), &mut out);
        assert!(out.is_empty(), "{out:?}");
        // Unknown options are refused; a repeated request for the same state is
        // not answered twice.
        o.handle(&neg(DO, 0x22), &mut out);
        assert_eq!(out, b"\xff\xfc\x22");
        out.clear();
        o.handle(&neg(DO, OPT_ECHO), &mut out);
        assert!(out.is_empty());
        o.handle(&neg(DONT, OPT_ECHO), &mut out);
        assert_eq!(out, b"\xff\xfc\x01");
        out.clear();
        o.handle(&neg(WILL, OPT_TTYPE), &mut out);
        assert_eq!(out, b"\xff\xfa\x18\x01\xff\xf0\xff\xfd\x18");
        o.handle(
            &Command::Sub {
                option: OPT_TTYPE,
                payload: b"\x00xterm-256color".to_vec(),
                dropped: 0,
            },
            &mut out,
        );
        o.handle(
            &Command::Sub {
                option: OPT_NAWS,
                payload: vec![0, 132, 0, 43],
                dropped: 0,
            },
            &mut out,
        );
        assert_eq!(o.term.as_deref(), Some("xterm-256color"));
        assert_eq!(o.window, Some((132, 43)));
    }

    #[test]
    fn a_request_flood_gets_a_bounded_answer() {
        let (mut o, _) = Options::opening(TelnetProfile::Debian);
        let mut out = Vec::new();
        for i in 0..100_000u32 {
            o.handle(&neg(if i % 2 == 0 { DO } else { WILL }, 0x99), &mut out);
        }
        assert_eq!(out.len(), 3 * MAX_REPLIES as usize);
    }
}
