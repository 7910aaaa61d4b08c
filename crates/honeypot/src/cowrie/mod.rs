//! The optional Cowrie-format log (`[honeypot.cowrie]`): every SSH and Telnet
//! honeypot event also written as Cowrie's JSON lines ([`format`]), in a file
//! rotated by size like the event log.
//!
//! It sits between the honeypots and the event bus: honeypots send to the
//! [`EventSender`] that [`CowrieSink::start`] returns; its task writes the Cowrie
//! lines of a batch with one `write`, then passes the events on to the bus
//! unchanged. Nothing of it runs in the store's ingest path, and nothing runs
//! when it is off (the honeypots then send to the bus directly).

pub mod format;

use std::path::{Path, PathBuf};

use nectar_event::Event;
use nectar_store::{EventSender, JsonlConfig, JsonlLog};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::Receiver;
use tokio::task::JoinHandle;
use tracing::warn;

pub use format::CowrieFormat;

/// `[honeypot.cowrie]`: the Cowrie-format log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CowrieOutputConfig {
    /// Write honeypot events in Cowrie's JSON format too.
    pub enabled: bool,
    /// The file; relative paths are inside the data directory.
    pub path: PathBuf,
    /// Rotate when the file would grow past this many bytes (0: never).
    pub max_bytes: u64,
    /// Rotated files kept (`cowrie.json.1` ..).
    pub keep: u32,
}

impl Default for CowrieOutputConfig {
    fn default() -> Self {
        CowrieOutputConfig {
            enabled: false,
            path: PathBuf::from("cowrie.json"),
            max_bytes: 256 * 1024 * 1024,
            keep: 5,
        }
    }
}

impl CowrieOutputConfig {
    /// Checks values; errors name the key relative to the section.
    pub fn validate(&self) -> Result<(), String> {
        if self.enabled && self.path.as_os_str().is_empty() {
            return Err("key `path`: must not be empty".into());
        }
        if self.keep > 1000 {
            return Err("key `keep`: at most 1000".into());
        }
        Ok(())
    }
}

/// Events handled per write: what is queued when the task wakes, up to this.
const BATCH: usize = 1024;

/// The running Cowrie log.
pub struct CowrieSink {
    task: JoinHandle<()>,
}

impl CowrieSink {
    /// Opens the log (`config.path` under `data_dir` when relative) and starts
    /// the task; returns the sender the honeypots should use. Its events reach
    /// `bus` after their Cowrie lines are written. The sensor's UUID (Cowrie's
    /// `uuid` field) is kept in `data_dir/cowrie-sensor-uuid`.
    pub fn start(
        config: &CowrieOutputConfig,
        data_dir: &Path,
        bus: EventSender,
    ) -> Result<(CowrieSink, EventSender), crate::Error> {
        let path = data_dir.join(&config.path);
        let log = JsonlLog::open(JsonlConfig {
            path: path.clone(),
            max_bytes: config.max_bytes,
            keep: config.keep,
        })
        .map_err(|e| crate::Error::Config(format!("cowrie log {}: {e}", path.display())))?;
        let uuid = sensor_uuid(data_dir)?;
        let (tx, rx) = EventSender::channel(65_536);
        let task = tokio::spawn(run(rx, log, CowrieFormat::new(uuid), bus));
        Ok((CowrieSink { task }, tx))
    }

    /// Waits until every event sent before the honeypots stopped is written and
    /// passed on (the honeypots' senders must be gone).
    pub async fn finish(self) {
        let _ = self.task.await;
    }
}

async fn run(
    mut rx: Receiver<Event>,
    mut log: JsonlLog,
    mut format: CowrieFormat,
    bus: EventSender,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut lines = Vec::new();
    let mut failed = false;
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        lines.clear();
        for event in &batch {
            format.write(event, &mut lines);
        }
        if !lines.is_empty()
            && let Err(e) = log.append(&lines)
        {
            // A full disk must not stop the honeypots: their events still go on.
            if !failed {
                warn!(error = %e, path = %log.path().display(), "Cannot write the Cowrie log.");
            }
            failed = true;
        }
        for event in batch.drain(..) {
            bus.send(event).await;
        }
    }
}

/// A UUID for this sensor, made on first use and kept in the data directory.
fn sensor_uuid(data_dir: &Path) -> Result<String, crate::Error> {
    let path = data_dir.join("cowrie-sensor-uuid");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(id) = uuid::Uuid::parse_str(text.trim())
    {
        return Ok(id.hyphenated().to_string());
    }
    let id = uuid::Uuid::now_v7().hyphenated().to_string();
    std::fs::create_dir_all(data_dir)
        .and_then(|()| std::fs::write(&path, format!("{id}\n")))
        .map_err(|e| crate::Error::Config(format!("{}: {e}", path.display())))?;
    Ok(id)
}
