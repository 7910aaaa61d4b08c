//! Remote sensors' routes (#20): enrolment secrets made by an admin, their
//! exchange for a sensor credential, the fleet's list and revocation, and what
//! each sensor's batches tell the server (sequence, spool, drops, clock).

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use nectar_event::{Event, Kind, Severity, Timestamp};
use nectar_store::{Arrival, BatchReport, EnrolRefusal, Role, SensorRecord, Store, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{ApiCaller, new_secret, sha256_hex, valid_name};
use crate::error::ApiError;
use crate::pages::ClientIp;

/// How long an enrolment secret lives unless told otherwise.
pub const DEFAULT_ENROLMENT_TTL: Duration = Duration::from_secs(24 * 3600);
/// The longest an enrolment secret may live.
pub const MAX_ENROLMENT_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// A sensor not heard from for this long shows as silent.
const SILENT_AFTER: Duration = Duration::from_secs(300);
/// The limiter's "user name" for enrolment attempts (counted per address).
const ENROL_KEY: &str = "(sensor enrolment)";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sensors", get(list).post(create_enrolment))
        .route("/api/v1/sensors/enrol", post(enrol))
        .route("/api/v1/sensors/{name}", get(one))
        .route("/api/v1/sensors/{name}/revoke", post(revoke))
}

/// A new enrolment secret for sensor `name`, valid for `ttl`: the secret (shown
/// once; only its hash is kept) and when it expires. Shared by the API and
/// `nectar sensor-token create`.
pub async fn create_sensor_enrolment(
    store: &Store,
    name: &str,
    ttl: Duration,
) -> Result<(String, Timestamp), StoreError> {
    let secret = format!("nse_{}", new_secret());
    let expires = Timestamp::from_micros(
        Timestamp::now()
            .as_micros()
            .saturating_add(ttl.min(MAX_ENROLMENT_TTL).as_micros() as i64),
    )
    .unwrap_or_else(Timestamp::now);
    store
        .create_sensor_enrolment(name, &sha256_hex(&secret), expires)
        .await?;
    Ok((secret, expires))
}

/// Body of `POST /api/v1/sensors`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    /// Hours the secret stays valid (default 24, at most 720).
    #[serde(default)]
    expires_hours: Option<u32>,
}

async fn create_enrolment(
    State(state): State<AppState>,
    caller: ApiCaller,
    Json(body): Json<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Admin)?;
    check_sensor_name(&body.name, &state.sensor)?;
    let hours = body.expires_hours.unwrap_or(24);
    if hours == 0 || hours > 720 {
        return Err(ApiError::bad_request(
            "expires_hours: give 1 to 720 (hours the enrolment secret stays valid)",
        ));
    }
    let ttl = Duration::from_secs(u64::from(hours) * 3600);
    let (secret, expires) = create_sensor_enrolment(&state.store, &body.name, ttl)
        .await
        .map_err(conflict)?;
    let command = state.tls.as_ref().map(|tls| {
        format!(
            "nectar sensor enrol {} {secret} --pin {} --data-dir /var/lib/nectar-sensor",
            tls.url, tls.pin
        )
    });
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "name": body.name,
            "secret": secret,
            "expires": expires,
            "pin": state.tls.as_ref().map(|t| t.pin.clone()),
            "command": command,
        })),
    ))
}

/// Whether `name` may name a sensor here, or the answer naming the fix.
pub fn check_sensor_name(name: &str, server_sensor: &str) -> Result<(), ApiError> {
    if !valid_name(name) {
        return Err(ApiError::bad_request(format!(
            "name {:?}: use 1 to 64 letters, digits, '-', '_', '.' or '@'",
            crate::visible(name, 80)
        )));
    }
    if name == server_sensor {
        return Err(ApiError::bad_request(format!(
            "name {name:?} is this server's own sensor_name: give the remote sensor another"
        )));
    }
    Ok(())
}

fn conflict(err: StoreError) -> ApiError {
    match err {
        StoreError::Exists { .. } | StoreError::NotFound { .. } => {
            ApiError::with_status(StatusCode::CONFLICT, err.to_string())
        }
        other => ApiError::from(other),
    }
}

/// Body of `POST /api/v1/sensors/enrol`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolBody {
    secret: String,
    #[serde(default)]
    version: Option<String>,
}

/// Exchanges a one-time secret for the sensor's credential. No token needed
/// (the secret is the proof); wrong secrets are throttled per address like
/// wrong passwords.
async fn enrol(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<EnrolBody>,
) -> Result<Json<Value>, ApiError> {
    if !state.limiter.allowed(ip, ENROL_KEY) {
        return Err(ApiError::with_status(
            StatusCode::TOO_MANY_REQUESTS,
            "too many wrong enrolment secrets from this address; wait and retry",
        ));
    }
    if body.secret.len() > 200 {
        return Err(ApiError::bad_request("secret: too long"));
    }
    let token = format!("nst_{}", new_secret());
    let redeemed = state
        .store
        .redeem_sensor_enrolment(&sha256_hex(&body.secret), &sha256_hex(&token))
        .await?;
    match redeemed {
        Ok(name) => {
            state.limiter.succeeded(ip, ENROL_KEY);
            tracing::info!(sensor = %name, %ip, version = ?body.version.as_deref().map(|v| crate::visible(v, 40)), "A sensor enrolled.");
            Ok(Json(json!({ "name": name, "token": token })))
        }
        Err(refusal) => {
            state.limiter.failed(ip, ENROL_KEY);
            tracing::warn!(%ip, reason = %refusal, "A sensor enrolment was refused.");
            let status = match refusal {
                EnrolRefusal::Unknown => StatusCode::UNAUTHORIZED,
                EnrolRefusal::Used | EnrolRefusal::Expired => StatusCode::GONE,
            };
            Err(ApiError::with_status(
                status,
                format!(
                    "{refusal}: make a new one on the server with `nectar sensor-token create NAME`"
                ),
            ))
        }
    }
}

async fn list(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let sensors = state.store.list_sensors().await?;
    Ok(Json(json!({
        "sensors": sensors.iter().map(sensor_json).collect::<Vec<_>>(),
    })))
}

async fn one(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    match state.store.sensor(&name).await? {
        Some(sensor) => Ok(Json(sensor_json(&sensor))),
        None => Err(ApiError::not_found(format!(
            "no sensor named {:?}",
            crate::visible(&name, 80)
        ))),
    }
}

async fn revoke(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin)?;
    state.store.revoke_sensor(&name).await.map_err(conflict)?;
    tracing::warn!(sensor = %name, by = %caller.0.name, "A sensor was revoked.");
    Ok(Json(json!({ "name": name, "revoked": true })))
}

/// A sensor's state in a word: `revoked`, `pending` (never enrolled),
/// `waiting` (enrolled, nothing received yet), `silent` (nothing for five
/// minutes), `ok`.
pub fn sensor_status(sensor: &SensorRecord) -> &'static str {
    if sensor.revoked.is_some() {
        return "revoked";
    }
    if sensor.enrolled.is_none() && sensor.last_seen.is_none() {
        return "pending";
    }
    let Some(seen) = sensor.last_seen else {
        return "waiting";
    };
    let idle = Timestamp::now().as_micros() - seen.as_micros();
    if idle > SILENT_AFTER.as_micros() as i64 {
        "silent"
    } else {
        "ok"
    }
}

fn sensor_json(s: &SensorRecord) -> Value {
    json!({
        "name": s.name,
        "status": sensor_status(s),
        "version": s.version,
        "address": s.address,
        "created": s.created,
        "enrolled": s.enrolled,
        "revoked": s.revoked,
        "last_seen": s.last_seen,
        "events": s.events,
        "events_per_second": (s.events_per_second * 100.0).round() / 100.0,
        "batches": s.batches,
        "last_batch_seq": s.last_batch_seq,
        "resent_batches": s.resent_batches,
        "missing_batches": s.missing_batches,
        "spool_events": s.spool_events,
        "oldest_unsent": s.oldest_unsent,
        "dropped": s.dropped,
        "dead_letters": s.dead_letters,
        "clock_offset_ms": s.clock_offset_ms,
        "clock_drifting": s.clock_drifting,
    })
}

/// The `X-Nectar-*` headers a sensor sends with a batch (absent ones are 0).
pub(crate) fn batch_report(
    headers: &HeaderMap,
    events: u64,
    received_us: i64,
    ip: String,
) -> BatchReport {
    let number = |name: &str| -> Option<i64> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    let count = |name: &str| number(name).unwrap_or(0).max(0) as u64;
    BatchReport {
        seq: count("x-nectar-batch-seq"),
        events,
        spool_events: count("x-nectar-spool-events"),
        oldest_unsent_us: number("x-nectar-spool-oldest").filter(|t| *t > 0),
        dropped: count("x-nectar-dropped"),
        dead_letters: count("x-nectar-dead-letters"),
        clock_offset_ms: number("x-nectar-sensor-time")
            .map(|sensor_ms| sensor_ms.saturating_sub(received_us / 1000)),
        version: headers
            .get("x-nectar-version")
            .and_then(|v| v.to_str().ok())
            .map(|v| crate::visible(v, 40)),
        address: ip,
        received_us,
    }
}

/// Records a committed batch from sensor `name`, and raises the events its
/// arrival calls for: batches that never arrived, a clock past the bound.
/// Failing to record is logged, never fails the batch (its events are
/// committed already).
pub(crate) async fn after_batch(state: &AppState, name: &str, report: BatchReport) {
    let bound = state.config.sensor_clock_bound.as_millis() as i64;
    let verdict = match state.store.record_sensor_batch(name, &report, bound).await {
        Ok(verdict) => verdict,
        Err(e) => {
            tracing::error!(sensor = %name, error = %e, "Could not record a sensor's batch.");
            return;
        }
    };
    let event = |severity: Severity, status: &str, summary: String| {
        Event::new(name, Kind::SensorStatus, severity, summary)
            .with("status", status)
            .with("reported_by", state.sensor.as_ref())
    };
    if let Arrival::AfterGap { from, to } = verdict.arrival {
        tracing::warn!(sensor = %name, from, to, "Batches of a sensor never arrived.");
        state.bus.try_send(
            event(
                Severity::High,
                "batch_gap",
                format!(
                    "Sensor {name}: batches {from} to {to} never arrived (dropped by a full spool, set aside as malformed, or lost)"
                ),
            )
            .with("from", from)
            .with("to", to),
        );
    }
    if let Some(offset) = verdict.drift_started {
        state.bus.try_send(
            event(
                Severity::Medium,
                "clock_drift",
                format!(
                    "Sensor {name}: its clock is {offset} ms off the server's (bound {bound} ms, server.sensor_clock_bound_ms); its event times may be wrong"
                ),
            )
            .with("clock_offset_ms", offset),
        );
    }
    if verdict.drift_ended {
        state.bus.try_send(event(
            Severity::Info,
            "clock_ok",
            format!("Sensor {name}: its clock is back within {bound} ms of the server's"),
        ));
    }
}
