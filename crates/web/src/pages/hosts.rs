//! The inventory's pages: the host list with its search and CSV export of
//! chosen columns, a host (services, history, its events and alerts, the
//! analysts' edit form), and the subnets with their counts. Every value that
//! came off the wire (names, banners, vendors from a file) goes through
//! askama's escaping and [`visible`].

use std::net::IpAddr;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nectar_store::{AlertFilter, EventFilter, HostRecord, Role};
use serde::Deserialize;

use super::events::EventRow;
use super::timerange::short;
use super::{Layout, error_page, render, see_other, storage_error};
use crate::api_hosts::{HostPatch, HostQuery};
use crate::auth::CurrentUser;
use crate::{AppState, visible};

/// One host in the list.
pub struct HostRow {
    pub address: String,
    pub name: String,
    pub mac: String,
    pub vendor: String,
    pub os: String,
    pub owner: String,
    pub tags: String,
    pub ports: String,
    pub last_seen: String,
    pub gone: bool,
}

impl HostRow {
    fn from(h: &HostRecord) -> HostRow {
        let open: Vec<String> = h
            .services
            .iter()
            .filter(|s| s.state == "open")
            .take(20)
            .map(|s| format!("{}/{}", s.port, s.proto))
            .collect();
        HostRow {
            address: h.address.to_string(),
            name: visible(h.name.as_deref().unwrap_or(""), 64),
            mac: h.mac.clone().unwrap_or_default(),
            vendor: visible(h.vendor.as_deref().unwrap_or(""), 40),
            os: visible(h.os.as_deref().unwrap_or(""), 40),
            owner: visible(&h.owner, 40),
            tags: visible(&h.tags.join(", "), 60),
            ports: open.join(" "),
            last_seen: short(h.last_seen),
            gone: h.gone,
        }
    }
}

#[derive(Template)]
#[template(path = "hosts.html")]
struct HostsPage {
    layout: Layout,
    query: HostQuery,
    rows: Vec<HostRow>,
    next: Option<String>,
    error: Option<String>,
    columns: &'static [(&'static str, &'static str)],
    query_string: String,
}

/// The columns the CSV export offers: (key, heading).
pub const COLUMNS: &[(&str, &str)] = &[
    ("address", "Address"),
    ("name", "Name"),
    ("mac", "MAC"),
    ("vendor", "Vendor"),
    ("os", "OS"),
    ("owner", "Owner"),
    ("location", "Location"),
    ("tags", "Tags"),
    ("ports", "Open ports"),
    ("first_seen", "First seen"),
    ("last_seen", "Last seen"),
    ("notes", "Notes"),
];

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(query): Query<HostQuery>,
) -> Response {
    let layout = Layout::new(&session, "hosts");
    let parsed = query.filter().and_then(|f| query.page().map(|p| (f, p)));
    let (filter, (limit, cursor)) = match parsed {
        Ok(p) => p,
        Err(e) => {
            return render(&HostsPage {
                layout,
                query,
                rows: Vec::new(),
                next: None,
                error: Some(e.message()),
                columns: COLUMNS,
                query_string: String::new(),
            });
        }
    };
    let (hosts, next) = match state.store.hosts(&filter, limit, cursor).await {
        Ok(r) => r,
        Err(e) => return storage_error(e),
    };
    let query_string = serde_urlencoded_pairs(&query);
    render(&HostsPage {
        layout,
        rows: hosts.iter().map(HostRow::from).collect(),
        next: next.map(|c| c.encode()),
        error: None,
        columns: COLUMNS,
        query_string,
        query,
    })
}

/// The search's parameters as a query string (for the next page and export links).
fn serde_urlencoded_pairs(q: &HostQuery) -> String {
    let mut out = Vec::new();
    for (k, v) in [
        ("q", &q.q),
        ("port", &q.port),
        ("tag", &q.tag),
        ("owner", &q.owner),
        ("since", &q.since),
        ("gone", &q.gone),
        ("limit", &q.limit),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            out.push(format!("{k}={}", encode(v)));
        }
    }
    out.join("&")
}

/// Percent-encoding of a query value.
fn encode(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// The CSV export of a search: the columns chosen (`col=address&col=mac`,
/// in the order of [`COLUMNS`]), every host matching, up to 100,000 rows.
pub async fn export_csv(
    State(state): State<AppState>,
    CurrentUser(_session): CurrentUser,
    Query(query): Query<HostQuery>,
    RawQuery(raw): RawQuery,
) -> Response {
    let wanted: Vec<String> = raw
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter_map(|p| p.strip_prefix("col="))
        .map(str::to_owned)
        .collect();
    let cols: Vec<&str> = COLUMNS
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| wanted.iter().any(|w| w == k))
        .collect();
    if cols.is_empty() {
        return error_page(StatusCode::BAD_REQUEST, "Choose at least one column.");
    }
    let filter = match query.filter() {
        Ok(f) => f,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.message()),
    };
    let mut out = String::new();
    out.push_str(&cols.join(","));
    out.push('\n');
    let mut cursor = None;
    let mut rows = 0usize;
    loop {
        let (hosts, next) = match state.store.hosts(&filter, 1000, cursor).await {
            Ok(r) => r,
            Err(e) => return storage_error(e),
        };
        for h in &hosts {
            let cells: Vec<String> = cols
                .iter()
                .map(|c| {
                    let v = match *c {
                        "address" => h.address.to_string(),
                        "name" => text(&h.name),
                        "mac" => text(&h.mac),
                        "vendor" => text(&h.vendor),
                        "os" => text(&h.os),
                        "owner" => h.owner.clone(),
                        "location" => h.location.clone(),
                        "tags" => h.tags.join(" "),
                        "ports" => h
                            .services
                            .iter()
                            .filter(|s| s.state == "open")
                            .map(|s| format!("{}/{}", s.port, s.proto))
                            .collect::<Vec<_>>()
                            .join(" "),
                        "first_seen" => h.first_seen.to_string(),
                        "last_seen" => h.last_seen.to_string(),
                        "notes" => h.notes.clone(),
                        _ => String::new(),
                    };
                    csv_cell(&v)
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
            rows += 1;
        }
        match next {
            Some(c) if rows < 100_000 => cursor = Some(c),
            _ => break,
        }
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"hosts.csv\"",
            ),
        ],
        out,
    )
        .into_response()
}

/// A CSV cell: quoted when needed; a leading `= + - @` is neutralised so a
/// spreadsheet never runs a host name as a formula.
pub fn csv_cell(v: &str) -> String {
    let mut v = v.replace(['\r', '\n'], " ");
    if v.starts_with(['=', '+', '-', '@']) {
        v.insert(0, '\'');
    }
    if v.contains([',', '"']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

pub struct ServiceRow {
    pub port: u16,
    pub proto: String,
    pub state: String,
    pub service: String,
    pub version: String,
    pub source: String,
    pub first_seen: String,
    pub last_seen: String,
}

pub struct HistoryRow {
    pub time: String,
    pub actor: String,
    pub field: String,
    pub old: String,
    pub new: String,
}

pub struct AlertRow {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "host.html")]
struct HostPage {
    layout: Layout,
    host: HostRow,
    location: String,
    notes: String,
    tags_raw: String,
    owner_raw: String,
    name_raw: String,
    first_seen: String,
    source: String,
    verified: bool,
    ignored: bool,
    subnets: Vec<String>,
    services: Vec<ServiceRow>,
    history: Vec<HistoryRow>,
    rows: Vec<EventRow>,
    alerts: Vec<AlertRow>,
    can_edit: bool,
    /// Devices (MAC, learning/monitoring) with a behaviour model at this
    /// host's address or MAC: links to the Devices view.
    devices: Vec<(String, String)>,
}

fn parse_ip(address: &str) -> Result<IpAddr, Response> {
    address
        .parse()
        .map_err(|_| error_page(StatusCode::BAD_REQUEST, "Not an IP address."))
}

pub async fn detail(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(address): Path<String>,
) -> Response {
    let layout = Layout::new(&session, "hosts");
    let ip = match parse_ip(&address) {
        Ok(ip) => ip,
        Err(r) => return r,
    };
    let host = match state.store.host(ip).await {
        Ok(Some(h)) => h,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "No such host in the inventory."),
        Err(e) => return storage_error(e),
    };
    let history = match state.store.host_history(ip, 200).await {
        Ok(h) => h,
        Err(e) => return storage_error(e),
    };
    let events = state
        .store
        .list_events(
            &EventFilter {
                src_ip: Some(ip),
                ..EventFilter::default()
            },
            None,
            50,
        )
        .await;
    let events = match events {
        Ok(p) => p.events,
        Err(e) => return storage_error(e),
    };
    let alerts = match state
        .store
        .alerts(
            &AlertFilter {
                src_ip: Some(ip.to_string()),
                ..AlertFilter::default()
            },
            50,
            None,
        )
        .await
    {
        Ok((a, _)) => a,
        Err(e) => return storage_error(e),
    };
    let can_edit = layout.role >= Role::Analyst;
    let mut devices = match state.store.devices_at(&ip.to_string()).await {
        Ok(d) => d,
        Err(e) => return storage_error(e),
    };
    if let Some(mac) = host.mac.as_deref()
        && let Ok(mac) = crate::api_devices::parse_mac("mac", mac)
        && !devices.iter().any(|d| d.mac == mac)
    {
        match state.store.device(&mac).await {
            Ok(Some(d)) => devices.push(d),
            Ok(None) => {}
            Err(e) => return storage_error(e),
        }
    }
    let devices = devices
        .iter()
        .map(|d| (visible(&d.mac, 17), visible(&d.phase, 16)))
        .collect();
    render(&HostPage {
        devices,
        host: HostRow::from(&host),
        location: visible(&host.location, 200),
        notes: visible(&host.notes, 4000),
        tags_raw: host.tags.join(", "),
        owner_raw: host.owner.clone(),
        name_raw: host.name.clone().unwrap_or_default(),
        first_seen: short(host.first_seen),
        source: host.source.clone(),
        verified: host.verified,
        ignored: host.ignored,
        subnets: state
            .inventory
            .subnets
            .iter()
            .filter(|s| s.cidr.contains(&ip))
            .map(|s| {
                visible(
                    &format!(
                        "{} {} {}",
                        s.cidr,
                        s.name,
                        if s.owner.is_empty() {
                            String::new()
                        } else {
                            format!("({})", s.owner)
                        }
                    ),
                    200,
                )
            })
            .collect(),
        services: host
            .services
            .iter()
            .map(|s| ServiceRow {
                port: s.port,
                proto: s.proto.clone(),
                state: s.state.clone(),
                service: visible(s.service.as_deref().unwrap_or(""), 40),
                version: visible(s.version.as_deref().unwrap_or(""), 120),
                source: s.source.clone(),
                first_seen: short(s.first_seen),
                last_seen: short(s.last_seen),
            })
            .collect(),
        history: history
            .iter()
            .map(|h| HistoryRow {
                time: short(h.time),
                actor: visible(&h.actor, 64),
                field: h.field.clone(),
                old: visible(h.old.as_deref().unwrap_or(""), 200),
                new: visible(h.new.as_deref().unwrap_or(""), 200),
            })
            .collect(),
        rows: events.iter().map(EventRow::from_event).collect(),
        alerts: alerts
            .iter()
            .map(|a| AlertRow {
                id: a.id.to_string(),
                title: visible(&a.title, 200),
                severity: a.severity.to_string(),
                status: a.status.as_str().to_owned(),
            })
            .collect(),
        can_edit,
        layout,
    })
}

/// The edit form.
#[derive(Deserialize)]
pub struct EditForm {
    pub csrf: String,
    pub name: String,
    pub owner: String,
    pub location: String,
    pub tags: String,
    pub notes: String,
    pub verified: Option<String>,
    pub ignored: Option<String>,
}

pub async fn edit(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(address): Path<String>,
    Form(form): Form<EditForm>,
) -> Response {
    let layout = Layout::new(&session, "hosts");
    if let Err(r) = layout.require(Role::Analyst, &form.csrf) {
        return r;
    }
    let ip = match parse_ip(&address) {
        Ok(ip) => ip,
        Err(r) => return r,
    };
    let tags: Vec<String> = form
        .tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let patch = HostPatch {
        name: Some(form.name),
        owner: Some(form.owner),
        location: Some(form.location),
        tags: Some(tags),
        notes: Some(form.notes),
        verified: Some(form.verified.is_some()),
        ignored: Some(form.ignored.is_some()),
    };
    let update = match patch.update() {
        Ok(u) => u,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.message()),
    };
    match state
        .store
        .update_host(ip, &update, &session.user.name)
        .await
    {
        Ok(Some(_)) => see_other(&format!("/hosts/{ip}")),
        Ok(None) => error_page(StatusCode::NOT_FOUND, "No such host in the inventory."),
        Err(e) => storage_error(e),
    }
}

pub struct SubnetRow {
    pub cidr: String,
    pub name: String,
    pub owner: String,
    pub location: String,
    pub notes: String,
    pub hosts: u64,
    pub services: u64,
    pub scannable: bool,
}

#[derive(Template)]
#[template(path = "subnets.html")]
struct SubnetsPage {
    layout: Layout,
    rows: Vec<SubnetRow>,
}

pub async fn subnets(State(state): State<AppState>, CurrentUser(session): CurrentUser) -> Response {
    let mut rows = Vec::new();
    for s in &state.inventory.subnets {
        let (hosts, services) = match state
            .store
            .prefix_counts(s.cidr.network(), s.cidr.prefix_len())
            .await
        {
            Ok(c) => c,
            Err(e) => return storage_error(e),
        };
        rows.push(SubnetRow {
            cidr: s.cidr.to_string(),
            name: visible(&s.name, 100),
            owner: visible(&s.owner, 100),
            location: visible(&s.location, 100),
            notes: visible(&s.notes, 300),
            hosts,
            services,
            scannable: state.inventory.scan_scope.covers(&s.cidr),
        });
    }
    render(&SubnetsPage {
        layout: Layout::new(&session, "hosts"),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("=cmd()"), "'=cmd()");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("x\ny"), "x y");
        assert_eq!(encode("192.0.2.0/24"), "192.0.2.0%2F24");
    }
}
