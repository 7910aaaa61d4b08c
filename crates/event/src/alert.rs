//! An alert: what a rule concluded from one or more events, and where a person
//! takes over (acknowledge, assign, close with a reason, escalate to an incident).
//!
//! The shape follows what analysts use in TheHive 5, DFIR-IRIS and Alertmanager
//! (`../shared/research/alerts-incidents.md` §0, §2.8, §3.4): an alert is a
//! stateful object, not a row per match. Matches of the same rule and group key
//! (its `fingerprint`) fold into the one open alert, counting them and keeping
//! the first and the latest event; the store links every event that raised it.
//! A closed alert whose rule fires again for the same group opens a new alert
//! that names the old one (`previous`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Severity, Timestamp};

/// Most observables an alert keeps; later distinct values are only counted in
/// the events themselves.
pub const MAX_ALERT_OBSERVABLES: usize = 64;

/// A rule's conclusion, folded over every match of one group (e.g. one source
/// address failing SSH logins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// The alert's own id (UUIDv7, so ids sort by creation time).
    pub id: Uuid,
    /// The rule that raised it.
    pub rule: AlertRule,
    /// What the alert says, for a list: the rule's title with the group's values.
    pub title: String,
    /// How bad: the rule's level.
    pub severity: Severity,
    /// Where a person is with it.
    pub status: AlertStatus,
    /// Why it was closed; set when `status` is closed.
    #[serde(default)]
    pub resolution: Option<AlertResolution>,
    /// The user name of who works on it, if anyone.
    #[serde(default)]
    pub assignee: Option<String>,
    /// The rule's group-by fields and their values (`{"src_ip": "203.0.113.7"}`);
    /// empty for a rule without grouping.
    #[serde(default)]
    pub group: BTreeMap<String, String>,
    /// The dedup key: the rule and the group values. Matches with the same
    /// fingerprint fold into the open alert instead of making a new one.
    pub fingerprint: String,
    /// How many matches folded into it.
    pub count: u64,
    /// Matches a silence held back (counted, never raised or notified).
    #[serde(default)]
    pub silenced: u64,
    /// Event time of the first match.
    pub first_seen: Timestamp,
    /// Event time of the latest match.
    pub last_seen: Timestamp,
    /// The event of the first match.
    pub first_event: Uuid,
    /// The event of the latest match.
    pub last_event: Uuid,
    /// What the events point at (addresses, hashes, user names), for pivoting
    /// and sharing; at most [`MAX_ALERT_OBSERVABLES`], first seen first.
    #[serde(default)]
    pub observables: Vec<Observable>,
    /// The closed alert of the same fingerprint this one follows, if any.
    #[serde(default)]
    pub previous: Option<Uuid>,
    /// The incident it was escalated to, if any.
    #[serde(default)]
    pub incident: Option<Uuid>,
}

/// The rule an alert came from, as it was when the alert was raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// The rule's id (a Sigma rule's `id`, stable across edits).
    pub id: String,
    /// The rule's title.
    pub title: String,
    /// The rule's level.
    pub level: Severity,
    /// MITRE ATT&CK technique ids from its tags (`T1110.001`).
    #[serde(default)]
    pub techniques: Vec<String>,
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

impl AlertStatus {
    /// Every status, in workflow order.
    pub const ALL: [AlertStatus; 3] = [
        AlertStatus::New,
        AlertStatus::Acknowledged,
        AlertStatus::Closed,
    ];

    /// The snake_case name used in JSON, URLs and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::New => "new",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Closed => "closed",
        }
    }

    /// The status called `name`, if any.
    pub fn parse(name: &str) -> Option<AlertStatus> {
        AlertStatus::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// Why an alert was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertResolution {
    /// A real attack (what a honeypot alert usually is).
    TruePositive,
    /// The rule matched something that was not an attack.
    FalsePositive,
    /// Known, expected activity (a scanner the team runs).
    Benign,
    /// The same as another alert.
    Duplicate,
}

impl AlertResolution {
    /// Every resolution, in the order a form lists them.
    pub const ALL: [AlertResolution; 4] = [
        AlertResolution::TruePositive,
        AlertResolution::FalsePositive,
        AlertResolution::Benign,
        AlertResolution::Duplicate,
    ];

    /// The snake_case name used in JSON, URLs and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertResolution::TruePositive => "true_positive",
            AlertResolution::FalsePositive => "false_positive",
            AlertResolution::Benign => "benign",
            AlertResolution::Duplicate => "duplicate",
        }
    }

    /// The resolution called `name`, if any.
    pub fn parse(name: &str) -> Option<AlertResolution> {
        AlertResolution::ALL
            .into_iter()
            .find(|r| r.as_str() == name)
    }
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
    /// A password tried (only when it is not sealed).
    Password,
    /// An MD5 of a file, in hex (incident attachments and hand-added values).
    Md5,
    /// A SHA-1 of a file, in hex.
    Sha1,
    /// An e-mail address.
    Email,
    /// Anything else a person notes (a file name, a mutex, a registry key).
    Other,
}

impl ObservableKind {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ObservableKind::Ip => "ip",
            ObservableKind::Domain => "domain",
            ObservableKind::Url => "url",
            ObservableKind::Sha256 => "sha256",
            ObservableKind::Username => "username",
            ObservableKind::Command => "command",
            ObservableKind::UserAgent => "user_agent",
            ObservableKind::Hassh => "hassh",
            ObservableKind::Password => "password",
            ObservableKind::Md5 => "md5",
            ObservableKind::Sha1 => "sha1",
            ObservableKind::Email => "email",
            ObservableKind::Other => "other",
        }
    }

    /// Every kind, in the order a form lists them.
    pub const ALL: [ObservableKind; 13] = [
        ObservableKind::Ip,
        ObservableKind::Domain,
        ObservableKind::Url,
        ObservableKind::Sha256,
        ObservableKind::Md5,
        ObservableKind::Sha1,
        ObservableKind::Email,
        ObservableKind::Username,
        ObservableKind::Password,
        ObservableKind::Command,
        ObservableKind::UserAgent,
        ObservableKind::Hassh,
        ObservableKind::Other,
    ];

    /// The kind called `name`, if any.
    pub fn parse(name: &str) -> Option<ObservableKind> {
        ObservableKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn alert() -> Alert {
        Alert {
            id: Uuid::now_v7(),
            rule: AlertRule {
                id: "ssh-bruteforce".into(),
                title: "SSH brute force".into(),
                level: Severity::High,
                techniques: vec!["T1110.001".into()],
            },
            title: "SSH brute force from 203.0.113.7".into(),
            severity: Severity::High,
            status: AlertStatus::Closed,
            resolution: Some(AlertResolution::TruePositive),
            assignee: Some("ana".into()),
            group: BTreeMap::from([("src_ip".to_owned(), "203.0.113.7".to_owned())]),
            fingerprint: "ssh-bruteforce|203.0.113.7".into(),
            count: 42,
            silenced: 0,
            first_seen: Timestamp::from_micros(1_700_000_000_000_000).unwrap(),
            last_seen: Timestamp::from_micros(1_700_000_060_000_000).unwrap(),
            first_event: Uuid::now_v7(),
            last_event: Uuid::now_v7(),
            observables: vec![Observable {
                kind: ObservableKind::Ip,
                value: "203.0.113.7".into(),
                ioc: true,
            }],
            previous: None,
            incident: Some(Uuid::now_v7()),
        }
    }

    #[test]
    fn round_trips_through_json_with_readable_names() {
        let alert = alert();
        let json = serde_json::to_value(&alert).unwrap();
        assert_eq!(json["status"], "closed");
        assert_eq!(json["resolution"], "true_positive");
        assert_eq!(json["rule"]["techniques"][0], "T1110.001");
        assert_eq!(json["group"]["src_ip"], "203.0.113.7");
        assert_eq!(json["observables"][0]["type"], "ip");
        assert_eq!(json["first_seen"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(serde_json::from_value::<Alert>(json).unwrap(), alert);
    }

    #[test]
    fn a_new_alert_shows_what_it_does_not_have_as_null() {
        let mut alert = alert();
        alert.status = AlertStatus::New;
        alert.resolution = None;
        alert.assignee = None;
        alert.incident = None;
        let json = serde_json::to_value(&alert).unwrap();
        for absent in ["resolution", "assignee", "incident", "previous"] {
            assert!(json[absent].is_null(), "{absent}");
        }
        assert_eq!(serde_json::from_value::<Alert>(json).unwrap(), alert);
        assert!(serde_json::from_str::<AlertStatus>("\"open\"").is_err());
        for s in AlertStatus::ALL {
            assert_eq!(AlertStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for r in AlertResolution::ALL {
            assert_eq!(AlertResolution::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
    }
}
