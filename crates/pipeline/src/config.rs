//! The configuration sections the pipeline owns: `[capture]` (what the live
//! detector in `nectar serve` reads) and `[sinks]` (where its windows and the
//! stored alarms go besides the event store), with their checks, whose errors
//! name the key relative to the section. The doc comments are the user's
//! documentation: `nectar config` prints them.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use nectar_event::config::{ConfigError, Sensitive, WithinSection};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[capture]`: live detection in `nectar serve` (off unless a source is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    /// Capture on this interface ("eth0", "any"; needs CAP_NET_RAW). Empty: no
    /// live capture.
    pub interface: String,
    /// Or replay this pcap/pcapng file through the detector. Empty: none.
    pub file: PathBuf,
    /// Bytes kept of each packet.
    pub snaplen: u32,
    /// Promiscuous mode (see traffic not addressed to this host).
    pub promiscuous: bool,
    /// MiB of the kernel's capture ring (in blocks of 1 MiB, 2 to 1024),
    /// shared with Nectar and resident in its memory: a larger one rides out
    /// longer bursts before the kernel drops packets (counted in the
    /// detector's status). Unset: 16 in `serve`, 4 in `nectar sensor` (which
    /// should fit in 64 MiB).
    pub ring_mib: Option<u32>,
    /// Start at once; false: wait for POST /api/v1/detect/start.
    pub start: bool,
    /// Windows of statistics kept per statistic for charts and the API.
    pub history: usize,
    /// Seconds between saves of the learnt models (they are also saved at stop).
    pub save_seconds: u64,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            interface: String::new(),
            file: PathBuf::new(),
            snaplen: 262_144,
            promiscuous: true,
            ring_mib: None,
            start: true,
            history: 3_600,
            save_seconds: 300,
        }
    }
}

/// The capture ring's size when `ring_mib` is not set (`serve`).
pub const DEFAULT_RING_MIB: u32 = 16;

impl CaptureConfig {
    /// Whether a source is configured.
    pub fn enabled(&self) -> bool {
        !self.interface.is_empty() || !self.file.as_os_str().is_empty()
    }

    /// Checks values; keys are relative to `[capture]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.interface.is_empty() && !self.file.as_os_str().is_empty() {
            return Err(ConfigError::new(
                "file",
                "set either capture.interface or capture.file, not both",
            ));
        }
        if self.interface.len() >= 16 {
            return Err(ConfigError::new(
                "interface",
                "interface names are at most 15 bytes",
            ));
        }
        if !(16..=262_144).contains(&self.snaplen) {
            return Err(ConfigError::new("snaplen", "must be 16 to 262144"));
        }
        if self.ring_mib.is_some_and(|mib| !(2..=1_024).contains(&mib)) {
            return Err(ConfigError::new("ring_mib", "must be 2 to 1024"));
        }
        if self.history == 0 || self.history > 1_000_000 {
            return Err(ConfigError::new("history", "must be 1 to 1000000"));
        }
        if self.save_seconds == 0 {
            return Err(ConfigError::new("save_seconds", "must be greater than 0"));
        }
        Ok(())
    }
}

/// `[sinks]`: copies of the detector's windows and alarms.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SinksConfig {
    /// JSON-lines file of per-window statistics and thresholds. Empty: off.
    /// (Alarms are net.alarm events: they go to the store and the event log.)
    pub windows_jsonl: PathBuf,
    /// Windows and alarms written to InfluxDB (line protocol, batched, retried).
    pub influxdb: InfluxConfig,
}

impl SinksConfig {
    /// Checks values; keys are relative to `[sinks]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.influxdb.validate().within("influxdb")
    }
}

/// `[sinks.influxdb]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct InfluxConfig {
    /// Write windows and alarms to InfluxDB.
    pub enabled: bool,
    /// Base URL (plain http; put a TLS proxy in front for remote servers).
    pub url: String,
    /// 1: InfluxDB 1.x /write (database, username, password);
    /// 2: InfluxDB 2.x /api/v2/write (org, bucket, token).
    pub version: u8,
    /// 1.x: database.
    pub database: String,
    /// 1.x: user name (empty: no authentication).
    pub username: String,
    /// 1.x: password (never printed).
    pub password: Sensitive,
    /// 2.x: organisation.
    pub org: String,
    /// 2.x: bucket.
    pub bucket: String,
    /// 2.x: API token (never printed).
    pub token: Sensitive,
    /// Write a point per window, with every statistic and threshold.
    pub windows: bool,
    /// Write a point per alarm.
    pub alarms: bool,
    /// Write a point per stored event (`nectar_event`: sensor, kind, protocol
    /// and severity as tags; a count, the addresses and ports as fields), for
    /// dashboards of honeypot and sensor activity. Off by default: a honeypot
    /// under a flood stores thousands of events a second.
    pub events: bool,
    /// Most points in one write.
    pub batch_points: usize,
    /// Milliseconds to wait for more points before a write.
    pub flush_ms: u64,
    /// Points kept while InfluxDB is unreachable; the oldest are dropped and counted.
    pub max_buffer_points: usize,
}

impl Default for InfluxConfig {
    fn default() -> Self {
        InfluxConfig {
            enabled: false,
            url: "http://127.0.0.1:8086".into(),
            version: 1,
            database: "nectar".into(),
            username: String::new(),
            password: Sensitive::default(),
            org: String::new(),
            bucket: String::new(),
            token: Sensitive::default(),
            windows: true,
            alarms: true,
            events: false,
            batch_points: 500,
            flush_ms: 1_000,
            max_buffer_points: 100_000,
        }
    }
}

impl InfluxConfig {
    /// Checks values; keys are relative to `[sinks.influxdb]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.enabled {
            if !self.url.starts_with("http://") {
                return Err(ConfigError::new(
                    "url",
                    format!(
                        "{:?} must start with http:// (TLS is not built in; use a local proxy)",
                        self.url
                    ),
                ));
            }
            match self.version {
                1 if self.database.is_empty() => {
                    return Err(ConfigError::new(
                        "database",
                        "must not be empty with version 1",
                    ));
                }
                2 if self.org.is_empty() || self.bucket.is_empty() => {
                    return Err(ConfigError::new(
                        "bucket",
                        "org and bucket are needed with version 2",
                    ));
                }
                1 | 2 => {}
                v => return Err(ConfigError::new("version", format!("{v} is not 1 or 2"))),
            }
        }
        if self.batch_points == 0 || self.batch_points > 100_000 {
            return Err(ConfigError::new("batch_points", "must be 1 to 100000"));
        }
        if self.max_buffer_points < self.batch_points {
            return Err(ConfigError::new(
                "max_buffer_points",
                "must be at least batch_points",
            ));
        }
        if self.flush_ms > 600_000 {
            return Err(ConfigError::new("flush_ms", "at most 600000"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nectar_event::config::WithinSection;

    #[test]
    fn errors_name_the_key() {
        let both = CaptureConfig {
            interface: "eth0".into(),
            file: "x.pcap".into(),
            ..CaptureConfig::default()
        };
        assert_eq!(
            both.validate().within("capture").unwrap_err().to_string(),
            "key `capture.file`: set either capture.interface or capture.file, not both"
        );
        let v3 = SinksConfig {
            influxdb: InfluxConfig {
                enabled: true,
                version: 3,
                ..InfluxConfig::default()
            },
            ..SinksConfig::default()
        };
        assert_eq!(
            v3.validate().within("sinks").unwrap_err().key.to_string(),
            "sinks.influxdb.version"
        );
        assert!(CaptureConfig::default().validate().is_ok());
        assert!(SinksConfig::default().validate().is_ok());
    }
}
