//! The seam between the bus and what stores (or ships) its events.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use nectar_event::EventError;
use tokio::sync::oneshot;

use crate::BusStats;

/// What became of a submitted batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IngestOutcome {
    /// Events newly stored.
    pub stored: usize,
    /// Events whose id was already stored (a resent batch); kept once.
    pub duplicates: usize,
}

/// Why a batch was not stored.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The destination has stopped (the server is shutting down): nothing new is accepted.
    #[error("the event writer has stopped; the server is shutting down")]
    Closed,
    /// An event of the batch breaks the event limits; nothing of the batch was stored.
    #[error("event {index}: {error}")]
    Invalid {
        /// Its place in the batch, from 0.
        index: usize,
        /// What is wrong with it.
        error: EventError,
    },
    /// The destination failed to store the batch (a database error, a full disk).
    #[error("{0}")]
    Failed(String),
}

/// Where a batch's outcome goes once the destination is done with it: a waiting
/// producer, or the bus's counters for events nobody waits for.
///
/// Dropping an `Ack` without completing it counts as [`IngestError::Closed`], so
/// a destination that stops half way cannot lose an outcome silently.
pub struct Ack(Option<AckTo>);

enum AckTo {
    Reply(oneshot::Sender<Result<IngestOutcome, IngestError>>),
    Count { stats: Arc<BusStats>, events: u64 },
}

impl Ack {
    /// An ack answered on a channel; the receiver gets the outcome.
    pub fn channel() -> (Ack, oneshot::Receiver<Result<IngestOutcome, IngestError>>) {
        let (tx, rx) = oneshot::channel();
        (Ack(Some(AckTo::Reply(tx))), rx)
    }

    /// An ack that only counts `events` as forwarded or failed in `stats`.
    pub(crate) fn count(stats: Arc<BusStats>, events: usize) -> Ack {
        Ack(Some(AckTo::Count {
            stats,
            events: events as u64,
        }))
    }

    /// Delivers the outcome.
    pub fn complete(mut self, outcome: Result<IngestOutcome, IngestError>) {
        if let Some(to) = self.0.take() {
            deliver(to, outcome);
        }
    }
}

impl Drop for Ack {
    fn drop(&mut self) {
        if let Some(to) = self.0.take() {
            deliver(to, Err(IngestError::Closed));
        }
    }
}

fn deliver(to: AckTo, outcome: Result<IngestOutcome, IngestError>) {
    match to {
        // A producer that stopped waiting (its client went away) needs no answer.
        AckTo::Reply(tx) => drop(tx.send(outcome)),
        AckTo::Count { stats, events } => match outcome {
            Ok(done) => {
                stats
                    .forwarded
                    .fetch_add(done.stored as u64, Ordering::Relaxed);
                stats
                    .duplicates
                    .fetch_add(done.duplicates as u64, Ordering::Relaxed);
            }
            Err(error) => {
                stats.failed.fetch_add(events, Ordering::Relaxed);
                tracing::error!(%error, events, "Events from the bus could not be stored.");
            }
        },
    }
}

/// What the bus forwards to: it takes a batch into its queue (waiting only for
/// room there) and completes the [`Ack`] after the batch is committed.
pub trait Ingest: Send + Sync + 'static {
    /// Queues `events`, stored all or none; `ack` is completed once they are
    /// committed (or refused). Returns when the batch is queued, not committed.
    fn enqueue(
        &self,
        events: Vec<nectar_event::Event>,
        ack: Ack,
    ) -> impl Future<Output = ()> + Send;
}
