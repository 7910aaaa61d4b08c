//! What an SSH client sends before any key is exchanged: its identification line
//! and its KEXINIT packet, which the honeypot parses itself (for the HASSH and the
//! OpenSSH error strings) before russh sees them.

use nectar_honeypot::ssh::parser::{Ident, KexInit};

/// Judges `data` as an identification line and parses it as a KEXINIT packet and
/// payload: a parsed KEXINIT gives a 32-hex-digit HASSH and its JSON form.
pub fn ssh_handshake(data: &[u8]) {
    let line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let _ = Ident::judge(line).error_reply();
    if let Ok(Some(kex)) = KexInit::parse_packet(data) {
        check(&kex);
    }
    if let Ok(kex) = KexInit::parse_payload(data) {
        check(&kex);
    }
}

fn check(kex: &KexInit) {
    for hash in [kex.hassh(), kex.hassh_server()] {
        assert_eq!(hash.len(), 32);
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    let _ = kex.hassh_algorithms();
    let _ = kex.to_json();
}
