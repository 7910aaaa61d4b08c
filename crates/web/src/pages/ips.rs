//! The attacker page `/ips/{address}`: the [`crate::api_ips::Profile`] of one
//! source address as HTML, with its activity as an SVG bar chart.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nectar_store::BucketCount;
use serde_json::Value;

use super::{Layout, charts, error_page, render, storage_error};
use crate::AppState;
use crate::api_ips::{Seen, parse_address, profile};
use crate::auth::{CurrentUser, percent_encode};
// Attacker text shown as typed, control characters visible (#25 item 8).
use crate::text::pictured as visible;

pub struct Row {
    pub value: String,
    pub count: usize,
    pub last: String,
}

pub struct Cred {
    pub username: String,
    pub password: String,
    pub success: bool,
    pub count: usize,
}

pub struct SessionRow {
    pub link: String,
    pub started: String,
    pub sensor: String,
    pub protocol: String,
    pub events: i64,
    pub commands: i64,
}

#[derive(Template)]
#[template(path = "ip.html")]
pub struct IpPage {
    pub layout: Layout,
    pub address: String,
    pub address_query: String,
    pub country: String,
    pub city: String,
    pub asn: String,
    /// Reverse DNS as shown: empty when off.
    pub name: String,
    pub lists: Vec<(String, String)>,
    pub sources: Vec<(String, String)>,
    pub first_seen: String,
    pub last_seen: String,
    pub events: i64,
    pub sensors: Vec<String>,
    pub session_count: i64,
    pub sessions: Vec<SessionRow>,
    pub credentials: Vec<Cred>,
    pub tables: Vec<(&'static str, Vec<Row>)>,
    pub alerts: Vec<(String, String, String, String)>,
    pub chart: String,
    pub bucket: &'static str,
    pub recent_only: bool,
    pub recent: usize,
}

fn short(t: Option<nectar_event::Timestamp>) -> String {
    t.map(|t| {
        let s = t.to_string();
        s.get(..19).unwrap_or(&s).replace('T', " ")
    })
    .unwrap_or_default()
}

fn rows(seen: &[Seen]) -> Vec<Row> {
    seen.iter()
        .map(|s| Row {
            value: visible(&s.value, 300),
            count: s.count,
            last: short(Some(s.last)),
        })
        .collect()
}

fn s(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .map(|x| visible(x, 120))
        .unwrap_or_default()
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(address): Path<String>,
) -> Response {
    let layout = Layout::new(&session, "events");
    let Some(ip) = parse_address(&address) else {
        return error_page(StatusCode::BAD_REQUEST, "Not an IP address.");
    };
    let p = match profile(&state, ip).await {
        Ok(p) => p,
        Err(e) => return storage_error(e),
    };
    let country = match (s(&p.geo, "country"), s(&p.geo, "country_code")) {
        (c, cc) if !c.is_empty() && !cc.is_empty() => format!("{c} ({cc})"),
        (c, cc) => format!("{c}{cc}"),
    };
    let asn = match (
        p.asn.get("number").and_then(Value::as_u64),
        s(&p.asn, "organization"),
    ) {
        (Some(n), o) => format!("AS{n} {o}"),
        (None, o) => o,
    };
    let name = match &p.name {
        None => String::new(),
        Some(r) => match (&r.name, &r.error) {
            (Some(n), _) if r.verified => format!("{n} (forward-confirmed)"),
            (Some(n), _) => format!("{n} (not confirmed: the name does not resolve back)"),
            (None, Some(e)) => format!("(no answer: {e})"),
            (None, None) => "(no name)".to_owned(),
        },
    };
    let lists = p
        .lists
        .as_array()
        .map(|a| a.iter().map(|l| (s(l, "name"), s(l, "category"))).collect())
        .unwrap_or_default();
    let sources = p
        .sources
        .iter()
        .map(|d| {
            let built = d
                .get("build_epoch")
                .and_then(Value::as_i64)
                .and_then(|e| nectar_event::Timestamp::from_micros(e.saturating_mul(1_000_000)))
                .map(|t| t.to_string().get(..10).unwrap_or("").to_owned())
                .unwrap_or_default();
            (
                format!("{} (built {built})", s(d, "database_type")),
                s(d, "attribution"),
            )
        })
        .collect();
    let bucket_us = p.activity_bucket_seconds.saturating_mul(1_000_000);
    let buckets: Vec<BucketCount> = p
        .activity
        .iter()
        .filter_map(|b| {
            Some(BucketCount {
                start: b.get("start")?.as_str()?.parse().ok()?,
                count: b.get("count")?.as_i64()?,
            })
        })
        .collect();
    let chart = match (p.summary.first_seen, p.summary.last_seen) {
        (Some(f), Some(l)) if !buckets.is_empty() => {
            charts::event_bars(&buckets, f.as_micros(), l.as_micros(), bucket_us)
        }
        _ => String::new(),
    };
    let bucket = match p.activity_bucket_seconds {
        60 => "minute",
        3600 => "hour",
        _ => "day",
    };
    render(&IpPage {
        layout,
        address: p.address.clone(),
        address_query: format!("src_ip={}", percent_encode(&p.address)),
        country,
        city: s(&p.geo, "city"),
        asn,
        name,
        lists,
        sources,
        first_seen: short(p.summary.first_seen),
        last_seen: short(p.summary.last_seen),
        events: p.summary.events,
        sensors: p.summary.sensors.iter().map(|x| visible(x, 64)).collect(),
        session_count: p.summary.sessions,
        sessions: p
            .session_rows
            .iter()
            .map(|r| SessionRow {
                link: percent_encode(&r.session),
                started: short(Some(r.first)),
                sensor: visible(&r.sensor, 64),
                protocol: visible(&r.protocol, 16),
                events: r.events,
                commands: r.commands,
            })
            .collect(),
        credentials: p
            .credentials
            .iter()
            .map(|c| Cred {
                username: visible(&c.username, 128),
                password: c
                    .password
                    .as_deref()
                    .map_or_else(|| "(sealed)".to_owned(), |x| visible(x, 128)),
                success: c.success,
                count: c.count,
            })
            .collect(),
        tables: vec![
            ("Commands", rows(&p.commands)),
            ("Downloads", rows(&p.downloads)),
            ("Uploads", rows(&p.uploads)),
            ("HASSH", rows(&p.hassh)),
            ("SSH client versions", rows(&p.client_versions)),
            ("User agents", rows(&p.user_agents)),
            ("HTTP paths", rows(&p.http_paths)),
            ("Event kinds", rows(&p.kinds)),
        ],
        alerts: p
            .alerts
            .iter()
            .map(|a| (s(a, "id"), s(a, "title"), s(a, "severity"), s(a, "status")))
            .collect(),
        chart,
        bucket,
        recent_only: p.recent_only,
        recent: crate::api_ips::RECENT,
    })
}

/// One line on where an address is from: `NL · AS64500 Example · on scan
/// (scanner)`; empty when nothing is known.
pub fn origin(tables: &nectar_enrich::Tables, ip: std::net::IpAddr) -> String {
    if tables.is_empty() {
        return String::new();
    }
    let found = tables.lookup(ip);
    let mut parts: Vec<String> = Vec::new();
    if let Some(cc) = found.geo.and_then(|g| g.country_code) {
        parts.push(visible(cc, 8));
    }
    if let Some(a) = found.asn {
        let mut s = a.number.map(|n| format!("AS{n}")).unwrap_or_default();
        if let Some(o) = a.organization {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&visible(o, 40));
        }
        parts.push(s);
    }
    for l in found.lists.iter() {
        parts.push(format!("listed: {} ({})", l.name, l.category));
    }
    parts.join(" · ")
}
