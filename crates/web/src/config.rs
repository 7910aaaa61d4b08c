//! `[server]` of the configuration file: where the UI and API listen and their
//! limits, with the checks whose errors name the key relative to `[server]`.
//! The running [`WebConfig`] is built from it.

use std::net::SocketAddr;
use std::path::PathBuf;

use nectar_event::config::{ConfigError, ListenAddr, Listener};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::WebConfig;

/// `[server]`: the web UI and the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port of the web UI and the API (port 0: any free port).
    pub listen: ListenAddr,
    /// Largest API request body in bytes; larger requests get 413.
    pub max_body_bytes: usize,
    /// Most events in one posted batch; larger batches get 413.
    pub max_batch_events: usize,
    /// How long a web login lasts, in hours.
    pub session_hours: u32,
    /// Mark cookies Secure (sent only over HTTPS). Unset: Secure unless the UI
    /// listens on a loopback address, since other machines should reach it
    /// through TLS (a proxy in front of Nectar). Set false only to serve
    /// logins over plain HTTP beyond this machine.
    pub secure_cookies: Option<bool>,
    /// Host names the UI and API answer to (besides `localhost` and addresses
    /// such as 127.0.0.1); a request naming another gets 421, so a site whose
    /// name was made to resolve to this machine (DNS rebinding) cannot use an
    /// analyst's browser against it. List the name people type, e.g.
    /// ["nectar.example.edu"]; "*" answers to any.
    pub allowed_hosts: Vec<String>,
    /// Most posted batches read at once; more wait their turn up to 3 s, then
    /// get 503 with Retry-After. Each holds up to ~25 MB of parsed events
    /// while it is read.
    pub max_concurrent_ingest: usize,
    /// Most CSV/JSON exports of the events page running at once; more get 503.
    pub max_concurrent_exports: usize,
    /// Most bytes of events one export sends (default 256 MiB); an export
    /// stops there and says so (its limits are in the `nectar-export-limit`
    /// header, and a CSV export's last line says where it stopped).
    pub max_export_bytes: usize,
    /// Posted events more than this many days old are refused (422 naming
    /// `time`): a token cannot backdate evidence. Raise it to back-fill history.
    pub max_event_age_days: u32,
    /// Posted events more than this many hours ahead of the server's clock are
    /// refused (422 naming `time`).
    pub max_event_ahead_hours: u32,
    /// Largest incident attachment in bytes (default 20 MiB); larger uploads
    /// get 413. Attachments are kept in the database.
    pub max_attachment_bytes: usize,
    /// Seconds to let open requests finish at shutdown before closing them.
    pub shutdown_grace_seconds: u64,
    /// An age identity file, the private key of `honeypot.encrypt_to`: the UI and
    /// API then show captured passwords decrypted (else "(encrypted)"). Keep it
    /// off the sensors; empty: none.
    pub identity: PathBuf,
    /// A remote sensor whose clock differs from the server's by more than
    /// this many milliseconds raises a `sensor.status` event (`clock_drift`).
    pub sensor_clock_bound_ms: u64,
    /// `[server.tls]`: the API and UI over HTTPS as well (what remote sensors
    /// connect to).
    pub tls: TlsSection,
}

/// `[server.tls]`: HTTPS for the UI and API, on its own address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSection {
    /// Address and port for HTTPS (e.g. "0.0.0.0:8443"); unset: no HTTPS.
    pub listen: Option<ListenAddr>,
    /// PEM certificate chain; empty: a self-signed certificate is made on
    /// first start and kept in the data directory (tls/server-cert.pem).
    pub cert: PathBuf,
    /// PEM private key of `cert` (required with `cert`).
    pub key: PathBuf,
    /// Names the self-signed certificate is made for (besides "localhost"),
    /// e.g. the server's host name. Sensors pin the certificate itself, so
    /// these only matter to browsers.
    pub names: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let web = WebConfig::default();
        ServerConfig {
            listen: ListenAddr(SocketAddr::from(([127, 0, 0, 1], 8080))),
            max_body_bytes: web.max_body_bytes,
            max_batch_events: web.max_batch_events,
            session_hours: web.session_hours,
            secure_cookies: None,
            allowed_hosts: Vec::new(),
            max_concurrent_ingest: web.max_concurrent_ingest,
            max_concurrent_exports: web.max_concurrent_exports,
            max_export_bytes: web.max_export_bytes,
            max_event_age_days: (web.max_event_age.as_secs() / 86_400) as u32,
            max_event_ahead_hours: (web.max_event_ahead.as_secs() / 3_600) as u32,
            max_attachment_bytes: web.max_attachment_bytes,
            shutdown_grace_seconds: 30,
            identity: PathBuf::new(),
            sensor_clock_bound_ms: web.sensor_clock_bound.as_millis() as u64,
            tls: TlsSection::default(),
        }
    }
}

impl ServerConfig {
    /// Checks values that parse but cannot work; keys are relative to `[server]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("max_body_bytes", self.max_body_bytes as u64),
            ("max_batch_events", self.max_batch_events as u64),
            ("session_hours", u64::from(self.session_hours)),
            ("max_concurrent_ingest", self.max_concurrent_ingest as u64),
            ("max_concurrent_exports", self.max_concurrent_exports as u64),
            ("max_export_bytes", self.max_export_bytes as u64),
            ("max_event_age_days", u64::from(self.max_event_age_days)),
            ("max_attachment_bytes", self.max_attachment_bytes as u64),
            (
                "max_event_ahead_hours",
                u64::from(self.max_event_ahead_hours),
            ),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(ConfigError::new(key, "must be greater than 0"));
            }
        }
        if self.tls.cert.as_os_str().is_empty() != self.tls.key.as_os_str().is_empty() {
            return Err(ConfigError::new(
                "tls.key",
                "give both tls.cert and tls.key, or neither (a self-signed certificate is then made)",
            ));
        }
        if self.max_body_bytes > 1 << 30 {
            return Err(ConfigError::new(
                "max_body_bytes",
                "at most 1073741824 (1 GiB)",
            ));
        }
        if self.max_attachment_bytes > 1 << 30 {
            return Err(ConfigError::new(
                "max_attachment_bytes",
                "at most 1073741824 (1 GiB)",
            ));
        }
        if self.session_hours > 24 * 90 {
            return Err(ConfigError::new("session_hours", "at most 2160 (90 days)"));
        }
        if let Some(bad) = self.allowed_hosts.iter().find(|h| {
            h.is_empty() || h.len() > 253 || h.contains(|c: char| c.is_whitespace() || c == '/')
        }) {
            return Err(ConfigError::new(
                "allowed_hosts",
                format!(
                    "{bad:?} is not a host name (a name such as \"nectar.example.edu\", or \"*\")"
                ),
            ));
        }
        Ok(())
    }

    /// The address the UI and API listen on (for the check that no two listeners
    /// share a port).
    pub fn listeners(&self) -> Vec<Listener> {
        let mut listeners = vec![Listener::new("listen", self.listen.0)];
        if let Some(tls) = &self.tls.listen {
            listeners.push(Listener::new("tls.listen", tls.0));
        }
        listeners
    }

    /// The web server's settings.
    pub fn web_config(&self) -> WebConfig {
        WebConfig {
            max_body_bytes: self.max_body_bytes,
            max_batch_events: self.max_batch_events,
            secure_cookies: self
                .secure_cookies
                .unwrap_or(!self.listen.0.ip().is_loopback()),
            session_hours: self.session_hours,
            allowed_hosts: self.allowed_hosts.clone(),
            max_concurrent_ingest: self.max_concurrent_ingest,
            max_concurrent_exports: self.max_concurrent_exports,
            max_export_bytes: self.max_export_bytes,
            max_event_age: std::time::Duration::from_secs(
                u64::from(self.max_event_age_days) * 86_400,
            ),
            max_event_ahead: std::time::Duration::from_secs(
                u64::from(self.max_event_ahead_hours) * 3_600,
            ),
            max_attachment_bytes: self.max_attachment_bytes,
            sensor_clock_bound: std::time::Duration::from_millis(self.sensor_clock_bound_ms),
            ..WebConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bounds_name_the_key() {
        ServerConfig::default().validate().unwrap();
        let bad = ServerConfig {
            session_hours: 24 * 91,
            ..ServerConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().key.to_string(), "session_hours");
        assert_eq!(
            ServerConfig::default().web_config().max_body_bytes,
            16 * 1024 * 1024
        );
    }

    #[test]
    fn cookies_are_secure_by_default_beyond_loopback() {
        let on = |listen: &str, set: Option<bool>| {
            ServerConfig {
                listen: ListenAddr(listen.parse().unwrap()),
                secure_cookies: set,
                ..ServerConfig::default()
            }
            .web_config()
            .secure_cookies
        };
        assert!(!on("127.0.0.1:8080", None));
        assert!(!on("[::1]:8080", None));
        assert!(on("0.0.0.0:8080", None));
        assert!(on("192.0.2.10:8080", None));
        assert!(!on("0.0.0.0:8080", Some(false)));
        assert!(on("127.0.0.1:8080", Some(true)));
    }
}
