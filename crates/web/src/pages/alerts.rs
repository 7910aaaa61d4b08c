//! The alert pages: the queue (filters, saved views "new", "mine",
//! "unassigned", bulk actions on the selected or on all filtered alerts), one
//! alert (its events, observables, techniques, related alerts from the same
//! source, history, and the forms to acknowledge, assign and close it).
//! Everything is plain HTML forms; every form carries the session's CSRF token.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use nectar_event::{Alert, AlertResolution, AlertStatus};
use nectar_store::{AlertFilter, AlertUpdate, Role};
use uuid::Uuid;

use super::timerange::short;
use super::{Layout, error_page, render, see_other, storage_error};
use crate::api_alerts::AlertQuery;
use crate::auth::{CurrentUser, percent_encode};
use crate::text::{Shown, shown};
use crate::{AppState, visible};

/// One row of the queue.
pub struct AlertRow {
    pub id: String,
    pub title: Shown,
    pub severity: &'static str,
    pub status: &'static str,
    pub assignee: String,
    pub count: u64,
    pub silenced: u64,
    pub group: String,
    pub last_seen: String,
    pub first_seen: String,
    pub rule: String,
    pub techniques: String,
}

impl AlertRow {
    pub fn of(a: &Alert) -> AlertRow {
        let group: Vec<String> = a.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
        AlertRow {
            id: a.id.to_string(),
            title: shown(&a.title, 90),
            severity: a.severity.as_str(),
            status: a.status.as_str(),
            assignee: a
                .assignee
                .as_deref()
                .map(|u| visible(u, 40))
                .unwrap_or_default(),
            count: a.count,
            silenced: a.silenced,
            group: visible(&group.join(", "), 80),
            last_seen: short(a.last_seen),
            first_seen: short(a.first_seen),
            rule: visible(&a.rule.id, 60),
            techniques: visible(&a.rule.techniques.join(", "), 80),
        }
    }
}

/// The queue's filter form, as typed (shown back in the inputs).
#[derive(Default)]
pub struct FilterForm {
    pub status: String,
    pub severity: String,
    pub rule: String,
    pub src_ip: String,
    pub assignee: String,
    pub since: String,
    pub until: String,
    pub view: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    layout: Layout,
    form: FilterForm,
    rows: Vec<AlertRow>,
    total: String,
    next: Option<String>,
    /// The current filters as a query string (for "next page" and the bulk
    /// form's return address).
    query: String,
    can_change: bool,
    resolutions: Vec<&'static str>,
    notice: Option<String>,
    templates: Vec<&'static str>,
    /// Open incidents to escalate into: (id, title).
    open_incidents: Vec<(String, String)>,
}

/// Query parameters of the queue page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct QueueParams {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub src_ip: String,
    #[serde(default)]
    pub assignee: String,
    /// Active at or after (RFC 3339, UTC).
    #[serde(default)]
    pub since: String,
    /// Active before.
    #[serde(default)]
    pub until: String,
    /// A saved view: `new`, `mine` or `unassigned`.
    #[serde(default)]
    pub view: String,
    #[serde(default)]
    pub cursor: String,
    /// A message after a bulk action.
    #[serde(default)]
    pub done: String,
}

impl QueueParams {
    fn query(&self, me: &str) -> AlertQuery {
        let mut q = AlertQuery {
            status: Some(self.status.clone()),
            severity: Some(self.severity.clone()),
            rule: Some(self.rule.clone()),
            src_ip: Some(self.src_ip.clone()),
            assignee: Some(self.assignee.clone()),
            since: Some(self.since.clone()),
            until: Some(self.until.clone()),
            limit: Some(50),
            cursor: Some(self.cursor.clone()),
        };
        match self.view.as_str() {
            "new" => q.status = Some("new".into()),
            "mine" => {
                q.assignee = Some(me.to_owned());
                q.status = Some("open".into());
            }
            "unassigned" => {
                q.assignee = Some("none".into());
                q.status = Some("open".into());
            }
            _ => {}
        }
        q
    }

    /// The filters as a query string (without the cursor).
    fn encoded(&self) -> String {
        let pairs = [
            ("status", &self.status),
            ("severity", &self.severity),
            ("rule", &self.rule),
            ("src_ip", &self.src_ip),
            ("assignee", &self.assignee),
            ("since", &self.since),
            ("until", &self.until),
            ("view", &self.view),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(params): Query<QueueParams>,
) -> Response {
    let layout = Layout::new(&session, "alerts");
    let query = params.query(&session.user.name);
    let (filter, (limit, cursor)) = match (query.filter(), query.page()) {
        (Ok(f), Ok(p)) => (f, p),
        (Err(e), _) | (_, Err(e)) => {
            return error_page(StatusCode::BAD_REQUEST, &e.message());
        }
    };
    let (alerts, next) = match state.store.alerts(&filter, limit, cursor).await {
        Ok(found) => found,
        Err(e) => return storage_error(e),
    };
    let total = match state.store.count_alerts(&filter, 10_000).await {
        Ok(n) if n >= 10_000 => "10,000+".to_owned(),
        Ok(n) => n.to_string(),
        Err(e) => return storage_error(e),
    };
    let encoded = params.encoded();
    let can_change = layout.role >= Role::Analyst;
    let open = nectar_store::IncidentFilter {
        open: true,
        ..nectar_store::IncidentFilter::default()
    };
    let open_incidents = match state.store.incidents(&open, 50, None).await {
        Ok((list, _)) => list
            .iter()
            .map(|i| (i.id.to_string(), visible(&i.title, 80)))
            .collect(),
        Err(e) => return storage_error(e),
    };
    render(&AlertsPage {
        form: FilterForm {
            status: visible(&params.status, 20),
            severity: visible(&params.severity, 20),
            rule: visible(&params.rule, 128),
            src_ip: visible(&params.src_ip, 64),
            assignee: visible(&params.assignee, 64),
            since: visible(&params.since, 40),
            until: visible(&params.until, 40),
            view: visible(&params.view, 20),
        },
        layout,
        rows: alerts.iter().map(AlertRow::of).collect(),
        total,
        next: next.map(|c| {
            let sep = if encoded.is_empty() { "" } else { "&" };
            format!("{encoded}{sep}cursor={}", c.encode())
        }),
        query: encoded,
        can_change,
        resolutions: AlertResolution::ALL.iter().map(|r| r.as_str()).collect(),
        notice: (!params.done.is_empty()).then(|| visible(&params.done, 200)),
        templates: nectar_event::TEMPLATES.iter().map(|t| t.name).collect(),
        open_incidents,
    })
}

/// The fields of the bulk and single-alert forms.
#[derive(Debug, Default)]
struct ChangeForm {
    csrf: String,
    ids: Vec<String>,
    /// `selected` or `all` (every alert the filters in `back` match).
    scope: String,
    /// `ack`, `assign`, `unassign`, `close`, `reopen`.
    action: String,
    assignee: String,
    resolution: String,
    /// The queue's query string to return to.
    back: String,
    /// Escalation: the existing incident's id, or the new one's title and template.
    incident: String,
    incident_title: String,
    template: String,
}

impl ChangeForm {
    fn parse(body: &[u8]) -> ChangeForm {
        let mut form = ChangeForm::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            match k.as_ref() {
                "csrf" => form.csrf = v.into_owned(),
                "id" if form.ids.len() < nectar_store::MAX_BULK => form.ids.push(v.into_owned()),
                "scope" => form.scope = v.into_owned(),
                "action" => form.action = v.into_owned(),
                "assignee" => form.assignee = v.into_owned(),
                "resolution" => form.resolution = v.into_owned(),
                "back" => form.back = v.into_owned(),
                "incident" => form.incident = v.into_owned(),
                "incident_title" => form.incident_title = v.into_owned(),
                "template" => form.template = v.into_owned(),
                _ => {}
            }
        }
        form
    }

    fn update(&self, me: &str) -> Result<AlertUpdate, String> {
        Ok(match self.action.as_str() {
            "ack" => AlertUpdate {
                status: Some(AlertStatus::Acknowledged),
                ..AlertUpdate::default()
            },
            "take" => AlertUpdate {
                assignee: Some(Some(me.to_owned())),
                ..AlertUpdate::default()
            },
            "assign" => AlertUpdate {
                assignee: Some(
                    Some(self.assignee.trim().chars().take(128).collect::<String>())
                        .filter(|a| !a.is_empty()),
                ),
                ..AlertUpdate::default()
            },
            "close" => AlertUpdate {
                status: Some(AlertStatus::Closed),
                resolution: Some(AlertResolution::parse(&self.resolution).ok_or(
                    "Choose why the alerts are closed: true_positive, false_positive, benign or duplicate.",
                )?),
                ..AlertUpdate::default()
            },
            "reopen" => AlertUpdate {
                status: Some(AlertStatus::New),
                ..AlertUpdate::default()
            },
            _ => return Err("Unknown action.".into()),
        })
    }
}

/// A query string from the form, kept only if it is one (no scheme, no path).
fn back_query(back: &str) -> String {
    back.chars()
        .filter(|c| !c.is_control())
        .take(2_000)
        .collect::<String>()
        .trim_start_matches('?')
        .to_owned()
}

pub async fn bulk(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    body: Bytes,
) -> Response {
    let layout = Layout::new(&session, "alerts");
    let form = ChangeForm::parse(&body);
    if let Err(refused) = layout.require(Role::Analyst, &form.csrf) {
        return refused;
    }
    let escalating = form.action.starts_with("escalate");
    let update = match form.update(&session.user.name) {
        Ok(u) => u,
        Err(_) if escalating => AlertUpdate::default(),
        Err(message) => return error_page(StatusCode::UNPROCESSABLE_ENTITY, &message),
    };
    let back = back_query(&form.back);
    let ids: Vec<Uuid> = if form.scope == "all" {
        // The queue's own query string, read as the queue page reads it; one
        // that does not read is refused (it must never widen to every alert).
        let params = format!("/alerts?{back}")
            .parse::<axum::http::Uri>()
            .ok()
            .and_then(|uri| Query::<QueueParams>::try_from_uri(&uri).ok());
        let Some(Query(params)) = params else {
            return error_page(
                StatusCode::BAD_REQUEST,
                "The filters of \"all filtered\" could not be read; filter the queue again.",
            );
        };
        let filter: AlertFilter = match params.query(&session.user.name).filter() {
            Ok(f) => f,
            Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.message()),
        };
        match state.store.alert_ids(&filter).await {
            Ok(ids) => ids,
            Err(e) => return storage_error(e),
        }
    } else {
        form.ids
            .iter()
            .filter_map(|id| Uuid::try_parse(id).ok())
            .collect()
    };
    if ids.is_empty() {
        return error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "No alerts selected: tick some, or choose \"all filtered\".",
        );
    }
    if escalating {
        return super::incident_forms::escalate_from_queue(
            &state,
            &session,
            &form.action,
            &ids,
            &form.incident,
            &form.incident_title,
            &form.template,
        )
        .await;
    }
    match state
        .store
        .update_alerts(&ids, &update, &session.user.name)
        .await
    {
        Ok(Ok(changed)) => {
            let sep = if back.is_empty() { "" } else { "&" };
            see_other(&format!(
                "/alerts?{back}{sep}done={}",
                percent_encode(&format!("{} alert(s) updated.", changed.len()))
            ))
        }
        Ok(Err(refused)) => error_page(StatusCode::UNPROCESSABLE_ENTITY, &refused.to_string()),
        Err(e) => storage_error(e),
    }
}

/// An event linked to the alert.
pub struct LinkedEvent {
    pub id: String,
    pub time: String,
    pub kind: &'static str,
    pub summary: Shown,
    pub silenced: bool,
}

/// One notification of the alert.
pub struct DeliveryRow {
    pub channel: String,
    pub route: String,
    pub status: &'static str,
    pub attempts: u32,
    pub digest: bool,
    pub last_error: String,
    pub when: String,
}

/// One entry of the history.
pub struct HistoryRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub change: String,
}

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertPage {
    layout: Layout,
    alert: AlertRow,
    resolution: String,
    previous: Option<String>,
    observables: Vec<(&'static str, Shown, Option<String>)>,
    /// (id, its path on attack.mitre.org: `T1110/001`).
    techniques: Vec<(String, String)>,
    events: Vec<LinkedEvent>,
    linked: u64,
    related: Vec<AlertRow>,
    source: Option<String>,
    /// Country, ASN and list hits of the source (`[enrich]`), or empty.
    source_origin: String,
    history: Vec<HistoryRow>,
    deliveries: Vec<DeliveryRow>,
    can_change: bool,
    resolutions: Vec<&'static str>,
    closed: bool,
    /// The incident holding it, if any.
    incident: Option<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
) -> Response {
    let layout = Layout::new(&session, "alerts");
    let Ok(id) = Uuid::try_parse(&id) else {
        return error_page(StatusCode::NOT_FOUND, "No such alert.");
    };
    let alert = match state.store.alert(id).await {
        Ok(Some(a)) => a,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "No such alert."),
        Err(e) => return storage_error(e),
    };
    let (events, linked, history, deliveries) = match (
        state.store.alert_events(id, 100).await,
        state.store.alert_event_count(id).await,
        state.store.alert_history(id, 500).await,
        state.store.notify_deliveries_of(id).await,
    ) {
        (Ok(e), Ok(n), Ok(h), Ok(d)) => (e, n, h, d),
        (Err(e), _, _, _) | (_, Err(e), _, _) | (_, _, Err(e), _) | (_, _, _, Err(e)) => {
            return storage_error(e);
        }
    };
    let source = alert.group.get("src_ip").cloned();
    let related = match &source {
        Some(ip) => {
            let filter = AlertFilter {
                src_ip: Some(ip.clone()),
                ..AlertFilter::default()
            };
            match state.store.alerts(&filter, 21, None).await {
                Ok((list, _)) => list
                    .iter()
                    .filter(|a| a.id != alert.id)
                    .take(20)
                    .map(AlertRow::of)
                    .collect(),
                Err(e) => return storage_error(e),
            }
        }
        None => Vec::new(),
    };
    let can_change = layout.role >= Role::Analyst;
    render(&AlertPage {
        layout,
        resolution: alert
            .resolution
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        previous: alert.previous.map(|p| p.to_string()),
        observables: alert
            .observables
            .iter()
            .map(|o| {
                let pivot = (o.kind == nectar_event::ObservableKind::Ip)
                    .then(|| format!("/events?src_ip={}", percent_encode(&o.value)));
                (o.kind.as_str(), shown(&o.value, 120), pivot)
            })
            .collect(),
        techniques: alert
            .rule
            .techniques
            .iter()
            .filter(|t| t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'))
            .map(|t| (visible(t, 16), t.replace('.', "/")))
            .collect(),
        events: events
            .into_iter()
            .map(|(e, silenced)| LinkedEvent {
                id: e.id.to_string(),
                time: short(e.time),
                kind: e.kind.as_str(),
                summary: shown(&e.summary, 120),
                silenced,
            })
            .collect(),
        linked,
        related,
        source_origin: source
            .as_deref()
            .and_then(|s| s.parse().ok())
            .map(|ip| super::ips::origin(&state.enrich.snapshot(), ip))
            .unwrap_or_default(),
        source: source.map(|s| visible(&s, 64)),
        history: history
            .into_iter()
            .map(|h| HistoryRow {
                at: short(h.at),
                actor: visible(&h.actor, 64),
                action: visible(&h.action, 16),
                change: visible(&h.change.to_string(), 300),
            })
            .collect(),
        deliveries: deliveries
            .iter()
            .map(|d| DeliveryRow {
                channel: visible(&d.channel, 64),
                route: visible(&d.route, 64),
                status: d.status.as_str(),
                attempts: d.attempts,
                digest: d.digest,
                last_error: d
                    .last_error
                    .as_deref()
                    .map(|e| visible(e, 200))
                    .unwrap_or_default(),
                when: short(d.delivered.unwrap_or(d.updated)),
            })
            .collect(),
        can_change,
        resolutions: AlertResolution::ALL.iter().map(|r| r.as_str()).collect(),
        closed: alert.status == AlertStatus::Closed,
        incident: alert.incident.map(|i| i.to_string()),
        alert: AlertRow::of(&alert),
    })
}

pub async fn change(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let layout = Layout::new(&session, "alerts");
    let form = ChangeForm::parse(&body);
    if let Err(refused) = layout.require(Role::Analyst, &form.csrf) {
        return refused;
    }
    let Ok(id) = Uuid::try_parse(&id) else {
        return error_page(StatusCode::NOT_FOUND, "No such alert.");
    };
    let update = match form.update(&session.user.name) {
        Ok(u) => u,
        Err(message) => return error_page(StatusCode::UNPROCESSABLE_ENTITY, &message),
    };
    match state
        .store
        .update_alerts(&[id], &update, &session.user.name)
        .await
    {
        Ok(Ok(changed)) if changed.is_empty() => {
            error_page(StatusCode::NOT_FOUND, "No such alert.")
        }
        Ok(Ok(_)) => see_other(&format!("/alerts/{id}")),
        Ok(Err(refused)) => error_page(StatusCode::UNPROCESSABLE_ENTITY, &refused.to_string()),
        Err(e) => storage_error(e),
    }
}
