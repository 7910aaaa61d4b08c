//! `[rules]` of the configuration file: which rules run and how much
//! correlation state they may hold.

use std::path::PathBuf;

use nectar_event::config::ConfigError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::EngineLimits;

/// `[rules]`: Sigma rules that turn events into alerts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RulesSection {
    /// Run rules at all (alerts are raised only while they run).
    pub enabled: bool,
    /// Load the built-in rule pack (brute force, shell persistence, web attacks,
    /// honeytokens, network alarms; `nectar rules list` shows them).
    pub builtin: bool,
    /// Folders (or files) whose `*.yml`/`*.yaml` Sigma rules are loaded too.
    pub paths: Vec<PathBuf>,
    /// Rule ids turned off (built-in or not).
    pub disabled: Vec<String>,
    /// Most correlation windows (one per rule and group) held at once.
    pub max_groups: usize,
    /// Most entries one correlation window holds.
    pub max_group_entries: usize,
}

impl Default for RulesSection {
    fn default() -> Self {
        let limits = EngineLimits::default();
        RulesSection {
            enabled: true,
            builtin: true,
            paths: Vec::new(),
            disabled: Vec::new(),
            max_groups: limits.max_groups,
            max_group_entries: limits.max_group_entries,
        }
    }
}

impl RulesSection {
    /// Checks values that parse but cannot work; keys are relative to `[rules]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_groups == 0 {
            return Err(ConfigError::new("max_groups", "must be greater than 0"));
        }
        if self.max_group_entries == 0 {
            return Err(ConfigError::new(
                "max_group_entries",
                "must be greater than 0",
            ));
        }
        for (i, path) in self.paths.iter().enumerate() {
            if !path.exists() {
                return Err(ConfigError::new(
                    format!("paths[{i}]"),
                    format!(
                        "{} does not exist: give a folder of Sigma rule files",
                        path.display()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The engine's limits.
    pub fn limits(&self) -> EngineLimits {
        EngineLimits {
            max_groups: self.max_groups,
            max_group_entries: self.max_group_entries,
            ..EngineLimits::default()
        }
    }
}
