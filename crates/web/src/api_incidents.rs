//! The JSON API for incidents: the list (filters, cursor), opening one (from
//! alerts and/or a template), reading, changing (`PATCH`), deleting (admin),
//! escalating more alerts into one, merging two, its history, its export and
//! the shipped templates. The case's parts (comments, tasks, observables,
//! timeline, attachments) are in [`crate::api_incident_parts`].
//! Viewers read; analysts create and change; admins delete.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use nectar_event::{Classification, Incident, IncidentTemplate, TEMPLATES};
use nectar_store::{
    IncidentCursor, IncidentError, IncidentFilter, IncidentPatch, MAX_INCIDENT_PAGE, NewIncident,
    Role,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::ApiError;
use crate::incident_input as input;

pub fn routes(config: &crate::WebConfig) -> Router<AppState> {
    Router::new()
        .route("/api/v1/incidents", get(list).post(create))
        .route(
            "/api/v1/incidents/{id}",
            get(show).patch(update).delete(remove),
        )
        .route("/api/v1/incidents/{id}/alerts", post(escalate))
        .route("/api/v1/incidents/{id}/merge", post(merge))
        .route("/api/v1/incidents/{id}/history", get(history))
        .route("/api/v1/incidents/{id}/export", get(export))
        .route("/api/v1/incident-templates", get(templates))
        .merge(crate::api_incident_parts::routes(config))
}

/// An incident refusal as an API error.
pub fn refused(e: IncidentError) -> ApiError {
    let status = match e {
        IncidentError::NotFound(_) | IncidentError::TaskMissing(_) => StatusCode::NOT_FOUND,
        IncidentError::AlertTaken { .. } => StatusCode::CONFLICT,
        IncidentError::MergeSelf => StatusCode::BAD_REQUEST,
        IncidentError::ResolutionMissing
        | IncidentError::ResolutionWithoutClose
        | IncidentError::AlertMissing(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::with_status(status, e.to_string())
}

/// An incident id from a path.
pub fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(id).map_err(|_| ApiError::bad_request("incident id must be a UUID"))
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The list's filters, as query parameters (also the UI's).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentQuery {
    /// `new`, `in_progress`, `contained`, `closed`, or `open` (not closed).
    pub status: Option<String>,
    /// A user name, or `none` for unassigned incidents.
    pub assignee: Option<String>,
    /// The lowest severity listed.
    pub severity: Option<String>,
    /// Text in the title.
    pub q: Option<String>,
    /// Page size (1 to 500, default 50).
    pub limit: Option<usize>,
    /// Where the page continues (`next_cursor` of the last page).
    pub cursor: Option<String>,
}

impl IncidentQuery {
    /// The store's filter; errors name the parameter.
    pub fn filter(&self) -> Result<IncidentFilter, ApiError> {
        let open = blank(&self.status) == Some("open");
        Ok(IncidentFilter {
            status: blank(&self.status)
                .filter(|_| !open)
                .map(|s| {
                    input::status(s).map_err(|_| {
                        ApiError::bad_request(
                            "status: expected new, in_progress, contained, closed or open",
                        )
                    })
                })
                .transpose()?,
            open,
            assignee: blank(&self.assignee).map(|a| (a != "none").then(|| a.to_owned())),
            min_severity: blank(&self.severity).map(input::severity).transpose()?,
            text: blank(&self.q)
                .map(|q| input::line("q", q, input::MAX_TITLE))
                .transpose()?,
        })
    }

    /// The page size and cursor.
    pub fn page(&self) -> Result<(usize, Option<IncidentCursor>), ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=MAX_INCIDENT_PAGE).contains(&limit) {
            return Err(ApiError::bad_request("limit: expected 1 to 500"));
        }
        let cursor = blank(&self.cursor)
            .map(|c| {
                IncidentCursor::decode(c)
                    .ok_or_else(|| ApiError::bad_request("cursor: not a cursor this API gave"))
            })
            .transpose()?;
        Ok((limit, cursor))
    }
}

async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<IncidentQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let filter = query.filter()?;
    let (limit, cursor) = query.page()?;
    let (incidents, next) = state.store.incidents(&filter, limit, cursor).await?;
    Ok(Json(json!({
        "incidents": incidents,
        "next_cursor": next.map(|c| c.encode()),
    })))
}

/// An incident to open, as JSON.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// Its title (empty: the template's, or the first alert's).
    #[serde(default)]
    pub title: Option<String>,
    /// Markdown.
    #[serde(default)]
    pub description: Option<String>,
    /// `info` to `critical`.
    #[serde(default)]
    pub severity: Option<String>,
    /// A user name.
    #[serde(default)]
    pub assignee: Option<String>,
    /// TLP level.
    #[serde(default)]
    pub tlp: Option<String>,
    /// PAP level.
    #[serde(default)]
    pub pap: Option<String>,
    /// Labels.
    #[serde(default)]
    pub tags: Vec<String>,
    /// ATT&CK technique ids.
    #[serde(default)]
    pub techniques: Vec<String>,
    /// The classification block.
    #[serde(default)]
    pub classification: Option<Classification>,
    /// A shipped template's name.
    #[serde(default)]
    pub template: Option<String>,
    /// Alert ids to escalate into it.
    #[serde(default)]
    pub alerts: Vec<String>,
}

/// Alert ids from text, bounded; errors name the field.
pub fn alert_ids(field: &str, ids: &[String]) -> Result<Vec<Uuid>, ApiError> {
    if ids.len() > nectar_store::MAX_BULK {
        return Err(ApiError::bad_request(format!(
            "{field}: at most {} alerts at once",
            nectar_store::MAX_BULK
        )));
    }
    ids.iter()
        .map(|id| {
            Uuid::try_parse(id.trim()).map_err(|_| {
                ApiError::bad_request(format!(
                    "{field}: {:?} is not an alert id",
                    crate::visible(id, 40)
                ))
            })
        })
        .collect()
}

impl CreateBody {
    /// The store's new incident; errors name the field.
    pub fn incident(&self) -> Result<NewIncident, ApiError> {
        let template = blank(&self.template)
            .map(|name| {
                IncidentTemplate::find(name).ok_or_else(|| {
                    let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
                    ApiError::bad_request(format!("template: expected one of {}", names.join(", ")))
                })
            })
            .transpose()?;
        let alerts = alert_ids("alerts", &self.alerts)?;
        let title = match blank(&self.title) {
            Some(t) => input::line("title", t, input::MAX_TITLE)?,
            None if template.is_some() || !alerts.is_empty() => String::new(),
            None => return Err(ApiError::bad_request("title: must not be empty")),
        };
        Ok(NewIncident {
            title,
            description: input::markdown(
                "description",
                self.description.as_deref().unwrap_or_default(),
                false,
            )?,
            severity: blank(&self.severity).map(input::severity).transpose()?,
            assignee: input::assignee("assignee", self.assignee.as_deref().unwrap_or_default())?,
            tlp: blank(&self.tlp).map(|v| input::tlp("tlp", v)).transpose()?,
            pap: blank(&self.pap).map(|v| input::tlp("pap", v)).transpose()?,
            tags: input::tags(self.tags.iter().map(String::as_str))?,
            techniques: input::techniques(self.techniques.iter().map(String::as_str))?,
            classification: self
                .classification
                .clone()
                .map(input::classification)
                .transpose()?,
            template,
            alerts,
        })
    }
}

/// An incident with its alert ids, observables and counts: what `GET`,
/// `POST` and `PATCH` answer.
pub async fn detail(state: &AppState, incident: &Incident) -> Result<Value, ApiError> {
    let alerts = state.store.incident_alert_ids(incident.id).await?;
    let observables = state
        .store
        .incident_observables(incident.id, 10_000)
        .await?;
    let counts = state.store.incident_counts(incident.id, 1_000_000).await?;
    let mut body = serde_json::to_value(incident).unwrap_or_default();
    if let Value::Object(map) = &mut body {
        map.insert("alerts".into(), json!(alerts));
        map.insert("observables".into(), json!(observables));
        map.insert("counts".into(), json!(counts));
    }
    Ok(body)
}

async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    Json(body): Json<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Analyst)?;
    let new = body.incident()?;
    let incident = state
        .store
        .create_incident(&new, &caller.0.name)
        .await?
        .map_err(refused)?;
    Ok((StatusCode::CREATED, Json(detail(&state, &incident).await?)))
}

/// One incident, or 404.
pub async fn load(state: &AppState, id: Uuid) -> Result<Incident, ApiError> {
    state
        .store
        .incident(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no incident with id {id}")))
}

async fn show(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let incident = load(&state, parse_id(&id)?).await?;
    Ok(Json(detail(&state, &incident).await?))
}

/// Tells an absent field (`None`) from an explicit null (`Some(None)`).
fn some_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}

/// A change to an incident, as JSON; absent fields stay as they are.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    /// A new title.
    pub title: Option<String>,
    /// A new description (Markdown).
    pub description: Option<String>,
    /// `info` to `critical`.
    pub severity: Option<String>,
    /// `new`, `in_progress`, `contained`, `closed`.
    pub status: Option<String>,
    /// Why it was closed (required when closing).
    pub resolution: Option<String>,
    /// A user name; `null` or `""` unassigns.
    #[serde(default, deserialize_with = "some_or_null")]
    pub assignee: Option<Option<String>>,
    /// TLP.
    pub tlp: Option<String>,
    /// PAP.
    pub pap: Option<String>,
    /// The whole tag list.
    pub tags: Option<Vec<String>>,
    /// The whole technique list.
    pub techniques: Option<Vec<String>>,
    /// The whole classification.
    pub classification: Option<Classification>,
}

impl PatchBody {
    /// The store's patch; errors name the field.
    pub fn patch(&self) -> Result<IncidentPatch, ApiError> {
        Ok(IncidentPatch {
            title: self
                .title
                .as_deref()
                .map(|t| input::line("title", t, input::MAX_TITLE))
                .transpose()?,
            description: self
                .description
                .as_deref()
                .map(|d| input::markdown("description", d, false))
                .transpose()?,
            severity: blank(&self.severity).map(input::severity).transpose()?,
            status: blank(&self.status).map(input::status).transpose()?,
            resolution: blank(&self.resolution).map(input::resolution).transpose()?,
            assignee: self
                .assignee
                .as_ref()
                .map(|a| input::assignee("assignee", a.as_deref().unwrap_or_default()))
                .transpose()?,
            tlp: blank(&self.tlp).map(|v| input::tlp("tlp", v)).transpose()?,
            pap: blank(&self.pap).map(|v| input::tlp("pap", v)).transpose()?,
            tags: self
                .tags
                .as_ref()
                .map(|t| input::tags(t.iter().map(String::as_str)))
                .transpose()?,
            techniques: self
                .techniques
                .as_ref()
                .map(|t| input::techniques(t.iter().map(String::as_str)))
                .transpose()?,
            classification: self
                .classification
                .clone()
                .map(input::classification)
                .transpose()?,
        })
    }
}

async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    Json(body): Json<PatchBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let id = parse_id(&id)?;
    let patch = body.patch()?;
    let incident = state
        .store
        .update_incident(id, &patch, &caller.0.name)
        .await?
        .map_err(refused)?;
    Ok(Json(detail(&state, &incident).await?))
}

async fn remove(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin)?;
    let id = parse_id(&id)?;
    if !state.store.delete_incident(id, &caller.0.name).await? {
        return Err(ApiError::not_found(format!("no incident with id {id}")));
    }
    Ok(Json(json!({"deleted": id})))
}

/// Alerts to escalate into an existing incident.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalateBody {
    /// Alert ids.
    pub alerts: Vec<String>,
}

async fn escalate(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    Json(body): Json<EscalateBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let id = parse_id(&id)?;
    let alerts = alert_ids("alerts", &body.alerts)?;
    if alerts.is_empty() {
        return Err(ApiError::bad_request("alerts: give at least one alert id"));
    }
    let incident = state
        .store
        .escalate_alerts(id, &alerts, &caller.0.name)
        .await?
        .map_err(refused)?;
    Ok(Json(detail(&state, &incident).await?))
}

/// Where to merge an incident.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The incident that takes everything.
    pub into: String,
}

async fn merge(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    Json(body): Json<MergeBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let from = parse_id(&id)?;
    let into = Uuid::try_parse(body.into.trim())
        .map_err(|_| ApiError::bad_request("into: must be an incident id (a UUID)"))?;
    let incident = state
        .store
        .merge_incidents(from, into, &caller.0.name)
        .await?
        .map_err(refused)?;
    Ok(Json(detail(&state, &incident).await?))
}

async fn history(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let id = parse_id(&id)?;
    let history = state.store.incident_history(id, 10_000).await?;
    if history.is_empty() {
        return Err(ApiError::not_found(format!("no incident with id {id}")));
    }
    Ok(Json(json!({ "history": history })))
}

/// Most events an export carries (the alerts name the rest).
pub const EXPORT_EVENTS: usize = 10_000;

/// Everything about an incident as one JSON document (the UI's
/// "Export JSON" and the API's `/export`).
pub async fn export_document(state: &AppState, id: Uuid) -> Result<Value, ApiError> {
    let incident = load(state, id).await?;
    let store = &state.store;
    let alerts = store.incident_alerts(id, 10_000).await?;
    let mut events = store.incident_events(id, None, EXPORT_EVENTS).await?;
    for e in &mut events {
        state.reveal(e);
    }
    Ok(json!({
        "exported": nectar_event::Timestamp::now(),
        "incident": incident,
        "alerts": alerts,
        "events": events,
        "events_truncated": events.len() >= EXPORT_EVENTS,
        "observables": store.incident_observables(id, 10_000).await?,
        "tasks": store.incident_tasks(id).await?,
        "comments": store.incident_comments(id, 10_000).await?,
        "timeline": store.incident_timeline_notes(id, 10_000).await?,
        "attachments": store.incident_attachments(id).await?,
        "history": store.incident_history(id, 10_000).await?,
    }))
}

async fn export(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    Ok(Json(export_document(&state, parse_id(&id)?).await?))
}

async fn templates(caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    Ok(Json(json!({ "templates": TEMPLATES })))
}
