//! `[store]` of the configuration file: how hard a commit works and how the
//! writer batches, with the checks whose errors name the key relative to
//! `[store]`. The running types ([`StoreConfig`](crate::StoreConfig),
//! [`WriterConfig`]) are built from it.

use std::time::Duration;

use nectar_event::config::ConfigError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Durability, WriterConfig};

/// `[store]`: the database and its writer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    /// How hard a commit works to survive a crash.
    pub durability: Durability,
    /// Most events committed in one transaction.
    pub max_batch_events: usize,
    /// Milliseconds the writer waits for more events before a commit (0: none;
    /// batches still grow under load, as events queue while a commit runs).
    pub max_delay_ms: u64,
    /// Batches that may queue for the writer before producers are slowed down.
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

impl StoreSection {
    /// Checks values that parse but cannot work; keys are relative to `[store]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_batch_events == 0 {
            return Err(ConfigError::new(
                "max_batch_events",
                "must be greater than 0",
            ));
        }
        if self.queue_batches == 0 {
            return Err(ConfigError::new("queue_batches", "must be greater than 0"));
        }
        if self.max_delay_ms > 10_000 {
            return Err(ConfigError::new("max_delay_ms", "at most 10000"));
        }
        Ok(())
    }

    /// The writer's settings.
    pub fn writer_config(&self) -> WriterConfig {
        WriterConfig {
            max_batch_events: self.max_batch_events,
            max_delay: Duration::from_millis(self.max_delay_ms),
            queue_requests: self.queue_batches,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_writer_defaults_and_zeroes_are_refused() {
        let section = StoreSection::default();
        section.validate().unwrap();
        let (ours, theirs) = (section.writer_config(), WriterConfig::default());
        assert_eq!(
            (ours.max_batch_events, ours.max_delay, ours.queue_requests),
            (
                theirs.max_batch_events,
                theirs.max_delay,
                theirs.queue_requests
            )
        );
        let bad = StoreSection {
            queue_batches: 0,
            ..StoreSection::default()
        };
        assert_eq!(bad.validate().unwrap_err().key.to_string(), "queue_batches");
    }
}
