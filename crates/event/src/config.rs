//! What every configuration section shares: the one error type, whose key path
//! each enclosing section extends ([`ConfigError::within`]), the listening
//! addresses a section claims (so that two listeners on one port are refused
//! before anything binds), and [`Sensitive`] values that are never printed.
//!
//! It lives here because every crate that owns a section already depends on
//! `nectar-event`; it knows nothing of files or formats (the binary parses the
//! TOML and prints `nectar config`).

use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A dotted key of the configuration file, built from the inside out: a section
/// names keys relative to itself and each enclosing section prepends its name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(Vec<Cow<'static, str>>);

impl KeyPath {
    /// The key `name` relative to the section that reports it; `name` may itself be
    /// dotted (`tls.listen`).
    pub fn new(name: impl Into<Cow<'static, str>>) -> KeyPath {
        KeyPath(vec![name.into()])
    }

    /// The same key seen from the section that contains `section`.
    pub fn within(mut self, section: impl Into<Cow<'static, str>>) -> KeyPath {
        self.0.insert(0, section.into());
        self
    }

    /// Whether the key is the file's root (an error about the file as a whole).
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(segment)?;
        }
        Ok(())
    }
}

/// A value that parses but cannot work, or two settings that contradict each
/// other; `key` names the setting from wherever the error has reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The key, relative to the section that last handled the error.
    pub key: KeyPath,
    /// What is wrong and what is accepted.
    pub reason: String,
}

impl ConfigError {
    /// An error about `key` (relative to the reporting section).
    pub fn new(key: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            key: KeyPath::new(key),
            reason: reason.into(),
        }
    }

    /// The same error seen from the section that contains `section`.
    pub fn within(mut self, section: impl Into<Cow<'static, str>>) -> ConfigError {
        self.key = self.key.within(section);
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_root() {
            f.write_str(&self.reason)
        } else {
            write!(f, "key `{}`: {}", self.key, self.reason)
        }
    }
}

/// [`ConfigError::within`] for a section's result: `ssh.validate().within("ssh")?`.
pub trait WithinSection<T> {
    /// Prepends `section` to the key of an error.
    fn within(self, section: &'static str) -> Result<T, ConfigError>;
}

impl<T> WithinSection<T> for Result<T, ConfigError> {
    fn within(self, section: &'static str) -> Result<T, ConfigError> {
        self.map_err(|e| e.within(section))
    }
}

/// An address a section will listen on, under the key that sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// The key, relative to the section that reports it.
    pub key: KeyPath,
    /// The address and port.
    pub addr: SocketAddr,
}

impl Listener {
    /// `addr`, set by `key` (relative to the reporting section).
    pub fn new(key: impl Into<Cow<'static, str>>, addr: SocketAddr) -> Listener {
        Listener {
            key: KeyPath::new(key),
            addr,
        }
    }

    /// The same listener seen from the section that contains `section`.
    pub fn within(mut self, section: impl Into<Cow<'static, str>>) -> Listener {
        self.key = self.key.within(section);
        self
    }

    /// Whether both cannot be bound at once: the same port (not 0, which the system
    /// picks) on the same address, or on a wildcard address that covers the other
    /// (`0.0.0.0` covers every IPv4 address; `[::]` every address, as Linux binds
    /// it dual-stack).
    pub fn clashes_with(&self, other: &Listener) -> bool {
        let (a, b) = (self.addr, other.addr);
        if a.port() == 0 || a.port() != b.port() {
            return false;
        }
        let covers = |wide: SocketAddr, narrow: SocketAddr| {
            wide.ip().is_unspecified() && (wide.is_ipv6() || narrow.is_ipv4())
        };
        a.ip() == b.ip() || covers(a, b) || covers(b, a)
    }
}

/// Refuses two listeners that cannot both be bound, naming both keys.
pub fn check_listeners(listeners: &[Listener]) -> Result<(), ConfigError> {
    for (i, later) in listeners.iter().enumerate() {
        if let Some(earlier) = listeners[..i].iter().find(|l| l.clashes_with(later)) {
            return Err(ConfigError {
                key: later.key.clone(),
                reason: format!(
                    "{} overlaps `{}` = {}: two listeners cannot share a port; give one of them another port",
                    later.addr, earlier.key, earlier.addr
                ),
            });
        }
    }
    Ok(())
}

/// A `HOST:PORT` to listen on, read with an error message that says what is
/// expected (serde's own says only "invalid socket address syntax").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenAddr(pub SocketAddr);

impl<'de> Deserialize<'de> for ListenAddr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_listen(&text)
            .map(ListenAddr)
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for ListenAddr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl schemars::JsonSchema for ListenAddr {
    fn schema_name() -> Cow<'static, str> {
        "ListenAddr".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
}

/// Parses `HOST:PORT` (`127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:0`).
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some((host, port)) = text.rsplit_once(':')
        && host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok()
    {
        return Err(format!(
            "port {port:?} is not a number from 0 to 65535 (in {text:?})"
        ));
    }
    Err(format!(
        "{text:?} is not an IP address and port, e.g. \"127.0.0.1:8080\" or \"[::1]:8080\""
    ))
}

/// What is shown in place of a secret that is set.
pub const REDACTED: &str = "<redacted>";

/// A secret setting (a password, an API token): read from the file like any
/// string, but shown as [`REDACTED`] by `Debug`, `Display` and `Serialize`, so it
/// reaches neither `nectar config` nor a log line. An empty one shows as empty
/// (there is nothing to hide, and "not set" is worth seeing).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Sensitive(String);

impl Sensitive {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Sensitive {
        Sensitive(secret.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether no secret is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn shown(&self) -> &str {
        if self.0.is_empty() { "" } else { REDACTED }
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.shown(), f)
    }
}

impl fmt::Display for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.shown())
    }
}

impl Serialize for Sensitive {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.shown())
    }
}

impl<'de> Deserialize<'de> for Sensitive {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == REDACTED {
            return Err(serde::de::Error::custom(format!(
                "{REDACTED:?} stands for a secret `nectar config` does not print; write the secret itself"
            )));
        }
        Ok(Sensitive(text))
    }
}

impl schemars::JsonSchema for Sensitive {
    fn schema_name() -> Cow<'static, str> {
        "Sensitive".into()
    }

    fn inline_schema() -> bool {
        true
    }

    /// A string that is written, never read back (JSON Schema's `writeOnly`):
    /// `nectar config` prints it commented out.
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "writeOnly": true })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_grow_outwards() {
        let err = ConfigError::new("tls.listen", "must differ from `listen`")
            .within("http")
            .within("honeypot");
        assert_eq!(
            err.to_string(),
            "key `honeypot.http.tls.listen`: must differ from `listen`"
        );
        let res: Result<(), ConfigError> = Err(ConfigError::new("q", "too big"));
        assert_eq!(
            res.within("detect").unwrap_err().key.to_string(),
            "detect.q"
        );
    }

    #[test]
    fn listeners_clash_on_one_port_unless_the_system_picks() {
        let l = |key: &'static str, addr: &str| Listener::new(key, addr.parse().unwrap());
        let clash = |a: &str, b: &str| l("a", a).clashes_with(&l("b", b));
        assert!(clash("127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(clash("0.0.0.0:8080", "127.0.0.1:8080"));
        assert!(clash("127.0.0.1:8080", "0.0.0.0:8080"));
        assert!(clash("[::]:8080", "127.0.0.1:8080"));
        assert!(clash("[::]:8080", "[::1]:8080"));
        assert!(!clash("127.0.0.1:0", "127.0.0.1:0"));
        assert!(!clash("127.0.0.1:8080", "127.0.0.2:8080"));
        assert!(!clash("0.0.0.0:8080", "[::1]:8080"));
        assert!(!clash("0.0.0.0:8080", "0.0.0.0:8081"));
        let all = [
            l("server.listen", "127.0.0.1:8080"),
            l("honeypot.ssh.listen", "0.0.0.0:2222"),
            l("honeypot.telnet.listen", "0.0.0.0:8080"),
        ];
        let err = check_listeners(&all).unwrap_err();
        assert_eq!(err.key.to_string(), "honeypot.telnet.listen");
        assert!(err.reason.contains("`server.listen`"), "{err}");
        assert!(check_listeners(&all[..2]).is_ok());
    }

    #[test]
    fn secrets_are_never_shown_but_read_normally() {
        #[derive(Debug, Serialize, Deserialize)]
        struct S {
            password: Sensitive,
        }
        let s: S = serde_json::from_str(r#"{"password":"hunter2"}"#).unwrap();
        assert_eq!(s.password.expose(), "hunter2");
        for shown in [
            format!("{s:?}"),
            format!("{}", s.password),
            serde_json::to_string(&s).unwrap(),
        ] {
            assert!(
                !shown.contains("hunter2") && shown.contains(REDACTED),
                "{shown}"
            );
        }
        assert_eq!(format!("{:?}", Sensitive::default()), "\"\"");
        assert!(serde_json::from_str::<S>(r#"{"password":"<redacted>"}"#).is_err());
    }

    #[test]
    fn listen_addresses_say_what_is_expected() {
        assert!(
            parse_listen("127.0.0.1:70000")
                .unwrap_err()
                .contains("65535")
        );
        assert!(
            parse_listen("localhost")
                .unwrap_err()
                .contains("[::1]:8080")
        );
        assert_eq!(
            parse_listen("[::1]:0").unwrap(),
            "[::1]:0".parse::<SocketAddr>().unwrap()
        );
    }
}
