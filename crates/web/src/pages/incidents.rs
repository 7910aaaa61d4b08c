//! The incident pages: the list (saved views "open", "mine", "closed",
//! filters, a form to open one), one incident with its tabs as links
//! (summary, timeline, alerts, observables, tasks, comments, attachments,
//! history), the printable page and the JSON export. Only the shown tab's
//! data is read. The forms that change incidents are in
//! [`super::incident_forms`].

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nectar_event::{
    Incident, IncidentStatus, ObservableKind, Resolution, Severity, TEMPLATES, Tlp, classification,
};
use nectar_store::{IncidentCounts, Role};
use uuid::Uuid;

use super::alerts::AlertRow;
use super::timerange::short;
use super::{Layout, error_page, render, storage_error};
use crate::api_incidents::IncidentQuery;
use crate::auth::{CurrentUser, percent_encode};
use crate::text::{Shown, shown};
use crate::{AppState, visible};

/// One row of the list.
pub struct IncidentRow {
    pub id: String,
    pub title: Shown,
    pub severity: &'static str,
    pub status: &'static str,
    pub resolution: &'static str,
    pub assignee: String,
    pub created: String,
    pub updated: String,
    pub tags: String,
}

impl IncidentRow {
    pub fn of(i: &Incident) -> IncidentRow {
        IncidentRow {
            id: i.id.to_string(),
            title: shown(&i.title, 100),
            severity: i.severity.as_str(),
            status: i.status.as_str(),
            resolution: i.resolution.map(Resolution::as_str).unwrap_or_default(),
            assignee: i
                .assignee
                .as_deref()
                .map(|a| visible(a, 40))
                .unwrap_or_default(),
            created: short(i.created),
            updated: short(i.updated),
            tags: visible(&i.tags.join(", "), 80),
        }
    }
}

/// Query parameters of the list page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListParams {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub assignee: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub q: String,
    /// A saved view: `open`, `mine` or `closed`.
    #[serde(default)]
    pub view: String,
    #[serde(default)]
    pub cursor: String,
}

impl ListParams {
    fn query(&self, me: &str) -> IncidentQuery {
        let mut q = IncidentQuery {
            status: Some(self.status.clone()),
            assignee: Some(self.assignee.clone()),
            severity: Some(self.severity.clone()),
            q: Some(self.q.clone()),
            limit: Some(50),
            cursor: Some(self.cursor.clone()),
        };
        match self.view.as_str() {
            "open" => q.status = Some("open".into()),
            "mine" => {
                q.status = Some("open".into());
                q.assignee = Some(me.to_owned());
            }
            "closed" => q.status = Some("closed".into()),
            _ => {}
        }
        q
    }

    fn encoded(&self) -> String {
        [
            ("status", &self.status),
            ("assignee", &self.assignee),
            ("severity", &self.severity),
            ("q", &self.q),
            ("view", &self.view),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct ListPage {
    layout: Layout,
    view: String,
    status: String,
    assignee: String,
    severity: String,
    q: String,
    rows: Vec<IncidentRow>,
    total: String,
    next: Option<String>,
    can_change: bool,
    statuses: Vec<&'static str>,
    templates: Vec<(&'static str, &'static str)>,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(params): Query<ListParams>,
) -> Response {
    let layout = Layout::new(&session, "incidents");
    let query = params.query(&session.user.name);
    let (filter, (limit, cursor)) = match (query.filter(), query.page()) {
        (Ok(f), Ok(p)) => (f, p),
        (Err(e), _) | (_, Err(e)) => return error_page(StatusCode::BAD_REQUEST, &e.message()),
    };
    let (incidents, next) = match state.store.incidents(&filter, limit, cursor).await {
        Ok(found) => found,
        Err(e) => return storage_error(e),
    };
    let total = match state.store.count_incidents(&filter, 10_000).await {
        Ok(n) if n >= 10_000 => "10,000+".to_owned(),
        Ok(n) => n.to_string(),
        Err(e) => return storage_error(e),
    };
    let encoded = params.encoded();
    render(&ListPage {
        can_change: layout.role >= Role::Analyst,
        layout,
        view: visible(&params.view, 20),
        status: visible(&params.status, 20),
        assignee: visible(&params.assignee, 64),
        severity: visible(&params.severity, 20),
        q: visible(&params.q, 200),
        rows: incidents.iter().map(IncidentRow::of).collect(),
        total,
        next: next.map(|c| {
            let sep = if encoded.is_empty() { "" } else { "&" };
            format!("{encoded}{sep}cursor={}", c.encode())
        }),
        statuses: IncidentStatus::ALL.iter().map(|s| s.as_str()).collect(),
        templates: TEMPLATES.iter().map(|t| (t.name, t.title)).collect(),
    })
}

/// The tabs, in order: (name, label).
pub const TABS: [(&str, &str); 8] = [
    ("summary", "Summary"),
    ("timeline", "Timeline"),
    ("alerts", "Alerts"),
    ("observables", "Observables"),
    ("tasks", "Tasks"),
    ("comments", "Comments"),
    ("attachments", "Attachments"),
    ("history", "History"),
];

/// One line of the timeline tab.
pub struct TimelineRow {
    pub at: String,
    pub kind: &'static str,
    pub text: Shown,
    pub link: Option<String>,
    pub detail: String,
}

/// One observable.
pub struct ObservableRow {
    pub kind: String,
    pub value: Shown,
    pub ioc: bool,
    pub tlp: &'static str,
    pub source: String,
    pub seen: String,
    pub pivot: Option<String>,
}

/// One task.
pub struct TaskRow {
    pub id: i64,
    pub title: String,
    pub assignee: String,
    pub done: bool,
    pub by: String,
}

/// One comment, its Markdown rendered to safe HTML.
pub struct CommentRow {
    pub author: String,
    pub at: String,
    pub html: String,
}

/// One attachment.
pub struct AttachmentRow {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub sha1: String,
    pub md5: String,
    pub by: String,
    pub at: String,
}

/// One history entry.
pub struct ChangeRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub change: String,
}

/// The incident's fields as shown (and as the edit forms' values).
pub struct IncidentView {
    pub id: String,
    pub title: String,
    pub severity: &'static str,
    pub status: &'static str,
    pub resolution: &'static str,
    pub assignee: String,
    pub tlp: &'static str,
    pub pap: &'static str,
    pub tags: String,
    pub techniques: Vec<(String, String)>,
    pub techniques_text: String,
    pub template: String,
    pub created_by: String,
    pub created: String,
    pub updated: String,
    pub merged_into: Option<String>,
    pub description: String,
    pub description_html: String,
    pub agent: String,
    pub actions: Vec<String>,
    pub assets: Vec<String>,
    pub discovery: String,
    pub impact: String,
    pub compromised: String,
    pub discovered: String,
    pub contained: String,
}

impl IncidentView {
    pub fn of(i: &Incident) -> IncidentView {
        let c = &i.classification;
        let time =
            |t: Option<nectar_event::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
        IncidentView {
            id: i.id.to_string(),
            title: visible(&i.title, 200),
            severity: i.severity.as_str(),
            status: i.status.as_str(),
            resolution: i.resolution.map(Resolution::as_str).unwrap_or_default(),
            assignee: i
                .assignee
                .as_deref()
                .map(|a| visible(a, 64))
                .unwrap_or_default(),
            tlp: i.tlp.as_str(),
            pap: i.pap.as_str(),
            tags: visible(&i.tags.join(", "), 2_000),
            // Stored ids are checked on the way in; filtered again so a link
            // can never carry anything else.
            techniques: i
                .techniques
                .iter()
                .filter(|t| nectar_event::valid_technique(t))
                .map(|t| (t.clone(), t.replace('.', "/")))
                .collect(),
            techniques_text: visible(&i.techniques.join(", "), 2_000),
            template: i
                .template
                .as_deref()
                .map(|t| visible(t, 64))
                .unwrap_or_default(),
            created_by: visible(&i.created_by, 64),
            created: short(i.created),
            updated: short(i.updated),
            merged_into: i.merged_into.map(|m| m.to_string()),
            description: i.description.clone(),
            description_html: crate::markdown::render(&i.description),
            agent: c.agent.clone().unwrap_or_default(),
            actions: c.actions.clone(),
            assets: c.assets.clone(),
            discovery: c.discovery.clone().unwrap_or_default(),
            impact: c.impact.clone().unwrap_or_default(),
            compromised: time(c.compromised),
            discovered: time(c.discovered),
            contained: time(c.contained),
        }
    }
}

/// The vocabularies the forms offer.
pub struct Choices {
    pub statuses: Vec<&'static str>,
    pub resolutions: Vec<&'static str>,
    pub severities: Vec<&'static str>,
    pub tlps: Vec<&'static str>,
    pub kinds: Vec<&'static str>,
    pub agents: &'static [&'static str],
    pub actions: &'static [&'static str],
    pub assets: &'static [&'static str],
    pub discovery: &'static [&'static str],
    pub impacts: &'static [&'static str],
}

impl Choices {
    fn new() -> Choices {
        Choices {
            statuses: IncidentStatus::ALL.iter().map(|s| s.as_str()).collect(),
            resolutions: Resolution::ALL.iter().map(|r| r.as_str()).collect(),
            severities: Severity::ALL.iter().map(|s| s.as_str()).collect(),
            tlps: Tlp::ALL.iter().map(|t| t.as_str()).collect(),
            kinds: ObservableKind::ALL.iter().map(|k| k.as_str()).collect(),
            agents: classification::AGENTS,
            actions: classification::ACTIONS,
            assets: classification::ASSETS,
            discovery: classification::DISCOVERY,
            impacts: classification::IMPACTS,
        }
    }
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    layout: Layout,
    tab: &'static str,
    tabs: [(&'static str, &'static str); 8],
    inc: IncidentView,
    counts: IncidentCounts,
    can_change: bool,
    is_admin: bool,
    choices: Choices,
    timeline: Vec<TimelineRow>,
    timeline_more: Option<String>,
    alerts: Vec<AlertRow>,
    observables: Vec<ObservableRow>,
    tasks: Vec<TaskRow>,
    comments: Vec<CommentRow>,
    attachments: Vec<AttachmentRow>,
    history: Vec<ChangeRow>,
    max_attachment: usize,
}

/// Query parameters of the incident page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageParams {
    #[serde(default)]
    pub tab: String,
    /// The timeline continues after this time (µs).
    #[serde(default)]
    pub after: Option<i64>,
}

/// Rows of an incident's history.
pub fn change_rows(history: Vec<nectar_store::IncidentChange>) -> Vec<ChangeRow> {
    history
        .into_iter()
        .map(|h| ChangeRow {
            at: short(h.at),
            actor: visible(&h.actor, 64),
            action: visible(&h.action, 32),
            change: visible(&h.change.to_string(), 400),
        })
        .collect()
}

fn seen(o: &nectar_store::IncidentObservable) -> String {
    let plural =
        |n: u64, one: &str, many: &str| format!("{n} other {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    if o.seen_incidents > 0 {
        parts.push(plural(o.seen_incidents, "incident", "incidents"));
    }
    if o.seen_alerts > 0 {
        parts.push(plural(o.seen_alerts, "alert", "alerts"));
    }
    if parts.is_empty() {
        "only here".to_owned()
    } else {
        format!("seen in {}", parts.join(", "))
    }
}

pub async fn detail(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> Response {
    let layout = Layout::new(&session, "incidents");
    let Ok(id) = Uuid::try_parse(&id) else {
        return error_page(StatusCode::NOT_FOUND, "No such incident.");
    };
    let incident = match state.store.incident(id).await {
        Ok(Some(i)) => i,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "No such incident."),
        Err(e) => return storage_error(e),
    };
    let tab = TABS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| *name == params.tab)
        .unwrap_or("summary");
    let counts = match state.store.incident_counts(id, 100_000).await {
        Ok(c) => c,
        Err(e) => return storage_error(e),
    };
    let mut page = IncidentPage {
        can_change: layout.role >= Role::Analyst,
        is_admin: layout.is_admin(),
        layout,
        tab,
        tabs: TABS,
        inc: IncidentView::of(&incident),
        counts,
        choices: Choices::new(),
        timeline: Vec::new(),
        timeline_more: None,
        alerts: Vec::new(),
        observables: Vec::new(),
        tasks: Vec::new(),
        comments: Vec::new(),
        attachments: Vec::new(),
        history: Vec::new(),
        max_attachment: state.config.max_attachment_bytes,
    };
    let store = &state.store;
    let loaded: Result<(), Response> = async {
        let fail = |e| storage_error(e);
        match tab {
            "timeline" => {
                let (items, more) =
                    crate::api_incident_parts::timeline_items(&state, id, params.after)
                        .await
                        .map_err(|e| error_page(e.status(), &e.message()))?;
                page.timeline_more = more
                    .then(|| items.last().map(|i| i.at.as_micros().to_string()))
                    .flatten();
                page.timeline = items
                    .into_iter()
                    .map(|i| TimelineRow {
                        at: i.at.to_string(),
                        kind: i.kind,
                        text: shown(&i.text, 160),
                        link: i.id.map(|x| match i.kind {
                            "alert" => format!("/alerts/{x}"),
                            _ => format!("/events/{x}"),
                        }),
                        detail: visible(&i.detail, 64),
                    })
                    .collect();
            }
            "alerts" => {
                let list = store.incident_alerts(id, 1_000).await.map_err(fail)?;
                page.alerts = list.iter().map(AlertRow::of).collect();
            }
            "observables" => {
                let list = store.incident_observables(id, 10_000).await.map_err(fail)?;
                page.observables = list
                    .iter()
                    .map(|o| ObservableRow {
                        kind: visible(&o.kind, 20),
                        value: shown(&o.value, 120),
                        ioc: o.ioc,
                        tlp: o.tlp.as_str(),
                        source: visible(&o.source, 10),
                        seen: seen(o),
                        pivot: (o.kind == "ip")
                            .then(|| format!("/events?src_ip={}", percent_encode(&o.value))),
                    })
                    .collect();
            }
            "tasks" => {
                let list = store.incident_tasks(id).await.map_err(fail)?;
                page.tasks = list
                    .into_iter()
                    .map(|t| TaskRow {
                        id: t.id,
                        title: visible(&t.title, 500),
                        assignee: t
                            .assignee
                            .as_deref()
                            .map(|a| visible(a, 64))
                            .unwrap_or_default(),
                        done: t.done,
                        by: visible(&t.created_by, 64),
                    })
                    .collect();
            }
            "comments" => {
                let list = store.incident_comments(id, 10_000).await.map_err(fail)?;
                page.comments = list
                    .into_iter()
                    .map(|c| CommentRow {
                        author: visible(&c.author, 64),
                        at: short(c.at),
                        html: crate::markdown::render(&c.body),
                    })
                    .collect();
            }
            "attachments" => {
                let list = store.incident_attachments(id).await.map_err(fail)?;
                page.attachments = list.into_iter().map(attachment_row).collect();
            }
            "history" => {
                let list = store.incident_history(id, 10_000).await.map_err(fail)?;
                page.history = change_rows(list);
            }
            _ => {}
        }
        Ok(())
    }
    .await;
    if let Err(refused) = loaded {
        return refused;
    }
    render(&page)
}

/// An attachment as shown.
pub fn attachment_row(a: nectar_store::Attachment) -> AttachmentRow {
    AttachmentRow {
        name: visible(&a.name, 255),
        size: a.size,
        sha256: a.sha256,
        sha1: a.sha1,
        md5: a.md5,
        by: visible(&a.added_by, 64),
        at: short(a.added),
    }
}

/// An attachment download for a logged-in person (never rendered).
pub async fn download(
    State(state): State<AppState>,
    CurrentUser(_session): CurrentUser,
    Path((id, sha256)): Path<(String, String)>,
) -> Response {
    let (Ok(id), true) = (
        Uuid::try_parse(&id),
        sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()),
    ) else {
        return error_page(StatusCode::NOT_FOUND, "No such attachment.");
    };
    match state
        .store
        .attachment_content(id, &sha256.to_ascii_lowercase())
        .await
    {
        Ok(Some((meta, content))) => {
            crate::api_incident_parts::download_response(&meta.name, content)
        }
        Ok(None) => error_page(StatusCode::NOT_FOUND, "No such attachment."),
        Err(e) => storage_error(e),
    }
}

/// The JSON export, as a download.
pub async fn export_json(
    State(state): State<AppState>,
    CurrentUser(_session): CurrentUser,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = Uuid::try_parse(&id) else {
        return error_page(StatusCode::NOT_FOUND, "No such incident.");
    };
    match crate::api_incidents::export_document(&state, id).await {
        Ok(doc) => {
            let mut response = serde_json::to_string_pretty(&doc)
                .unwrap_or_default()
                .into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"incident-{id}.json\""))
            {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Err(e) => error_page(e.status(), &e.message()),
    }
}

#[derive(Template)]
#[template(path = "incident_print.html")]
struct PrintPage {
    inc: IncidentView,
    counts: IncidentCounts,
    alerts: Vec<AlertRow>,
    observables: Vec<ObservableRow>,
    tasks: Vec<TaskRow>,
    comments: Vec<CommentRow>,
    timeline: Vec<TimelineRow>,
    attachments: Vec<AttachmentRow>,
    history: Vec<ChangeRow>,
    printed: String,
}

/// The printable page: everything on one page, no navigation or forms.
pub async fn print(
    State(state): State<AppState>,
    CurrentUser(_session): CurrentUser,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = Uuid::try_parse(&id) else {
        return error_page(StatusCode::NOT_FOUND, "No such incident.");
    };
    let store = &state.store;
    let built: Result<PrintPage, nectar_store::StoreError> = async {
        let Some(incident) = store.incident(id).await? else {
            return Err(nectar_store::StoreError::NotFound {
                what: "incident",
                name: id.to_string(),
            });
        };
        let notes = store.incident_timeline_notes(id, 10_000).await?;
        Ok(PrintPage {
            inc: IncidentView::of(&incident),
            counts: store.incident_counts(id, 1_000_000).await?,
            alerts: store
                .incident_alerts(id, 1_000)
                .await?
                .iter()
                .map(AlertRow::of)
                .collect(),
            observables: store
                .incident_observables(id, 10_000)
                .await?
                .iter()
                .map(|o| ObservableRow {
                    kind: visible(&o.kind, 20),
                    value: shown(&o.value, 200),
                    ioc: o.ioc,
                    tlp: o.tlp.as_str(),
                    source: visible(&o.source, 10),
                    seen: seen(o),
                    pivot: None,
                })
                .collect(),
            tasks: store
                .incident_tasks(id)
                .await?
                .into_iter()
                .map(|t| TaskRow {
                    id: t.id,
                    title: visible(&t.title, 500),
                    assignee: t
                        .assignee
                        .as_deref()
                        .map(|a| visible(a, 64))
                        .unwrap_or_default(),
                    done: t.done,
                    by: visible(&t.created_by, 64),
                })
                .collect(),
            comments: store
                .incident_comments(id, 10_000)
                .await?
                .into_iter()
                .map(|c| CommentRow {
                    author: visible(&c.author, 64),
                    at: short(c.at),
                    html: crate::markdown::render(&c.body),
                })
                .collect(),
            timeline: notes
                .into_iter()
                .map(|n| TimelineRow {
                    at: n.at.to_string(),
                    kind: "note",
                    text: shown(&n.text, 4_000),
                    link: None,
                    detail: visible(&n.author, 64),
                })
                .collect(),
            attachments: store
                .incident_attachments(id)
                .await?
                .into_iter()
                .map(attachment_row)
                .collect(),
            history: change_rows(store.incident_history(id, 10_000).await?),
            printed: short(nectar_event::Timestamp::now()),
        })
    }
    .await;
    match built {
        Ok(page) => render(&page),
        Err(nectar_store::StoreError::NotFound { .. }) => {
            error_page(StatusCode::NOT_FOUND, "No such incident.")
        }
        Err(e) => storage_error(e),
    }
}
