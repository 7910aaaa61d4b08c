//! An incident: alerts a person grouped because they are one story (one
//! attacker, one campaign), with who owns it and what was done, in order.
//!
//! Data only; the table and pages come with their own issue. Status and
//! resolution are separate, as in TheHive 5 and DFIR-IRIS
//! (`../shared/research/alerts-incidents.md` §0 point 4): "closed" says the work
//! is over, the [`Resolution`] says what it was.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Resolution, Severity, Timestamp};

/// A group of alerts worked on as one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// The incident's id (UUIDv7).
    pub id: Uuid,
    /// A person's one-line name for it.
    pub title: String,
    /// Where the work is.
    pub status: IncidentStatus,
    /// What it turned out to be; set when `status` is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// How bad (at least the worst of its alerts, unless a person says otherwise).
    pub severity: Severity,
    /// The user name of who works on it, if anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// The alerts grouped in it.
    #[serde(default)]
    pub alerts: Vec<Uuid>,
    /// When it was opened.
    pub created: Timestamp,
    /// What happened to it, oldest first: alerts added, status changes, notes.
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
}

/// Where the work on an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Opened, nobody working on it yet.
    New,
    /// Someone is working on it.
    InProgress,
    /// The work is over, for the reason in `resolution`.
    Closed,
}

/// One line of an incident's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineEntry {
    /// When.
    pub time: Timestamp,
    /// Who: a user name, or absent for Nectar itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// What kind of step it was.
    pub action: TimelineAction,
    /// The step in words (a note's text, the new status, the alert's title).
    pub text: String,
}

/// What kind of step a [`TimelineEntry`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TimelineAction {
    /// The incident was opened.
    Opened,
    /// An alert was added to it.
    AlertAdded,
    /// Its status or resolution changed.
    StatusChanged,
    /// It was assigned to someone (or unassigned).
    Assigned,
    /// A person wrote a note.
    Note,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json_with_readable_names() {
        let opened = Timestamp::from_micros(1_700_000_000_000_000).unwrap();
        let incident = Incident {
            id: Uuid::now_v7(),
            title: "Mirai-like botnet on the Telnet honeypot".into(),
            status: IncidentStatus::InProgress,
            resolution: None,
            severity: Severity::High,
            assignee: Some("alice".into()),
            alerts: vec![Uuid::now_v7()],
            created: opened,
            timeline: vec![
                TimelineEntry {
                    time: opened,
                    by: None,
                    action: TimelineAction::Opened,
                    text: "Opened from an alert".into(),
                },
                TimelineEntry {
                    time: opened,
                    by: Some("alice".into()),
                    action: TimelineAction::Note,
                    text: "Same loader URL as last week".into(),
                },
            ],
        };
        let json = serde_json::to_value(&incident).unwrap();
        assert_eq!(json["status"], "in_progress");
        assert_eq!(json["timeline"][1]["action"], "note");
        assert!(json.get("resolution").is_none());
        assert!(json["timeline"][0].get("by").is_none());
        assert_eq!(serde_json::from_value::<Incident>(json).unwrap(), incident);

        let closed = Incident {
            status: IncidentStatus::Closed,
            resolution: Some(Resolution::FalsePositive),
            assignee: None,
            ..incident
        };
        let json = serde_json::to_string(&closed).unwrap();
        assert!(json.contains("\"resolution\":\"false_positive\""), "{json}");
        assert_eq!(serde_json::from_str::<Incident>(&json).unwrap(), closed);
    }
}
