//! `[honeypot.telnet]`: every setting of the Telnet honeypot, each with a default,
//! so that `nectar serve` runs a BusyBox-like Telnet login on port 2323 with no file.
//!
//! The doc comments on the fields are the user documentation; `validate` names the
//! key of any value that parses but cannot work.

use std::net::SocketAddr;

use nectar_event::config::{ConfigError, Listener};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::credentials::CredentialRule;
pub use crate::shell::persona::Arch;

/// Which telnetd the honeypot impersonates, and the machine behind its login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TelnetProfile {
    /// BusyBox telnetd and ash on an embedded device (what IoT bots look for): an
    /// ARMv7 IP camera with BusyBox 1.24 applets, a squashfs root and 32-bit ARM
    /// binaries (see `shell::persona::device`).
    #[default]
    Busybox,
    /// Debian 12's telnetd, `/etc/issue.net` and bash on the SSH honeypot's
    /// x86-64 VM.
    Debian,
}

/// Settings of the Telnet honeypot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TelnetHoneypotConfig {
    /// Run the Telnet honeypot (a login prompt, then the same fake shell as SSH).
    pub enabled: bool,
    /// Address and port to listen on (port 0: any free port); 23 needs
    /// CAP_NET_BIND_SERVICE.
    pub listen: SocketAddr,
    /// The telnetd, and the machine behind its login, to look like.
    pub profile: TelnetProfile,
    /// The processor of the `busybox` profile's camera; its binaries' ELF
    /// headers, `uname` and /proc/cpuinfo follow it. Only for
    /// `profile = "busybox"`.
    pub arch: Arch,
    /// Host name in the login prompt and the shell; empty: the machine's, as the
    /// SSH honeypot shows it (`[honeypot.ssh] hostname` or the generated name).
    pub hostname: String,
    /// Accepted logins, as `user:password` rules read in order, first match wins
    /// (the same rules as `[honeypot.ssh] credentials`).
    pub credentials: Vec<String>,
    /// Milliseconds to wait before answering a refused login (0: none; BusyBox
    /// login waits 3000).
    pub failure_delay_ms: u64,
    /// Refused logins on one connection before it is closed (`login` allows 3).
    pub max_auth_attempts: u32,
    /// Connections open at once; more are closed at accept.
    pub max_connections: usize,
    /// Connections open at once from one source address.
    pub max_connections_per_ip: usize,
    /// Seconds a client has to log in (`login`'s timeout is 60).
    pub login_grace_seconds: u64,
    /// Seconds without any traffic before a connection is closed.
    pub idle_timeout_seconds: u64,
    /// Longest a connection may last, in seconds.
    pub max_session_seconds: u64,
    /// Longest line kept (user name, password, command), in bytes; the rest is dropped.
    pub max_line_bytes: usize,
    /// Bytes a client may send on one connection before it is closed.
    pub max_session_bytes: u64,
    /// Commands one session may run before it is closed.
    pub max_commands: usize,
    /// The listen backlog: connections the kernel queues before they are accepted.
    pub backlog: u32,
}

impl Default for TelnetHoneypotConfig {
    fn default() -> Self {
        TelnetHoneypotConfig {
            enabled: true,
            listen: SocketAddr::from(([0, 0, 0, 0], 2323)),
            profile: TelnetProfile::Busybox,
            arch: Arch::Arm,
            hostname: String::new(),
            credentials: CredentialRule::DEFAULTS
                .iter()
                .map(|s| (*s).into())
                .collect(),
            failure_delay_ms: 0,
            max_auth_attempts: 3,
            max_connections: 4096,
            max_connections_per_ip: 64,
            login_grace_seconds: 60,
            idle_timeout_seconds: 300,
            max_session_seconds: 3600,
            max_line_bytes: 8192,
            max_session_bytes: 4 * 1024 * 1024,
            max_commands: 1000,
            backlog: 1024,
        }
    }
}

impl TelnetHoneypotConfig {
    /// Checks values that parse but cannot work; the error names the key relative to
    /// this section (`arch`, `credentials`, ...); the caller adds its own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.profile == TelnetProfile::Debian && self.arch != Arch::Arm {
            return Err(ConfigError::new(
                "arch",
                "the Debian machine is x86-64; `arch` applies to profile = \"busybox\"",
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
        TelnetHoneypotConfig::default().validate().unwrap();
        let bad = [
            (
                TelnetHoneypotConfig {
                    credentials: vec!["nocolon".into()],
                    ..Default::default()
                },
                "credentials",
            ),
            (
                TelnetHoneypotConfig {
                    max_session_bytes: 0,
                    ..Default::default()
                },
                "max_session_bytes",
            ),
            (
                TelnetHoneypotConfig {
                    hostname: "a;b".into(),
                    ..Default::default()
                },
                "hostname",
            ),
            (
                TelnetHoneypotConfig {
                    profile: TelnetProfile::Debian,
                    arch: Arch::Mipsel,
                    ..Default::default()
                },
                "arch",
            ),
        ];
        for (config, key) in bad {
            let err = config.validate().unwrap_err();
            assert_eq!(err.key.to_string(), key, "{err}");
        }
        let parsed: TelnetHoneypotConfig = serde_json::from_str(r#"{"profile":"debian"}"#).unwrap();
        assert_eq!(parsed.profile, TelnetProfile::Debian);
    }
}
