//! Reading events back: filters, keyset pagination and counts.
//!
//! Lists are newest first and paginated by keyset on `(time_us, id)`: a cursor names
//! the last row of a page, and the next page starts strictly after it. Unlike OFFSET
//! this costs the same on page 1 and page 10,000, and rows inserted meanwhile never
//! shift a page.

use crate::db::{self, Backend, Query, Row};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use nectar_event::{Category, Event, Kind, Severity, Timestamp, field};
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
    /// Only events from this network (a CIDR block, IPv4 or IPv6).
    pub src_net: Option<Network>,
    /// Only events from this sensor.
    pub sensor: Option<String>,
    /// Only events whose text (summary and every text value of `data`) matches
    /// this search (see [`search_query`]: words, `"phrases"`, `prefix*`). Text
    /// without a letter or digit is looked for in the summary instead.
    pub text: Option<String>,
    /// Only events of this honeypot session (`data.session`).
    pub session: Option<String>,
    /// Only events whose `data` field has exactly this value (every pair
    /// must hold): the pivots from a user name, a password, a command, ...
    pub fields: Vec<(PivotField, String)>,
}

/// A `data` field an event list can be narrowed to one value of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PivotField {
    /// `data.username`.
    Username,
    /// `data.password`.
    Password,
    /// `data.input` (a command).
    Command,
    /// `data.url`.
    Url,
    /// `data.sha256`.
    Sha256,
    /// `data.hassh`.
    Hassh,
    /// `data.user_agent`.
    UserAgent,
    /// `data.path` (HTTP).
    Path,
    /// `data.client_version` (SSH).
    ClientVersion,
}

impl PivotField {
    /// Every pivot field, with its URL parameter name.
    pub const ALL: [(PivotField, &'static str); 9] = [
        (PivotField::Username, "username"),
        (PivotField::Password, "password"),
        (PivotField::Command, "command"),
        (PivotField::Url, "url"),
        (PivotField::Sha256, "sha256"),
        (PivotField::Hassh, "hassh"),
        (PivotField::UserAgent, "user_agent"),
        (PivotField::Path, "path"),
        (PivotField::ClientVersion, "client_version"),
    ];

    /// The field's key in `data`.
    pub fn key(self) -> &'static str {
        match self {
            PivotField::Username => field::USERNAME,
            PivotField::Password => field::PASSWORD,
            PivotField::Command => field::INPUT,
            PivotField::Url => field::URL,
            PivotField::Sha256 => field::SHA256,
            PivotField::Hassh => field::HASSH,
            PivotField::UserAgent => field::USER_AGENT,
            PivotField::Path => field::PATH,
            PivotField::ClientVersion => field::CLIENT_VERSION,
        }
    }

    /// The URL parameter naming it.
    pub fn param(self) -> &'static str {
        PivotField::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("", |(_, name)| name)
    }
}

/// The full-text query that narrows `filter` down: its search, and each pivot
/// value as a phrase (an event whose field has the value has its words in this
/// order in its text), so that exact-value pivots use the index too.
fn search_of(filter: &EventFilter) -> Option<String> {
    let mut parts: Vec<String> = filter
        .text
        .as_deref()
        .and_then(search_query)
        .into_iter()
        .collect();
    for (_, value) in &filter.fields {
        let value: String = value.chars().take(MAX_SEARCH_CHARS).collect();
        if value.chars().any(char::is_alphanumeric) {
            parts.push(format!("\"{}\"", value.replace('"', "\"\"")));
        }
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// An address or a network: `203.0.113.0/24`, `2001:db8:1::/48`, or a bare
/// address (all of its bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// The network of `addr` with `prefix` bits (cut to the address's length).
    pub fn new(addr: IpAddr, prefix: u8) -> Network {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        Network {
            addr,
            prefix: prefix.min(max),
        }
    }

    /// The single address, when the network is one.
    pub fn single(&self) -> Option<IpAddr> {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        (self.prefix == max).then_some(self.addr)
    }

    /// The first and last address in stored form (4 or 16 bytes).
    fn bounds(&self) -> (Vec<u8>, Vec<u8>) {
        match self.addr {
            IpAddr::V4(a) => {
                let n = u32::from(a);
                let host = if self.prefix == 0 {
                    u32::MAX
                } else {
                    u32::MAX >> self.prefix
                };
                (
                    (n & !host).to_be_bytes().to_vec(),
                    (n | host).to_be_bytes().to_vec(),
                )
            }
            IpAddr::V6(a) => {
                let n = u128::from(a);
                let host = if self.prefix == 0 {
                    u128::MAX
                } else {
                    u128::MAX >> self.prefix
                };
                (
                    (n & !host).to_be_bytes().to_vec(),
                    (n | host).to_be_bytes().to_vec(),
                )
            }
        }
    }

    /// `column` (an address stored as bytes) is in the network: a range of the
    /// column's index, and its length (a 16-byte value may sort between two
    /// 4-byte bounds).
    fn push_condition(&self, query: &mut Query<'_>, column: &str) {
        let (lo, hi) = self.bounds();
        let len = lo.len() as i64;
        query
            .push(format!("{column} >= "))
            .push_bind(lo)
            .push(format!(" AND {column} <= "))
            .push_bind(hi)
            .push(format!(" AND length({column}) = "))
            .push_bind(len);
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.single() {
            Some(ip) => write!(f, "{ip}"),
            None => write!(f, "{}/{}", self.addr, self.prefix),
        }
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || {
            format!(
                "{:?} is not an IPv4 or IPv6 address or network (CIDR, e.g. 203.0.113.0/24)",
                truncate(s)
            )
        };
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= max => p,
                _ => return Err(format!("{}: the prefix length must be 0 to {max}", bad())),
            },
        };
        Ok(Network::new(addr, prefix))
    }
}

/// Where a page of a newest-first list ends: the `(time, id)` of its last event.
///
/// A text search lists its matches in the order they were stored (newest
/// first), and its cursor is the last one's commit sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// After this `(time, id)` in time order.
    Time {
        /// The last event's time.
        time_us: i64,
        /// The last event's id.
        id: Uuid,
    },
    /// Before this commit sequence number (text searches).
    Seq(i64),
}

impl Cursor {
    fn after(event: &Event) -> Cursor {
        Cursor::Time {
            time_us: event.time.as_micros(),
            id: event.id,
        }
    }
}

impl fmt::Display for Cursor {
    /// An opaque token: `<micros>_<uuid>`, or `s<seq>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cursor::Time { time_us, id } => write!(f, "{time_us}_{}", id.simple()),
            Cursor::Seq(seq) => write!(f, "s{seq}"),
        }
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
        if let Some(seq) = s.strip_prefix('s') {
            return Ok(Cursor::Seq(seq.parse().map_err(|_| bad())?));
        }
        let (time, id) = s.split_once('_').ok_or_else(bad)?;
        Ok(Cursor::Time {
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
        let mut query = self.db.builder(SELECT);
        query.push(" WHERE id = ").push_bind(id.as_bytes().to_vec());
        let row = query.fetch_optional(self.db.read()).await?;
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
        if let Some(search) = search_of(filter) {
            return self.search_events(filter, &search, cursor, limit).await;
        }
        let mut query = self.db.builder(SELECT);
        let mut clauses = Clauses::new(&mut query);
        push_filter(&mut clauses, filter);
        if let Some(Cursor::Time { time_us, id }) = cursor {
            // Row-value comparison works in SQLite >= 3.15 and PostgreSQL alike.
            clauses
                .next()
                .push("(time_us, id) < (")
                .push_bind(time_us)
                .push(", ")
                .push_bind(id.as_bytes().to_vec())
                .push(")");
        }
        query
            .push(" ORDER BY time_us DESC, id DESC LIMIT ")
            .push_bind(limit as i64 + 1);
        let rows = query.fetch_all(self.db.read()).await?;
        let mut events = events_from_rows(&rows)?;
        let next = if events.len() > limit {
            events.truncate(limit);
            events.last().map(Cursor::after)
        } else {
            None
        };
        Ok(Page { events, next })
    }

    /// A page of a text search: the full-text index walked newest stored
    /// first, each match joined to its event and checked against the other
    /// conditions, so a page costs about as many lookups as it has rows when
    /// matches are common, and a rare term is found without reading the events.
    async fn search_events(
        &self,
        filter: &EventFilter,
        search: &str,
        cursor: Option<Cursor>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let mut query = self.db.builder(format!(
            "SELECT events.seq AS seq, id, time_us, sensor, kind, severity, src_ip, src_port, \
             dst_ip, dst_port, summary, data FROM {}",
            text_join(self.db.backend(), "events")
        ));
        push_search(&mut query, filter, search);
        if let Some(Cursor::Seq(seq)) = cursor {
            query.push(" AND event_text.rowid < ").push_bind(seq);
        }
        query
            .push(" ORDER BY event_text.rowid DESC LIMIT ")
            .push_bind(limit as i64 + 1);
        let rows = query.fetch_all(self.db.read()).await?;
        let mut events = Vec::with_capacity(rows.len().min(limit));
        let mut last_seq = 0;
        if let Some(first) = rows.first() {
            let columns = EventColumns::of(first)?;
            for row in rows.iter().take(limit) {
                events.push(event_at(row, &columns)?);
                last_seq = row.get("seq")?;
            }
        }
        let next = (rows.len() > limit).then_some(Cursor::Seq(last_seq));
        Ok(Page { events, next })
    }

    /// How many events match `filter`.
    pub async fn count_events(&self, filter: &EventFilter) -> Result<i64, StoreError> {
        let mut query = self.db.builder("SELECT COUNT(*) FROM events");
        push_filter(&mut Clauses::new(&mut query), filter);
        query.fetch_one(self.db.read()).await?.get(0)
    }

    /// How many events match `filter`, counting no further than `cap`: `(n, false)`
    /// when exact, `(cap, true)` when there are at least `cap`. A page can then say
    /// "10,000+" without reading a million rows.
    pub async fn count_events_capped(
        &self,
        filter: &EventFilter,
        cap: usize,
    ) -> Result<(i64, bool), StoreError> {
        let mut query = self.db.builder("SELECT COUNT(*) FROM (SELECT 1 FROM ");
        if let Some(search) = search_of(filter) {
            query.push(text_join(self.db.backend(), "events"));
            push_search(&mut query, filter, &search);
        } else {
            query.push("events");
            push_filter(&mut Clauses::new(&mut query), filter);
        }
        query
            .push(" LIMIT ")
            .push_bind(cap as i64)
            .push(") AS capped");
        let n: i64 = query.fetch_one(self.db.read()).await?.get(0)?;
        Ok((n, n >= cap as i64))
    }

    /// Events per kind, most frequent first.
    pub async fn count_by_kind(&self, filter: &EventFilter) -> Result<Vec<KindCount>, StoreError> {
        let mut query = self.db.builder("SELECT kind, COUNT(*) AS n FROM events");
        push_filter(&mut Clauses::new(&mut query), filter);
        query.push(" GROUP BY kind ORDER BY n DESC, kind");
        let rows = query.fetch_all(self.db.read()).await?;
        rows.iter()
            .map(|row| {
                Ok(KindCount {
                    kind: row.get(0)?,
                    count: row.get(1)?,
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
        let mut query = self.db.builder("SELECT (time_us / ");
        query.push_bind(bucket_us).push(") * ").push_bind(bucket_us);
        query.push(" AS bucket, COUNT(*) FROM events");
        push_filter(&mut Clauses::new(&mut query), filter);
        query.push(" GROUP BY bucket ORDER BY bucket");
        let rows = query.fetch_all(self.db.read()).await?;
        rows.iter()
            .map(|row| {
                let start: i64 = row.get(0)?;
                Ok(BucketCount {
                    start: Timestamp::from_micros(start).ok_or_else(|| StoreError::CorruptRow {
                        id: format!("bucket {start}"),
                        reason: "time out of range".into(),
                    })?,
                    count: row.get(1)?,
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
        let mut query = self.db.builder("SELECT severity, COUNT(*) FROM events");
        push_filter(&mut Clauses::new(&mut query), filter);
        query.push(" GROUP BY severity");
        let rows = query.fetch_all(self.db.read()).await?;
        let mut counts: Vec<(Severity, i64)> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
        for row in &rows {
            let rank: i64 = row.get(0)?;
            if let Some(severity) = Severity::from_rank(rank) {
                counts[severity.rank() as usize].1 = row.get(1)?;
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
        let mut query = self.db.builder(format!(
            "SELECT {expression} AS v, COUNT(*) AS n FROM events"
        ));
        let mut clauses = Clauses::new(&mut query);
        push_filter(&mut clauses, filter);
        // The expression, not its alias: PostgreSQL does not see aliases in WHERE.
        clauses.next().push(format!("{expression} IS NOT NULL"));
        query
            .push(" GROUP BY v ORDER BY n DESC, v LIMIT ")
            .push_bind(limit.clamp(1, 1_000) as i64);
        let rows = query.fetch_all(self.db.read()).await?;
        rows.iter()
            .map(|row| {
                let value = match field {
                    TopField::SrcIp => {
                        let bytes: &[u8] = row.get(0)?;
                        ip_from_bytes(bytes)
                            .map_or_else(|| format!("{bytes:02x?}"), |ip| ip.to_string())
                    }
                    _ => {
                        // json_extract gives text, or a number for numeric fields.
                        let text: Option<String> = row.get(0).ok();
                        text.unwrap_or_else(|| {
                            row.get::<i64, _>(0)
                                .map(|n| n.to_string())
                                .unwrap_or_default()
                        })
                    }
                };
                Ok(ValueCount {
                    value,
                    count: row.get(1)?,
                })
            })
            .collect()
    }
}

/// A user name and password tried together, how often, over which login kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialPair {
    /// The login event's kind (`ssh.login.failed`, `telnet.login.success`,
    /// `http.login`): its protocol and outcome.
    pub kind: Kind,
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
    /// How many login events had this pair.
    pub count: i64,
}

impl Store {
    /// The `limit` most tried credential pairs of the time range, per login kind
    /// (protocol and success or failure). Reads the login events of the range
    /// through the kind index; sealed passwords are not ranked.
    pub async fn credential_pairs(
        &self,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<CredentialPair>, StoreError> {
        let kinds: Vec<String> = Kind::ALL
            .iter()
            .filter(|k| k.category().is_login())
            .map(|k| format!("'{}'", k.as_str()))
            .collect();
        let mut query = self.db.builder(format!(
            "SELECT kind, json_extract(data, '$.username') AS u, json_extract(data, '$.password') AS p, \
             COUNT(*) AS n FROM events WHERE kind IN ({})",
            kinds.join(", ")
        ));
        if let Some(since) = since {
            query.push(" AND time_us >= ").push_bind(since.as_micros());
        }
        if let Some(until) = until {
            query.push(" AND time_us < ").push_bind(until.as_micros());
        }
        query
            .push(" AND json_extract(data, '$.username') IS NOT NULL AND json_extract(data, '$.password') IS NOT NULL")
            .push(" GROUP BY kind, u, p ORDER BY n DESC, kind, u, p LIMIT ")
            .push_bind(limit.clamp(1, 1_000) as i64);
        let rows = query.fetch_all(self.db.read()).await?;
        let mut pairs = Vec::with_capacity(rows.len());
        for row in &rows {
            let kind: String = row.get(0)?;
            let Ok(kind) = kind.parse::<Kind>() else {
                continue;
            };
            // json_extract gives a number for a numeric JSON value.
            let text = |i: usize| {
                row.get::<String, _>(i)
                    .or_else(|_| row.get::<i64, _>(i).map(|n| n.to_string()))
                    .unwrap_or_default()
            };
            pairs.push(CredentialPair {
                kind,
                username: text(1),
                password: text(2),
                count: row.get(3)?,
            });
        }
        Ok(pairs)
    }
}

/// One honeypot session, summarised from its events (those with `data.session`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    /// The session id.
    pub session: String,
    /// The sensor that recorded it.
    pub sensor: String,
    /// `ssh`, `telnet`, `http`, `https`, or empty when unknown.
    pub protocol: String,
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
    /// Accepted logins.
    pub logins: i64,
    /// Files fetched by the attacker (`*.download`).
    pub downloads: i64,
    /// Files sent by the attacker (`*.upload`).
    pub uploads: i64,
    /// The user name of the accepted login, if any.
    pub username: Option<String>,
    /// The password of the accepted login, if any.
    pub password: Option<String>,
    /// 3: commands or files, 2: logged in, 1: failed logins only, 0: nothing.
    pub interest: i64,
}

/// How a sessions list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionOrder {
    /// Sessions where the attacker did something first (commands or files,
    /// then logged in, then failed logins, then the rest), newest first within each.
    #[default]
    Interest,
    /// Newest first.
    Newest,
}

/// Conditions on the sessions to list; every field narrows the set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Sessions that started at or after this time.
    pub since: Option<Timestamp>,
    /// Sessions that started before this time.
    pub until: Option<Timestamp>,
    /// The client's address or network.
    pub src: Option<Network>,
    /// Recorded by this sensor.
    pub sensor: Option<String>,
    /// Over this protocol (`ssh`, `telnet`, `http`, `https`). Without it, HTTP
    /// requests (protocol `http` or `https`) are not listed: each is a session
    /// of one request, and the events page lists them by source and path.
    pub protocol: Option<String>,
    /// With (true) or without (false) an accepted login.
    pub logged_in: Option<bool>,
    /// Only sessions with at least one command.
    pub has_commands: bool,
    /// Only sessions with at least one download.
    pub has_downloads: bool,
    /// Only sessions with at least one upload.
    pub has_uploads: bool,
    /// Only sessions with at least this many commands.
    pub min_commands: Option<i64>,
    /// Only sessions where a command matches this search ([`search_query`]).
    pub command_text: Option<String>,
    /// The order.
    pub order: SessionOrder,
}

/// Where a page of sessions ends: the last row's place in the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCursor {
    interest: i64,
    first_us: i64,
    session: String,
}

impl fmt::Display for SessionCursor {
    /// An opaque token: `<interest>.<micros>.<session id>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.interest, self.first_us, self.session)
    }
}

impl FromStr for SessionCursor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "invalid cursor {:?}: pass back a `next_cursor` value",
                truncate(s)
            )
        };
        let mut parts = s.splitn(3, '.');
        let (Some(interest), Some(first), Some(session)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        Ok(SessionCursor {
            interest: interest.parse().map_err(|_| bad())?,
            first_us: first.parse().map_err(|_| bad())?,
            session: session.chars().take(256).collect(),
        })
    }
}

/// One page of sessions.
#[derive(Debug, Clone)]
pub struct SessionPage {
    /// The sessions, in the filter's order.
    pub sessions: Vec<SessionSummary>,
    /// Pass this to get the next page; `None` on the last page.
    pub next: Option<SessionCursor>,
}

const SESSION_SELECT: &str = "SELECT session, sensor, protocol, src_ip, first_us, last_us, events, \
     commands, failed_logins, logins, downloads, uploads, username, password, interest \
     FROM session_summaries";

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
        let row = db::query(match self.db.backend() {
            Backend::Sqlite => {
                "SELECT session, sensor FROM event_sessions \
                 WHERE session IN (SELECT value FROM json_each($1)) AND sensor <> $2 LIMIT 1"
            }
            Backend::Postgres => {
                "SELECT session, sensor FROM event_sessions \
                 WHERE session IN (SELECT jsonb_array_elements_text($1::jsonb)) \
                 AND sensor <> $2 LIMIT 1"
            }
        })
        .bind(list)
        .bind(sensor)
        .fetch_optional(self.db.read())
        .await?;
        row.map(|row| Ok((row.get(0)?, row.get(1)?))).transpose()
    }

    /// One session's summary.
    pub async fn get_session(&self, session: &str) -> Result<Option<SessionSummary>, StoreError> {
        let mut query = self.db.builder(SESSION_SELECT);
        query
            .push(" WHERE session = ")
            .push_bind(session.to_owned());
        let row = query.fetch_optional(self.db.read()).await?;
        row.map(|row| session_from_row(&row)).transpose()
    }

    /// A page of honeypot sessions matching `filter`, in its order, starting
    /// after `cursor`. `limit` is clamped to 1..=1,000.
    ///
    /// Reads `session_summaries` (kept by the writer), through the index of the
    /// order, so a page costs about the same on a million sessions as on a hundred.
    pub async fn list_sessions(
        &self,
        filter: &SessionFilter,
        cursor: Option<&SessionCursor>,
        limit: usize,
    ) -> Result<SessionPage, StoreError> {
        let limit = limit.clamp(1, 1_000);
        let mut query = self.db.builder(SESSION_SELECT);
        let mut clauses = Clauses::new(&mut query);
        push_session_filter(&mut clauses, filter);
        if let Some(cursor) = cursor {
            let q = clauses.next();
            match filter.order {
                SessionOrder::Interest => q
                    .push("(interest, first_us, session) < (")
                    .push_bind(cursor.interest)
                    .push(", ")
                    .push_bind(cursor.first_us)
                    .push(", ")
                    .push_bind(cursor.session.clone())
                    .push(")"),
                SessionOrder::Newest => q
                    .push("(first_us, session) < (")
                    .push_bind(cursor.first_us)
                    .push(", ")
                    .push_bind(cursor.session.clone())
                    .push(")"),
            };
        }
        query.push(match filter.order {
            SessionOrder::Interest => " ORDER BY interest DESC, first_us DESC, session DESC",
            SessionOrder::Newest => " ORDER BY first_us DESC, session DESC",
        });
        query.push(" LIMIT ").push_bind(limit as i64 + 1);
        let rows = query.fetch_all(self.db.read()).await?;
        let mut sessions = rows
            .iter()
            .map(session_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if sessions.len() > limit {
            sessions.truncate(limit);
            sessions.last().map(|s| SessionCursor {
                interest: s.interest,
                first_us: s.first.as_micros(),
                session: s.session.clone(),
            })
        } else {
            None
        };
        Ok(SessionPage { sessions, next })
    }

    /// How many sessions match `filter`, counting no further than `cap`, as
    /// [`Store::count_events_capped`].
    pub async fn count_sessions_capped(
        &self,
        filter: &SessionFilter,
        cap: usize,
    ) -> Result<(i64, bool), StoreError> {
        let mut query = self
            .db
            .builder("SELECT COUNT(*) FROM (SELECT 1 FROM session_summaries");
        push_session_filter(&mut Clauses::new(&mut query), filter);
        query
            .push(" LIMIT ")
            .push_bind(cap as i64)
            .push(") AS capped");
        let n: i64 = query.fetch_one(self.db.read()).await?.get(0)?;
        Ok((n, n >= cap as i64))
    }
}

fn push_session_filter(clauses: &mut Clauses<'_, '_>, filter: &SessionFilter) {
    if let Some(since) = filter.since {
        clauses
            .next()
            .push("first_us >= ")
            .push_bind(since.as_micros());
    }
    if let Some(until) = filter.until {
        clauses
            .next()
            .push("first_us < ")
            .push_bind(until.as_micros());
    }
    match filter.src.map(|n| (n, n.single())) {
        Some((_, Some(ip))) => {
            clauses.next().push("src_ip = ").push_bind(ip_bytes(ip));
        }
        Some((net, None)) => net.push_condition(clauses.next(), "src_ip"),
        None => {}
    }
    if let Some(sensor) = &filter.sensor {
        clauses.next().push("sensor = ").push_bind(sensor.clone());
    }
    match &filter.protocol {
        Some(protocol) => {
            clauses
                .next()
                .push("protocol = ")
                .push_bind(protocol.to_ascii_lowercase());
        }
        None => {
            clauses.next().push("protocol NOT IN ('http', 'https')");
        }
    }
    match filter.logged_in {
        Some(true) => {
            clauses.next().push("logins > 0");
        }
        Some(false) => {
            clauses.next().push("logins = 0");
        }
        None => {}
    }
    if filter.has_commands {
        clauses.next().push("commands > 0");
    }
    if filter.has_downloads {
        clauses.next().push("downloads > 0");
    }
    if filter.has_uploads {
        clauses.next().push("uploads > 0");
    }
    if let Some(min) = filter.min_commands {
        clauses.next().push("commands >= ").push_bind(min);
    }
    if let Some(text) = filter.command_text.as_deref() {
        let commands = kinds_in(Category::Command);
        match search_query(text) {
            Some(search) => {
                let backend = clauses.query.backend();
                clauses.next().push(format!(
                    "session IN (SELECT e.session FROM {} WHERE ",
                    text_join(backend, "e")
                ));
                push_match(clauses.query, &search);
                clauses.query.push(format!(" AND e.kind IN ({commands}))"));
            }
            // Nothing to search for: no session matches.
            None => {
                clauses.next().push("0");
            }
        }
    }
}

fn session_from_row(row: &Row) -> Result<SessionSummary, StoreError> {
    let time = |us: i64| {
        Timestamp::from_micros(us).ok_or_else(|| StoreError::CorruptRow {
            id: "session".into(),
            reason: format!("time {us}"),
        })
    };
    let src: Option<&[u8]> = row.get("src_ip")?;
    Ok(SessionSummary {
        session: row.get("session")?,
        sensor: row.get("sensor")?,
        protocol: row.get("protocol")?,
        src_ip: src.and_then(ip_from_bytes),
        first: time(row.get("first_us")?)?,
        last: time(row.get("last_us")?)?,
        events: row.get("events")?,
        commands: row.get("commands")?,
        failed_logins: row.get("failed_logins")?,
        logins: row.get("logins")?,
        downloads: row.get("downloads")?,
        uploads: row.get("uploads")?,
        username: row.get("username")?,
        password: row.get("password")?,
        interest: row.get("interest")?,
    })
}

/// Joins conditions with WHERE / AND.
struct Clauses<'a, 'q> {
    query: &'a mut Query<'q>,
    any: bool,
}

impl<'a, 'q> Clauses<'a, 'q> {
    fn new(query: &'a mut Query<'q>) -> Self {
        Clauses { query, any: false }
    }

    fn next(&mut self) -> &mut Query<'q> {
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
            // PostgreSQL has no unary `+` on text (and plans this well without it).
            let kind = if clauses.query.postgres() {
                "kind"
            } else {
                "+kind"
            };
            clauses
                .next()
                .push(format!("{kind} > "))
                .push_bind(format!("{prefix}."))
                .push(format!(" AND {kind} < "))
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
    if let Some(net) = filter.src_net {
        net.push_condition(clauses.next(), "src_ip");
    }
    if let Some(sensor) = &filter.sensor {
        clauses.next().push("sensor = ").push_bind(sensor.clone());
    }
    if let Some(session) = &filter.session {
        // The session column (migration 0015), indexed with time.
        clauses.next().push("session = ").push_bind(session.clone());
    }
    for (field, value) in &filter.fields {
        clauses
            .next()
            .push(format!("json_extract(data, {}) = ", data_path(field.key())))
            .push_bind(value.clone());
    }
    if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
        if let Some(search) = search_query(text) {
            clauses
                .next()
                .push("seq IN (SELECT rowid FROM event_text WHERE ");
            push_match(clauses.query, &search);
            clauses.query.push(")");
            return;
        }
        let mut pattern = String::with_capacity(text.len() + 2);
        pattern.push('%');
        for c in text.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE does.
        let like = if clauses.query.postgres() {
            "ILIKE"
        } else {
            "LIKE"
        };
        clauses
            .next()
            .push(format!("summary {like} "))
            .push_bind(pattern)
            .push(" ESCAPE '\\'");
    }
}

/// The conditions of a text search: the index match, then `filter`'s other
/// conditions.
fn push_search(query: &mut Query<'_>, filter: &EventFilter, search: &str) {
    query.push(" WHERE ");
    push_match(query, search);
    // The search is done by the index; text without a word stays a summary match.
    let rest = EventFilter {
        text: filter.text.clone().filter(|t| search_query(t).is_none()),
        ..filter.clone()
    };
    let mut clauses = Clauses { query, any: true };
    push_filter(&mut clauses, &rest);
}

/// `event_text` joined to the events (table alias `events`), index first.
/// SQLite's `CROSS JOIN` keeps that order; PostgreSQL plans it itself.
fn text_join(backend: Backend, events: &str) -> String {
    let join = match backend {
        Backend::Sqlite => "CROSS JOIN",
        Backend::Postgres => "JOIN",
    };
    let alias = if events == "events" {
        String::new()
    } else {
        format!(" {events}")
    };
    format!("event_text {join} events{alias} ON {events}.seq = event_text.rowid")
}

/// The full-text condition for `search` (a [`search_query`]).
fn push_match(query: &mut Query<'_>, search: &str) {
    if query.postgres() {
        query
            .push("event_text.body @@ to_tsquery('simple', ")
            .push_bind(tsquery(search))
            .push(")");
    } else {
        query.push("event_text MATCH ").push_bind(search.to_owned());
    }
}

/// A [`search_query`] (FTS5's syntax: `"quoted phrase"` terms, `*` after a
/// prefix, all required) as a PostgreSQL tsquery over the same words: each
/// phrase's words split where FTS5's tokenizer splits them (at anything but a
/// letter or digit), lowercased, joined by `<->` (next to each other), the last
/// one `:*` for a prefix; terms joined by `&`. Words are letters and digits
/// only, so nothing in them is tsquery syntax.
fn tsquery(search: &str) -> String {
    let mut terms: Vec<String> = Vec::new();
    let mut rest = search;
    while let Some(open) = rest.find('"') {
        let mut phrase = String::new();
        let mut after = &rest[open + 1..];
        loop {
            match after.find('"') {
                Some(at) if after[at + 1..].starts_with('"') => {
                    phrase.push_str(&after[..=at]);
                    after = &after[at + 2..];
                }
                Some(at) => {
                    phrase.push_str(&after[..at]);
                    after = &after[at + 1..];
                    break;
                }
                None => {
                    phrase.push_str(after);
                    after = "";
                    break;
                }
            }
        }
        let prefix = after.starts_with('*');
        rest = after;
        let words: Vec<String> = phrase
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if words.is_empty() {
            continue;
        }
        let mut term = words.join(" <-> ");
        if prefix {
            term.push_str(":*");
        }
        terms.push(format!("({term})"));
    }
    if terms.is_empty() {
        // No word: matches nothing, as FTS5 would find nothing.
        return "''".to_owned();
    }
    terms.join(" & ")
}

/// Most terms of a search.
const MAX_SEARCH_TERMS: usize = 32;
/// Most characters of a search.
const MAX_SEARCH_CHARS: usize = 1_000;

/// A search as an SQLite FTS5 query: every term must match. A term is a word
/// (`mdrfckr`), a `"quoted phrase"` (its words in this order), or either ending
/// in `*` (a prefix: `wget*`). Punctuation separates words, so `/cgi-bin/status`
/// is the phrase `cgi bin status` and an address is its numbers in order; case
/// does not matter. `None` when the text has no letter or digit.
pub fn search_query(text: &str) -> Option<String> {
    let text: String = text.chars().take(MAX_SEARCH_CHARS).collect();
    let mut out = String::new();
    let mut terms = 0;
    let mut rest = text.as_str();
    while terms < MAX_SEARCH_TERMS {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let (phrase, after) = match rest.strip_prefix('"') {
            Some(quoted) => match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            },
            None => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        // `word*` or `"a phrase"*`.
        let (phrase, prefix, after) = match (phrase.strip_suffix('*'), after.strip_prefix('*')) {
            (Some(word), _) => (word.trim_end_matches('*'), true, after),
            (None, Some(after_star)) => (phrase, true, after_star),
            (None, None) => (phrase, false, after),
        };
        rest = after;
        if !phrase.chars().any(char::is_alphanumeric) {
            continue;
        }
        if terms > 0 {
            out.push(' ');
        }
        out.push('"');
        out.push_str(&phrase.replace('"', "\"\""));
        out.push('"');
        if prefix {
            out.push('*');
        }
        terms += 1;
    }
    (terms > 0).then_some(out)
}

/// The event in `row` (a statement that selects the events' columns by name).
pub(crate) fn event_from_row(row: &Row) -> Result<Event, StoreError> {
    event_at(row, &EventColumns::of(row)?)
}

/// The events of `rows` (all from one statement).
pub(crate) fn events_from_rows(rows: &[Row]) -> Result<Vec<Event>, StoreError> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns = EventColumns::of(first)?;
    rows.iter().map(|row| event_at(row, &columns)).collect()
}

/// Where an event's columns are in a statement's rows: found by name once,
/// then read by position. A lookup by name hashes the name each time, which
/// was about a third of decoding a row (callgrind, a consumer catching up).
pub(crate) struct EventColumns {
    id: usize,
    time_us: usize,
    sensor: usize,
    kind: usize,
    severity: usize,
    src_ip: usize,
    src_port: usize,
    dst_ip: usize,
    dst_port: usize,
    summary: usize,
    data: usize,
}

impl EventColumns {
    pub(crate) fn of(row: &Row) -> Result<EventColumns, StoreError> {
        Ok(EventColumns {
            id: row.ordinal("id")?,
            time_us: row.ordinal("time_us")?,
            sensor: row.ordinal("sensor")?,
            kind: row.ordinal("kind")?,
            severity: row.ordinal("severity")?,
            src_ip: row.ordinal("src_ip")?,
            src_port: row.ordinal("src_port")?,
            dst_ip: row.ordinal("dst_ip")?,
            dst_port: row.ordinal("dst_port")?,
            summary: row.ordinal("summary")?,
            data: row.ordinal("data")?,
        })
    }
}

/// The event in `row`, its columns where `at` says.
pub(crate) fn event_at(row: &Row, at: &EventColumns) -> Result<Event, StoreError> {
    let id_bytes: &[u8] = row.get(at.id)?;
    let id = Uuid::from_slice(id_bytes).map_err(|e| StoreError::CorruptRow {
        id: format!("{id_bytes:02x?}"),
        reason: e.to_string(),
    })?;
    let corrupt = |reason: String| StoreError::CorruptRow {
        id: id.to_string(),
        reason,
    };
    let ip = |col: usize, name: &str| -> Result<Option<IpAddr>, StoreError> {
        let bytes: Option<&[u8]> = row.get(col)?;
        bytes
            .map(|b| {
                ip_from_bytes(b).ok_or_else(|| corrupt(format!("{name} has {} bytes", b.len())))
            })
            .transpose()
    };
    let port = |col: usize, name: &str| -> Result<Option<u16>, StoreError> {
        let n: Option<i32> = row.get(col)?;
        n.map(|n| u16::try_from(n).map_err(|_| corrupt(format!("{name} {n}"))))
            .transpose()
    };
    let time_us: i64 = row.get(at.time_us)?;
    let kind: &str = row.get(at.kind)?;
    let severity: i64 = row.get(at.severity)?;
    let data = row.json_object(at.data)?.map_err(&corrupt)?;
    Ok(Event {
        id,
        time: Timestamp::from_micros(time_us).ok_or_else(|| corrupt("time".into()))?,
        sensor: row.get(at.sensor)?,
        kind: kind
            .parse()
            .map_err(|e: nectar_event::UnknownKind| corrupt(e.to_string()))?,
        severity: Severity::from_rank(severity).ok_or_else(|| corrupt("severity".into()))?,
        src_ip: ip(at.src_ip, "src_ip")?,
        src_port: port(at.src_port, "src_port")?,
        dst_ip: ip(at.dst_ip, "dst_ip")?,
        dst_port: port(at.dst_port, "dst_port")?,
        summary: row.get(at.summary)?,
        data,
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
