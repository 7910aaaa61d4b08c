//! Evidence one click away (#25 item 5): the files a honeypot kept — uploaded or
//! fetched samples (`uploads/AB/SHA256`) and session recordings
//! (`recordings/.../SESSION.cast`) — downloadable by analysts from the session
//! and event pages and the API, and a whole session as one bundle.
//!
//! Every answer is an attachment (`application/octet-stream`,
//! `Content-Disposition: attachment`, `X-Content-Type-Options: nosniff`), so no
//! browser renders attacker content. Samples come bare or, with `?zip=1`, inside
//! a zip encrypted with the password `infected` (ZipCrypto, the convention for
//! sharing malware, which `unzip -P infected` and Python's zipfile read); a
//! session's bundle is such a zip holding its recording, its events as JSON and
//! its samples. Viewers may not download: these files are live malware and may
//! carry what attackers typed.
//!
//! Paths come from events or from a hash in the URL; only a hex SHA-256 or a
//! plain relative path under `uploads/` or `recordings/` is ever opened. Files
//! sealed with `encrypt_to` are opened with the server's identity when it has
//! one, and otherwise handed out sealed (`.age`, for `nectar decrypt`). Reads
//! and bundles are bounded, and bundles share the export slots.

use std::io::{Read, Write};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use nectar_event::{Event, Kind, field};
use nectar_store::{EventFilter, KindFilter, Role};
use serde::Deserialize;

use crate::AppState;
use crate::api_incident_parts::download_response;
use crate::auth::{ApiCaller, CurrentUser};
use crate::error::ApiError;

/// The password of every zip this module makes.
pub const ZIP_PASSWORD: &str = "infected";

/// Most bytes read of one file (a sample is at most `max_file_bytes`, 4 MiB by
/// default; a recording `max_bytes`, 1 MiB).
const MAX_FILE_READ: u64 = 64 * 1024 * 1024;

/// Most bytes of files one bundle holds; past it, samples are listed as left
/// out in its `README.txt`.
const MAX_BUNDLE_BYTES: u64 = 128 * 1024 * 1024;

/// Most events of a session a bundle holds.
const MAX_BUNDLE_EVENTS: usize = 50_000;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/samples/{sha256}", get(api_sample))
        .route("/api/v1/sessions/{id}/recording", get(api_recording))
        .route("/api/v1/sessions/{id}/bundle", get(api_bundle))
        .route("/samples/{sha256}", get(page_sample))
        .route("/sessions/{id}/recording", get(page_recording))
        .route("/sessions/{id}/bundle", get(page_bundle))
}

/// `?zip=1`: the sample inside a zip encrypted with `infected`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleParams {
    zip: Option<String>,
}

impl SampleParams {
    fn zipped(&self) -> Result<bool, ApiError> {
        match self.zip.as_deref() {
            None | Some("" | "0" | "false") => Ok(false),
            Some("1" | "true") => Ok(true),
            Some(_) => Err(ApiError::bad_request("zip: 1 or 0")),
        }
    }
}

async fn api_sample(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(sha256): Path<String>,
    Query(params): Query<SampleParams>,
) -> Result<Response, ApiError> {
    caller.require(Role::Analyst)?;
    sample(&state, &sha256, params.zipped()?).await
}

async fn api_recording(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Role::Analyst)?;
    recording(&state, &id).await
}

async fn api_bundle(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Role::Analyst)?;
    bundle(&state, &id).await
}

async fn page_sample(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(sha256): Path<String>,
    Query(params): Query<SampleParams>,
) -> Response {
    let answer = match page_role(&session) {
        Ok(()) => match params.zipped() {
            Ok(zipped) => sample(&state, &sha256, zipped).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    as_page(answer)
}

async fn page_recording(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
) -> Response {
    let answer = match page_role(&session) {
        Ok(()) => recording(&state, &id).await,
        Err(e) => Err(e),
    };
    as_page(answer)
}

async fn page_bundle(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
) -> Response {
    let answer = match page_role(&session) {
        Ok(()) => bundle(&state, &id).await,
        Err(e) => Err(e),
    };
    as_page(answer)
}

/// Downloads need the analyst role in the UI too.
fn page_role(session: &nectar_store::WebSession) -> Result<(), ApiError> {
    if session.user.role < Role::Analyst {
        return Err(ApiError::forbidden(format!(
            "Downloading samples and recordings needs the analyst role; you are {}.",
            session.user.role
        )));
    }
    Ok(())
}

/// An API answer as a page: the file, or an error page with its status.
fn as_page(answer: Result<Response, ApiError>) -> Response {
    match answer {
        Ok(response) => response,
        Err(e) => crate::pages::error_page(e.status(), &e.message()),
    }
}

/// A hex SHA-256 from a URL, lower-cased; or a 400 naming the field.
fn parse_sha256(text: &str) -> Result<String, ApiError> {
    let sha = text.to_ascii_lowercase();
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request("sha256: 64 hex digits"));
    }
    Ok(sha)
}

fn parse_session(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.chars().count() > 128 {
        return Err(ApiError::bad_request("a session id is 1 to 128 characters"));
    }
    Ok(())
}

/// A file the honeypots kept, as read: its bytes, and whether they are still
/// sealed (no identity to open them).
struct Kept {
    bytes: Vec<u8>,
    sealed: bool,
}

/// Whether `relative` is a plain path under `top/` (no `..`, no empty parts).
fn plain_path_under(relative: &str, top: &str) -> bool {
    relative.starts_with(top)
        && relative
            .split('/')
            .all(|p| !p.is_empty() && p != ".." && p != "." && !p.contains('\\'))
}

/// Reads a kept file (relative to the data directory), opening it with the
/// server's identity when sealed and the server has one. `None` when missing.
fn read_kept(state: &AppState, relative: &str) -> Result<Option<Kept>, ApiError> {
    let Some(dir) = &state.data_dir else {
        return Ok(None);
    };
    if !plain_path_under(relative, "uploads/") && !plain_path_under(relative, "recordings/") {
        return Err(ApiError::unprocessable(
            "the event names a file outside uploads/ and recordings/",
        ));
    }
    let file = match std::fs::File::open(dir.join(relative)) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ApiError::with_status(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the file cannot be read ({e})"),
            ));
        }
    };
    let too_large =
        || ApiError::too_large(format!("the file is larger than {MAX_FILE_READ} bytes"));
    let unreadable = |e: &dyn std::fmt::Display| {
        ApiError::with_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the file cannot be read ({e})"),
        )
    };
    let mut input = std::io::BufReader::new(file);
    let head = std::io::BufRead::fill_buf(&mut input).map_err(|e| unreadable(&e))?;
    let sealed = nectar_capture::seal::is_age(head);
    let mut bytes = Vec::new();
    let read = match (&state.identity, sealed) {
        (Some(identity), true) => identity
            .open(input)
            .map_err(|e| unreadable(&e))?
            .take(MAX_FILE_READ + 1)
            .read_to_end(&mut bytes),
        _ => input.take(MAX_FILE_READ + 1).read_to_end(&mut bytes),
    };
    read.map_err(|e| unreadable(&e))?;
    if bytes.len() as u64 > MAX_FILE_READ {
        return Err(too_large());
    }
    Ok(Some(Kept {
        bytes,
        sealed: sealed && state.identity.is_none(),
    }))
}

/// The kept sample with this hash: plain or sealed (`.age`) on disk.
fn read_sample(state: &AppState, sha256: &str) -> Result<Option<Kept>, ApiError> {
    let plain = format!("uploads/{}/{sha256}", &sha256[..2]);
    if let Some(kept) = read_kept(state, &plain)? {
        return Ok(Some(kept));
    }
    read_kept(state, &format!("{plain}.age"))
}

async fn sample(state: &AppState, sha256: &str, zipped: bool) -> Result<Response, ApiError> {
    let sha256 = parse_sha256(sha256)?;
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let kept = read_sample(&state, &sha256)?
            .ok_or_else(|| ApiError::not_found(format!("no sample {sha256} is stored")))?;
        let name = if kept.sealed {
            format!("{sha256}.age")
        } else {
            sha256.clone()
        };
        if !zipped {
            return Ok(download_response(&name, kept.bytes));
        }
        let mut zip = Zip::new();
        zip.add(&name, &kept.bytes)?;
        Ok(download_response(&format!("{sha256}.zip"), zip.finish()?))
    })
    .await
    .map_err(|e| ApiError::with_status(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

/// The `recording` named by a session's events (its `session.close`).
async fn recording_name(state: &AppState, id: &str) -> Result<Option<String>, ApiError> {
    let filter = EventFilter {
        session: Some(id.to_owned()),
        kind: Some(KindFilter::Exact(Kind::SessionClose)),
        ..EventFilter::default()
    };
    let page = state.store.list_events(&filter, None, 10).await?;
    Ok(page.events.iter().find_map(|e| {
        e.data
            .get(field::RECORDING)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    }))
}

async fn recording(state: &AppState, id: &str) -> Result<Response, ApiError> {
    parse_session(id)?;
    let name = recording_name(state, id)
        .await?
        .ok_or_else(|| ApiError::not_found("this session has no recording"))?;
    let state = state.clone();
    let id = id.to_owned();
    tokio::task::spawn_blocking(move || {
        let kept = read_kept(&state, &name)?
            .ok_or_else(|| ApiError::not_found("the recording's file is gone"))?;
        let file = format!(
            "{}.cast{}",
            file_stem(&id),
            if kept.sealed { ".age" } else { "" }
        );
        Ok(download_response(&file, kept.bytes))
    })
    .await
    .map_err(|e| ApiError::with_status(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

/// A session id as a safe file name.
fn file_stem(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

/// Every event of a session, oldest first (at most [`MAX_BUNDLE_EVENTS`]);
/// and whether there were more.
async fn session_events(state: &AppState, id: &str) -> Result<(Vec<Event>, bool), ApiError> {
    let filter = EventFilter {
        session: Some(id.to_owned()),
        ..EventFilter::default()
    };
    let mut events = Vec::new();
    let mut cursor = None;
    loop {
        let page = state
            .store
            .list_events(&filter, cursor, crate::export::FETCH_ROWS * 10)
            .await?;
        events.extend(page.events);
        match page.next {
            Some(next) if events.len() < MAX_BUNDLE_EVENTS => cursor = Some(next),
            Some(_) => {
                events.reverse();
                return Ok((events, true));
            }
            None => {
                events.reverse();
                return Ok((events, false));
            }
        }
    }
}

/// The kept files an event names (`data.file` of an upload or fetched sample),
/// with their hashes.
fn samples_of(events: &[Event]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for event in events {
        let text = |key: &str| event.data.get(key).and_then(|v| v.as_str());
        if let (Some(file), Some(sha)) = (text(field::FILE), text(field::SHA256))
            && file.starts_with("uploads/")
            && parse_sha256(sha).is_ok()
            && !out.iter().any(|(s, _)| s == sha)
        {
            out.push((sha.to_ascii_lowercase(), file.to_owned()));
        }
    }
    out
}

async fn bundle(state: &AppState, id: &str) -> Result<Response, ApiError> {
    parse_session(id)?;
    let Ok(permit) = state.export_slots.clone().try_acquire_owned() else {
        return Err(ApiError::busy(format!(
            "{} exports are running already (server.max_concurrent_exports); retry shortly",
            state.config.max_concurrent_exports
        )));
    };
    let (events, more) = session_events(state, id).await?;
    if events.is_empty() {
        return Err(ApiError::not_found(format!(
            "no session {:?}",
            crate::visible(id, 64)
        )));
    }
    let recording = events.iter().find_map(|e| {
        e.data
            .get(field::RECORDING)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    });
    let state = state.clone();
    let id = id.to_owned();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let stem = file_stem(&id);
        let mut zip = Zip::new();
        let mut readme = format!(
            "Nectar session {id}: its events (events.json, oldest first), its terminal \
             recording (asciicast v2) and the samples it uploaded or fetched (samples/SHA256).\n\
             Samples are live malware: handle with care.\n"
        );
        if more {
            readme.push_str(&format!(
                "events.json holds the first {MAX_BUNDLE_EVENTS} events only.\n"
            ));
        }
        let json = serde_json::to_vec_pretty(&events)
            .map_err(|e| ApiError::with_status(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let mut total = json.len() as u64;
        zip.add(&format!("{stem}/events.json"), &json)?;
        if let Some(name) = &recording {
            match read_kept(&state, name) {
                Ok(Some(kept)) => {
                    total += kept.bytes.len() as u64;
                    let suffix = if kept.sealed { ".age" } else { "" };
                    zip.add(&format!("{stem}/{stem}.cast{suffix}"), &kept.bytes)?;
                }
                Ok(None) => readme.push_str("The recording's file is gone.\n"),
                Err(e) => readme.push_str(&format!("The recording: {}\n", e.message())),
            }
        }
        for (sha, file) in samples_of(&events) {
            match read_kept(&state, &file) {
                Ok(Some(kept)) if total + kept.bytes.len() as u64 <= MAX_BUNDLE_BYTES => {
                    total += kept.bytes.len() as u64;
                    let suffix = if kept.sealed { ".age" } else { "" };
                    zip.add(&format!("{stem}/samples/{sha}{suffix}"), &kept.bytes)?;
                }
                Ok(Some(_)) => readme.push_str(&format!(
                    "Sample {sha} left out: the bundle would pass {MAX_BUNDLE_BYTES} bytes \
                     (download it alone from /api/v1/samples/{sha}).\n"
                )),
                Ok(None) => readme.push_str(&format!("Sample {sha}: its file is gone.\n")),
                Err(e) => readme.push_str(&format!("Sample {sha}: {}\n", e.message())),
            }
        }
        zip.add(&format!("{stem}/README.txt"), readme.as_bytes())?;
        Ok(download_response(
            &format!("session-{stem}.zip"),
            zip.finish()?,
        ))
    })
    .await
    .map_err(|e| ApiError::with_status(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

/// A zip in memory whose every entry is encrypted with [`ZIP_PASSWORD`].
struct Zip {
    writer: zip::ZipWriter<std::io::Cursor<Vec<u8>>>,
}

impl Zip {
    fn new() -> Zip {
        Zip {
            writer: zip::ZipWriter::new(std::io::Cursor::new(Vec::new())),
        }
    }

    fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), ApiError> {
        use zip::unstable::write::FileOptionsExt;
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(bytes.len() as u64 >= u32::MAX as u64)
            .with_deprecated_encryption(ZIP_PASSWORD.as_bytes())
            .map_err(zip_error)?;
        self.writer.start_file(name, options).map_err(zip_error)?;
        self.writer
            .write_all(bytes)
            .map_err(|e| zip_error(e.into()))
    }

    fn finish(self) -> Result<Vec<u8>, ApiError> {
        Ok(self.writer.finish().map_err(zip_error)?.into_inner())
    }
}

fn zip_error(e: zip::result::ZipError) -> ApiError {
    ApiError::with_status(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("the zip cannot be made ({e})"),
    )
}

/// What an event's page offers an analyst to download, as (label, link): the
/// sample it names (`data.file` under `uploads/` and `data.sha256`), bare and
/// zipped, and its session's recording (`data.recording`).
pub(crate) fn downloads_of(event: &Event) -> Vec<(&'static str, String)> {
    let text = |key: &str| event.data.get(key).and_then(|v| v.as_str());
    let mut out = Vec::new();
    if let (Some(sha), Some(file)) = (text(field::SHA256), text(field::FILE))
        && file.starts_with("uploads/")
        && let Ok(sha) = parse_sha256(sha)
    {
        out.push(("sample", format!("/samples/{sha}")));
        out.push((
            "sample as zip (password infected)",
            format!("/samples/{sha}?zip=1"),
        ));
    }
    if let (Some(session), Some(_)) = (text(field::SESSION), text(field::RECORDING)) {
        let link = crate::auth::percent_encode(session).replace('/', "%2F");
        out.push(("recording", format!("/sessions/{link}/recording")));
        out.push((
            "session bundle (zip, password infected)",
            format!("/sessions/{link}/bundle"),
        ));
    }
    out
}

/// The samples a session's page lists for download (hashes).
pub(crate) fn session_samples(events: &[Event]) -> Vec<String> {
    samples_of(events).into_iter().map(|(sha, _)| sha).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_under_the_capture_directories() {
        assert!(plain_path_under("uploads/ab/abcd", "uploads/"));
        assert!(plain_path_under(
            "recordings/2026/01/02/x.cast",
            "recordings/"
        ));
        for bad in [
            "uploads/../nectar.db",
            "uploads//x",
            "/etc/passwd",
            "uploads/./x",
            "recordings/a\\..\\b",
            "nectar.db",
        ] {
            assert!(
                !plain_path_under(bad, "uploads/") && !plain_path_under(bad, "recordings/"),
                "{bad}"
            );
        }
    }

    #[test]
    fn hashes_and_names() {
        assert!(parse_sha256(&"A".repeat(64)).is_ok());
        assert!(parse_sha256("../../x").is_err());
        assert!(parse_sha256(&"g".repeat(64)).is_err());
        assert_eq!(file_stem("0193a/../x y"), "0193a____x_y");
    }

    #[test]
    fn a_zip_opens_with_the_password() {
        let mut zip = Zip::new();
        zip.add("a/b.bin", b"\x7fELF payload").unwrap();
        let bytes = zip.finish().unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert!(archive.by_index(0).is_err(), "encrypted");
        let mut file = archive
            .by_index_decrypt(0, ZIP_PASSWORD.as_bytes())
            .unwrap();
        let mut out = Vec::new();
        file.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"\x7fELF payload");
    }
}
