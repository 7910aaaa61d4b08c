//! DNS answers as the observer needs them: the A and AAAA records of a
//! response, each with its owner name. Pure and allocation-free: names are
//! decoded into a fixed buffer, compression pointers are followed at most
//! [`MAX_HOPS`] times, at most [`MAX_ANSWERS`] records are read, every read is
//! bounds-checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest name kept (a DNS name is at most 255 bytes on the wire).
pub const MAX_NAME: usize = 253;
/// Most answer records read from one response.
pub const MAX_ANSWERS: usize = 16;
/// Most compression pointers followed while reading one name.
pub const MAX_HOPS: usize = 16;

/// A name decoded into a fixed buffer, dotted, without the final dot.
#[derive(Clone, Copy)]
pub struct Name {
    buf: [u8; MAX_NAME],
    len: usize,
}

impl Name {
    /// The name's bytes (letters, digits, `-`, `_`, `.`; anything else is `?`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Reads the name at `at`; returns it and the offset after it (after the
/// first pointer when compressed).
fn read_name(msg: &[u8], mut at: usize) -> Option<(Name, usize)> {
    let mut name = Name {
        buf: [0; MAX_NAME],
        len: 0,
    };
    let mut end = None;
    let mut hops = 0;
    loop {
        let len = usize::from(*msg.get(at)?);
        match len & 0xc0 {
            0xc0 => {
                let ptr = ((len & 0x3f) << 8) | usize::from(*msg.get(at + 1)?);
                end.get_or_insert(at + 2);
                hops += 1;
                if hops > MAX_HOPS || ptr >= msg.len() {
                    return None;
                }
                at = ptr;
            }
            0x00 if len == 0 => {
                return Some((name, end.unwrap_or(at + 1)));
            }
            0x00 => {
                let label = msg.get(at + 1..at + 1 + len)?;
                if name.len + usize::from(name.len > 0) + label.len() > MAX_NAME {
                    return None;
                }
                if name.len > 0 {
                    name.buf[name.len] = b'.';
                    name.len += 1;
                }
                for &b in label {
                    name.buf[name.len] = if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                        b.to_ascii_lowercase()
                    } else {
                        b'?'
                    };
                    name.len += 1;
                }
                at += 1 + len;
            }
            _ => return None,
        }
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Calls `each` with every A/AAAA record of the response `msg` (a DNS
/// message whose QR bit is set); queries and malformed messages give nothing
/// (or the records before the damage).
pub fn answers(msg: &[u8], each: &mut impl FnMut(&Name, IpAddr)) {
    let (Some(flags), Some(qd), Some(an)) = (be16(msg, 2), be16(msg, 4), be16(msg, 6)) else {
        return;
    };
    // A response, no error.
    if flags & 0x8000 == 0 || flags & 0x000f != 0 {
        return;
    }
    let mut at = 12;
    for _ in 0..qd.min(4) {
        let Some((_, next)) = read_name(msg, at) else {
            return;
        };
        at = next + 4;
    }
    for _ in 0..usize::from(an).min(MAX_ANSWERS) {
        let Some((name, next)) = read_name(msg, at) else {
            return;
        };
        let (Some(rtype), Some(class), Some(rdlen)) =
            (be16(msg, next), be16(msg, next + 2), be16(msg, next + 8))
        else {
            return;
        };
        let rdata_at = next + 10;
        let Some(rdata) = msg.get(rdata_at..rdata_at + usize::from(rdlen)) else {
            return;
        };
        if class == 1 {
            if let (1, Ok(a)) = (rtype, <[u8; 4]>::try_from(rdata)) {
                each(&name, IpAddr::V4(Ipv4Addr::from(a)));
            } else if let (28, Ok(a)) = (rtype, <[u8; 16]>::try_from(rdata)) {
                each(&name, IpAddr::V6(Ipv6Addr::from(a)));
            }
        }
        at = rdata_at + usize::from(rdlen);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A response to "cam.example.org A?" with a CNAME-less answer
    /// 192.0.2.50 (compressed owner name) and an AAAA 2001:db8::50.
    pub fn response() -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        m.extend_from_slice(b"\x03cam\x07example\x03org\x00\x00\x01\x00\x01");
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 50]);
        m.extend_from_slice(&[0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16]);
        m.extend_from_slice(&[
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50,
        ]);
        m
    }

    fn collect(m: &[u8]) -> Vec<(String, IpAddr)> {
        let mut out = Vec::new();
        answers(m, &mut |n, a| {
            out.push((String::from_utf8_lossy(n.as_bytes()).into_owned(), a))
        });
        out
    }

    #[test]
    fn reads_a_and_aaaa_answers() {
        let got = collect(&response());
        assert_eq!(
            got,
            [
                ("cam.example.org".to_string(), "192.0.2.50".parse().unwrap()),
                (
                    "cam.example.org".to_string(),
                    "2001:db8::50".parse().unwrap()
                ),
            ]
        );
    }

    #[test]
    fn hostile_messages_give_nothing_and_never_panic() {
        let r = response();
        for cut in 0..r.len() {
            let _ = collect(&r[..cut]);
        }
        // A pointer loop.
        let mut m = vec![0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 12];
        m.extend_from_slice(&[0, 1, 0, 1]);
        assert!(collect(&m).is_empty());
        // A query (QR clear) is no answer.
        let mut q = response();
        q[2] = 0x01;
        assert!(collect(&q).is_empty());
        // Odd bytes in labels are shown as '?'.
        let mut odd = response();
        odd[13] = b'<';
        assert_eq!(collect(&odd)[0].0, "?am.example.org");
    }
}
