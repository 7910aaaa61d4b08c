//! The forwarding task: the one path from every producer to the destination.

use std::sync::atomic::Ordering;
use std::time::Duration;

use nectar_event::{Event, Limits};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::error;

use crate::sender::Envelope;
use crate::{Ack, EventSender, Ingest, IngestError};

/// How long the bus waits, after the first loose event of a burst, for the rest of it.
///
/// A brute force makes a connection, a failed login and a close a few tens of
/// microseconds apart, thousands of times a second. Committed as they come, each
/// transaction would hold a few events, and a transaction has a fixed cost (its WAL
/// frames, the rollups, the hand-offs to SQLite's thread): the ingest bench stores
/// events 2.5x slower in transactions of ~100 than of ~1,000. Short enough that
/// nobody sees it in the UI. Measured against 10 ms (`scripts/bench_telnet_honeypot.sh`,
/// alternating builds): 7–10 % less server CPU per failed Telnet login.
///
/// Batches that a producer waits for (the API's) are never held back by it.
pub const BUS_LINGER: Duration = Duration::from_millis(50);

/// The bus's queue and batching.
#[derive(Debug, Clone)]
pub struct BusConfig {
    /// Messages (loose events or waited-for batches) the queue holds before
    /// producers wait (`send`) or are refused (`try_send`).
    pub capacity: usize,
    /// Most loose events handed on in one batch.
    pub max_batch: usize,
    /// See [`BUS_LINGER`]; zero hands on whatever is queued at once.
    pub linger: Duration,
    /// The bounds every event must keep, whoever produced it.
    pub limits: Limits,
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            capacity: 65_536,
            max_batch: 5_000,
            linger: BUS_LINGER,
            limits: Limits::default(),
        }
    }
}

/// Starts the forwarding task in front of `destination`. Every event sent on the
/// returned sender is checked against `config.limits`; loose events are handed on
/// in batches of at most `max_batch`, each gathered for up to `linger` after its
/// first event, and waited-for batches are handed on as they come, whole. The
/// task ends when every sender is dropped and the queue is drained.
pub fn spawn_bus<I: Ingest>(destination: I, config: BusConfig) -> (EventSender, JoinHandle<()>) {
    let (sender, rx) = EventSender::new(config.capacity);
    let forwarder = Forwarder {
        destination,
        stats: sender.stats_arc(),
        max_batch: config.max_batch.max(1),
        linger: config.linger,
        limits: config.limits,
        loose: Vec::new(),
    };
    (sender, tokio::spawn(forwarder.run(rx)))
}

struct Forwarder<I> {
    destination: I,
    stats: std::sync::Arc<crate::BusStats>,
    max_batch: usize,
    linger: Duration,
    limits: Limits,
    loose: Vec<Event>,
}

impl<I: Ingest> Forwarder<I> {
    async fn run(mut self, mut rx: mpsc::Receiver<Envelope>) {
        let mut incoming = Vec::with_capacity(self.max_batch);
        while rx.recv_many(&mut incoming, self.max_batch).await > 0 {
            self.take(&mut incoming).await;
            if !self.loose.is_empty() && self.loose.len() < self.max_batch && !self.linger.is_zero()
            {
                // Gather the rest of the burst; batches that arrive meanwhile go on at once.
                let deadline = tokio::time::Instant::now() + self.linger;
                while self.loose.len() < self.max_batch {
                    let room = self.max_batch - self.loose.len();
                    match tokio::time::timeout_at(deadline, rx.recv_many(&mut incoming, room)).await
                    {
                        Ok(0) | Err(_) => break,
                        Ok(_) => self.take(&mut incoming).await,
                    }
                }
            }
            self.flush().await;
        }
        self.flush().await;
    }

    /// Checks what arrived: loose events join the burst, batches go on whole.
    async fn take(&mut self, incoming: &mut Vec<Envelope>) {
        for envelope in incoming.drain(..) {
            match envelope {
                Envelope::Loose(event) => match event.validate(&self.limits) {
                    Ok(()) => self.loose.push(event),
                    Err(error) => {
                        self.stats.invalid.fetch_add(1, Ordering::Relaxed);
                        error!(%error, kind = %event.kind, sensor = %event.sensor,
                            "An event broke the event limits and was refused (a producer's bug).");
                    }
                },
                Envelope::Batch(events, ack) => {
                    let bad = events.iter().enumerate().find_map(|(index, e)| {
                        e.validate(&self.limits).err().map(|err| (index, err))
                    });
                    match bad {
                        Some((index, error)) => {
                            ack.complete(Err(IngestError::Invalid { index, error }))
                        }
                        None => self.destination.enqueue(events, ack).await,
                    }
                }
            }
            if self.loose.len() >= self.max_batch {
                self.flush().await;
            }
        }
    }

    async fn flush(&mut self) {
        if self.loose.is_empty() {
            return;
        }
        let events = std::mem::replace(&mut self.loose, Vec::with_capacity(self.max_batch));
        let ack = Ack::count(self.stats.clone(), events.len());
        self.destination.enqueue(events, ack).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IngestOutcome;
    use nectar_event::{Kind, Severity};
    use std::sync::{Arc, Mutex};

    /// A destination that records the batches it is given.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<usize>>>);

    impl Ingest for Recorder {
        async fn enqueue(&self, events: Vec<Event>, ack: Ack) {
            self.0.lock().unwrap().push(events.len());
            ack.complete(Ok(IngestOutcome {
                stored: events.len(),
                duplicates: 0,
            }));
        }
    }

    fn event(summary: &str) -> Event {
        Event::new("test", Kind::SensorStatus, Severity::Info, summary)
    }

    #[tokio::test]
    async fn loose_events_go_in_bursts_and_batches_whole() {
        let recorder = Recorder::default();
        let (bus, task) = spawn_bus(
            recorder.clone(),
            BusConfig {
                linger: Duration::from_millis(20),
                ..BusConfig::default()
            },
        );
        for i in 0..10 {
            bus.send(event(&format!("e{i}"))).await;
        }
        let outcome = bus
            .submit(vec![event("a"), event("b"), event("c")])
            .await
            .unwrap();
        assert_eq!(outcome.stored, 3);
        drop(bus);
        task.await.unwrap();
        let batches = recorder.0.lock().unwrap().clone();
        assert!(batches.contains(&3), "{batches:?}");
        assert_eq!(batches.iter().sum::<usize>(), 13, "{batches:?}");
    }

    #[tokio::test]
    async fn every_producer_meets_the_same_limits() {
        let recorder = Recorder::default();
        let limits = Limits {
            max_summary_bytes: 4,
            ..Limits::default()
        };
        let (bus, task) = spawn_bus(
            recorder.clone(),
            BusConfig {
                limits,
                ..BusConfig::default()
            },
        );
        let refused = bus.submit(vec![event("ok"), event("too long")]).await;
        assert!(
            matches!(refused, Err(IngestError::Invalid { index: 1, .. })),
            "{refused:?}"
        );
        bus.send(event("too long")).await;
        bus.send(event("fine")).await;
        let stats = bus.stats_arc();
        drop(bus);
        task.await.unwrap();
        assert_eq!(stats.invalid.load(Ordering::Relaxed), 1);
        assert_eq!(stats.forwarded.load(Ordering::Relaxed), 1);
        assert_eq!(recorder.0.lock().unwrap().iter().sum::<usize>(), 1);
    }
}
