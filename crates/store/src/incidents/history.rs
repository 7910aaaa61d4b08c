//! The history of an incident: who changed what, and when
//! (`incident_history`). Rows outlive the incident, so a deletion stays on
//! record.

use crate::db::{self, Backend, Tx};
use nectar_event::Timestamp;
use uuid::Uuid;

use super::at;
use crate::{Store, StoreError};

/// One change to an incident.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IncidentChange {
    /// When.
    pub at: Timestamp,
    /// Who: a user name or a token's name.
    pub actor: String,
    /// What kind of change: `created`, `updated`, `alerts_added`,
    /// `comment_added`, `task_added`, `task_updated`, `observables_added`,
    /// `timeline_added`, `attachment_added`, `merged`, `merged_into`, `deleted`.
    pub action: String,
    /// The fields changed, `{"field": [old, new]}`.
    pub change: serde_json::Value,
}

/// Appends a change inside the caller's transaction, and marks the incident
/// updated (its `updated` time and list position's column).
pub(crate) async fn record(
    tx: &mut Tx,
    incident: Uuid,
    now: Timestamp,
    actor: &str,
    action: &str,
    change: &serde_json::Value,
) -> Result<(), StoreError> {
    db::query(
        "INSERT INTO incident_history (incident_id, at_us, actor, action, change) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(incident.as_bytes().as_slice())
    .bind(now.as_micros())
    .bind(actor)
    .bind(action)
    .bind(change.to_string())
    .execute(tx.exec())
    .await?;
    db::query(match tx.backend() {
        Backend::Sqlite => {
            "UPDATE incidents SET updated_us = ?, body = json_set(body, '$.updated', ?) WHERE id = ?"
        }
        Backend::Postgres => {
            "UPDATE incidents SET updated_us = ?, \
             body = jsonb_set(body::jsonb, '{updated}', to_jsonb(?::text))::text WHERE id = ?"
        }
    })
    .bind(now.as_micros())
    .bind(now.to_string())
    .bind(incident.as_bytes().as_slice())
    .execute(tx.exec())
    .await?;
    Ok(())
}

impl Store {
    /// An incident's changes, oldest first (at most `limit`, up to 10,000).
    pub async fn incident_history(
        &self,
        incident: Uuid,
        limit: usize,
    ) -> Result<Vec<IncidentChange>, StoreError> {
        let rows = db::query(
            "SELECT at_us, actor, action, change FROM incident_history WHERE incident_id = ? \
             ORDER BY id LIMIT ?",
        )
        .bind(incident.as_bytes().as_slice())
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .map(|row| {
                let change: String = row.get("change")?;
                Ok(IncidentChange {
                    at: at(row.get("at_us")?),
                    actor: row.get("actor")?,
                    action: row.get("action")?,
                    change: serde_json::from_str(&change).unwrap_or(serde_json::Value::Null),
                })
            })
            .collect()
    }
}
