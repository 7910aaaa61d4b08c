//! From the alert notice feed to the outbox: each page of notices is routed
//! (a message now, or into a route's batch), rendered per channel and written
//! in one transaction with the feed offset and the changed batches, so a
//! restart resumes exactly after the last notice whose messages are stored.
//! Batches that fall due become digest messages the same way.
//!
//! Work is done on copies of the routes and batches, which replace the
//! originals only once the transaction committed: a failed commit leaves
//! memory as the store is, and the same page is read again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use nectar_event::Timestamp;
use nectar_store::{NewDelivery, NotifyCommit, Store, StoreError};
use tracing::{info, warn};
use uuid::Uuid;

use crate::config::ChannelConfig;
use crate::message::{AlertSummary, Message};
use crate::render::{Origin, payload};
use crate::route::{Batch, BatchKind, Decision, Route};
use crate::status::Counters;

/// Notices read (and committed) per step.
const PAGE: usize = 200;

type BatchKey = (String, BatchKind);

/// The feed reader's state.
pub(crate) struct Intake {
    store: Store,
    routes: Vec<Route>,
    channels: Arc<Vec<ChannelConfig>>,
    origin: Origin,
    batches: BTreeMap<BatchKey, Batch>,
    offset: i64,
    /// Notices read per step: [`PAGE`], or 1 while looking for a bad one.
    page: usize,
    max_pending: u64,
    counters: Arc<Counters>,
}

/// One step's outcome, before it is committed.
struct Work {
    commit: NotifyCommit,
    dropped: u64,
    gathered: u64,
    queued_per_channel: HashMap<String, u64>,
}

impl Intake {
    /// Loads the offset and the saved batches. The offset is set by the
    /// store's migration (after the notices raised before notifications
    /// existed); should its row be missing, the notifier starts after the
    /// notices already stored rather than sending the past.
    pub(crate) async fn start(
        store: Store,
        routes: Vec<Route>,
        channels: Arc<Vec<ChannelConfig>>,
        origin: Origin,
        max_pending: u64,
        counters: Arc<Counters>,
    ) -> Result<Intake, StoreError> {
        let offset = match store.notify_offset().await? {
            Some(offset) => offset,
            None => {
                let last = store.last_alert_notice().await?;
                store
                    .notify_commit(&NotifyCommit {
                        notice_offset: Some(last),
                        ..NotifyCommit::default()
                    })
                    .await?;
                info!(
                    offset = last,
                    "Notifications start after the alerts already raised."
                );
                last
            }
        };
        let mut batches = BTreeMap::new();
        let mut unreadable = NotifyCommit::default();
        for row in store.notify_batches().await? {
            match Batch::from_row(&row) {
                Some(batch) => {
                    batches.insert((batch.route.clone(), batch.kind), batch);
                }
                None => {
                    warn!(route = %row.route, kind = %row.kind, alerts = row.count, "A saved notification batch is unreadable; its alerts are not sent.");
                    Counters::add(&counters.dropped, row.count);
                    unreadable.delete_batches.push((row.route, row.kind));
                }
            }
        }
        if !unreadable.delete_batches.is_empty() {
            store.notify_commit(&unreadable).await?;
        }
        counters.notice_offset.store(offset, Ordering::Relaxed);
        Ok(Intake {
            store,
            routes,
            channels,
            origin,
            batches,
            offset,
            page: PAGE,
            max_pending,
            counters,
        })
    }

    /// When the next batch falls due, if any.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        self.batches.values().map(|b| b.due).min()
    }

    /// Routes the next page of notices; returns how many were read (a full
    /// page means there may be more).
    pub(crate) async fn step(&mut self, now: Timestamp) -> Result<usize, StoreError> {
        // A page with an unreadable notice is read again one notice at a
        // time, so the bad one is found and stepped over.
        let notices = match self.store.alert_notices_after(self.offset, self.page).await {
            Err(StoreError::CorruptRow { .. }) if self.page > 1 => {
                self.page = 1;
                return Ok(1);
            }
            Err(StoreError::CorruptRow { id, reason }) => {
                self.page = PAGE;
                return self.skip_unreadable(&id, &reason).await;
            }
            read => {
                self.page = PAGE;
                read?
            }
        };
        let Some(last) = notices.last().map(|n| n.id) else {
            return Ok(0);
        };
        let mut routes = self.routes.clone();
        let mut batches = self.batches.clone();
        let mut work = self.work();
        let mut changed: HashSet<BatchKey> = HashSet::new();
        for notice in &notices {
            let summary = AlertSummary::of(&notice.alert, notice.kind.as_str());
            // A channel hears of an alert once, however many routes send it there.
            let mut told: HashSet<String> = HashSet::new();
            for route in &mut routes {
                match route.decide(&summary, now) {
                    Decision::Skip => {}
                    Decision::Send => {
                        let message = Message::Alert(summary.clone());
                        for channel in &route.config.channels {
                            if told.insert(channel.clone()) {
                                self.queue(
                                    &mut work,
                                    &message,
                                    &route.name,
                                    channel,
                                    vec![summary.id],
                                    1,
                                    now,
                                );
                            }
                        }
                    }
                    Decision::Gather(kind, due) => {
                        let key = (route.name.clone(), kind);
                        batches
                            .entry(key.clone())
                            .or_insert_with(|| Batch {
                                route: route.name.clone(),
                                kind,
                                opened: now,
                                due,
                                count: 0,
                                alerts: Vec::new(),
                            })
                            .add(summary.clone());
                        changed.insert(key);
                        work.gathered += 1;
                    }
                }
            }
        }
        work.commit.notice_offset = Some(last);
        work.commit.save_batches = changed
            .iter()
            .filter_map(|key| batches.get(key).map(Batch::to_row))
            .collect();
        self.store.notify_commit(&work.commit).await?;
        self.routes = routes;
        self.batches = batches;
        self.offset = last;
        self.counters.notice_offset.store(last, Ordering::Relaxed);
        self.account(&work);
        Ok(notices.len())
    }

    /// Steps over the unreadable notice right after the offset (counted as
    /// dropped), so one bad row cannot stop every notification after it.
    async fn skip_unreadable(&mut self, id: &str, reason: &str) -> Result<usize, StoreError> {
        let Some(next) = self.store.next_alert_notice(self.offset).await? else {
            return Ok(0);
        };
        self.store
            .notify_commit(&NotifyCommit {
                notice_offset: Some(next),
                ..NotifyCommit::default()
            })
            .await?;
        warn!(notice = next, row = %id, reason = %reason, "An alert notice cannot be read; it notifies nobody.");
        self.offset = next;
        self.counters.notice_offset.store(next, Ordering::Relaxed);
        Counters::add(&self.counters.dropped, 1);
        Ok(1)
    }

    /// Turns the batches due at `now` into digest messages; returns how many
    /// batches were sent.
    pub(crate) async fn flush_due(&mut self, now: Timestamp) -> Result<usize, StoreError> {
        let due: Vec<BatchKey> = self
            .batches
            .iter()
            .filter(|(_, b)| b.due.as_micros() <= now.as_micros())
            .map(|(k, _)| k.clone())
            .collect();
        if due.is_empty() {
            return Ok(0);
        }
        let mut routes = self.routes.clone();
        let mut work = self.work();
        for key in &due {
            let Some(batch) = self.batches.get(key) else {
                continue;
            };
            work.commit
                .delete_batches
                .push((key.0.clone(), key.1.as_str().into()));
            let Some(route) = routes.iter_mut().find(|r| r.name == batch.route) else {
                warn!(route = %batch.route, alerts = batch.count, "Alerts gathered by a route that is no longer configured are not sent.");
                work.dropped += batch.count;
                continue;
            };
            let ids: Vec<Uuid> = batch.alerts.iter().map(|a| a.id).collect();
            if ids.is_empty() {
                continue;
            }
            let message = Message::Digest(batch.digest(now));
            for channel in &route.config.channels {
                self.queue(
                    &mut work,
                    &message,
                    &route.name,
                    channel,
                    ids.clone(),
                    batch.count,
                    now,
                );
            }
            route.count_sent(now);
        }
        self.store.notify_commit(&work.commit).await?;
        self.routes = routes;
        for key in &due {
            self.batches.remove(key);
        }
        self.account(&work);
        Ok(due.len())
    }

    fn work(&self) -> Work {
        Work {
            commit: NotifyCommit::default(),
            dropped: 0,
            gathered: 0,
            queued_per_channel: HashMap::new(),
        }
    }

    /// Adds a message for `channel` to `work`, unless that channel's queue is
    /// full.
    #[allow(clippy::too_many_arguments)]
    fn queue(
        &self,
        work: &mut Work,
        message: &Message,
        route: &str,
        channel: &str,
        alerts: Vec<Uuid>,
        alert_count: u64,
        now: Timestamp,
    ) {
        let Some(config) = self.channels.iter().find(|c| c.name == channel) else {
            work.dropped += 1;
            return;
        };
        let mut pending = 0;
        self.counters.channel(channel, |c| pending = c.pending);
        let queued = work
            .queued_per_channel
            .entry(channel.to_owned())
            .or_default();
        if pending + *queued >= self.max_pending {
            work.dropped += 1;
            warn!(
                channel,
                pending, "A notification channel's queue is full; the message is dropped."
            );
            return;
        }
        *queued += 1;
        work.commit.deliveries.push(NewDelivery {
            id: Uuid::now_v7(),
            alerts,
            alert_count,
            route: route.to_owned(),
            channel: channel.to_owned(),
            digest: matches!(message, Message::Digest(_)),
            payload: payload(config, message, &self.origin, now),
            at: now,
        });
    }

    fn account(&self, work: &Work) {
        let c = &self.counters;
        Counters::add(&c.queued, work.commit.deliveries.len() as u64);
        Counters::add(&c.dropped, work.dropped);
        Counters::add(&c.gathered, work.gathered);
        for (channel, n) in &work.queued_per_channel {
            c.channel(channel, |s| s.pending += n);
        }
    }
}
