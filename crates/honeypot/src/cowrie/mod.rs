//! The optional Cowrie-format log (`[honeypot.cowrie]`): every SSH and Telnet
//! honeypot event also written as Cowrie's JSON lines ([`format`]), in a file
//! rotated by size like the event log.
//!
//! Where it sits, so that every stored honeypot event reaches it exactly once:
//!
//! - Events of this process's honeypots: between the honeypots and the event bus.
//!   Honeypots send to the [`EventSender`] that [`CowrieSink::start`] returns; its
//!   task writes the Cowrie lines of a batch with one `write`, then passes the
//!   events on to the bus unchanged. They are new by construction (fresh ids).
//! - Events remote sensors post (`POST /api/v1/events`): they do not pass the bus
//!   but go to the writer directly, so the API hands a copy of the honeypot ones
//!   to [`CowrieSink::copies`] once the writer has committed them. Copies are only
//!   written, never passed on (they are stored already). A batch the writer found
//!   wholly stored before (a resend) is not copied; for a batch partly resent,
//!   the sink skips the ids it copied recently ([`MAX_RECENT_COPIES`]).
//!
//! The writer itself (the one point every event passes) would be the other
//! place, but it is the store's hot loop, and it knows nothing of formats;
//! nothing of this runs in the store's ingest path, and nothing runs when it is
//! off (the honeypots then send to the bus directly).

pub mod format;

use std::collections::{HashSet, VecDeque};
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

/// Ids of copied (remote) events remembered to skip a resend; older ones are
/// forgotten first, so the memory is bounded (16 bytes each).
pub const MAX_RECENT_COPIES: usize = 262_144;

/// The running Cowrie log.
pub struct CowrieSink {
    task: JoinHandle<()>,
    copies: EventSender,
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
        let (copies, copies_rx) = EventSender::channel(65_536);
        let writer = LogWriter {
            log,
            format: CowrieFormat::new(uuid),
            lines: Vec::new(),
            failed: false,
        };
        let task = tokio::spawn(run(rx, copies_rx, writer, bus));
        Ok((CowrieSink { task, copies }, tx))
    }

    /// Where events that are stored already go to be written only: honeypot
    /// events remote sensors posted, after the writer committed them.
    pub fn copies(&self) -> EventSender {
        self.copies.clone()
    }

    /// Waits until every event sent before the honeypots stopped is written and
    /// passed on (the honeypots' senders must be gone); copies queued by then are
    /// written too.
    pub async fn finish(self) {
        drop(self.copies);
        let _ = self.task.await;
    }
}

/// The log file and the format's state.
struct LogWriter {
    log: JsonlLog,
    format: CowrieFormat,
    lines: Vec<u8>,
    failed: bool,
}

impl LogWriter {
    /// Writes the lines of `events` with one `write`.
    fn write<'a>(&mut self, events: impl Iterator<Item = &'a Event>) {
        self.lines.clear();
        for event in events {
            self.format.write(event, &mut self.lines);
        }
        if !self.lines.is_empty()
            && let Err(e) = self.log.append(&self.lines)
        {
            // A full disk must not stop the honeypots: their events still go on.
            if !self.failed {
                warn!(error = %e, path = %self.log.path().display(), "Cannot write the Cowrie log.");
            }
            self.failed = true;
        }
    }
}

/// Ids of copies written lately, oldest first.
#[derive(Default)]
struct RecentIds {
    set: HashSet<uuid::Uuid>,
    order: VecDeque<uuid::Uuid>,
}

impl RecentIds {
    /// Whether `id` is new (and remembers it).
    fn first_time(&mut self, id: uuid::Uuid) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        if self.order.len() >= MAX_RECENT_COPIES
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(id);
        true
    }
}

async fn run(
    mut rx: Receiver<Event>,
    mut copies_rx: Receiver<Event>,
    mut writer: LogWriter,
    bus: EventSender,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut copies = Vec::with_capacity(BATCH);
    let mut recent = RecentIds::default();
    let mut copies_open = true;
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    break;
                }
                writer.write(batch.iter());
                for event in batch.drain(..) {
                    bus.send(event).await;
                }
            }
            n = copies_rx.recv_many(&mut copies, BATCH), if copies_open => {
                if n == 0 {
                    copies_open = false;
                    continue;
                }
                copies.retain(|e| recent.first_time(e.id));
                writer.write(copies.iter());
                copies.clear();
            }
        }
    }
    // The honeypots are gone: write the copies already queued, without waiting
    // for the web server's senders.
    while let Ok(event) = copies_rx.try_recv() {
        if recent.first_time(event.id) {
            writer.write(std::iter::once(&event));
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
