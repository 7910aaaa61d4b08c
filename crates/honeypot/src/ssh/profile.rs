//! The OpenSSH build we impersonate: its identification string, its KEXINIT lists
//! in its own order, and the subset of them russh can actually speak.
//!
//! Scanners tell honeypots from real servers with one packet: the server's KEXINIT
//! (HASSHServer). We advertise OpenSSH 9.2p1's lists in OpenSSH's order, minus the
//! algorithms russh 0.65 does not implement. Advertising an algorithm we cannot
//! run is not an option: OpenSSH clients pick `sntrup761x25519-sha512` first and
//! the connection would fail, which is a louder tell than a missing name. What is
//! left out is listed in [`MISSING`] and in the crate docs.

use std::borrow::Cow;

use russh::keys::{Algorithm, EcdsaCurve, HashAlg};
use russh::{Preferred, cipher, compression, kex, mac};

/// Debian 12's OpenSSH identification string (bookworm, security update 10).
pub const DEBIAN_12_BANNER: &str = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10";

/// The real OpenSSH 9.2p1 Debian-2+deb12u10 server KEXINIT, captured from `sshd`
/// on this machine (see the crate docs), one list per field.
pub mod openssh_9_2 {
    /// Key exchange.
    pub const KEX: &str = "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256,kex-strict-s-v00@openssh.com";
    /// Host-key algorithms (with RSA, ECDSA P-256 and Ed25519 host keys).
    pub const HOST_KEY: &str = "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519";
    /// Ciphers (both directions).
    pub const CIPHERS: &str = "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com";
    /// MACs (both directions).
    pub const MACS: &str = "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1";
    /// Compression (both directions).
    pub const COMPRESSION: &str = "none,zlib@openssh.com";
    /// Its HASSHServer.
    pub const HASSH_SERVER: &str = "425d29fe50d8e4f5e37efb6e24bcf660";
}

/// Algorithms OpenSSH 9.2p1 offers that russh 0.65.1 does not implement, so we
/// cannot offer them.
pub const MISSING: &[&str] = &[
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
    "umac-64-etm@openssh.com",
    "umac-128-etm@openssh.com",
    "umac-64@openssh.com",
    "umac-128@openssh.com",
];

/// What OpenSSH sends when the client exceeds MaxAuthTries (reason 2, protocol error).
pub const TOO_MANY_FAILURES: &str = "Too many authentication failures";

/// The algorithm lists we advertise: OpenSSH 9.2p1's, in its order, without
/// [`MISSING`].
pub fn preferred() -> Preferred {
    Preferred {
        kex: Cow::Borrowed(&[
            kex::CURVE25519,
            kex::CURVE25519_PRE_RFC_8731,
            kex::ECDH_SHA2_NISTP256,
            kex::ECDH_SHA2_NISTP384,
            kex::ECDH_SHA2_NISTP521,
            kex::DH_GEX_SHA256,
            kex::DH_G16_SHA512,
            kex::DH_G18_SHA512,
            kex::DH_G14_SHA256,
            kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
        ]),
        key: Cow::Borrowed(&[
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha512),
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha256),
            },
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256,
            },
            Algorithm::Ed25519,
        ]),
        host_key_certificates: Cow::Borrowed(&[]),
        cipher: Cow::Borrowed(&[
            cipher::CHACHA20_POLY1305,
            cipher::AES_128_CTR,
            cipher::AES_192_CTR,
            cipher::AES_256_CTR,
            cipher::AES_128_GCM,
            cipher::AES_256_GCM,
        ]),
        mac: Cow::Borrowed(&[
            mac::HMAC_SHA256_ETM,
            mac::HMAC_SHA512_ETM,
            mac::HMAC_SHA1_ETM,
            mac::HMAC_SHA256,
            mac::HMAC_SHA512,
            mac::HMAC_SHA1,
        ]),
        compression: Cow::Borrowed(&[compression::NONE, compression::ZLIB_LEGACY]),
    }
}

/// Removes the [`MISSING`] names from a comma-separated OpenSSH list: what we
/// expect to advertise for that field.
pub fn without_missing(list: &str) -> String {
    list.split(',')
        .filter(|name| !MISSING.contains(name))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferred_is_openssh_minus_missing_in_order() {
        let p = preferred();
        let join = |names: Vec<String>| names.join(",");
        assert_eq!(
            join(p.kex.iter().map(|n| n.as_ref().to_owned()).collect()),
            without_missing(openssh_9_2::KEX)
        );
        assert_eq!(
            join(p.key.iter().map(|a| a.to_string()).collect()),
            openssh_9_2::HOST_KEY
        );
        assert_eq!(
            join(p.cipher.iter().map(|n| n.as_ref().to_owned()).collect()),
            openssh_9_2::CIPHERS
        );
        assert_eq!(
            join(p.mac.iter().map(|n| n.as_ref().to_owned()).collect()),
            without_missing(openssh_9_2::MACS)
        );
        assert_eq!(
            join(
                p.compression
                    .iter()
                    .map(|n| n.as_ref().to_owned())
                    .collect()
            ),
            openssh_9_2::COMPRESSION
        );
    }
}
