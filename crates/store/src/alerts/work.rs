//! People's changes to alerts: status, resolution and assignee, one alert or
//! many at once, each recorded in the alert's history.

use crate::db::{self};
use nectar_event::{Alert, AlertResolution, AlertStatus, Timestamp};
use uuid::Uuid;

use super::queue::alert_from_body;
use crate::{Store, StoreError};

/// What to change on alerts; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertUpdate {
    /// The new status.
    pub status: Option<AlertStatus>,
    /// The resolution (required when closing; cleared when reopening).
    pub resolution: Option<AlertResolution>,
    /// `Some(Some(user))` assigns, `Some(None)` unassigns.
    pub assignee: Option<Option<String>>,
}

/// Why an update was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// Closing needs a reason.
    #[error(
        "closing an alert needs a resolution: true_positive, false_positive, benign or duplicate"
    )]
    ResolutionMissing,
    /// A resolution on an alert that stays open.
    #[error("resolution is only for closed alerts; send status \"closed\" with it")]
    ResolutionWithoutClose,
    /// Reopening would clash with a newer open alert of the same rule and group.
    #[error("alert {0} cannot be reopened: a newer alert of the same rule and group is open")]
    NewerOpen(Uuid),
}

impl Store {
    /// Applies `update` to each alert in `ids` as `actor`; returns the alerts
    /// as they are now (ids that do not exist are left out).
    pub async fn update_alerts(
        &self,
        ids: &[Uuid],
        update: &AlertUpdate,
        actor: &str,
    ) -> Result<Result<Vec<Alert>, UpdateError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let now = Timestamp::now();
        let mut changed = Vec::with_capacity(ids.len());
        for id in ids {
            let row: Option<(String,)> = db::query_as("SELECT body FROM alerts WHERE id = ?")
                .bind(id.as_bytes().as_slice())
                .fetch_optional(tx.exec())
                .await?;
            let Some((body,)) = row else { continue };
            let mut alert = alert_from_body(id.as_bytes(), &body)?;
            let before = alert.clone();
            let status = update.status.unwrap_or(alert.status);
            match (status, update.resolution) {
                (AlertStatus::Closed, Some(r)) => alert.resolution = Some(r),
                (AlertStatus::Closed, None) if alert.resolution.is_none() => {
                    return Ok(Err(UpdateError::ResolutionMissing));
                }
                (AlertStatus::Closed, None) => {}
                (_, Some(_)) => return Ok(Err(UpdateError::ResolutionWithoutClose)),
                (_, None) => alert.resolution = None,
            }
            alert.status = status;
            if let Some(assignee) = &update.assignee {
                alert.assignee = assignee.clone();
            }
            if alert == before {
                changed.push(alert);
                continue;
            }
            let mut change = serde_json::Map::new();
            let mut note = |field: &str, old: serde_json::Value, new: serde_json::Value| {
                if old != new {
                    change.insert(field.into(), serde_json::json!([old, new]));
                }
            };
            note(
                "status",
                before.status.as_str().into(),
                alert.status.as_str().into(),
            );
            note(
                "resolution",
                serde_json::to_value(before.resolution).unwrap_or_default(),
                serde_json::to_value(alert.resolution).unwrap_or_default(),
            );
            note(
                "assignee",
                before.assignee.clone().into(),
                alert.assignee.clone().into(),
            );
            let body = serde_json::to_string(&alert).map_err(|e| StoreError::CorruptRow {
                id: id.to_string(),
                reason: e.to_string(),
            })?;
            let updated =
                db::query("UPDATE alerts SET status = ?, assignee = ?, body = ? WHERE id = ?")
                    .bind(alert.status.as_str())
                    .bind(&alert.assignee)
                    .bind(&body)
                    .bind(id.as_bytes().as_slice())
                    .execute(tx.exec())
                    .await;
            match updated {
                Ok(_) => {}
                // The open-per-fingerprint index: a newer alert of the group is open.
                Err(e) if e.is_unique_violation() => {
                    return Ok(Err(UpdateError::NewerOpen(*id)));
                }
                Err(e) => return Err(e),
            }
            super::history::record(
                &mut tx,
                *id,
                now,
                actor,
                "updated",
                &serde_json::Value::Object(change),
            )
            .await?;
            changed.push(alert);
        }
        tx.commit().await?;
        Ok(Ok(changed))
    }
}
