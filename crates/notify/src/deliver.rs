//! The delivery loop's side: picking due outbox rows per channel within the
//! concurrency bounds, one task per attempt, and recording each outcome in
//! the store as soon as it is known.
//!
//! At-least-once, with a small window: a row is marked delivered right after
//! the receiver accepted it. If the process dies (or the store fails) between
//! the two, the row is still pending and is sent again; webhook receivers
//! deduplicate on `webhook-id` and mail clients on `Message-ID`, both the
//! row's id. A row is never picked while an attempt at it runs (the in-flight
//! set), and only a pending row can be marked, so a delivered row is never
//! sent again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use nectar_event::Timestamp;
use nectar_store::{DueDelivery, Store, StoreError};
use tokio::task::JoinSet;
use tracing::{error, warn};
use uuid::Uuid;

use crate::backoff::{Backoff, Next};
use crate::error::SendError;
use crate::route::add;
use crate::send::Sender;
use crate::status::Counters;

/// How long a channel rests after the store failed to record its outcome.
const STORE_PAUSE: Duration = Duration::from_secs(5);

/// What an attempt ended with.
pub(crate) struct Done {
    id: Uuid,
    channel: String,
    /// The channel should rest this long (a 429's `Retry-After`, a store error).
    pause: Option<Duration>,
}

/// The running attempts and the bounds they respect.
pub(crate) struct Deliverer {
    store: Store,
    /// Channel names in configuration order, with their senders.
    senders: Vec<(String, Arc<Sender>)>,
    backoff: Backoff,
    max_in_flight: usize,
    channel_in_flight: usize,
    in_flight: HashMap<String, HashSet<Uuid>>,
    paused: HashMap<String, Timestamp>,
    pub(crate) tasks: JoinSet<Done>,
    counters: Arc<Counters>,
}

impl Deliverer {
    pub(crate) fn new(
        store: Store,
        senders: Vec<(String, Arc<Sender>)>,
        backoff: Backoff,
        max_in_flight: usize,
        channel_in_flight: usize,
        counters: Arc<Counters>,
    ) -> Deliverer {
        Deliverer {
            store,
            senders,
            backoff,
            max_in_flight: max_in_flight.max(1),
            channel_in_flight: channel_in_flight.max(1),
            in_flight: HashMap::new(),
            paused: HashMap::new(),
            tasks: JoinSet::new(),
            counters,
        }
    }

    fn total_in_flight(&self) -> usize {
        self.in_flight.values().map(HashSet::len).sum()
    }

    /// Starts attempts at due rows, channel by channel, while the bounds
    /// allow.
    pub(crate) async fn dispatch(&mut self, now: Timestamp) -> Result<(), StoreError> {
        self.paused
            .retain(|_, until| until.as_micros() > now.as_micros());
        for (channel, sender) in self.senders.clone() {
            if self
                .paused
                .get(&channel)
                .is_some_and(|until| until.as_micros() > now.as_micros())
            {
                continue;
            }
            let running = self.in_flight.get(&channel).map_or(0, HashSet::len);
            let free = self
                .channel_in_flight
                .saturating_sub(running)
                .min(self.max_in_flight.saturating_sub(self.total_in_flight()));
            if free == 0 {
                continue;
            }
            let due = self.store.notify_due(&channel, now, free + running).await?;
            let running_ids = self.in_flight.entry(channel.clone()).or_default();
            let mut started = 0;
            for delivery in due {
                if started == free {
                    break;
                }
                if !running_ids.insert(delivery.id) {
                    continue;
                }
                started += 1;
                Counters::add(&self.counters.in_flight, 1);
                self.tasks.spawn(attempt(
                    self.store.clone(),
                    sender.clone(),
                    self.backoff,
                    self.counters.clone(),
                    delivery,
                ));
            }
        }
        Ok(())
    }

    /// Books an attempt that ended.
    pub(crate) fn finished(&mut self, done: Done) {
        if let Some(ids) = self.in_flight.get_mut(&done.channel) {
            ids.remove(&done.id);
        }
        self.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
        if let Some(pause) = done.pause {
            self.paused.insert(
                done.channel,
                add(Timestamp::now(), pause.min(self.backoff.max)),
            );
        }
    }

    /// A task ended without booking itself (it panicked or was aborted).
    pub(crate) fn lost(&mut self) {
        // Its id stays in the in-flight set; forget them all once nothing runs.
        if self.tasks.is_empty() {
            self.in_flight.clear();
            self.counters.in_flight.store(0, Ordering::Relaxed);
        }
    }

    /// The earliest time after `now` a paused channel may be tried again.
    pub(crate) fn next_unpause(&self, now: Timestamp) -> Option<Timestamp> {
        self.paused
            .values()
            .copied()
            .filter(|t| t.as_micros() > now.as_micros())
            .min_by_key(|t| t.as_micros())
    }
}

/// One attempt at `delivery`, its outcome recorded in the store.
async fn attempt(
    store: Store,
    sender: Arc<Sender>,
    backoff: Backoff,
    counters: Arc<Counters>,
    delivery: DueDelivery,
) -> Done {
    let result = sender.send(&delivery).await;
    let now = Timestamp::now();
    let attempts = delivery.attempts.saturating_add(1);
    let channel = delivery.channel.clone();
    let mut pause = None;
    let written = match result {
        Ok(()) => {
            let written = store.notify_delivered(delivery.id, now).await;
            Counters::add(&counters.delivered, 1);
            counters.channel(&channel, |c| {
                c.delivered += 1;
                c.pending = c.pending.saturating_sub(1);
                c.last_delivered = Some(now);
            });
            written
        }
        Err(error) => {
            let (reason, next) = match &error {
                SendError::Permanent(reason) => (format!("refused: {reason}"), Next::GiveUp),
                SendError::Retry { reason, after } => {
                    pause = *after;
                    let age = Duration::from_micros(
                        now.as_micros()
                            .saturating_sub(delivery.created.as_micros())
                            .max(0) as u64,
                    );
                    (reason.clone(), backoff.next(attempts, age, *after))
                }
            };
            let dead = next == Next::GiveUp;
            warn!(
                channel = %channel,
                delivery = %delivery.id,
                attempts,
                dead,
                error = %reason,
                "A notification was not delivered."
            );
            counters.channel(&channel, |c| {
                c.failed += 1;
                c.last_error = Some(reason.clone());
                c.last_error_at = Some(now);
                if dead {
                    c.dead += 1;
                    c.pending = c.pending.saturating_sub(1);
                }
            });
            match next {
                Next::RetryIn(wait) => {
                    Counters::add(&counters.retried, 1);
                    store
                        .notify_failed(delivery.id, now, Some(add(now, wait)), &reason)
                        .await
                }
                Next::GiveUp => {
                    Counters::add(&counters.dead, 1);
                    let reason = format!("{reason} (gave up after {attempts} attempts)");
                    store.notify_failed(delivery.id, now, None, &reason).await
                }
            }
        }
    };
    if let Err(e) = written {
        // The row is still pending: it will be sent again once the store
        // answers (at-least-once); rest the channel meanwhile.
        error!(channel = %channel, delivery = %delivery.id, error = %e, "A notification's outcome could not be stored.");
        Counters::add(&counters.store_errors, 1);
        pause = Some(STORE_PAUSE);
    }
    Done {
        id: delivery.id,
        channel,
        pause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::add;

    #[tokio::test]
    async fn a_pause_that_has_ended_neither_wakes_nor_holds_the_loop() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&nectar_store::StoreConfig::new(dir.path().join("n.db")))
            .await
            .unwrap();
        let backoff = Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            max_attempts: 3,
            max_age: Duration::from_secs(3600),
        };
        let counters = Arc::new(Counters::default());
        let mut d = Deliverer::new(store.clone(), Vec::new(), backoff, 4, 2, counters);
        let now = Timestamp::now();
        d.paused.insert("gone".into(), add(now, Duration::ZERO));
        d.paused
            .insert("later".into(), add(now, Duration::from_secs(30)));
        assert_eq!(
            d.next_unpause(add(now, Duration::from_secs(1))),
            Some(add(now, Duration::from_secs(30)))
        );
        d.dispatch(add(now, Duration::from_secs(1))).await.unwrap();
        assert_eq!(d.paused.len(), 1);
        d.dispatch(add(now, Duration::from_secs(31))).await.unwrap();
        assert_eq!(d.next_unpause(add(now, Duration::from_secs(31))), None);
        store.close().await;
    }
}
