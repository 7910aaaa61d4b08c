//! The event bus: how sensors inside the process (honeypots, detectors) hand events
//! to the store without knowing it exists.
//!
//! A producer holds an [`EventSender`], a bounded channel of `Event`s; one forwarding
//! task drains it in batches into the writer, a burst at a time (see [`BUS_LINGER`]).
//! Producers never wait for a commit, so an attacker's session is not slowed by the
//! disk; when the channel is full,
//! `send` waits (backpressure) and `try_send` refuses, and the bus counts what was
//! refused so a full queue is visible, never silent.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nectar_event::Event;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::error;

use crate::WriterHandle;

/// Counters of the bus.
#[derive(Debug, Default)]
pub struct BusStats {
    /// Events handed to the writer and committed.
    pub forwarded: AtomicU64,
    /// Events refused by `try_send` because the queue was full.
    pub dropped_full: AtomicU64,
    /// Events the writer failed to store.
    pub failed: AtomicU64,
}

/// A producer's handle on the bus. Cheap to clone.
#[derive(Clone)]
pub struct EventSender {
    tx: mpsc::Sender<Event>,
    stats: Arc<BusStats>,
}

impl EventSender {
    /// Queues an event, waiting while the queue is full.
    pub async fn send(&self, event: Event) {
        if self.tx.send(event).await.is_err() {
            self.stats.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queues an event if there is room now; returns false (and counts it) otherwise.
    pub fn try_send(&self, event: Event) -> bool {
        match self.tx.try_send(event) {
            Ok(()) => true,
            Err(_) => {
                self.stats.dropped_full.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// The bus counters.
    pub fn stats(&self) -> &BusStats {
        &self.stats
    }

    /// A sender whose events go nowhere but into the returned receiver (for tests of
    /// producers).
    pub fn channel(capacity: usize) -> (EventSender, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (
            EventSender {
                tx,
                stats: Arc::default(),
            },
            rx,
        )
    }
}

/// How long the bus waits, after the first event of a burst, for the rest of it.
///
/// A brute force makes a connection, a failed login and a close a few tens of
/// microseconds apart, thousands of times a second. Committed as they come, each
/// transaction would hold a few events, and a transaction has a fixed cost (its WAL
/// frames, the rollups, the JSON-lines write, the hand-offs to SQLite's thread): the
/// ingest bench stores events 2.5x slower in transactions of ~100 than of ~1,000.
/// Short enough that nobody sees it in the UI. Measured against 10 ms
/// (`scripts/bench_telnet_honeypot.sh`, alternating builds): 7–10 % less server CPU
/// per failed Telnet login.
pub const BUS_LINGER: Duration = Duration::from_millis(50);

/// Starts the forwarding task: events sent on the returned sender are committed in
/// batches of at most `max_batch`, each gathered for up to `linger` after its first
/// event (see [`BUS_LINGER`]; zero commits whatever is queued at once). Producers never
/// wait for the linger, only for room in the queue. The task ends when every sender
/// is dropped and the queue is drained.
pub fn spawn_bus(
    writer: WriterHandle,
    capacity: usize,
    max_batch: usize,
    linger: Duration,
) -> (EventSender, JoinHandle<()>) {
    let (sender, mut rx) = EventSender::channel(capacity);
    let stats = sender.stats.clone();
    let max_batch = max_batch.max(1);
    let task = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(max_batch);
        while rx.recv_many(&mut batch, max_batch).await > 0 {
            if batch.len() < max_batch && !linger.is_zero() {
                tokio::time::sleep(linger).await;
                while batch.len() < max_batch {
                    match rx.try_recv() {
                        Ok(event) => batch.push(event),
                        Err(_) => break,
                    }
                }
            }
            let events = std::mem::replace(&mut batch, Vec::with_capacity(max_batch));
            let n = events.len() as u64;
            match writer.submit(events).await {
                Ok(_) => {
                    stats.forwarded.fetch_add(n, Ordering::Relaxed);
                }
                Err(err) => {
                    stats.failed.fetch_add(n, Ordering::Relaxed);
                    error!(error = %err, events = n, "Events from the bus could not be stored.");
                }
            }
        }
    });
    (sender, task)
}
