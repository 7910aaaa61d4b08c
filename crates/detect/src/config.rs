//! The `[detect]` section of the configuration file: window width, which
//! statistics are watched, and SPOT's settings with global defaults and
//! per-statistic overrides (`[detect.stat.R_SYN] q = 1e-5`), as NetSpot's
//! `spot.<param>` / `spot.<STAT>.<param>` keys.
//!
//! The binary embeds [`DetectConfig`] in its own configuration; this module
//! owns the defaults, the meaning of every key (doc comments, which `nectar
//! config` prints) and the checks, whose errors name the key relative to
//! `[detect]` (`stat.R_SYN.q`) for the file's root to extend.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use nectar_event::config::{ConfigError, WithinSection};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::sources::View;
use crate::stats::Stat;
use crate::window::WindowConfig;

/// `[detect]`: network anomaly detection settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// Window width in capture time, e.g. "1s", "200ms" (1ms to 1 day).
    pub window: Width,
    /// Statistics watched by SPOT (names as in `nectar analyze --stat`).
    #[schemars(schema_with = "stat_names_schema")]
    pub stats: Vec<String>,
    /// Top contributors (sources, destinations, ports) named in an alarm (0 to 32).
    pub top_n: usize,
    /// Fewest packets a window needs for an alarm on a ratio statistic (all
    /// but TRAFFIC): a ratio over a handful of packets is too coarse to judge.
    pub min_packets: u64,
    /// Windows in a row beyond its threshold after which a statistic is
    /// taken to have changed for good and learns afresh (0: never). Without
    /// it a lasting change of normal traffic would alarm forever, since
    /// anomalous windows are never learnt.
    pub relearn_after: u64,
    /// Default anomaly probability of every statistic: a window is an alarm
    /// when the fitted tail gives its value a probability below q.
    pub q: f64,
    /// Default quantile of the learning values taken as the excess threshold.
    pub level: f64,
    /// Default number of windows learnt (after `depth` more) before monitoring.
    pub n_init: usize,
    /// Default number of most recent excesses kept to fit the tail.
    pub max_excess: usize,
    /// Default: raise alarms on values far above normal.
    pub up: bool,
    /// Default: raise alarms on values far below normal.
    pub down: bool,
    /// Default moving-average length of DSPOT, in windows.
    pub depth: usize,
    /// Per-statistic overrides of the defaults above, one table per statistic,
    /// e.g. `[detect.stat.R_SYN]` with `q = 1e-5`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub stat: BTreeMap<String, StatOverride>,
}

/// SPOT settings of one statistic (NetSpot's `spot.*` keys).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpotSettings {
    /// Anomaly probability: a window is an alarm when the fitted tail gives
    /// its value a probability below q. In (0, 1 - level).
    pub q: f64,
    /// Quantile of the learning values taken as the excess threshold, in (0, 1).
    pub level: f64,
    /// Windows learnt (after `depth` more for the moving average) before
    /// monitoring starts.
    pub n_init: usize,
    /// Most recent excesses kept to fit the tail.
    pub max_excess: usize,
    /// Raise alarms on values far above normal.
    pub up: bool,
    /// Raise alarms on values far below normal.
    pub down: bool,
    /// Moving-average length of DSPOT (drift correction), in windows (>= 1).
    pub depth: usize,
}

impl Default for SpotSettings {
    /// NetSpot's defaults (level 0.98, max_excess 200, depth 50, up only).
    fn default() -> Self {
        SpotSettings {
            q: 1e-4,
            level: 0.98,
            n_init: 1000,
            max_excess: 200,
            up: true,
            down: false,
            depth: 50,
        }
    }
}

/// Settings of one statistic that differ from the `[detect]` defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatOverride {
    /// This statistic's `q` (see `[detect] q`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<f64>,
    /// This statistic's `level`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<f64>,
    /// This statistic's `n_init`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_init: Option<usize>,
    /// This statistic's `max_excess`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_excess: Option<usize>,
    /// This statistic's `up`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub up: Option<bool>,
    /// This statistic's `down`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub down: Option<bool>,
    /// This statistic's `depth`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<usize>,
}

/// The schema of `stats`: a list of statistic names, each one of [`Stat::ALL`]
/// (so that `nectar config` can list them).
fn stat_names_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = Stat::ALL.iter().map(|s| s.name()).collect();
    schemars::json_schema!({
        "type": "array",
        "items": { "type": "string", "enum": names },
    })
}

impl Default for DetectConfig {
    fn default() -> Self {
        let d = SpotSettings::default();
        DetectConfig {
            window: Width(Duration::from_secs(1)),
            stats: Stat::ALL
                .iter()
                .filter(|s| s.info().monitored)
                .map(|s| s.name().to_owned())
                .collect(),
            top_n: 5,
            min_packets: 50,
            relearn_after: 3_600,
            q: d.q,
            level: d.level,
            n_init: d.n_init,
            max_excess: d.max_excess,
            up: d.up,
            down: d.down,
            depth: d.depth,
            stat: BTreeMap::new(),
        }
    }
}

fn err(key: impl Into<std::borrow::Cow<'static, str>>, reason: impl Into<String>) -> ConfigError {
    ConfigError::new(key, reason)
}

/// Names of all statistics, for error messages.
pub fn stat_names() -> String {
    Stat::ALL
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Largest `n_init` accepted (the learning buffer holds `n_init + depth` values).
pub const MAX_N_INIT: usize = 1_000_000;

impl SpotSettings {
    /// Checks the settings; errors name the key relative to the table that holds
    /// them (`q`), for the caller to extend (`detect`, `detect.stat.R_SYN`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(err("level", format!("{} is not in (0, 1)", self.level)));
        }
        if !(self.q > 0.0 && self.q < 1.0 - self.level) {
            return Err(err(
                "q",
                format!(
                    "{} is not in (0, 1 - level) = (0, {})",
                    self.q,
                    1.0 - self.level
                ),
            ));
        }
        if !(10..=MAX_N_INIT).contains(&self.n_init) {
            return Err(err(
                "n_init",
                format!("{} is not in 10..={MAX_N_INIT}", self.n_init),
            ));
        }
        if self.max_excess == 0 || self.max_excess > nectar_spot::MAX_EXCESS_LIMIT {
            return Err(err(
                "max_excess",
                format!(
                    "{} is not in 1..={}",
                    self.max_excess,
                    nectar_spot::MAX_EXCESS_LIMIT
                ),
            ));
        }
        if self.depth == 0 || self.depth > 100_000 {
            return Err(err("depth", format!("{} is not in 1..=100000", self.depth)));
        }
        if !self.up && !self.down {
            return Err(err(
                "up",
                "`up` and `down` are both false: nothing would be watched (remove the statistic from detect.stats instead)",
            ));
        }
        Ok(())
    }

    fn apply(mut self, o: &StatOverride) -> SpotSettings {
        self.q = o.q.unwrap_or(self.q);
        self.level = o.level.unwrap_or(self.level);
        self.n_init = o.n_init.unwrap_or(self.n_init);
        self.max_excess = o.max_excess.unwrap_or(self.max_excess);
        self.up = o.up.unwrap_or(self.up);
        self.down = o.down.unwrap_or(self.down);
        self.depth = o.depth.unwrap_or(self.depth);
        self
    }
}

impl DetectConfig {
    /// Checks every key; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let w = self.window.0;
        if w < Duration::from_millis(1) || w > Duration::from_secs(86_400) {
            return Err(err("window", "must be between 1ms and 1 day"));
        }
        if self.top_n > crate::heavy::CAPACITY {
            return Err(err("top_n", format!("at most {}", crate::heavy::CAPACITY)));
        }
        self.monitored()?;
        self.defaults().validate()?;
        for name in self.stat.keys() {
            let Some(stat) = Stat::from_name(name) else {
                return Err(err(
                    format!("stat.{name}"),
                    format!("unknown statistic; one of {}", stat_names()),
                ));
            };
            self.settings(stat)
                .validate()
                .map_err(|e| e.within(name.clone()))
                .within("stat")?;
        }
        Ok(())
    }

    /// The watched statistics, in index order, without duplicates.
    pub fn monitored(&self) -> Result<Vec<Stat>, ConfigError> {
        let mut out = Vec::new();
        for name in &self.stats {
            let stat = Stat::from_name(name).ok_or_else(|| {
                err(
                    "stats",
                    format!("unknown statistic {name:?}; one of {}", stat_names()),
                )
            })?;
            if !out.contains(&stat) {
                out.push(stat);
            }
        }
        out.sort();
        Ok(out)
    }

    /// The effective settings of one statistic (defaults plus its override).
    pub fn settings(&self, stat: Stat) -> SpotSettings {
        match self
            .stat
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(stat.name()))
        {
            Some((_, o)) => self.defaults().apply(o),
            None => self.defaults(),
        }
    }

    /// The `[detect]` defaults as settings.
    pub fn defaults(&self) -> SpotSettings {
        SpotSettings {
            q: self.q,
            level: self.level,
            n_init: self.n_init,
            max_excess: self.max_excess,
            up: self.up,
            down: self.down,
            depth: self.depth,
        }
    }

    /// The windower's settings.
    pub fn window_config(&self) -> WindowConfig {
        WindowConfig {
            width: self.window.0,
            top_n: self.top_n,
            // The per-source table costs only when a statistic needs it.
            sources: self.monitored().is_ok_and(|s| {
                s.iter()
                    .any(|s| s.info().measure.is_some_and(|m| m.view() == View::Source))
            }),
            targets: self.monitored().is_ok_and(|s| {
                s.iter().any(|s| {
                    s.info()
                        .measure
                        .is_some_and(|m| m.view() == View::Destination)
                })
            }),
            ..WindowConfig::default()
        }
    }
}

/// A window width, written as text in the file: `1s`, `200ms`, `1m`, `500us`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Width(pub Duration);

impl fmt::Display for Width {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0.as_nanos();
        let units = [
            (3_600_000_000_000u128, "h"),
            (60_000_000_000, "m"),
            (1_000_000_000, "s"),
            (1_000_000, "ms"),
            (1_000, "us"),
        ];
        for (size, unit) in units {
            if ns >= size && ns.is_multiple_of(size) {
                return write!(f, "{}{unit}", ns / size);
            }
        }
        write!(f, "{ns}ns")
    }
}

/// Parses `200ms`, `1s`, `1.5s`, `2m`, `500us` (a number and a unit).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let expected = || {
        format!(
            "{text:?} is not a duration; write a number and a unit (ns, us, ms, s, m, h), e.g. \"200ms\" or \"1s\""
        )
    };
    let value: f64 = num.parse().map_err(|_| expected())?;
    let scale = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(expected()),
    };
    let secs = value * scale;
    if !secs.is_finite() || secs > 1e9 {
        return Err(format!("{text:?} is too long"));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl std::str::FromStr for Width {
    type Err = String;
    fn from_str(s: &str) -> Result<Width, String> {
        parse_duration(s).map(Width)
    }
}

impl JsonSchema for Width {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Width".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
}

impl Serialize for Width {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Width {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Width, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_round_trip() {
        for (text, ms) in [
            ("1s", 1000),
            ("200ms", 200),
            ("2m", 120_000),
            ("1.5s", 1500),
        ] {
            let w: Width = text.parse().unwrap();
            assert_eq!(w.0, Duration::from_millis(ms));
            assert_eq!(w.to_string().parse::<Width>().unwrap(), w);
        }
        assert!("fast".parse::<Width>().is_err());
        assert!("10".parse::<Width>().is_err());
        assert!("1e400s".parse::<Width>().is_err());
    }

    #[test]
    fn defaults_validate_and_overrides_apply() {
        let mut c = DetectConfig::default();
        c.validate().unwrap();
        assert!(!c.monitored().unwrap().contains(&Stat::Perf));
        c.stat.insert(
            "R_SYN".into(),
            StatOverride {
                q: Some(1e-5),
                down: Some(true),
                ..StatOverride::default()
            },
        );
        let s = c.settings(Stat::RSyn);
        assert_eq!((s.q, s.down, s.depth), (1e-5, true, 50));
        c.stat.insert("R_SYNN".into(), StatOverride::default());
        assert!(c.validate().unwrap_err().key.to_string().contains("R_SYNN"));
        c.stat.remove("R_SYNN");
        c.stat.get_mut("R_SYN").unwrap().q = Some(0.5);
        let err = c.validate().within("detect").unwrap_err();
        assert_eq!(err.key.to_string(), "detect.stat.R_SYN.q");
    }
}
