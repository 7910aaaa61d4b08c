//! Host keys: generated on first start and kept in the data directory, so the
//! server's fingerprint stays the same across restarts (a key that changes on every
//! restart is a honeypot tell, and scares off returning attackers).
//!
//! The same three key types as a Debian install (RSA 3072, ECDSA P-256, Ed25519),
//! in OpenSSH's file names and format, readable only by the owner.

use std::io::Write;
use std::path::{Path, PathBuf};

use russh::keys::ssh_key::private::{EcdsaKeypair, Ed25519Keypair, RsaKeypair};
use russh::keys::ssh_key::{EcdsaCurve, LineEnding};
use russh::keys::{PrivateKey, key::safe_rng};

use crate::Error;

/// RSA modulus size of OpenSSH's `ssh-keygen -A` default.
const RSA_BITS: usize = 3072;

/// The kinds of host key, in the order written to the server's config.
const KINDS: [&str; 3] = ["rsa", "ecdsa", "ed25519"];

/// Loads the host keys from `dir`, generating (and saving) the ones missing.
pub fn load_or_generate(dir: &Path) -> Result<Vec<PrivateKey>, Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::HostKey {
        path: dir.to_owned(),
        reason: source.to_string(),
    })?;
    KINDS
        .iter()
        .map(|kind| load_or_generate_one(dir, kind))
        .collect()
}

fn path_of(dir: &Path, kind: &str) -> PathBuf {
    dir.join(format!("ssh_host_{kind}_key"))
}

fn load_or_generate_one(dir: &Path, kind: &str) -> Result<PrivateKey, Error> {
    let path = path_of(dir, kind);
    let fail = |source: String| Error::HostKey {
        path: path.clone(),
        reason: source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => return PrivateKey::from_openssh(text).map_err(|e| fail(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e.to_string())),
    }
    let mut rng = safe_rng();
    let key: PrivateKey = match kind {
        "rsa" => RsaKeypair::random(&mut rng, RSA_BITS)
            .map_err(|e| fail(e.to_string()))?
            .into(),
        "ecdsa" => EcdsaKeypair::random(&mut rng, EcdsaCurve::NistP256)
            .map_err(|e| fail(e.to_string()))?
            .into(),
        _ => Ed25519Keypair::random(&mut rng).into(),
    };
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| fail(e.to_string()))?;
    write_private(&path, text.as_bytes()).map_err(|e| fail(e.to_string()))?;
    tracing::info!(path = %path.display(), "Generated an SSH host key.");
    Ok(key)
}

/// Writes a file only its owner can read, through a temporary name so a crash never
/// leaves half a key behind.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_generated_once_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_generate(dir.path()).unwrap();
        assert_eq!(first.len(), 3);
        let second = load_or_generate(dir.path()).unwrap();
        for (a, b) in first.iter().zip(&second) {
            assert_eq!(a.public_key(), b.public_key());
        }
        #[cfg(unix)]
        for kind in KINDS {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path_of(dir.path(), kind))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{kind}");
        }
    }
}
