//! Reading events back: filters, keyset pagination and counts.
//!
//! Lists are newest first and paginated by keyset on `(time_us, id)`: a cursor names
//! the last row of a page, and the next page starts strictly after it. Unlike OFFSET
//! this costs the same on page 1 and page 10,000, and rows inserted meanwhile never
//! shift a page.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use nectar_event::{Category, Event, Kind, Severity, Timestamp, field};
use sqlx::{QueryBuilder, Row, Sqlite, sqlite::SqliteRow};
use uuid::Uuid;

use crate::{Store, StoreError};

/// Which kinds an event list includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindFilter {
    /// Exactly this kind, e.g. `ssh.login.failed`.
    Exact(Kind),
    /// Every kind whose name starts with this prefix followed by a dot, e.g. `ssh`
    /// (written `ssh.*` in URLs) for `ssh.login.failed`, `ssh.command`, ...
    Prefix(String),
}

impl FromStr for KindFilter {
    type Err = String;

    /// `ssh.*` or `ssh.login.*` is a prefix; anything else must be a known kind.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(prefix) = s.strip_suffix(".*") {
            let known = Kind::ALL.iter().any(|k| {
                k.as_str().starts_with(prefix) && k.as_str()[prefix.len()..].starts_with('.')
            });
            if !known {
                return Err(format!("no event kind starts with {prefix:?}"));
            }
            return Ok(KindFilter::Prefix(prefix.to_owned()));
        }
        s.parse::<Kind>()
            .map(KindFilter::Exact)
            .map_err(|e| e.to_string())
    }
}

/// Conditions on the events to list or count; every field narrows the set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Events at or after this time.
    pub since: Option<Timestamp>,
    /// Events strictly before this time.
    pub until: Option<Timestamp>,
    /// Kinds to include.
    pub kind: Option<KindFilter>,
    /// Only these severities (empty: all).
    pub severities: Vec<Severity>,
    /// Only this severity and above.
    pub min_severity: Option<Severity>,
    /// Only events from this source address.
    pub src_ip: Option<IpAddr>,
    /// Only events from this sensor.
    pub sensor: Option<String>,
    /// Only events whose summary contains this text (case-insensitive for ASCII).
    pub text: Option<String>,
    /// Only events of this honeypot session (`data.session`).
    pub session: Option<String>,
}

/// Where a page of a newest-first list ends: the `(time, id)` of its last event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    time_us: i64,
    id: Uuid,
}

impl Cursor {
    fn after(event: &Event) -> Cursor {
        Cursor {
            time_us: event.time.as_micros(),
            id: event.id,
        }
    }
}

impl fmt::Display for Cursor {
    /// An opaque token: `<micros>_<uuid>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.time_us, self.id.simple())
    }
}

impl FromStr for Cursor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "invalid cursor {:?}: pass back a `next_cursor` value",
                truncate(s)
            )
        };
        let (time, id) = s.split_once('_').ok_or_else(bad)?;
        Ok(Cursor {
            time_us: time.parse().map_err(|_| bad())?,
            id: Uuid::try_parse(id).map_err(|_| bad())?,
        })
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page {
    /// The events, newest first.
    pub events: Vec<Event>,
    /// Pass this to get the next (older) page; `None` on the last page.
    pub next: Option<Cursor>,
}

/// Number of events of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindCount {
    /// The kind's dotted name.
    pub kind: String,
    /// How many.
    pub count: i64,
}

/// A value and how many events have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueCount {
    /// The value, as text (an address, a user name, a command).
    pub value: String,
    /// How many events.
    pub count: i64,
}

/// What [`Store::top_values`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopField {
    /// Source addresses.
    SrcIp,
    /// Sensors.
    Sensor,
    /// A field of `data`, by name: one of a fixed list, never user text, since it
    /// becomes part of the SQL.
    Data(DataField),
}

/// The `data` fields that can be counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataField {
    /// `data.username` (honeypot logins).
    Username,
    /// `data.password` (honeypot logins).
    Password,
    /// `data.input` (shell commands).
    Input,
    /// `data.stat` (network alarms: the statistic that crossed its threshold).
    Statistic,
    /// `data.path` (HTTP requests).
    Path,
    /// `data.user_agent` (HTTP requests).
    UserAgent,
}

impl DataField {
    /// The field's key in `data`.
    pub fn key(self) -> &'static str {
        match self {
            DataField::Username => field::USERNAME,
            DataField::Password => field::PASSWORD,
            DataField::Input => field::INPUT,
            DataField::Statistic => field::STATISTIC,
            DataField::Path => field::PATH,
            DataField::UserAgent => field::USER_AGENT,
        }
    }

    /// The key the field has when sealed with `encrypt_to` (`password_enc`,
    /// `input_enc`); `None` for fields the honeypots never seal.
    pub fn sealed_key(self) -> Option<&'static str> {
        match self {
            DataField::Password => Some(field::PASSWORD_SEALED),
            DataField::Input => Some(field::INPUT_SEALED),
            _ => None,
        }
    }

    fn json_path(self) -> String {
        data_path(self.key())
    }
}

/// The SQL JSON path of a `data` field (`'$.username'`). Field names are Nectar's
/// constants ([`nectar_event::field`]), never user text.
fn data_path(key: &str) -> String {
    format!("'$.{key}'")
}

/// The names of the kinds of `category` as an SQL list (`'ssh.login.failed',
/// 'telnet.login.failed'`). Kind names are Nectar's own, never user text.
fn kinds_in(category: Category) -> String {
    Kind::of_category(category)
        .map(|kind| format!("'{}'", kind.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Number of events in one time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketCount {
    /// Start of the bucket.
    pub start: Timestamp,
    /// How many.
    pub count: i64,
}

const SELECT: &str = "SELECT id, time_us, sensor, kind, severity, src_ip, src_port, dst_ip, dst_port, summary, data FROM events";

impl Store {
    /// One event by id.
    pub async fn get_event(&self, id: Uuid) -> Result<Option<Event>, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new(SELECT);
        query.push(" WHERE id = ").push_bind(id.as_bytes().to_vec());
        let row = query.build().fetch_optional(&self.readers).await?;
        row.map(|row| event_from_row(&row)).transpose()
    }

    /// A newest-first page of events matching `filter`, starting after `cursor`.
    /// `limit` is clamped to 1..=10,000.
    pub async fn list_events(
        &self,
        filter: &EventFilter,
        cursor: Option<Cursor>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let limit = limit.clamp(1, 10_000);
        let mut query = QueryBuilder::<Sqlite>::new(SELECT);
        let mut clauses = Clauses::new(&mut query);
        push_filter(&mut clauses, filter);
        if let Some(cursor) = cursor {
            // Row-value comparison works in SQLite >= 3.15 and PostgreSQL alike.
            clauses
                .next()
                .push("(time_us, id) < (")
                .push_bind(cursor.time_us)
                .push(", ")
                .push_bind(cursor.id.as_bytes().to_vec())
                .push(")");
        }
        query
            .push(" ORDER BY time_us DESC, id DESC LIMIT ")
            .push_bind(limit as i64 + 1);
        let rows = query.build().fetch_all(&self.readers).await?;
        let mut events = rows
            .iter()
            .map(event_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if events.len() > limit {
            events.truncate(limit);
            events.last().map(Cursor::after)
        } else {
            None
        };
        Ok(Page { events, next })
    }

    /// How many events match `filter`.
    pub async fn count_events(&self, filter: &EventFilter) -> Result<i64, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM events");
        push_filter(&mut Clauses::new(&mut query), filter);
        Ok(query.build().fetch_one(&self.readers).await?.try_get(0)?)
    }

    /// How many events match `filter`, counting no further than `cap`: `(n, false)`
    /// when exact, `(cap, true)` when there are at least `cap`. A page can then say
    /// "10,000+" without reading a million rows.
    pub async fn count_events_capped(
        &self,
        filter: &EventFilter,
        cap: usize,
    ) -> Result<(i64, bool), StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM (SELECT 1 FROM events");
        push_filter(&mut Clauses::new(&mut query), filter);
        query.push(" LIMIT ").push_bind(cap as i64).push(")");
        let n: i64 = query.build().fetch_one(&self.readers).await?.try_get(0)?;
        Ok((n, n >= cap as i64))
    }

    /// Events per kind, most frequent first.
    pub async fn count_by_kind(&self, filter: &EventFilter) -> Result<Vec<KindCount>, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new("SELECT kind, COUNT(*) AS n FROM events");
        push_filter(&mut Clauses::new(&mut query), filter);
        query.push(" GROUP BY kind ORDER BY n DESC, kind");
        let rows = query.build().fetch_all(&self.readers).await?;
        rows.iter()
            .map(|row| {
                Ok(KindCount {
                    kind: row.try_get(0)?,
                    count: row.try_get(1)?,
                })
            })
            .collect()
    }

    /// Events per time bucket of `bucket_us` microseconds (aligned on the Unix epoch),
    /// oldest first; empty buckets are absent.
    pub async fn count_by_bucket(
        &self,
        filter: &EventFilter,
        bucket_us: i64,
    ) -> Result<Vec<BucketCount>, StoreError> {
        let bucket_us = bucket_us.max(1);
        let mut query = QueryBuilder::<Sqlite>::new("SELECT (time_us / ");
        query.push_bind(bucket_us).push(") * ").push_bind(bucket_us);
        query.push(" AS bucket, COUNT(*) FROM events");
        push_filter(&mut Clauses::new(&mut query), filter);
        query.push(" GROUP BY bucket ORDER BY bucket");
        let rows = query.build().fetch_all(&self.readers).await?;
        rows.iter()
            .map(|row| {
                let start: i64 = row.try_get(0)?;
                Ok(BucketCount {
                    start: Timestamp::from_micros(start).ok_or_else(|| StoreError::CorruptRow {
                        id: format!("bucket {start}"),
                        reason: "time out of range".into(),
                    })?,
                    count: row.try_get(1)?,
                })
            })
            .collect()
    }
}

impl Store {
    /// Events per severity (every severity, zeros included), lowest first.
    pub async fn count_by_severity(
        &self,
        filter: &EventFilter,
    ) -> Result<Vec<(Severity, i64)>, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new("SELECT severity, COUNT(*) FROM events");
        push_filter(&mut Clauses::new(&mut query), filter);
        query.push(" GROUP BY severity");
        let rows = query.build().fetch_all(&self.readers).await?;
        let mut counts: Vec<(Severity, i64)> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
        for row in &rows {
            let rank: i64 = row.try_get(0)?;
            if let Some(severity) = Severity::from_rank(rank) {
                counts[severity.rank() as usize].1 = row.try_get(1)?;
            }
        }
        Ok(counts)
    }

    /// The `limit` most frequent values of `field` among events matching `filter`.
    pub async fn top_values(
        &self,
        filter: &EventFilter,
        field: TopField,
        limit: usize,
    ) -> Result<Vec<ValueCount>, StoreError> {
        let expression = match field {
            TopField::SrcIp => "src_ip".to_owned(),
            TopField::Sensor => "sensor".to_owned(),
            TopField::Data(data) => format!("json_extract(data, {})", data.json_path()),
        };
        let mut query = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {expression} AS v, COUNT(*) AS n FROM events"
        ));
        let mut clauses = Clauses::new(&mut query);
        push_filter(&mut clauses, filter);
        // The expression, not its alias: PostgreSQL does not see aliases in WHERE.
        clauses.next().push(format!("{expression} IS NOT NULL"));
        query
            .push(" GROUP BY v ORDER BY n DESC, v LIMIT ")
            .push_bind(limit.clamp(1, 1_000) as i64);
        let rows = query.build().fetch_all(&self.readers).await?;
        rows.iter()
            .map(|row| {
                let value = match field {
                    TopField::SrcIp => {
                        let bytes: &[u8] = row.try_get(0)?;
                        ip_from_bytes(bytes)
                            .map_or_else(|| format!("{bytes:02x?}"), |ip| ip.to_string())
                    }
                    _ => {
                        // json_extract gives text, or a number for numeric fields.
                        let text: Option<String> = row.try_get(0).ok();
                        text.unwrap_or_else(|| {
                            row.try_get::<i64, _>(0)
                                .map(|n| n.to_string())
                                .unwrap_or_default()
                        })
                    }
                };
                Ok(ValueCount {
                    value,
                    count: row.try_get(1)?,
                })
            })
            .collect()
    }
}

/// One honeypot session, summarised from its events (those with `data.session`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    /// The session id.
    pub session: String,
    /// The sensor that recorded it.
    pub sensor: String,
    /// The client's address.
    pub src_ip: Option<IpAddr>,
    /// First event.
    pub first: Timestamp,
    /// Last event.
    pub last: Timestamp,
    /// Events in the session.
    pub events: i64,
    /// Commands run (`*.command`, `ssh.exec`).
    pub commands: i64,
    /// Failed login attempts.
    pub failed_logins: i64,
    /// The user name of the accepted login, if any.
    pub username: Option<String>,
    /// The password of the accepted login, if any.
    pub password: Option<String>,
}

impl Store {
    /// The first of `sessions` (`data.session` values) that already has an event
    /// of a sensor other than `sensor`, with that sensor: posted events may not
    /// join another sensor's session (#26 item 4).
    ///
    /// One lookup per named session in `event_sessions`, which the writer fills
    /// in the transaction that stores a session's first event; it runs once per
    /// posted batch that names sessions, never for honeypot events.
    pub async fn session_of_other_sensor(
        &self,
        sessions: &[&str],
        sensor: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        if sessions.is_empty() {
            return Ok(None);
        }
        // A list of strings always serialises; `[]` would only match nothing.
        let list = serde_json::to_string(sessions).unwrap_or_else(|_| "[]".into());
        let row = sqlx::query(
            "SELECT session, sensor FROM event_sessions \
             WHERE session IN (SELECT value FROM json_each($1)) AND sensor <> $2 LIMIT 1",
        )
        .bind(list)
        .bind(sensor)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .transpose()
    }

    /// The most recent honeypot sessions among events matching `filter`, newest first.
    ///
    /// This groups events by `data.session` without an index of its own, so it reads
    /// every event of the time range; keep the range bounded on large stores.
    pub async fn list_sessions(
        &self,
        filter: &EventFilter,
        limit: usize,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let (commands, failures, successes) = (
            kinds_in(Category::Command),
            kinds_in(Category::LoginFailure),
            kinds_in(Category::LoginSuccess),
        );
        let (session, username, password) = (
            data_path(field::SESSION),
            data_path(field::USERNAME),
            data_path(field::PASSWORD),
        );
        let mut query = QueryBuilder::<Sqlite>::new(format!(
            "SELECT json_extract(data, {session}) AS s, MAX(sensor), MAX(src_ip), MIN(time_us), MAX(time_us), COUNT(*), \
             SUM(CASE WHEN kind IN ({commands}) THEN 1 ELSE 0 END), \
             SUM(CASE WHEN kind IN ({failures}) THEN 1 ELSE 0 END), \
             MAX(CASE WHEN kind IN ({successes}) THEN json_extract(data, {username}) END), \
             MAX(CASE WHEN kind IN ({successes}) THEN json_extract(data, {password}) END) \
             FROM events",
        ));
        let mut clauses = Clauses::new(&mut query);
        push_filter(&mut clauses, filter);
        clauses
            .next()
            .push(format!("json_extract(data, {session}) IS NOT NULL"));
        query
            .push(" GROUP BY s ORDER BY MAX(time_us) DESC LIMIT ")
            .push_bind(limit.clamp(1, 1_000) as i64);
        let rows = query.build().fetch_all(&self.readers).await?;
        let time = |us: i64| {
            Timestamp::from_micros(us).ok_or_else(|| StoreError::CorruptRow {
                id: "session".into(),
                reason: format!("time {us}"),
            })
        };
        rows.iter()
            .map(|row| {
                let src: Option<&[u8]> = row.try_get(2)?;
                Ok(SessionSummary {
                    session: row.try_get::<Option<String>, _>(0)?.unwrap_or_default(),
                    sensor: row.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                    src_ip: src.and_then(ip_from_bytes),
                    first: time(row.try_get(3)?)?,
                    last: time(row.try_get(4)?)?,
                    events: row.try_get(5)?,
                    commands: row.try_get(6)?,
                    failed_logins: row.try_get(7)?,
                    username: row.try_get(8).ok().flatten(),
                    password: row.try_get(9).ok().flatten(),
                })
            })
            .collect()
    }
}

/// Joins conditions with WHERE / AND.
struct Clauses<'a, 'q> {
    query: &'a mut QueryBuilder<'q, Sqlite>,
    any: bool,
}

impl<'a, 'q> Clauses<'a, 'q> {
    fn new(query: &'a mut QueryBuilder<'q, Sqlite>) -> Self {
        Clauses { query, any: false }
    }

    fn next(&mut self) -> &mut QueryBuilder<'q, Sqlite> {
        self.query.push(if self.any { " AND " } else { " WHERE " });
        self.any = true;
        self.query
    }
}

fn push_filter(clauses: &mut Clauses<'_, '_>, filter: &EventFilter) {
    if let Some(since) = filter.since {
        clauses
            .next()
            .push("time_us >= ")
            .push_bind(since.as_micros());
    }
    if let Some(until) = filter.until {
        clauses
            .next()
            .push("time_us < ")
            .push_bind(until.as_micros());
    }
    match &filter.kind {
        Some(KindFilter::Exact(kind)) => {
            clauses.next().push("kind = ").push_bind(kind.as_str());
        }
        Some(KindFilter::Prefix(prefix)) => {
            // A range instead of LIKE: '/' sorts right after '.'. The unary `+` keeps
            // SQLite off the (kind, time) index here: a family spans several kinds,
            // so that index cannot give time order and SQLite would sort every match
            // (1.7 s for 570,000 of a million events); walking the time-ordered
            // table and filtering finds a page in milliseconds.
            clauses
                .next()
                .push("+kind > ")
                .push_bind(format!("{prefix}."))
                .push(" AND +kind < ")
                .push_bind(format!("{prefix}/"));
        }
        None => {}
    }
    if !filter.severities.is_empty() {
        let q = clauses.next();
        q.push("severity IN (");
        let mut list = q.separated(", ");
        for severity in &filter.severities {
            list.push_bind(severity.rank());
        }
        q.push(")");
    }
    if let Some(min) = filter.min_severity {
        clauses.next().push("severity >= ").push_bind(min.rank());
    }
    if let Some(ip) = filter.src_ip {
        clauses.next().push("src_ip = ").push_bind(ip_bytes(ip));
    }
    if let Some(sensor) = &filter.sensor {
        clauses.next().push("sensor = ").push_bind(sensor.clone());
    }
    if let Some(session) = &filter.session {
        clauses
            .next()
            .push(format!(
                "json_extract(data, {}) = ",
                data_path(field::SESSION)
            ))
            .push_bind(session.clone());
    }
    if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
        let mut pattern = String::with_capacity(text.len() + 2);
        pattern.push('%');
        for c in text.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        clauses
            .next()
            .push("summary LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\'");
    }
}

pub(crate) fn event_from_row(row: &SqliteRow) -> Result<Event, StoreError> {
    let id_bytes: &[u8] = row.try_get("id")?;
    let id = Uuid::from_slice(id_bytes).map_err(|e| StoreError::CorruptRow {
        id: format!("{id_bytes:02x?}"),
        reason: e.to_string(),
    })?;
    let corrupt = |reason: String| StoreError::CorruptRow {
        id: id.to_string(),
        reason,
    };
    let ip = |col: &str| -> Result<Option<IpAddr>, StoreError> {
        let bytes: Option<&[u8]> = row.try_get(col)?;
        bytes
            .map(|b| {
                ip_from_bytes(b).ok_or_else(|| corrupt(format!("{col} has {} bytes", b.len())))
            })
            .transpose()
    };
    let port = |col: &str| -> Result<Option<u16>, StoreError> {
        let n: Option<i32> = row.try_get(col)?;
        n.map(|n| u16::try_from(n).map_err(|_| corrupt(format!("{col} {n}"))))
            .transpose()
    };
    let time_us: i64 = row.try_get("time_us")?;
    let kind: String = row.try_get("kind")?;
    let severity: i64 = row.try_get("severity")?;
    let data: String = row.try_get("data")?;
    Ok(Event {
        id,
        time: Timestamp::from_micros(time_us).ok_or_else(|| corrupt("time".into()))?,
        sensor: row.try_get("sensor")?,
        kind: kind
            .parse()
            .map_err(|e: nectar_event::UnknownKind| corrupt(e.to_string()))?,
        severity: Severity::from_rank(severity).ok_or_else(|| corrupt("severity".into()))?,
        src_ip: ip("src_ip")?,
        src_port: port("src_port")?,
        dst_ip: ip("dst_ip")?,
        dst_port: port("dst_port")?,
        summary: row.try_get("summary")?,
        data: serde_json::from_str(&data).map_err(|e| corrupt(e.to_string()))?,
    })
}

/// An address as stored: its 4 (IPv4) or 16 (IPv6) bytes, compact in the index.
pub(crate) fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// The address stored as `bytes`, if it has 4 or 16 of them.
pub(crate) fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The session query's kind lists come from the kinds' categories; they are
    /// the lists it used to spell out.
    #[test]
    fn session_kind_lists_are_the_categories() {
        assert_eq!(
            kinds_in(Category::Command),
            "'ssh.command', 'ssh.exec', 'telnet.command'"
        );
        assert_eq!(
            kinds_in(Category::LoginFailure),
            "'ssh.login.failed', 'telnet.login.failed'"
        );
        assert_eq!(
            kinds_in(Category::LoginSuccess),
            "'ssh.login.success', 'telnet.login.success'"
        );
        assert_eq!(data_path(field::SESSION), "'$.session'");
        assert_eq!(DataField::Username.json_path(), "'$.username'");
    }
}
