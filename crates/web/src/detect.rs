//! The live network detector's API: `GET /api/v1/detect/stats` (current
//! value, thresholds, state and recent history of every statistic; any
//! role) and `POST /api/v1/detect/start` / `stop` (analyst or admin), as
//! NetSpot's `/api/stats` and `/api/run`, with authentication.
//!
//! The web crate knows the detector only through [`DetectControl`] and its
//! typed [`DetectorStatus`], both from the pure `nectar-detect` crate, so it
//! does not depend on the runtime that captures (`nectar-pipeline`); the
//! binary hands the detector over with [`crate::AppState::with_detector`].

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use nectar_store::Role;
use serde_json::Value;

use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::ApiError;

pub use nectar_detect::{DetectControl, DetectorStatus};

/// The handle kept in [`AppState`].
pub type DetectHandle = Arc<dyn DetectControl>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/detect/stats", get(stats))
        .route("/api/v1/detect/start", post(start))
        .route("/api/v1/detect/stop", post(stop))
}

fn detector(state: &AppState) -> Result<DetectHandle, ApiError> {
    state.detector.clone().ok_or_else(|| {
        ApiError::not_found(
            "live detection is not configured: set [capture] interface or file in the configuration",
        )
    })
}

async fn stats(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<DetectorStatus>, ApiError> {
    caller.require(Role::Viewer)?;
    let d = detector(&state)?;
    // Status copies a bounded history; keep it off the async workers.
    let status = tokio::task::spawn_blocking(move || d.status())
        .await
        .map_err(|e| {
            ApiError::with_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        })?;
    Ok(Json(status))
}

async fn control(state: AppState, caller: ApiCaller, run: bool) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let d = detector(&state)?;
    let result = tokio::task::spawn_blocking(move || {
        let r = if run { d.start() } else { d.stop() };
        r.map(|()| d.status())
    })
    .await
    .map_err(|e| {
        ApiError::with_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    })?;
    match result {
        Ok(status) => Ok(Json(serde_json::json!({
            "running": status.running,
            "source": status.source,
        }))),
        Err(message) => Err(ApiError::with_status(
            axum::http::StatusCode::CONFLICT,
            message,
        )),
    }
}

async fn start(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    control(state, caller, true).await
}

async fn stop(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    control(state, caller, false).await
}
