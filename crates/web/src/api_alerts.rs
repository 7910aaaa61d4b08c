//! The JSON API for alerts: the queue (filters, cursor), one alert with its
//! events and history, changes by analysts (one or in bulk), silences, the
//! loaded rules and the notifications given up on (the dead-letter list).
//! Viewers read; analysts and admins change.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use nectar_event::{AlertResolution, AlertStatus, Severity, Timestamp};
use nectar_store::{AlertCursor, AlertFilter, AlertUpdate, FieldMatcher, NewSilence, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alerts", get(list).patch(bulk))
        .route("/api/v1/alerts/{id}", get(show).patch(update))
        .route("/api/v1/silences", get(silences).post(create_silence))
        .route(
            "/api/v1/silences/{id}",
            get(show_silence)
                .put(replace_silence)
                .delete(delete_silence),
        )
        .route("/api/v1/silences/{id}/expire", post(expire_silence))
        .route("/api/v1/rules", get(rules))
        .route("/api/v1/notify/dead-letters", get(dead_letters))
        .route(
            "/api/v1/notify/dead-letters/{id}/retry",
            post(retry_dead_letter),
        )
}

/// The queue's filters, as query parameters (also the UI's).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// `new`, `acknowledged`, `closed`, or `open` (new or acknowledged).
    pub status: Option<String>,
    /// The lowest severity shown.
    pub severity: Option<String>,
    /// A rule id.
    pub rule: Option<String>,
    /// A source address (the group's `src_ip`).
    pub src_ip: Option<String>,
    /// A user name, or `none` for unassigned alerts.
    pub assignee: Option<String>,
    /// Active at or after (RFC 3339).
    pub since: Option<String>,
    /// Active before (RFC 3339).
    pub until: Option<String>,
    /// Page size (1 to 1000, default 50).
    pub limit: Option<usize>,
    /// Where the page continues (`next_cursor` of the last page).
    pub cursor: Option<String>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl AlertQuery {
    /// The store's filter; errors name the parameter.
    pub fn filter(&self) -> Result<AlertFilter, ApiError> {
        let time = |name: &str, v: &Option<String>| -> Result<Option<Timestamp>, ApiError> {
            blank(v)
                .map(|t| {
                    t.parse::<Timestamp>()
                        .map_err(|e| ApiError::bad_request(format!("{name}: {e}")))
                })
                .transpose()
        };
        let open = blank(&self.status) == Some("open");
        Ok(AlertFilter {
            status: blank(&self.status)
                .filter(|_| !open)
                .map(|s| {
                    AlertStatus::parse(s).ok_or_else(|| {
                        ApiError::bad_request("status: expected new, acknowledged, closed or open")
                    })
                })
                .transpose()?,
            open,
            min_severity: blank(&self.severity)
                .map(|s| {
                    s.parse::<Severity>()
                        .map_err(|e| ApiError::bad_request(format!("severity: {e}")))
                })
                .transpose()?,
            rule: blank(&self.rule).map(str::to_owned),
            src_ip: blank(&self.src_ip)
                .map(|ip| {
                    ip.parse::<std::net::IpAddr>()
                        .map(|ip| ip.to_string())
                        .map_err(|_| ApiError::bad_request("src_ip: expected an IP address"))
                })
                .transpose()?,
            assignee: blank(&self.assignee).map(|a| (a != "none").then(|| a.to_owned())),
            since: time("since", &self.since)?,
            until: time("until", &self.until)?,
        })
    }

    /// The page size and cursor.
    pub fn page(&self) -> Result<(usize, Option<AlertCursor>), ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=nectar_store::MAX_ALERT_PAGE).contains(&limit) {
            return Err(ApiError::bad_request("limit: expected 1 to 1000"));
        }
        let cursor = blank(&self.cursor)
            .map(|c| {
                AlertCursor::decode(c)
                    .ok_or_else(|| ApiError::bad_request("cursor: not a cursor this API gave"))
            })
            .transpose()?;
        Ok((limit, cursor))
    }
}

async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<AlertQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let filter = query.filter()?;
    let (limit, cursor) = query.page()?;
    let (alerts, next) = state.store.alerts(&filter, limit, cursor).await?;
    Ok(Json(json!({
        "alerts": alerts,
        "next_cursor": next.map(|c| c.encode()),
    })))
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(id).map_err(|_| ApiError::bad_request("alert id must be a UUID"))
}

async fn show(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let id = parse_id(&id)?;
    let alert = state
        .store
        .alert(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no alert with id {id}")))?;
    let events = state.store.alert_events(id, 100).await?;
    let linked = state.store.alert_event_count(id).await?;
    let history = state.store.alert_history(id, 1_000).await?;
    let mut body = serde_json::to_value(&alert).unwrap_or_default();
    if let Value::Object(map) = &mut body {
        map.insert("linked_events".into(), json!(linked));
        map.insert(
            "events".into(),
            Value::Array(
                events
                    .into_iter()
                    .map(|(mut e, silenced)| {
                        state.reveal(&mut e);
                        let mut v = serde_json::to_value(&e).unwrap_or_default();
                        if let Value::Object(m) = &mut v {
                            m.insert("silenced".into(), json!(silenced));
                        }
                        v
                    })
                    .collect(),
            ),
        );
        map.insert(
            "history".into(),
            serde_json::to_value(history).unwrap_or_default(),
        );
    }
    Ok(Json(body))
}

/// A change to alerts, as JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    /// `new`, `acknowledged` or `closed`.
    pub status: Option<String>,
    /// Why it was closed.
    pub resolution: Option<String>,
    /// A user name; `null` or `""` unassigns.
    #[serde(default, deserialize_with = "some_or_null")]
    pub assignee: Option<Option<String>>,
}

/// Tells an absent field (`None`) from an explicit null (`Some(None)`).
fn some_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}

impl UpdateBody {
    /// The store's update; errors name the field.
    pub fn update(&self) -> Result<AlertUpdate, ApiError> {
        Ok(AlertUpdate {
            status: blank(&self.status)
                .map(|s| {
                    AlertStatus::parse(s).ok_or_else(|| {
                        ApiError::bad_request("status: expected new, acknowledged or closed")
                    })
                })
                .transpose()?,
            resolution: blank(&self.resolution)
                .map(|r| {
                    AlertResolution::parse(r).ok_or_else(|| {
                        ApiError::bad_request(
                            "resolution: expected true_positive, false_positive, benign or duplicate",
                        )
                    })
                })
                .transpose()?,
            assignee: self.assignee.as_ref().map(|a| {
                a.as_deref()
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(|a| a.chars().take(128).collect())
            }),
        })
    }
}

async fn apply(
    state: &AppState,
    caller: &ApiCaller,
    ids: &[Uuid],
    update: &AlertUpdate,
) -> Result<Vec<nectar_event::Alert>, ApiError> {
    caller.require(Role::Analyst)?;
    state
        .store
        .update_alerts(ids, update, &caller.0.name)
        .await?
        .map_err(|e| {
            ApiError::with_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        })
}

async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    Json(body): Json<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let id = parse_id(&id)?;
    let changed = apply(&state, &caller, &[id], &body.update()?).await?;
    let alert = changed
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found(format!("no alert with id {id}")))?;
    Ok(Json(serde_json::to_value(alert).unwrap_or_default()))
}

/// A bulk change: the listed alerts, or every alert the filter matches.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// The alerts to change.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Or: every alert matching these filters (at most 10,000).
    pub filter: Option<AlertQuery>,
    /// The change.
    #[serde(flatten)]
    pub change: UpdateBody,
}

async fn bulk(
    State(state): State<AppState>,
    caller: ApiCaller,
    Json(body): Json<BulkBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let ids: Vec<Uuid> = match (&body.filter, body.ids.is_empty()) {
        (Some(filter), true) => state.store.alert_ids(&filter.filter()?).await?,
        (None, false) => body
            .ids
            .iter()
            .take(nectar_store::MAX_BULK)
            .map(|id| parse_id(id))
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(ApiError::bad_request(
                "give either ids (a list of alert ids) or filter (the queue's filters)",
            ));
        }
    };
    let changed = apply(&state, &caller, &ids, &body.change.update()?).await?;
    Ok(Json(json!({"updated": changed.len()})))
}

async fn silences(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let list = state.store.silences(None, 1_000).await?;
    Ok(Json(json!({ "silences": list })))
}

/// A silence to make, as JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilenceBody {
    /// Only this rule id.
    pub rule: Option<String>,
    /// Only sources in this network or address.
    pub cidr: Option<String>,
    /// Only events with these field values.
    #[serde(default)]
    pub matchers: Vec<FieldMatcher>,
    /// Why (required).
    pub reason: String,
    /// Until when (RFC 3339), or
    pub expires: Option<String>,
    /// for how many hours from now (default 24).
    pub hours: Option<u32>,
}

impl SilenceBody {
    /// The store's silence; errors name the field.
    pub fn silence(&self) -> Result<NewSilence, ApiError> {
        let reason = self.reason.trim();
        if reason.is_empty() {
            return Err(ApiError::bad_request(
                "reason: say why matches are silenced",
            ));
        }
        let cidr = blank(&self.cidr)
            .map(|c| {
                nectar_rules::silence::parse_network(c)
                    .map(|n| n.to_string())
                    .ok_or_else(|| {
                        ApiError::bad_request("cidr: expected a network such as 203.0.113.0/24")
                    })
            })
            .transpose()?;
        let rule = blank(&self.rule).map(str::to_owned);
        if rule.is_none() && cidr.is_none() && self.matchers.is_empty() {
            return Err(ApiError::bad_request(
                "a silence needs at least one of rule, cidr or matchers (it would silence everything)",
            ));
        }
        if self.matchers.len() > 16
            || self
                .matchers
                .iter()
                .any(|m| m.field.trim().is_empty() || m.field.len() > 128 || m.value.len() > 1024)
        {
            return Err(ApiError::bad_request(
                "matchers: at most 16, each with a field (≤ 128 bytes) and a value (≤ 1024 bytes)",
            ));
        }
        let expires = match (blank(&self.expires), self.hours) {
            (Some(t), _) => t
                .parse::<Timestamp>()
                .map_err(|e| ApiError::bad_request(format!("expires: {e}")))?,
            (None, hours) => {
                let hours = i64::from(hours.unwrap_or(24).clamp(1, 24 * 366));
                Timestamp::from_micros(Timestamp::now().as_micros() + hours * 3_600_000_000)
                    .ok_or_else(|| ApiError::bad_request("hours: too far"))?
            }
        };
        if expires <= Timestamp::now() {
            return Err(ApiError::bad_request("expires: must be in the future"));
        }
        Ok(NewSilence {
            rule_id: rule,
            cidr,
            matchers: self.matchers.clone(),
            reason: reason.chars().take(1_000).collect(),
            expires,
        })
    }
}

async fn create_silence(
    State(state): State<AppState>,
    caller: ApiCaller,
    Json(body): Json<SilenceBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let silence = state
        .store
        .create_silence(&body.silence()?, &caller.0.name)
        .await?;
    Ok(Json(serde_json::to_value(silence).unwrap_or_default()))
}

fn silence_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(id).map_err(|_| ApiError::bad_request("silence id must be a UUID"))
}

async fn show_silence(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let id = silence_id(&id)?;
    match state.store.silence(id).await? {
        Some(s) => Ok(Json(serde_json::to_value(s).unwrap_or_default())),
        None => Err(ApiError::not_found(format!("no silence with id {id}"))),
    }
}

/// Replaces what a silence holds back, its reason and its expiry (the body is
/// a new silence's); who made it and its count stay, the change is recorded.
async fn replace_silence(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    Json(body): Json<SilenceBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let id = silence_id(&id)?;
    let silence = body.silence()?;
    match state
        .store
        .update_silence(id, &silence, &caller.0.name)
        .await?
    {
        Some(s) => Ok(Json(serde_json::to_value(s).unwrap_or_default())),
        None => Err(ApiError::not_found(format!("no silence with id {id}"))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadLetterQuery {
    limit: Option<usize>,
}

/// Notifications given up on, newest first (each with its last error).
async fn dead_letters(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<DeadLetterQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1_000);
    let list = state.store.notify_dead(limit).await?;
    Ok(Json(json!({ "deliveries": list })))
}

/// Puts a dead delivery back in the outbox, due now.
async fn retry_dead_letter(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let id =
        Uuid::try_parse(&id).map_err(|_| ApiError::bad_request("delivery id must be a UUID"))?;
    match state.store.notify_retry(id).await {
        Ok(()) => Ok(Json(json!({ "retried": id }))),
        Err(nectar_store::StoreError::NotFound { .. }) => Err(ApiError::conflict(format!(
            "delivery {id} is not in the dead-letter list (unknown, or already retried)"
        ))),
        Err(e) => Err(e.into()),
    }
}

async fn expire_silence(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let id = silence_id(&id)?;
    if !state.store.expire_silence(id).await? {
        return Err(ApiError::not_found(format!("no silence with id {id}")));
    }
    Ok(Json(json!({"expired": id})))
}

async fn delete_silence(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let id = silence_id(&id)?;
    if !state.store.delete_silence(id).await? {
        return Err(ApiError::not_found(format!("no silence with id {id}")));
    }
    Ok(Json(json!({"deleted": id})))
}

async fn rules(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let hits = state.store.rule_hits().await?;
    let Some(catalog) = &state.rules else {
        return Ok(Json(json!({"enabled": false, "rules": [], "errors": []})));
    };
    let rules: Vec<Value> = catalog
        .rules
        .iter()
        .map(|info| {
            let mut v = serde_json::to_value(info).unwrap_or_default();
            let (n, last) = hits
                .iter()
                .find(|(id, _, _)| *id == info.rule.id)
                .map_or((0, None), |(_, n, last)| (*n, Some(*last)));
            if let Value::Object(m) = &mut v {
                m.insert("hits".into(), json!(n));
                m.insert("last_hit".into(), json!(last));
            }
            v
        })
        .collect();
    let stats = &catalog.stats;
    let get = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    Ok(Json(json!({
        "enabled": true,
        "rules": rules,
        "errors": catalog.errors,
        "stage": {
            "events": get(&stats.events),
            "matches": get(&stats.matches),
            "raised": get(&stats.raised),
            "folded": get(&stats.folded),
            "silenced": get(&stats.silenced),
            "windows": get(&stats.windows),
        },
    })))
}
