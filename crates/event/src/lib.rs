//! Nectar's event model: the one type every source produces and every sink consumes.
//!
//! An [`Event`] is what a sensor saw (a failed SSH login, an HTTP request, a network
//! alarm). Its JSON field names (`id, time, sensor, kind, severity, src_ip, src_port,
//! dst_ip, dst_port, summary, data`) are part of Nectar's public interface: sensors
//! post them, the API returns them and the JSON-lines log stores them.
//!
//! This crate knows nothing of storage, HTTP or async runtimes, so detectors and
//! parsers can depend on it without pulling those in.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
mod event;
mod kind;
mod severity;
mod timestamp;

pub use event::{Event, EventError, IncomingEvent, Limits};
pub use kind::{Kind, UnknownKind};
pub use severity::{Severity, UnknownSeverity};
pub use timestamp::{Timestamp, TimestampError};
