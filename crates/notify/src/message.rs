//! What a message says about an alert, bounded once for every format: the
//! alert's fields cut to fixed lengths (titles, group values and observables
//! are attacker text), at most a few observables, and a digest's list of at
//! most [`DIGEST_LISTED`] alerts with the count of all of them.
//!
//! Values here are cut but not escaped: each format escapes for itself
//! (JSON by serde, Slack's `&<>`, syslog's structured data, CEF), since what
//! is safe in one breaks another.

use nectar_event::text::bound;
use nectar_event::{Alert, Severity, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest title kept, in bytes.
pub const MAX_TITLE: usize = 256;
/// Longest group-by or observable value kept, in bytes.
pub const MAX_VALUE: usize = 256;
/// Observables listed in one message.
pub const MAX_OBSERVABLES: usize = 10;
/// Group-by fields listed.
pub const MAX_GROUP: usize = 8;
/// ATT&CK techniques listed.
pub const MAX_TECHNIQUES: usize = 16;
/// Alerts a digest lists; the rest are counted.
pub const DIGEST_LISTED: usize = 50;

/// One alert, as every message format sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSummary {
    /// The alert's id.
    pub id: Uuid,
    /// `raised` or `reopened`.
    pub kind: String,
    /// The alert's title.
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// The rule's id.
    pub rule_id: String,
    /// The rule's title.
    pub rule_title: String,
    /// ATT&CK technique ids.
    pub techniques: Vec<String>,
    /// Group-by fields and values.
    pub group: Vec<(String, String)>,
    /// Matches folded in when raised.
    pub count: u64,
    /// Event time of the first match.
    pub first_seen: Timestamp,
    /// Event time of the latest match.
    pub last_seen: Timestamp,
    /// `(type, value)` of the first observables.
    pub observables: Vec<(String, String)>,
    /// The closed alert this one follows.
    pub previous: Option<Uuid>,
}

impl AlertSummary {
    /// The bounded view of `alert`, raised as `kind`.
    pub fn of(alert: &Alert, kind: &str) -> AlertSummary {
        let cut = |s: &str, max: usize| bound(s, max).to_owned();
        AlertSummary {
            id: alert.id,
            kind: kind.to_owned(),
            title: cut(&alert.title, MAX_TITLE),
            severity: alert.severity,
            rule_id: cut(&alert.rule.id, MAX_VALUE),
            rule_title: cut(&alert.rule.title, MAX_TITLE),
            techniques: alert
                .rule
                .techniques
                .iter()
                .take(MAX_TECHNIQUES)
                .map(|t| cut(t, 32))
                .collect(),
            group: alert
                .group
                .iter()
                .take(MAX_GROUP)
                .map(|(k, v)| (cut(k, 64), cut(v, MAX_VALUE)))
                .collect(),
            count: alert.count,
            first_seen: alert.first_seen,
            last_seen: alert.last_seen,
            observables: alert
                .observables
                .iter()
                .take(MAX_OBSERVABLES)
                .map(|o| (o.kind.as_str().to_owned(), cut(&o.value, MAX_VALUE)))
                .collect(),
            previous: alert.previous,
        }
    }

    /// The source address the rule grouped by, if any (`src_ip`).
    pub fn src_ip(&self) -> Option<std::net::IpAddr> {
        self.group
            .iter()
            .find(|(k, _)| k == "src_ip")
            .and_then(|(_, v)| v.parse().ok())
    }
}

/// What one message tells: an alert, or several gathered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// One alert.
    Alert(AlertSummary),
    /// Several alerts gathered by a route.
    Digest(Digest),
}

/// Alerts a route gathered into one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The route's name.
    pub route: String,
    /// Why they were gathered: `digest` (the route's window) or `overflow`
    /// (over the route's rate limit).
    pub reason: String,
    /// From when.
    pub from: Timestamp,
    /// To when.
    pub to: Timestamp,
    /// How many alerts, listed or not.
    pub count: u64,
    /// The first [`DIGEST_LISTED`] alerts.
    pub alerts: Vec<AlertSummary>,
}

impl Digest {
    /// The highest severity listed.
    pub fn severity(&self) -> Severity {
        self.alerts
            .iter()
            .map(|a| a.severity)
            .max()
            .unwrap_or(Severity::Info)
    }
}

impl Message {
    /// The highest severity it tells of.
    pub fn severity(&self) -> Severity {
        match self {
            Message::Alert(a) => a.severity,
            Message::Digest(d) => d.severity(),
        }
    }

    /// A one-line subject (not escaped).
    pub fn subject(&self) -> String {
        match self {
            Message::Alert(a) => format!("[{}] {}", a.severity, a.title),
            Message::Digest(d) => format!(
                "[{}] {} alerts ({})",
                d.severity(),
                d.count,
                if d.reason == "overflow" {
                    "over the rate limit"
                } else {
                    "digest"
                }
            ),
        }
    }
}

/// Alerts for the renderers' tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// An alert whose every attacker-controlled field tries to break a format.
    pub(crate) fn hostile() -> AlertSummary {
        let evil = "a|b\\c=d\"e]f\ng\r<!channel> & <x> @all `code`\u{202e}rtl\u{7}";
        AlertSummary {
            id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
            kind: "raised".into(),
            title: format!("SSH brute force from {evil}"),
            severity: Severity::High,
            rule_id: "ssh-brute|force".into(),
            rule_title: "SSH brute force".into(),
            techniques: vec!["T1110.001".into()],
            group: vec![("src_ip".into(), "203.0.113.7".into())],
            count: 12,
            first_seen: Timestamp::from_micros(1_700_000_000_000_000)
                .unwrap_or_else(Timestamp::now),
            last_seen: Timestamp::from_micros(1_700_000_060_000_000).unwrap_or_else(Timestamp::now),
            observables: vec![("username".into(), evil.into())],
            previous: None,
        }
    }
}
