//! DHCP (BOOTP) messages as the observer needs them: the message type, the
//! client's hardware address, the address it asks for or is given, and the
//! host name it announces (option 12). Pure and allocation-free: a borrowed
//! view of the UDP payload, every read bounds-checked.

use std::net::Ipv4Addr;

/// What one DHCP message says about a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpInfo<'a> {
    /// Option 53 (1 discover, 3 request, 5 ack, 8 inform, ...); 0 when absent.
    pub message_type: u8,
    /// The client's hardware address (`chaddr`, Ethernet only).
    pub mac: [u8; 6],
    /// The client's address: `yiaddr` of an ack, option 50 or `ciaddr` of a
    /// request, `ciaddr` of an inform.
    pub address: Option<Ipv4Addr>,
    /// Option 12, as sent.
    pub host_name: Option<&'a [u8]>,
}

const COOKIE: [u8; 4] = [99, 130, 83, 99];

fn v4(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    let s = b.get(at..at + 4)?;
    let a = Ipv4Addr::new(s[0], s[1], s[2], s[3]);
    (!a.is_unspecified()).then_some(a)
}

/// Parses a BOOTP/DHCP payload; `None` when it is not one (or not Ethernet).
pub fn parse(p: &[u8]) -> Option<DhcpInfo<'_>> {
    if p.len() < 240 || p[1] != 1 || p[2] != 6 || p.get(236..240)? != COOKIE {
        return None;
    }
    let mut mac = [0u8; 6];
    mac.copy_from_slice(p.get(28..34)?);
    let mut info = DhcpInfo {
        message_type: 0,
        mac,
        address: None,
        host_name: None,
    };
    let mut requested = None;
    let mut i = 240;
    while let Some(&code) = p.get(i) {
        match code {
            0 => {
                i += 1;
                continue;
            }
            255 => break,
            _ => {}
        }
        // An option cut off ends the walk; what came before stands.
        let Some(&len) = p.get(i + 1) else { break };
        let len = usize::from(len);
        let Some(value) = p.get(i + 2..i + 2 + len) else {
            break;
        };
        match code {
            53 if len == 1 => info.message_type = value[0],
            12 if len > 0 => info.host_name = Some(value),
            50 if len == 4 => requested = v4(value, 0),
            _ => {}
        }
        i += 2 + len;
    }
    info.address = match info.message_type {
        5 => v4(p, 16),
        3 => requested.or_else(|| v4(p, 12)),
        8 => v4(p, 12),
        _ => None,
    };
    Some(info)
}

/// Builders of DHCP payloads for tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::COOKIE;

    /// A DHCPREQUEST as a client sends it (chaddr 00:16:3e:00:00:07, asking
    /// for 192.0.2.7 as "printer-2").
    pub fn request(name: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 240];
        p[0] = 1;
        p[1] = 1;
        p[2] = 6;
        p[28..34].copy_from_slice(&[0, 0x16, 0x3e, 0, 0, 7]);
        p[236..240].copy_from_slice(&COOKIE);
        p.extend_from_slice(&[53, 1, 3, 50, 4, 192, 0, 2, 7, 12, name.len() as u8]);
        p.extend_from_slice(name);
        p.push(255);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::request;
    use super::*;

    #[test]
    fn reads_a_request() {
        let p = request(b"printer-2");
        let info = parse(&p).unwrap();
        assert_eq!(info.message_type, 3);
        assert_eq!(info.address, Some(Ipv4Addr::new(192, 0, 2, 7)));
        assert_eq!(info.host_name, Some(&b"printer-2"[..]));
        assert_eq!(info.mac, [0, 0x16, 0x3e, 0, 0, 7]);
    }

    #[test]
    fn truncated_and_foreign_payloads_are_none_or_partial() {
        let p = request(b"printer-2");
        for cut in 0..p.len() {
            // Never panics; an option cut off stops the walk.
            let _ = parse(&p[..cut]);
        }
        assert!(parse(&p[..239]).is_none());
        let mut bad = p.clone();
        bad[236] = 0;
        assert!(parse(&bad).is_none());
        // An option claiming more bytes than there are.
        let mut long = p[..240].to_vec();
        long.extend_from_slice(&[12, 200, b'x']);
        assert_eq!(parse(&long).map(|i| i.host_name), Some(None));
    }
}
