//! The forms that change incidents: open one, change its fields and
//! classification, close it, comment, add tasks and tick them, add
//! observables one per line, write timeline entries, attach files, merge,
//! delete (admins), and escalate alerts from the queue. Every form carries the
//! session's CSRF token and answers with a redirect to the changed tab.

use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nectar_event::{Classification, IncidentTemplate, TEMPLATES, Tlp};
use nectar_store::{IncidentError, IncidentPatch, NewIncident, Role};
use uuid::Uuid;

use super::{Layout, error_page, see_other, storage_error};
use crate::AppState;
use crate::api_incidents::refused;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::incident_input as input;

/// A posted form's fields (repeated names kept in order), bounded.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(
            url::form_urlencoded::parse(body)
                .take(nectar_store::MAX_BULK + 64)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A refusal as an error page.
fn page_error(e: ApiError) -> Response {
    error_page(e.status(), &e.message())
}

fn incident_id(id: &str) -> Result<Uuid, Response> {
    Uuid::try_parse(id).map_err(|_| error_page(StatusCode::NOT_FOUND, "No such incident."))
}

/// A store answer turned into a redirect to `to`, or the error page.
fn answer<T>(
    result: Result<Result<T, IncidentError>, nectar_store::StoreError>,
    to: &str,
) -> Response {
    match result {
        Ok(Ok(_)) => see_other(to),
        Ok(Err(e)) => page_error(refused(e)),
        Err(e) => storage_error(e),
    }
}

/// Session, CSRF and role checks of every form here.
fn check(session: &nectar_store::WebSession, csrf: &str, role: Role) -> Result<(), Response> {
    Layout::new(session, "incidents").require(role, csrf)
}

/// A form posted to one incident: its fields and the incident's id, once the
/// caller's role and the form's CSRF token are checked (in that order, so a
/// viewer learns nothing from an id).
fn incident_form(
    session: &nectar_store::WebSession,
    body: &[u8],
    id: &str,
    role: Role,
) -> Result<(Fields, Uuid), Response> {
    let f = Fields::parse(body);
    check(session, f.get("csrf"), role)?;
    Ok((f, incident_id(id)?))
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    body: Bytes,
) -> Response {
    let f = Fields::parse(&body);
    if let Err(refused) = check(&session, f.get("csrf"), Role::Analyst) {
        return refused;
    }
    let body = crate::api_incidents::CreateBody {
        title: Some(f.get("title").to_owned()),
        description: Some(f.get("description").to_owned()),
        severity: Some(f.get("severity").to_owned()),
        template: Some(f.get("template").to_owned()),
        ..Default::default()
    };
    let new = match body.incident() {
        Ok(n) => n,
        Err(e) => return page_error(e),
    };
    match state.store.create_incident(&new, &session.user.name).await {
        Ok(Ok(incident)) => see_other(&format!("/incidents/{}", incident.id)),
        Ok(Err(e)) => page_error(refused(e)),
        Err(e) => storage_error(e),
    }
}

/// The change a summary-tab form asks for; errors name the field.
fn patch_of(f: &Fields) -> Result<IncidentPatch, ApiError> {
    let opt = |name: &str| Some(f.get(name)).filter(|v| !v.trim().is_empty());
    let mut patch = IncidentPatch::default();
    match f.get("action") {
        "status" => {
            patch.status = opt("status").map(input::status).transpose()?;
            patch.resolution = opt("resolution").map(input::resolution).transpose()?;
        }
        "close" => {
            patch.status = Some(nectar_event::IncidentStatus::Closed);
            patch.resolution = Some(input::resolution(f.get("resolution"))?);
        }
        "take" => patch.assignee = Some(None),
        "fields" => {
            patch.title = Some(input::line("title", f.get("title"), input::MAX_TITLE)?);
            patch.severity = opt("severity").map(input::severity).transpose()?;
            patch.assignee = Some(input::assignee("assignee", f.get("assignee"))?);
            patch.tlp = opt("tlp").map(|v| input::tlp("tlp", v)).transpose()?;
            patch.pap = opt("pap").map(|v| input::tlp("pap", v)).transpose()?;
            patch.tags = Some(input::tags(f.get("tags").split(','))?);
            patch.techniques = Some(input::techniques(
                f.get("techniques").split([',', ' ', '\n']),
            )?);
        }
        "description" => {
            patch.description = Some(input::markdown("description", f.get("description"), false)?);
        }
        "classify" => {
            let time = |name: &str| {
                opt(name)
                    .map(|t| {
                        t.trim().parse().map_err(|e| {
                            ApiError::bad_request(format!("classification.{name}: {e}"))
                        })
                    })
                    .transpose()
            };
            let owned = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect();
            patch.classification = Some(input::classification(Classification {
                agent: opt("agent").map(str::to_owned),
                actions: owned(f.all("actions")),
                assets: owned(f.all("assets")),
                discovery: opt("discovery").map(str::to_owned),
                impact: opt("impact").map(str::to_owned),
                compromised: time("compromised")?,
                discovered: time("discovered")?,
                contained: time("contained")?,
            })?);
        }
        _ => return Err(ApiError::bad_request("action: unknown form action")),
    }
    Ok(patch)
}

pub async fn change(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (f, id) = match incident_form(&session, &body, &id, Role::Analyst) {
        Ok(opened) => opened,
        Err(refused) => return refused,
    };
    let mut patch = match patch_of(&f) {
        Ok(p) => p,
        Err(e) => return page_error(e),
    };
    if f.get("action") == "take" {
        patch.assignee = Some(Some(session.user.name.clone()));
    }
    answer(
        state
            .store
            .update_incident(id, &patch, &session.user.name)
            .await,
        &format!("/incidents/{id}"),
    )
}

pub async fn comment(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (f, id) = match incident_form(&session, &body, &id, Role::Analyst) {
        Ok(opened) => opened,
        Err(refused) => return refused,
    };
    let text = match input::markdown("body", f.get("body"), true) {
        Ok(t) => t,
        Err(e) => return page_error(e),
    };
    answer(
        state.store.add_comment(id, &text, &session.user.name).await,
        &format!("/incidents/{id}?tab=comments"),
    )
}

pub async fn add_task(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (f, id) = match incident_form(&session, &body, &id, Role::Analyst) {
        Ok(opened) => opened,
        Err(refused) => return refused,
    };
    let (title, assignee) = match (
        input::line("title", f.get("title"), input::MAX_TASK),
        input::assignee("assignee", f.get("assignee")),
    ) {
        (Ok(t), Ok(a)) => (t, a),
        (Err(e), _) | (_, Err(e)) => return page_error(e),
    };
    answer(
        state
            .store
            .add_task(id, &title, assignee.as_deref(), &session.user.name)
            .await,
        &format!("/incidents/{id}?tab=tasks"),
    )
}

pub async fn update_task(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path((id, task)): Path<(String, i64)>,
    body: Bytes,
) -> Response {
    let (f, id) = match incident_form(&session, &body, &id, Role::Analyst) {
        Ok(opened) => opened,
        Err(refused) => return refused,
    };
    let done = match f.get("done") {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    };
    answer(
        state
            .store
            .update_task(id, task, done, None, &session.user.name)
            .await,
        &format!("/incidents/{id}?tab=tasks"),
    )
}

pub async fn add_observables(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (f, id) = match incident_form(&session, &body, &id, Role::Analyst) {
        Ok(opened) => opened,
        Err(refused) => return refused,
    };
    let parsed = (|| {
        let kind = Some(f.get("type"))
            .filter(|k| !k.trim().is_empty() && *k != "guess")
            .map(input::kind)
            .transpose()?;
        let level = match f.get("tlp").trim() {
            "" => Tlp::Amber,
            v => input::tlp("tlp", v)?,
        };
        input::observable_lines(f.get("text"), kind, f.get("ioc") == "1", level)
    })();
    let list = match parsed {
        Ok(l) => l,
        Err(e) => return page_error(e),
    };
    answer(
        state
            .store
            .add_observables(id, &list, &session.user.name)
            .await,
        &format!("/incidents/{id}?tab=observables"),
    )
}

pub async fn add_note(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (f, id) = match incident_form(&session, &body, &id, Role::Analyst) {
        Ok(opened) => opened,
        Err(refused) => return refused,
    };
    let (at, text) = match (
        crate::api_incident_parts::note_time(Some(f.get("at"))),
        input::line("text", f.get("text"), input::MAX_NOTE),
    ) {
        (Ok(a), Ok(t)) => (a, t),
        (Err(e), _) | (_, Err(e)) => return page_error(e),
    };
    answer(
        state
            .store
            .add_timeline_note(id, at, &text, &session.user.name)
            .await,
        &format!("/incidents/{id}?tab=timeline"),
    )
}

pub async fn attach(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Ok(mut multipart) = multipart else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "file: send the form with a file chosen.",
        );
    };
    let mut csrf = String::new();
    let upload = crate::api_incident_parts::read_upload(
        &mut multipart,
        state.config.max_attachment_bytes,
        |name, value| {
            if name == "csrf" {
                csrf = value;
            }
        },
    )
    .await;
    // The token is checked before anything is stored; a refused upload
    // answers 403 whatever else was wrong with it.
    if let Err(refused) = check(&session, &csrf, Role::Analyst) {
        return refused;
    }
    let (name, content) = match upload {
        Ok(u) => u,
        Err(e) => return page_error(e),
    };
    let id = match incident_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    answer(
        state
            .store
            .add_attachment(id, &name, &content, &session.user.name)
            .await,
        &format!("/incidents/{id}?tab=attachments"),
    )
}

pub async fn merge(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (f, id) = match incident_form(&session, &body, &id, Role::Analyst) {
        Ok(opened) => opened,
        Err(refused) => return refused,
    };
    let Ok(into) = Uuid::try_parse(f.get("into").trim()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "into: give the id of the incident to merge into.",
        );
    };
    answer(
        state
            .store
            .merge_incidents(id, into, &session.user.name)
            .await,
        &format!("/incidents/{into}"),
    )
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (_, id) = match incident_form(&session, &body, &id, Role::Admin) {
        Ok(opened) => opened,
        Err(refused) => return refused,
    };
    match state.store.delete_incident(id, &session.user.name).await {
        Ok(true) => see_other("/incidents"),
        Ok(false) => error_page(StatusCode::NOT_FOUND, "No such incident."),
        Err(e) => storage_error(e),
    }
}

/// Escalation from the alert queue's bulk form: `action` is `escalate_new`
/// (a new incident titled `incident_title`, or from `template`) or
/// `escalate` (into `incident`).
pub async fn escalate_from_queue(
    state: &AppState,
    session: &nectar_store::WebSession,
    action: &str,
    ids: &[Uuid],
    incident: &str,
    title: &str,
    template: &str,
) -> Response {
    let actor = &session.user.name;
    if action == "escalate" {
        let Ok(target) = Uuid::try_parse(incident.trim()) else {
            return error_page(
                StatusCode::BAD_REQUEST,
                "incident: give the id of the incident to escalate into.",
            );
        };
        return answer(
            state.store.escalate_alerts(target, ids, actor).await,
            &format!("/incidents/{target}?tab=alerts"),
        );
    }
    let template = match template.trim() {
        "" => None,
        name => match IncidentTemplate::find(name) {
            Some(t) => Some(t),
            None => {
                let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
                return error_page(
                    StatusCode::BAD_REQUEST,
                    &format!("template: expected one of {}", names.join(", ")),
                );
            }
        },
    };
    let title = match title.trim() {
        "" => String::new(),
        t => match input::line("title", t, input::MAX_TITLE) {
            Ok(t) => t,
            Err(e) => return page_error(e),
        },
    };
    let new = NewIncident {
        title,
        template,
        alerts: ids.to_vec(),
        ..NewIncident::default()
    };
    match state.store.create_incident(&new, actor).await {
        Ok(Ok(made)) => see_other(&format!("/incidents/{}", made.id)),
        Ok(Err(e)) => page_error(refused(e)),
        Err(e) => storage_error(e),
    }
}
