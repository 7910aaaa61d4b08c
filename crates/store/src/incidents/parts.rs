//! The parts of a case: comments, tasks, observables (with where else each
//! was seen), timeline entries written by hand, and reading the incident's
//! alerts and their events. Every addition is one transaction with its
//! history entry.

use crate::db::{self, Row, Tx};
use nectar_event::{Alert, Event, Timestamp, Tlp};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{IncidentCounts, IncidentError, at, history};
use crate::{Store, StoreError};

/// A comment, in Markdown as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    /// Its number.
    pub id: i64,
    /// Who wrote it.
    pub author: String,
    /// When.
    pub at: Timestamp,
    /// The Markdown.
    pub body: String,
}

/// A task of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    /// Its number.
    pub id: i64,
    /// What to do.
    pub title: String,
    /// Who does it.
    pub assignee: Option<String>,
    /// Whether it is done.
    pub done: bool,
    /// Who added it.
    pub created_by: String,
    /// When.
    pub created: Timestamp,
}

/// An observable of an incident, with where else it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentObservable {
    /// Its number.
    pub id: i64,
    /// What the value is (`ip`, `domain`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The value (attacker text: escape it for display).
    pub value: String,
    /// Whether it is an indicator of compromise.
    pub ioc: bool,
    /// Who may learn of it.
    pub tlp: Tlp,
    /// `alert` (came with an escalated alert) or `hand`.
    pub source: String,
    /// Other incidents holding the same type and value.
    pub seen_incidents: u64,
    /// Alerts outside this incident grouped by the same address (addresses only).
    pub seen_alerts: u64,
}

/// An observable to add by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObservable {
    /// Its type name.
    pub kind: String,
    /// The value.
    pub value: String,
    /// An indicator of compromise?
    pub ioc: bool,
    /// Its TLP.
    pub tlp: Tlp,
}

/// A timeline entry written by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineNote {
    /// Its number.
    pub id: i64,
    /// When it happened (as told).
    pub at: Timestamp,
    /// What happened.
    pub text: String,
    /// Who wrote it.
    pub author: String,
}

/// Whether the incident exists (inside a transaction).
async fn exists(tx: &mut Tx, id: Uuid) -> Result<bool, StoreError> {
    let row: Option<(i32,)> = db::query_as("SELECT 1 FROM incidents WHERE id = ?")
        .bind(id.as_bytes().as_slice())
        .fetch_optional(tx.exec())
        .await?;
    Ok(row.is_some())
}

pub(crate) async fn insert_task(
    tx: &mut Tx,
    incident: Uuid,
    title: &str,
    assignee: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let done = db::query(
        "INSERT INTO incident_tasks (incident_id, title, assignee, done, created_us, created_by) \
         VALUES (?, ?, ?, FALSE, ?, ?) RETURNING id",
    )
    .bind(incident.as_bytes().as_slice())
    .bind(title)
    .bind(assignee)
    .bind(now.as_micros())
    .bind(actor)
    .scalar::<i64>(tx.exec())
    .await?;
    Ok(done)
}

impl Store {
    /// Adds a comment as `actor`.
    pub async fn add_comment(
        &self,
        id: Uuid,
        body: &str,
        actor: &str,
    ) -> Result<Result<Comment, IncidentError>, StoreError> {
        let mut tx = self.db.begin().await?;
        if !exists(&mut tx, id).await? {
            return Ok(Err(IncidentError::NotFound(id)));
        }
        let now = Timestamp::now();
        let done = db::query(
            "INSERT INTO incident_comments (incident_id, author, at_us, body) VALUES (?, ?, ?, ?) \
             RETURNING id",
        )
        .bind(id.as_bytes().as_slice())
        .bind(actor)
        .bind(now.as_micros())
        .bind(body)
        .scalar::<i64>(tx.exec())
        .await?;
        let comment = Comment {
            id: done,
            author: actor.to_owned(),
            at: now,
            body: body.to_owned(),
        };
        let preview: String = body.chars().take(200).collect();
        history::record(
            &mut tx,
            id,
            now,
            actor,
            "comment_added",
            &json!({"comment": [null, preview]}),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(comment))
    }

    /// An incident's comments, oldest first (at most `limit`).
    pub async fn incident_comments(
        &self,
        id: Uuid,
        limit: usize,
    ) -> Result<Vec<Comment>, StoreError> {
        let rows = db::query(
            "SELECT id, author, at_us, body FROM incident_comments WHERE incident_id = ? \
             ORDER BY id LIMIT ?",
        )
        .bind(id.as_bytes().as_slice())
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Comment {
                    id: r.get("id")?,
                    author: r.get("author")?,
                    at: at(r.get("at_us")?),
                    body: r.get("body")?,
                })
            })
            .collect()
    }

    /// Adds a task as `actor`.
    pub async fn add_task(
        &self,
        id: Uuid,
        title: &str,
        assignee: Option<&str>,
        actor: &str,
    ) -> Result<Result<Task, IncidentError>, StoreError> {
        let mut tx = self.db.begin().await?;
        if !exists(&mut tx, id).await? {
            return Ok(Err(IncidentError::NotFound(id)));
        }
        let now = Timestamp::now();
        let task = insert_task(&mut tx, id, title, assignee, actor, now).await?;
        history::record(
            &mut tx,
            id,
            now,
            actor,
            "task_added",
            &json!({"task": [null, title], "assignee": [null, assignee]}),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(Task {
            id: task,
            title: title.to_owned(),
            assignee: assignee.map(str::to_owned),
            done: false,
            created_by: actor.to_owned(),
            created: now,
        }))
    }

    /// Marks a task done or not, and/or (re)assigns it, as `actor`.
    pub async fn update_task(
        &self,
        id: Uuid,
        task: i64,
        done: Option<bool>,
        assignee: Option<Option<String>>,
        actor: &str,
    ) -> Result<Result<Task, IncidentError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let row = db::query(
            "SELECT id, title, assignee, done, created_by, created_us FROM incident_tasks \
             WHERE id = ? AND incident_id = ?",
        )
        .bind(task)
        .bind(id.as_bytes().as_slice())
        .fetch_optional(tx.exec())
        .await?;
        let Some(row) = row else {
            return Ok(Err(if exists(&mut tx, id).await? {
                IncidentError::TaskMissing(task)
            } else {
                IncidentError::NotFound(id)
            }));
        };
        let before = task_from_row(&row)?;
        let mut after = before.clone();
        if let Some(d) = done {
            after.done = d;
        }
        if let Some(a) = assignee {
            after.assignee = a;
        }
        if after == before {
            return Ok(Ok(before));
        }
        db::query("UPDATE incident_tasks SET done = ?, assignee = ? WHERE id = ?")
            .bind(after.done)
            .bind(&after.assignee)
            .bind(task)
            .execute(tx.exec())
            .await?;
        let mut change = serde_json::Map::new();
        change.insert("task".into(), json!([before.title, after.title]));
        if before.done != after.done {
            change.insert("done".into(), json!([before.done, after.done]));
        }
        if before.assignee != after.assignee {
            change.insert("assignee".into(), json!([before.assignee, after.assignee]));
        }
        history::record(
            &mut tx,
            id,
            Timestamp::now(),
            actor,
            "task_updated",
            &change.into(),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(after))
    }

    /// An incident's tasks, in the order they were added.
    pub async fn incident_tasks(&self, id: Uuid) -> Result<Vec<Task>, StoreError> {
        let rows = db::query(
            "SELECT id, title, assignee, done, created_by, created_us FROM incident_tasks \
             WHERE incident_id = ? ORDER BY id LIMIT 1000",
        )
        .bind(id.as_bytes().as_slice())
        .fetch_all(self.db.read())
        .await?;
        rows.iter().map(task_from_row).collect()
    }

    /// Adds observables by hand as `actor`; returns how many were new.
    pub async fn add_observables(
        &self,
        id: Uuid,
        list: &[NewObservable],
        actor: &str,
    ) -> Result<Result<u64, IncidentError>, StoreError> {
        let mut tx = self.db.begin().await?;
        if !exists(&mut tx, id).await? {
            return Ok(Err(IncidentError::NotFound(id)));
        }
        let now = Timestamp::now();
        let mut added = Vec::new();
        for o in list {
            let done = db::query(
                "INSERT INTO incident_observables \
                 (incident_id, kind, value, ioc, tlp, source, added_us, added_by) \
                 VALUES (?, ?, ?, ?, ?, 'hand', ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(id.as_bytes().as_slice())
            .bind(&o.kind)
            .bind(&o.value)
            .bind(o.ioc)
            .bind(o.tlp.as_str())
            .bind(now.as_micros())
            .bind(actor)
            .execute(tx.exec())
            .await?;
            if done > 0 {
                added.push(format!("{}:{}", o.kind, o.value));
            }
        }
        if !added.is_empty() {
            let shown: Vec<&String> = added.iter().take(20).collect();
            history::record(
                &mut tx,
                id,
                now,
                actor,
                "observables_added",
                &json!({"observables": [null, shown], "count": [null, added.len()]}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(added.len() as u64))
    }

    /// An incident's observables (at most `limit`), with how many other
    /// incidents hold the same value and, for addresses, how many alerts
    /// outside this incident came from it.
    pub async fn incident_observables(
        &self,
        id: Uuid,
        limit: usize,
    ) -> Result<Vec<IncidentObservable>, StoreError> {
        let key = id.as_bytes().as_slice();
        // One grouped query each, not one per observable: the page stays one
        // round of index lookups however many observables there are.
        let rows = db::query(
            "SELECT o.id, o.kind, o.value, o.ioc, o.tlp, o.source, \
             (SELECT COUNT(*) FROM incident_observables x \
               WHERE x.kind = o.kind AND x.value = o.value AND x.incident_id <> o.incident_id) \
               AS seen_incidents, \
             CASE WHEN o.kind = 'ip' THEN (SELECT COUNT(*) FROM alerts a \
               WHERE a.src_ip = o.value AND NOT EXISTS (SELECT 1 FROM incident_alerts ia \
               WHERE ia.alert_id = a.id AND ia.incident_id = o.incident_id)) ELSE 0 END \
               AS seen_alerts \
             FROM incident_observables o WHERE o.incident_id = ? ORDER BY o.id LIMIT ?",
        )
        .bind(key)
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .map(|r| {
                let tlp: String = r.get("tlp")?;
                Ok(IncidentObservable {
                    id: r.get("id")?,
                    kind: r.get("kind")?,
                    value: r.get("value")?,
                    ioc: r.get("ioc")?,
                    tlp: Tlp::parse(&tlp).unwrap_or(Tlp::Amber),
                    source: r.get("source")?,
                    seen_incidents: r.get::<i64, _>("seen_incidents")?.max(0) as u64,
                    seen_alerts: r.get::<i64, _>("seen_alerts")?.max(0) as u64,
                })
            })
            .collect()
    }

    /// Adds a timeline entry by hand as `actor`.
    pub async fn add_timeline_note(
        &self,
        id: Uuid,
        when: Timestamp,
        text: &str,
        actor: &str,
    ) -> Result<Result<TimelineNote, IncidentError>, StoreError> {
        let mut tx = self.db.begin().await?;
        if !exists(&mut tx, id).await? {
            return Ok(Err(IncidentError::NotFound(id)));
        }
        let now = Timestamp::now();
        let done = db::query(
            "INSERT INTO incident_timeline (incident_id, at_us, text, author, added_us) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(id.as_bytes().as_slice())
        .bind(when.as_micros())
        .bind(text)
        .bind(actor)
        .bind(now.as_micros())
        .scalar::<i64>(tx.exec())
        .await?;
        history::record(
            &mut tx,
            id,
            now,
            actor,
            "timeline_added",
            &json!({"timeline": [null, format!("{when} {}", text.chars().take(200).collect::<String>())]}),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(TimelineNote {
            id: done,
            at: when,
            text: text.to_owned(),
            author: actor.to_owned(),
        }))
    }

    /// Timeline entries written by hand, in time order (at most `limit`).
    pub async fn incident_timeline_notes(
        &self,
        id: Uuid,
        limit: usize,
    ) -> Result<Vec<TimelineNote>, StoreError> {
        let rows = db::query(
            "SELECT id, at_us, text, author FROM incident_timeline WHERE incident_id = ? \
             ORDER BY at_us, id LIMIT ?",
        )
        .bind(id.as_bytes().as_slice())
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TimelineNote {
                    id: r.get("id")?,
                    at: at(r.get("at_us")?),
                    text: r.get("text")?,
                    author: r.get("author")?,
                })
            })
            .collect()
    }

    /// The incident's alerts, newest activity first (at most `limit`).
    pub async fn incident_alerts(&self, id: Uuid, limit: usize) -> Result<Vec<Alert>, StoreError> {
        let rows = db::query(
            "SELECT a.id, a.body FROM incident_alerts ia JOIN alerts a ON a.id = ia.alert_id \
             WHERE ia.incident_id = ? ORDER BY a.last_us DESC, a.id DESC LIMIT ?",
        )
        .bind(id.as_bytes().as_slice())
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .map(|r| {
                let aid: Vec<u8> = r.get("id")?;
                let body: String = r.get("body")?;
                crate::alerts::alert_from_body(&aid, &body)
            })
            .collect()
    }

    /// The ids of the incident's alerts (at most 10,000).
    pub async fn incident_alert_ids(&self, id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        let rows: Vec<(Vec<u8>,)> = db::query_as(
            "SELECT alert_id FROM incident_alerts WHERE incident_id = ? ORDER BY added_us, alert_id \
             LIMIT 10000",
        )
        .bind(id.as_bytes().as_slice())
        .fetch_all(self.db.read())
        .await?;
        Ok(rows
            .iter()
            .filter_map(|(b,)| Uuid::from_slice(b).ok())
            .collect())
    }

    /// The events of the incident's alerts, oldest first, from `after` (a
    /// time in µs, exclusive) on, at most `limit`.
    pub async fn incident_events(
        &self,
        id: Uuid,
        after_us: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        // Two steps in one statement: the page's (time, id) keys from the
        // covering index `events_id` (sorting small keys, not whole rows),
        // then those rows by primary key. Sorting the joined rows themselves
        // was ~5x slower for an incident of 20,000 events.
        let rows = db::query(
            "WITH page(t, i) AS MATERIALIZED (SELECT DISTINCT k.time_us, k.id \
             FROM incident_alerts ia JOIN alert_events ae ON ae.alert_id = ia.alert_id \
             JOIN events k ON k.id = ae.event_id WHERE ia.incident_id = ? AND k.time_us > ? \
             ORDER BY k.time_us, k.id LIMIT ?) \
             SELECT e.id, e.time_us, e.sensor, e.kind, e.severity, e.src_ip, e.src_port, \
             e.dst_ip, e.dst_port, e.summary, e.data FROM page \
             JOIN events e ON e.time_us = page.t AND e.id = page.i ORDER BY page.t, page.i",
        )
        .bind(id.as_bytes().as_slice())
        .bind(after_us.unwrap_or(i64::MIN))
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        crate::query::events_from_rows(&rows)
    }

    /// How many alerts, events, observables, tasks, comments and attachments
    /// the incident has (each counted up to `cap`).
    pub async fn incident_counts(&self, id: Uuid, cap: i64) -> Result<IncidentCounts, StoreError> {
        let row = db::query(
            "SELECT \
             (SELECT COUNT(*) FROM incident_alerts WHERE incident_id = ?1) AS alerts, \
             (SELECT COUNT(*) FROM (SELECT 1 FROM incident_alerts ia JOIN alert_events ae \
               ON ae.alert_id = ia.alert_id WHERE ia.incident_id = ?1 LIMIT ?2)) AS events, \
             (SELECT COUNT(*) FROM incident_observables WHERE incident_id = ?1) AS observables, \
             (SELECT COUNT(*) FROM incident_tasks WHERE incident_id = ?1) AS tasks, \
             (SELECT COUNT(*) FROM incident_tasks WHERE incident_id = ?1 AND done) AS tasks_done, \
             (SELECT COUNT(*) FROM incident_comments WHERE incident_id = ?1) AS comments, \
             (SELECT COUNT(*) FROM incident_attachments WHERE incident_id = ?1) AS attachments",
        )
        .bind(id.as_bytes().as_slice())
        .bind(cap)
        .fetch_one(self.db.read())
        .await?;
        let n =
            |name: &str| -> Result<u64, StoreError> { Ok(row.get::<i64, _>(name)?.max(0) as u64) };
        Ok(IncidentCounts {
            alerts: n("alerts")?,
            events: n("events")?,
            observables: n("observables")?,
            tasks: n("tasks")?,
            tasks_done: n("tasks_done")?,
            comments: n("comments")?,
            attachments: n("attachments")?,
        })
    }
}

fn task_from_row(r: &Row) -> Result<Task, StoreError> {
    Ok(Task {
        id: r.get("id")?,
        title: r.get("title")?,
        assignee: r.get("assignee")?,
        done: r.get("done")?,
        created_by: r.get("created_by")?,
        created: at(r.get("created_us")?),
    })
}
