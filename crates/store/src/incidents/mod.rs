//! Incidents in the store: the record and its changes (each in the history),
//! the list with filters and a keyset cursor, escalating alerts into a new or
//! existing incident and merging two, and the case's parts (comments, tasks,
//! observables, hand-written timeline entries, attachments kept by SHA-256).
//!
//! Every change is one transaction that also appends to `incident_history`
//! (who, when, `{"field": [old, new]}`), so the history cannot miss a step.

mod attachments;
mod escalate;
mod history;
mod list;
mod parts;
mod record;

use nectar_event::Timestamp;
use serde::Serialize;
use uuid::Uuid;

pub use attachments::{Attachment, DEFAULT_MAX_ATTACHMENT_BYTES};
pub use history::IncidentChange;
pub use list::{IncidentCursor, IncidentFilter, MAX_INCIDENT_PAGE};
pub use parts::{Comment, IncidentObservable, NewObservable, Task, TimelineNote};
pub use record::{IncidentPatch, NewIncident};

/// Why a change to an incident was refused (the request, not the database).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    /// No incident has this id (or it was deleted).
    #[error("no incident with id {0}")]
    NotFound(Uuid),
    /// Closing needs a reason.
    #[error(
        "resolution: closing an incident needs one of true_positive_with_impact, \
         true_positive_without_impact, false_positive, benign, duplicate"
    )]
    ResolutionMissing,
    /// A resolution on an incident that stays open.
    #[error("resolution: only for closed incidents; send status \"closed\" with it")]
    ResolutionWithoutClose,
    /// An escalated alert does not exist.
    #[error("alerts: no alert with id {0}")]
    AlertMissing(Uuid),
    /// An escalated alert is already in another incident.
    #[error("alerts: alert {alert} is already in incident {incident}")]
    AlertTaken {
        /// The alert.
        alert: Uuid,
        /// The incident holding it.
        incident: Uuid,
    },
    /// An incident merged into itself.
    #[error("into: an incident cannot be merged into itself")]
    MergeSelf,
    /// A task id that is not this incident's.
    #[error("no task {0} in this incident")]
    TaskMissing(i64),
}

/// Wraps a JSON (de)serialisation failure of a stored incident.
pub(crate) fn corrupt(id: Uuid, e: impl std::fmt::Display) -> crate::StoreError {
    crate::StoreError::CorruptRow {
        id: id.to_string(),
        reason: e.to_string(),
    }
}

/// A stored time in microseconds, or the epoch if it no longer reads.
pub(crate) fn at(us: i64) -> Timestamp {
    Timestamp::from_micros(us).unwrap_or(Timestamp::EPOCH)
}

/// One count a page shows beside an incident.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IncidentCounts {
    /// Alerts it holds.
    pub alerts: u64,
    /// Events of those alerts.
    pub events: u64,
    /// Observables.
    pub observables: u64,
    /// Tasks, and how many are done.
    pub tasks: u64,
    /// Tasks done.
    pub tasks_done: u64,
    /// Comments.
    pub comments: u64,
    /// Attachments.
    pub attachments: u64,
}

#[cfg(test)]
mod tests;
