//! Alerts into incidents: escalating one or many alerts into a new or an
//! existing incident (their observables and techniques come along, the
//! alerts name the incident and are acknowledged), letting them go when an
//! incident is deleted, and merging two incidents into one.

use crate::db::{self, Tx};
use nectar_event::{Alert, AlertStatus, IncidentStatus, Resolution, Severity, Timestamp};
use serde_json::json;
use uuid::Uuid;

use super::record::{load, save, union};
use super::{IncidentError, corrupt, history};
use crate::alerts::history as alert_history;
use crate::{Store, StoreError};

/// Most alerts one escalation takes (a bulk "all filtered" is bounded too).
pub const MAX_ESCALATE: usize = crate::MAX_BULK;

/// What escalating alerts brought into an incident.
#[derive(Debug, Default)]
pub(crate) struct Added {
    pub ids: Vec<Uuid>,
    pub worst: Option<Severity>,
    pub techniques: Vec<String>,
    pub observables: u64,
    pub first_title: Option<String>,
    pub first_source: Option<String>,
}

async fn load_alert(tx: &mut Tx, id: Uuid) -> Result<Option<Alert>, StoreError> {
    let row: Option<(String,)> = db::query_as("SELECT body FROM alerts WHERE id = ?")
        .bind(id.as_bytes().as_slice())
        .fetch_optional(tx.exec())
        .await?;
    row.map(|(body,)| crate::alerts::alert_from_body(id.as_bytes(), &body))
        .transpose()
}

async fn save_alert(tx: &mut Tx, alert: &Alert) -> Result<(), StoreError> {
    let body = serde_json::to_string(alert).map_err(|e| corrupt(alert.id, e))?;
    db::query("UPDATE alerts SET status = ?, body = ? WHERE id = ?")
        .bind(alert.status.as_str())
        .bind(body)
        .bind(alert.id.as_bytes().as_slice())
        .execute(tx.exec())
        .await?;
    Ok(())
}

/// Links `ids` to `incident` inside the caller's transaction: the alert rows
/// name it (new ones are acknowledged), each alert's history says so, and
/// their observables join the incident's.
pub(crate) async fn add_alerts(
    tx: &mut Tx,
    incident: Uuid,
    ids: &[Uuid],
    actor: &str,
    now: Timestamp,
) -> Result<Result<Added, IncidentError>, StoreError> {
    let mut added = Added::default();
    for &id in ids.iter().take(MAX_ESCALATE) {
        let Some(mut alert) = load_alert(tx, id).await? else {
            return Ok(Err(IncidentError::AlertMissing(id)));
        };
        match alert.incident {
            Some(other) if other == incident => continue,
            Some(other) => {
                return Ok(Err(IncidentError::AlertTaken {
                    alert: id,
                    incident: other,
                }));
            }
            None => {}
        }
        let before_status = alert.status;
        alert.incident = Some(incident);
        if alert.status == AlertStatus::New {
            alert.status = AlertStatus::Acknowledged;
        }
        save_alert(tx, &alert).await?;
        db::query(
            "INSERT INTO incident_alerts (incident_id, alert_id, added_us, added_by) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(incident.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .bind(now.as_micros())
        .bind(actor)
        .execute(tx.exec())
        .await?;
        let mut change = serde_json::Map::new();
        change.insert("incident".into(), json!([null, incident]));
        if before_status != alert.status {
            change.insert(
                "status".into(),
                json!([before_status.as_str(), alert.status.as_str()]),
            );
        }
        alert_history::record(tx, id, now, actor, "escalated", &change.into()).await?;
        for o in &alert.observables {
            let inserted = db::query(
                "INSERT INTO incident_observables \
                 (incident_id, kind, value, ioc, tlp, source, added_us, added_by) \
                 VALUES (?, ?, ?, ?, 'amber', 'alert', ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(incident.as_bytes().as_slice())
            .bind(o.kind.as_str())
            .bind(&o.value)
            .bind(o.ioc)
            .bind(now.as_micros())
            .bind(actor)
            .execute(tx.exec())
            .await?;
            added.observables += inserted;
        }
        added.worst = Some(
            added
                .worst
                .map_or(alert.severity, |w| w.max(alert.severity)),
        );
        union(&mut added.techniques, alert.rule.techniques.iter().cloned());
        if added.first_title.is_none() {
            added.first_title = Some(alert.title.clone());
            added.first_source = alert.group.get("src_ip").cloned();
        }
        added.ids.push(id);
    }
    Ok(Ok(added))
}

/// Unlinks every alert of `incident` (it is being deleted); returns how many.
pub(crate) async fn release_alerts(
    tx: &mut Tx,
    incident: Uuid,
    actor: &str,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let rows: Vec<(Vec<u8>,)> =
        db::query_as("SELECT alert_id FROM incident_alerts WHERE incident_id = ?")
            .bind(incident.as_bytes().as_slice())
            .fetch_all(tx.exec())
            .await?;
    let mut n = 0;
    for (bytes,) in rows {
        let Ok(id) = Uuid::from_slice(&bytes) else {
            continue;
        };
        if let Some(mut alert) = load_alert(tx, id).await? {
            alert.incident = None;
            save_alert(tx, &alert).await?;
            alert_history::record(
                tx,
                id,
                now,
                actor,
                "released",
                &json!({"incident": [incident, null]}),
            )
            .await?;
            n += 1;
        }
    }
    db::query("DELETE FROM incident_alerts WHERE incident_id = ?")
        .bind(incident.as_bytes().as_slice())
        .execute(tx.exec())
        .await?;
    Ok(n)
}

impl Store {
    /// Escalates `alerts` into the existing incident `id` as `actor`; its
    /// techniques grow and its severity rises to the alerts' worst.
    pub async fn escalate_alerts(
        &self,
        id: Uuid,
        alerts: &[Uuid],
        actor: &str,
    ) -> Result<Result<nectar_event::Incident, IncidentError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let Some(mut incident) = load(&mut tx, id).await? else {
            return Ok(Err(IncidentError::NotFound(id)));
        };
        let now = Timestamp::now();
        let added = match add_alerts(&mut tx, id, alerts, actor, now).await? {
            Ok(a) => a,
            Err(refused) => return Ok(Err(refused)),
        };
        if added.ids.is_empty() {
            return Ok(Ok(incident));
        }
        let before = incident.clone();
        if let Some(worst) = added.worst {
            incident.severity = incident.severity.max(worst);
        }
        union(&mut incident.techniques, added.techniques.iter().cloned());
        incident.updated = now;
        save(&mut tx, &incident).await?;
        let mut change = super::record::diff(&before, &incident);
        change.insert("alerts".into(), json!([null, added.ids]));
        change.insert("observables".into(), json!([null, added.observables]));
        history::record(&mut tx, id, now, actor, "alerts_added", &change.into()).await?;
        tx.commit().await?;
        Ok(Ok(incident))
    }

    /// Merges incident `from` into `into` as `actor`: alerts, observables,
    /// tasks, comments, timeline entries and attachments move; tags and
    /// techniques join; `from` is closed as a duplicate naming `into`.
    pub async fn merge_incidents(
        &self,
        from: Uuid,
        into: Uuid,
        actor: &str,
    ) -> Result<Result<nectar_event::Incident, IncidentError>, StoreError> {
        if from == into {
            return Ok(Err(IncidentError::MergeSelf));
        }
        let mut tx = self.db.begin().await?;
        let (Some(mut source), Some(mut target)) =
            (load(&mut tx, from).await?, load(&mut tx, into).await?)
        else {
            let missing = if load(&mut tx, from).await?.is_none() {
                from
            } else {
                into
            };
            return Ok(Err(IncidentError::NotFound(missing)));
        };
        let now = Timestamp::now();
        let (f, t) = (from.as_bytes().as_slice(), into.as_bytes().as_slice());
        let moved: Vec<(Vec<u8>,)> =
            db::query_as("SELECT alert_id FROM incident_alerts WHERE incident_id = ?")
                .bind(f)
                .fetch_all(tx.exec())
                .await?;
        for (bytes,) in &moved {
            let Ok(id) = Uuid::from_slice(bytes) else {
                continue;
            };
            if let Some(mut alert) = load_alert(&mut tx, id).await? {
                alert.incident = Some(into);
                save_alert(&mut tx, &alert).await?;
                alert_history::record(
                    &mut tx,
                    id,
                    now,
                    actor,
                    "escalated",
                    &json!({"incident": [from, into]}),
                )
                .await?;
            }
        }
        db::query("UPDATE incident_alerts SET incident_id = ? WHERE incident_id = ?")
            .bind(t)
            .bind(f)
            .execute(tx.exec())
            .await?;
        db::query(
            "INSERT INTO incident_observables \
             (incident_id, kind, value, ioc, tlp, source, added_us, added_by) \
             SELECT ?, kind, value, ioc, tlp, source, added_us, added_by \
             FROM incident_observables WHERE incident_id = ? ON CONFLICT DO NOTHING",
        )
        .bind(t)
        .bind(f)
        .execute(tx.exec())
        .await?;
        db::query(
            "INSERT INTO incident_attachments \
             (incident_id, sha256, name, added_us, added_by) \
             SELECT ?, sha256, name, added_us, added_by FROM incident_attachments \
             WHERE incident_id = ? ON CONFLICT DO NOTHING",
        )
        .bind(t)
        .bind(f)
        .execute(tx.exec())
        .await?;
        for table in ["incident_observables", "incident_attachments"] {
            db::query(&format!("DELETE FROM {table} WHERE incident_id = ?"))
                .bind(f)
                .execute(tx.exec())
                .await?;
        }
        for table in ["incident_tasks", "incident_comments", "incident_timeline"] {
            db::query(&format!(
                "UPDATE {table} SET incident_id = ? WHERE incident_id = ?"
            ))
            .bind(t)
            .bind(f)
            .execute(tx.exec())
            .await?;
        }
        let before = target.clone();
        union(&mut target.tags, source.tags.iter().cloned());
        union(&mut target.techniques, source.techniques.iter().cloned());
        target.severity = target.severity.max(source.severity);
        target.updated = now;
        save(&mut tx, &target).await?;
        let mut change = super::record::diff(&before, &target);
        change.insert("merged".into(), json!([from, into]));
        change.insert("alerts".into(), json!([null, moved.len()]));
        history::record(&mut tx, into, now, actor, "merged", &change.into()).await?;
        let before = source.clone();
        source.status = IncidentStatus::Closed;
        source.resolution = Some(Resolution::Duplicate);
        source.merged_into = Some(into);
        source.updated = now;
        save(&mut tx, &source).await?;
        history::record(
            &mut tx,
            from,
            now,
            actor,
            "merged_into",
            &super::record::diff(&before, &source).into(),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(target))
    }
}
