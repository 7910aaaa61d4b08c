//! Streaming events out of the store (#26 item 2): the UI's CSV and JSON exports
//! and the API's event pages (`GET /api/v1/events`).
//!
//! A task pages through the store [`FETCH_ROWS`] events at a time and writes
//! each event, encoded, into a bounded channel that is the response body, so a
//! response holds one fetch and [`CHUNKS_IN_FLIGHT`] chunks however large it is
//! (before, an export of 3,549 honeypot events of ~66 KB took RSS from 167 MB to
//! 794 MB). Exports stop at a number of rows and of bytes, announced up front in
//! the [`LIMIT_HEADER`] header; a CSV export that stopped early says so in its
//! last line. At most `server.max_concurrent_exports` exports run at once, and a
//! client that leaves a chunk unread for [`STALL_TIMEOUT`] is cut off, so a
//! stalled reader cannot hold a slot.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use http_body_util::channel::{Channel, Sender};
use nectar_event::Event;
use nectar_store::{Cursor, EventFilter, StoreError};
use tokio::sync::OwnedSemaphorePermit;

use crate::AppState;

/// Events read from the store at a time: ~7 MB at the largest honeypot events.
pub(crate) const FETCH_ROWS: usize = 100;

/// Encoded events queued for the client (one chunk per event).
const CHUNKS_IN_FLIGHT: usize = 16;

/// Most rows one export returns.
pub(crate) const EXPORT_ROWS: usize = 50_000;

/// The response header stating an export's limits, sent before its first row.
pub(crate) const LIMIT_HEADER: &str = "nectar-export-limit";

/// How the events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// A header line and one line per event (the UI's export).
    Csv,
    /// A JSON array of events (the UI's export).
    Json,
    /// `{"events":[...],"next_cursor":...}` (`GET /api/v1/events`).
    ApiPage,
}

/// What to stream.
pub(crate) struct Export {
    pub filter: EventFilter,
    /// Start after this event (API pages).
    pub cursor: Option<Cursor>,
    /// Most events.
    pub rows: usize,
    /// Most bytes of events (the row that would pass it is not sent).
    pub bytes: usize,
    pub format: Format,
}

/// The response streaming `export` (its limits in [`LIMIT_HEADER`] for
/// exports); `permit` is held until the last byte is queued.
pub(crate) fn response(
    state: AppState,
    export: Export,
    permit: Option<OwnedSemaphorePermit>,
    content_type: &'static str,
    disposition: Option<&'static str>,
) -> Response {
    let limit = (export.format != Format::ApiPage)
        .then(|| format!("rows={}, bytes={}", export.rows, export.bytes));
    let (mut tx, body) = Channel::<Bytes, std::io::Error>::new(CHUNKS_IN_FLIGHT);
    tokio::spawn(async move {
        let _permit = permit;
        match produce(&state, export, &mut tx).await {
            Ok(()) | Err(Stop::Gone) => {}
            Err(Stop::Stalled) => {
                tracing::info!(
                    "A client stopped reading its events for 60 s; its response is cut."
                );
                tx.abort(std::io::Error::other("the client stopped reading"));
            }
            Err(Stop::Store(err)) => {
                tracing::error!(error = %err, "Store error while streaming events; the response is cut short.");
                // The status has gone out: an aborted body tells the client.
                tx.abort(std::io::Error::other("storage error"));
            }
        }
    });
    let mut response = Body::new(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(disposition) = disposition {
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static(disposition),
        );
    }
    if let Some(limit) = limit.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(LIMIT_HEADER, limit);
    }
    response
}

/// Why streaming stopped early.
enum Stop {
    /// The client went away.
    Gone,
    /// The client stopped reading for [`STALL_TIMEOUT`].
    Stalled,
    Store(StoreError),
}

/// How long a client may leave a chunk unread before its response is cut: a
/// reader that stalls would otherwise hold an export slot for ever.
const STALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

async fn send(tx: &mut Sender<Bytes, std::io::Error>, chunk: Vec<u8>) -> Result<(), Stop> {
    match tokio::time::timeout(STALL_TIMEOUT, tx.send_data(Bytes::from(chunk))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Stop::Gone),
        Err(_) => Err(Stop::Stalled),
    }
}

async fn produce(
    state: &AppState,
    export: Export,
    tx: &mut Sender<Bytes, std::io::Error>,
) -> Result<(), Stop> {
    let format = export.format;
    send(
        tx,
        match format {
            Format::Csv => CSV_HEADER.as_bytes().to_vec(),
            Format::Json => b"[".to_vec(),
            Format::ApiPage => b"{\"events\":[".to_vec(),
        },
    )
    .await?;
    let (mut rows, mut bytes) = (0usize, 0usize);
    let mut cursor = export.cursor;
    // Why the export ended before the store's last match, if it did.
    let mut cut: Option<String> = None;
    let mut next_cursor: Option<Cursor> = None;
    'pages: while rows < export.rows {
        let page = state
            .store
            .list_events(&export.filter, cursor, FETCH_ROWS.min(export.rows - rows))
            .await
            .map_err(Stop::Store)?;
        let tables = state.enrich.tables();
        for mut event in page.events {
            state.reveal(&mut event);
            let chunk = encode(format, &event, rows == 0, &tables);
            if bytes.saturating_add(chunk.len()) > export.bytes {
                cut = Some(format!("{} bytes", export.bytes));
                break 'pages;
            }
            bytes += chunk.len();
            rows += 1;
            send(tx, chunk).await?;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        if rows == export.rows {
            cut = Some(format!("{} rows", export.rows));
            next_cursor = cursor;
        }
    }
    let end = match format {
        Format::Csv => match cut {
            Some(limit) => format!(
                "# Export stopped at its limit of {limit} ({rows} rows); narrow the filter for the rest.\r\n"
            ),
            None => String::new(),
        },
        Format::Json => "]".into(),
        Format::ApiPage => format!(
            "],\"next_cursor\":{}}}",
            next_cursor.map_or("null".into(), |c| format!("\"{c}\""))
        ),
    };
    if !end.is_empty() {
        send(tx, end.into_bytes()).await?;
    }
    Ok(())
}

const CSV_HEADER: &str =
    "id,time,sensor,kind,severity,src_ip,src_port,dst_ip,dst_port,summary,data\r\n";

/// One event as its chunk of the response.
fn encode(format: Format, e: &Event, first: bool, tables: &nectar_enrich::Tables) -> Vec<u8> {
    match format {
        Format::Csv => {
            let cells = [
                e.id.to_string(),
                e.time.to_string(),
                e.sensor.clone(),
                e.kind.to_string(),
                e.severity.to_string(),
                e.src_ip.map(|i| i.to_string()).unwrap_or_default(),
                e.src_port.map(|p| p.to_string()).unwrap_or_default(),
                e.dst_ip.map(|i| i.to_string()).unwrap_or_default(),
                e.dst_port.map(|p| p.to_string()).unwrap_or_default(),
                e.summary.clone(),
                serde_json::to_string(&e.data).unwrap_or_default(),
            ];
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                csv_cell(&mut line, cell);
            }
            line.push_str("\r\n");
            line.into_bytes()
        }
        Format::Json | Format::ApiPage => {
            let mut out = if first { Vec::new() } else { b",".to_vec() };
            // An event always serialises (its data is a JSON object already).
            let _ = serde_json::to_writer(&mut out, &WithEnrich::new(e, tables));
            out
        }
    }
}

/// Quotes a CSV cell, and defuses spreadsheet formulas: a cell an attacker made start
/// with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` so Excel shows it as text.
fn csv_cell(out: &mut String, cell: &str) {
    out.push('"');
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        out.push('\'');
    }
    for c in cell.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut out = String::new();
        csv_cell(&mut out, "=HYPERLINK(\"x\")");
        assert_eq!(out, "\"'=HYPERLINK(\"\"x\"\")\"");
        let mut out = String::new();
        csv_cell(&mut out, "plain, text");
        assert_eq!(out, "\"plain, text\"");
    }
}

/// An event with the enrichment of its source address under `enrich` (when a
/// source is configured and the event has a source address).
#[derive(serde::Serialize)]
pub(crate) struct WithEnrich<'a> {
    #[serde(flatten)]
    event: &'a Event,
    #[serde(skip_serializing_if = "Option::is_none")]
    enrich: Option<nectar_enrich::Enrichment<'a>>,
}

impl<'a> WithEnrich<'a> {
    pub(crate) fn new(event: &'a Event, tables: &'a nectar_enrich::Tables) -> WithEnrich<'a> {
        let enrich = match event.src_ip {
            Some(ip) if !tables.is_empty() => Some(tables.lookup(ip)),
            _ => None,
        };
        WithEnrich { event, enrich }
    }
}

/// An event as JSON with its `enrich` field.
pub(crate) fn enriched(event: &Event, tables: &nectar_enrich::Tables) -> serde_json::Value {
    serde_json::to_value(WithEnrich::new(event, tables)).unwrap_or(serde_json::Value::Null)
}
