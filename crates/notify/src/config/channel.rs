//! `[[notify.channels]]`: one destination and the checks of its keys.
//!
//! A channel is one flat table whose `type` says which keys apply, rather than
//! a tagged enum: serde cannot deny unknown keys through a flattened enum, and
//! a flat table lets the check say "`host` applies to type email only".

use std::path::{Path, PathBuf};

use nectar_event::config::{ConfigError, Sensitive};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::check_name;

/// What a channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelType {
    /// JSON POSTed to `url`, signed the Standard Webhooks way with `secret`.
    Webhook,
    /// A Slack incoming webhook at `url`.
    Slack,
    /// A Mattermost incoming webhook at `url`.
    Mattermost,
    /// Email over SMTP (`host`, `port`, `from`, `to`, `tls`, `username`,
    /// `password`).
    Email,
    /// Syslog (RFC 5424) to `address` over `protocol`, in `format`.
    Syslog,
}

impl ChannelType {
    /// The name in the configuration file.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelType::Webhook => "webhook",
            ChannelType::Slack => "slack",
            ChannelType::Mattermost => "mattermost",
            ChannelType::Email => "email",
            ChannelType::Syslog => "syslog",
        }
    }
}

/// How an email channel protects its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (a relay on this host only: credentials are refused).
    None,
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// Syslog transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SyslogProtocol {
    /// One datagram per message (RFC 5426); nothing confirms arrival.
    #[default]
    Udp,
    /// A connection per message, octet-counting framing (RFC 6587).
    Tcp,
}

/// Syslog message body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SyslogFormat {
    /// RFC 5424 with the alert's fields as structured data and a text message.
    #[default]
    Rfc5424,
    /// RFC 5424 header with an ArcSight CEF body.
    Cef,
}

/// `[[notify.channels]]`: one destination. Keys that do not apply to its
/// `type` must be left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// The name routes use (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// webhook, slack, mattermost, email or syslog.
    #[serde(rename = "type")]
    pub kind: ChannelType,
    /// webhook, slack, mattermost: the URL to POST to (http or https; never
    /// printed, as incoming-webhook URLs carry their token).
    #[serde(default, skip_serializing_if = "Sensitive::is_empty")]
    pub url: Sensitive,
    /// webhook: the Standard Webhooks signing secret, `whsec_` and the base64
    /// of 24 to 64 random bytes (`echo whsec_$(openssl rand -base64 32)`).
    #[serde(default, skip_serializing_if = "Sensitive::is_empty")]
    pub secret: Sensitive,
    /// email: the SMTP server's host name or address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// email: the SMTP port (0: 25, 587 or 465 by `tls`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub port: u16,
    /// email: the sender, `nectar@example.org` or `Nectar <nectar@example.org>`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// email: the recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// email: none, starttls or tls.
    #[serde(default, skip_serializing_if = "is_default")]
    pub tls: SmtpTls,
    /// email: the user name to log in with (empty: no login).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// email: the password (never printed).
    #[serde(default, skip_serializing_if = "Sensitive::is_empty")]
    pub password: Sensitive,
    /// syslog: the receiver, `HOST:PORT`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// syslog: udp or tcp.
    #[serde(default, skip_serializing_if = "is_default")]
    pub protocol: SyslogProtocol,
    /// syslog: rfc5424 or cef.
    #[serde(default, skip_serializing_if = "is_default")]
    pub format: SyslogFormat,
    /// syslog: the facility number, 0 to 23 (16: local0).
    #[serde(
        default = "default_facility",
        skip_serializing_if = "is_default_facility"
    )]
    pub facility: u8,
    /// webhook, slack, mattermost, email: a PEM file of certificate
    /// authorities trusted besides the system's (an internal CA), for https
    /// URLs and `tls` = starttls or tls.
    #[serde(default, skip_serializing_if = "is_empty_path")]
    pub ca_file: PathBuf,
    /// Seconds one attempt may take (connecting, sending, the answer).
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

// Keys a channel's type does not use are left out of `nectar config`.
fn is_empty_path(path: &Path) -> bool {
    path.as_os_str().is_empty()
}

fn is_zero(port: &u16) -> bool {
    *port == 0
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn default_facility() -> u8 {
    16
}

fn is_default_facility(facility: &u8) -> bool {
    *facility == default_facility()
}

fn default_timeout() -> u64 {
    15
}

impl ChannelConfig {
    /// A channel of `kind` called `name` with every other key at its default.
    pub fn new(name: impl Into<String>, kind: ChannelType) -> ChannelConfig {
        ChannelConfig {
            name: name.into(),
            kind,
            url: Sensitive::default(),
            secret: Sensitive::default(),
            host: String::new(),
            port: 0,
            from: String::new(),
            to: Vec::new(),
            tls: SmtpTls::default(),
            username: String::new(),
            password: Sensitive::default(),
            address: String::new(),
            protocol: SyslogProtocol::default(),
            format: SyslogFormat::default(),
            facility: default_facility(),
            ca_file: PathBuf::new(),
            timeout_seconds: default_timeout(),
        }
    }

    /// The SMTP port: `port`, or the usual one for `tls`.
    pub fn smtp_port(&self) -> u16 {
        match (self.port, self.tls) {
            (0, SmtpTls::None) => 25,
            (0, SmtpTls::Starttls) => 587,
            (0, SmtpTls::Tls) => 465,
            (port, _) => port,
        }
    }

    /// Checks the keys of this channel's type and refuses the others; keys are
    /// relative to the channel's table.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_name(&self.name)?;
        let kind = self.kind;
        let only = |key: &'static str, set: bool, types: &[ChannelType]| {
            if set && !types.contains(&kind) {
                let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
                return Err(ConfigError::new(
                    key,
                    format!(
                        "applies to type {} only, not {}; remove it",
                        names.join(" or "),
                        kind.as_str()
                    ),
                ));
            }
            Ok(())
        };
        use ChannelType::*;
        only("url", !self.url.is_empty(), &[Webhook, Slack, Mattermost])?;
        only("secret", !self.secret.is_empty(), &[Webhook])?;
        only("host", !self.host.is_empty(), &[Email])?;
        only("port", self.port != 0, &[Email])?;
        only("from", !self.from.is_empty(), &[Email])?;
        only("to", !self.to.is_empty(), &[Email])?;
        only("tls", self.tls != SmtpTls::default(), &[Email])?;
        only("username", !self.username.is_empty(), &[Email])?;
        only("password", !self.password.is_empty(), &[Email])?;
        only("address", !self.address.is_empty(), &[Syslog])?;
        let syslog_keys = [
            ("protocol", self.protocol != SyslogProtocol::default()),
            ("format", self.format != SyslogFormat::default()),
            ("facility", self.facility != default_facility()),
        ];
        for (key, set) in syslog_keys {
            only(key, set, &[Syslog])?;
        }
        only(
            "ca_file",
            !is_empty_path(&self.ca_file),
            &[Webhook, Slack, Mattermost, Email],
        )?;
        if !is_empty_path(&self.ca_file) && !self.ca_file.is_file() {
            return Err(ConfigError::new(
                "ca_file",
                format!(
                    "{} is not a file; give the PEM file of the certificate authority",
                    self.ca_file.display()
                ),
            ));
        }
        if !(1..=300).contains(&self.timeout_seconds) {
            return Err(ConfigError::new("timeout_seconds", "must be 1 to 300"));
        }
        match kind {
            Webhook | Slack | Mattermost => {
                check_url(self.url.expose())?;
                if kind == Webhook {
                    crate::sign::secret_key(self.secret.expose())
                        .map_err(|why| ConfigError::new("secret", why))?;
                }
            }
            Email => self.validate_email()?,
            Syslog => {
                if self.address.is_empty() {
                    return Err(ConfigError::new(
                        "address",
                        "is required for a syslog channel: the receiver as HOST:PORT, e.g. \"127.0.0.1:514\"",
                    ));
                }
                check_host_port(&self.address).map_err(|why| ConfigError::new("address", why))?;
                if self.facility > 23 {
                    return Err(ConfigError::new(
                        "facility",
                        "must be 0 to 23 (16 to 23 are local0 to local7)",
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_email(&self) -> Result<(), ConfigError> {
        if self.host.is_empty() {
            return Err(ConfigError::new(
                "host",
                "is required for an email channel: the SMTP server's name, e.g. \"smtp.example.org\"",
            ));
        }
        if self.host.len() > 253 || self.host.contains(['/', ' ', ':']) && !is_ip(&self.host) {
            return Err(ConfigError::new(
                "host",
                "must be a host name or an IP address, without a port (set `port`)",
            ));
        }
        if self.from.is_empty() {
            return Err(ConfigError::new(
                "from",
                "is required for an email channel, e.g. \"Nectar <nectar@example.org>\"",
            ));
        }
        self.from.parse::<lettre::message::Mailbox>().map_err(|e| {
            ConfigError::new("from", format!("{:?} is not an address: {e}", self.from))
        })?;
        if self.to.is_empty() {
            return Err(ConfigError::new(
                "to",
                "is required for an email channel: a list of addresses, e.g. [\"soc@example.org\"]",
            ));
        }
        for (i, to) in self.to.iter().enumerate() {
            to.parse::<lettre::message::Mailbox>().map_err(|e| {
                ConfigError::new(format!("to[{i}]"), format!("{to:?} is not an address: {e}"))
            })?;
        }
        if self.username.is_empty() != self.password.is_empty() {
            return Err(ConfigError::new(
                if self.username.is_empty() {
                    "username"
                } else {
                    "password"
                },
                "set both `username` and `password` to log in, or neither",
            ));
        }
        if !self.username.is_empty() && self.tls == SmtpTls::None && !is_loopback(&self.host) {
            return Err(ConfigError::new(
                "tls",
                "`none` would send the password in clear to another host; use \"starttls\" or \"tls\"",
            ));
        }
        Ok(())
    }
}
fn check_url(url: &str) -> Result<(), ConfigError> {
    if url.is_empty() {
        return Err(ConfigError::new(
            "url",
            "is required for this type: the receiver's http(s) URL",
        ));
    }
    // The URL is a secret: the error shows its scheme, never the rest.
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        ConfigError::new(
            "url",
            format!("is not a URL ({e}); write e.g. \"https://hooks.example.org/...\""),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ConfigError::new(
            "url",
            format!(
                "must be an http:// or https:// URL with a host, not {}:",
                parsed.scheme()
            ),
        ));
    }
    Ok(())
}

/// Checks `HOST:PORT` without resolving it (the name is looked up at each send).
fn check_host_port(text: &str) -> Result<(), String> {
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(format!(
            "{text:?} has no port; write HOST:PORT, e.g. \"127.0.0.1:514\""
        ));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(['/', ' ']) {
        return Err(format!("{text:?}: the host is missing or not a name"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(format!("{text:?}: the port must be 1 to 65535")),
    }
}

fn is_ip(host: &str) -> bool {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok()
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
