//! The configuration file: one TOML file, every key with a default, so `nectar serve`
//! runs with no file at all.
//!
//! Unknown keys, wrong types and impossible values are refused with a message naming
//! the key (`server.listen: ...`), which the binary turns into exit code 2.
//! `nectar config` prints the effective configuration as a commented file.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use nectar_store::Durability;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::exit::usage;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where Nectar keeps its database, logs and keys.
    pub data_dir: PathBuf,
    /// Name of this installation in the events it produces itself.
    pub sensor_name: String,
    /// The web UI and API.
    pub server: ServerConfig,
    /// The database.
    pub store: StoreSection,
    /// The JSON-lines copy of every stored event.
    pub event_log: EventLogConfig,
    /// Nectar's own log (stderr).
    pub log: LogConfig,
    /// The honeypots `serve` runs.
    pub honeypot: crate::honeypot_cfg::HoneypotSection,
    /// Network anomaly detection (windows, statistics, SPOT).
    pub detect: nectar_detect::DetectConfig,
    /// Live capture in `serve`.
    pub capture: crate::detect_cfg::CaptureConfig,
    /// Where windows and alarms go besides the store.
    pub sinks: crate::detect_cfg::SinksConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./nectar-data"),
            sensor_name: "nectar".into(),
            server: ServerConfig::default(),
            store: StoreSection::default(),
            event_log: EventLogConfig::default(),
            log: LogConfig::default(),
            honeypot: Default::default(),
            detect: Default::default(),
            capture: Default::default(),
            sinks: Default::default(),
        }
    }
}

/// `[server]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port of the web UI and API (port 0: any free port).
    pub listen: ListenAddr,
    /// Largest API request body in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    /// Most events in one posted batch; more get 413.
    pub max_batch_events: usize,
    /// How long a web login lasts, in hours.
    pub session_hours: u32,
    /// Mark cookies Secure (set when a TLS proxy is in front).
    pub secure_cookies: bool,
    /// Seconds to wait for open requests at shutdown before closing them.
    pub shutdown_grace_seconds: u64,
    /// An age identity file (the private key of `honeypot.encrypt_to`): the UI and
    /// API show captured passwords decrypted. Empty: they show "(encrypted)".
    pub identity: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: ListenAddr(SocketAddr::from(([127, 0, 0, 1], 8080))),
            max_body_bytes: 16 * 1024 * 1024,
            max_batch_events: 10_000,
            session_hours: 12,
            secure_cookies: false,
            shutdown_grace_seconds: 30,
            identity: PathBuf::new(),
        }
    }
}

/// `[store]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    /// "normal": commits survive a crash of Nectar; "full": also a power cut (slower).
    pub durability: Durability,
    /// Most events committed in one transaction.
    pub max_batch_events: usize,
    /// Milliseconds the writer waits for more events before committing (0: commit as
    /// soon as it is free; batches still grow under load).
    pub max_delay_ms: u64,
    /// Batches that may wait for the writer before producers are slowed down.
    pub queue_batches: usize,
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection {
            durability: Durability::Normal,
            max_batch_events: 5_000,
            max_delay_ms: 0,
            queue_batches: 1_024,
        }
    }
}

/// `[event_log]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventLogConfig {
    /// Write every stored event to a JSON-lines file as well.
    pub enabled: bool,
    /// The file; empty means `events.jsonl` in the data directory.
    pub path: PathBuf,
    /// Rotate when the file reaches this many bytes (0: never).
    pub max_bytes: u64,
    /// Rotated files to keep (events.jsonl.1, .2, ...).
    pub keep: u32,
}

impl Default for EventLogConfig {
    fn default() -> Self {
        EventLogConfig {
            enabled: true,
            path: PathBuf::new(),
            max_bytes: 100 * 1024 * 1024,
            keep: 5,
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// error, warn, info, debug or trace; or a filter such as "info,nectar_store=debug".
    /// The RUST_LOG environment variable wins when set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
        }
    }
}

/// A `HOST:PORT` to listen on, with an error message that says what is expected.
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

impl Config {
    /// Reads `path`, or the defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| usage(format!("cannot read config file {}: {e}", path.display())))?;
        Config::parse(&text)
            .map_err(|message| usage(format!("config file {}: {message}", path.display())))
    }

    /// Parses TOML text; the error names the key and line.
    pub fn parse(text: &str) -> Result<Config, String> {
        let deserializer =
            toml::de::Deserializer::parse(text).map_err(|e| describe_toml(text, &e))?;
        let config: Config = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let key = e.path().to_string();
            let inner = e.into_inner();
            let message = describe_toml(text, &inner);
            if key == "." || key.is_empty() {
                message
            } else {
                format!("key `{key}`: {message}")
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), String> {
        if self.data_dir.as_os_str().is_empty() {
            return Err("key `data_dir`: must not be empty".into());
        }
        if self.data_dir.exists() && !self.data_dir.is_dir() {
            return Err(format!(
                "key `data_dir`: {} exists and is not a directory; choose another path",
                self.data_dir.display()
            ));
        }
        if self.sensor_name.trim().is_empty() || self.sensor_name.len() > 128 {
            return Err("key `sensor_name`: must be 1 to 128 bytes".into());
        }
        let positive = [
            ("server.max_body_bytes", self.server.max_body_bytes as u64),
            (
                "server.max_batch_events",
                self.server.max_batch_events as u64,
            ),
            ("server.session_hours", u64::from(self.server.session_hours)),
            ("store.max_batch_events", self.store.max_batch_events as u64),
            ("store.queue_batches", self.store.queue_batches as u64),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(format!("key `{key}`: must be greater than 0"));
            }
        }
        if self.server.max_body_bytes > 1 << 30 {
            return Err("key `server.max_body_bytes`: at most 1073741824 (1 GiB)".into());
        }
        if self.server.session_hours > 24 * 90 {
            return Err("key `server.session_hours`: at most 2160 (90 days)".into());
        }
        if self.store.max_delay_ms > 10_000 {
            return Err("key `store.max_delay_ms`: at most 10000".into());
        }
        if self.event_log.enabled && self.event_log.path.is_dir() {
            return Err(format!(
                "key `event_log.path`: {} is a directory; name a file",
                self.event_log.path.display()
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(format!("key `log.level`: {e}"));
        }
        crate::honeypot_cfg::validate(self)?;
        crate::detect_cfg::validate(self)?;
        Ok(())
    }

    /// The JSON-lines log file.
    pub fn event_log_path(&self) -> PathBuf {
        if self.event_log.path.as_os_str().is_empty() {
            self.data_dir.join("events.jsonl")
        } else {
            self.event_log.path.clone()
        }
    }

    /// The configuration as a commented TOML file a user can save and edit.
    pub fn to_commented_toml(&self) -> String {
        let mut out = String::new();
        let mut line = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        line("# Nectar configuration. Every key is optional: what is shown here is the".into());
        line("# effective value (the default unless your file or flags changed it).".into());
        line("# Save as nectar.toml and run `nectar --config nectar.toml serve`.".into());
        line(String::new());
        line("# Where Nectar keeps its database (nectar.db), logs and keys.".into());
        line(format!("data_dir = {}", lit(&self.data_dir)));
        line("# Name of this installation in the events it produces itself.".into());
        line(format!("sensor_name = {}", lit(&self.sensor_name)));
        line(String::new());
        line("[server]".into());
        line("# Address and port of the web UI and the API (port 0: any free port).".into());
        line(format!("listen = {}", lit(&self.server.listen)));
        line("# Largest API request body in bytes; larger requests get 413.".into());
        line(format!("max_body_bytes = {}", self.server.max_body_bytes));
        line("# Most events in one posted batch; larger batches get 413.".into());
        line(format!(
            "max_batch_events = {}",
            self.server.max_batch_events
        ));
        line("# How long a web login lasts, in hours.".into());
        line(format!("session_hours = {}", self.server.session_hours));
        line("# Mark cookies Secure; set this when a TLS proxy is in front of Nectar.".into());
        line(format!("secure_cookies = {}", self.server.secure_cookies));
        line("# Seconds to let open requests finish at shutdown.".into());
        line(format!(
            "shutdown_grace_seconds = {}",
            self.server.shutdown_grace_seconds
        ));
        line("# An age identity file, the private key of honeypot.encrypt_to: the UI and".into());
        line("# API then show captured passwords decrypted (else \"(encrypted)\"). Keep it".into());
        line("# off the sensors; empty: none.".into());
        line(format!("identity = {}", lit(&self.server.identity)));
        line(String::new());
        line("[store]".into());
        line("# \"normal\": a committed event survives a crash of Nectar (kill -9);".into());
        line("# \"full\": it also survives a power cut (one fsync per batch, slower).".into());
        line(format!("durability = {}", lit(&self.store.durability)));
        line("# Most events committed in one transaction.".into());
        line(format!(
            "max_batch_events = {}",
            self.store.max_batch_events
        ));
        line("# Milliseconds to wait for more events before a commit (0: none; batches".into());
        line("# still grow under load because events queue while a commit runs).".into());
        line(format!("max_delay_ms = {}", self.store.max_delay_ms));
        line("# Batches that may queue for the writer before producers are slowed down.".into());
        line(format!("queue_batches = {}", self.store.queue_batches));
        line(String::new());
        line("[event_log]".into());
        line("# Also append every stored event to a JSON-lines file.".into());
        line(format!("enabled = {}", self.event_log.enabled));
        line("# The file; empty means events.jsonl in data_dir.".into());
        line(format!("path = {}", lit(&self.event_log.path)));
        line("# Rotate when the file reaches this many bytes (0: never).".into());
        line(format!("max_bytes = {}", self.event_log.max_bytes));
        line("# Rotated files to keep (events.jsonl.1 is the newest).".into());
        line(format!("keep = {}", self.event_log.keep));
        line(String::new());
        line("[log]".into());
        line(
            "# error, warn, info, debug, trace, or a filter like \"info,nectar_store=debug\"."
                .into(),
        );
        line("# The RUST_LOG environment variable overrides it.".into());
        line(format!("level = {}", lit(&self.log.level)));
        crate::honeypot_cfg::commented(self, &mut line);
        crate::detect_cfg::commented(self, &mut line);
        out
    }
}

/// A value as a TOML literal.
pub(crate) fn lit<T: Serialize + ?Sized>(value: &T) -> String {
    toml::Value::try_from(value)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| "\"\"".into())
}

/// A TOML error as one line with its line number.
fn describe_toml(text: &str, err: &toml::de::Error) -> String {
    let mut message = err.message().trim().to_owned();
    if let Some(span) = err.span() {
        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
        let _ = write!(message, " (line {line})");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn commented_output_is_complete_and_round_trips() {
        let mut config = Config::default();
        config.server.listen = ListenAddr("[::1]:9000".parse().unwrap());
        config.store.durability = Durability::Full;
        config.event_log.path = PathBuf::from("/var/log/nectar \"events\".jsonl");
        config.detect.window = "200ms".parse().unwrap();
        config.detect.stat.insert(
            "R_SYN".into(),
            nectar_detect::StatOverride {
                q: Some(1e-5),
                down: Some(true),
                ..Default::default()
            },
        );
        config.capture.interface = "eth0".into();
        let text = config.to_commented_toml();
        assert_eq!(Config::parse(&text).unwrap(), config);
        // Every key of the structure appears in the commented file.
        let full = toml::Value::try_from(&config).unwrap();
        let printed: toml::Value = toml::from_str(&text).unwrap();
        fn keys(v: &toml::Value, prefix: &str, out: &mut Vec<String>) {
            if let toml::Value::Table(t) = v {
                for (k, v) in t {
                    let key = format!("{prefix}{k}");
                    keys(v, &format!("{key}."), out);
                    out.push(key);
                }
            }
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        keys(&full, "", &mut a);
        keys(&printed, "", &mut b);
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn errors_name_the_key() {
        // (file, key named, whether the parser knows the line)
        let cases = [
            (
                "[server]\nlisten = \"127.0.0.1:70000\"\n",
                "server.listen",
                true,
            ),
            ("[server]\nlisten = \"localhost\"\n", "server.listen", true),
            ("[server]\nlistn = \"127.0.0.1:1\"\n", "listn", true),
            (
                "[server]\nmax_body_bytes = \"big\"\n",
                "server.max_body_bytes",
                true,
            ),
            (
                "[server]\nmax_body_bytes = 0\n",
                "server.max_body_bytes",
                false,
            ),
            (
                "[store]\ndurability = \"sometimes\"\n",
                "store.durability",
                true,
            ),
            ("colour = 1\n", "colour", true),
            ("[log]\nlevel = \"info,[\"\n", "log.level", false),
            ("[detect]\nwindow = \"fast\"\n", "detect.window", true),
            ("[detect]\nq = 0.5\n", "detect.q", false),
            ("[detect]\nstats = [\"R_SIN\"]\n", "detect.stats", false),
            (
                "[detect.stat.R_SYN]\nlevel = 2.0\n",
                "detect.stat.R_SYN.level",
                false,
            ),
            ("[detect.stat.NOPE]\nq = 1e-5\n", "detect.stat.NOPE", false),
            ("[capture]\nsnaplen = 1\n", "capture.snaplen", false),
            (
                "[sinks.influxdb]\nenabled = true\nurl = \"https://x\"\n",
                "sinks.influxdb.url",
                false,
            ),
        ];
        for (text, key, has_line) in cases {
            let err = Config::parse(text).unwrap_err();
            assert!(err.contains(key), "{text:?} gave {err:?}");
            assert!(
                !has_line || err.contains("line"),
                "{text:?} gave {err:?} without a line"
            );
        }
        let err = Config::parse("[server]\nlisten = \"127.0.0.1:70000\"\n").unwrap_err();
        assert!(err.contains("65535"), "{err}");
    }

    #[test]
    fn data_dir_must_be_a_directory() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let text = format!("data_dir = {}\n", lit(file.path()));
        let err = Config::parse(&text).unwrap_err();
        assert!(
            err.contains("data_dir") && err.contains("not a directory"),
            "{err}"
        );
    }
}
