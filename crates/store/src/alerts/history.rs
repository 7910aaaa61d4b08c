//! The history of an alert: who changed what, and when (`alert_history`).

use crate::db::{self, Tx};
use nectar_event::Timestamp;
use uuid::Uuid;

use crate::{Store, StoreError};

/// One change to an alert.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertChange {
    /// When.
    pub at: Timestamp,
    /// Who: a user name, a token's owner, or `rules` (the engine).
    pub actor: String,
    /// What kind of change: `raised`, `reopened`, `updated`.
    pub action: String,
    /// The fields changed, `{"field": [old, new]}`.
    pub change: serde_json::Value,
}

/// Appends a change inside the caller's transaction.
pub(crate) async fn record(
    tx: &mut Tx,
    alert: Uuid,
    at: Timestamp,
    actor: &str,
    action: &str,
    change: &serde_json::Value,
) -> Result<(), StoreError> {
    db::query(
        "INSERT INTO alert_history (alert_id, at_us, actor, action, change) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(alert.as_bytes().as_slice())
    .bind(at.as_micros())
    .bind(actor)
    .bind(action)
    .bind(change.to_string())
    .execute(tx.exec())
    .await?;
    Ok(())
}

impl Store {
    /// An alert's changes, oldest first (at most `limit`).
    pub async fn alert_history(
        &self,
        alert: Uuid,
        limit: usize,
    ) -> Result<Vec<AlertChange>, StoreError> {
        let rows = db::query(
            "SELECT at_us, actor, action, change FROM alert_history WHERE alert_id = ? \
             ORDER BY id LIMIT ?",
        )
        .bind(alert.as_bytes().as_slice())
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .map(|row| {
                let at: i64 = row.get("at_us")?;
                let change: String = row.get("change")?;
                Ok(AlertChange {
                    at: Timestamp::from_micros(at).unwrap_or(Timestamp::EPOCH),
                    actor: row.get("actor")?,
                    action: row.get("action")?,
                    change: serde_json::from_str(&change).unwrap_or(serde_json::Value::Null),
                })
            })
            .collect()
    }
}
