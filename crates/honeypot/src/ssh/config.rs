//! `[honeypot.ssh]`: every setting of the SSH honeypot, each with a default, so that
//! `nectar serve` runs a believable Debian 12 OpenSSH on port 2222 with no file.
//!
//! The doc comments on the fields are the user documentation; `validate` names the
//! key of any value that parses but cannot work.

use std::net::SocketAddr;

use nectar_event::config::{ConfigError, Listener};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::credentials::CredentialRule;

/// Settings of the SSH honeypot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SshHoneypotConfig {
    /// Run the SSH honeypot (it looks like Debian 12's OpenSSH 9.2p1).
    pub enabled: bool,
    /// Address and port to listen on (port 0: any free port); 22 needs
    /// CAP_NET_BIND_SERVICE.
    pub listen: SocketAddr,
    /// The identification string sent to clients: the OpenSSH build we pretend to be.
    pub banner: String,
    /// Host name shown in the prompt and by `hostname`/`uname -n`, and the name of
    /// the machine every honeypot impersonates (the HTTP bait pages show it too);
    /// empty: one is picked at first start and kept in the data directory.
    pub hostname: String,
    /// Accepted logins, as `user:password` rules read in order, first match wins:
    /// `*` matches anything, a password starting with `!` refuses it
    /// (`root:!root`, then `root:*`). Anything no rule accepts is refused.
    pub credentials: Vec<String>,
    /// Milliseconds to wait before answering a refused login (0: none, like a
    /// fast real server; Cowrie uses 1000).
    pub failure_delay_ms: u64,
    /// Refused logins on one connection before it is closed with OpenSSH's "Too
    /// many authentication failures" (OpenSSH's MaxAuthTries is 6).
    pub max_auth_attempts: u32,
    /// Connections open at once; more are closed at accept.
    pub max_connections: usize,
    /// Connections open at once from one source address.
    pub max_connections_per_ip: usize,
    /// Seconds a client has to log in (OpenSSH's LoginGraceTime is 120).
    pub login_grace_seconds: u64,
    /// Seconds without any traffic before a connection is closed.
    pub idle_timeout_seconds: u64,
    /// Longest a connection may last, in seconds.
    pub max_session_seconds: u64,
    /// Longest command line the fake shell keeps, in bytes; the rest is dropped.
    pub max_line_bytes: usize,
    /// Bytes a client may send on one connection (all of SSH) before it is closed.
    pub max_session_bytes: u64,
    /// Commands one session may run before it is closed.
    pub max_commands: usize,
    /// The listen backlog: connections the kernel queues before they are accepted.
    pub backlog: u32,
}

impl Default for SshHoneypotConfig {
    fn default() -> Self {
        SshHoneypotConfig {
            enabled: true,
            listen: SocketAddr::from(([0, 0, 0, 0], 2222)),
            banner: crate::ssh::profile::DEBIAN_12_BANNER.into(),
            hostname: String::new(),
            credentials: CredentialRule::DEFAULTS
                .iter()
                .map(|s| (*s).into())
                .collect(),
            failure_delay_ms: 0,
            max_auth_attempts: 6,
            max_connections: 4096,
            max_connections_per_ip: 64,
            login_grace_seconds: 120,
            idle_timeout_seconds: 300,
            max_session_seconds: 3600,
            max_line_bytes: 8192,
            max_session_bytes: 4 * 1024 * 1024,
            max_commands: 1000,
            backlog: 1024,
        }
    }
}

impl SshHoneypotConfig {
    /// Checks values that parse but cannot work; the error names the key relative to
    /// this section (`banner`, `credentials`, ...); the caller adds its own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let banner = &self.banner;
        if !(banner.starts_with("SSH-2.0-") && banner.len() <= 253)
            || banner.bytes().any(|b| !(0x20..0x7f).contains(&b))
        {
            return Err(ConfigError::new(
                "banner",
                format!(
                    "must start with \"SSH-2.0-\" and be at most 253 printable ASCII characters (got {banner:?})"
                ),
            ));
        }
        crate::session_settings::SessionSettings {
            hostname: &self.hostname,
            credentials: &self.credentials,
            failure_delay_ms: self.failure_delay_ms,
            max_auth_attempts: self.max_auth_attempts,
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            login_grace_seconds: self.login_grace_seconds,
            idle_timeout_seconds: self.idle_timeout_seconds,
            max_session_seconds: self.max_session_seconds,
            max_line_bytes: self.max_line_bytes,
            max_session_bytes: self.max_session_bytes,
            max_commands: self.max_commands,
            backlog: self.backlog,
        }
        .validate()
    }

    /// The address it listens on, when enabled (for the check that no two
    /// listeners share a port).
    pub fn listeners(&self) -> Vec<Listener> {
        if self.enabled {
            vec![Listener::new("listen", self.listen)]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_name_keys_when_not() {
        SshHoneypotConfig::default().validate().unwrap();
        let bad = [
            (
                SshHoneypotConfig {
                    banner: "OpenSSH".into(),
                    ..Default::default()
                },
                "banner",
            ),
            (
                SshHoneypotConfig {
                    credentials: vec!["nocolon".into()],
                    ..Default::default()
                },
                "credentials",
            ),
            (
                SshHoneypotConfig {
                    max_connections: 0,
                    ..Default::default()
                },
                "max_connections",
            ),
            (
                SshHoneypotConfig {
                    hostname: "a b".into(),
                    ..Default::default()
                },
                "hostname",
            ),
        ];
        for (config, key) in bad {
            let err = config.validate().unwrap_err();
            assert_eq!(err.key.to_string(), key, "{err}");
        }
    }
}
