//! The JSON API of per-device behaviour (#21): the devices the live detector
//! learnt (vendor, address, learning or monitoring, last anomaly) and one
//! device with its feature history and learnt ranges. Viewers read.
//!
//! What is shown is what the detector last saved (every
//! `capture.save_seconds` and at stop), so it survives restarts.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use nectar_store::{DeviceModelRow, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::ApiError;

/// Most devices per page.
pub const MAX_DEVICE_PAGE: u32 = 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/devices", get(list))
        .route("/api/v1/devices/{mac}", get(show))
}

/// The device list's page, as query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct DeviceQuery {
    /// Page size (1 to 1000, default 100).
    pub limit: Option<String>,
    /// The MAC the page continues after (`next_cursor`).
    pub cursor: Option<String>,
}

/// A MAC as the store keys it (`aa:bb:cc:dd:ee:ff`, lower case), from any
/// case and `-` or `:` separators; errors name the field.
pub fn parse_mac(field: &str, text: &str) -> Result<String, ApiError> {
    let t = text.trim();
    let parts: Vec<&str> = t.split([':', '-']).collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()));
    if !ok {
        return Err(ApiError::bad_request(format!(
            "{field}: expected a MAC address like 00:0e:58:00:00:0b"
        )));
    }
    Ok(parts.join(":").to_ascii_lowercase())
}

/// A device as the API shows it (no history).
pub fn device_json(d: &DeviceModelRow) -> Value {
    json!({
        "mac": d.mac,
        "vendor": d.vendor,
        "addresses": d.address.iter().collect::<Vec<_>>(),
        "state": d.phase,
        "learnt_windows": d.learnt,
        "last_anomaly": d.last_anomaly.map(|t| t.to_string()),
        "sensor": d.sensor,
        "updated": d.updated.to_string(),
    })
}

/// The saved history document (see nectar-devices), or an empty one.
pub fn history_json(d: &DeviceModelRow) -> Value {
    serde_json::from_str::<Value>(&d.history)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({"features": [], "ranges": null, "windows": []}))
}

async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<DeviceQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let limit = match query
        .limit
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => 100,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=MAX_DEVICE_PAGE).contains(l))
            .ok_or_else(|| {
                ApiError::bad_request(format!("limit: expected 1 to {MAX_DEVICE_PAGE}"))
            })?,
    };
    let cursor = match query
        .cursor
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(c) => Some(parse_mac("cursor", c)?),
    };
    // One more than asked: whether there is a next page.
    let mut devices = state
        .store
        .list_devices(cursor.as_deref(), limit + 1)
        .await?;
    let next = (devices.len() > limit as usize).then(|| {
        devices.truncate(limit as usize);
        devices.last().map(|d| d.mac.clone())
    });
    Ok(Json(json!({
        "devices": devices.iter().map(device_json).collect::<Vec<_>>(),
        "next_cursor": next.flatten(),
    })))
}

async fn show(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(mac): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let mac = parse_mac("mac", &mac)?;
    let d = state
        .store
        .device(&mac)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no device {mac}")))?;
    let mut body = device_json(&d);
    body["history"] = history_json(&d);
    Ok(Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_normalised_and_bad_ones_name_the_field() {
        assert_eq!(
            parse_mac("mac", "00-0E-58-00-00-0B").unwrap(),
            "00:0e:58:00:00:0b"
        );
        assert!(parse_mac("mac", "00:0e:58:00:00").is_err());
        assert!(parse_mac("mac", "00:0e:58:00:00:zz").is_err());
        assert!(parse_mac("mac", "<script>").is_err());
    }
}
