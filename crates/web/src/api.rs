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
use http_body_util::BodyExt;
use nectar_event::{Event, IncomingEvent, Severity, Timestamp, field};
use nectar_store::{Cursor, EventFilter, KindFilter, Role, TokenOwner};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::ApiCaller;
use crate::error::ApiError;
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
            config.max_body_bytes.saturating_mul(DRAIN_FACTOR),
        ))
}

/// An oversize body is read and thrown away up to this many times the limit before
/// answering 413, so that a client still sending gets the answer instead of a
/// connection reset; beyond that the connection is cut.
const DRAIN_FACTOR: usize = 4;

/// Reads at most `limit` bytes of `body`; `Ok(None)` when it is larger (the excess,
/// up to `DRAIN_FACTOR` times the limit, is read and discarded).
async fn read_body(body: Body, limit: usize) -> Result<Option<Vec<u8>>, ApiError> {
    let mut body = body;
    let mut bytes = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            if e.to_string().contains("length limit") {
                ApiError::too_large("request body too large")
            } else {
                ApiError::bad_request(format!("could not read the request body: {e}"))
            }
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total <= limit {
            bytes.extend_from_slice(&data);
        } else {
            bytes = Vec::new();
            if total > limit.saturating_mul(DRAIN_FACTOR) {
                break;
            }
        }
    }
    Ok((total <= limit).then_some(bytes))
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
    Ok(Json(json!(state.flow_status())))
}

async fn post_events(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    if caller.0.sensor == *state.sensor {
        return Err(ApiError::forbidden(format!(
            "token {:?} posts as sensor {:?}, this server's own name (sensor_name): only \
             the server itself makes those events; create a token with another sensor \
             (`nectar token create --name N --sensor S`)",
            caller.0.name, caller.0.sensor
        )));
    }
    let too_large = || {
        ApiError::too_large(format!(
            "request body is larger than {} bytes (server.max_body_bytes); send smaller batches",
            state.config.max_body_bytes
        ))
    };
    let body = read_body(body, state.config.max_body_bytes)
        .await
        .map_err(|_| too_large())?
        .ok_or_else(too_large)?;
    let admission = Admission::new(&caller.0, &state.config);
    let events = parse_batch(&body, &admission)?;
    admission.check_sessions(&state.store, &events).await?;
    let outcome = state.bus.submit(events).await?;
    Ok(Json(
        json!({ "stored": outcome.stored, "duplicates": outcome.duplicates }),
    ))
}

/// What a token may post: the checks that keep posted events from forging
/// evidence, applied to each event as it is read.
struct Admission<'a> {
    /// The token posting.
    owner: &'a TokenOwner,
    config: &'a WebConfig,
    /// Times before this are refused (µs).
    oldest_us: i64,
    /// Times after this are refused (µs).
    newest_us: i64,
}

impl<'a> Admission<'a> {
    fn new(owner: &'a TokenOwner, config: &'a WebConfig) -> Admission<'a> {
        let now = Timestamp::now().as_micros();
        let micros = |d: std::time::Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        Admission {
            owner,
            config,
            oldest_us: now.saturating_sub(micros(config.max_event_age)),
            newest_us: now.saturating_add(micros(config.max_event_ahead)),
        }
    }

    /// The event `incoming` becomes, or why this token may not post it; `where_`
    /// names the event (`event 3`, `line 4`).
    fn admit(&self, mut incoming: IncomingEvent, where_: &str) -> Result<Event, ApiError> {
        let refuse = |field: &str, why: String| {
            ApiError::unprocessable(format!("{where_}: field `{field}`: {why}"))
        };
        if let Some(sensor) = incoming.sensor.as_deref()
            && sensor != self.owner.sensor
        {
            return Err(refuse(
                "sensor",
                format!(
                    "token {:?} posts as sensor {:?} only; leave `sensor` out, or post {:?}'s events with a token made for it",
                    self.owner.name,
                    self.owner.sensor,
                    crate::visible(sensor, 64)
                ),
            ));
        }
        if let Some(time) = incoming.time {
            let us = time.as_micros();
            if us < self.oldest_us {
                return Err(refuse(
                    "time",
                    format!(
                        "{time} is more than {} days in the past (server.max_event_age_days)",
                        self.config.max_event_age.as_secs() / 86_400
                    ),
                ));
            }
            if us > self.newest_us {
                return Err(refuse(
                    "time",
                    format!(
                        "{time} is more than {} hours ahead of the server's clock (server.max_event_ahead_hours)",
                        self.config.max_event_ahead.as_secs() / 3_600
                    ),
                ));
            }
        }
        let data = incoming.data.get_or_insert_default();
        if data.contains_key(field::RECORDING) {
            return Err(refuse(
                "data.recording",
                "only this server's honeypots name session recordings".into(),
            ));
        }
        // A resent event (read back from the API) carries its token already.
        if data
            .get(field::SUBMITTED_BY)
            .is_some_and(|t| t.as_str() != Some(&self.owner.name))
        {
            return Err(refuse(
                "data.submitted_by",
                "the server sets it to the posting token's name".into(),
            ));
        }
        if data.get(field::SESSION).is_some_and(|s| !s.is_string()) {
            return Err(refuse("data.session", "must be a string".into()));
        }
        data.insert(
            field::SUBMITTED_BY.into(),
            Value::String(self.owner.name.clone()),
        );
        incoming
            .into_event(&self.owner.sensor, &self.config.event_limits)
            .map_err(|e| ApiError::bad_request(format!("{where_}: {e}")))
    }

    /// Refuses the batch if an event names a honeypot session (`data.session`)
    /// that holds events of another sensor: posted events cannot be slipped into
    /// a real session's transcript.
    async fn check_sessions(
        &self,
        store: &nectar_store::Store,
        events: &[Event],
    ) -> Result<(), ApiError> {
        fn session(e: &Event) -> Option<&str> {
            e.data.get(field::SESSION).and_then(Value::as_str)
        }
        let mut named: Vec<&str> = events.iter().filter_map(session).collect();
        named.sort_unstable();
        named.dedup();
        let Some((taken, sensor)) = store
            .session_of_other_sensor(&named, &self.owner.sensor)
            .await?
        else {
            return Ok(());
        };
        let index = events
            .iter()
            .position(|e| session(e) == Some(taken.as_str()))
            .unwrap_or_default();
        Err(ApiError::unprocessable(format!(
            "event {index}: field `data.session`: session {:?} belongs to sensor {:?}; posted events cannot join another sensor's session",
            crate::visible(&taken, 64),
            crate::visible(&sensor, 64)
        )))
    }
}

/// Reads a JSON array or NDJSON (one event per line) body into checked events.
fn parse_batch(body: &[u8], admission: &Admission<'_>) -> Result<Vec<Event>, ApiError> {
    let config = admission.config;
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::bad_request(format!("body is not UTF-8: {e}")))?;
    let trimmed = text.trim_start();
    let too_many = || {
        ApiError::too_large(format!(
            "batch has more than {} events (server.max_batch_events); split it",
            config.max_batch_events
        ))
    };
    let mut events = Vec::new();
    if trimmed.starts_with('[') {
        let incoming: Vec<Value> = serde_json::from_str(trimmed).map_err(|e| {
            ApiError::bad_request(format!("body is not a JSON array of events: {e}"))
        })?;
        if incoming.len() > config.max_batch_events {
            return Err(too_many());
        }
        for (index, value) in incoming.into_iter().enumerate() {
            events.push(check_event(value, &format!("event {index}"), admission)?);
        }
    } else {
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            if events.len() == config.max_batch_events {
                return Err(too_many());
            }
            let where_ = format!("line {}", number + 1);
            let value: Value = serde_json::from_str(line)
                .map_err(|e| ApiError::bad_request(format!("{where_}: not JSON: {e}")))?;
            events.push(check_event(value, &where_, admission)?);
        }
    }
    if events.is_empty() {
        return Err(ApiError::bad_request(
            "no events in the body: send a JSON array of events or one JSON event per line",
        ));
    }
    Ok(events)
}

fn check_event(value: Value, where_: &str, admission: &Admission<'_>) -> Result<Event, ApiError> {
    let incoming: IncomingEvent = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            String::new()
        } else {
            format!(" field `{path}`")
        };
        ApiError::bad_request(format!("{where_}{field}: {}", e.into_inner()))
    })?;
    admission.admit(incoming, where_)
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

async fn list_events(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<EventList>, ApiError> {
    caller.require(Role::Viewer)?;
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (filter, cursor, limit) = params.filter().map_err(ApiError::bad_request)?;
    let mut page = state.store.list_events(&filter, cursor, limit).await?;
    for event in &mut page.events {
        state.reveal(event);
    }
    Ok(Json(EventList {
        events: page.events,
        next_cursor: page.next.map(|c| c.to_string()),
    }))
}

/// Answer of `GET /api/v1/events`.
#[derive(Serialize)]
struct EventList {
    events: Vec<Event>,
    next_cursor: Option<String>,
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
    fn parses_array_and_ndjson_and_names_errors() {
        let config = WebConfig::default();
        let array = br#"[{"kind":"http.request","summary":"GET /"},{"kind":"net.alarm","summary":"x","severity":"high"}]"#;
        assert_eq!(parse(array, &config).unwrap().len(), 2);
        let ndjson = b"{\"kind\":\"http.request\",\"summary\":\"a\"}\n\n{\"kind\":\"http.request\",\"summary\":\"b\"}\n";
        assert_eq!(parse(ndjson, &config).unwrap().len(), 2);

        let bad = br#"[{"kind":"http.request","summary":"ok"},{"kind":"nope","summary":"x"}]"#;
        let err = parse(bad, &config).unwrap_err();
        assert!(err_message(err).contains("event 1 field `kind`"));
        let bad = b"{\"kind\":\"http.request\",\"summary\":\"a\"}\n{\"kind\":\"http.request\"}\n";
        let message = err_message(parse(bad, &config).unwrap_err());
        assert!(
            message.contains("line 2") && message.contains("summary"),
            "{message}"
        );
        let bad = b"{\"kind\":\"http.request\",\"summary\":\"a\",\"src_ip\":\"999.1.1.1\"}";
        assert!(err_message(parse(bad, &config).unwrap_err()).contains("src_ip"));
        assert!(parse(b"  ", &config).is_err());
    }

    fn err_message(err: ApiError) -> String {
        format!("{err:?}")
    }

    fn owner() -> TokenOwner {
        TokenOwner {
            name: "tok".into(),
            role: Role::Analyst,
            sensor: "s".into(),
        }
    }

    fn parse(body: &[u8], config: &WebConfig) -> Result<Vec<Event>, ApiError> {
        parse_batch(body, &Admission::new(&owner(), config))
    }

    #[test]
    fn a_token_cannot_forge_evidence() {
        let config = WebConfig::default();
        let events = parse(br#"[{"kind":"http.request","summary":"a"}]"#, &config).unwrap();
        assert_eq!(events[0].sensor, "s");
        assert_eq!(events[0].data[field::SUBMITTED_BY], "tok");
        let now = Timestamp::now().as_micros();
        let at = |us: i64| Timestamp::from_micros(us).unwrap().to_string();
        for (body, field) in [
            (
                r#"{"kind":"http.request","summary":"a","sensor":"nectar"}"#.to_owned(),
                "`sensor`",
            ),
            (
                r#"{"kind":"http.request","summary":"a","data":{"recording":"recordings/x.cast"}}"#
                    .to_owned(),
                "`data.recording`",
            ),
            (
                r#"{"kind":"http.request","summary":"a","data":{"submitted_by":"admin"}}"#
                    .to_owned(),
                "`data.submitted_by`",
            ),
            (
                r#"{"kind":"http.request","summary":"a","data":{"session":7}}"#.to_owned(),
                "`data.session`",
            ),
            (
                format!(
                    r#"{{"kind":"http.request","summary":"a","time":"{}"}}"#,
                    at(now - 31 * 86_400_000_000)
                ),
                "`time`",
            ),
            (
                format!(
                    r#"{{"kind":"http.request","summary":"a","time":"{}"}}"#,
                    at(now + 2 * 86_400_000_000)
                ),
                "`time`",
            ),
        ] {
            let err = parse(body.as_bytes(), &config).unwrap_err();
            assert_eq!(
                err.status(),
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "{body}"
            );
            assert!(err_message(err).contains(field), "{body}");
        }
        let same = parse(
            br#"{"kind":"http.request","summary":"a","sensor":"s"}"#,
            &config,
        )
        .unwrap();
        assert_eq!(same[0].sensor, "s");
    }

    #[test]
    fn batch_size_is_bounded() {
        let config = WebConfig {
            max_batch_events: 2,
            ..WebConfig::default()
        };
        let line = "{\"kind\":\"http.request\",\"summary\":\"a\"}\n";
        assert!(parse(line.repeat(3).as_bytes(), &config).is_err());
        assert!(parse(line.repeat(2).as_bytes(), &config).is_ok());
    }

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
