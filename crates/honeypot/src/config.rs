//! `[honeypot]` of the configuration file: which honeypots `serve` runs, what
//! their sessions leave on disk, and the key that encrypts it. Each honeypot's
//! own table is owned by its module (`[honeypot.ssh]` by [`crate::ssh`], ...);
//! this one gathers them, checks them with keys relative to `[honeypot]`, and
//! lists the addresses they listen on.

use nectar_event::config::{ConfigError, Listener, WithinSection};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[honeypot]`: every honeypot and what its sessions leave on disk.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct HoneypotSection {
    /// An age X25519 public key (`age1...`, from `nectar age-keygen` or
    /// `age-keygen`): captured passwords (`data.password_enc` instead of
    /// `data.password`), recordings (`.cast.age`) and uploads (`.age`) are written
    /// encrypted to it, so this machine cannot read back what it captured. Read
    /// them with `nectar decrypt`. Empty: in clear.
    pub encrypt_to: String,
    /// The SSH honeypot.
    pub ssh: crate::ssh::SshHoneypotConfig,
    /// The Telnet honeypot.
    pub telnet: crate::telnet::TelnetHoneypotConfig,
    /// SSH and Telnet honeypot events in Cowrie's JSON format too.
    pub cowrie: crate::cowrie::CowrieOutputConfig,
    /// Recordings of interactive sessions (asciicast v2).
    pub recordings: crate::capture::RecordingsConfig,
    /// Uploaded and written files, kept by SHA-256.
    pub uploads: crate::capture::UploadsConfig,
    /// The HTTP honeypot.
    pub http: crate::http::HttpHoneypotConfig,
}

impl HoneypotSection {
    /// Checks every honeypot's table; errors name the key relative to
    /// `[honeypot]` (`ssh.listen`), for the caller to extend.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let key = self.encrypt_to.trim();
        if !key.is_empty() {
            nectar_capture::seal::Sealer::new(key)
                .map_err(|e| ConfigError::new("encrypt_to", e.to_string()))?;
        }
        self.ssh.validate().within("ssh")?;
        self.recordings.validate().within("recordings")?;
        self.telnet.validate().within("telnet")?;
        self.cowrie.validate().within("cowrie")?;
        self.uploads.validate().within("uploads")?;
        self.http.validate().within("http")
    }

    /// The addresses the enabled honeypots listen on, keys relative to `[honeypot]`.
    pub fn listeners(&self) -> Vec<Listener> {
        let sections = [
            ("ssh", self.ssh.listeners()),
            ("telnet", self.telnet.listeners()),
            ("http", self.http.listeners()),
        ];
        sections
            .into_iter()
            .flat_map(|(name, listeners)| listeners.into_iter().map(move |l| l.within(name)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_listeners_are_named_from_the_section() {
        let mut section = HoneypotSection::default();
        section.validate().unwrap();
        let keys: Vec<String> = section
            .listeners()
            .iter()
            .map(|l| l.key.to_string())
            .collect();
        assert_eq!(keys, ["ssh.listen", "telnet.listen", "http.listen"]);
        section.http.tls.enabled = true;
        section.telnet.enabled = false;
        let keys: Vec<String> = section
            .listeners()
            .iter()
            .map(|l| l.key.to_string())
            .collect();
        assert_eq!(keys, ["ssh.listen", "http.listen", "http.tls.listen"]);
        section.ssh.max_connections = 0;
        assert_eq!(
            section.validate().unwrap_err().key.to_string(),
            "ssh.max_connections"
        );
    }
}
