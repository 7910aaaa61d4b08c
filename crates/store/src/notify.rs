//! The notification outbox (`notify_deliveries`, `notify_delivery_alerts`,
//! `notify_batches`; migration 0006): what the notifier (`nectar-notify`) has
//! to send, what it sent, and what it gave up on.
//!
//! The notifier turns alert notices into rows here in one transaction together
//! with its feed offset ([`Store::notify_commit`]), so a restart neither loses
//! nor repeats a notice. The delivery loop reads due rows per channel and
//! records each attempt's outcome right after it; the alert page and the
//! dead-letter list read the same rows. The store knows nothing of channels
//! or payload formats: payloads are text the notifier rendered.

use crate::db::{self, Row};
use nectar_event::Timestamp;
use uuid::Uuid;

use crate::alerts::NoticeKind;
use crate::{Store, StoreError};

/// The consumer name under which the notifier's feed position is saved.
pub const NOTIFY_CONSUMER: &str = "notify";

/// Longest `last_error` kept (a receiver's error text is not ours to keep whole).
const MAX_ERROR_BYTES: usize = 1_024;

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver accepted it.
    Delivered,
    /// Given up on (too many attempts, too old, or refused for good); a person
    /// may retry it.
    Dead,
}

impl DeliveryStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }

    fn parse(name: &str) -> Option<DeliveryStatus> {
        match name {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "dead" => Some(DeliveryStatus::Dead),
            _ => None,
        }
    }
}

/// A message to queue: one rendered payload for one channel.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// Its id (UUIDv7): the webhook-id, stable across retries.
    pub id: Uuid,
    /// The alerts it tells of (one, or a digest's listed alerts); the first is
    /// the row's `alert_id`. Must not be empty.
    pub alerts: Vec<Uuid>,
    /// How many alerts it tells of (a digest may list fewer than it counts).
    pub alert_count: u64,
    /// The route that chose it.
    pub route: String,
    /// The channel it goes to.
    pub channel: String,
    /// Whether it is a digest of several alerts.
    pub digest: bool,
    /// What is sent (the channel's format).
    pub payload: String,
    /// When it was made; also its first attempt's time.
    pub at: Timestamp,
}

/// Alerts a route is gathering into one message, as the notifier saves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyBatch {
    /// The route.
    pub route: String,
    /// `digest` or `overflow` (the notifier's names).
    pub kind: String,
    /// When its first alert came.
    pub opened: Timestamp,
    /// When it is to be sent.
    pub due: Timestamp,
    /// How many alerts it holds.
    pub count: u64,
    /// The alerts it keeps, as the notifier's JSON.
    pub alerts: String,
}

/// What one step of the notifier changes, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct NotifyCommit {
    /// The last alert notice handled (feed position), if it moved.
    pub notice_offset: Option<i64>,
    /// New messages.
    pub deliveries: Vec<NewDelivery>,
    /// Batches created or changed (replaced whole).
    pub save_batches: Vec<NotifyBatch>,
    /// Batches sent or dropped: `(route, kind)`.
    pub delete_batches: Vec<(String, String)>,
}

/// A queued message as the delivery loop sends it.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// Its id (the webhook-id).
    pub id: Uuid,
    /// The channel.
    pub channel: String,
    /// What to send.
    pub payload: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it was queued.
    pub created: Timestamp,
}

/// A delivery as the alert page and the dead-letter list show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeliveryInfo {
    /// Its id.
    pub id: Uuid,
    /// The alert (a digest's first alert).
    pub alert_id: Uuid,
    /// The route that chose it.
    pub route: String,
    /// The channel.
    pub channel: String,
    /// Whether it is a digest.
    pub digest: bool,
    /// Alerts it tells of.
    pub alerts: u64,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// The last failure (a receiver's words, bounded: escape them for display).
    pub last_error: Option<String>,
    /// When it was queued.
    pub created: Timestamp,
    /// When its row last changed (an attempt, a retry by hand).
    pub updated: Timestamp,
    /// When it is next tried (pending only).
    pub next_attempt: Option<Timestamp>,
    /// When the receiver accepted it.
    pub delivered: Option<Timestamp>,
}

/// Pending deliveries per channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCount {
    /// The channel.
    pub channel: String,
    /// Rows waiting.
    pub pending: u64,
}

const INFO_COLUMNS: &str = "d.id, d.alert_id, d.route, d.channel, d.kind, d.alerts, d.status, \
     d.attempts, d.last_error, d.created_us, d.updated_us, d.next_attempt_us, d.delivered_us";

impl Store {
    /// Applies one step of the notifier in one transaction: new deliveries
    /// (with their alert links), batch changes, and the feed offset.
    pub async fn notify_commit(&self, commit: &NotifyCommit) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        for d in &commit.deliveries {
            let Some(first) = d.alerts.first() else {
                return Err(StoreError::CorruptRow {
                    id: d.id.to_string(),
                    reason: "a delivery must name at least one alert".into(),
                });
            };
            let at = d.at.as_micros();
            db::query(
                "INSERT INTO notify_deliveries (id, alert_id, route, channel, kind, alerts, \
                 payload, attempts, next_attempt_us, status, created_us, updated_us) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, 'pending', ?, ?)",
            )
            .bind(d.id.as_bytes().as_slice())
            .bind(first.as_bytes().as_slice())
            .bind(&d.route)
            .bind(&d.channel)
            .bind(if d.digest { "digest" } else { "alert" })
            .bind(i64::try_from(d.alert_count).unwrap_or(i64::MAX))
            .bind(&d.payload)
            .bind(at)
            .bind(at)
            .bind(at)
            .execute(tx.exec())
            .await?;
            for alert in &d.alerts {
                db::query(
                    "INSERT INTO notify_delivery_alerts (alert_id, delivery_id) \
                     VALUES (?, ?) ON CONFLICT DO NOTHING",
                )
                .bind(alert.as_bytes().as_slice())
                .bind(d.id.as_bytes().as_slice())
                .execute(tx.exec())
                .await?;
            }
        }
        for b in &commit.save_batches {
            db::query(
                "INSERT INTO notify_batches (route, kind, opened_us, due_us, count, alerts) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (route, kind) DO UPDATE SET \
                 opened_us = excluded.opened_us, due_us = excluded.due_us, \
                 count = excluded.count, alerts = excluded.alerts",
            )
            .bind(&b.route)
            .bind(&b.kind)
            .bind(b.opened.as_micros())
            .bind(b.due.as_micros())
            .bind(i64::try_from(b.count).unwrap_or(i64::MAX))
            .bind(&b.alerts)
            .execute(tx.exec())
            .await?;
        }
        for (route, kind) in &commit.delete_batches {
            db::query("DELETE FROM notify_batches WHERE route = ? AND kind = ?")
                .bind(route)
                .bind(kind)
                .execute(tx.exec())
                .await?;
        }
        if let Some(offset) = commit.notice_offset {
            // The same statement as `save_consumer_offset`, inside this
            // transaction: the rows above and the position that produced them
            // are durable together or not at all.
            db::query(
                "INSERT INTO consumer_offsets (name, seq, checkpoint, updated_us) \
                 VALUES (?, ?, '', ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, \
                 checkpoint = excluded.checkpoint, updated_us = excluded.updated_us",
            )
            .bind(NOTIFY_CONSUMER)
            .bind(offset)
            .bind(Timestamp::now().as_micros())
            .execute(tx.exec())
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The notifier's saved feed position (`None`: it never ran).
    pub async fn notify_offset(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .consumer_offset(NOTIFY_CONSUMER)
            .await?
            .map(|o| i64::try_from(o.seq).unwrap_or(i64::MAX)))
    }

    /// The position of the first alert notice after `after`, if any: how the
    /// notifier steps over a notice it cannot read.
    pub async fn next_alert_notice(&self, after: i64) -> Result<Option<i64>, StoreError> {
        let (next,): (Option<i64>,) =
            db::query_as("SELECT MIN(id) FROM alert_notices WHERE id > ?")
                .bind(after)
                .fetch_one(self.db.read())
                .await?;
        Ok(next)
    }

    /// The batches being gathered (read once at start).
    pub async fn notify_batches(&self) -> Result<Vec<NotifyBatch>, StoreError> {
        let rows = db::query(
            "SELECT route, kind, opened_us, due_us, count, alerts FROM notify_batches \
             ORDER BY due_us",
        )
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .map(|row| {
                let route: String = row.get("route")?;
                let kind: String = row.get("kind")?;
                let time = |column: &str| -> Result<Timestamp, StoreError> {
                    Timestamp::from_micros(row.get(column)?).ok_or_else(|| StoreError::CorruptRow {
                        id: format!("notify_batches {route}/{kind}"),
                        reason: format!("{column} out of range"),
                    })
                };
                Ok(NotifyBatch {
                    opened: time("opened_us")?,
                    due: time("due_us")?,
                    count: row.get::<i64, _>("count")?.max(0) as u64,
                    alerts: row.get("alerts")?,
                    route,
                    kind,
                })
            })
            .collect()
    }

    /// Up to `limit` pending deliveries of `channel` due at `now`, oldest due
    /// first. Read on a reader connection (never holding up the event
    /// writer): each statement is its own read transaction, so it sees every
    /// outcome committed before it.
    pub async fn notify_due(
        &self,
        channel: &str,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let rows = db::query(
            "SELECT id, channel, payload, attempts, created_us FROM notify_deliveries \
             WHERE status = 'pending' AND channel = ? AND next_attempt_us <= ? \
             ORDER BY next_attempt_us LIMIT ?",
        )
        .bind(channel)
        .bind(now.as_micros())
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .map(|row| {
                let id = uuid_column(row, "id")?;
                Ok(DueDelivery {
                    channel: row.get("channel")?,
                    payload: row.get("payload")?,
                    attempts: row.get::<i64, _>("attempts")?.clamp(0, 1 << 20) as u32,
                    created: Timestamp::from_micros(row.get("created_us")?)
                        .ok_or_else(|| corrupt(id, "created_us out of range"))?,
                    id,
                })
            })
            .collect()
    }

    /// When the next pending delivery of any channel is due, if any.
    pub async fn notify_next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let (next,): (Option<i64>,) = db::query_as(
            "SELECT MIN(next_attempt_us) FROM notify_deliveries WHERE status = 'pending'",
        )
        .fetch_one(self.db.read())
        .await?;
        Ok(next.and_then(Timestamp::from_micros))
    }

    /// Records a successful attempt. Only a pending row changes, so a delivery
    /// is marked once.
    pub async fn notify_delivered(&self, id: Uuid, at: Timestamp) -> Result<(), StoreError> {
        db::query(
            "UPDATE notify_deliveries SET status = 'delivered', attempts = attempts + 1, \
             last_error = NULL, delivered_us = ?, updated_us = ? \
             WHERE id = ? AND status = 'pending'",
        )
        .bind(at.as_micros())
        .bind(at.as_micros())
        .bind(id.as_bytes().as_slice())
        .execute(self.db.write())
        .await?;
        Ok(())
    }

    /// Records a failed attempt: tried again at `next` or, when `next` is
    /// `None`, given up on (dead).
    pub async fn notify_failed(
        &self,
        id: Uuid,
        at: Timestamp,
        next: Option<Timestamp>,
        error: &str,
    ) -> Result<(), StoreError> {
        let error = nectar_event::text::bound(error, MAX_ERROR_BYTES);
        db::query(
            "UPDATE notify_deliveries SET attempts = attempts + 1, last_error = ?, \
             updated_us = ?, status = ?, next_attempt_us = COALESCE(?, next_attempt_us) \
             WHERE id = ? AND status = 'pending'",
        )
        .bind(error)
        .bind(at.as_micros())
        .bind(if next.is_some() { "pending" } else { "dead" })
        .bind(next.map(Timestamp::as_micros))
        .bind(id.as_bytes().as_slice())
        .execute(self.db.write())
        .await?;
        Ok(())
    }

    /// Gives up on every pending delivery of `channel` without an attempt
    /// (the channel is no longer configured); returns how many.
    pub async fn notify_kill_channel(
        &self,
        channel: &str,
        at: Timestamp,
        why: &str,
    ) -> Result<u64, StoreError> {
        let done = db::query(
            "UPDATE notify_deliveries SET status = 'dead', last_error = ?, updated_us = ? \
             WHERE channel = ? AND status = 'pending'",
        )
        .bind(nectar_event::text::bound(why, MAX_ERROR_BYTES))
        .bind(at.as_micros())
        .bind(channel)
        .execute(self.db.write())
        .await?;
        Ok(done)
    }

    /// Puts a dead delivery back in the queue, due now, with its attempts
    /// counted from zero again (a person decided to try again).
    pub async fn notify_retry(&self, id: Uuid) -> Result<(), StoreError> {
        let now = Timestamp::now().as_micros();
        let done = db::query(
            "UPDATE notify_deliveries SET status = 'pending', attempts = 0, \
             next_attempt_us = ?, updated_us = ? WHERE id = ? AND status = 'dead'",
        )
        .bind(now)
        .bind(now)
        .bind(id.as_bytes().as_slice())
        .execute(self.db.write())
        .await?;
        if done == 0 {
            return Err(StoreError::NotFound {
                what: "dead delivery",
                name: id.to_string(),
            });
        }
        Ok(())
    }

    /// The deliveries that tell of `alert` (its own and the digests that list
    /// it), newest first.
    pub async fn notify_deliveries_of(&self, alert: Uuid) -> Result<Vec<DeliveryInfo>, StoreError> {
        let rows = db::query(&format!(
            "SELECT {INFO_COLUMNS} FROM notify_delivery_alerts a \
             JOIN notify_deliveries d ON d.id = a.delivery_id \
             WHERE a.alert_id = ? ORDER BY d.created_us DESC, d.channel LIMIT 1000"
        ))
        .bind(alert.as_bytes().as_slice())
        .fetch_all(self.db.read())
        .await?;
        rows.iter().map(info_from_row).collect()
    }

    /// The `limit` most recently given-up deliveries, newest first.
    pub async fn notify_dead(&self, limit: usize) -> Result<Vec<DeliveryInfo>, StoreError> {
        let rows = db::query(&format!(
            "SELECT {INFO_COLUMNS} FROM notify_deliveries d WHERE d.status = 'dead' \
             ORDER BY d.updated_us DESC LIMIT ?"
        ))
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        rows.iter().map(info_from_row).collect()
    }

    /// Pending rows per channel.
    pub async fn notify_pending(&self) -> Result<Vec<PendingCount>, StoreError> {
        let rows: Vec<(String, i64)> = db::query_as(
            "SELECT channel, COUNT(*) FROM notify_deliveries WHERE status = 'pending' \
             GROUP BY channel ORDER BY channel",
        )
        .fetch_all(self.db.read())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(channel, n)| PendingCount {
                channel,
                pending: n.max(0) as u64,
            })
            .collect())
    }

    /// Deletes delivered and dead rows queued before `before` (at most `limit`
    /// a call, so one pass never holds the writer long); returns how many.
    pub async fn notify_prune(&self, before: Timestamp, limit: usize) -> Result<u64, StoreError> {
        let mut tx = self.db.begin().await?;
        let ids: Vec<(Vec<u8>,)> = db::query_as(
            "SELECT id FROM notify_deliveries WHERE created_us < ? AND status <> 'pending' \
             ORDER BY created_us LIMIT ?",
        )
        .bind(before.as_micros())
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(tx.exec())
        .await?;
        for (id,) in &ids {
            db::query("DELETE FROM notify_delivery_alerts WHERE delivery_id = ?")
                .bind(id.as_slice())
                .execute(tx.exec())
                .await?;
            db::query("DELETE FROM notify_deliveries WHERE id = ?")
                .bind(id.as_slice())
                .execute(tx.exec())
                .await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// Appends an alert notice as the rules stage does, for tests of the
    /// notifier (the rules stage writes them in its own transaction).
    #[doc(hidden)]
    pub async fn push_alert_notice_for_test(
        &self,
        kind: NoticeKind,
        at: Timestamp,
        alert: &nectar_event::Alert,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        Store::push_notice(&mut tx, kind, at, alert).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn corrupt(id: Uuid, reason: &str) -> StoreError {
    StoreError::CorruptRow {
        id: format!("notify_deliveries {id}"),
        reason: reason.into(),
    }
}

fn uuid_column(row: &Row, column: &str) -> Result<Uuid, StoreError> {
    let bytes: Vec<u8> = row.get(column)?;
    Uuid::from_slice(&bytes).map_err(|e| StoreError::CorruptRow {
        id: "notify_deliveries".into(),
        reason: format!("{column}: {e}"),
    })
}

fn info_from_row(row: &Row) -> Result<DeliveryInfo, StoreError> {
    let id = uuid_column(row, "id")?;
    let time = |column: &str| -> Result<Timestamp, StoreError> {
        Timestamp::from_micros(row.get(column)?)
            .ok_or_else(|| corrupt(id, &format!("{column} out of range")))
    };
    let status: String = row.get("status")?;
    let status =
        DeliveryStatus::parse(&status).ok_or_else(|| corrupt(id, &format!("status {status:?}")))?;
    let kind: String = row.get("kind")?;
    let delivered: Option<i64> = row.get("delivered_us")?;
    Ok(DeliveryInfo {
        alert_id: uuid_column(row, "alert_id")?,
        route: row.get("route")?,
        channel: row.get("channel")?,
        digest: kind == "digest",
        alerts: row.get::<i64, _>("alerts")?.max(0) as u64,
        attempts: row.get::<i64, _>("attempts")?.clamp(0, 1 << 20) as u32,
        last_error: row.get("last_error")?,
        created: time("created_us")?,
        updated: time("updated_us")?,
        next_attempt: (status == DeliveryStatus::Pending)
            .then(|| time("next_attempt_us"))
            .transpose()?,
        delivered: delivered.and_then(Timestamp::from_micros),
        status,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_micros(1_700_000_000_000_000 + s * 1_000_000).unwrap()
    }

    fn delivery(alerts: &[Uuid], channel: &str, t: i64) -> NewDelivery {
        NewDelivery {
            id: Uuid::now_v7(),
            alerts: alerts.to_vec(),
            alert_count: alerts.len() as u64,
            route: "route1".into(),
            channel: channel.into(),
            digest: alerts.len() > 1,
            payload: format!("{{\"n\":{t}}}"),
            at: at(t),
        }
    }

    async fn open(db: &crate::testing::TestDatabase) -> Store {
        Store::open(&db.config).await.unwrap()
    }

    crate::on_both_backends! {
        #[tokio::test]
        async fn rows_offset_and_batches_commit_together(db, dir) {
            let _ = &dir;
            let store = open(&db).await;
            // The migration starts the notifier after the notices already there.
            assert_eq!(store.notify_offset().await.unwrap(), Some(0));
            let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
            let batch = NotifyBatch {
                route: "route1".into(),
                kind: "digest".into(),
                opened: at(0),
                due: at(60),
                count: 2,
                alerts: "[]".into(),
            };
            let commit = NotifyCommit {
                notice_offset: Some(7),
                deliveries: vec![delivery(&[a], "hook", 0), delivery(&[a, b], "mail", 1)],
                save_batches: vec![batch.clone()],
                delete_batches: Vec::new(),
            };
            store.notify_commit(&commit).await.unwrap();
            assert_eq!(store.notify_offset().await.unwrap(), Some(7));
            assert_eq!(store.notify_batches().await.unwrap(), vec![batch]);
            assert_eq!(store.notify_deliveries_of(a).await.unwrap().len(), 2);
            let of_b = store.notify_deliveries_of(b).await.unwrap();
            assert_eq!((of_b.len(), of_b[0].digest, of_b[0].alerts), (1, true, 2));

            // A commit that fails (a duplicate id) changes nothing, offset included.
            let mut bad = NotifyCommit {
                notice_offset: Some(9),
                deliveries: vec![delivery(&[b], "hook", 2)],
                delete_batches: vec![("route1".into(), "digest".into())],
                ..NotifyCommit::default()
            };
            bad.deliveries.push(bad.deliveries[0].clone());
            assert!(store.notify_commit(&bad).await.is_err());
            assert_eq!(store.notify_offset().await.unwrap(), Some(7));
            assert_eq!(store.notify_batches().await.unwrap().len(), 1);
            assert_eq!(store.notify_deliveries_of(b).await.unwrap().len(), 1);
            assert!(
                store
                    .notify_commit(&NotifyCommit {
                        deliveries: vec![delivery(&[], "hook", 3)],
                        ..NotifyCommit::default()
                    })
                    .await
                    .is_err()
            );
            store.close().await;
        }
    }

    crate::on_both_backends! {
        #[tokio::test]
        async fn attempts_move_a_row_from_pending_to_delivered_or_dead_once(db, dir) {
            let _ = &dir;
            let store = open(&db).await;
            let alert = Uuid::now_v7();
            let (first, second) = (delivery(&[alert], "hook", 0), delivery(&[alert], "hook", 1));
            store
                .notify_commit(&NotifyCommit {
                    deliveries: vec![first.clone(), second.clone()],
                    ..NotifyCommit::default()
                })
                .await
                .unwrap();
            let due = store.notify_due("hook", at(5), 10).await.unwrap();
            assert_eq!(
                due.iter().map(|d| d.id).collect::<Vec<_>>(),
                [first.id, second.id]
            );
            assert!(
                store
                    .notify_due("mail", at(5), 10)
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert_eq!(store.notify_next_due().await.unwrap(), Some(at(0)));

            store
                .notify_failed(first.id, at(5), Some(at(65)), "HTTP 503")
                .await
                .unwrap();
            let due = store.notify_due("hook", at(6), 10).await.unwrap();
            assert_eq!(due.iter().map(|d| d.id).collect::<Vec<_>>(), [second.id]);
            store.notify_delivered(second.id, at(6)).await.unwrap();
            // Marking again (a late duplicate outcome) changes nothing.
            store
                .notify_failed(second.id, at(7), None, "late")
                .await
                .unwrap();
            let due = store.notify_due("hook", at(70), 10).await.unwrap();
            assert_eq!((due.len(), due[0].id, due[0].attempts), (1, first.id, 1));
            store
                .notify_failed(first.id, at(70), None, &"x".repeat(5_000))
                .await
                .unwrap();
            assert!(
                store
                    .notify_due("hook", at(1_000), 10)
                    .await
                    .unwrap()
                    .is_empty()
            );

            let dead = store.notify_dead(10).await.unwrap();
            assert_eq!((dead.len(), dead[0].id, dead[0].attempts), (1, first.id, 2));
            assert_eq!(dead[0].last_error.as_ref().unwrap().len(), MAX_ERROR_BYTES);
            assert_eq!(dead[0].next_attempt, None);
            let rows = store.notify_deliveries_of(alert).await.unwrap();
            let delivered = rows.iter().find(|r| r.id == second.id).unwrap();
            assert_eq!(
                (delivered.status, delivered.attempts, delivered.delivered),
                (DeliveryStatus::Delivered, 1, Some(at(6)))
            );
            assert_eq!(store.notify_pending().await.unwrap(), vec![]);

            store.notify_retry(first.id).await.unwrap();
            assert!(matches!(
                store.notify_retry(first.id).await,
                Err(StoreError::NotFound { .. })
            ));
            assert_eq!(
                store.notify_pending().await.unwrap(),
                vec![PendingCount {
                    channel: "hook".into(),
                    pending: 1
                }]
            );
            assert_eq!(
                store
                    .notify_kill_channel("hook", at(80), "gone")
                    .await
                    .unwrap(),
                1
            );

            // Pruning removes finished rows queued before the cut, links included.
            assert_eq!(store.notify_prune(at(1), 1).await.unwrap(), 1);
            assert_eq!(store.notify_prune(at(1), 10).await.unwrap(), 0);
            assert_eq!(store.notify_prune(at(2), 10).await.unwrap(), 1);
            assert!(store.notify_deliveries_of(alert).await.unwrap().is_empty());
            let (links,): (i64,) = db::query_as("SELECT COUNT(*) FROM notify_delivery_alerts")
                .fetch_one(store.db.read())
                .await
                .unwrap();
            assert_eq!(links, 0);
            store.close().await;
        }
    }
}
