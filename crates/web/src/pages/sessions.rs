//! Honeypot sessions: one row per SSH/Telnet session (events sharing `data.session`),
//! with source, credentials, duration and commands, linking to the session's events.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use nectar_store::{EventFilter, SessionSummary};

use super::timerange::{RangeParams, short};
use super::{Layout, render, storage_error};
use crate::auth::{CurrentUser, percent_encode};
use crate::text::{Shown, shown};
use crate::{AppState, visible};

pub struct SessionRow {
    pub link: String,
    pub session: Shown,
    pub sensor: String,
    pub source: String,
    pub started: String,
    pub duration: String,
    pub username: Option<Shown>,
    pub password: Option<Shown>,
    pub failed_logins: i64,
    pub commands: i64,
    pub events: i64,
}

impl SessionRow {
    fn from_summary(s: &SessionSummary) -> SessionRow {
        let seconds = (s.last.as_micros() - s.first.as_micros()) / 1_000_000;
        SessionRow {
            link: format!("session={}", percent_encode(&s.session)),
            session: shown(&s.session, 40),
            sensor: visible(&s.sensor, 40),
            source: s.src_ip.map(|ip| ip.to_string()).unwrap_or_default(),
            started: short(s.first),
            duration: if seconds >= 3_600 {
                format!("{}h {:02}m", seconds / 3_600, seconds % 3_600 / 60)
            } else {
                format!("{}m {:02}s", seconds / 60, seconds % 60)
            },
            username: s.username.as_deref().map(|u| shown(u, 40)),
            password: s.password.as_deref().map(|p| shown(p, 40)),
            failed_logins: s.failed_logins,
            commands: s.commands,
            events: s.events,
        }
    }
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    layout: Layout,
    label: String,
    rows: Vec<SessionRow>,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(params): Query<RangeParams>,
) -> Response {
    let range = params.resolve(nectar_event::Timestamp::now());
    let filter = EventFilter {
        since: range.since,
        until: range.until,
        ..EventFilter::default()
    };
    match state.store.list_sessions(&filter, 200).await {
        Ok(sessions) => render(&SessionsPage {
            layout: Layout::new(&session, "sessions"),
            label: range.label,
            rows: sessions.iter().map(SessionRow::from_summary).collect(),
        }),
        Err(err) => storage_error(err),
    }
}
