//! The network-detection part of the configuration file: `[detect]` (owned by
//! `nectar-detect`), `[capture]` (what `serve` captures) and `[sinks]` (where
//! per-window statistics and alarms go besides the event store), with their
//! checks and their part of `nectar config`'s commented output.

use std::path::PathBuf;

use nectar_detect::Stat;
use serde::{Deserialize, Serialize};

use crate::config::{Config, lit};

/// `[capture]`: live detection in `nectar serve` (off unless a source is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    /// Interface to capture on (`eth0`, `any`); empty: no live capture.
    pub interface: String,
    /// Or a capture file to replay through the detector (pcap / pcapng).
    pub file: PathBuf,
    /// Bytes kept of each packet.
    pub snaplen: u32,
    /// Put the interface in promiscuous mode.
    pub promiscuous: bool,
    /// Start capturing when `serve` starts (else wait for POST /api/v1/detect/start).
    pub start: bool,
    /// Windows of statistics kept per statistic for charts.
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
            start: true,
            history: 3_600,
            save_seconds: 300,
        }
    }
}

impl CaptureConfig {
    /// Whether a source is configured.
    pub fn enabled(&self) -> bool {
        !self.interface.is_empty() || !self.file.as_os_str().is_empty()
    }
}

/// `[sinks]`: copies of the detector's windows and alarms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SinksConfig {
    /// JSON-lines file of per-window statistics and thresholds (empty: off).
    /// Alarms are events and go to the event log with every other event.
    pub windows_jsonl: PathBuf,
    /// InfluxDB.
    pub influxdb: InfluxConfig,
}

impl Default for SinksConfig {
    fn default() -> Self {
        SinksConfig {
            windows_jsonl: PathBuf::new(),
            influxdb: InfluxConfig::default(),
        }
    }
}

/// `[sinks.influxdb]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InfluxConfig {
    /// Send windows and alarms to InfluxDB.
    pub enabled: bool,
    /// Base URL of the server (http:// only: see README).
    pub url: String,
    /// API version: 1 (`/write?db=`) or 2 (`/api/v2/write?org=&bucket=`).
    pub version: u8,
    /// 1.x: database.
    pub database: String,
    /// 1.x: user name (empty: no authentication).
    pub username: String,
    /// 1.x: password.
    pub password: String,
    /// 2.x: organisation.
    pub org: String,
    /// 2.x: bucket.
    pub bucket: String,
    /// 2.x: API token.
    pub token: String,
    /// Write one point per window with every statistic and threshold.
    pub windows: bool,
    /// Write one point per alarm.
    pub alarms: bool,
    /// Most points in one write.
    pub batch_points: usize,
    /// Milliseconds to wait for more points before a write.
    pub flush_ms: u64,
    /// Points kept while InfluxDB is unreachable; older ones are dropped and counted.
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
            password: String::new(),
            org: String::new(),
            bucket: String::new(),
            token: String::new(),
            windows: true,
            alarms: true,
            batch_points: 500,
            flush_ms: 1_000,
            max_buffer_points: 100_000,
        }
    }
}

/// Checks `[detect]`, `[capture]` and `[sinks]`.
pub fn validate(c: &Config) -> Result<(), String> {
    c.detect.validate().map_err(|e| e.to_string())?;
    let cap = &c.capture;
    if !cap.interface.is_empty() && !cap.file.as_os_str().is_empty() {
        return Err(
            "key `capture.file`: set either capture.interface or capture.file, not both".into(),
        );
    }
    if cap.interface.len() >= 16 {
        return Err("key `capture.interface`: interface names are at most 15 bytes".into());
    }
    if !(16..=262_144).contains(&cap.snaplen) {
        return Err("key `capture.snaplen`: must be 16 to 262144".into());
    }
    if cap.history == 0 || cap.history > 1_000_000 {
        return Err("key `capture.history`: must be 1 to 1000000".into());
    }
    if cap.save_seconds == 0 {
        return Err("key `capture.save_seconds`: must be greater than 0".into());
    }
    let i = &c.sinks.influxdb;
    if i.enabled {
        if !i.url.starts_with("http://") {
            return Err(format!(
                "key `sinks.influxdb.url`: {:?} must start with http:// (TLS is not built in; use a local proxy)",
                i.url
            ));
        }
        match i.version {
            1 if i.database.is_empty() => {
                return Err(
                    "key `sinks.influxdb.database`: must not be empty with version 1".into(),
                );
            }
            2 if i.org.is_empty() || i.bucket.is_empty() => {
                return Err(
                    "key `sinks.influxdb.bucket`: org and bucket are needed with version 2".into(),
                );
            }
            1 | 2 => {}
            v => return Err(format!("key `sinks.influxdb.version`: {v} is not 1 or 2")),
        }
    }
    if i.batch_points == 0 || i.batch_points > 100_000 {
        return Err("key `sinks.influxdb.batch_points`: must be 1 to 100000".into());
    }
    if i.max_buffer_points < i.batch_points {
        return Err("key `sinks.influxdb.max_buffer_points`: must be at least batch_points".into());
    }
    if i.flush_ms > 600_000 {
        return Err("key `sinks.influxdb.flush_ms`: at most 600000".into());
    }
    Ok(())
}

/// The commented `[detect]`, `[capture]` and `[sinks]` sections.
pub fn commented(c: &Config, line: &mut dyn FnMut(String)) {
    let d = &c.detect;
    line(String::new());
    line("[detect]".into());
    line("# Network anomaly detection: counters per time window, SPOT on each statistic.".into());
    line("# Window width in capture time, e.g. \"1s\", \"200ms\".".into());
    line(format!("window = {}", lit(&d.window)));
    line("# Statistics watched; all of them:".into());
    line(format!(
        "#   {}",
        Stat::ALL
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    line(format!("stats = {}", lit(&d.stats)));
    line("# Top sources, destinations and ports named in an alarm (0 to 32).".into());
    line(format!("top_n = {}", d.top_n));
    line("# Fewest packets in a window for an alarm on a ratio (every statistic but".into());
    line("# TRAFFIC): a ratio over a handful of packets is too coarse to judge.".into());
    line(format!("min_packets = {}", d.min_packets));
    line("# Windows in a row beyond its threshold after which a statistic is taken".into());
    line("# to have changed for good and learns afresh (0: never; alarms go on).".into());
    line(format!("relearn_after = {}", d.relearn_after));
    line("# SPOT defaults for every statistic; override per statistic in a table".into());
    line("# [detect.stat.NAME], e.g. [detect.stat.R_SYN] with q = 1e-5.".into());
    line("# Alarm probability: an alarm when the fitted tail gives the value a".into());
    line("# probability below q (smaller: fewer alarms). In (0, 1 - level).".into());
    line(format!("q = {}", lit(&d.q)));
    line("# Quantile of the learnt values where the tail starts, in (0, 1).".into());
    line(format!("level = {}", lit(&d.level)));
    line("# Windows learnt before monitoring starts (after `depth` more). With a".into());
    line("# short baseline `nectar analyze` learns on what there is and says so.".into());
    line(format!("n_init = {}", d.n_init));
    line("# Most recent excesses kept to fit the tail.".into());
    line(format!("max_excess = {}", d.max_excess));
    line("# Alarms on values far above normal.".into());
    line(format!("up = {}", d.up));
    line("# Alarms on values far below normal.".into());
    line(format!("down = {}", d.down));
    line("# Moving-average length (windows) that SPOT's drift correction subtracts.".into());
    line(format!("depth = {}", d.depth));
    for (name, o) in &d.stat {
        line(String::new());
        line(format!("[detect.stat.{name}]"));
        let fields: [(&str, Option<String>); 7] = [
            ("q", o.q.map(|v| lit(&v))),
            ("level", o.level.map(|v| lit(&v))),
            ("n_init", o.n_init.map(|v| v.to_string())),
            ("max_excess", o.max_excess.map(|v| v.to_string())),
            ("up", o.up.map(|v| v.to_string())),
            ("down", o.down.map(|v| v.to_string())),
            ("depth", o.depth.map(|v| v.to_string())),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                line(format!("{k} = {v}"));
            }
        }
    }
    let cap = &c.capture;
    line(String::new());
    line("[capture]".into());
    line("# Live detection in `nectar serve`: capture on this interface (\"eth0\",".into());
    line("# \"any\"; needs CAP_NET_RAW). Empty: no capture.".into());
    line(format!("interface = {}", lit(&cap.interface)));
    line("# Or replay this pcap/pcapng file through the detector. Empty: none.".into());
    line(format!("file = {}", lit(&cap.file)));
    line("# Bytes kept of each packet.".into());
    line(format!("snaplen = {}", cap.snaplen));
    line("# Promiscuous mode (see traffic not addressed to this host).".into());
    line(format!("promiscuous = {}", cap.promiscuous));
    line("# Start at once; false: wait for POST /api/v1/detect/start.".into());
    line(format!("start = {}", cap.start));
    line("# Windows of statistics kept per statistic for charts and the API.".into());
    line(format!("history = {}", cap.history));
    line("# Seconds between saves of the learnt models (also saved at stop).".into());
    line(format!("save_seconds = {}", cap.save_seconds));
    let s = &c.sinks;
    let i = &s.influxdb;
    line(String::new());
    line("[sinks]".into());
    line("# JSON-lines file of per-window statistics and thresholds. Empty: off.".into());
    line("# (Alarms are net.alarm events: they go to the store and the event log.)".into());
    line(format!("windows_jsonl = {}", lit(&s.windows_jsonl)));
    line(String::new());
    line("[sinks.influxdb]".into());
    line("# Write windows and alarms to InfluxDB (line protocol, batched, retried).".into());
    line(format!("enabled = {}", i.enabled));
    line("# Base URL (plain http; put a TLS proxy in front for remote servers).".into());
    line(format!("url = {}", lit(&i.url)));
    line("# 1: InfluxDB 1.x /write (database, username, password);".into());
    line("# 2: InfluxDB 2.x /api/v2/write (org, bucket, token).".into());
    line(format!("version = {}", i.version));
    line(format!("database = {}", lit(&i.database)));
    line(format!("username = {}", lit(&i.username)));
    line(format!("password = {}", lit(&i.password)));
    line(format!("org = {}", lit(&i.org)));
    line(format!("bucket = {}", lit(&i.bucket)));
    line(format!("token = {}", lit(&i.token)));
    line("# Write a point per window (every statistic and threshold) / per alarm.".into());
    line(format!("windows = {}", i.windows));
    line(format!("alarms = {}", i.alarms));
    line("# Most points per write; milliseconds to wait for more before writing.".into());
    line(format!("batch_points = {}", i.batch_points));
    line(format!("flush_ms = {}", i.flush_ms));
    line("# Points kept while InfluxDB is unreachable (oldest dropped and counted).".into());
    line(format!("max_buffer_points = {}", i.max_buffer_points));
}
