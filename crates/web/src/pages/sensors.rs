//! The Sensors page: every remote sensor with what its last batch told of it
//! (status, version, address, last contact, events per second, spool depth,
//! oldest unsent event, drops, clock offset), and for admins the forms to
//! make an enrolment line (shown once) and to revoke a sensor.

use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nectar_store::{Role, SensorRecord};
use serde::Deserialize;

use super::timerange::short;
use super::{Layout, render, see_other, storage_error};
use crate::auth::CurrentUser;
use crate::{AppState, visible};

pub struct SensorRow {
    pub name: String,
    pub status: &'static str,
    pub version: String,
    pub address: String,
    pub last_seen: String,
    pub events_per_second: String,
    pub events: u64,
    pub spool_events: u64,
    pub oldest_unsent: String,
    pub dropped: u64,
    pub dead_letters: u64,
    pub missing_batches: u64,
    pub clock: String,
    pub clock_drifting: bool,
    pub revocable: bool,
}

fn row(s: &SensorRecord) -> SensorRow {
    SensorRow {
        name: visible(&s.name, 64),
        status: crate::api_sensors::sensor_status(s),
        version: visible(s.version.as_deref().unwrap_or("-"), 40),
        address: visible(s.address.as_deref().unwrap_or("-"), 64),
        last_seen: s.last_seen.map_or_else(|| "never".to_owned(), short),
        events_per_second: format!("{:.1}", s.events_per_second),
        events: s.events,
        spool_events: s.spool_events,
        oldest_unsent: s.oldest_unsent.map_or_else(|| "-".to_owned(), short),
        dropped: s.dropped,
        dead_letters: s.dead_letters,
        missing_batches: s.missing_batches,
        clock: s
            .clock_offset_ms
            .map_or_else(|| "-".to_owned(), |ms| format!("{ms:+} ms")),
        clock_drifting: s.clock_drifting,
        revocable: s.revoked.is_none(),
    }
}

#[derive(Template)]
#[template(path = "sensors.html")]
struct SensorsPage {
    layout: Layout,
    rows: Vec<SensorRow>,
    is_admin: bool,
    /// The enrolment line just made (shown once).
    made: Option<String>,
    error: Option<String>,
    tls: bool,
}

async fn page(
    state: &AppState,
    layout: Layout,
    made: Option<String>,
    error: Option<String>,
) -> Response {
    let sensors = match state.store.list_sensors().await {
        Ok(s) => s,
        Err(e) => return storage_error(e),
    };
    let failed = error.is_some();
    let mut response = render(&SensorsPage {
        rows: sensors.iter().map(row).collect(),
        is_admin: layout.role >= Role::Admin,
        made,
        error,
        tls: state.tls.is_some(),
        layout,
    });
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

pub async fn list(State(state): State<AppState>, CurrentUser(session): CurrentUser) -> Response {
    page(&state, Layout::new(&session, "sensors"), None, None).await
}

/// The enrolment form.
#[derive(Deserialize)]
pub struct EnrolForm {
    pub csrf: String,
    pub name: String,
    pub expires_hours: Option<u32>,
}

pub async fn enrol(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<EnrolForm>,
) -> Response {
    let layout = Layout::new(&session, "sensors");
    if let Err(r) = layout.require(Role::Admin, &form.csrf) {
        return r;
    }
    let name = form.name.trim().to_owned();
    if let Err(e) = crate::api_sensors::check_sensor_name(&name, &state.sensor) {
        return page(&state, layout, None, Some(e.message())).await;
    }
    let hours = form.expires_hours.unwrap_or(24).clamp(1, 720);
    let made = crate::api_sensors::create_sensor_enrolment(
        &state.store,
        &name,
        Duration::from_secs(u64::from(hours) * 3600),
    )
    .await;
    match made {
        Ok((secret, expires)) => {
            let line = match &state.tls {
                Some(tls) => format!(
                    "nectar sensor enrol {} {secret} --pin {} --data-dir /var/lib/nectar-sensor",
                    tls.url, tls.pin
                ),
                None => secret,
            };
            tracing::info!(sensor = %name, by = %session.user.name, until = %expires, "An enrolment secret was made.");
            page(&state, layout, Some(line), None).await
        }
        Err(e @ nectar_store::StoreError::Exists { .. }) => {
            page(&state, layout, None, Some(e.to_string())).await
        }
        Err(e) => storage_error(e),
    }
}

/// The revoke button.
#[derive(Deserialize)]
pub struct RevokeForm {
    pub csrf: String,
}

pub async fn revoke(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(name): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    let layout = Layout::new(&session, "sensors");
    if let Err(r) = layout.require(Role::Admin, &form.csrf) {
        return r;
    }
    match state.store.revoke_sensor(&name).await {
        Ok(()) => {
            tracing::warn!(sensor = %name, by = %session.user.name, "A sensor was revoked.");
            see_other("/sensors")
        }
        Err(e @ nectar_store::StoreError::NotFound { .. }) => {
            page(&state, layout, None, Some(e.to_string())).await
        }
        Err(e) => storage_error(e),
    }
}
