//! The events pages: the filterable, keyset-paginated table, one event with all its
//! fields and links to related events, and CSV / JSON export of the current filter.

use std::fmt::Write as _;
use std::net::IpAddr;

use askama::Template;
use axum::extract::{Path, Query, State};
use std::sync::atomic::Ordering;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use nectar_event::{Event, Kind, Severity, field};
use uuid::Uuid;

use super::timerange::parse_time;
use super::{Layout, error_page, render, storage_error};
use crate::AppState;
use crate::api::ListParams;
use crate::auth::{CurrentUser, percent_encode};
use crate::export::{EXPORT_ROWS, Export, Format};
// Pages of attacker text show it as typed (#25 item 8).
use crate::text::pictured as visible;

/// One row of an events table, with every attacker-controlled value made visible and
/// cut (askama escapes it for HTML on top).
pub struct EventRow {
    pub id: String,
    pub time: String,
    pub severity: Severity,
    pub kind: &'static str,
    pub sensor: String,
    /// The sensor's name URL-encoded, for links.
    pub sensor_query: String,
    pub source: String,
    /// `src_ip=...` for links, when there is a source.
    pub source_query: Option<String>,
    pub summary: String,
    /// The honeypot session's page (a path segment), if the event has one.
    pub session_link: Option<String>,
    /// The source's attacker page (a path segment), when there is a source.
    pub profile_link: Option<String>,
    /// Country, ASN and list hits of the source (`[enrich]`), or empty.
    pub origin: String,
}

fn address(ip: Option<IpAddr>, port: Option<u16>) -> String {
    match (ip, port) {
        (Some(ip @ IpAddr::V6(_)), Some(port)) => format!("[{ip}]:{port}"),
        (Some(ip), Some(port)) => format!("{ip}:{port}"),
        (Some(ip), None) => ip.to_string(),
        (None, _) => String::new(),
    }
}

impl EventRow {
    pub fn from_event(event: &Event) -> EventRow {
        let time = event.time.to_string();
        EventRow {
            id: event.id.to_string(),
            time: time.get(..19).unwrap_or(&time).replace('T', " "),
            severity: event.severity,
            kind: event.kind.as_str(),
            sensor: visible(&event.sensor, 40),
            sensor_query: percent_encode(&event.sensor),
            source: address(event.src_ip, event.src_port),
            source_query: event
                .src_ip
                .map(|ip| format!("src_ip={}", percent_encode(&ip.to_string()))),
            summary: visible(&event.summary, 200),
            session_link: event
                .data
                .get(field::SESSION)
                .and_then(|v| v.as_str())
                .map(|s| percent_encode(s).replace('/', "%2F")),
            profile_link: event.src_ip.map(|ip| percent_encode(&ip.to_string())),
            origin: String::new(),
        }
    }

    /// The row with its source's country, ASN and list hits.
    pub fn with_origin(mut self, event: &Event, tables: &nectar_enrich::Tables) -> EventRow {
        if let Some(ip) = event.src_ip {
            self.origin = super::ips::origin(tables, ip);
        }
        self
    }
}

/// The events page counts matches up to this many, then shows "10000+".
const COUNT_CAP: usize = 10_000;

/// The filter form's current values, for re-filling it.
#[derive(Default)]
struct FormValues {
    kind: String,
    /// Each severity and whether it is chosen.
    severities: Vec<(Severity, bool)>,
    /// Exact-value pivots: parameter, raw value (for the hidden field), shown value.
    pivots: Vec<(&'static str, String, String)>,
    src_ip: String,
    q: String,
    since: String,
    until: String,
    session: String,
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    layout: Layout,
    form: FormValues,
    kinds: Vec<String>,
    rows: Vec<EventRow>,
    total: String,
    older: Option<String>,
    paged: bool,
    query: String,
    error: Option<String>,
}

/// The UI's forms send `datetime-local` values; the API wants RFC 3339.
fn normalise(mut params: ListParams) -> ListParams {
    for value in [&mut params.since, &mut params.until] {
        if let Some(text) = value.as_deref()
            && let Some(ts) = parse_time(text)
        {
            *value = Some(ts.to_string());
        }
    }
    params
}

/// The query string for `params` without the cursor, URL-encoded.
fn query_string(params: &ListParams) -> String {
    let mut out = String::new();
    let pairs = [
        ("kind", &params.kind),
        ("severity", &params.severity),
        ("min_severity", &params.min_severity),
        ("src_ip", &params.src_ip),
        ("sensor", &params.sensor),
        ("since", &params.since),
        ("until", &params.until),
        ("q", &params.q),
        ("session", &params.session),
        ("limit", &params.limit),
    ];
    for (name, value) in pairs {
        if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            if !out.is_empty() {
                out.push('&');
            }
            let _ = write!(out, "{name}={}", percent_encode(value));
        }
    }
    for (field, value) in params.pivots() {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            if !out.is_empty() {
                out.push('&');
            }
            let _ = write!(out, "{}={}", field.param(), percent_encode(value));
        }
    }
    out
}

/// Every kind and family, for the filter's drop-down.
fn kind_choices() -> Vec<String> {
    let mut families: Vec<String> = Kind::ALL
        .iter()
        .map(|k| format!("{}.*", k.family()))
        .collect();
    families.dedup();
    families.extend(Kind::ALL.iter().map(|k| k.as_str().to_owned()));
    families
}

/// The query with repeated `severity` parameters (the form's check boxes) made
/// one comma-separated list, as the API takes it.
fn merge_severities(raw: Option<&str>) -> String {
    let mut severities: Vec<String> = Vec::new();
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if key == "severity" {
            if !value.is_empty() {
                severities.push(value.into_owned());
            }
        } else {
            out.append_pair(&key, &value);
        }
    }
    if !severities.is_empty() {
        out.append_pair("severity", &severities.join(","));
    }
    out.finish()
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    let layout = Layout::new(&session, "events");
    let merged = merge_severities(raw.as_deref());
    let params = format!("/events?{merged}")
        .parse::<axum::http::Uri>()
        .ok()
        .and_then(|uri| Query::<ListParams>::try_from_uri(&uri).ok())
        .map(|Query(p)| normalise(p));
    let bad_query = params.is_none();
    let params = params.unwrap_or_default();
    let chosen = params.severity.clone().unwrap_or_default();
    let form = FormValues {
        kind: params.kind.clone().unwrap_or_default(),
        severities: Severity::ALL
            .iter()
            .map(|s| (*s, chosen.split(',').any(|c| c.trim() == s.as_str())))
            .collect(),
        pivots: params
            .pivots()
            .iter()
            .filter_map(|(field, value)| {
                value
                    .as_deref()
                    .filter(|v| !v.is_empty())
                    .map(|v| (field.param(), v.to_owned(), visible(v, 200)))
            })
            .collect(),
        src_ip: params.src_ip.clone().unwrap_or_default(),
        q: params.q.clone().unwrap_or_default(),
        since: params.since.clone().unwrap_or_default(),
        until: params.until.clone().unwrap_or_default(),
        session: params.session.clone().unwrap_or_default(),
    };
    let query = query_string(&params);
    let page = |rows, total, older, error| EventsPage {
        layout,
        form,
        kinds: kind_choices(),
        rows,
        total,
        older,
        paged: params.cursor.is_some(),
        query: query.clone(),
        error,
    };
    let parsed = if bad_query {
        Err("unknown or repeated parameters in the address".to_owned())
    } else {
        params.filter()
    };
    let (filter, cursor, limit) = match parsed {
        Ok(parts) => parts,
        Err(message) => {
            let mut response = render(&page(Vec::new(), "0".into(), None, Some(message)));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            return response;
        }
    };
    let limit = if params.limit.is_some() { limit } else { 50 };
    let listed = state.store.list_events(&filter, cursor, limit).await;
    let total = state.store.count_events_capped(&filter, COUNT_CAP).await;
    match (listed, total) {
        (Ok(listed), Ok((count, capped))) => {
            let total = if capped {
                format!("{count}+")
            } else {
                count.to_string()
            };
            let older = listed.next.map(|c| {
                if query.is_empty() {
                    format!("cursor={c}")
                } else {
                    format!("{query}&cursor={c}")
                }
            });
            let tables = state.enrich.tables();
            let rows = listed
                .events
                .iter()
                .map(|e| EventRow::from_event(e).with_origin(e, &tables))
                .collect();
            render(&page(rows, total, older, None))
        }
        (Err(err), _) | (_, Err(err)) => storage_error(err),
    }
}

/// A field of one event, shown in full (escaped, control characters visible).
struct Field {
    name: String,
    value: String,
    /// The events with the same value (a query string), for pivot fields.
    link: Option<String>,
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    layout: Layout,
    id: String,
    row: EventRow,
    destination: String,
    summary: String,
    description: &'static str,
    fields: Vec<Field>,
    data_json: String,
    same_source: Option<String>,
    same_session: Option<String>,
    session_id: Option<String>,
    /// The API token that posted it (`data.submitted_by`, set by the server);
    /// `None` for the server's own events.
    submitted_by: Option<String>,
    /// Files it names that an analyst may download: (label, link).
    downloads: Vec<(&'static str, String)>,
}

pub async fn detail(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = Uuid::try_parse(&id) else {
        return error_page(StatusCode::BAD_REQUEST, "That is not an event id.");
    };
    let mut event = match state.store.get_event(id).await {
        Ok(Some(event)) => event,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "No event has this id."),
        Err(err) => return storage_error(err),
    };
    // Captured secrets: decrypted with `[server] identity`, else "(encrypted)".
    state.reveal(&mut event);
    nectar_capture::seal::mark_encrypted(&mut event.data);
    let mut page = event_page(Layout::new(&session, "events"), &event);
    if session.user.role >= nectar_store::Role::Analyst {
        page.downloads = crate::evidence::downloads_of(&event);
    }
    render(&page)
}

/// The page of one event, every attacker-controlled value made visible.
fn event_page(layout: Layout, event: &Event) -> EventPage {
    let fields = event
        .data
        .iter()
        .map(|(name, value)| Field {
            name: visible(name, 80),
            value: match value {
                serde_json::Value::String(s) => visible(s, 20_000),
                other => visible(&other.to_string(), 20_000),
            },
            link: field_pivot(name, value),
        })
        .collect();
    let session_id = event
        .data
        .get(field::SESSION)
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    EventPage {
        layout,
        id: event.id.to_string(),
        destination: address(event.dst_ip, event.dst_port),
        summary: visible(&event.summary, 20_000),
        description: event.kind.description(),
        fields,
        data_json: visible_json(&event.data),
        same_source: event
            .src_ip
            .map(|ip| format!("src_ip={}", percent_encode(&ip.to_string()))),
        same_session: session_id
            .as_deref()
            .map(|s| format!("session={}", percent_encode(s))),
        session_id: session_id.map(|s| visible(&s, 80)),
        submitted_by: event
            .data
            .get(field::SUBMITTED_BY)
            .map(|v| visible(v.as_str().unwrap_or_default(), 80)),
        downloads: Vec::new(),
        row: EventRow {
            // The table cuts the sensor's name; this page shows all of it.
            sensor: visible(&event.sensor, 20_000),
            ..EventRow::from_event(event)
        },
    }
}

/// The events list of the same value of `data.<name>`, for the fields an
/// analyst follows (user name, password, command, URL, hash, HASSH, user
/// agent, path, client version, session).
fn field_pivot(name: &str, value: &serde_json::Value) -> Option<String> {
    let value = value.as_str().filter(|v| !v.is_empty())?;
    if name == field::SESSION {
        return Some(format!("session={}", percent_encode(value)));
    }
    let (_, param) = nectar_store::PivotField::ALL
        .iter()
        .find(|(f, _)| f.key() == name)?;
    Some(format!("{param}={}", percent_encode(value)))
}

/// Pretty JSON with newlines kept but every other control character (serde_json
/// already escapes them inside strings) and bidi override made visible.
fn visible_json(data: &serde_json::Map<String, serde_json::Value>) -> String {
    let pretty = serde_json::to_string_pretty(data).unwrap_or_default();
    pretty
        .lines()
        .map(|line| visible(line, 20_000))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The current filter's export as `format`, streamed (see [`crate::export`]):
/// newest first, at most 50,000 rows and `server.max_export_bytes`.
async fn export(state: AppState, params: ListParams, format: Format) -> Response {
    let (filter, _, _) = match normalise(params).filter() {
        Ok(parsed) => parsed,
        Err(message) => return error_page(StatusCode::BAD_REQUEST, &message),
    };
    let Ok(permit) = state.export_slots.clone().try_acquire_owned() else {
        let refused = state.export_busy.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(
            limit = state.config.max_concurrent_exports,
            refused,
            "Refused an export: too many are running."
        );
        let mut page = error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many exports are running (server.max_concurrent_exports); try again in a moment.",
        );
        page.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        return page;
    };
    let (content_type, disposition) = match format {
        Format::Csv => (
            "text/csv; charset=utf-8",
            "attachment; filename=\"nectar-events.csv\"",
        ),
        _ => (
            "application/json",
            "attachment; filename=\"nectar-events.json\"",
        ),
    };
    let bytes = state.config.max_export_bytes;
    crate::export::response(
        state,
        Export {
            filter,
            cursor: None,
            rows: EXPORT_ROWS,
            bytes,
            format,
        },
        Some(permit),
        content_type,
        Some(disposition),
    )
}

/// The current filter's events as CSV.
pub async fn export_csv(
    State(state): State<AppState>,
    CurrentUser(_session): CurrentUser,
    Query(params): Query<ListParams>,
) -> Response {
    export(state, params, Format::Csv).await
}

/// The current filter's events as a JSON array.
pub async fn export_json(
    State(state): State<AppState>,
    CurrentUser(_session): CurrentUser,
    Query(params): Query<ListParams>,
) -> Response {
    export(state, params, Format::Json).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code point that must never reach a page as itself, from the Unicode
    /// table (controls, format characters, line and paragraph separators, the tag
    /// block), plus those #26 names, written out.
    pub(crate) fn hidden_characters() -> Vec<char> {
        let named =
            "\u{ad}\u{61c}\u{2028}\u{2029}\u{2060}\u{2064}\u{fff9}\u{fffb}\u{e0000}\u{e007f}";
        nectar_event::text::invisible_by_category()
            .chain(named.chars())
            .collect()
    }

    /// A control or invisible character typed by an attacker (in the summary, a
    /// field's name and value, the sensor's name) is shown escaped on the event's
    /// page; letters of other scripts and emoji are shown as they are.
    #[test]
    fn the_event_page_shows_every_invisible_character_escaped() {
        let hidden = hidden_characters();
        assert!(hidden.len() > 250, "{}", hidden.len());
        let ordinary = "пароль 密码 كلمة 😀 👩🏽\u{200d}💻";
        for chunk in hidden.chunks(64) {
            let text: String = chunk.iter().flat_map(|&c| [c, 'x']).collect();
            let event = Event::new(text.clone(), Kind::SshCommand, Severity::Low, text.clone())
                .with(field::SESSION, text.clone())
                .with(&text, text.clone())
                .with(field::INPUT, format!("{ordinary} {text}"));
            let layout = Layout {
                user: "admin".into(),
                role: nectar_store::Role::Admin,
                csrf: "t".into(),
                active: "events",
            };
            let html = event_page(layout, &event).render().unwrap();
            assert!(html.contains(ordinary), "{ordinary} was changed");
            // The joiner inside the emoji sequence is the one kept on purpose.
            let html = html.replace(ordinary, "");
            for &c in chunk {
                // The template's own layout has newlines and tabs: those are
                // checked through their escaped form.
                match c {
                    '\n' => assert!(html.contains("x␊x"), "\\n"),
                    '\t' => assert!(html.contains("x␉x"), "\\t"),
                    c => assert!(!html.contains(c), "U+{:04X} reached the page", c as u32),
                }
            }
        }
    }

    #[test]
    fn query_string_encodes_and_skips_blanks() {
        let params = ListParams {
            kind: Some("ssh.*".into()),
            q: Some("a b&c".into()),
            src_ip: Some("  ".into()),
            ..ListParams::default()
        };
        assert_eq!(query_string(&params), "kind=ssh.%2A&q=a%20b%26c");
    }
}
