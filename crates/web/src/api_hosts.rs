//! The JSON API of the inventory: the host list with its search and cursor,
//! one host (services, history), analysts' edits (kept in the history), and
//! the subnets with their counts. Viewers read; analysts edit.

use std::net::IpAddr;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use nectar_event::Timestamp;
use nectar_store::{HostCursor, HostFilter, HostUpdate, MAX_HOST_PAGE, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/hosts", get(list))
        .route("/api/v1/hosts/{address}", get(show).patch(update))
        .route("/api/v1/subnets", get(subnets))
}

/// The host list's filters, as query parameters (also the UI's).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct HostQuery {
    /// An address or prefix (`192.0.2.0/24`), or text found in the name, MAC,
    /// vendor, OS, owner, location, tags or notes.
    pub q: Option<String>,
    /// A port open on the host.
    pub port: Option<String>,
    /// A tag.
    pub tag: Option<String>,
    /// An owner.
    pub owner: Option<String>,
    /// Seen at or after (RFC 3339).
    pub since: Option<String>,
    /// `true`: hosts reported gone too.
    pub gone: Option<String>,
    /// Page size (1 to 1000, default 100).
    pub limit: Option<String>,
    /// Where the page continues (`next_cursor`).
    pub cursor: Option<String>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl HostQuery {
    /// The store's filter; errors name the parameter.
    pub fn filter(&self) -> Result<HostFilter, ApiError> {
        let mut filter = HostFilter::default();
        if let Some(q) = blank(&self.q) {
            match nectar_inventory::config::parse_prefix(q) {
                Ok(net) if q.contains(['.', ':']) => {
                    filter.prefix = Some((net.network(), net.prefix_len()));
                }
                _ => filter.text = Some(q.chars().take(256).collect()),
            }
        }
        filter.port = blank(&self.port)
            .map(|p| {
                p.parse::<u16>()
                    .map_err(|_| ApiError::bad_request("port: expected a port number (0 to 65535)"))
            })
            .transpose()?;
        filter.tag = blank(&self.tag).map(|t| t.chars().take(64).collect());
        filter.owner = blank(&self.owner).map(|t| t.chars().take(128).collect());
        filter.seen_since = blank(&self.since)
            .map(|t| {
                t.parse::<Timestamp>()
                    .map_err(|e| ApiError::bad_request(format!("since: {e}")))
            })
            .transpose()?;
        filter.include_gone = matches!(blank(&self.gone), Some("true" | "1" | "on"));
        Ok(filter)
    }

    /// The page size and cursor.
    pub fn page(&self) -> Result<(usize, Option<HostCursor>), ApiError> {
        let limit = match blank(&self.limit) {
            None => 100,
            Some(l) => l
                .parse::<usize>()
                .ok()
                .filter(|l| (1..=MAX_HOST_PAGE).contains(l))
                .ok_or_else(|| {
                    ApiError::bad_request(format!("limit: expected 1 to {MAX_HOST_PAGE}"))
                })?,
        };
        let cursor = blank(&self.cursor)
            .map(|c| {
                HostCursor::decode(c)
                    .ok_or_else(|| ApiError::bad_request("cursor: not a cursor this API gave"))
            })
            .transpose()?;
        Ok((limit, cursor))
    }
}

async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<HostQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let filter = query.filter()?;
    let (limit, cursor) = query.page()?;
    let (hosts, next) = state.store.hosts(&filter, limit, cursor).await?;
    Ok(Json(json!({
        "hosts": hosts,
        "next_cursor": next.map(|c| c.encode()),
    })))
}

/// An address from the path; errors say what is wrong.
pub fn parse_address(text: &str) -> Result<IpAddr, ApiError> {
    text.trim()
        .parse()
        .map_err(|_| ApiError::bad_request("the host must be an IP address"))
}

async fn show(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(address): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let address = parse_address(&address)?;
    let host = state
        .store
        .host(address)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no host {address} in the inventory")))?;
    let history = state.store.host_history(address, 1000).await?;
    let mut body = serde_json::to_value(&host).unwrap_or_default();
    if let Value::Object(map) = &mut body {
        map.insert(
            "history".into(),
            serde_json::to_value(history).unwrap_or_default(),
        );
        let subnets: Vec<Value> = state
            .inventory
            .subnets
            .iter()
            .filter(|s| s.cidr.contains(&address))
            .map(|s| json!({"cidr": s.cidr.to_string(), "name": s.name, "owner": s.owner}))
            .collect();
        map.insert("subnets".into(), Value::Array(subnets));
    }
    Ok(Json(body))
}

/// An analyst's change to a host, as JSON.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostPatch {
    /// Its name.
    pub name: Option<String>,
    /// Who answers for it.
    pub owner: Option<String>,
    /// Where it is.
    pub location: Option<String>,
    /// Tags (replacing the list).
    pub tags: Option<Vec<String>>,
    /// Notes.
    pub notes: Option<String>,
    /// Checked by an analyst.
    pub verified: Option<bool>,
    /// Left out of reviews.
    pub ignored: Option<bool>,
}

impl HostPatch {
    /// The store's update; errors name the field.
    pub fn update(&self) -> Result<HostUpdate, ApiError> {
        let text =
            |name: &str, v: &Option<String>, max: usize| -> Result<Option<String>, ApiError> {
                match v {
                    Some(s) if s.len() > max => Err(ApiError::bad_request(format!(
                        "{name}: at most {max} bytes"
                    ))),
                    Some(s) => Ok(Some(s.trim().to_owned())),
                    None => Ok(None),
                }
            };
        let tags = match &self.tags {
            Some(list) => {
                if list.len() > 32 {
                    return Err(ApiError::bad_request("tags: at most 32"));
                }
                let mut out = Vec::new();
                for t in list {
                    let t = t.trim();
                    if t.is_empty() || t.len() > 64 || t.contains(',') {
                        return Err(ApiError::bad_request(
                            "tags: each tag is 1 to 64 bytes without commas",
                        ));
                    }
                    if !out.iter().any(|o: &String| o == t) {
                        out.push(t.to_owned());
                    }
                }
                Some(out)
            }
            None => None,
        };
        Ok(HostUpdate {
            name: text("name", &self.name, 255)?,
            owner: text("owner", &self.owner, 255)?,
            location: text("location", &self.location, 255)?,
            tags,
            notes: text("notes", &self.notes, 8192)?,
            verified: self.verified,
            ignored: self.ignored,
        })
    }
}

async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(address): Path<String>,
    Json(body): Json<HostPatch>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Analyst)?;
    let address = parse_address(&address)?;
    let update = body.update()?;
    let host = state
        .store
        .update_host(address, &update, &caller.0.name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no host {address} in the inventory")))?;
    Ok(Json(serde_json::to_value(host).unwrap_or_default()))
}

async fn subnets(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let mut out = Vec::new();
    for s in &state.inventory.subnets {
        let (hosts, services) = state
            .store
            .prefix_counts(s.cidr.network(), s.cidr.prefix_len())
            .await?;
        out.push(json!({
            "cidr": s.cidr.to_string(),
            "name": s.name,
            "owner": s.owner,
            "location": s.location,
            "notes": s.notes,
            "hosts": hosts,
            "open_services": services,
            "scan_scope": state.inventory.scan_scope.covers(&s.cidr),
        }));
    }
    Ok(Json(json!({ "subnets": out })))
}
