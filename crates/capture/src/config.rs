//! `[event_log]` of the configuration file: the JSON-lines copy of every stored
//! event, where it goes and how it rotates, with the checks whose errors name
//! the key relative to `[event_log]`. It is the file's form only; the log's own
//! settings ([`JsonlConfig`]) are made from it.

use std::path::{Path, PathBuf};

use nectar_event::config::ConfigError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::jsonl::JsonlConfig;

/// `[event_log]`: the JSON-lines copy of every stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EventLogConfig {
    /// Also append every stored event to a JSON-lines file.
    pub enabled: bool,
    /// The file; empty means `events.jsonl` in `data_dir`.
    pub path: PathBuf,
    /// Rotate when the file reaches this many bytes (0: never).
    pub max_bytes: u64,
    /// Rotated files to keep (`events.jsonl.1` is the newest).
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

impl EventLogConfig {
    /// Checks values that cannot work; keys are relative to `[event_log]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.enabled && self.path.is_dir() {
            return Err(ConfigError::new(
                "path",
                format!("{} is a directory; name a file", self.path.display()),
            ));
        }
        Ok(())
    }

    /// The log file: `path`, or `events.jsonl` in `data_dir` when `path` is empty.
    pub fn path_in(&self, data_dir: &Path) -> PathBuf {
        if self.path.as_os_str().is_empty() {
            data_dir.join("events.jsonl")
        } else {
            self.path.clone()
        }
    }

    /// The log's settings, with the file resolved against `data_dir`.
    pub fn jsonl_config(&self, data_dir: &Path) -> JsonlConfig {
        JsonlConfig {
            path: self.path_in(data_dir),
            max_bytes: self.max_bytes,
            keep: self.keep,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_is_in_the_data_directory_and_a_directory_is_refused() {
        let config = EventLogConfig::default();
        assert_eq!(
            config.path_in(Path::new("/data")),
            Path::new("/data/events.jsonl")
        );
        config.validate().unwrap();
        let jsonl = config.jsonl_config(Path::new("/data"));
        assert_eq!(
            (jsonl.path.as_path(), jsonl.max_bytes, jsonl.keep),
            (
                Path::new("/data/events.jsonl"),
                config.max_bytes,
                config.keep
            )
        );
        let dir = tempfile::tempdir().unwrap();
        let bad = EventLogConfig {
            path: dir.path().to_owned(),
            ..EventLogConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().key.to_string(), "path");
    }
}
