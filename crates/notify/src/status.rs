//! The notifier's counters, for `GET /api/v1/status` and the Settings page:
//! totals since start and per channel, kept by the notifier's own task and
//! read as a [`NotifyStatus`] snapshot by anyone holding a [`StatusHandle`].

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use nectar_event::Timestamp;
use serde::Serialize;

/// What the notifier has done since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NotifyStatus {
    /// Messages written to the outbox.
    pub queued: u64,
    /// Messages receivers accepted.
    pub delivered: u64,
    /// Failed attempts that will be tried again.
    pub retried: u64,
    /// Messages given up (now in the dead-letter list).
    pub dead: u64,
    /// Messages not queued: their channel's queue was full (`max_pending`),
    /// or their route was removed while it gathered them.
    pub dropped: u64,
    /// Alerts gathered into digests and rate-limit summaries.
    pub gathered: u64,
    /// Attempts running now.
    pub in_flight: u64,
    /// Messages waiting in the outbox (refreshed every minute and on change).
    pub pending: u64,
    /// The last alert notice handled (feed position).
    pub notice_offset: i64,
    /// Store errors the notifier met (it retries after each).
    pub store_errors: u64,
    /// Per channel, in configuration order.
    pub channels: Vec<ChannelStatus>,
}

/// One channel's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChannelStatus {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Messages waiting.
    pub pending: u64,
    /// Messages accepted.
    pub delivered: u64,
    /// Failed attempts.
    pub failed: u64,
    /// Messages given up.
    pub dead: u64,
    /// The last failure (receiver text, bounded: escape it for display).
    pub last_error: Option<String>,
    /// When the last failure was.
    pub last_error_at: Option<Timestamp>,
    /// When a message was last accepted.
    pub last_delivered: Option<Timestamp>,
}

/// Shared counters: cheap to update from delivery tasks.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub queued: AtomicU64,
    pub delivered: AtomicU64,
    pub retried: AtomicU64,
    pub dead: AtomicU64,
    pub dropped: AtomicU64,
    pub gathered: AtomicU64,
    pub in_flight: AtomicU64,
    pub notice_offset: AtomicI64,
    pub store_errors: AtomicU64,
    pub channels: Mutex<Vec<ChannelStatus>>,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn channels(&self) -> MutexGuard<'_, Vec<ChannelStatus>> {
        self.channels.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on channel `name`'s counters.
    pub(crate) fn channel(&self, name: &str, f: impl FnOnce(&mut ChannelStatus)) {
        if let Some(c) = self.channels().iter_mut().find(|c| c.name == name) {
            f(c);
        }
    }
}

/// A reader of the notifier's counters.
#[derive(Debug, Clone)]
pub struct StatusHandle(pub(crate) Arc<Counters>);

impl StatusHandle {
    /// The counters now.
    pub fn snapshot(&self) -> NotifyStatus {
        let c = &self.0;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let channels = c.channels().clone();
        NotifyStatus {
            queued: load(&c.queued),
            delivered: load(&c.delivered),
            retried: load(&c.retried),
            dead: load(&c.dead),
            dropped: load(&c.dropped),
            gathered: load(&c.gathered),
            in_flight: load(&c.in_flight),
            pending: channels.iter().map(|ch| ch.pending).sum(),
            notice_offset: c.notice_offset.load(Ordering::Relaxed),
            store_errors: load(&c.store_errors),
            channels,
        }
    }
}
