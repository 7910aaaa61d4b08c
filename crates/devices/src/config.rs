//! `[devices]` of the configuration file: the per-device window, how long a
//! device learns, how rare a window must be to alarm, when a regular device
//! counts as silent, and how many devices are tracked at most.

use std::time::Duration;

use nectar_event::config::ConfigError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[devices]`: per-device behaviour (needs `[inventory] networks`: a device
/// is a MAC on the local segment sending from an address of those networks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DevicesSection {
    /// Per-device models on or off.
    pub enabled: bool,
    /// Width of a device window, in packet time, e.g. "60s", "5s", "2m".
    pub window: String,
    /// Windows a device learns before it is monitored (live; `nectar analyze
    /// --baseline` ends learning when the baseline ends).
    pub learn_windows: u32,
    /// Fewest full windows a device needs to be monitored at the end of a
    /// baseline; devices with fewer keep learning.
    pub min_learn_windows: u32,
    /// Probability below which a device window is an anomaly (all features
    /// together: each feature is tested at `q` divided by the number of tests).
    pub q: f64,
    /// A device active in most learning windows is reported silent
    /// (`device.silent`) after this many times its longest usual gap
    /// (at least two windows) without sending.
    pub silent_multiple: u32,
    /// Most devices tracked; more are counted (`devices_full`), not tracked.
    pub max_devices: usize,
}

impl Default for DevicesSection {
    fn default() -> Self {
        DevicesSection {
            enabled: true,
            window: "60s".into(),
            learn_windows: 60,
            min_learn_windows: 3,
            q: 1e-4,
            silent_multiple: 3,
            max_devices: 16_384,
        }
    }
}

/// The section, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct DevicesConfig {
    /// `enabled`.
    pub enabled: bool,
    /// `window`.
    pub window: Duration,
    /// `learn_windows`.
    pub learn_windows: u32,
    /// `min_learn_windows`.
    pub min_learn_windows: u32,
    /// `q`.
    pub q: f64,
    /// `silent_multiple`.
    pub silent_multiple: u32,
    /// `max_devices`.
    pub max_devices: usize,
}

impl Default for DevicesConfig {
    fn default() -> Self {
        // The defaults are valid by construction.
        DevicesSection::default()
            .build()
            .unwrap_or_else(|_| unreachable_default())
    }
}

fn unreachable_default() -> DevicesConfig {
    DevicesConfig {
        enabled: true,
        window: Duration::from_secs(60),
        learn_windows: 60,
        min_learn_windows: 3,
        q: 1e-4,
        silent_multiple: 3,
        max_devices: 16_384,
    }
}

/// A duration like "500ms", "5s", "2m", "1h".
pub fn parse_window(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{t:?}: expected a number and a unit, e.g. \"60s\""))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(format!("{t:?}: the unit must be ms, s, m or h")),
    };
    if d < Duration::from_millis(100) || d > Duration::from_secs(86_400) {
        return Err(format!("{t:?} is outside 100ms..=24h"));
    }
    Ok(d)
}

impl DevicesSection {
    /// Checks and parses the section; errors name the key relative to `[devices]`.
    pub fn build(&self) -> Result<DevicesConfig, ConfigError> {
        let window = parse_window(&self.window).map_err(|e| ConfigError::new("window", e))?;
        if !(1..=100_000).contains(&self.learn_windows) {
            return Err(ConfigError::new("learn_windows", "must be 1 to 100000"));
        }
        if !(1..=self.learn_windows).contains(&self.min_learn_windows) {
            return Err(ConfigError::new(
                "min_learn_windows",
                "must be 1 to learn_windows",
            ));
        }
        if !(self.q > 0.0 && self.q < 0.5) {
            return Err(ConfigError::new("q", "must be in (0, 0.5), e.g. 1e-4"));
        }
        if !(1..=1000).contains(&self.silent_multiple) {
            return Err(ConfigError::new("silent_multiple", "must be 1 to 1000"));
        }
        if !(1..=1_048_576).contains(&self.max_devices) {
            return Err(ConfigError::new("max_devices", "must be 1 to 1048576"));
        }
        Ok(DevicesConfig {
            enabled: self.enabled,
            window,
            learn_windows: self.learn_windows,
            min_learn_windows: self.min_learn_windows,
            q: self.q,
            silent_multiple: self.silent_multiple,
            max_devices: self.max_devices,
        })
    }

    /// [`DevicesSection::build`] without the result.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.build().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_build_and_bad_values_name_the_key() {
        let c = DevicesSection::default().build().unwrap();
        assert_eq!(c.window, Duration::from_secs(60));
        for (s, key) in [
            (
                DevicesSection {
                    window: "soon".into(),
                    ..Default::default()
                },
                "window",
            ),
            (
                DevicesSection {
                    q: 0.0,
                    ..Default::default()
                },
                "q",
            ),
            (
                DevicesSection {
                    max_devices: 0,
                    ..Default::default()
                },
                "max_devices",
            ),
            (
                DevicesSection {
                    min_learn_windows: 100,
                    ..Default::default()
                },
                "min_learn_windows",
            ),
        ] {
            assert_eq!(s.build().unwrap_err().key.to_string(), key);
        }
        assert_eq!(parse_window("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_window("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_window("10ms").is_err());
    }
}
