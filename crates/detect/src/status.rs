//! What the live detector reports and how it is controlled: the typed
//! [`DetectorStatus`] behind `GET /api/v1/detect/stats` and the Detection
//! page, and the [`DetectControl`] seam the web crate calls.
//!
//! Both live here, in the pure detection crate, so the web crate can read
//! the status field by field without depending on the runtime that
//! produces it (`nectar-pipeline`, with its threads and sinks).
#![forbid(unsafe_code)]

use serde::Serialize;

use crate::monitor::StatStatus;

/// The live detector's state, as the API serves it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectorStatus {
    /// Whether the capture is running.
    pub running: bool,
    /// What is captured: `interface eth0` or `file /path.pcap`.
    pub source: String,
    /// Window width, e.g. `1s`.
    pub window: String,
    /// Why the capture failed or could not start, if it did.
    pub error: Option<String>,
    /// Packets read by the current (or last) run.
    pub packets: u64,
    /// Windows closed.
    pub windows: u64,
    /// Alarms raised.
    pub alarms: u64,
    /// Alarm events the event bus could not take (full queue); counted, not stored.
    pub alarms_dropped: u64,
    /// Packets that did not decode completely.
    pub decode_errors: u64,
    /// The InfluxDB sink's counters (null when it is off or not started).
    pub influxdb: Option<SinkCounters>,
    /// The windows JSON-lines sink's counters (null when it is off or not started).
    pub windows_jsonl: Option<SinkCounters>,
    /// End of the last closed window (RFC 3339), null before the first.
    pub last_window_end: Option<String>,
    /// Per watched statistic, its state and recent windows.
    pub stats: Vec<StatReport>,
}

/// One statistic: its monitor's state and its recent windows for charts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatReport {
    /// The monitor's state (flattened into this object).
    #[serde(flatten)]
    pub status: StatStatus,
    /// The most recent windows, oldest first (at most `capture.history`).
    pub history: Vec<HistoryPoint>,
}

/// One window of one statistic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// Start of the window (RFC 3339).
    pub window_start: Option<String>,
    /// The statistic's value (null when the window had none).
    pub value: Option<f64>,
    /// Upper threshold in force (null while learning).
    pub threshold_up: Option<f64>,
    /// Lower threshold in force (null while learning).
    pub threshold_down: Option<f64>,
}

/// Counters every sink of the detector keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SinkCounters {
    /// Records (points, lines) written.
    pub written: u64,
    /// Records dropped: queue or buffer full, refused by the server.
    pub dropped: u64,
    /// Failed write attempts.
    pub errors: u64,
}

/// What the API can ask of the live detector; `nectar-pipeline`'s detector
/// implements it and the web crate holds it as a trait object.
pub trait DetectControl: Send + Sync {
    /// The current state (copies a bounded history: call it off async workers).
    fn status(&self) -> DetectorStatus;
    /// Starts capturing; `Err` says why not (already running, no permission).
    fn start(&self) -> Result<(), String>;
    /// Stops capturing (models are saved); `Err` when not running.
    fn stop(&self) -> Result<(), String>;
}
