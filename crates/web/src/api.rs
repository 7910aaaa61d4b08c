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

use std::net::IpAddr;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use nectar_event::{Event, Severity, Timestamp};
use nectar_store::{Cursor, EventFilter, KindFilter, Role};
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
        return Err(ApiError::busy(
            "the server's event queue is full; retry shortly",
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
    /// Text the summary contains.
    pub q: Option<String>,
    /// Page size, 1 to 1,000 (default 100).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Honeypot session id (`data.session`).
    pub session: Option<String>,
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
            filter.src_ip = Some(ip.parse::<IpAddr>().map_err(|_| {
                format!(
                    "parameter `src_ip`: {:?} is not an IPv4 or IPv6 address",
                    crate::visible(ip, 64)
                )
            })?);
        }
        filter.sensor = nonempty(&self.sensor).map(str::to_owned);
        filter.text = nonempty(&self.q).map(str::to_owned);
        filter.session = nonempty(&self.session).map(|s| s.chars().take(128).collect());
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
) -> Result<Json<Event>, ApiError> {
    caller.require(Role::Viewer)?;
    let id = Uuid::try_parse(&id).map_err(|_| ApiError::bad_request("event id must be a UUID"))?;
    state
        .store
        .get_event(id)
        .await?
        .map(|mut event| {
            state.reveal(&mut event);
            Json(event)
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

/// Honeypot sessions of the range, newest first (at most 200).
async fn sessions(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(params): Query<crate::pages::RangeParams>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let range = params.resolve(Timestamp::now());
    let filter = EventFilter {
        since: range.since,
        until: range.until,
        ..EventFilter::default()
    };
    let sessions = state.store.list_sessions(&filter, 200).await?;
    Ok(Json(json!({
        "sessions": sessions.iter().map(session_json).collect::<Vec<_>>()
    })))
}

fn session_json(s: &nectar_store::SessionSummary) -> Value {
    json!({
        "session": s.session, "sensor": s.sensor, "src_ip": s.src_ip,
        "first": s.first, "last": s.last, "events": s.events, "commands": s.commands,
        "failed_logins": s.failed_logins, "username": s.username, "password": s.password,
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
    let summary = state
        .store
        .list_sessions(&filter, 1)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found(format!("no session {:?}", crate::visible(&id, 64))))?;
    let page = state
        .store
        .list_events(&filter, None, SESSION_EVENTS)
        .await?;
    let mut events = page.events;
    events.reverse();
    Ok(Json(json!({
        "session": session_json(&summary),
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
