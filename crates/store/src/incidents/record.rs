//! The incident record: opening one (empty, from a template, or from alerts),
//! reading it, changing its fields, deleting it. Each change is written to
//! the history with the fields' old and new values.

use crate::db::{self, Tx};
use nectar_event::{
    Classification, Incident, IncidentStatus, IncidentTemplate, Resolution, Severity, Timestamp,
    Tlp,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{IncidentError, corrupt, escalate, history};
use crate::{Store, StoreError};

/// What a new incident starts with. Empty fields take the template's value
/// (if any), then a default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewIncident {
    /// Its title; empty: the template's pattern, or the first alert's title.
    pub title: String,
    /// Markdown.
    pub description: String,
    /// Severity; `None`: the template's, raised to the alerts' worst.
    pub severity: Option<Severity>,
    /// Who works on it.
    pub assignee: Option<String>,
    /// TLP; `None`: the template's, else amber.
    pub tlp: Option<Tlp>,
    /// PAP; `None`: amber.
    pub pap: Option<Tlp>,
    /// Labels (added to the template's).
    pub tags: Vec<String>,
    /// ATT&CK technique ids (added to the alerts').
    pub techniques: Vec<String>,
    /// Classification; `None`: the template's defaults.
    pub classification: Option<Classification>,
    /// A shipped template's name.
    pub template: Option<&'static IncidentTemplate>,
    /// Alerts to escalate into it.
    pub alerts: Vec<Uuid>,
}

/// A change to an incident's fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentPatch {
    /// A new title.
    pub title: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new severity.
    pub severity: Option<Severity>,
    /// A new status (closing needs a resolution; reopening clears it).
    pub status: Option<IncidentStatus>,
    /// The resolution (with status closed, or on a closed incident).
    pub resolution: Option<Resolution>,
    /// `Some(None)` unassigns.
    pub assignee: Option<Option<String>>,
    /// TLP.
    pub tlp: Option<Tlp>,
    /// PAP.
    pub pap: Option<Tlp>,
    /// The whole tag list.
    pub tags: Option<Vec<String>>,
    /// The whole technique list.
    pub techniques: Option<Vec<String>>,
    /// The whole classification.
    pub classification: Option<Classification>,
}

/// Reads an incident's row inside a transaction.
pub(crate) async fn load(tx: &mut Tx, id: Uuid) -> Result<Option<Incident>, StoreError> {
    let row: Option<(String,)> = db::query_as("SELECT body FROM incidents WHERE id = ?")
        .bind(id.as_bytes().as_slice())
        .fetch_optional(tx.exec())
        .await?;
    row.map(|(body,)| serde_json::from_str(&body).map_err(|e| corrupt(id, e)))
        .transpose()
}

/// Writes an incident's row (insert or replace) inside a transaction.
pub(crate) async fn save(tx: &mut Tx, incident: &Incident) -> Result<(), StoreError> {
    let body = serde_json::to_string(incident).map_err(|e| corrupt(incident.id, e))?;
    db::query(
        "INSERT INTO incidents (id, status, severity, assignee, title, updated_us, body) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
         severity = excluded.severity, assignee = excluded.assignee, title = excluded.title, \
         updated_us = excluded.updated_us, body = excluded.body",
    )
    .bind(incident.id.as_bytes().as_slice())
    .bind(incident.status.as_str())
    .bind(incident.severity.rank())
    .bind(&incident.assignee)
    .bind(&incident.title)
    .bind(incident.updated.as_micros())
    .bind(body)
    .execute(tx.exec())
    .await?;
    Ok(())
}

/// Adds `more` to `list`, keeping the order and leaving out duplicates.
pub(crate) fn union(list: &mut Vec<String>, more: impl IntoIterator<Item = String>) {
    for item in more {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

/// Status and resolution after a change, or why not.
fn next_state(
    current: &Incident,
    patch: &IncidentPatch,
) -> Result<(IncidentStatus, Option<Resolution>), IncidentError> {
    let status = patch.status.unwrap_or(current.status);
    match (status, patch.resolution) {
        (IncidentStatus::Closed, Some(r)) => Ok((status, Some(r))),
        (IncidentStatus::Closed, None) => match current.resolution {
            Some(r) => Ok((status, Some(r))),
            None => Err(IncidentError::ResolutionMissing),
        },
        (_, Some(_)) => Err(IncidentError::ResolutionWithoutClose),
        (_, None) => Ok((status, None)),
    }
}

impl Store {
    /// Opens an incident as `actor`, escalating `new.alerts` into it.
    pub async fn create_incident(
        &self,
        new: &NewIncident,
        actor: &str,
    ) -> Result<Result<Incident, IncidentError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let now = Timestamp::now();
        let template = new.template;
        let mut tags: Vec<String> = template
            .map(|t| t.tags.iter().map(|s| (*s).to_owned()).collect())
            .unwrap_or_default();
        union(&mut tags, new.tags.iter().cloned());
        let mut incident = Incident {
            id: Uuid::now_v7(),
            title: new.title.clone(),
            description: new.description.clone(),
            severity: new
                .severity
                .or(template.map(|t| t.severity))
                .unwrap_or(Severity::Medium),
            status: IncidentStatus::New,
            resolution: None,
            assignee: new.assignee.clone(),
            tlp: new.tlp.or(template.map(|t| t.tlp)).unwrap_or(Tlp::Amber),
            pap: new.pap.unwrap_or(Tlp::Amber),
            tags,
            techniques: new.techniques.clone(),
            classification: new
                .classification
                .clone()
                .or(template.map(|t| t.classification()))
                .unwrap_or_default(),
            template: template.map(|t| t.name.to_owned()),
            created_by: actor.to_owned(),
            created: now,
            updated: now,
            merged_into: None,
        };
        // The row exists before its alerts point at it.
        save(&mut tx, &incident).await?;
        let added =
            match escalate::add_alerts(&mut tx, incident.id, &new.alerts, actor, now).await? {
                Ok(added) => added,
                Err(refused) => return Ok(Err(refused)),
            };
        if new.severity.is_none()
            && let Some(worst) = added.worst
        {
            incident.severity = incident.severity.max(worst);
        }
        union(&mut incident.techniques, added.techniques.iter().cloned());
        if incident.title.trim().is_empty() {
            incident.title = match (template, &added.first_title) {
                (Some(t), _) => t.title_for(added.first_source.as_deref()),
                (None, Some(title)) => title.clone(),
                (None, None) => "Untitled incident".to_owned(),
            };
        }
        save(&mut tx, &incident).await?;
        if let Some(t) = template {
            for task in t.tasks {
                super::parts::insert_task(&mut tx, incident.id, task, None, actor, now).await?;
            }
        }
        history::record(
            &mut tx,
            incident.id,
            now,
            actor,
            "created",
            &json!({
                "title": [null, incident.title],
                "severity": [null, incident.severity.as_str()],
                "status": [null, incident.status.as_str()],
                "template": [null, incident.template],
                "alerts": [null, added.ids.len()],
                "observables": [null, added.observables],
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(incident))
    }

    /// One incident.
    pub async fn incident(&self, id: Uuid) -> Result<Option<Incident>, StoreError> {
        let row: Option<(String,)> = db::query_as("SELECT body FROM incidents WHERE id = ?")
            .bind(id.as_bytes().as_slice())
            .fetch_optional(self.db.read())
            .await?;
        row.map(|(body,)| serde_json::from_str(&body).map_err(|e| corrupt(id, e)))
            .transpose()
    }

    /// Applies `patch` as `actor`; returns the incident as it is now.
    pub async fn update_incident(
        &self,
        id: Uuid,
        patch: &IncidentPatch,
        actor: &str,
    ) -> Result<Result<Incident, IncidentError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let Some(before) = load(&mut tx, id).await? else {
            return Ok(Err(IncidentError::NotFound(id)));
        };
        let (status, resolution) = match next_state(&before, patch) {
            Ok(s) => s,
            Err(refused) => return Ok(Err(refused)),
        };
        let mut after = before.clone();
        after.status = status;
        after.resolution = resolution;
        if let Some(v) = &patch.title {
            after.title = v.clone();
        }
        if let Some(v) = &patch.description {
            after.description = v.clone();
        }
        if let Some(v) = patch.severity {
            after.severity = v;
        }
        if let Some(v) = &patch.assignee {
            after.assignee = v.clone();
        }
        if let Some(v) = patch.tlp {
            after.tlp = v;
        }
        if let Some(v) = patch.pap {
            after.pap = v;
        }
        if let Some(v) = &patch.tags {
            after.tags = v.clone();
        }
        if let Some(v) = &patch.techniques {
            after.techniques = v.clone();
        }
        if let Some(v) = &patch.classification {
            after.classification = v.clone();
        }
        let change = diff(&before, &after);
        if change.is_empty() {
            return Ok(Ok(before));
        }
        let now = Timestamp::now();
        after.updated = now;
        save(&mut tx, &after).await?;
        history::record(&mut tx, id, now, actor, "updated", &Value::Object(change)).await?;
        tx.commit().await?;
        Ok(Ok(after))
    }

    /// Deletes an incident and its parts as `actor` (its alerts leave it; the
    /// history keeps the deletion). `false` if there was none.
    pub async fn delete_incident(&self, id: Uuid, actor: &str) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await?;
        let Some(incident) = load(&mut tx, id).await? else {
            return Ok(false);
        };
        let now = Timestamp::now();
        let alerts = escalate::release_alerts(&mut tx, id, actor, now).await?;
        let key = id.as_bytes().as_slice();
        for table in [
            "incident_observables",
            "incident_tasks",
            "incident_comments",
            "incident_timeline",
            "incident_attachments",
        ] {
            db::query(&format!("DELETE FROM {table} WHERE incident_id = ?"))
                .bind(key)
                .execute(tx.exec())
                .await?;
        }
        super::attachments::drop_orphans(&mut tx).await?;
        history::record(
            &mut tx,
            id,
            now,
            actor,
            "deleted",
            &json!({"title": [incident.title, null], "alerts": [alerts, 0]}),
        )
        .await?;
        db::query("DELETE FROM incidents WHERE id = ?")
            .bind(key)
            .execute(tx.exec())
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// `{"field": [old, new]}` for every field that differs.
pub(crate) fn diff(before: &Incident, after: &Incident) -> serde_json::Map<String, Value> {
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return serde_json::Map::new();
    };
    new.into_iter()
        .filter(|(k, _)| k != "updated")
        .filter_map(|(k, v)| {
            let was = old.get(&k).cloned().unwrap_or(Value::Null);
            (was != v).then(|| (k, json!([was, v])))
        })
        .collect()
}
