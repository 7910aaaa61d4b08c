//! Pure parsers for the two things a client sends in clear before encryption starts:
//! its identification line and its KEXINIT. Bytes in, typed value out; no I/O, no
//! state, so every hostile input can be tested with byte literals.
//!
//! The KEXINIT gives the client's HASSH (Salesforce's MD5 of the client's kex,
//! cipher, MAC and compression lists), which identifies the client software even
//! when it lies in its version string.

use md5::{Digest, Md5};

/// SSH_MSG_KEXINIT.
pub const MSG_KEXINIT: u8 = 20;

/// Longest binary packet RFC 4253 §6.1 obliges anyone to accept; a larger first
/// packet is not a KEXINIT worth reading.
pub const MAX_PACKET: usize = 35_000;

/// Longest identification line kept (RFC 4253 §4.2 allows 255 bytes with CR LF).
pub const MAX_IDENT: usize = 255;

/// The ten name-lists of a KEXINIT, in wire order, as received (each comma-joined).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KexInit {
    /// Key-exchange methods.
    pub kex: String,
    /// Host-key algorithms.
    pub host_key: String,
    /// Ciphers client to server.
    pub enc_c2s: String,
    /// Ciphers server to client.
    pub enc_s2c: String,
    /// MACs client to server.
    pub mac_c2s: String,
    /// MACs server to client.
    pub mac_s2c: String,
    /// Compression client to server.
    pub comp_c2s: String,
    /// Compression server to client.
    pub comp_s2c: String,
    /// Languages client to server (almost always empty).
    pub lang_c2s: String,
    /// Languages server to client.
    pub lang_s2c: String,
}

/// Why a KEXINIT could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KexInitError {
    /// The packet ended before all ten name-lists were read.
    #[error("the KEXINIT is truncated")]
    Truncated,
    /// The first payload byte is not SSH_MSG_KEXINIT (20).
    #[error("the first packet is message {0}, not KEXINIT")]
    NotKexInit(u8),
    /// The packet length field is larger than any KEXINIT needs.
    #[error("the first packet claims {0} bytes")]
    TooLong(usize),
    /// A name-list is not ASCII (names are US-ASCII by RFC 4251 §5).
    #[error("a name-list is not ASCII")]
    NotAscii,
}

impl KexInit {
    /// The client's HASSH: MD5 of `kex;enc_c2s;mac_c2s;comp_c2s`, as lowercase hex.
    pub fn hassh(&self) -> String {
        md5_hex(&self.hassh_algorithms())
    }

    /// The string the client HASSH is computed over.
    pub fn hassh_algorithms(&self) -> String {
        format!(
            "{};{};{};{}",
            self.kex, self.enc_c2s, self.mac_c2s, self.comp_c2s
        )
    }

    /// The server HASSH (HASSHServer): MD5 of `kex;enc_s2c;mac_s2c;comp_s2c`.
    pub fn hassh_server(&self) -> String {
        md5_hex(&format!(
            "{};{};{};{}",
            self.kex, self.enc_s2c, self.mac_s2c, self.comp_s2c
        ))
    }

    /// Parses a KEXINIT payload (starting with the message number 20).
    pub fn parse_payload(payload: &[u8]) -> Result<KexInit, KexInitError> {
        let (&msg, rest) = payload.split_first().ok_or(KexInitError::Truncated)?;
        if msg != MSG_KEXINIT {
            return Err(KexInitError::NotKexInit(msg));
        }
        let mut rest = rest.get(16..).ok_or(KexInitError::Truncated)?; // cookie
        let mut next = || -> Result<String, KexInitError> {
            let (list, tail) = name_list(rest)?;
            rest = tail;
            Ok(list)
        };
        Ok(KexInit {
            kex: next()?,
            host_key: next()?,
            enc_c2s: next()?,
            enc_s2c: next()?,
            mac_c2s: next()?,
            mac_s2c: next()?,
            comp_c2s: next()?,
            comp_s2c: next()?,
            lang_c2s: next()?,
            lang_s2c: next()?,
        })
    }

    /// Parses an unencrypted binary packet (length, padding length, payload,
    /// padding) holding a KEXINIT. Returns `Ok(None)` while more bytes are needed.
    pub fn parse_packet(packet: &[u8]) -> Result<Option<KexInit>, KexInitError> {
        let Some(len) = packet.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if len > MAX_PACKET {
            return Err(KexInitError::TooLong(len));
        }
        let Some(body) = packet.get(4..4 + len) else {
            return Ok(None);
        };
        let (&padding, rest) = body.split_first().ok_or(KexInitError::Truncated)?;
        let payload_len = rest
            .len()
            .checked_sub(usize::from(padding))
            .ok_or(KexInitError::Truncated)?;
        KexInit::parse_payload(&rest[..payload_len]).map(Some)
    }

    /// The lists as a JSON object with Cowrie's field names (`kexAlgs`, `keyAlgs`,
    /// `encCS`, `macCS`, `compCS`, `langCS`).
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let split = |s: &str| -> serde_json::Value {
            s.split(',')
                .filter(|n| !n.is_empty())
                .map(|n| serde_json::Value::from(n.to_owned()))
                .collect::<Vec<_>>()
                .into()
        };
        let mut map = serde_json::Map::new();
        map.insert("kexAlgs".into(), split(&self.kex));
        map.insert("keyAlgs".into(), split(&self.host_key));
        map.insert("encCS".into(), split(&self.enc_c2s));
        map.insert("macCS".into(), split(&self.mac_c2s));
        map.insert("compCS".into(), split(&self.comp_c2s));
        map.insert("langCS".into(), split(&self.lang_c2s));
        map
    }
}

/// Reads one SSH name-list (uint32 length, ASCII bytes).
fn name_list(input: &[u8]) -> Result<(String, &[u8]), KexInitError> {
    let len = input.get(..4).ok_or(KexInitError::Truncated)?;
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let bytes = input.get(4..4 + len).ok_or(KexInitError::Truncated)?;
    if !bytes.is_ascii() {
        return Err(KexInitError::NotAscii);
    }
    let text = String::from_utf8_lossy(bytes).into_owned();
    Ok((text, &input[4 + len..]))
}

fn md5_hex(text: &str) -> String {
    let digest = Md5::digest(text.as_bytes());
    let mut hex = String::with_capacity(32);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    hex
}

/// What the first line a client sent says, judged the way OpenSSH's server does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ident {
    /// `SSH-2.0-...` or `SSH-1.99-...`: go on (the line without CR LF).
    Ok(String),
    /// `SSH-1.x`: OpenSSH answers "Protocol major versions differ."
    WrongVersion(String),
    /// Anything else (HTTP, garbage): "Invalid SSH identification string."
    Invalid(String),
}

impl Ident {
    /// Judges one line (without its line end); the kept text is bounded and lossy.
    pub fn judge(line: &[u8]) -> Ident {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text: String = String::from_utf8_lossy(&line[..line.len().min(MAX_IDENT)]).into();
        if line.starts_with(b"SSH-2.0-") || line.starts_with(b"SSH-1.99-") {
            Ident::Ok(text)
        } else if line.starts_with(b"SSH-") {
            Ident::WrongVersion(text)
        } else {
            Ident::Invalid(text)
        }
    }

    /// What OpenSSH 9.2 writes before closing, for a refused line.
    pub fn error_reply(&self) -> Option<&'static [u8]> {
        match self {
            Ident::Ok(_) => None,
            Ident::WrongVersion(_) => Some(b"Protocol major versions differ.\r\n"),
            Ident::Invalid(_) => Some(b"Invalid SSH identification string.\r\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u32).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    fn payload(lists: [&str; 10]) -> Vec<u8> {
        let mut p = vec![MSG_KEXINIT];
        p.extend_from_slice(&[7; 16]);
        for l in lists {
            list(&mut p, l);
        }
        p.push(0);
        p.extend_from_slice(&[0; 4]);
        p
    }

    fn packet(payload: &[u8]) -> Vec<u8> {
        let padding = 8 - (payload.len() + 5) % 8 + 4;
        let mut p = ((payload.len() + padding + 1) as u32)
            .to_be_bytes()
            .to_vec();
        p.push(padding as u8);
        p.extend_from_slice(payload);
        p.extend(std::iter::repeat_n(0, padding));
        p
    }

    #[test]
    fn openssh_server_hassh_matches_the_published_value() {
        // Real OpenSSH 9.2p1 Debian-2+deb12u10, captured on this machine.
        let k = KexInit {
            kex: "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256,kex-strict-s-v00@openssh.com".into(),
            enc_s2c: "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com".into(),
            mac_s2c: "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1".into(),
            comp_s2c: "none,zlib@openssh.com".into(),
            ..KexInit::default()
        };
        assert_eq!(k.hassh_server(), "425d29fe50d8e4f5e37efb6e24bcf660");
    }

    #[test]
    fn parses_a_packet_and_every_truncation_is_an_error_or_incomplete() {
        let p = payload([
            "a,b",
            "ssh-ed25519",
            "c1",
            "c2",
            "m1",
            "m2",
            "none",
            "none",
            "",
            "",
        ]);
        let pkt = packet(&p);
        let k = KexInit::parse_packet(&pkt).unwrap().unwrap();
        assert_eq!(k.kex, "a,b");
        assert_eq!(k.enc_s2c, "c2");
        assert_eq!(k.hassh_algorithms(), "a,b;c1;m1;none");
        assert_eq!(k.hassh().len(), 32);
        for cut in 0..pkt.len() {
            assert_eq!(KexInit::parse_packet(&pkt[..cut]), Ok(None), "cut {cut}");
        }
        for cut in 0..p.len() - 5 {
            assert!(KexInit::parse_payload(&p[..cut]).is_err() || cut >= p.len() - 5);
        }
    }

    #[test]
    fn hostile_packets_are_refused() {
        assert_eq!(
            KexInit::parse_packet(&[0xff, 0xff, 0xff, 0xff, 0]),
            Err(KexInitError::TooLong(0xffff_ffff))
        );
        assert_eq!(
            KexInit::parse_payload(&[21]),
            Err(KexInitError::NotKexInit(21))
        );
        assert_eq!(KexInit::parse_payload(&[]), Err(KexInitError::Truncated));
        // Padding longer than the packet.
        assert_eq!(
            KexInit::parse_packet(&[0, 0, 0, 2, 200, 20]),
            Err(KexInitError::Truncated)
        );
        // A name-list length past the end.
        let mut p = vec![MSG_KEXINIT];
        p.extend_from_slice(&[0; 16]);
        p.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff, b'a']);
        assert_eq!(KexInit::parse_payload(&p), Err(KexInitError::Truncated));
        let p = payload(["\u{e9}", "", "", "", "", "", "", "", "", ""]);
        assert_eq!(KexInit::parse_payload(&p), Err(KexInitError::NotAscii));
    }

    #[test]
    fn identification_lines_are_judged_like_openssh() {
        assert_eq!(
            Ident::judge(b"SSH-2.0-OpenSSH_9.2p1\r"),
            Ident::Ok("SSH-2.0-OpenSSH_9.2p1".into())
        );
        assert!(matches!(Ident::judge(b"SSH-1.99-x"), Ident::Ok(_)));
        let old = Ident::judge(b"SSH-1.5-x");
        assert_eq!(
            old.error_reply(),
            Some(&b"Protocol major versions differ.\r\n"[..])
        );
        let http = Ident::judge(b"GET / HTTP/1.0\r");
        assert_eq!(
            http.error_reply(),
            Some(&b"Invalid SSH identification string.\r\n"[..])
        );
        let long = vec![b'S'; 10_000];
        match Ident::judge(&long) {
            Ident::Invalid(text) => assert_eq!(text.len(), MAX_IDENT),
            other => panic!("{other:?}"),
        }
        assert!(matches!(Ident::judge(&[0xff, 0xfe]), Ident::Invalid(_)));
    }
}
