//! The Scans page: the scans run and imported, a form to run one (profile,
//! targets; analysts, with the CSRF token; refused targets are named), and a
//! scan with the hosts and services it found.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nectar_store::Role;
use serde::Deserialize;
use uuid::Uuid;

use super::timerange::short;
use super::{Layout, error_page, render, see_other, storage_error};
use crate::auth::CurrentUser;
use crate::{AppState, visible};

pub struct ScanRow {
    pub id: String,
    pub profile: String,
    pub targets: String,
    pub status: &'static str,
    pub requested_by: String,
    pub created: String,
    pub error: String,
    pub hosts: usize,
}

#[derive(Template)]
#[template(path = "scans.html")]
struct ScansPage {
    layout: Layout,
    rows: Vec<ScanRow>,
    profiles: Vec<(String, String)>,
    scope: String,
    can_scan: bool,
    error: Option<String>,
}

fn row(s: &nectar_store::ScanRecord) -> ScanRow {
    ScanRow {
        id: s.id.to_string(),
        profile: visible(&s.profile, 64),
        targets: visible(&s.targets.join(" "), 200),
        status: s.status.as_str(),
        requested_by: visible(&s.requested_by, 64),
        created: short(s.created),
        error: visible(s.error.as_deref().unwrap_or(""), 300),
        hosts: s
            .result
            .as_ref()
            .and_then(|r| r["hosts"].as_array().map(Vec::len))
            .unwrap_or(0),
    }
}

async fn page(state: &AppState, layout: Layout, error: Option<String>) -> Response {
    let scans = match state.store.scans(100).await {
        Ok(s) => s,
        Err(e) => return storage_error(e),
    };
    let can_scan = layout.role >= Role::Analyst && state.scans.is_some();
    let mut response = render(&ScansPage {
        rows: scans.iter().map(row).collect(),
        profiles: state
            .inventory
            .profiles
            .iter()
            .map(|(k, v)| (k.clone(), visible(&v.join(" "), 200)))
            .collect(),
        scope: state
            .inventory
            .scan_scope
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        can_scan,
        error: error.clone(),
        layout,
    });
    if error.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

pub async fn list(State(state): State<AppState>, CurrentUser(session): CurrentUser) -> Response {
    page(&state, Layout::new(&session, "hosts"), None).await
}

/// The run form.
#[derive(Deserialize)]
pub struct RunForm {
    pub csrf: String,
    pub profile: String,
    pub targets: String,
}

pub async fn run(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<RunForm>,
) -> Response {
    let layout = Layout::new(&session, "hosts");
    if let Err(r) = layout.require(Role::Analyst, &form.csrf) {
        return r;
    }
    let targets: Vec<String> = form
        .targets
        .split([',', ' ', '\n', '\r', '\t'])
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    match crate::api_scans::submit(&state, &form.profile, &targets, &session.user.name).await {
        Ok(scan) => see_other(&format!("/scans/{}", scan.id)),
        Err(e) => page(&state, layout, Some(e.message())).await,
    }
}

/// A service a scan found: port, proto, service, version.
type FoundService = (u64, String, String, String);
/// A host a scan found: address, MAC, services.
type FoundHost = (String, String, Vec<FoundService>);

#[derive(Template)]
#[template(path = "scan.html")]
struct ScanPage {
    layout: Layout,
    scan: ScanRow,
    started: String,
    finished: String,
    found: Vec<FoundHost>,
}

pub async fn detail(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = Uuid::try_parse(&id) else {
        return error_page(StatusCode::BAD_REQUEST, "Not a scan id.");
    };
    let scan = match state.store.scan(id).await {
        Ok(Some(s)) => s,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "No such scan."),
        Err(e) => return storage_error(e),
    };
    let s = |v: &serde_json::Value, max| visible(v.as_str().unwrap_or(""), max);
    let found = scan
        .result
        .as_ref()
        .and_then(|r| r["hosts"].as_array())
        .map(|hosts| {
            hosts
                .iter()
                .take(5000)
                .map(|h| {
                    let services = h["services"]
                        .as_array()
                        .map(|list| {
                            list.iter()
                                .map(|p| {
                                    (
                                        p["port"].as_u64().unwrap_or(0),
                                        s(&p["proto"], 8),
                                        s(&p["service"], 40),
                                        s(&p["version"], 120),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (s(&h["address"], 64), s(&h["mac"], 32), services)
                })
                .collect()
        })
        .unwrap_or_default();
    render(&ScanPage {
        layout: Layout::new(&session, "hosts"),
        started: scan.started.map(short).unwrap_or_default(),
        finished: scan.finished.map(short).unwrap_or_default(),
        scan: row(&scan),
        found,
    })
}
