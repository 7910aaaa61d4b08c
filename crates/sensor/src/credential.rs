//! The sensor's credential, kept in its data directory after enrolment
//! (`sensor.toml`, readable by its owner only): the server's URL, the pin of
//! its certificate, the sensor's name and its token.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::SensorError;

/// The file's name inside the sensor's data directory.
pub const CREDENTIAL_FILE: &str = "sensor.toml";

/// What enrolment gave the sensor.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// The server's base URL (`https://HOST:PORT`).
    pub server: String,
    /// The SHA-256 of the server's certificate or CA (hex).
    pub pin: String,
    /// The sensor's name: the `sensor` of every event it sends.
    pub name: String,
    /// The bearer token that lets it post events under that name only.
    pub token: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token never reaches a log.
        f.debug_struct("Credential")
            .field("server", &self.server)
            .field("pin", &self.pin)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// Where it lives in `data_dir`.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(CREDENTIAL_FILE)
    }

    /// Reads it from `data_dir`; the error says to enrol when it is missing.
    pub fn load(data_dir: &Path) -> Result<Credential, SensorError> {
        let path = Credential::path(data_dir);
        let fail = |reason: String| SensorError::Credential {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                fail("not enrolled yet: run the `nectar sensor enrol URL SECRET --pin SHA256 --data-dir DIR` line that `nectar sensor-token create` printed on the server".into())
            } else {
                fail(e.to_string())
            }
        })?;
        toml::from_str(&text).map_err(|e| fail(e.to_string()))
    }

    /// Writes it to `data_dir` (made if needed), readable by its owner only,
    /// replacing an earlier one atomically.
    pub fn save(&self, data_dir: &Path) -> Result<PathBuf, SensorError> {
        let path = Credential::path(data_dir);
        let fail = |reason: String| SensorError::Credential {
            path: path.clone(),
            reason,
        };
        std::fs::create_dir_all(data_dir).map_err(|e| fail(e.to_string()))?;
        // Owner only: it holds the credential, the spool and honeypot keys.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| fail(e.to_string()))?;
        }
        let text = toml::to_string(self).map_err(|e| fail(e.to_string()))?;
        let temporary = data_dir.join(format!("{CREDENTIAL_FILE}.new"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temporary).map_err(|e| fail(e.to_string()))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| fail(e.to_string()))?;
        std::fs::rename(&temporary, &path).map_err(|e| fail(e.to_string()))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_credentials_read_back_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let credential = Credential {
            server: "https://192.0.2.1:8443".into(),
            pin: "ab".repeat(32),
            name: "edge-1".into(),
            token: "nst_secret".into(),
        };
        let path = credential.save(dir.path()).unwrap();
        assert_eq!(Credential::load(dir.path()).unwrap(), credential);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{credential:?}").contains("nst_secret"));
    }

    #[test]
    fn a_missing_credential_says_to_enrol() {
        let dir = tempfile::tempdir().unwrap();
        let err = Credential::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("nectar sensor enrol"), "{err}");
    }
}
