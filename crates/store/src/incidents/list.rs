//! The incident list: filtered, newest first, paged by a keyset cursor (the
//! last id; ids are UUIDv7, so id order is creation order and each filter has
//! an index ending in `id`).

use crate::db::{Backend, Query};
use nectar_event::{Incident, IncidentStatus, Severity};
use uuid::Uuid;

use super::corrupt;
use crate::{Store, StoreError};

/// Which incidents to list. Every field narrows the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Only this status.
    pub status: Option<IncidentStatus>,
    /// Only incidents not closed.
    pub open: bool,
    /// Only incidents assigned to this user; `Some(None)`: unassigned ones.
    pub assignee: Option<Option<String>>,
    /// Only this severity or worse.
    pub min_severity: Option<Severity>,
    /// Only titles containing this text (case-insensitive for ASCII).
    pub text: Option<String>,
}

/// Where a page of incidents continues: the last incident's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentCursor(Uuid);

impl IncidentCursor {
    /// The cursor as text for a URL.
    pub fn encode(&self) -> String {
        self.0.simple().to_string()
    }

    /// A cursor from [`encode`](Self::encode)'s text.
    pub fn decode(text: &str) -> Option<IncidentCursor> {
        Uuid::try_parse(text).ok().map(IncidentCursor)
    }
}

/// Most incidents one page holds.
pub const MAX_INCIDENT_PAGE: usize = 500;

fn push_filter<'a>(q: &mut Query<'a>, filter: &'a IncidentFilter) {
    q.push(" WHERE 1 = 1");
    if let Some(status) = filter.status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    if filter.open {
        q.push(" AND status <> 'closed'");
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
    if let Some(sev) = filter.min_severity {
        q.push(" AND severity >= ").push_bind(sev.rank());
    }
    if let Some(text) = &filter.text {
        // LIKE's wildcards in the text are matched as themselves.
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE does.
        q.push(if q.postgres() {
            " AND title ILIKE "
        } else {
            " AND title LIKE "
        })
        .push_bind(format!("%{escaped}%"))
        .push(" ESCAPE '\\'");
    }
}

impl Store {
    /// A page of incidents, newest first, and where the next page starts.
    pub async fn incidents(
        &self,
        filter: &IncidentFilter,
        limit: usize,
        after: Option<IncidentCursor>,
    ) -> Result<(Vec<Incident>, Option<IncidentCursor>), StoreError> {
        let limit = limit.clamp(1, MAX_INCIDENT_PAGE);
        // With a title search, the matching ids come from the small
        // (title, id) index, and only the page's rows are read whole; scanning
        // rows with their bodies for the title was ~1 s at 100,000 incidents.
        let by_title = filter.text.is_some();
        let mut q = self.db.builder(if by_title {
            match self.db.backend() {
                Backend::Sqlite => {
                    "SELECT id, body FROM incidents WHERE id IN \
                     (SELECT id FROM incidents INDEXED BY incidents_title"
                }
                Backend::Postgres => {
                    "SELECT id, body FROM incidents WHERE id IN (SELECT id FROM incidents"
                }
            }
        } else {
            "SELECT id, body FROM incidents"
        });
        push_filter(&mut q, filter);
        if let Some(c) = after {
            q.push(" AND id < ").push_bind(c.0.as_bytes().to_vec());
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(limit as i64 + 1);
        if by_title {
            q.push(") ORDER BY id DESC");
        }
        let rows = q.fetch_all(self.db.read()).await?;
        let mut list = Vec::with_capacity(rows.len().min(limit));
        for row in rows.iter().take(limit) {
            let id: Vec<u8> = row.get("id")?;
            let id = Uuid::from_slice(&id).unwrap_or_default();
            let body: String = row.get("body")?;
            list.push(serde_json::from_str::<Incident>(&body).map_err(|e| corrupt(id, e))?);
        }
        let next = (rows.len() > limit)
            .then(|| list.last().map(|i| IncidentCursor(i.id)))
            .flatten();
        Ok((list, next))
    }

    /// How many incidents match, counting at most `cap`.
    pub async fn count_incidents(
        &self,
        filter: &IncidentFilter,
        cap: usize,
    ) -> Result<u64, StoreError> {
        let mut q = self
            .db
            .builder("SELECT COUNT(*) FROM (SELECT 1 FROM incidents");
        push_filter(&mut q, filter);
        q.push(" LIMIT ").push_bind(cap as i64).push(") AS capped");
        let (n,): (i64,) = q.fetch_one_as(self.db.read()).await?;
        Ok(n.max(0) as u64)
    }
}
