//! The alert queue: filtered, newest activity first, paged by cursor; one
//! alert, its events and related alerts.

use crate::db::{self, Query};
use nectar_event::{Alert, AlertStatus, Severity, Timestamp};
use uuid::Uuid;

use crate::{Store, StoreError};

/// Which alerts to list. Every field narrows the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Only this status.
    pub status: Option<AlertStatus>,
    /// Only alerts not closed (new or acknowledged).
    pub open: bool,
    /// Only these severities or worse.
    pub min_severity: Option<Severity>,
    /// Only this rule id.
    pub rule: Option<String>,
    /// Only alerts grouped by this source address.
    pub src_ip: Option<String>,
    /// Only alerts assigned to this user; `Some(None)`: only unassigned ones.
    pub assignee: Option<Option<String>>,
    /// Only alerts active at or after this time.
    pub since: Option<Timestamp>,
    /// Only alerts active before this time.
    pub until: Option<Timestamp>,
}

/// Where a page of alerts continues: the last alert's (last_seen, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertCursor {
    last_us: i64,
    id: Uuid,
}

impl AlertCursor {
    /// The cursor as text for a URL.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.last_us, self.id.simple())
    }

    /// A cursor from [`encode`](Self::encode)'s text.
    pub fn decode(text: &str) -> Option<AlertCursor> {
        let (us, id) = text.split_once('.')?;
        Some(AlertCursor {
            last_us: us.parse().ok()?,
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

/// Most alerts one page holds.
pub const MAX_ALERT_PAGE: usize = 1_000;

/// Alerts matching a filter, all of them (for bulk actions), at most this many.
pub const MAX_BULK: usize = 10_000;

fn push_filter<'a>(q: &mut Query<'a>, filter: &'a AlertFilter) {
    q.push(" WHERE 1 = 1");
    if let Some(status) = filter.status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    if filter.open {
        q.push(" AND status <> 'closed'");
    }
    if let Some(sev) = filter.min_severity {
        q.push(" AND severity >= ").push_bind(sev.rank());
    }
    if let Some(rule) = &filter.rule {
        q.push(" AND rule_id = ").push_bind(rule.as_str());
    }
    if let Some(ip) = &filter.src_ip {
        q.push(" AND src_ip = ").push_bind(ip.as_str());
    }
    match &filter.assignee {
        Some(Some(user)) => {
            q.push(" AND assignee = ").push_bind(user.as_str());
        }
        Some(None) => {
            q.push(" AND assignee IS NULL");
        }
        None => {}
    }
    if let Some(t) = filter.since {
        q.push(" AND last_us >= ").push_bind(t.as_micros());
    }
    if let Some(t) = filter.until {
        q.push(" AND last_us < ").push_bind(t.as_micros());
    }
}

pub(crate) fn alert_from_body(id: &[u8], body: &str) -> Result<Alert, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::CorruptRow {
        id: Uuid::from_slice(id)
            .map(|u| u.to_string())
            .unwrap_or_default(),
        reason: e.to_string(),
    })
}

impl Store {
    /// A page of alerts, newest activity first, and where the next page starts.
    pub async fn alerts(
        &self,
        filter: &AlertFilter,
        limit: usize,
        after: Option<AlertCursor>,
    ) -> Result<(Vec<Alert>, Option<AlertCursor>), StoreError> {
        let limit = limit.clamp(1, MAX_ALERT_PAGE);
        let mut q = db::builder("SELECT id, last_us, body FROM alerts");
        push_filter(&mut q, filter);
        if let Some(c) = after {
            q.push(" AND (last_us, id) < (")
                .push_bind(c.last_us)
                .push(", ")
                .push_bind(c.id.as_bytes().to_vec())
                .push(")");
        }
        q.push(" ORDER BY last_us DESC, id DESC LIMIT ")
            .push_bind(limit as i64 + 1);
        let rows = q.fetch_all(self.db.read()).await?;
        let mut alerts = Vec::with_capacity(rows.len().min(limit));
        let mut next = None;
        for (i, row) in rows.iter().enumerate() {
            let id: Vec<u8> = row.get("id")?;
            if i == limit {
                break;
            }
            let body: String = row.get("body")?;
            let last_us: i64 = row.get("last_us")?;
            alerts.push(alert_from_body(&id, &body)?);
            if i + 1 == limit && rows.len() > limit {
                next = Uuid::from_slice(&id)
                    .ok()
                    .map(|id| AlertCursor { last_us, id });
            }
        }
        Ok((alerts, next))
    }

    /// How many alerts match, counting at most `cap` (the queue shows "1,000+").
    pub async fn count_alerts(&self, filter: &AlertFilter, cap: usize) -> Result<u64, StoreError> {
        let mut q = db::builder("SELECT COUNT(*) FROM (SELECT 1 FROM alerts");
        push_filter(&mut q, filter);
        q.push(" LIMIT ").push_bind(cap as i64).push(") AS capped");
        let (n,): (i64,) = q.fetch_one_as(self.db.read()).await?;
        Ok(n.max(0) as u64)
    }

    /// The ids of every alert matching `filter` (at most [`MAX_BULK`]), for
    /// a bulk action on "all filtered".
    pub async fn alert_ids(&self, filter: &AlertFilter) -> Result<Vec<Uuid>, StoreError> {
        let mut q = db::builder("SELECT id FROM alerts");
        push_filter(&mut q, filter);
        q.push(" ORDER BY last_us DESC, id DESC LIMIT ")
            .push_bind(MAX_BULK as i64);
        let rows = q.fetch_all(self.db.read()).await?;
        Ok(rows
            .iter()
            .filter_map(|r| r.get::<Vec<u8>, _>("id").ok())
            .filter_map(|b| Uuid::from_slice(&b).ok())
            .collect())
    }

    /// One alert.
    pub async fn alert(&self, id: Uuid) -> Result<Option<Alert>, StoreError> {
        let row: Option<(String,)> = db::query_as("SELECT body FROM alerts WHERE id = ?")
            .bind(id.as_bytes().as_slice())
            .fetch_optional(self.db.read())
            .await?;
        row.map(|(body,)| alert_from_body(id.as_bytes(), &body))
            .transpose()
    }

    /// The events linked to an alert, oldest first (at most `limit`), with
    /// whether a silence held each back.
    pub async fn alert_events(
        &self,
        id: Uuid,
        limit: usize,
    ) -> Result<Vec<(nectar_event::Event, bool)>, StoreError> {
        let rows = db::query(
            "SELECT e.id, e.time_us, e.sensor, e.kind, e.severity, e.src_ip, e.src_port, \
             e.dst_ip, e.dst_port, e.summary, e.data, a.silenced FROM alert_events a \
             JOIN events e ON e.id = a.event_id WHERE a.alert_id = ? \
             ORDER BY e.time_us, e.id LIMIT ?",
        )
        .bind(id.as_bytes().as_slice())
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .map(|row| {
                let silenced: bool = row.get("silenced")?;
                Ok((crate::query::event_from_row(row)?, silenced))
            })
            .collect()
    }

    /// How many events are linked to an alert.
    pub async fn alert_event_count(&self, id: Uuid) -> Result<u64, StoreError> {
        let (n,): (i64,) = db::query_as("SELECT COUNT(*) FROM alert_events WHERE alert_id = ?")
            .bind(id.as_bytes().as_slice())
            .fetch_one(self.db.read())
            .await?;
        Ok(n.max(0) as u64)
    }
}
