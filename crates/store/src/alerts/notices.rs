//! The feed of raised alerts: one row each time an alert is raised (new, or
//! reopened after it was closed), appended in the same transaction as the
//! alert, read in order by the notifier, which keeps its position as a consumer
//! offset (`consumer_offsets`, name `notify`).

use crate::db::{self, Tx};
use nectar_event::{Alert, Timestamp};

use crate::{Store, StoreError};

/// Why a notice was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// A new alert (its first match that no silence covered).
    Raised,
    /// A closed alert's rule fired again for the same group: a new alert that
    /// names the old one in `previous`.
    Reopened,
}

impl NoticeKind {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Raised => "raised",
            NoticeKind::Reopened => "reopened",
        }
    }

    pub(crate) fn parse(name: &str) -> NoticeKind {
        if name == "reopened" {
            NoticeKind::Reopened
        } else {
            NoticeKind::Raised
        }
    }
}

/// One entry of the feed.
#[derive(Debug, Clone)]
pub struct AlertNotice {
    /// Its position in the feed (1, 2, 3, ...; increasing, never reused).
    pub id: i64,
    /// Why it was written.
    pub kind: NoticeKind,
    /// When (wall time of the rules stage).
    pub at: Timestamp,
    /// The alert as it was when raised.
    pub alert: Alert,
}

impl Store {
    /// Up to `limit` notices after feed position `after`, in order.
    pub async fn alert_notices_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AlertNotice>, StoreError> {
        let rows = db::query(
            "SELECT id, kind, at_us, alert FROM alert_notices WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind(after)
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.get("id")?;
                let kind: String = row.get("kind")?;
                let at: i64 = row.get("at_us")?;
                let alert: String = row.get("alert")?;
                let corrupt = |reason: String| StoreError::CorruptRow {
                    id: format!("alert_notices {id}"),
                    reason,
                };
                Ok(AlertNotice {
                    id,
                    kind: NoticeKind::parse(&kind),
                    at: Timestamp::from_micros(at).ok_or_else(|| corrupt("time".into()))?,
                    alert: serde_json::from_str(&alert).map_err(|e| corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    /// The last feed position (0 when nothing was ever raised).
    pub async fn last_alert_notice(&self) -> Result<i64, StoreError> {
        let (last,): (i64,) = db::query_as("SELECT COALESCE(MAX(id), 0) FROM alert_notices")
            .fetch_one(self.db.read())
            .await?;
        Ok(last)
    }

    /// Appends a notice inside the caller's transaction.
    pub(crate) async fn push_notice(
        tx: &mut Tx,
        kind: NoticeKind,
        at: Timestamp,
        alert: &Alert,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(alert).map_err(|e| StoreError::CorruptRow {
            id: alert.id.to_string(),
            reason: e.to_string(),
        })?;
        db::query("INSERT INTO alert_notices (alert_id, kind, at_us, alert) VALUES (?, ?, ?, ?)")
            .bind(alert.id.as_bytes().as_slice())
            .bind(kind.as_str())
            .bind(at.as_micros())
            .bind(body)
            .execute(tx.exec())
            .await?;
        Ok(())
    }
}
