//! `[honeypot.http]`: every setting of the HTTP honeypot, each with a default, so
//! that `nectar serve` runs a believable Apache on Debian on port 8081 with no file.
//!
//! The doc comments on the fields are the user documentation; `validate` names the
//! key of any value that parses but cannot work.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use nectar_event::config::{ConfigError, Listener};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The server the honeypot claims to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServerProfile {
    /// Apache 2.4 as Debian 12 ships it (headers, error pages, default page).
    Apache,
    /// nginx 1.22 as Debian 12 ships it.
    Nginx,
}

/// The personas (sets of pages) the honeypot can show.
pub const PERSONAS: &[&str] = &[
    "default",
    "robots",
    "wordpress",
    "phpmyadmin",
    "admin",
    "exposed_files",
    "webapp",
];

/// Settings of the HTTP honeypot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct HttpHoneypotConfig {
    /// Run the HTTP honeypot (by default it looks like Apache 2.4 on Debian 12).
    pub enabled: bool,
    /// Address and port of plain HTTP (port 0: any free port); 80 needs
    /// CAP_NET_BIND_SERVICE.
    pub listen: SocketAddr,
    /// Which server to look like.
    pub profile: ServerProfile,
    /// The `Server` header and error-page signature; empty: the profile's own
    /// (`Apache/2.4.71 (Debian)`, `nginx/1.22.1`).
    pub server_header: String,
    /// Personas served, among "default" (the distribution's default page),
    /// "robots", "wordpress", "phpmyadmin", "admin", "exposed_files", "webapp"
    /// (a vulnerable PHP/MySQL shop: `/index.php?id=`, `/product.php?id=`,
    /// `/news.php?id=`, `/search.php?q=`, `/login.php`, `?page=`, `/ping.php?ip=`).
    pub personas: Vec<String>,
    /// A directory whose files replace the built-in persona templates of the same
    /// name (empty: only the built-in ones).
    pub templates_dir: PathBuf,
    /// A TOML file of extra classification rules, added to the built-in ones (empty:
    /// none). The format is that of the built-in `rules/http.toml`.
    pub rules_file: PathBuf,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed (exact IPs).
    pub trusted_proxies: Vec<IpAddr>,
    /// Largest request body read, in bytes; a larger declared body gets the
    /// server's 413 and the connection is closed.
    pub max_body_bytes: usize,
    /// Bytes of the body kept in `data.body_preview`.
    pub body_preview_bytes: usize,
    /// Longest request line, in bytes (Apache's LimitRequestLine); longer gets 414.
    pub max_request_line_bytes: usize,
    /// Longest header line, in bytes (Apache's LimitRequestFieldSize); longer gets 400.
    pub max_header_bytes: usize,
    /// Most header lines in one request (Apache's LimitRequestFields); more gets 400.
    pub max_headers: usize,
    /// Largest request head (request line and headers together), in bytes.
    pub max_head_bytes: usize,
    /// Seconds a client has to send a whole request head (slowloris bound); then
    /// the server's 408 and the connection is closed.
    pub header_timeout_seconds: u64,
    /// Seconds an idle keep-alive connection is kept (Apache's KeepAliveTimeout).
    pub keepalive_timeout_seconds: u64,
    /// Requests served on one connection (Apache's MaxKeepAliveRequests).
    pub max_keepalive_requests: u32,
    /// Connections open at once; more are closed at accept.
    pub max_connections: usize,
    /// Connections open at once from one source address.
    pub max_connections_per_ip: usize,
    /// Requests per second one source address may make (a burst of twice this is
    /// allowed); beyond it connections are closed unanswered and counted. 0: no limit.
    pub max_requests_per_ip_per_second: u32,
    /// The listen backlog.
    pub backlog: u32,
    /// Longest delay, in seconds, the "webapp" persona gives an answer whose
    /// injected SQL asked to sleep (`SLEEP(5)`, `BENCHMARK(...)`); a longer sleep
    /// is cut to this. 0: answer at once.
    pub max_sleep_seconds: u64,
    /// Connections the "webapp" persona keeps waiting on a sleep at once; a
    /// request over this is answered at once (a flood of `SLEEP()` probes cannot
    /// hold every connection).
    pub max_sleeping_connections: usize,
    /// HTTPS on a second port.
    pub tls: TlsConfig,
}

/// `[honeypot.http.tls]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Serve HTTPS too, on its own port.
    pub enabled: bool,
    /// Address and port of HTTPS.
    pub listen: SocketAddr,
    /// PEM certificate chain; empty: a self-signed certificate made on first start
    /// and kept in the data directory.
    pub cert_file: PathBuf,
    /// PEM private key of `cert_file`.
    pub key_file: PathBuf,
    /// Names in the self-signed certificate.
    pub self_signed_names: Vec<String>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            enabled: false,
            listen: SocketAddr::from(([0, 0, 0, 0], 8443)),
            cert_file: PathBuf::new(),
            key_file: PathBuf::new(),
            self_signed_names: vec!["localhost".into()],
        }
    }
}

impl Default for HttpHoneypotConfig {
    fn default() -> Self {
        HttpHoneypotConfig {
            enabled: true,
            listen: SocketAddr::from(([0, 0, 0, 0], 8081)),
            profile: ServerProfile::Apache,
            server_header: String::new(),
            personas: PERSONAS.iter().map(|p| (*p).into()).collect(),
            templates_dir: PathBuf::new(),
            rules_file: PathBuf::new(),
            trusted_proxies: Vec::new(),
            max_body_bytes: 1024 * 1024,
            body_preview_bytes: 1024,
            max_request_line_bytes: 8190,
            max_header_bytes: 8190,
            max_headers: 100,
            max_head_bytes: 64 * 1024,
            header_timeout_seconds: 20,
            keepalive_timeout_seconds: 5,
            max_keepalive_requests: 100,
            max_connections: 4096,
            max_connections_per_ip: 64,
            max_requests_per_ip_per_second: 500,
            backlog: 1024,
            max_sleep_seconds: 10,
            max_sleeping_connections: 16,
            tls: TlsConfig::default(),
        }
    }
}

impl HttpHoneypotConfig {
    /// The `Server` header in force.
    pub fn server_name(&self) -> &str {
        if !self.server_header.is_empty() {
            return &self.server_header;
        }
        match self.profile {
            ServerProfile::Apache => super::profile::APACHE_SERVER,
            ServerProfile::Nginx => super::profile::NGINX_SERVER,
        }
    }

    /// Checks values that parse but cannot work; the error names the key relative to
    /// this section (`personas`, `tls.cert_file`, ...); the caller adds its own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.server_header.len() > 200
            || self
                .server_header
                .bytes()
                .any(|b| !(0x20..0x7f).contains(&b))
        {
            return Err(ConfigError::new(
                "server_header",
                "at most 200 printable ASCII characters",
            ));
        }
        for p in &self.personas {
            if !PERSONAS.contains(&p.as_str()) {
                return Err(ConfigError::new(
                    "personas",
                    format!("unknown persona {p:?} (known: {})", PERSONAS.join(", ")),
                ));
            }
        }
        let positive = [
            ("max_body_bytes", self.max_body_bytes as u64),
            ("max_request_line_bytes", self.max_request_line_bytes as u64),
            ("max_header_bytes", self.max_header_bytes as u64),
            ("max_headers", self.max_headers as u64),
            ("max_head_bytes", self.max_head_bytes as u64),
            ("header_timeout_seconds", self.header_timeout_seconds),
            ("keepalive_timeout_seconds", self.keepalive_timeout_seconds),
            (
                "max_keepalive_requests",
                u64::from(self.max_keepalive_requests),
            ),
            ("max_connections", self.max_connections as u64),
            ("max_connections_per_ip", self.max_connections_per_ip as u64),
            ("backlog", u64::from(self.backlog)),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(ConfigError::new(key, "must be greater than 0"));
            }
        }
        let at_most = [
            ("max_body_bytes", self.max_body_bytes as u64, 64 << 20),
            (
                "body_preview_bytes",
                self.body_preview_bytes as u64,
                64 << 10,
            ),
            (
                "max_headers",
                self.max_headers as u64,
                super::conn::MAX_HEADERS as u64,
            ),
            ("max_head_bytes", self.max_head_bytes as u64, 1 << 20),
            ("max_connections", self.max_connections as u64, 1_000_000),
            ("backlog", u64::from(self.backlog), 65_535),
            ("max_sleep_seconds", self.max_sleep_seconds, 300),
            (
                "max_sleeping_connections",
                self.max_sleeping_connections as u64,
                100_000,
            ),
        ];
        for (key, value, max) in at_most {
            if value > max {
                return Err(ConfigError::new(key, format!("at most {max}")));
            }
        }
        if self.max_request_line_bytes > self.max_head_bytes
            || self.max_header_bytes > self.max_head_bytes
        {
            return Err(ConfigError::new(
                "max_head_bytes",
                "must be at least max_request_line_bytes and max_header_bytes",
            ));
        }
        if !self.rules_file.as_os_str().is_empty() {
            let text = std::fs::read_to_string(&self.rules_file).map_err(|e| {
                ConfigError::new("rules_file", format!("{}: {e}", self.rules_file.display()))
            })?;
            let name = self.rules_file.display().to_string();
            super::classify::Classifier::new(Some((&name, &text)))
                .map_err(|e| ConfigError::new("rules_file", e))?;
        }
        let tls = &self.tls;
        if tls.enabled {
            if tls.cert_file.as_os_str().is_empty() != tls.key_file.as_os_str().is_empty() {
                return Err(ConfigError::new(
                    "tls.key_file",
                    "give both tls.cert_file and tls.key_file, or neither (self-signed)",
                ));
            }
            if tls.cert_file.as_os_str().is_empty() && tls.self_signed_names.is_empty() {
                return Err(ConfigError::new(
                    "tls.self_signed_names",
                    "at least one name",
                ));
            }
            if tls.listen == self.listen && tls.listen.port() != 0 {
                return Err(ConfigError::new("tls.listen", "must differ from `listen`"));
            }
        }
        Ok(())
    }

    /// The addresses it listens on, when enabled (plain HTTP, and HTTPS when
    /// `tls.enabled`), for the check that no two listeners share a port.
    pub fn listeners(&self) -> Vec<Listener> {
        let mut out = Vec::new();
        if self.enabled {
            out.push(Listener::new("listen", self.listen));
            if self.tls.enabled {
                out.push(Listener::new("tls.listen", self.tls.listen));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_errors_name_keys() {
        HttpHoneypotConfig::default().validate().unwrap();
        let bad = [
            (
                HttpHoneypotConfig {
                    personas: vec!["joomla".into()],
                    ..Default::default()
                },
                "personas",
            ),
            (
                HttpHoneypotConfig {
                    max_headers: 0,
                    ..Default::default()
                },
                "max_headers",
            ),
            (
                HttpHoneypotConfig {
                    tls: TlsConfig {
                        enabled: true,
                        cert_file: "a.pem".into(),
                        ..Default::default()
                    },
                    ..Default::default()
                },
                "tls.key_file",
            ),
        ];
        for (config, key) in bad {
            let err = config.validate().unwrap_err();
            assert_eq!(err.key.to_string(), key, "{err}");
        }
        let toml = "profile = \"nginx\"\n[tls]\nenabled = true\n";
        let c: HttpHoneypotConfig = toml::from_str(toml).unwrap();
        assert_eq!(c.profile, ServerProfile::Nginx);
        assert_eq!(c.server_name(), "nginx/1.22.1");
        assert!(toml::from_str::<HttpHoneypotConfig>("nope = 1").is_err());
    }
}
