//! The JSON API for the parts of an incident: comments (Markdown, answered
//! with their safe HTML too), tasks, observables (a list, or text with one
//! per line), the timeline (its alerts and events in time order with the
//! entries written by hand) and attachments (multipart upload, field `file`;
//! always downloaded as `application/octet-stream`, never rendered).

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use axum::{Json, Router};
use nectar_event::{Timestamp, Tlp};
use nectar_store::{Comment, Role};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::api_incidents::{load, parse_id, refused};
use crate::auth::ApiCaller;
use crate::error::ApiError;
use crate::incident_input as input;

pub fn routes(config: &crate::WebConfig) -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/incidents/{id}/comments",
            get(comments).post(add_comment),
        )
        .route("/api/v1/incidents/{id}/tasks", get(tasks).post(add_task))
        .route("/api/v1/incidents/{id}/tasks/{task}", patch(update_task))
        .route(
            "/api/v1/incidents/{id}/observables",
            get(observables).post(add_observables),
        )
        .route(
            "/api/v1/incidents/{id}/timeline",
            get(timeline).post(add_note),
        )
        .route(
            "/api/v1/incidents/{id}/attachments",
            get(attachments).post(upload).layer(DefaultBodyLimit::max(
                config.max_attachment_bytes.saturating_add(64 * 1024),
            )),
        )
        .route("/api/v1/incidents/{id}/attachments/{sha256}", get(download))
}

/// A comment with its Markdown rendered to safe HTML.
pub fn comment_json(c: &Comment) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    if let Value::Object(m) = &mut v {
        m.insert("html".into(), json!(crate::markdown::render(&c.body)));
    }
    v
}

async fn comments(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let incident = load(&state, parse_id(&id)?).await?;
    let list = state.store.incident_comments(incident.id, 10_000).await?;
    Ok(Json(
        json!({ "comments": list.iter().map(comment_json).collect::<Vec<_>>() }),
    ))
}

/// A comment to add.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// Markdown.
    pub body: String,
}

async fn add_comment(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    Json(body): Json<CommentBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Analyst)?;
    let id = parse_id(&id)?;
    let text = input::markdown("body", &body.body, true)?;
    let comment = state
        .store
        .add_comment(id, &text, &caller.0.name)
        .await?
        .map_err(refused)?;
    Ok((StatusCode::CREATED, Json(comment_json(&comment))))
}

async fn tasks(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let incident = load(&state, parse_id(&id)?).await?;
    Ok(Json(
        json!({ "tasks": state.store.incident_tasks(incident.id).await? }),
    ))
}

/// A task to add.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskBody {
    /// What to do.
    pub title: String,
    /// Who does it.
    #[serde(default)]
    pub assignee: Option<String>,
}

async fn add_task(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    Json(body): Json<TaskBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Analyst)?;
    let id = parse_id(&id)?;
    let title = input::line("title", &body.title, input::MAX_TASK)?;
    let assignee = input::assignee("assignee", body.assignee.as_deref().unwrap_or_default())?;
    let task = state
        .store
        .add_task(id, &title, assignee.as_deref(), &caller.0.name)
        .await?
        .map_err(refused)?;
    Ok((StatusCode::CREATED, Json(json!(task))))
}

/// A change to a task.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    /// Done or not.
    pub done: Option<bool>,
    /// A user name; `""` unassigns.
    pub assignee: Option<String>,
}

async fn update_task(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, task)): Path<(String, String)>,
    Json(body): Json<TaskPatch>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let id = parse_id(&id)?;
    let task: i64 = task
        .parse()
        .map_err(|_| ApiError::bad_request("task id must be a number"))?;
    let assignee = body
        .assignee
        .as_deref()
        .map(|a| input::assignee("assignee", a))
        .transpose()?;
    let task = state
        .store
        .update_task(id, task, body.done, assignee, &caller.0.name)
        .await?
        .map_err(refused)?;
    Ok(Json(json!(task)))
}

async fn observables(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let incident = load(&state, parse_id(&id)?).await?;
    Ok(Json(json!({
        "observables": state.store.incident_observables(incident.id, 10_000).await?
    })))
}

/// One observable of a list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservableItem {
    /// Its type; absent: guessed.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The value.
    pub value: String,
    /// An indicator of compromise?
    #[serde(default)]
    pub ioc: bool,
    /// Its TLP (default amber).
    #[serde(default)]
    pub tlp: Option<String>,
}

/// Observables to add: a list, or `text` with one per line.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservablesBody {
    /// Each with its type.
    #[serde(default)]
    pub observables: Vec<ObservableItem>,
    /// One per line: `value` or `type:value`.
    #[serde(default)]
    pub text: Option<String>,
    /// The type of lines without one (absent: guessed).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Lines are indicators of compromise.
    #[serde(default)]
    pub ioc: bool,
    /// The lines' TLP (default amber).
    #[serde(default)]
    pub tlp: Option<String>,
}

impl ObservablesBody {
    /// The observables to add; errors name the field or line.
    pub fn list(&self) -> Result<Vec<nectar_store::NewObservable>, ApiError> {
        let level = |v: &Option<String>, field: &str| -> Result<Tlp, ApiError> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(v) => input::tlp(field, v),
                None => Ok(Tlp::Amber),
            }
        };
        if self.observables.len() > input::MAX_OBSERVABLES {
            return Err(ApiError::bad_request(format!(
                "observables: at most {} at once",
                input::MAX_OBSERVABLES
            )));
        }
        let mut out = Vec::new();
        for (i, o) in self.observables.iter().enumerate() {
            let field = format!("observables[{i}]");
            let kind = o
                .kind
                .as_deref()
                .map(input::kind)
                .transpose()
                .map_err(|e| ApiError::bad_request(format!("{field}.{}", e.message())))?;
            out.push(input::observable(
                &format!("{field}.value"),
                kind,
                &o.value,
                o.ioc,
                level(&o.tlp, &format!("{field}.tlp"))?,
            )?);
        }
        if let Some(text) = &self.text {
            let kind = self
                .kind
                .as_deref()
                .filter(|k| !k.trim().is_empty())
                .map(input::kind)
                .transpose()?;
            out.extend(input::observable_lines(
                text,
                kind,
                self.ioc,
                level(&self.tlp, "tlp")?,
            )?);
        }
        if out.is_empty() {
            return Err(ApiError::bad_request(
                "observables: give a list, or text with one value per line",
            ));
        }
        if out.len() > input::MAX_OBSERVABLES {
            return Err(ApiError::bad_request(format!(
                "observables: at most {} at once",
                input::MAX_OBSERVABLES
            )));
        }
        Ok(out)
    }
}

async fn add_observables(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    Json(body): Json<ObservablesBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let id = parse_id(&id)?;
    let list = body.list()?;
    let added = state
        .store
        .add_observables(id, &list, &caller.0.name)
        .await?
        .map_err(refused)?;
    Ok(Json(json!({
        "added": added,
        "observables": state.store.incident_observables(id, 10_000).await?,
    })))
}

/// One line of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineItem {
    /// When.
    pub at: Timestamp,
    /// `alert` (raised), `event`, or `note` (written by hand).
    pub kind: &'static str,
    /// What happened (attacker text for events: escape it).
    pub text: String,
    /// The alert's or event's id; absent for notes.
    pub id: Option<Uuid>,
    /// The event's kind, or the note's author.
    pub detail: String,
}

/// Most events one timeline page shows.
pub const TIMELINE_EVENTS: usize = 500;

/// The timeline: the incident's alerts (when first seen), their events (the
/// first [`TIMELINE_EVENTS`] after `after_us`) and the entries written by
/// hand, in time order.
pub async fn timeline_items(
    state: &AppState,
    id: Uuid,
    after_us: Option<i64>,
) -> Result<(Vec<TimelineItem>, bool), ApiError> {
    let events = state
        .store
        .incident_events(id, after_us, TIMELINE_EVENTS)
        .await?;
    let more = events.len() >= TIMELINE_EVENTS;
    let last = events.last().map(|e| e.time);
    let within = |t: Timestamp| {
        after_us.is_none_or(|a| t.as_micros() > a) && last.is_none_or(|l| !more || t <= l)
    };
    let mut items: Vec<TimelineItem> = Vec::with_capacity(events.len() + 64);
    for a in state.store.incident_alerts(id, 10_000).await? {
        if within(a.first_seen) {
            items.push(TimelineItem {
                at: a.first_seen,
                kind: "alert",
                text: a.title.clone(),
                id: Some(a.id),
                detail: a.severity.as_str().to_owned(),
            });
        }
    }
    for n in state.store.incident_timeline_notes(id, 10_000).await? {
        if within(n.at) {
            items.push(TimelineItem {
                at: n.at,
                kind: "note",
                text: n.text,
                id: None,
                detail: n.author,
            });
        }
    }
    for e in events {
        items.push(TimelineItem {
            at: e.time,
            kind: "event",
            text: e.summary.clone(),
            id: Some(e.id),
            detail: e.kind.as_str().to_owned(),
        });
    }
    items.sort_by_key(|i| i.at);
    Ok((items, more))
}

async fn timeline(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let incident = load(&state, parse_id(&id)?).await?;
    let (items, more) = timeline_items(&state, incident.id, None).await?;
    Ok(Json(json!({ "timeline": items, "truncated": more })))
}

/// A timeline entry to write.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// When it happened (RFC 3339; default now).
    #[serde(default)]
    pub at: Option<String>,
    /// What happened.
    pub text: String,
}

/// A timeline entry's time; errors name the field.
pub fn note_time(at: Option<&str>) -> Result<Timestamp, ApiError> {
    match at.map(str::trim).filter(|s| !s.is_empty()) {
        Some(t) => t
            .parse()
            .map_err(|e| ApiError::bad_request(format!("at: {e}"))),
        None => Ok(Timestamp::now()),
    }
}

async fn add_note(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    Json(body): Json<NoteBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Analyst)?;
    let id = parse_id(&id)?;
    let at = note_time(body.at.as_deref())?;
    let text = input::line("text", &body.text, input::MAX_NOTE)?;
    let note = state
        .store
        .add_timeline_note(id, at, &text, &caller.0.name)
        .await?
        .map_err(refused)?;
    Ok((StatusCode::CREATED, Json(json!(note))))
}

async fn attachments(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let incident = load(&state, parse_id(&id)?).await?;
    Ok(Json(json!({
        "attachments": state.store.incident_attachments(incident.id).await?
    })))
}

/// A file name safe to store and show: its last path part, without control
/// characters, at most 255 characters.
pub fn clean_name(name: Option<&str>) -> String {
    let base = name
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "attachment".to_owned()
    } else {
        cleaned
    }
}

/// The upload's `file` field: (name, content), bounded by
/// `server.max_attachment_bytes` while it is read; other fields are handed
/// to `other` (the UI's form sends its CSRF token beside it).
pub async fn read_upload(
    multipart: &mut Multipart,
    max: usize,
    mut other: impl FnMut(&str, String),
) -> Result<(String, Vec<u8>), ApiError> {
    let mut found = None;
    let mut fields = 0;
    loop {
        fields += 1;
        if fields > 16 {
            return Err(ApiError::bad_request("file: at most 16 form fields"));
        }
        let field = multipart
            .next_field()
            .await
            .map_err(|e| upload_error(e, max))?;
        let Some(mut field) = field else { break };
        let name = field.name().unwrap_or_default().to_owned();
        if name != "file" {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|e| upload_error(e, max))? {
                if text.len() + chunk.len() > 4_096 {
                    return Err(ApiError::bad_request(format!(
                        "{}: form field too long",
                        crate::visible(&name, 40)
                    )));
                }
                text.extend_from_slice(&chunk);
            }
            other(&name, String::from_utf8_lossy(&text).into_owned());
            continue;
        }
        if found.is_some() {
            return Err(ApiError::bad_request("file: send one file per request"));
        }
        let file_name = clean_name(field.file_name());
        let mut content = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| upload_error(e, max))? {
            if content.len() + chunk.len() > max {
                return Err(too_large(max));
            }
            content.extend_from_slice(&chunk);
        }
        found = Some((file_name, content));
    }
    found.ok_or_else(|| {
        ApiError::bad_request("file: send the attachment as multipart/form-data field `file`")
    })
}

fn too_large(max: usize) -> ApiError {
    ApiError::too_large(format!(
        "file: larger than {max} bytes (server.max_attachment_bytes)"
    ))
}

fn upload_error(e: axum::extract::multipart::MultipartError, max: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(max)
    } else {
        ApiError::bad_request(format!("file: the multipart body could not be read: {e}"))
    }
}

async fn upload(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Analyst)?;
    let id = parse_id(&id)?;
    let mut multipart = multipart.map_err(|e| {
        ApiError::bad_request(format!(
            "file: send multipart/form-data with a field `file` ({e})"
        ))
    })?;
    let (name, content) =
        read_upload(&mut multipart, state.config.max_attachment_bytes, |_, _| {}).await?;
    let attachment = state
        .store
        .add_attachment(id, &name, &content, &caller.0.name)
        .await?
        .map_err(refused)?;
    Ok((StatusCode::CREATED, Json(json!(attachment))))
}

/// An attachment as a download that no browser renders: octet-stream,
/// `Content-Disposition: attachment` and `nosniff` (the CSP that forbids
/// scripts is added to every answer by `headers::security_headers`).
pub fn download_response(name: &str, content: Vec<u8>) -> Response {
    // The plain filename keeps only safe ASCII; the UTF-8 form carries the rest.
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        crate::auth::percent_encode(name).replace('/', "%2F")
    );
    let mut response = Body::from(content).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition)
            .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn download(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, sha256)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let id = parse_id(&id)?;
    let sha256 = sha256.to_ascii_lowercase();
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request("sha256: 64 hex digits"));
    }
    let (meta, content) = state
        .store
        .attachment_content(id, &sha256)
        .await?
        .ok_or_else(|| ApiError::not_found("no such attachment in this incident"))?;
    Ok(download_response(&meta.name, content))
}
