//! The settings the SSH and Telnet sections share (host name, credential rules,
//! connection and session limits) and their one set of checks, so the two
//! honeypots cannot drift apart in what they accept.

use nectar_event::config::ConfigError;

use crate::credentials::CredentialRule;

/// A borrowed view of a section's shared settings, for [`SessionSettings::validate`].
pub(crate) struct SessionSettings<'a> {
    pub hostname: &'a str,
    pub credentials: &'a [String],
    pub failure_delay_ms: u64,
    pub max_auth_attempts: u32,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub login_grace_seconds: u64,
    pub idle_timeout_seconds: u64,
    pub max_session_seconds: u64,
    pub max_line_bytes: usize,
    pub max_session_bytes: u64,
    pub max_commands: usize,
    pub backlog: u32,
}

impl SessionSettings<'_> {
    /// Checks values that parse but cannot work; the error names the key relative
    /// to the section (`hostname`, `credentials`, `max_connections`, ...).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.hostname.len() > 64
            || !self
                .hostname
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(ConfigError::new(
                "hostname",
                "letters, digits, '-' and '.', at most 64",
            ));
        }
        for (i, rule) in self.credentials.iter().enumerate() {
            CredentialRule::parse(rule)
                .map_err(|e| ConfigError::new("credentials", format!("entry {}: {e}", i + 1)))?;
        }
        let positive = [
            ("max_auth_attempts", u64::from(self.max_auth_attempts)),
            ("max_connections", self.max_connections as u64),
            ("max_connections_per_ip", self.max_connections_per_ip as u64),
            ("login_grace_seconds", self.login_grace_seconds),
            ("idle_timeout_seconds", self.idle_timeout_seconds),
            ("max_session_seconds", self.max_session_seconds),
            ("max_line_bytes", self.max_line_bytes as u64),
            ("max_session_bytes", self.max_session_bytes),
            ("max_commands", self.max_commands as u64),
            ("backlog", u64::from(self.backlog)),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(ConfigError::new(key, "must be greater than 0"));
            }
        }
        let at_most = [
            ("failure_delay_ms", self.failure_delay_ms, 60_000),
            ("max_auth_attempts", u64::from(self.max_auth_attempts), 100),
            ("max_connections", self.max_connections as u64, 1_000_000),
            ("max_line_bytes", self.max_line_bytes as u64, 1 << 20),
            ("max_commands", self.max_commands as u64, 1_000_000),
            ("backlog", u64::from(self.backlog), 65_535),
        ];
        for (key, value, max) in at_most {
            if value > max {
                return Err(ConfigError::new(key, format!("at most {max}")));
            }
        }
        Ok(())
    }
}
