//! A producer's handle on the bus, and the bus's counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nectar_event::Event;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::{Ack, IngestError, IngestOutcome};

/// Counters of the bus, read by `/api/v1/status`.
#[derive(Debug, Default)]
pub struct BusStats {
    /// Events handed to the destination and committed.
    pub forwarded: AtomicU64,
    /// Events the destination had stored before (resent), kept once.
    pub duplicates: AtomicU64,
    /// Events refused by `try_send` because the queue was full.
    pub dropped_full: AtomicU64,
    /// Events the destination failed to store, or sent after the bus stopped.
    pub failed: AtomicU64,
    /// In-process events that broke the event limits (a bug in their producer),
    /// refused and logged.
    pub invalid: AtomicU64,
    /// Batches submitted by producers that wait for the commit (the API).
    pub batches: AtomicU64,
    /// Events whose `data` was cut to their sender's bound
    /// ([`EventSender::with_data_bound`]).
    pub clipped: AtomicU64,
}

/// The bus counters at one moment, for status pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BusCounts {
    /// Events committed from loose sends.
    pub forwarded: u64,
    /// Resent events kept once.
    pub duplicates: u64,
    /// Refused because the queue was full.
    pub dropped_full: u64,
    /// Failed to store.
    pub failed: u64,
    /// Refused for breaking the event limits.
    pub invalid: u64,
    /// Waited-for batches submitted.
    pub batches: u64,
    /// Events whose `data` was cut to their sender's bound.
    pub clipped: u64,
    /// Messages in the queue now.
    pub queued: u64,
    /// The queue's capacity.
    pub capacity: u64,
}

/// What travels on the bus's channel.
pub(crate) enum Envelope {
    /// An event whose producer does not wait for its commit.
    Loose(Event),
    /// A batch stored all or none; its producer waits on the ack.
    Batch(Vec<Event>, Ack),
}

/// A producer's handle on the bus. Cheap to clone.
#[derive(Clone)]
pub struct EventSender {
    tx: mpsc::Sender<Envelope>,
    stats: Arc<BusStats>,
    /// Loose events' `data` is cut to this many bytes of JSON before queuing
    /// (see [`EventSender::with_data_bound`]).
    data_bound: Option<usize>,
}

impl EventSender {
    pub(crate) fn new(capacity: usize) -> (EventSender, mpsc::Receiver<Envelope>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (
            EventSender {
                tx,
                stats: Arc::default(),
                data_bound: None,
            },
            rx,
        )
    }

    /// This sender, but cutting each loose event's `data` to `max_bytes` of
    /// JSON ([`Event::fit_data`], counted in `clipped`) before it is queued:
    /// for producers anyone can feed (honeypots), whose events should stay far
    /// smaller than the limit every event keeps.
    pub fn with_data_bound(mut self, max_bytes: usize) -> EventSender {
        self.data_bound = Some(max_bytes);
        self
    }

    fn bounded(&self, mut event: Event) -> Event {
        if let Some(max) = self.data_bound
            && event.fit_data(max)
        {
            self.stats.clipped.fetch_add(1, Ordering::Relaxed);
        }
        event
    }

    /// Queues an event, waiting while the queue is full.
    pub async fn send(&self, event: Event) {
        let event = self.bounded(event);
        if self.tx.send(Envelope::Loose(event)).await.is_err() {
            self.stats.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queues an event if there is room now; returns false (and counts it) otherwise.
    pub fn try_send(&self, event: Event) -> bool {
        let event = self.bounded(event);
        match self.tx.try_send(Envelope::Loose(event)) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.stats.dropped_full.fetch_add(1, Ordering::Relaxed);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Queues an event from a thread outside the async runtime (a consumer, the
    /// packet loop), waiting while the queue is full.
    pub fn blocking_send(&self, event: Event) {
        let event = self.bounded(event);
        if self.tx.blocking_send(Envelope::Loose(event)).is_err() {
            self.stats.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Stores `events` all or none, through the same checks and the same
    /// destination as every other event, and returns once they are committed.
    pub async fn submit(&self, events: Vec<Event>) -> Result<IngestOutcome, IngestError> {
        if events.is_empty() {
            return Ok(IngestOutcome::default());
        }
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        let (ack, answer) = Ack::channel();
        self.tx
            .send(Envelope::Batch(events, ack))
            .await
            .map_err(|_| IngestError::Closed)?;
        answer.await.map_err(|_| IngestError::Closed)?
    }

    /// Free places in the queue now (a full queue makes producers wait).
    pub fn room(&self) -> usize {
        self.tx.capacity()
    }

    /// Places in the queue when empty.
    pub fn capacity(&self) -> usize {
        self.tx.max_capacity()
    }

    /// The bus counters.
    pub fn stats(&self) -> &BusStats {
        &self.stats
    }

    pub(crate) fn stats_arc(&self) -> Arc<BusStats> {
        self.stats.clone()
    }

    /// The counters and the queue's fill now.
    pub fn counts(&self) -> BusCounts {
        let s = &self.stats;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        BusCounts {
            forwarded: get(&s.forwarded),
            duplicates: get(&s.duplicates),
            dropped_full: get(&s.dropped_full),
            failed: get(&s.failed),
            invalid: get(&s.invalid),
            batches: get(&s.batches),
            clipped: get(&s.clipped),
            queued: (self.tx.max_capacity() - self.tx.capacity()) as u64,
            capacity: self.tx.max_capacity() as u64,
        }
    }

    /// A sender whose events go nowhere but into the returned receiver (for tests
    /// of producers). Batches submitted on it are answered as stored.
    pub fn channel(capacity: usize) -> (EventSender, EventReceiver) {
        let (sender, rx) = EventSender::new(capacity);
        (
            sender,
            EventReceiver {
                rx,
                pending: std::collections::VecDeque::new(),
            },
        )
    }
}

/// The other end of [`EventSender::channel`]: every event sent, in order.
pub struct EventReceiver {
    rx: mpsc::Receiver<Envelope>,
    pending: std::collections::VecDeque<Event>,
}

impl EventReceiver {
    fn unpack(&mut self, envelope: Envelope) {
        match envelope {
            Envelope::Loose(event) => self.pending.push_back(event),
            Envelope::Batch(events, ack) => {
                let stored = events.len();
                self.pending.extend(events);
                ack.complete(Ok(IngestOutcome {
                    stored,
                    duplicates: 0,
                }));
            }
        }
    }

    /// The next event, waiting for one; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            let envelope = self.rx.recv().await?;
            self.unpack(envelope);
        }
    }

    /// The next event if one is queued now.
    pub fn try_recv(&mut self) -> Result<Event, mpsc::error::TryRecvError> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(event);
            }
            let envelope = self.rx.try_recv()?;
            self.unpack(envelope);
        }
    }
}
