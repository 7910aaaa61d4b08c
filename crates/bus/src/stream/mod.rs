//! The committed-event stream: every stored event, once, in commit order, to every
//! consumer, even across a crash.
//!
//! The destination (the store's writer) numbers each newly stored event with a
//! commit sequence number (1, 2, 3, ... with no gaps; a resent event gets none)
//! and, after each commit, [`Fanout::publish`]es the batch. Each consumer has a
//! bounded queue of batches and a durable [`Offset`]: the last sequence number it
//! has handled, saved in the store. When its queue is full the batch is not
//! waited for but skipped and counted; the consumer notices the gap and reads the
//! missing events back from the store ([`CommittedLog`]), so a slow or restarted
//! consumer never blocks ingest and never misses an event.

mod lines;
mod runner;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use nectar_event::Event;

pub use lines::{JsonLines, LineFile, RenderLines};
pub use runner::{ConsumerConfig, ConsumerHandle, ConsumerProbe, ConsumerStatus, spawn_consumer};

/// Newly committed events: `events[i]` has sequence number `first_seq + i`.
#[derive(Debug)]
pub struct Committed {
    /// The sequence number of the first event.
    pub first_seq: u64,
    /// The events, in commit order.
    pub events: Vec<Event>,
}

impl Committed {
    /// The sequence number of the last event (`first_seq - 1` when empty).
    pub fn last_seq(&self) -> u64 {
        (self.first_seq + self.events.len() as u64).saturating_sub(1)
    }
}

/// A stored event with its sequence number, as the store reads it back.
#[derive(Debug, Clone)]
pub struct Sequenced {
    /// Its commit sequence number.
    pub seq: u64,
    /// The event.
    pub event: Event,
}

/// A consumer's durable position: everything up to `seq` is handled, and
/// `checkpoint` is the consumer's own note of where that left its output (a
/// file's length, say), saved with it in one row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offset {
    /// The last sequence number handled.
    pub seq: u64,
    /// The consumer's note (empty when it needs none).
    pub checkpoint: String,
}

/// Where a consumer that never ran before starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// With the events committed from now on (a new log file of an old store
    /// does not replay the past).
    Latest,
    /// With the first event ever stored.
    Beginning,
}

/// Why a read or write of the log failed (a database error, its text).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct LogError(pub String);

/// What the stream needs of the store: reading committed events back by
/// sequence number, and keeping offsets.
pub trait CommittedLog: Send + Sync + Clone + 'static {
    /// The highest sequence number committed (0 when nothing is stored).
    fn last_seq(&self) -> impl Future<Output = Result<u64, LogError>> + Send;
    /// Up to `limit` events with sequence numbers above `after`, in order.
    fn read_after(
        &self,
        after: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Sequenced>, LogError>> + Send;
    /// The saved offset of consumer `name`, if it ever saved one.
    fn load_offset(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<Offset>, LogError>> + Send;
    /// Saves consumer `name`'s offset.
    fn save_offset(
        &self,
        name: &str,
        offset: &Offset,
    ) -> impl Future<Output = Result<(), LogError>> + Send;
    /// Claims the right to run consumer `name` among every process reading this
    /// log: `None` while another process (or another consumer of this one) holds
    /// it. A log only one process reads grants it at once (the default).
    fn claim(&self, name: &str) -> impl Future<Output = Result<Option<Claim>, LogError>> + Send {
        let _ = name;
        std::future::ready(Ok(Some(Claim::always())))
    }
}

/// The right to run one consumer, held until dropped — or lost, when the
/// connection that held it broke ([`Claim::is_held`]): then another process
/// may have taken it, and this one must stop delivering and claim again.
pub struct Claim {
    held: Arc<AtomicBool>,
    _guard: Box<dyn Send + Sync>,
}

impl Claim {
    /// A claim nothing can take away (one process reads the log).
    pub fn always() -> Claim {
        Claim::new(Arc::new(AtomicBool::new(true)), Box::new(()))
    }

    /// A claim valid while `held` is true, released when `guard` is dropped.
    pub fn new(held: Arc<AtomicBool>, guard: Box<dyn Send + Sync>) -> Claim {
        Claim {
            held,
            _guard: guard,
        }
    }

    /// Whether it still holds (one atomic load).
    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Claim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claim")
            .field("held", &self.is_held())
            .finish()
    }
}

/// Why a consumer could not handle events (it will be given them again).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConsumerError(pub String);

impl ConsumerError {
    /// An error from anything printable.
    pub fn from_display(error: impl std::fmt::Display) -> ConsumerError {
        ConsumerError(error.to_string())
    }
}

/// Something that reads the committed stream: a log file, a time-series sink,
/// later rules and enrichment. It runs on a thread of its own
/// ([`spawn_consumer`]), so its methods may block.
///
/// The runner calls [`resume`](Consumer::resume) once with the saved checkpoint,
/// then [`deliver`](Consumer::deliver) with every event after the saved offset, in
/// order, and now and then [`checkpoint`](Consumer::checkpoint), saving the
/// answer with the offset of what was delivered. A consumer whose output lives
/// outside the store (a file) gets exactly-once by putting its output back to the
/// checkpoint in `resume`; one that cannot gets every event at least once.
pub trait Consumer: Send + 'static {
    /// Its stable name: the key of its offset, shown in `/api/v1/status`.
    fn name(&self) -> &str;
    /// Where it starts the first time it runs.
    fn start_at(&self) -> StartAt {
        StartAt::Latest
    }
    /// Puts its output back to `checkpoint` (from the last saved offset; empty the
    /// first time).
    fn resume(&mut self, checkpoint: &str) -> Result<(), ConsumerError>;
    /// Handles the next events; `events[i]` has sequence number `first_seq + i`.
    /// On an error the same events come again later.
    fn deliver(&mut self, first_seq: u64, events: &[Event]) -> Result<(), ConsumerError>;
    /// Makes what was delivered durable, and says where that left the output.
    fn checkpoint(&mut self) -> Result<String, ConsumerError>;
}

/// Live counters of one consumer, shared by its runner and the status page.
#[derive(Debug, Default)]
pub(crate) struct ConsumerState {
    pub(crate) offset: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) caught_up: AtomicU64,
    pub(crate) skipped_full: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) saved_offset: AtomicU64,
    /// Whether it holds its claim (runs in this process).
    pub(crate) active: AtomicBool,
    pub(crate) last_error: Mutex<Option<String>>,
}

struct Subscriber {
    tx: std::sync::mpsc::SyncSender<Arc<Committed>>,
    state: Arc<ConsumerState>,
}

/// Where the destination publishes committed batches, one bounded queue per
/// consumer. Publishing never waits.
#[derive(Default)]
pub struct Fanout {
    subscribers: Mutex<Vec<Subscriber>>,
    head: AtomicU64,
}

impl Fanout {
    /// A fanout with no consumers yet, shared by the destination and the runners.
    pub fn new() -> Arc<Fanout> {
        Arc::new(Fanout::default())
    }

    /// Hands `batch` to every consumer whose queue has room; the others will
    /// read it back from the store. Costs one reference count per consumer.
    pub fn publish(&self, batch: Committed) {
        if batch.events.is_empty() {
            return;
        }
        self.head.fetch_max(batch.last_seq(), Ordering::Relaxed);
        let subscribers = lock(&self.subscribers);
        if subscribers.is_empty() {
            return;
        }
        let n = batch.events.len() as u64;
        let batch = Arc::new(batch);
        for s in subscribers.iter() {
            if s.tx.try_send(batch.clone()).is_err() {
                s.state.skipped_full.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// The highest sequence number published so far.
    pub fn head(&self) -> u64 {
        self.head.load(Ordering::Relaxed)
    }

    /// Notes a sequence number committed before the fanout started (the store's
    /// last at start), so that lag is right before the first publish.
    pub fn note_head(&self, seq: u64) {
        self.head.fetch_max(seq, Ordering::Relaxed);
    }

    /// Closes every consumer's queue: they drain, catch up with the store and
    /// stop. The destination calls this when it stops.
    pub fn close(&self) {
        lock(&self.subscribers).clear();
    }

    pub(crate) fn subscribe(
        &self,
        capacity: usize,
        state: Arc<ConsumerState>,
    ) -> std::sync::mpsc::Receiver<Arc<Committed>> {
        let (tx, rx) = std::sync::mpsc::sync_channel(capacity.max(1));
        lock(&self.subscribers).push(Subscriber { tx, state });
        rx
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
