//! Scanner probes at the login prompt: bytes of another protocol (an HTTP, RTSP
//! or SIP request, its header lines, a TLS hello, other binary) that a service
//! scanner such as `nmap -sV` sends to every open port to learn what answers.
//!
//! They are not login attempts: the session records them as one `telnet.probe`
//! event and none of their lines becomes a user name or a password (they used to
//! top the dashboard's user-name and password rankings). Pure: bytes or a line in,
//! a verdict out.

/// What kind of probe some input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// An HTTP request line (`GET / HTTP/1.0`).
    Http,
    /// An RTSP request line (`OPTIONS / RTSP/1.0`).
    Rtsp,
    /// A SIP request line (`OPTIONS sip:nm SIP/2.0`).
    Sip,
    /// A header line of a request (`CSeq: 42 OPTIONS`, `User-Agent: ...`).
    Header,
    /// A TLS (or SSLv2) ClientHello.
    Tls,
    /// Other binary bytes (RPC, SMB, DNS over TCP, ...): a login name is text.
    Binary,
}

impl Probe {
    /// Its name in `data.probe`.
    pub fn as_str(self) -> &'static str {
        match self {
            Probe::Http => "http",
            Probe::Rtsp => "rtsp",
            Probe::Sip => "sip",
            Probe::Header => "header",
            Probe::Tls => "tls",
            Probe::Binary => "binary",
        }
    }
}

/// Request methods of HTTP, WebDAV, RTSP and SIP that scanners send.
const METHODS: &[&str] = &[
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "OPTIONS",
    "TRACE",
    "CONNECT",
    "PATCH",
    "PROPFIND",
    "DESCRIBE",
    "SETUP",
    "PLAY",
    "REGISTER",
    "INVITE",
    "SUBSCRIBE",
    "NOTIFY",
    "ACK",
    "BYE",
    "CANCEL",
    "PRI",
];

/// Classifies the first bytes a client sent, before any line editing: a TLS
/// hello or binary bytes (the text cases are [`line`]'s).
pub fn first_bytes(data: &[u8]) -> Option<Probe> {
    match data {
        // TLS record: handshake, version 3.x.
        [0x16, 0x03, ..] => return Some(Probe::Tls),
        // SSLv2 ClientHello: a two-byte length with the high bit set, type 1.
        [b0, _, 0x01, 0x03 | 0x00, ..] if b0 & 0x80 != 0 => return Some(Probe::Tls),
        _ => {}
    }
    let head = &data[..data.len().min(64)];
    if head.is_empty() {
        return None;
    }
    // A person or a bot types text: control bytes other than line ends, tab,
    // backspace, DEL and the editing keys are not a user name. A NUL after CR
    // is Telnet's CR NUL; a lone NUL at the start (RPC, SMB, DNS lengths) is not.
    let binary = head
        .iter()
        .enumerate()
        .filter(|&(i, &b)| {
            let control = b < 0x20
                && !matches!(
                    b,
                    b'\r' | b'\n' | b'\t' | 0x03 | 0x04 | 0x08 | 0x15 | 0x17 | 0x1b
                );
            control && !(b == 0 && i > 0 && head[i - 1] == b'\r') || b == 0xff
        })
        .count();
    (binary >= 2 || head[0] == 0).then_some(Probe::Binary)
}

/// Classifies one line typed at the prompt: a request line or a header line.
pub fn line(text: &str) -> Option<Probe> {
    let text = text.trim_end_matches(['\r', '\n']);
    let mut words = text.split(' ');
    let first = words.next().unwrap_or("");
    let second = words.next();
    let third = words.next();
    if let (Some(target), Some(version)) = (second, third)
        && METHODS.contains(&first)
        && !target.is_empty()
    {
        if version.starts_with("HTTP/") {
            return Some(Probe::Http);
        }
        if version.starts_with("RTSP/") {
            return Some(Probe::Rtsp);
        }
        if version.starts_with("SIP/") {
            return Some(Probe::Sip);
        }
    }
    // `GET /` of HTTP/0.9.
    if first == "GET" && second.is_some_and(|t| t.starts_with('/')) && third.is_none() {
        return Some(Probe::Http);
    }
    // `Name: value` with a token name: a header (no user name has ": ").
    if let Some((name, _)) = text.split_once(": ")
        && !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Some(Probe::Header);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_of_nmap_probes() {
        assert_eq!(line("GET / HTTP/1.0"), Some(Probe::Http));
        assert_eq!(line("GET / HTTP/1.0\r\n"), Some(Probe::Http));
        assert_eq!(line("OPTIONS / HTTP/1.0"), Some(Probe::Http));
        assert_eq!(line("OPTIONS / RTSP/1.0"), Some(Probe::Rtsp));
        assert_eq!(line("OPTIONS sip:nm SIP/2.0"), Some(Probe::Sip));
        assert_eq!(
            line("GET /nice%20ports%2C/Tri%6Eity.txt%2ebak"),
            Some(Probe::Http)
        );
        assert_eq!(line("PRI * HTTP/2.0"), Some(Probe::Http));
    }

    #[test]
    fn header_lines() {
        for text in [
            "Via: SIP/2.0/TCP nm;branch=foo",
            "From: <sip:nm@nm>;tag=root",
            "To: <sip:nm2@nm2>",
            "CSeq: 42 OPTIONS",
            "User-Agent: Mozilla/5.0",
            "Content-Length: 0",
        ] {
            assert_eq!(line(text), Some(Probe::Header), "{text}");
        }
    }

    #[test]
    fn user_names_and_passwords_are_not_probes() {
        for text in [
            "root",
            "admin",
            "GET",
            "get / http",
            "ubnt",
            "user name",
            "123456",
            "",
            "a:b",
            "sh",
            "enable",
            "GET x",
        ] {
            assert_eq!(line(text), None, "{text:?}");
        }
        assert_eq!(first_bytes(b"root\r\nadmin\r\n"), None);
        assert_eq!(first_bytes(b"root\r\0"), None);
        assert_eq!(first_bytes(b"\x08\x03\x04\r\n"), None);
        assert_eq!(first_bytes(b"\x1b[A\x1b[B\r"), None);
        assert_eq!(first_bytes(b""), None);
    }

    #[test]
    fn binary_bytes() {
        assert_eq!(
            first_bytes(&[0x16, 0x03, 0x01, 0x00, 0x2f, 0x01]),
            Some(Probe::Tls)
        );
        assert_eq!(
            first_bytes(&[0x80, 0x2e, 0x01, 0x03, 0x00]),
            Some(Probe::Tls)
        );
        // nmap's DNSVersionBindReqTCP and SMBProgNeg.
        assert_eq!(
            first_bytes(b"\0\x1e\0\x06\x01\0\0\x01"),
            Some(Probe::Binary)
        );
        assert_eq!(
            first_bytes(b"\0\0\0\xa4\xff\x53\x4d\x42"),
            Some(Probe::Binary)
        );
        assert_eq!(
            first_bytes(b"\x30\x0c\x02\x01\x01\x60\x07"),
            Some(Probe::Binary)
        );
        // Truncated input.
        assert_eq!(first_bytes(&[0x16]), None);
    }
}
