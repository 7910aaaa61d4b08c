//! The notifier: one task on the shared runtime that reads the alert notice
//! feed into the outbox ([`crate::intake`]) and sends what is due
//! ([`crate::deliver`]), until stopped. It touches neither the ingest path nor
//! the web server: a dead or slow receiver only fills its own outbox, within
//! `max_pending` per channel, and holds at most `max_in_flight` attempts,
//! each bounded by its channel's timeout.

use std::sync::Arc;
use std::time::Duration;

use nectar_event::Timestamp;
use nectar_store::Store;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::backoff::Backoff;
use crate::config::NotifyConfig;
use crate::deliver::Deliverer;
use crate::error::NotifyError;
use crate::intake::Intake;
use crate::render::Origin;
use crate::route::Route;
use crate::send::Sender;
use crate::status::{ChannelStatus, Counters, StatusHandle};

/// How often the pending counts are re-read and old rows pruned.
const HOUSEKEEPING: Duration = Duration::from_secs(60);
/// Rows pruned per statement.
const PRUNE_BATCH: usize = 1_000;
/// How long attempts under way may finish once the lease is lost (the rows
/// stay pending: the process that takes over sends what they did not).
const LOST_GRACE: Duration = Duration::from_secs(5);

/// How running with the lease ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// Told to stop.
    Stopped,
    /// The lease was lost.
    Lost,
}

/// How often the notifier looks and how it retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Longest pause between two looks at the feed and the outbox (a
    /// [`NotifierHandle::wake`] looks at once).
    pub poll: Duration,
    /// The retry schedule.
    pub backoff: Backoff,
    /// The window of the routes' `rate_limit` (a minute; shorter in tests).
    pub rate_window: Duration,
}

/// A configured notifier, not yet running.
pub struct Notifier {
    store: Store,
    config: NotifyConfig,
    origin: Origin,
    senders: Vec<(String, Arc<Sender>)>,
    timing: Timing,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// Checks `config` (errors name the key from the file's root:
    /// `notify.channels[0].url`) and builds every channel's client; `sensor`
    /// names this installation in the messages. Every error here is a
    /// configuration error (exit 2).
    pub fn new(store: Store, config: &NotifyConfig, sensor: &str) -> Result<Notifier, NotifyError> {
        config
            .validate()
            .map_err(|e| NotifyError::Config(e.within("notify")))?;
        let senders = config
            .channels
            .iter()
            .map(|c| Ok((c.name.clone(), Arc::new(Sender::build(c)?))))
            .collect::<Result<Vec<_>, NotifyError>>()?;
        let counters = Arc::new(Counters::default());
        *counters.channels() = config
            .channels
            .iter()
            .map(|c| ChannelStatus {
                name: c.name.clone(),
                kind: c.kind.as_str().into(),
                ..ChannelStatus::default()
            })
            .collect();
        Ok(Notifier {
            store,
            config: config.clone(),
            origin: Origin {
                sensor: sensor.to_owned(),
            },
            senders,
            timing: Timing {
                poll: Duration::from_millis(500),
                backoff: Backoff {
                    initial: Duration::from_secs(config.retry_initial_seconds),
                    max: Duration::from_secs(config.retry_max_seconds),
                    max_attempts: config.max_attempts,
                    max_age: Duration::from_secs(config.max_age_hours.saturating_mul(3600)),
                },
                rate_window: crate::route::RATE_WINDOW,
            },
            counters,
        })
    }

    /// The timing in use (from the configuration).
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// Replaces the timing (tests use milliseconds where users use seconds).
    pub fn with_timing(mut self, timing: Timing) -> Notifier {
        self.timing = timing;
        self
    }

    /// A reader of the counters.
    pub fn status(&self) -> StatusHandle {
        StatusHandle(self.counters.clone())
    }

    /// Starts the notifier's task on `runtime`.
    pub fn spawn(self, runtime: &tokio::runtime::Handle) -> NotifierHandle {
        let (stop, stopped) = watch::channel(None);
        let wake = Arc::new(Notify::new());
        let status = self.status();
        let task = runtime.spawn(self.run(stopped, wake.clone()));
        NotifierHandle {
            stop,
            wake,
            status,
            task,
        }
    }

    async fn run(self, mut stop: watch::Receiver<Option<Duration>>, wake: Arc<Notify>) {
        let routes: Vec<Route> = self
            .config
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Route::new(
                    self.config.route_name(i),
                    r.clone(),
                    self.timing.rate_window,
                )
            })
            .collect();
        // One process of those sharing a database sends notifications: the one
        // holding the `notify` lease; the others wait to take over.
        loop {
            let Some(lease) = self.claim(&mut stop).await else {
                return;
            };
            if self.run_held(&routes, &lease, &mut stop, &wake).await == Ended::Stopped {
                return;
            }
            warn!(
                "Notifications lost their lease (the database connection holding it broke); they stop here and claim it again."
            );
        }
    }

    /// Waits for the `notify` lease; `None` when told to stop first.
    async fn claim(
        &self,
        stop: &mut watch::Receiver<Option<Duration>>,
    ) -> Option<nectar_store::Lease> {
        let mut waiting = false;
        loop {
            match self.store.try_lease(nectar_store::NOTIFY_CONSUMER).await {
                Ok(Some(lease)) => {
                    if waiting {
                        info!("Notifications run in this process now.");
                    }
                    return Some(lease);
                }
                Ok(None) if !waiting => {
                    info!(
                        "Another process sends the notifications; this one takes over if it stops."
                    );
                    waiting = true;
                }
                Ok(None) => {}
                Err(e) => {
                    warn!(error = %e, "Notifications cannot claim their lease; trying again.");
                    Counters::add(&self.counters.store_errors, 1);
                }
            }
            tokio::select! {
                _ = stop.changed() => return None,
                _ = tokio::time::sleep(self.timing.poll.max(Duration::from_millis(500))) => {}
            }
        }
    }

    /// Reads the feed and sends, while `lease` holds and until stopped.
    async fn run_held(
        &self,
        routes: &[Route],
        lease: &nectar_store::Lease,
        stop: &mut watch::Receiver<Option<Duration>>,
        wake: &Notify,
    ) -> Ended {
        let mut intake = loop {
            let started = Intake::start(
                self.store.clone(),
                routes.to_vec(),
                Arc::new(self.config.channels.clone()),
                self.origin.clone(),
                self.config.max_pending as u64,
                self.counters.clone(),
            )
            .await;
            match started {
                Ok(intake) => break intake,
                Err(e) => {
                    error!(error = %e, "Notifications cannot start; trying again.");
                    Counters::add(&self.counters.store_errors, 1);
                    tokio::select! {
                        _ = stop.changed() => return Ended::Stopped,
                        _ = tokio::time::sleep(self.timing.poll * 4) => {}
                    }
                }
            }
        };
        let mut deliverer = Deliverer::new(
            self.store.clone(),
            self.senders.clone(),
            self.timing.backoff,
            self.config.max_in_flight,
            self.config.channel_in_flight,
            self.counters.clone(),
        );
        info!(
            channels = self.config.channels.len(),
            routes = self.config.routes.len(),
            "Notifications are running."
        );
        let mut housekeeping_at = tokio::time::Instant::now();
        let mut ended = Ended::Stopped;
        let grace = loop {
            if !lease.is_held() {
                ended = Ended::Lost;
                break LOST_GRACE;
            }
            let now = Timestamp::now();
            if housekeeping_at <= tokio::time::Instant::now() {
                self.housekeeping(now).await;
                housekeeping_at = tokio::time::Instant::now() + HOUSEKEEPING;
            }
            let mut more = false;
            let stepped = async {
                intake.flush_due(now).await?;
                more = intake.step(now).await? > 0;
                deliverer.dispatch(now).await
            }
            .await;
            let failed = stepped.is_err();
            if let Err(e) = stepped {
                warn!(error = %e, "Notifications: the store failed; trying again.");
                Counters::add(&self.counters.store_errors, 1);
            }
            // At once when notices were read (there may be more); a full poll
            // after a store error (never a busy loop); else until the next
            // batch falls due or a paused channel may go on.
            let wait = if failed {
                self.timing.poll
            } else if more {
                Duration::ZERO
            } else {
                let now = Timestamp::now();
                let mut wait = self.timing.poll;
                for next in [intake.next_due(), deliverer.next_unpause(now)]
                    .into_iter()
                    .flatten()
                {
                    let until = next.as_micros().saturating_sub(now.as_micros());
                    wait = wait.min(Duration::from_micros(until.max(0) as u64));
                }
                wait
            };
            tokio::select! {
                changed = stop.changed() => {
                    break if changed.is_ok() { *stop.borrow() } else { None }.unwrap_or_default();
                }
                Some(done) = deliverer.tasks.join_next(), if !deliverer.tasks.is_empty() => {
                    match done {
                        Ok(done) => deliverer.finished(done),
                        Err(_) => deliverer.lost(),
                    }
                }
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        };
        // Let running attempts finish within the grace period; the rest are
        // aborted and their rows, still pending, are sent after a restart.
        let deadline = tokio::time::Instant::now() + grace;
        while !deliverer.tasks.is_empty() {
            match tokio::time::timeout_at(deadline, deliverer.tasks.join_next()).await {
                Ok(Some(Ok(done))) => deliverer.finished(done),
                Ok(Some(Err(_))) => deliverer.lost(),
                Ok(None) => break,
                Err(_) => {
                    warn!(
                        running = deliverer.tasks.len(),
                        "Notifications stop with attempts running; they are sent again after a restart."
                    );
                    deliverer.tasks.abort_all();
                    while deliverer.tasks.join_next().await.is_some() {}
                    break;
                }
            }
        }
        info!("Notifications stopped.");
        ended
    }

    /// Re-reads pending counts, gives up rows of channels no longer
    /// configured, and prunes old delivered and dead rows.
    async fn housekeeping(&self, now: Timestamp) {
        let result: Result<(), nectar_store::StoreError> = async {
            let pending = self.store.notify_pending().await?;
            let mut counts = Vec::new();
            for p in pending {
                if self.senders.iter().any(|(name, _)| *name == p.channel) {
                    counts.push(p);
                } else {
                    let n = self
                        .store
                        .notify_kill_channel(&p.channel, now, "the channel is no longer configured")
                        .await?;
                    warn!(channel = %p.channel, messages = n, "Notifications for a channel that is no longer configured are given up.");
                }
            }
            for channel in self.counters.channels().iter_mut() {
                channel.pending = counts
                    .iter()
                    .find(|p| p.channel == channel.name)
                    .map_or(0, |p| p.pending);
            }
            let keep = Duration::from_secs(self.config.keep_days.saturating_mul(86_400));
            let before = Timestamp::from_micros(
                now.as_micros()
                    .saturating_sub(keep.as_micros().min(i64::MAX as u128) as i64),
            )
            .unwrap_or(now);
            while self.store.notify_prune(before, PRUNE_BATCH).await? == PRUNE_BATCH as u64 {}
            Ok(())
        }
        .await;
        if let Err(e) = result {
            warn!(error = %e, "Notifications: housekeeping failed; trying again later.");
            Counters::add(&self.counters.store_errors, 1);
        }
    }
}

/// A running notifier. Dropping the handle stops it too, as [`stop`] with no
/// grace (running attempts are aborted and sent again at the next start).
///
/// [`stop`]: NotifierHandle::stop
#[derive(Debug)]
pub struct NotifierHandle {
    stop: watch::Sender<Option<Duration>>,
    wake: Arc<Notify>,
    status: StatusHandle,
    task: JoinHandle<()>,
}

impl NotifierHandle {
    /// A reader of the counters.
    pub fn status(&self) -> StatusHandle {
        self.status.clone()
    }

    /// Looks at the feed and the outbox now (after an alert was raised, or a
    /// dead delivery was put back), instead of at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops reading the feed, lets running attempts finish for up to
    /// `grace`, and returns when the task has ended.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(Some(grace));
        if let Err(e) = self.task.await
            && e.is_panic()
        {
            error!("The notifier's task panicked.");
        }
    }
}
