//! The configuration file: one TOML file, every key with a default, so `nectar serve`
//! runs with no file at all.
//!
//! Each section is owned by the crate that uses it (`[server]` by `nectar-web`,
//! `[store]` by `nectar-store`, `[honeypot]` by `nectar-honeypot`, ...), as a
//! serde struct whose doc comments are the user documentation; this file puts
//! them together with the few keys of the binary itself. Unknown keys, wrong types
//! and impossible values are refused with a message naming the key
//! (`server.listen: ...`), which the binary turns into exit code 2. `nectar
//! config` prints the effective configuration as a commented file
//! ([`crate::config_print`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use nectar_event::config::{ConfigError, Listener, WithinSection, check_listeners};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use nectar_event::config::parse_listen;

use crate::exit::usage;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where Nectar keeps its database (nectar.db), logs and keys.
    pub data_dir: PathBuf,
    /// Name of this installation in the events it produces itself.
    pub sensor_name: String,
    /// The web UI and the API.
    pub server: nectar_web::ServerConfig,
    /// The database.
    pub store: nectar_store::StoreSection,
    /// The JSON-lines copy of every stored event.
    pub event_log: nectar_capture::config::EventLogConfig,
    /// Nectar's own log (stderr).
    pub log: LogConfig,
    /// The honeypots `serve` runs.
    pub honeypot: nectar_honeypot::config::HoneypotSection,
    /// Network anomaly detection: counters per time window, SPOT on each
    /// statistic. SPOT's settings here are the defaults of every statistic;
    /// override them for one in a table `[detect.stat.NAME]`, e.g.
    /// `[detect.stat.R_SYN]` with `q = 1e-5`.
    pub detect: nectar_detect::DetectConfig,
    /// Live detection in `nectar serve` (off unless a source is set).
    pub capture: crate::detect_cfg::CaptureConfig,
    /// Where the detector's windows and alarms go besides the store.
    pub sinks: crate::detect_cfg::SinksConfig,
    /// Sigma rules that turn committed events into alerts.
    pub rules: nectar_rules::RulesSection,
    /// Notifications: who is told when an alert is raised (channels and the
    /// routes that choose them; see README "Notifications").
    pub notify: nectar_notify::NotifyConfig,
    /// Hosts and subnets: which networks are ours (passive discovery), which
    /// may be scanned with nmap, and the scan profiles (see README "Hosts and
    /// scans").
    pub inventory: nectar_inventory::InventorySection,
    /// Per-device behaviour: windows of what each device of `[inventory]
    /// networks` does, its learnt profile, `device.anomaly` and
    /// `device.silent` (see README "Device behaviour"; `nectar analyze` only
    /// for now).
    pub devices: nectar_devices::DevicesSection,
    /// A remote sensor (`nectar sensor`): its spool (see README "Remote
    /// sensors").
    pub sensor: crate::sensor_cfg::SensorSection,
    /// The sample fetcher (off by default): downloads the URLs attackers
    /// `wget`/`curl` in the honeypots' shells, outside their sessions, with its
    /// own egress rules, and keeps the files by SHA-256 like uploads.
    pub fetcher: nectar_pipeline::fetcher::FetcherConfig,
    /// Enrichment of source addresses: GeoIP and ASN databases (MMDB files)
    /// and reputation lists (see README "Enrichment"). Nothing is fetched
    /// unless a list gives a `url`.
    pub enrich: nectar_enrich::EnrichSection,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./nectar-data"),
            sensor_name: "nectar".into(),
            server: Default::default(),
            store: Default::default(),
            event_log: Default::default(),
            log: LogConfig::default(),
            honeypot: Default::default(),
            detect: Default::default(),
            capture: Default::default(),
            sinks: Default::default(),
            rules: Default::default(),
            notify: Default::default(),
            inventory: Default::default(),
            devices: Default::default(),
            sensor: Default::default(),
            fetcher: Default::default(),
            enrich: Default::default(),
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// error, warn, info, debug, trace, or a filter like "info,nectar_store=debug".
    /// The RUST_LOG environment variable overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
        }
    }
}

impl LogConfig {
    /// Checks the filter; keys are relative to `[log]`.
    fn validate(&self) -> Result<(), ConfigError> {
        tracing_subscriber::EnvFilter::try_new(&self.level)
            .map(drop)
            .map_err(|e| ConfigError::new("level", e.to_string()))
    }
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
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }

    /// Checks values that parse but cannot work; the error names the full key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::new("data_dir", "must not be empty"));
        }
        if self.data_dir.exists() && !self.data_dir.is_dir() {
            return Err(ConfigError::new(
                "data_dir",
                format!(
                    "{} exists and is not a directory; choose another path",
                    self.data_dir.display()
                ),
            ));
        }
        if self.sensor_name.trim().is_empty() || self.sensor_name.len() > 128 {
            return Err(ConfigError::new("sensor_name", "must be 1 to 128 bytes"));
        }
        self.server.validate().within("server")?;
        self.store.validate().within("store")?;
        self.event_log.validate().within("event_log")?;
        self.log.validate().within("log")?;
        self.honeypot.validate().within("honeypot")?;
        self.detect.validate().within("detect")?;
        self.capture.validate().within("capture")?;
        self.sinks.validate().within("sinks")?;
        self.rules.validate().within("rules")?;
        self.notify.validate().within("notify")?;
        self.inventory.validate().within("inventory")?;
        self.devices.validate().within("devices")?;
        self.sensor.validate().within("sensor")?;
        self.fetcher.validate().within("fetcher")?;
        self.enrich.validate().within("enrich")
    }

    /// Every address `serve` will listen on, under its full key.
    pub fn listeners(&self) -> Vec<Listener> {
        let server = self
            .server
            .listeners()
            .into_iter()
            .map(|l| l.within("server"));
        let honeypots = self
            .honeypot
            .listeners()
            .into_iter()
            .map(|l| l.within("honeypot"));
        server.chain(honeypots).collect()
    }

    /// Refuses two listeners that cannot both be bound (same port on overlapping
    /// addresses), naming both keys: checked at start, after the flags that move
    /// listeners are applied, so that a clash is an exit code 2 and not a honeypot
    /// that silently did not start.
    pub fn check_listeners(&self) -> Result<(), ConfigError> {
        check_listeners(&self.listeners())
    }

    /// The JSON-lines log file.
    pub fn event_log_path(&self) -> PathBuf {
        self.event_log.path_in(&self.data_dir)
    }

    /// The configuration as a commented TOML file a user can save and edit.
    pub fn to_commented_toml(&self) -> Result<String, toml::ser::Error> {
        crate::config_print::commented_toml(self)
    }
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
    use nectar_event::config::ListenAddr;
    use nectar_store::Durability;

    use super::*;

    /// A value as a TOML literal.
    fn lit<T: Serialize + ?Sized>(value: &T) -> String {
        toml::Value::try_from(value).unwrap().to_string()
    }

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
        let text = config.to_commented_toml().unwrap();
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
                "[inventory]\nnetworks = [\"192.0.2.0/33\"]\n",
                "inventory.networks[0]",
                false,
            ),
            (
                "[inventory]\nscan_scope = [\"nope\"]\n",
                "inventory.scan_scope[0]",
                false,
            ),
            (
                "[inventory]\ngone_after = \"soon\"\n",
                "inventory.gone_after",
                false,
            ),
            (
                "[sinks.influxdb]\nenabled = true\nurl = \"https://x\"\n",
                "sinks.influxdb.url",
                false,
            ),
            (
                "[[enrich.lists]]\nname = \"x\"\ncategory = \"scanner\"\n",
                "enrich.lists[0].path",
                false,
            ),
            (
                "[enrich]\ncheck_every = \"often\"\n",
                "enrich.check_every",
                false,
            ),
            (
                "[enrich.dns]\nreverse = true\nservers = [\"resolver.local\"]\n",
                "enrich.dns.servers[0]",
                false,
            ),
            (
                "[enrich.dns]\nconcurrency = 0\n",
                "enrich.dns.concurrency",
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
    fn the_defaults_listen_on_distinct_ports_and_a_clash_names_both_keys() {
        let mut config = Config::default();
        config.check_listeners().unwrap();
        let keys: Vec<String> = config
            .listeners()
            .iter()
            .map(|l| l.key.to_string())
            .collect();
        assert_eq!(
            keys,
            [
                "server.listen",
                "honeypot.ssh.listen",
                "honeypot.telnet.listen",
                "honeypot.http.listen"
            ]
        );
        config.honeypot.http.tls.enabled = true;
        config.honeypot.http.tls.listen = "127.0.0.1:2323".parse().unwrap();
        let err = config.check_listeners().unwrap_err().to_string();
        assert!(
            err.contains("`honeypot.http.tls.listen`") && err.contains("`honeypot.telnet.listen`"),
            "{err}"
        );
        config.honeypot.telnet.enabled = false;
        config.check_listeners().unwrap();
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
