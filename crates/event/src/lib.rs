//! Nectar's event model: the one type every source produces and every sink consumes.
//!
//! An [`Event`] is what a sensor saw (a failed SSH login, an HTTP request, a network
//! alarm). Its JSON field names (`id, time, sensor, kind, severity, src_ip, src_port,
//! dst_ip, dst_port, summary, data`) are part of Nectar's public interface: sensors
//! post them, the API returns them and the JSON-lines log stores them.
//!
//! Beside events it holds what the rest of Nectar needs to agree on about them:
//! each [`Kind`]'s [`Protocol`] and [`Category`], the names of shared `data`
//! fields ([`field`]), the [`Alert`], [`Incident`] and [`Host`] types, and how
//! attacker text is clipped and shown ([`text`]).
//!
//! This crate knows nothing of storage, HTTP or async runtimes, so detectors and
//! parsers can depend on it without pulling those in.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod alert;
pub mod config;
mod event;
pub mod field;
mod host;
mod incident;
mod incident_template;
mod kind;
mod severity;
pub mod text;
mod timestamp;

pub use alert::{
    Alert, AlertResolution, AlertRule, AlertStatus, MAX_ALERT_OBSERVABLES, Observable,
    ObservableKind,
};
pub use event::{Event, EventError, IncomingEvent, Limits};
pub use host::{Host, Service, Transport};
pub use incident::{
    Classification, Incident, IncidentStatus, Resolution, Tlp, classification, valid_technique,
};
pub use incident_template::{IncidentTemplate, TEMPLATES};
pub use kind::{Category, Kind, Protocol, UnknownKind};
pub use severity::{Severity, UnknownSeverity};
pub use timestamp::{Timestamp, TimestampError};
