//! How urgent an event is, from `info` (context) to `critical` (act now).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Severity of an event. Ordered: `Info < Low < Medium < High < Critical`.
///
/// Stored as a small integer (`rank`) so that "at least medium" is an index-friendly
/// comparison in every database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context: a request, a connection, a window of statistics.
    Info,
    /// Worth a look when browsing: a failed login, a scanner's probe.
    Low,
    /// Suspicious: a successful honeypot login, a rare statistic.
    Medium,
    /// Likely an attack in progress: commands run on a honeypot, a strong alarm.
    High,
    /// Act now: malware downloaded, an extreme anomaly.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name used in JSON, URLs and the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The integer stored in the database: 0 (info) to 4 (critical).
    pub fn rank(self) -> i16 {
        self as i16
    }

    /// The severity stored as `rank`, if it is one.
    pub fn from_rank(rank: i64) -> Option<Severity> {
        Severity::ALL.get(usize::try_from(rank).ok()?).copied()
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity name that is not one of `info, low, medium, high, critical`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity {0:?}: expected one of info, low, medium, high, critical")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownSeverity(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_round_trips_and_orders() {
        for sev in Severity::ALL {
            assert_eq!(Severity::from_rank(sev.rank().into()), Some(sev));
            assert_eq!(sev.as_str().parse::<Severity>(), Ok(sev));
        }
        assert!(Severity::Info < Severity::Critical);
        assert_eq!(Severity::from_rank(5), None);
        assert_eq!(Severity::from_rank(-1), None);
        assert!("urgent".parse::<Severity>().is_err());
    }
}
