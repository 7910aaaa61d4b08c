//! Honeypot sessions: one row per SSH/Telnet session (events sharing `data.session`),
//! with source, credentials, duration and commands; and a page per session with its
//! transcript (logins, commands, downloads, uploads, oldest first) and where its
//! terminal recording is.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use nectar_event::field;
use nectar_store::{EventFilter, SessionSummary};

use crate::api::SessionParams;

use super::timerange::short;
use super::{Layout, error_page, render, storage_error};
use crate::AppState;
use crate::auth::{CurrentUser, percent_encode};
use crate::text::{Shown, shown};
// Pages of attacker text show it as typed (#25 item 8).
use crate::text::pictured as visible;

pub struct SessionRow {
    pub link: String,
    pub session: Shown,
    pub sensor: String,
    /// `sensor=...` for links.
    pub sensor_query: String,
    pub protocol: String,
    pub source: String,
    /// `src_ip=...` for links.
    pub source_query: String,
    pub started: String,
    pub duration: String,
    pub username: Option<Shown>,
    pub password: Option<Shown>,
    /// `username=...&password=...` of the accepted login, for links.
    pub login_query: String,
    pub failed_logins: i64,
    pub commands: i64,
    pub downloads: i64,
    pub uploads: i64,
    pub events: i64,
    /// Country, ASN and list hits of the source (`[enrich]`), or empty.
    pub origin: String,
}

impl SessionRow {
    fn with_origin(mut self, s: &SessionSummary, tables: &nectar_enrich::Tables) -> SessionRow {
        if let Some(ip) = s.src_ip {
            self.origin = super::ips::origin(tables, ip);
        }
        self
    }

    fn from_summary(s: &SessionSummary) -> SessionRow {
        let seconds = (s.last.as_micros() - s.first.as_micros()) / 1_000_000;
        let source = s.src_ip.map(|ip| ip.to_string()).unwrap_or_default();
        let mut login_query = String::new();
        if let Some(user) = &s.username {
            login_query = format!("username={}", percent_encode(user));
            if let Some(password) = &s.password {
                login_query.push_str(&format!("&password={}", percent_encode(password)));
            }
        }
        SessionRow {
            // A path segment: `/` must be encoded too.
            link: percent_encode(&s.session).replace('/', "%2F"),
            session: shown(&s.session, 40),
            sensor: visible(&s.sensor, 40),
            sensor_query: format!("sensor={}", percent_encode(&s.sensor)),
            protocol: visible(&s.protocol, 16),
            source_query: format!("src_ip={}", percent_encode(&source)),
            source,
            started: short(s.first),
            duration: if seconds >= 3_600 {
                format!("{}h {:02}m", seconds / 3_600, seconds % 3_600 / 60)
            } else {
                format!("{}m {:02}s", seconds / 60, seconds % 60)
            },
            username: s.username.as_deref().map(|u| shown(u, 40)),
            password: s.password.as_deref().map(|p| shown(p, 40)),
            login_query,
            failed_logins: s.failed_logins,
            commands: s.commands,
            downloads: s.downloads,
            uploads: s.uploads,
            events: s.events,
            origin: String::new(),
        }
    }
}

/// The filter form's current values, for re-filling it.
#[derive(Default)]
struct SessionForm {
    range: String,
    src_ip: String,
    sensor: String,
    protocol: String,
    logged_in: String,
    has_commands: bool,
    has_downloads: bool,
    has_uploads: bool,
    min_commands: String,
    q: String,
    order: String,
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    layout: Layout,
    form: SessionForm,
    rows: Vec<SessionRow>,
    /// How many sessions match ("10000+" past the cap).
    total: String,
    /// The query of this filter without the cursor.
    query: String,
    /// The query of the next page, if there is one.
    next: Option<String>,
    paged: bool,
    error: Option<String>,
}

/// The page counts matching sessions up to this many.
const COUNT_CAP: usize = 10_000;

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    params: Result<Query<SessionParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let params = params.map(|Query(p)| p).unwrap_or_default();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let on = |v: &Option<String>| {
        v.as_deref()
            .is_some_and(|s| !s.is_empty() && !matches!(s, "0" | "false" | "no" | "off"))
    };
    let form = SessionForm {
        range: params.range.clone().unwrap_or_else(|| "24h".into()),
        src_ip: text(&params.src_ip),
        sensor: text(&params.sensor),
        protocol: text(&params.protocol),
        logged_in: text(&params.logged_in),
        has_commands: on(&params.has_commands),
        has_downloads: on(&params.has_downloads),
        has_uploads: on(&params.has_uploads),
        min_commands: text(&params.min_commands),
        q: text(&params.q),
        order: text(&params.order),
    };
    let query = params.query_string();
    let mut page = SessionsPage {
        layout: Layout::new(&session, "sessions"),
        form,
        rows: Vec::new(),
        total: "0".into(),
        query: query.clone(),
        next: None,
        paged: params.cursor.is_some(),
        error: None,
    };
    let (filter, cursor, limit) = match params.filter(nectar_event::Timestamp::now()) {
        Ok(parts) => parts,
        Err(message) => {
            page.error = Some(message);
            let mut response = render(&page);
            *response.status_mut() = StatusCode::BAD_REQUEST;
            return response;
        }
    };
    let limit = if params.limit.is_some() { limit } else { 50 };
    let listed = state
        .store
        .list_sessions(&filter, cursor.as_ref(), limit)
        .await;
    let counted = state.store.count_sessions_capped(&filter, COUNT_CAP).await;
    match (listed, counted) {
        (Ok(listed), Ok((count, capped))) => {
            page.total = if capped {
                format!("{count}+")
            } else {
                count.to_string()
            };
            page.next = listed.next.map(|c| {
                let cursor = format!("cursor={}", percent_encode(&c.to_string()));
                if query.is_empty() {
                    cursor
                } else {
                    format!("{query}&{cursor}")
                }
            });
            page.rows = listed
                .sessions
                .iter()
                .map(|s| SessionRow::from_summary(s).with_origin(s, &state.enrich.snapshot()))
                .collect();
            render(&page)
        }
        (Err(err), _) | (_, Err(err)) => storage_error(err),
    }
}

/// One line of a session's transcript.
pub struct TranscriptRow {
    pub event: String,
    pub time: String,
    pub kind: &'static str,
    /// The command, the URL fetched, the file uploaded, or the summary.
    pub what: Shown,
    /// The events with the same command, URL or file (a query string).
    pub link: Option<String>,
}

/// The pivot of a transcript line: the events with the same command, URL or
/// file hash.
fn pivot(event: &nectar_event::Event) -> Option<String> {
    let data = &event.data;
    let text = |key: &str| data.get(key).and_then(|v| v.as_str());
    let (param, value) = if let Some(input) = text(field::INPUT) {
        ("command", input)
    } else if let Some(hash) = text(field::SHA256) {
        ("sha256", hash)
    } else if let Some(url) = text(field::URL) {
        ("url", url)
    } else {
        return None;
    };
    Some(format!("{param}={}", percent_encode(value)))
}

#[derive(Template)]
#[template(path = "session.html")]
struct SessionPage {
    layout: Layout,
    row: SessionRow,
    /// `session=...` for the events page and the API.
    query: String,
    transcript: Vec<TranscriptRow>,
    truncated: bool,
    /// Recording names from `session.close` events.
    recordings: Vec<String>,
    /// The terminal output of the first recording, as text (escape sequences
    /// removed, control characters shown), one entry per line.
    terminal: Vec<String>,
    /// Why the terminal output is not shown (encrypted, unreadable), if so.
    terminal_note: String,
    /// Analysts may download the recording, samples and the bundle.
    can_download: bool,
    /// Hashes of the samples the session uploaded or fetched.
    samples: Vec<String>,
}

/// Most bytes of a recording the page reads.
const MAX_RECORDING_READ: u64 = 4 * 1024 * 1024;
/// Most lines of terminal output the page shows.
const MAX_TERMINAL_LINES: usize = 2_000;

/// The output of a recording (relative to the data directory), as lines of
/// text; or why it cannot be shown.
fn terminal_text(state: &AppState, relative: &str) -> Result<Vec<String>, String> {
    use std::io::Read;
    let Some(dir) = &state.data_dir else {
        return Err(String::new());
    };
    // The name comes from an event: only a plain path under recordings/.
    let safe = relative.starts_with("recordings/")
        && relative
            .split('/')
            .all(|p| !p.is_empty() && p != ".." && p != ".");
    if !safe {
        return Err("The recording's name is not a path under recordings/.".into());
    }
    let file = std::fs::File::open(dir.join(relative))
        .map_err(|e| format!("The recording cannot be read ({e})."))?;
    let mut input = std::io::BufReader::new(file);
    let mut data = Vec::new();
    let head = std::io::BufRead::fill_buf(&mut input).map_err(|e| e.to_string())?;
    if nectar_capture::seal::is_age(head) {
        let Some(identity) = &state.identity else {
            return Err("The recording is encrypted (give the server its identity, or use nectar replay --identity).".into());
        };
        identity
            .open(input)
            .map_err(|e| e.to_string())?
            .take(MAX_RECORDING_READ)
            .read_to_end(&mut data)
            .map_err(|e| e.to_string())?;
    } else {
        input
            .take(MAX_RECORDING_READ)
            .read_to_end(&mut data)
            .map_err(|e| e.to_string())?;
    }
    let (_, frames) = nectar_capture::asciicast::read(&data[..])
        .map_err(|e| format!("The recording is damaged ({e})."))?;
    let output: String = frames
        .iter()
        .filter(|f| f.code == "o")
        .map(|f| f.data.as_str())
        .collect();
    Ok(nectar_capture::terminal::plain(&output)
        .split('\n')
        .take(MAX_TERMINAL_LINES)
        // Tabs stay tabs in the terminal block (a typed `␉` is written
        // `⟨U+2409⟩`, so only real tabs are pictured as `␉`).
        .map(|line| visible(line, 4_000).replace('\u{2409}', "\t"))
        .collect())
}

/// Most events the page shows (the latest; the events page pages through all).
const TRANSCRIPT_EVENTS: usize = 1_000;

/// What a transcript line says: the attacker's input for commands, the URL for
/// downloads, the path and hash for uploads, the summary otherwise.
fn what(event: &nectar_event::Event) -> Shown {
    let data = &event.data;
    let text = |key: &str| data.get(key).and_then(|v| v.as_str());
    if let Some(input) = text(field::INPUT) {
        return shown(input, 200);
    }
    if let Some(url) = text(field::URL) {
        return shown(url, 200);
    }
    if let Some(path) = text(field::PATH).or_else(|| text(field::FILENAME)) {
        let hash = text(field::SHA256)
            .map(|h| format!(" (sha256 {h})"))
            .unwrap_or_default();
        return shown(&format!("{path}{hash}"), 200);
    }
    shown(&event.summary, 200)
}

pub async fn detail(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
) -> Response {
    if id.is_empty() || id.chars().count() > 128 {
        return error_page(StatusCode::BAD_REQUEST, "That is not a session id.");
    }
    let filter = EventFilter {
        session: Some(id.clone()),
        ..EventFilter::default()
    };
    let summary = match state.store.get_session(&id).await {
        Ok(Some(summary)) => summary,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "No session has this id."),
        Err(err) => return storage_error(err),
    };
    let page = match state
        .store
        .list_events(&filter, None, TRANSCRIPT_EVENTS)
        .await
    {
        Ok(page) => page,
        Err(err) => return storage_error(err),
    };
    let recorded: Vec<&str> = page
        .events
        .iter()
        .filter_map(|e| e.data.get("recording").and_then(|v| v.as_str()))
        .collect();
    let (terminal, terminal_note) = match recorded.first() {
        Some(first) => match terminal_text(&state, first) {
            Ok(lines) => (lines, String::new()),
            Err(note) => (Vec::new(), note),
        },
        None => (Vec::new(), String::new()),
    };
    let recordings = recorded.iter().map(|r| visible(r, 200)).collect();
    // Typed commands and URLs sealed with `encrypt_to`: shown with the server's
    // identity, "(encrypted)" without it.
    let truncated = page.next.is_some();
    let samples = crate::evidence::session_samples(&page.events);
    let mut events = page.events;
    for event in &mut events {
        state.reveal(event);
        nectar_capture::seal::mark_encrypted(&mut event.data);
    }
    let transcript = events
        .iter()
        .rev()
        .map(|e| {
            let time = e.time.to_string();
            TranscriptRow {
                event: e.id.to_string(),
                time: time.get(11..23).unwrap_or(&time).to_owned(),
                kind: e.kind.as_str(),
                what: what(e),
                link: pivot(e),
            }
        })
        .collect();
    render(&SessionPage {
        layout: Layout::new(&session, "sessions"),
        row: SessionRow::from_summary(&summary).with_origin(&summary, &state.enrich.snapshot()),
        query: format!("session={}", percent_encode(&id)),
        transcript,
        truncated,
        recordings,
        terminal,
        terminal_note,
        can_download: session.user.role >= nectar_store::Role::Analyst,
        samples,
    })
}
