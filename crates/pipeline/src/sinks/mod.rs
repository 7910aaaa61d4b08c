//! Where the live detector's windows and the stored alarms go besides the
//! store: [`windows_jsonl`] (a JSON-lines file, one line per window) and
//! [`influx`] (InfluxDB line protocol over HTTP: windows from the detector,
//! alarms and, if asked, every event from the committed stream through
//! [`influx_stream`]). Each counts what it wrote,
//! dropped and failed in a [`SinkStats`], which the detector's status
//! reports, so nothing a sink loses is silent.
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use nectar_detect::SinkCounters;

pub mod influx;
pub mod influx_stream;
pub mod windows_jsonl;

/// A sink's counters, shared between the sink and whoever reports them.
#[derive(Debug, Default)]
pub struct SinkStats {
    /// Records (points, lines) written.
    pub written: AtomicU64,
    /// Records dropped: queue or buffer full, refused by the server.
    pub dropped: AtomicU64,
    /// Failed write attempts.
    pub errors: AtomicU64,
}

impl SinkStats {
    /// The counters now.
    pub fn counters(&self) -> SinkCounters {
        SinkCounters {
            written: self.written.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}
