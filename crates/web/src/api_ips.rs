//! The attacker profile of one source address (`GET /api/v1/ips/{address}`,
//! and the page `/ips/{address}` built from the same [`Profile`]): first and
//! last seen, sensors, enrichment (GeoIP, ASN, reputation lists), sessions,
//! credentials tried, commands, downloads, HASSH and user agents, alerts, and
//! its activity per day.
//!
//! Counts and times cover every stored event of the address; the lists of
//! credentials, commands and so on are taken from its latest [`RECENT`] events,
//! so the profile costs the same for an address with a million events.

use std::collections::BTreeMap;
use std::net::IpAddr;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use nectar_event::{Category, Event, Timestamp, field};
use nectar_store::{
    AlertFilter, AttackerSummary, EventFilter, Network, Role, SessionFilter, SessionSummary,
    StoreError,
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::ApiError;

/// Latest events read for the lists of the profile.
pub(crate) const RECENT: usize = 2_000;
/// Most rows of each list.
const ROWS: usize = 50;
/// Buckets of the activity chart.
const BUCKETS: i64 = 60;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/ips/{address}", get(profile_api))
}

/// A value seen, how often, and when last.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Seen {
    pub value: String,
    pub count: usize,
    pub last: Timestamp,
}

/// A credential pair tried.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Credential {
    pub username: String,
    /// The password, or `null` when it was captured sealed and this server
    /// cannot open it.
    pub password: Option<String>,
    pub success: bool,
    pub count: usize,
}

/// Everything the profile shows.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Profile {
    pub address: String,
    pub geo: Value,
    pub asn: Value,
    pub lists: Value,
    /// Reverse DNS (`{name, verified, error}`), `null` when `[enrich.dns]`
    /// is off.
    pub name: Option<nectar_enrich::ReverseName>,
    /// Attribution and build dates of the databases the geo data is from.
    pub sources: Vec<Value>,
    #[serde(flatten)]
    pub summary: AttackerSummary,
    #[serde(skip)]
    pub session_rows: Vec<SessionSummary>,
    pub credentials: Vec<Credential>,
    pub commands: Vec<Seen>,
    pub downloads: Vec<Seen>,
    pub uploads: Vec<Seen>,
    pub hassh: Vec<Seen>,
    pub client_versions: Vec<Seen>,
    pub user_agents: Vec<Seen>,
    pub http_paths: Vec<Seen>,
    pub kinds: Vec<Seen>,
    pub alerts: Vec<Value>,
    /// Events per bucket: `{start, count}`, from first to last seen.
    pub activity: Vec<Value>,
    pub activity_bucket_seconds: i64,
    /// Whether the lists above come from the latest events only.
    pub recent_only: bool,
}

fn tally(map: &mut BTreeMap<String, (usize, Timestamp)>, value: &str, time: Timestamp) {
    if value.is_empty() {
        return;
    }
    let value: String = value.chars().take(512).collect();
    let e = map.entry(value).or_insert((0, time));
    e.0 += 1;
    if time > e.1 {
        e.1 = time;
    }
}

fn top(map: BTreeMap<String, (usize, Timestamp)>) -> Vec<Seen> {
    let mut v: Vec<Seen> = map
        .into_iter()
        .map(|(value, (count, last))| Seen { value, count, last })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(b.last.cmp(&a.last)));
    v.truncate(ROWS);
    v
}

fn text<'a>(e: &'a Event, key: &str) -> Option<&'a str> {
    e.data.get(key).and_then(Value::as_str)
}

/// The profile of `ip`.
pub(crate) async fn profile(state: &AppState, ip: IpAddr) -> Result<Profile, StoreError> {
    let summary = state.store.attacker_summary(ip).await?;
    let tables = state.enrich.snapshot();
    let found = tables.lookup(ip);
    let enrich = serde_json::to_value(found).unwrap_or(Value::Null);
    let sources = tables
        .databases()
        .iter()
        .map(|d| {
            json!({
                "database_type": d.database_type,
                "build_epoch": d.build_epoch,
                "attribution": d.attribution,
            })
        })
        .collect();
    drop(tables);
    // Looked up now (cached; bounded by `[enrich.dns] timeout`), only here.
    let name = state.enrich.names().reverse(ip).await;
    let full = if ip.is_ipv4() { 32 } else { 128 };
    let sessions = state
        .store
        .list_sessions(
            &SessionFilter {
                src: Some(Network::new(ip, full)),
                ..SessionFilter::default()
            },
            None,
            ROWS,
        )
        .await?
        .sessions;
    let recent = state
        .store
        .list_events(
            &EventFilter {
                src_ip: Some(ip),
                ..EventFilter::default()
            },
            None,
            RECENT,
        )
        .await?;
    let recent_only = recent.next.is_some();
    let mut creds: BTreeMap<(String, Option<String>, bool), usize> = BTreeMap::new();
    let (mut commands, mut downloads, mut uploads) = Default::default();
    let (mut hassh, mut versions, mut agents, mut paths, mut kinds) = Default::default();
    for mut e in recent.events {
        state.reveal(&mut e);
        tally(&mut kinds, e.kind.as_str(), e.time);
        match e.kind.category() {
            Category::LoginSuccess | Category::LoginFailure | Category::LoginPosted => {
                let user = text(&e, field::USERNAME)
                    .unwrap_or("")
                    .chars()
                    .take(256)
                    .collect();
                let pass = text(&e, field::PASSWORD).map(|p| p.chars().take(256).collect());
                let ok = e.kind.category() == Category::LoginSuccess;
                *creds.entry((user, pass, ok)).or_default() += 1;
            }
            Category::Command => {
                if let Some(c) = text(&e, field::INPUT) {
                    tally(&mut commands, c, e.time);
                }
            }
            Category::Download => {
                let v = text(&e, field::URL)
                    .or(text(&e, field::SHA256))
                    .unwrap_or("");
                tally(&mut downloads, v, e.time);
            }
            Category::Upload => {
                let v = text(&e, field::SHA256)
                    .or(text(&e, field::FILENAME))
                    .unwrap_or("");
                tally(&mut uploads, v, e.time);
            }
            Category::Request => {
                if let Some(p) = text(&e, field::PATH) {
                    tally(&mut paths, p, e.time);
                }
            }
            _ => {}
        }
        if let Some(h) = text(&e, field::HASSH) {
            tally(&mut hassh, h, e.time);
        }
        if let Some(v) = text(&e, field::CLIENT_VERSION) {
            tally(&mut versions, v, e.time);
        }
        if let Some(u) = text(&e, field::USER_AGENT) {
            tally(&mut agents, u, e.time);
        }
    }
    let mut credentials: Vec<Credential> = creds
        .into_iter()
        .map(|((username, password, success), count)| Credential {
            username,
            password,
            success,
            count,
        })
        .collect();
    credentials.sort_by_key(|c| std::cmp::Reverse(c.count));
    credentials.truncate(ROWS);
    let (alerts, _) = state
        .store
        .alerts(
            &AlertFilter {
                src_ip: Some(ip.to_string()),
                ..AlertFilter::default()
            },
            ROWS,
            None,
        )
        .await?;
    let alerts = alerts
        .iter()
        .map(|a| {
            json!({
                "id": a.id.to_string(),
                "title": a.title,
                "severity": a.severity.to_string(),
                "status": a.status.as_str(),
            })
        })
        .collect();
    let (activity, bucket_us) = match (summary.first_seen, summary.last_seen) {
        (Some(first), Some(last)) => {
            let span = (last.as_micros() - first.as_micros()).max(1);
            // Whole minutes, hours or days, at most BUCKETS of them.
            let bucket_us = [60_000_000i64, 3_600_000_000, 86_400_000_000]
                .into_iter()
                .find(|b| span / b < BUCKETS)
                .unwrap_or_else(|| (span / BUCKETS + 1).max(86_400_000_000));
            let start = Timestamp::from_micros(first.as_micros().div_euclid(bucket_us) * bucket_us)
                .unwrap_or(first);
            let until = Timestamp::from_micros(last.as_micros().saturating_add(1)).unwrap_or(last);
            let rows = state
                .store
                .attacker_activity(ip, start, until, bucket_us)
                .await?;
            (
                rows.into_iter()
                    .map(|(t, n)| json!({"start": t, "count": n}))
                    .collect(),
                bucket_us,
            )
        }
        _ => (Vec::new(), 86_400_000_000),
    };
    Ok(Profile {
        address: ip.to_string(),
        geo: enrich.get("geo").cloned().unwrap_or(Value::Null),
        asn: enrich.get("asn").cloned().unwrap_or(Value::Null),
        lists: enrich.get("lists").cloned().unwrap_or(json!([])),
        name,
        sources,
        summary,
        session_rows: sessions,
        credentials,
        commands: top(commands),
        downloads: top(downloads),
        uploads: top(uploads),
        hassh: top(hassh),
        client_versions: top(versions),
        user_agents: top(agents),
        http_paths: top(paths),
        kinds: top(kinds),
        alerts,
        activity,
        activity_bucket_seconds: bucket_us / 1_000_000,
        recent_only,
    })
}

/// Parses an address from the path (brackets allowed for IPv6).
pub(crate) fn parse_address(text: &str) -> Option<IpAddr> {
    let t = text.trim().trim_start_matches('[').trim_end_matches(']');
    if t.len() > 64 {
        return None;
    }
    t.parse().ok()
}

async fn profile_api(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(address): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let ip = parse_address(&address)
        .ok_or_else(|| ApiError::bad_request("address: not an IPv4 or IPv6 address"))?;
    let p = profile(&state, ip).await?;
    let mut v = serde_json::to_value(&p).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.insert(
            "sessions".into(),
            json!(
                p.session_rows
                    .iter()
                    .map(crate::api::session_json_plain)
                    .collect::<Vec<_>>()
            ),
        );
        obj.insert("session_count".into(), json!(p.summary.sessions));
    }
    Ok(Json(v))
}
