//! The Rules page (every rule running, its hits, what did not load) and the
//! Silences page (make one, see them with their hits, end one).

use askama::Template;
use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nectar_event::Timestamp;
use nectar_store::{FieldMatcher, Role};
use std::sync::atomic::Ordering;
use uuid::Uuid;

use super::timerange::short;
use super::{CsrfForm, Layout, error_page, render, see_other, storage_error};
use crate::api_alerts::SilenceBody;
use crate::auth::CurrentUser;
use crate::{AppState, visible};

pub struct RuleRow {
    pub id: String,
    pub title: String,
    pub level: &'static str,
    pub kind: String,
    pub techniques: String,
    pub source: String,
    pub hits: u64,
    pub last_hit: String,
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    layout: Layout,
    enabled: bool,
    rows: Vec<RuleRow>,
    errors: Vec<String>,
    stage: Vec<(&'static str, u64)>,
}

pub async fn rules(State(state): State<AppState>, CurrentUser(session): CurrentUser) -> Response {
    let layout = Layout::new(&session, "alerts");
    let hits = match state.store.rule_hits().await {
        Ok(h) => h,
        Err(e) => return storage_error(e),
    };
    let Some(catalog) = &state.rules else {
        return render(&RulesPage {
            layout,
            enabled: false,
            rows: Vec::new(),
            errors: Vec::new(),
            stage: Vec::new(),
        });
    };
    let rows = catalog
        .rules
        .iter()
        .map(|info| {
            let hit = hits.iter().find(|(id, _, _)| *id == info.rule.id);
            RuleRow {
                id: visible(&info.rule.id, 80),
                title: visible(&info.rule.title, 120),
                level: info.rule.level.as_str(),
                kind: if info.generates {
                    visible(&info.kind, 24)
                } else {
                    "detection (correlated only)".into()
                },
                techniques: visible(&info.rule.techniques.join(", "), 80),
                source: match info.line {
                    Some(line) => visible(&format!("{}:{line}", info.file), 120),
                    None => visible(&info.file, 120),
                },
                hits: hit.map_or(0, |h| h.1),
                last_hit: hit.map(|h| short(h.2)).unwrap_or_default(),
            }
        })
        .collect();
    let s = &catalog.stats;
    render(&RulesPage {
        layout,
        enabled: true,
        rows,
        errors: catalog
            .errors
            .iter()
            .map(|e| visible(&e.to_string(), 500))
            .collect(),
        stage: vec![
            ("events evaluated", s.events.load(Ordering::Relaxed)),
            ("matches", s.matches.load(Ordering::Relaxed)),
            ("alerts raised", s.raised.load(Ordering::Relaxed)),
            (
                "matches folded into open alerts",
                s.folded.load(Ordering::Relaxed),
            ),
            ("matches silenced", s.silenced.load(Ordering::Relaxed)),
            (
                "correlation windows held",
                s.windows.load(Ordering::Relaxed),
            ),
        ],
    })
}

pub struct SilenceRow {
    pub id: String,
    pub rule: String,
    pub cidr: String,
    pub matchers: String,
    pub reason: String,
    pub created_by: String,
    /// Who changed it last and when, if anyone did.
    pub updated: Option<String>,
    pub created: String,
    pub expires: String,
    pub active: bool,
    pub hits: u64,
}

#[derive(Template)]
#[template(path = "silences.html")]
struct SilencesPage {
    layout: Layout,
    rows: Vec<SilenceRow>,
    can_change: bool,
}

pub async fn silences(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> Response {
    let layout = Layout::new(&session, "alerts");
    let list = match state.store.silences(None, 500).await {
        Ok(l) => l,
        Err(e) => return storage_error(e),
    };
    let now = Timestamp::now();
    let can_change = layout.role >= Role::Analyst;
    render(&SilencesPage {
        layout,
        rows: list
            .iter()
            .map(|s| SilenceRow {
                id: s.id.to_string(),
                rule: visible(s.rule_id.as_deref().unwrap_or("any"), 80),
                cidr: visible(s.cidr.as_deref().unwrap_or("any"), 64),
                matchers: visible(
                    &s.matchers
                        .iter()
                        .map(|m| format!("{}={}", m.field, m.value))
                        .collect::<Vec<_>>()
                        .join(", "),
                    200,
                ),
                reason: visible(&s.reason, 200),
                created_by: visible(&s.created_by, 64),
                updated: s.updated_by.as_ref().map(|by| {
                    let when = s.updated.map(short).unwrap_or_default();
                    format!("changed by {} {when}", visible(by, 64))
                }),
                created: short(s.created),
                expires: short(s.expires),
                active: s.expires > now,
                hits: s.hits,
            })
            .collect(),
        can_change,
    })
}

pub async fn create_silence(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    body: Bytes,
) -> Response {
    let layout = Layout::new(&session, "alerts");
    let mut csrf = String::new();
    let mut form = SilenceBody {
        rule: None,
        cidr: None,
        matchers: Vec::new(),
        reason: String::new(),
        expires: None,
        hours: None,
    };
    for (k, v) in url::form_urlencoded::parse(&body) {
        let v = v.into_owned();
        match k.as_ref() {
            "csrf" => csrf = v,
            "rule" => form.rule = Some(v),
            "cidr" => form.cidr = Some(v),
            "reason" => form.reason = v,
            "hours" => form.hours = v.trim().parse().ok(),
            "field" if !v.trim().is_empty() => form.matchers.push(FieldMatcher {
                field: v.trim().to_owned(),
                value: String::new(),
            }),
            "value" => {
                if let Some(m) = form.matchers.last_mut().filter(|m| m.value.is_empty()) {
                    m.value = v;
                }
            }
            _ => {}
        }
    }
    if let Err(refused) = layout.require(Role::Analyst, &csrf) {
        return refused;
    }
    let silence = match form.silence() {
        Ok(s) => s,
        Err(e) => return error_page(StatusCode::UNPROCESSABLE_ENTITY, &e.message()),
    };
    match state
        .store
        .create_silence(&silence, &session.user.name)
        .await
    {
        Ok(_) => see_other("/silences"),
        Err(e) => storage_error(e),
    }
}

/// Fields default so that a form without its token meets the CSRF refusal
/// (403), not the extractor's.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct SilenceChangeForm {
    csrf: String,
    reason: String,
    hours: String,
}

/// A new reason and expiry for a silence (what it holds back stays; the API
/// can replace that too).
pub async fn update_silence(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<SilenceChangeForm>,
) -> Response {
    let layout = Layout::new(&session, "alerts");
    if let Err(refused) = layout.require(Role::Analyst, &form.csrf) {
        return refused;
    }
    let Ok(id) = Uuid::try_parse(&id) else {
        return error_page(StatusCode::NOT_FOUND, "No such silence.");
    };
    let current = match state.store.silence(id).await {
        Ok(Some(s)) => s,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "No such silence."),
        Err(e) => return storage_error(e),
    };
    let Ok(hours) = form.hours.trim().parse::<u32>() else {
        return error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "hours: a whole number of hours from now (1 to 8784)",
        );
    };
    let body = SilenceBody {
        rule: current.rule_id,
        cidr: current.cidr,
        matchers: current.matchers,
        reason: form.reason,
        expires: None,
        hours: Some(hours),
    };
    let silence = match body.silence() {
        Ok(s) => s,
        Err(e) => return error_page(StatusCode::UNPROCESSABLE_ENTITY, &e.message()),
    };
    match state
        .store
        .update_silence(id, &silence, &session.user.name)
        .await
    {
        Ok(Some(_)) => see_other("/silences"),
        Ok(None) => error_page(StatusCode::NOT_FOUND, "No such silence."),
        Err(e) => storage_error(e),
    }
}

pub async fn expire_silence(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let layout = Layout::new(&session, "alerts");
    if let Err(refused) = layout.require(Role::Analyst, &form.csrf) {
        return refused;
    }
    let Ok(id) = Uuid::try_parse(&id) else {
        return error_page(StatusCode::NOT_FOUND, "No such silence.");
    };
    match state.store.expire_silence(id).await {
        Ok(true) => see_other("/silences"),
        Ok(false) => error_page(StatusCode::NOT_FOUND, "No such silence."),
        Err(e) => storage_error(e),
    }
}
