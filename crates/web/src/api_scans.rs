//! The JSON API of scans: run one (`POST /api/v1/scans`, 202; targets outside
//! `[inventory] scan_scope` are refused with 422 before nmap could start),
//! follow it, list them with the profiles, and import nmap XML made
//! elsewhere. Viewers read; analysts scan and import.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use nectar_inventory::SubmitError;
use nectar_inventory::nmap::xml;
use nectar_store::{Role, ScanRecord, ScanStatus};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/scans", get(list).post(create))
        .route(
            "/api/v1/scans/import",
            // nmap XML of a large network is larger than an event batch.
            post(import).layer(axum::extract::DefaultBodyLimit::max(xml::MAX_XML_BYTES)),
        )
        .route("/api/v1/scans/{id}", get(show))
}

/// A scan asked for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanBody {
    /// A profile's name (`fast`, `version`, `aggressive`, `noping`, or one of
    /// `[inventory.profiles]`).
    pub profile: String,
    /// Addresses and prefixes, each inside `[inventory] scan_scope`.
    pub targets: Vec<String>,
}

/// Queues a scan for `user`, mapping refusals to API errors.
pub async fn submit(
    state: &AppState,
    profile: &str,
    targets: &[String],
    user: &str,
) -> Result<ScanRecord, ApiError> {
    let scans = state
        .scans
        .as_ref()
        .ok_or_else(|| ApiError::busy("scans run only in `nectar serve`"))?;
    scans
        .submit(profile, targets, user)
        .await
        .map_err(|e| match e {
            SubmitError::UnknownProfile(_) | SubmitError::Target(_) => {
                ApiError::unprocessable(e.to_string())
            }
            SubmitError::QueueFull | SubmitError::Stopped => ApiError::busy(e.to_string()),
            SubmitError::Store(e) => ApiError::from(e),
        })
}

async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    Json(body): Json<ScanBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Analyst)?;
    let scan = submit(&state, &body.profile, &body.targets, &caller.0.name).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::to_value(scan).unwrap_or_default()),
    ))
}

async fn list(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let scans = state.store.scans(100).await?;
    Ok(Json(json!({
        "scans": scans,
        "profiles": state.inventory.profiles,
        "scan_scope": state.inventory.scan_scope.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })))
}

async fn show(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let id = Uuid::try_parse(&id).map_err(|_| ApiError::bad_request("scan id must be a UUID"))?;
    let scan = state
        .store
        .scan(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no scan with id {id}")))?;
    let mut body = serde_json::to_value(&scan).unwrap_or_default();
    if let Value::Object(map) = &mut body {
        // The hosts and services found, at the top as the API promises.
        let result = scan.result.unwrap_or_else(|| json!({"hosts": []}));
        map.insert(
            "hosts".into(),
            result.get("hosts").cloned().unwrap_or_else(|| json!([])),
        );
    }
    Ok(Json(body))
}

/// Imports nmap XML (`nmap -oX`) made elsewhere; its hosts and services land in
/// the inventory like a scan's. The body is the XML itself.
pub async fn import_xml(state: &AppState, body: &[u8], user: &str) -> Result<ScanRecord, ApiError> {
    let found = xml::parse(body).map_err(|e| ApiError::unprocessable(format!("nmap XML: {e}")))?;
    // The lease lives until the import is recorded, below.
    let (scan, _held) = state.store.create_scan("import", &[], user).await?;
    let events = nectar_inventory::scanner::results_to_events(
        &state.store,
        &found,
        &state.sensor,
        scan.id,
        "import",
    )
    .await?;
    state.bus.submit(events).await?;
    let summary = nectar_inventory::scanner::summary_of(&found);
    state
        .store
        .set_scan_status(scan.id, ScanStatus::Done, None, Some(&summary))
        .await?;
    Ok(state.store.scan(scan.id).await?.unwrap_or(scan))
}

async fn import(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Analyst)?;
    let scan = import_xml(&state, &body, &caller.0.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(scan).unwrap_or_default()),
    ))
}
