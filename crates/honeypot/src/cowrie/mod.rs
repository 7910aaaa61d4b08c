//! The optional Cowrie-format log (`[honeypot.cowrie]`): every SSH and Telnet
//! honeypot event also written as Cowrie's JSON lines ([`format`]), in a file
//! rotated by size like the event log.
//!
//! It is a consumer of the committed-event stream ([`consumer`]): it sees every
//! stored event once, in commit order, whether a honeypot of this process or a
//! remote sensor produced it, and a restart continues where its saved offset
//! left the file, so a line is written once even across `kill -9`.

pub mod format;

use std::path::{Path, PathBuf};

use nectar_bus::stream::{LineFile, RenderLines, StartAt};
use nectar_capture::jsonl::JsonlConfig;
use nectar_event::Event;
use nectar_event::config::ConfigError;
use serde::{Deserialize, Serialize};

pub use format::CowrieFormat;

/// `[honeypot.cowrie]`: the Cowrie-format log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CowrieOutputConfig {
    /// Also write SSH and Telnet honeypot events as Cowrie's JSON lines (its
    /// eventids and field names), for pipelines built for Cowrie.
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
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.enabled && self.path.as_os_str().is_empty() {
            return Err(ConfigError::new("path", "must not be empty"));
        }
        if self.keep > 1000 {
            return Err(ConfigError::new("keep", "at most 1000"));
        }
        Ok(())
    }
}

/// The consumer's name (its offset's key, shown in `/api/v1/status`).
pub const CONSUMER_NAME: &str = "cowrie-log";

/// Cowrie's lines of an event, for a [`LineFile`].
impl RenderLines for CowrieFormat {
    fn render(&mut self, event: &Event, out: &mut Vec<u8>) {
        self.write(event, out);
    }
}

/// The Cowrie log as a consumer of the committed stream: opens the log
/// (`config.path` under `data_dir` when relative). The sensor's UUID (Cowrie's
/// `uuid` field) is kept in `data_dir/cowrie-sensor-uuid`.
pub fn consumer(
    config: &CowrieOutputConfig,
    data_dir: &Path,
) -> Result<LineFile<CowrieFormat>, crate::Error> {
    let path = data_dir.join(&config.path);
    let uuid = sensor_uuid(data_dir)?;
    LineFile::open(
        CONSUMER_NAME,
        JsonlConfig {
            path: path.clone(),
            max_bytes: config.max_bytes,
            keep: config.keep,
        },
        CowrieFormat::new(uuid),
        StartAt::Latest,
    )
    .map_err(|e| crate::Error::Config(format!("cowrie log {}: {e}", path.display())))
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
