//! `[sensor]` of the configuration file: how `nectar sensor` keeps and ships
//! its events (its server and credential come from `nectar sensor enrol`).

use nectar_event::config::ConfigError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a full spool does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// The sensor's producers wait (honeypots slow down; nothing is lost).
    Block,
    /// The oldest batches are deleted, counted, and reported to the server
    /// as a `sensor.status` event when the link returns.
    DropOldest,
}

/// `[sensor]`: a remote sensor (`nectar sensor`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SensorSection {
    /// The server's URL (https://HOST:PORT); empty: the one enrolment saved.
    pub server: String,
    /// Most bytes (compressed) the on-disk spool holds while the server is
    /// unreachable (default 512 MiB).
    pub spool_max_bytes: u64,
    /// What a full spool does: "drop_oldest" (default) or "block".
    pub when_full: WhenFull,
    /// Events that may wait in memory for the spool (default 4,096): when
    /// full, the honeypots and capture wait (nothing is dropped). The spool
    /// is the sensor's real queue; a larger one only costs memory.
    pub queue_events: usize,
    /// Most events spooled as one batch, and so sent in one request
    /// (default 1,000).
    pub batch_events: usize,
}

impl Default for SensorSection {
    fn default() -> Self {
        SensorSection {
            server: String::new(),
            spool_max_bytes: 512 * 1024 * 1024,
            when_full: WhenFull::DropOldest,
            queue_events: 4_096,
            batch_events: 1_000,
        }
    }
}

impl SensorSection {
    /// Checks values that parse but cannot work; keys relative to `[sensor]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.spool_max_bytes < 1024 * 1024 {
            return Err(ConfigError::new(
                "spool_max_bytes",
                "at least 1048576 (1 MiB): a spool smaller than a batch holds nothing",
            ));
        }
        if !(16..=1_048_576).contains(&self.queue_events) {
            return Err(ConfigError::new("queue_events", "from 16 to 1048576"));
        }
        if !(1..=5_000).contains(&self.batch_events) {
            return Err(ConfigError::new("batch_events", "from 1 to 5000"));
        }
        if !self.server.is_empty() {
            nectar_sensor::base_url(&self.server)
                .map_err(|e| ConfigError::new("server", e.to_string()))?;
        }
        Ok(())
    }

    /// The spool's settings.
    pub fn spool_config(&self) -> nectar_spool::SpoolConfig {
        nectar_spool::SpoolConfig {
            max_bytes: self.spool_max_bytes,
            when_full: match self.when_full {
                WhenFull::Block => nectar_spool::WhenFull::Block,
                WhenFull::DropOldest => nectar_spool::WhenFull::DropOldest,
            },
        }
    }
}
