//! An alert: what a rule concluded from one or more events, and where a person
//! takes over (acknowledge, close with a reason, escalate to an incident).
//!
//! Data only; the rules that raise alerts and the table that keeps them come
//! with their own issues. The shape follows what analysts use in TheHive 5,
//! DFIR-IRIS and Alertmanager (`../shared/research/alerts-incidents.md` §0, §2.8,
//! §3.4): an alert is a stateful object, not a row per match. Matches of the same
//! rule and group key fold into one open alert (its `fingerprint`), counting
//! them and keeping the first and last time, plus a bounded list of the events
//! that raised it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Severity, Timestamp};

/// Most event ids an alert keeps; later matches are only counted (the rule's
/// query finds the rest).
pub const MAX_ALERT_EVENTS: usize = 100;

/// A rule's conclusion, folded over every match of one group (e.g. one source
/// address failing SSH logins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// The alert's own id (UUIDv7, so ids sort by creation time).
    pub id: Uuid,
    /// The id of the rule that raised it (stable across rule edits).
    pub rule_id: String,
    /// What the alert says, for a list: the rule's title with the group's values.
    pub title: String,
    /// How bad: the rule's level, possibly raised by a correlation.
    pub severity: Severity,
    /// Where a person is with it.
    pub status: AlertStatus,
    /// Why it was closed; set when `status` is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// The dedup key: the rule and the group-key values. Matches with the same
    /// fingerprint fold into the open alert instead of making a new one.
    pub fingerprint: String,
    /// How many matches folded into it.
    pub count: u64,
    /// Time of the first match.
    pub first_seen: Timestamp,
    /// Time of the latest match.
    pub last_seen: Timestamp,
    /// Ids of the events that raised it, oldest first, at most [`MAX_ALERT_EVENTS`].
    #[serde(default)]
    pub events: Vec<Uuid>,
    /// What the events point at (addresses, hashes, user names), for pivoting
    /// and sharing.
    #[serde(default)]
    pub observables: Vec<Observable>,
    /// MITRE ATT&CK technique ids the rule maps to (`T1110.001`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<String>,
    /// The incident it was escalated to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<Uuid>,
}

/// Where a person is with an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Nobody has looked at it yet.
    New,
    /// Someone is looking at it.
    Acknowledged,
    /// Done with, for the reason in `resolution`.
    Closed,
}

/// Why an alert or an incident was closed (TheHive's and DFIR-IRIS's reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// A real attack that had an effect.
    TruePositiveWithImpact,
    /// A real attack without effect (the usual honeypot case).
    TruePositiveWithoutImpact,
    /// The rule matched something that was not an attack.
    FalsePositive,
    /// Known, expected activity (a scanner the team runs).
    Legitimate,
    /// The same as another alert or incident.
    Duplicate,
}

/// A value an alert points at, typed so it can be pivoted on, enriched and
/// shared (STIX, MISP) without guessing what a string is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observable {
    /// What the value is.
    #[serde(rename = "type")]
    pub kind: ObservableKind,
    /// The value, as seen (attacker text: escape it for display).
    pub value: String,
    /// Whether it is an indicator of compromise worth sharing.
    #[serde(default)]
    pub ioc: bool,
}

/// What an [`Observable`]'s value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ObservableKind {
    /// An IPv4 or IPv6 address.
    Ip,
    /// A domain or host name.
    Domain,
    /// A URL.
    Url,
    /// A SHA-256 of a file, in hex.
    Sha256,
    /// A user name tried or used.
    Username,
    /// A command line.
    Command,
    /// An HTTP `User-Agent`.
    UserAgent,
    /// An SSH client fingerprint (HASSH).
    Hassh,
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn alert() -> Alert {
        Alert {
            id: Uuid::now_v7(),
            rule_id: "ssh-bruteforce".into(),
            title: "SSH brute force from 203.0.113.7".into(),
            severity: Severity::High,
            status: AlertStatus::Closed,
            resolution: Some(Resolution::TruePositiveWithoutImpact),
            fingerprint: "ssh-bruteforce|203.0.113.7".into(),
            count: 42,
            first_seen: Timestamp::from_micros(1_700_000_000_000_000).unwrap(),
            last_seen: Timestamp::from_micros(1_700_000_060_000_000).unwrap(),
            events: vec![Uuid::now_v7(), Uuid::now_v7()],
            observables: vec![Observable {
                kind: ObservableKind::Ip,
                value: "203.0.113.7".into(),
                ioc: true,
            }],
            techniques: vec!["T1110.001".into()],
            incident: Some(Uuid::now_v7()),
        }
    }

    #[test]
    fn round_trips_through_json_with_readable_names() {
        let alert = alert();
        let json = serde_json::to_value(&alert).unwrap();
        assert_eq!(json["status"], "closed");
        assert_eq!(json["resolution"], "true_positive_without_impact");
        assert_eq!(json["observables"][0]["type"], "ip");
        assert_eq!(json["first_seen"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(serde_json::from_value::<Alert>(json).unwrap(), alert);
    }

    #[test]
    fn a_new_alert_leaves_out_what_it_does_not_have() {
        let mut alert = alert();
        alert.status = AlertStatus::New;
        alert.resolution = None;
        alert.incident = None;
        alert.techniques.clear();
        let json = serde_json::to_value(&alert).unwrap();
        for absent in ["resolution", "incident", "techniques"] {
            assert!(json.get(absent).is_none(), "{absent}");
        }
        assert_eq!(serde_json::from_value::<Alert>(json).unwrap(), alert);
        assert!(serde_json::from_str::<AlertStatus>("\"open\"").is_err());
    }
}
