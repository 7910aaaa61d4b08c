//! The OpenSSH build we impersonate: its identification string and its KEXINIT
//! lists in its own order.
//!
//! Scanners tell honeypots from real servers with one packet: the server's KEXINIT
//! (HASSHServer). We advertise OpenSSH 9.2p1's lists in OpenSSH's order, every
//! algorithm of them implemented: `sntrup761x25519-sha512` and the UMAC MACs are
//! Nectar's additions to the vendored russh (`vendor/russh/NECTAR_PATCHES.md`,
//! patches 10 and 11), so the HASSHServer is the real one.

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

/// The EXT_INFO OpenSSH 9.2p1 sends after the first key exchange (to clients
/// offering `ext-info-c`): its `server-sig-algs` (every signature algorithm it
/// knows, whatever its host keys) and `publickey-hostbound@openssh.com`.
pub const EXT_INFO: &[(&str, &str)] = &[
    (
        "server-sig-algs",
        "ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-rsa,rsa-sha2-256,rsa-sha2-512",
    ),
    ("publickey-hostbound@openssh.com", "0"),
];

/// The group sizes we have for `diffie-hellman-group-exchange-sha256` (RFC 3526
/// groups 14 to 18). Debian's `/etc/ssh/moduli` also has 7680-bit primes; a
/// client that prefers exactly that size gets 8192 here.
const GEX_SIZES: [usize; 5] = [2048, 3072, 4096, 6144, 8192];

/// The group size sshd 9.2 chooses for a client's (min, preferred, max), as
/// its `kexgexs.c` and `dh.c` `choose_dh` do: the request clamped to 2048–8192
/// bits, then the smallest size at least the preferred one, else the largest
/// within range. `None`: sshd's fallback group (none fits; we answer with the
/// 2048-bit group, sshd with its built-in one).
pub fn gex_group_bits(min: usize, preferred: usize, max: usize) -> Option<usize> {
    let (min, max) = (min.max(2048), max.min(8192));
    let want = preferred.clamp(2048, 8192);
    let mut best = 0;
    for size in GEX_SIZES {
        if size < min || size > max {
            continue;
        }
        if (size > want && size < best) || (size > best && best < want) {
            best = size;
        }
    }
    (best != 0).then_some(best)
}

/// What OpenSSH sends when the client exceeds MaxAuthTries (reason 2, protocol error).
pub const TOO_MANY_FAILURES: &str = "Too many authentication failures";

/// The algorithm lists we advertise: OpenSSH 9.2p1's, in its order.
pub fn preferred() -> Preferred {
    Preferred {
        kex: Cow::Borrowed(&[
            kex::SNTRUP761X25519_SHA512,
            kex::SNTRUP761X25519_SHA512_OPENSSH,
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
            mac::UMAC_64_ETM,
            mac::UMAC_128_ETM,
            mac::HMAC_SHA256_ETM,
            mac::HMAC_SHA512_ETM,
            mac::HMAC_SHA1_ETM,
            mac::UMAC_64,
            mac::UMAC_128,
            mac::HMAC_SHA256,
            mac::HMAC_SHA512,
            mac::HMAC_SHA1,
        ]),
        compression: Cow::Borrowed(&[compression::NONE, compression::ZLIB_LEGACY]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gex_sizes_are_sshds_choice() {
        assert_eq!(gex_group_bits(2048, 2048, 8192), Some(2048));
        assert_eq!(gex_group_bits(2048, 3000, 8192), Some(3072));
        assert_eq!(gex_group_bits(2048, 8192, 8192), Some(8192));
        assert_eq!(gex_group_bits(1024, 1024, 1024), None);
        assert_eq!(gex_group_bits(2048, 7680, 8192), Some(8192));
        assert_eq!(gex_group_bits(2048, 9000, 16384), Some(8192));
        assert_eq!(gex_group_bits(4096, 2048, 4096), Some(4096));
    }

    #[test]
    fn preferred_is_openssh_in_order() {
        let p = preferred();
        let join = |names: Vec<String>| names.join(",");
        assert_eq!(
            join(p.kex.iter().map(|n| n.as_ref().to_owned()).collect()),
            openssh_9_2::KEX
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
            openssh_9_2::MACS
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
