//! Retention: removing events older than `[store] retention_days`, in small
//! batches so that ingest, which shares the writer connection on SQLite, waits
//! for one short transaction at a time and never for the whole cleanup.
//!
//! What goes with an event: its full-text row on PostgreSQL (SQLite's FTS5 table
//! is contentless and cannot delete a row without its text; its stale entries are
//! skipped by every search, which joins the events), and the sessions whose last
//! event is older than the cutoff. Rollups (the dashboard's counts), alerts and
//! incidents stay: they are small and outlive the events they summarise.

use nectar_event::Timestamp;

use crate::db::{self, Backend};
use crate::{Store, StoreError};

/// What one pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PruneReport {
    /// Events deleted.
    pub events: u64,
    /// Honeypot sessions whose last event was older than the cutoff.
    pub sessions: u64,
    /// Transactions it took.
    pub batches: u64,
}

impl Store {
    /// Deletes up to `batch` of the oldest events older than `before`; how many.
    /// Called repeatedly (with pauses) until it returns 0.
    pub async fn prune_events_batch(
        &self,
        before: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError> {
        let mut tx = self.db.begin().await?;
        // Oldest first through the (time_us, id) primary key.
        let deleted = db::query(
            "DELETE FROM events WHERE id IN \
             (SELECT id FROM events WHERE time_us < ? ORDER BY time_us LIMIT ?) RETURNING seq",
        )
        .bind(before.as_micros())
        .bind(batch.clamp(1, 100_000) as i64)
        .fetch_all(tx.exec())
        .await?;
        if tx.backend() == Backend::Postgres && !deleted.is_empty() {
            let seqs = deleted
                .iter()
                .map(|row| row.get::<i64, _>(0))
                .collect::<Result<Vec<i64>, _>>()?;
            let (lo, hi) = (
                seqs.iter().copied().min().unwrap_or(0),
                seqs.iter().copied().max().unwrap_or(0),
            );
            // The deleted events' text rows: those in their seq range whose event
            // is gone (a range, then a check, instead of a list of thousands).
            db::query(
                "DELETE FROM event_text WHERE rowid BETWEEN ? AND ? \
                 AND NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = event_text.rowid)",
            )
            .bind(lo)
            .bind(hi)
            .execute(tx.exec())
            .await?;
        }
        tx.commit().await?;
        Ok(deleted.len() as u64)
    }

    /// Deletes the summaries and owners of sessions whose last event is older
    /// than `before`; how many sessions.
    pub async fn prune_sessions(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut tx = self.db.begin().await?;
        let n = db::query("DELETE FROM session_summaries WHERE last_us < ?")
            .bind(before.as_micros())
            .execute(tx.exec())
            .await?;
        db::query(
            "DELETE FROM event_sessions WHERE first_us < ? \
             AND session NOT IN (SELECT session FROM session_summaries)",
        )
        .bind(before.as_micros())
        .execute(tx.exec())
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Removes everything older than `before` in batches of `batch` events,
    /// pausing `pause` between them so that ingest keeps its pace.
    pub async fn prune(
        &self,
        before: Timestamp,
        batch: usize,
        pause: std::time::Duration,
    ) -> Result<PruneReport, StoreError> {
        let mut report = PruneReport::default();
        loop {
            let n = self.prune_events_batch(before, batch).await?;
            if n == 0 {
                break;
            }
            report.events += n;
            report.batches += 1;
            tokio::time::sleep(pause).await;
        }
        report.sessions = self.prune_sessions(before).await?;
        Ok(report)
    }
}
