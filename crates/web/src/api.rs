//! The JSON API, version 1: health, event ingest and event queries.
//!
//! Ingest answers only after the batch is committed, and a batch is all or nothing: a
//! malformed or invalid event anywhere rejects the whole batch with a message naming
//! the event and the field, and nothing of it is stored.
//!
//! Posted events are evidence, so a token cannot forge it (#26 item 4; see
//! [`Admission`]): an event's `sensor` is its token's, the token is recorded in
//! `data.submitted_by`, it cannot join another sensor's honeypot session or name a
//! recording, and its time must be near now.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use nectar_event::{Severity, Timestamp};
use nectar_store::{
    Cursor, EventFilter, KindFilter, Network, PivotField, Role, SessionCursor, SessionFilter,
    SessionOrder,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use std::sync::atomic::Ordering;

use crate::auth::ApiCaller;
use crate::error::ApiError;
use crate::ingest::Admission;
use crate::{AppState, WebConfig};

pub fn routes(config: &WebConfig) -> Router<AppState> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/status", get(status))
        .route("/api/v1/events", get(list_events).post(post_events))
        .route("/api/v1/events/{id}", get(get_event))
        .route("/api/v1/summary", get(summary))
        .route("/api/v1/sessions", get(sessions))
        .route("/api/v1/sessions/{id}", get(session_detail))
        // The ingest route reads its body itself (see `read_body`).
        .layer(DefaultBodyLimit::max(
            config
                .max_body_bytes
                .saturating_mul(crate::ingest::DRAIN_FACTOR),
        ))
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.started.elapsed().as_secs(),
    }))
}

/// The event flow's counters: the bus, the writer, and every consumer of the
/// committed stream with its lag. Any role; health stays token-free and minimal.
async fn status(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let mut status = state.flow_status();
    status.failures = state.not_running().await;
    Ok(Json(json!(status)))
}

/// How long a posted batch waits for a reading slot before 503.
const INGEST_SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

async fn post_events(
    State(state): State<AppState>,
    caller: ApiCaller,
    crate::pages::ClientIp(ip): crate::pages::ClientIp,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    // Before the body is read: a sensor's clock is compared with this.
    let received_us = nectar_event::Timestamp::now().as_micros();
    let from_sensor = caller.0.role == Role::Sensor;
    if !from_sensor {
        caller.require(Role::Analyst)?;
    }
    let encoding = crate::ingest::BodyEncoding::of(
        headers
            .get(axum::http::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    )?;
    if caller.0.sensor == *state.sensor {
        return Err(ApiError::forbidden(format!(
            "token {:?} posts as sensor {:?}, this server's own name (sensor_name): only \
             the server itself makes those events; create a token with another sensor \
             (`nectar token create --name N --sensor S`)",
            caller.0.name, caller.0.sensor
        )));
    }
    // Each batch being read holds up to ~25 MB (see `ingest`): a few at once.
    // A batch waits its turn for a moment (the semaphore is first come, first
    // served), so a fleet of sensors posting together is queued rather than
    // sent away; past the wait it gets 503 with Retry-After.
    let slot =
        tokio::time::timeout(INGEST_SLOT_WAIT, state.ingest_slots.clone().acquire_owned()).await;
    let Ok(Ok(_slot)) = slot else {
        let refused = state.ingest_busy.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(
            limit = state.config.max_concurrent_ingest,
            refused,
            "Refused a posted batch: too many are being read at once."
        );
        return Err(ApiError::busy(format!(
            "{} batches are being read already (server.max_concurrent_ingest); retry shortly",
            state.config.max_concurrent_ingest
        )));
    };
    // A full queue answers 503 with Retry-After (sensors spool and come back)
    // rather than holding the request while it drains.
    if state.bus.room() < state.bus.capacity() / 4 {
        let refused = state.ingest_busy.fetch_add(1, Ordering::Relaxed) + 1;
        // The first refusal, then every 100th: a fleet coming back after an
        // outage must not fill the log.
        if refused == 1 || refused.is_multiple_of(100) {
            tracing::warn!(
                capacity = state.bus.capacity(),
                refused,
                "Refused a posted batch: the event queue is full (store.queue_events); the sender was told to retry later."
            );
        }
        return Err(ApiError::busy(
            "the server's event queue is full (store.queue_events); retry shortly",
        ));
    }
    let sensor = from_sensor.then(|| caller.0.sensor.clone());
    let admission = Admission::new(caller.0, state.config.clone());
    let events = crate::ingest::read_batch(body, encoding, &admission).await?;
    admission.check_sessions(&state.store, &events).await?;
    let count = events.len() as u64;
    let outcome = state.bus.submit(events).await?;
    if let Some(name) = sensor {
        let report = crate::api_sensors::batch_report(&headers, count, received_us, ip.to_string());
        crate::api_sensors::after_batch(&state, &name, report).await;
    }
    Ok(Json(
        json!({ "stored": outcome.stored, "duplicates": outcome.duplicates }),
    ))
}

/// Query parameters of `GET /api/v1/events`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Exact kind (`ssh.login.failed`) or family prefix (`ssh.*`).
    pub kind: Option<String>,
    /// One or more severities, comma-separated (`high,critical`).
    pub severity: Option<String>,
    /// This severity and above.
    pub min_severity: Option<String>,
    /// Source address.
    pub src_ip: Option<String>,
    /// Sensor name.
    pub sensor: Option<String>,
    /// RFC 3339; events at or after.
    pub since: Option<String>,
    /// RFC 3339; events before.
    pub until: Option<String>,
    /// A search over the event's text (summary and data): words, "phrases", prefix*.
    pub q: Option<String>,
    /// Page size, 1 to 1,000 (default 100).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Honeypot session id (`data.session`).
    pub session: Option<String>,
    /// Exactly this `data.username`.
    pub username: Option<String>,
    /// Exactly this `data.password`.
    pub password: Option<String>,
    /// Exactly this command (`data.input`).
    pub command: Option<String>,
    /// Exactly this `data.url`.
    pub url: Option<String>,
    /// Exactly this `data.sha256`.
    pub sha256: Option<String>,
    /// Exactly this `data.hassh`.
    pub hassh: Option<String>,
    /// Exactly this `data.user_agent`.
    pub user_agent: Option<String>,
    /// Exactly this `data.path`.
    pub path: Option<String>,
    /// Exactly this `data.client_version`.
    pub client_version: Option<String>,
}

impl ListParams {
    /// The exact-value pivots given, with their parameter names.
    pub fn pivots(&self) -> [(PivotField, &Option<String>); 9] {
        [
            (PivotField::Username, &self.username),
            (PivotField::Password, &self.password),
            (PivotField::Command, &self.command),
            (PivotField::Url, &self.url),
            (PivotField::Sha256, &self.sha256),
            (PivotField::Hassh, &self.hassh),
            (PivotField::UserAgent, &self.user_agent),
            (PivotField::Path, &self.path),
            (PivotField::ClientVersion, &self.client_version),
        ]
    }
}

impl ListParams {
    /// The store filter these parameters describe, or a message naming the bad one.
    pub fn filter(&self) -> Result<(EventFilter, Option<Cursor>, usize), String> {
        let time = |name: &str, v: &Option<String>| -> Result<Option<Timestamp>, String> {
            nonempty(v)
                .map(|s| {
                    s.parse::<Timestamp>()
                        .map_err(|e| format!("parameter `{name}`: {e}"))
                })
                .transpose()
        };
        let mut filter = EventFilter {
            since: time("since", &self.since)?,
            until: time("until", &self.until)?,
            ..EventFilter::default()
        };
        if let Some(kind) = nonempty(&self.kind) {
            filter.kind = Some(
                kind.parse::<KindFilter>()
                    .map_err(|e| format!("parameter `kind`: {e}"))?,
            );
        }
        if let Some(list) = nonempty(&self.severity) {
            for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                filter.severities.push(
                    name.parse::<Severity>()
                        .map_err(|e| format!("parameter `severity`: {e}"))?,
                );
            }
        }
        if let Some(name) = nonempty(&self.min_severity) {
            filter.min_severity = Some(
                name.parse::<Severity>()
                    .map_err(|e| format!("parameter `min_severity`: {e}"))?,
            );
        }
        if let Some(ip) = nonempty(&self.src_ip) {
            let net = ip
                .parse::<Network>()
                .map_err(|e| format!("parameter `src_ip`: {}", crate::visible(&e, 200)))?;
            match net.single() {
                Some(ip) => filter.src_ip = Some(ip),
                None => filter.src_net = Some(net),
            }
        }
        filter.sensor = nonempty(&self.sensor).map(str::to_owned);
        filter.text = nonempty(&self.q).map(str::to_owned);
        filter.session = nonempty(&self.session).map(|s| s.chars().take(128).collect());
        for (field, value) in self.pivots() {
            // Not trimmed: a password's spaces are part of it.
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                if value.len() > 20_000 {
                    return Err(format!(
                        "parameter `{}`: at most 20000 bytes",
                        field.param()
                    ));
                }
                filter.fields.push((field, value.to_owned()));
            }
        }
        let limit = match nonempty(&self.limit) {
            None => 100,
            Some(s) => match s.parse::<usize>() {
                Ok(n @ 1..=1000) => n,
                _ => return Err("parameter `limit`: expected a number from 1 to 1000".into()),
            },
        };
        let cursor = nonempty(&self.cursor)
            .map(|s| {
                s.parse::<Cursor>()
                    .map_err(|e| format!("parameter `cursor`: {e}"))
            })
            .transpose()?;
        Ok((filter, cursor, limit))
    }
}

/// A page of events, streamed (see [`crate::export`]): a page of 1,000 events
/// of the largest size is ~250 MB of JSON, which is never held at once.
async fn list_events(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    caller.require(Role::Viewer)?;
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (filter, cursor, limit) = params.filter().map_err(ApiError::bad_request)?;
    Ok(crate::export::response(
        state,
        crate::export::Export {
            filter,
            cursor,
            rows: limit,
            bytes: usize::MAX,
            format: crate::export::Format::ApiPage,
        },
        None,
        "application/json",
        None,
    ))
}

async fn get_event(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let id = Uuid::try_parse(&id).map_err(|_| ApiError::bad_request("event id must be a UUID"))?;
    state
        .store
        .get_event(id)
        .await?
        .map(|mut event| {
            state.reveal(&mut event);
            Json(crate::export::enriched(&event, &state.enrich.snapshot()))
        })
        .ok_or_else(|| ApiError::not_found(format!("no event with id {id}")))
}

/// The trimmed value of a parameter, if present and not blank.
fn nonempty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The dashboard's data: counts by kind, severity and time bucket, and the top
/// sources, user names, passwords and commands, for `range` (`1h`, `24h`, `7d`,
/// `30d`, `all`) or `since`/`until`; from the rollups (whole minutes or hours).
async fn summary(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(params): Query<crate::pages::RangeParams>,
) -> Result<Json<Value>, ApiError> {
    use nectar_store::{DataField, RollupRange, TopField};
    caller.require(Role::Viewer)?;
    let range = params.resolve(Timestamp::now());
    let rolled = RollupRange::new(range.since, range.until);
    let store = &state.store;
    let top = |values: Vec<nectar_store::ValueCount>| {
        values
            .into_iter()
            .map(|v| json!({"value": v.value, "count": v.count}))
            .collect::<Vec<_>>()
    };
    let severities = store.rollup_by_severity(rolled).await?;
    Ok(Json(json!({
        "range": {"since": range.since, "until": range.until, "bucket_seconds": range.bucket_us / 1_000_000},
        "total": severities.iter().map(|(_, n)| n).sum::<i64>(),
        "by_severity": severities.iter().map(|(s, n)| (s.as_str().to_owned(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "by_kind": store.rollup_by_kind(rolled).await?.into_iter().map(|k| (k.kind, json!(k.count))).collect::<serde_json::Map<_, _>>(),
        "over_time": store.rollup_by_bucket(rolled, range.bucket_us).await?.into_iter().map(|b| json!({"start": b.start, "count": b.count})).collect::<Vec<_>>(),
        "top_sources": top(store.rollup_top(rolled, TopField::SrcIp, 10).await?),
        "top_usernames": top(store.rollup_top(rolled, TopField::Data(DataField::Username), 10).await?),
        "top_passwords": top(store.rollup_top(rolled, TopField::Data(DataField::Password), 10).await?),
        "top_commands": top(store.rollup_top(rolled, TopField::Data(DataField::Input), 10).await?),
        // Sealed with `encrypt_to`: counted, never ranked (only the identity reads them).
        "sealed_passwords": store.rollup_sealed(rolled, DataField::Password).await?,
        "sealed_commands": store.rollup_sealed(rolled, DataField::Input).await?,
    })))
}

/// Query parameters of `GET /api/v1/sessions` and the Sessions page.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionParams {
    /// `1h`, `24h`, `7d`, `30d` or `all` (default `24h`; ignored with since/until).
    pub range: Option<String>,
    /// Sessions started at or after (RFC 3339 or `YYYY-MM-DDTHH:MM`, UTC).
    pub since: Option<String>,
    /// Sessions started before.
    pub until: Option<String>,
    /// Client address or network (`203.0.113.0/24`, `2001:db8::/48`).
    pub src_ip: Option<String>,
    /// Sensor name.
    pub sensor: Option<String>,
    /// `ssh`, `telnet`, `http` or `https` (without it, HTTP requests are left out).
    pub protocol: Option<String>,
    /// `yes` (an accepted login) or `no`.
    pub logged_in: Option<String>,
    /// Any value but empty or `0`/`false`: only sessions with commands.
    pub has_commands: Option<String>,
    /// Likewise: only sessions with downloads.
    pub has_downloads: Option<String>,
    /// Likewise: only sessions with uploads.
    pub has_uploads: Option<String>,
    /// At least this many commands.
    pub min_commands: Option<String>,
    /// A search in the session's commands (words, "phrases", prefix*).
    pub q: Option<String>,
    /// `interest` (default: sessions with commands or files first) or `newest`.
    pub order: Option<String>,
    /// Page size, 1 to 1,000 (default 100).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl SessionParams {
    /// The store filter these parameters describe, or a message naming the bad one.
    pub fn filter(
        &self,
        now: Timestamp,
    ) -> Result<(SessionFilter, Option<SessionCursor>, usize), String> {
        let range = crate::pages::RangeParams {
            range: self.range.clone(),
            since: None,
            until: None,
        };
        let time = |name: &str, v: &Option<String>| -> Result<Option<Timestamp>, String> {
            nonempty(v)
                .map(|s| {
                    crate::pages::parse_time(s).ok_or_else(|| {
                        format!(
                            "parameter `{name}`: {:?} is not a time (RFC 3339, e.g. 2026-12-07T10:00:00Z)",
                            crate::visible(s, 40)
                        )
                    })
                })
                .transpose()
        };
        let (since, until) = (time("since", &self.since)?, time("until", &self.until)?);
        let (since, until) = if since.is_some() || until.is_some() {
            (since, until)
        } else {
            if let Some(key) = nonempty(&self.range)
                && !crate::pages::PRESETS.iter().any(|(k, _, _)| *k == key)
            {
                return Err("parameter `range`: expected one of 1h, 24h, 7d, 30d, all".into());
            }
            let resolved = range.resolve(now);
            (resolved.since, resolved.until)
        };
        let flag = |v: &Option<String>| {
            nonempty(v).is_some_and(|s| !matches!(s, "0" | "false" | "no" | "off"))
        };
        let mut filter = SessionFilter {
            since,
            until,
            sensor: nonempty(&self.sensor).map(str::to_owned),
            has_commands: flag(&self.has_commands),
            has_downloads: flag(&self.has_downloads),
            has_uploads: flag(&self.has_uploads),
            command_text: nonempty(&self.q).map(|s| s.chars().take(256).collect()),
            ..SessionFilter::default()
        };
        if let Some(src) = nonempty(&self.src_ip) {
            filter.src = Some(
                src.parse::<Network>()
                    .map_err(|e| format!("parameter `src_ip`: {e}"))?,
            );
        }
        if let Some(p) = nonempty(&self.protocol) {
            let p = p.to_ascii_lowercase();
            if !matches!(p.as_str(), "ssh" | "telnet" | "http" | "https") {
                return Err("parameter `protocol`: expected ssh, telnet, http or https".into());
            }
            filter.protocol = Some(p);
        }
        filter.logged_in = match nonempty(&self.logged_in) {
            None => None,
            Some("yes" | "true" | "1") => Some(true),
            Some("no" | "false" | "0") => Some(false),
            Some(_) => return Err("parameter `logged_in`: expected yes or no".into()),
        };
        if let Some(n) = nonempty(&self.min_commands) {
            filter.min_commands = Some(match n.parse::<i64>() {
                Ok(n @ 0..=1_000_000) => n,
                _ => {
                    return Err(
                        "parameter `min_commands`: expected a number from 0 to 1000000".into(),
                    );
                }
            });
        }
        filter.order = match nonempty(&self.order) {
            None | Some("interest") => SessionOrder::Interest,
            Some("newest") => SessionOrder::Newest,
            Some(_) => return Err("parameter `order`: expected interest or newest".into()),
        };
        let limit = match nonempty(&self.limit) {
            None => 100,
            Some(s) => match s.parse::<usize>() {
                Ok(n @ 1..=1000) => n,
                _ => return Err("parameter `limit`: expected a number from 1 to 1000".into()),
            },
        };
        let cursor = nonempty(&self.cursor)
            .map(|s| {
                s.parse::<SessionCursor>()
                    .map_err(|e| format!("parameter `cursor`: {e}"))
            })
            .transpose()?;
        Ok((filter, cursor, limit))
    }

    /// The parameters as a URL query without the cursor (and without `limit`
    /// when `keep_limit` is false), for links.
    pub fn query_string(&self) -> String {
        let pairs = [
            ("range", &self.range),
            ("since", &self.since),
            ("until", &self.until),
            ("src_ip", &self.src_ip),
            ("sensor", &self.sensor),
            ("protocol", &self.protocol),
            ("logged_in", &self.logged_in),
            ("has_commands", &self.has_commands),
            ("has_downloads", &self.has_downloads),
            ("has_uploads", &self.has_uploads),
            ("min_commands", &self.min_commands),
            ("q", &self.q),
            ("order", &self.order),
            ("limit", &self.limit),
        ];
        let mut out = String::new();
        for (name, value) in pairs {
            if let Some(value) = nonempty(value) {
                if !out.is_empty() {
                    out.push('&');
                }
                out.push_str(name);
                out.push('=');
                out.push_str(&crate::auth::percent_encode(value));
            }
        }
        out
    }
}

/// A page of honeypot sessions (interesting first, or newest first), filtered;
/// `next_cursor` continues the list.
async fn sessions(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<SessionParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (filter, cursor, limit) = params
        .filter(Timestamp::now())
        .map_err(ApiError::bad_request)?;
    let page = state
        .store
        .list_sessions(&filter, cursor.as_ref(), limit)
        .await?;
    let tables = state.enrich.tables();
    let sessions: Vec<Value> = page
        .sessions
        .iter()
        .map(|s| session_json(s, &tables))
        .collect();
    Ok(Json(json!({
        "sessions": sessions,
        "next_cursor": page.next.map(|c| c.to_string()),
    })))
}

/// A session with the enrichment of its source address.
fn session_json(s: &nectar_store::SessionSummary, tables: &nectar_enrich::Tables) -> Value {
    let mut v = session_json_plain(s);
    if let (Some(obj), Some(ip)) = (v.as_object_mut(), s.src_ip)
        && !tables.is_empty()
    {
        obj.insert(
            "enrich".into(),
            serde_json::to_value(tables.lookup(ip)).unwrap_or(Value::Null),
        );
    }
    v
}

pub(crate) fn session_json_plain(s: &nectar_store::SessionSummary) -> Value {
    json!({
        "session": s.session, "sensor": s.sensor, "protocol": s.protocol, "src_ip": s.src_ip,
        "first": s.first, "last": s.last, "events": s.events, "commands": s.commands,
        "failed_logins": s.failed_logins, "logins": s.logins, "downloads": s.downloads,
        "uploads": s.uploads, "username": s.username, "password": s.password,
        "interest": s.interest,
    })
}

/// Most events a session's answer carries (its transcript, oldest first).
const SESSION_EVENTS: usize = 1_000;

/// One honeypot session: its summary and its events, oldest first (the transcript:
/// logins, commands, downloads), at most 1,000; `truncated` says whether there were more.
async fn session_detail(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    if id.is_empty() || id.chars().count() > 128 {
        return Err(ApiError::bad_request("a session id is 1 to 128 characters"));
    }
    let filter = EventFilter {
        session: Some(id.clone()),
        ..EventFilter::default()
    };
    let summary =
        state.store.get_session(&id).await?.ok_or_else(|| {
            ApiError::not_found(format!("no session {:?}", crate::visible(&id, 64)))
        })?;
    let page = state
        .store
        .list_events(&filter, None, SESSION_EVENTS)
        .await?;
    let mut events = page.events;
    events.reverse();
    let tables = state.enrich.tables();
    let events: Vec<Value> = events
        .iter()
        .map(|e| crate::export::enriched(e, &tables))
        .collect();
    Ok(Json(json!({
        "session": session_json(&summary, &tables),
        "events": events,
        "truncated": page.next.is_some(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_name_the_bad_one() {
        let params = ListParams {
            kind: Some("ssh.*".into()),
            severity: Some("high,critical".into()),
            limit: Some("5".into()),
            ..ListParams::default()
        };
        let (filter, cursor, limit) = params.filter().unwrap();
        assert_eq!(filter.kind, Some(KindFilter::Prefix("ssh".into())));
        assert_eq!(filter.severities, vec![Severity::High, Severity::Critical]);
        assert!(cursor.is_none());
        assert_eq!(limit, 5);
        for (params, name) in [
            (
                ListParams {
                    since: Some("yesterday".into()),
                    ..Default::default()
                },
                "since",
            ),
            (
                ListParams {
                    kind: Some("foo.*".into()),
                    ..Default::default()
                },
                "kind",
            ),
            (
                ListParams {
                    src_ip: Some("1.2.3".into()),
                    ..Default::default()
                },
                "src_ip",
            ),
            (
                ListParams {
                    limit: Some("0".into()),
                    ..Default::default()
                },
                "limit",
            ),
            (
                ListParams {
                    cursor: Some("zzz".into()),
                    ..Default::default()
                },
                "cursor",
            ),
        ] {
            let err = params.filter().unwrap_err();
            assert!(err.contains(name), "{err}");
        }
    }
}
