//! Reading a posted batch (`POST /api/v1/events`) with bounded memory (#26 item 1)
//! and admitting its events (#26 item 4).
//!
//! The body is parsed as it arrives: the request task hands body frames over a
//! small bounded channel to a blocking thread, where serde_json reads them as a
//! stream, one event at a time. Each event is bounded as it is read (its `data`
//! counts against the batch's budget of JSON values while it is built), checked
//! and admitted before the next is read; nothing builds a JSON tree of the whole
//! body. Before, a 16 MB body of small numbers became ~850 MB of `Value`s.
//!
//! Memory per request is then bounded by [`MAX_BATCH_VALUES`] (the parsed
//! events) and a few frames in flight, and the API caps how many requests are
//! read at once (`server.max_concurrent_ingest`, see `api::post_events`).

use std::cell::{Cell, RefCell};
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use nectar_event::{Event, IncomingEvent, Timestamp, field};
use nectar_store::TokenOwner;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::WebConfig;
use crate::error::ApiError;

/// Most JSON values (numbers, strings, arrays, objects, their keys) the `data`
/// of one batch's events may hold together. A value costs 32 to ~100 bytes
/// once parsed, so this keeps a batch under ~25 MB however its body is shaped;
/// 10,000 events with 26 data fields each fit.
pub const MAX_BATCH_VALUES: usize = 262_144;

/// Body frames in flight between the request task and the parser.
const FRAMES_IN_FLIGHT: usize = 8;

/// An oversize body is read and thrown away up to this many times the limit
/// before the answer (413), so that a client still sending gets the answer
/// instead of a connection reset; beyond that the connection is cut.
pub(crate) const DRAIN_FACTOR: usize = 4;

/// How the body's reading ended, as the parser cannot tell from its end of
/// the channel why the bytes stopped.
const BODY_COMPLETE: u8 = 0;
const BODY_TOO_LARGE: u8 = 1;
const BODY_BROKEN: u8 = 2;

/// How a posted body is encoded (`Content-Encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyEncoding {
    /// As is.
    Identity,
    /// gzip (what remote sensors send): inflated as it is read, and bounded
    /// after inflating by the same `server.max_body_bytes`.
    Gzip,
}

impl BodyEncoding {
    /// The encoding a `Content-Encoding` header names; an answer naming the
    /// fix for one the server does not take.
    pub(crate) fn of(header: Option<&str>) -> Result<BodyEncoding, ApiError> {
        match header.map(|h| h.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("identity") => Ok(BodyEncoding::Identity),
            Some("gzip") | Some("x-gzip") => Ok(BodyEncoding::Gzip),
            Some(other) => Err(ApiError::with_status(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Content-Encoding {:?} is not taken: send the body as is or gzip'd",
                    crate::visible(other, 32)
                ),
            )),
        }
    }
}

/// Reads what inflating yields up to a bound; past it, the read fails and
/// `over` says why (the parser only sees an I/O error).
struct Inflated<R> {
    inner: R,
    left: usize,
    over: Arc<std::sync::atomic::AtomicBool>,
}

impl<R: Read> Read for Inflated<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // One byte beyond the bound is asked for, to tell "exactly the bound"
        // from "more".
        let want = buf.len().min(self.left.saturating_add(1));
        let n = self.inner.read(&mut buf[..want])?;
        if n > self.left {
            self.over.store(true, Ordering::Release);
            return Err(std::io::Error::other("inflated body too large"));
        }
        self.left -= n;
        Ok(n)
    }
}

/// Reads, bounds and admits the batch in `body`; the events in order, or the
/// answer that refuses the whole batch.
pub(crate) async fn read_batch(
    body: Body,
    encoding: BodyEncoding,
    admission: &Admission,
) -> Result<Vec<Event>, ApiError> {
    let limit = admission.config.max_body_bytes;
    let inflated_over = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tx, rx) = mpsc::channel(FRAMES_IN_FLIGHT);
    let ending = Arc::new(AtomicU8::new(BODY_COMPLETE));
    // The feeder runs on its own, so that after an early refusal the answer
    // goes out while it drains the rest of the body.
    tokio::spawn(feed(body, tx, limit, ending.clone()));
    let admission = admission.clone();
    let over = inflated_over.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        let body = ChannelReader {
            rx,
            current: Bytes::new(),
        };
        match encoding {
            BodyEncoding::Identity => parse(std::io::BufReader::new(body), &admission),
            BodyEncoding::Gzip => parse(
                std::io::BufReader::new(Inflated {
                    inner: flate2::read::MultiGzDecoder::new(body),
                    left: limit,
                    over,
                }),
                &admission,
            ),
        }
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "The batch parser failed.");
        ApiError::with_status(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "the batch could not be read; see the server log",
        )
    })?;
    // The parser only sees the bytes stop; why they stopped comes first.
    match ending.load(Ordering::Acquire) {
        BODY_TOO_LARGE => Err(ApiError::too_large(format!(
            "request body is larger than {limit} bytes (server.max_body_bytes); send smaller batches"
        ))),
        BODY_BROKEN => Err(ApiError::bad_request(
            "could not read the request body (the connection broke)",
        )),
        _ if inflated_over.load(Ordering::Acquire) => Err(ApiError::too_large(format!(
            "the gzip'd body inflates beyond {limit} bytes (server.max_body_bytes); send smaller batches"
        ))),
        _ => parsed,
    }
}

/// Hands the body's frames to the parser until it ends, passes `limit` bytes
/// (then records [`BODY_TOO_LARGE`] and only drains), or the parser stops
/// reading (then only drains). Draining stops at [`DRAIN_FACTOR`] times the
/// limit, which cuts the connection.
async fn feed(mut body: Body, tx: mpsc::Sender<Bytes>, limit: usize, ending: Arc<AtomicU8>) {
    let mut tx = Some(tx);
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                // axum's body limit (DRAIN_FACTOR times ours) reads as too large.
                let state = if e.to_string().contains("length limit") {
                    BODY_TOO_LARGE
                } else {
                    BODY_BROKEN
                };
                ending.store(state, Ordering::Release);
                return;
            }
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total > limit {
            if tx.take().is_some() {
                // Stored before the sender is dropped: the parser sees the end
                // of its input only after this.
                ending.store(BODY_TOO_LARGE, Ordering::Release);
            }
            if total > limit.saturating_mul(DRAIN_FACTOR) {
                return;
            }
            continue;
        }
        if let Some(sender) = &tx
            && sender.send(data).await.is_err()
        {
            // The parser refused the batch; the rest of the body is only drained.
            tx = None;
        }
    }
}

/// The body as `std::io::Read`, for serde_json on the parser's blocking thread.
struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(next) => self.current = next,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// Parses a JSON array of events or NDJSON (one event per line, or any
/// whitespace between them) from `input`, admitting each as it is read.
fn parse<R: std::io::BufRead>(mut input: R, admission: &Admission) -> Result<Vec<Event>, ApiError> {
    let not_json =
        |e: std::io::Error| ApiError::bad_request(format!("could not read the body: {e}"));
    // The first byte that is not whitespace tells the shape.
    let first = loop {
        let buf = input.fill_buf().map_err(not_json)?;
        let Some(&byte) = buf.first() else {
            break None;
        };
        if byte.is_ascii_whitespace() {
            input.consume(1);
        } else {
            break Some(byte);
        }
    };
    let batch = Batch {
        admission,
        values_left: Cell::new(MAX_BATCH_VALUES),
        events: RefCell::new(Vec::new()),
        refused: RefCell::new(None),
    };
    let mut de = serde_json::Deserializer::from_reader(input);
    let read = match first {
        None => Ok(()),
        Some(b'[') => {
            let mut track = serde_path_to_error::Track::new();
            let result = serde::Deserializer::deserialize_seq(
                serde_path_to_error::Deserializer::new(&mut de, &mut track),
                ArrayVisitor(&batch),
            );
            result
                .map_err(|e| (Some(track.path()), e))
                .and_then(|()| de.end().map_err(|e| (None, e)))
        }
        Some(_) => loop {
            if de.end().is_ok() {
                break Ok(());
            }
            let mut track = serde_path_to_error::Track::new();
            let event = EventSeed(&batch)
                .deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
            match event {
                Ok(incoming) => {
                    if let Err(refused) = batch.admit(incoming) {
                        break Err((None, refused));
                    }
                }
                Err(e) => break Err((Some(track.path()), e)),
            }
        },
    };
    if let Some(refused) = batch.refused.take() {
        return Err(refused);
    }
    if let Err((path, e)) = read {
        let index = batch.events.borrow().len();
        return Err(ApiError::bad_request(describe(index, path, &e)));
    }
    let events = batch.events.into_inner();
    if events.is_empty() {
        return Err(ApiError::bad_request(
            "no events in the body: send a JSON array of events or one JSON event per line",
        ));
    }
    Ok(events)
}

/// "event 3 field `data.x`: invalid type ... at line 1 column 99".
fn describe(
    index: usize,
    path: Option<serde_path_to_error::Path>,
    e: &serde_json::Error,
) -> String {
    let path = path.map(|p| p.to_string()).unwrap_or_default();
    // The array's own path starts with the element's index: `[3].kind`.
    let inner = match path.strip_prefix('[') {
        Some(rest) => rest
            .split_once(']')
            .map_or("", |(_, r)| r.trim_start_matches('.')),
        None => path.as_str(),
    };
    let field = if inner.is_empty() || inner == "." || inner == "?" {
        String::new()
    } else {
        format!(" field `{inner}`")
    };
    if e.is_eof() && index == 0 && path.is_empty() {
        return format!("body is not a JSON array of events or NDJSON: {e}");
    }
    if e.is_syntax() || e.is_eof() {
        return format!("event {index}{field}: not valid JSON: {e}");
    }
    format!("event {index}{field}: {e}")
}

/// One batch being read: its admitted events, what is left of its value
/// budget, and the typed refusal that stopped it (serde's errors are strings).
struct Batch<'a> {
    admission: &'a Admission,
    values_left: Cell<usize>,
    events: RefCell<Vec<Event>>,
    refused: RefCell<Option<ApiError>>,
}

impl Batch<'_> {
    fn admit(&self, incoming: IncomingEvent) -> Result<(), serde_json::Error> {
        let mut events = self.events.borrow_mut();
        let index = events.len();
        let config = &self.admission.config;
        let result = if index == config.max_batch_events {
            Err(ApiError::too_large(format!(
                "batch has more than {} events (server.max_batch_events); split it",
                config.max_batch_events
            )))
        } else {
            self.admission.admit(incoming, &format!("event {index}"))
        };
        match result {
            Ok(event) => {
                events.push(event);
                Ok(())
            }
            Err(refused) => {
                *self.refused.borrow_mut() = Some(refused);
                Err(de::Error::custom("refused"))
            }
        }
    }

    /// Takes one value from the budget.
    fn spend<E: de::Error>(&self) -> Result<(), E> {
        match self.values_left.get().checked_sub(1) {
            Some(left) => {
                self.values_left.set(left);
                Ok(())
            }
            None => {
                *self.refused.borrow_mut() = Some(ApiError::too_large(format!(
                    "the batch's `data` holds more than {MAX_BATCH_VALUES} JSON values; send smaller batches"
                )));
                Err(E::custom("too many values"))
            }
        }
    }
}

/// The top-level array: each element is read, bounded and admitted in turn.
struct ArrayVisitor<'a, 'b>(&'a Batch<'b>);

impl<'de> Visitor<'de> for ArrayVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(incoming) = seq.next_element_seed(EventSeed(self.0))? {
            self.0.admit(incoming).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// One event, as [`IncomingEvent`]'s derive reads it, except that `data` is
/// built against the batch's value budget.
struct EventSeed<'a, 'b>(&'a Batch<'b>);

const FIELDS: &[&str] = &[
    "id", "time", "sensor", "kind", "severity", "src_ip", "src_port", "dst_ip", "dst_port",
    "summary", "data",
];

impl<'de> DeserializeSeed<'de> for EventSeed<'_, '_> {
    type Value = IncomingEvent;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<IncomingEvent, D::Error> {
        d.deserialize_map(self)
    }
}

/// Sets a field once; a second occurrence is an error, as with the derive.
fn once<T, E: de::Error>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

impl<'de> Visitor<'de> for EventSeed<'_, '_> {
    type Value = IncomingEvent;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an event (a JSON object with `kind` and `summary`)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IncomingEvent, A::Error> {
        // Each field is `Option<Option<T>>`: absent, or present (maybe null).
        let (mut id, mut time, mut sensor, mut kind, mut severity) = (None, None, None, None, None);
        let (mut src_ip, mut src_port, mut dst_ip, mut dst_port) = (None, None, None, None);
        let (mut summary, mut data) = (None, None);
        while let Some(key) = map.next_key::<std::borrow::Cow<'_, str>>()? {
            match key.as_ref() {
                "id" => once(&mut id, "id", map.next_value()?)?,
                "time" => once(&mut time, "time", map.next_value()?)?,
                "sensor" => once(&mut sensor, "sensor", map.next_value()?)?,
                "kind" => once(&mut kind, "kind", map.next_value()?)?,
                "severity" => once(&mut severity, "severity", map.next_value()?)?,
                "src_ip" => once(&mut src_ip, "src_ip", map.next_value()?)?,
                "src_port" => once(&mut src_port, "src_port", map.next_value()?)?,
                "dst_ip" => once(&mut dst_ip, "dst_ip", map.next_value()?)?,
                "dst_port" => once(&mut dst_port, "dst_port", map.next_value()?)?,
                "summary" => once(&mut summary, "summary", map.next_value()?)?,
                "data" => once(&mut data, "data", map.next_value_seed(DataSeed(self.0))?)?,
                other => return Err(de::Error::unknown_field(other, FIELDS)),
            }
        }
        Ok(IncomingEvent {
            id: id.flatten(),
            time: time.flatten(),
            sensor: sensor.flatten(),
            kind: kind.ok_or_else(|| de::Error::missing_field("kind"))?,
            severity: severity.flatten(),
            src_ip: src_ip.flatten(),
            src_port: src_port.flatten(),
            dst_ip: dst_ip.flatten(),
            dst_port: dst_port.flatten(),
            summary: summary.ok_or_else(|| de::Error::missing_field("summary"))?,
            data: data.flatten(),
        })
    }
}

/// `data`: an object (or null), built against the budget.
struct DataSeed<'a, 'b>(&'a Batch<'b>);

impl<'de> DeserializeSeed<'de> for DataSeed<'_, '_> {
    type Value = Option<Map<String, Value>>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        match BoundedValue(self.0).deserialize(d)? {
            Value::Object(map) => Ok(Some(map)),
            Value::Null => Ok(None),
            other => Err(de::Error::invalid_type(
                unexpected(&other),
                &"a JSON object",
            )),
        }
    }
}

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
        Value::Null => de::Unexpected::Unit,
    }
}

/// Any JSON value, each of whose parts takes one from the batch's budget as it
/// is read: a body of small numbers is refused before it becomes a tree.
struct BoundedValue<'a, 'b>(&'a Batch<'b>);

impl<'de> DeserializeSeed<'de> for BoundedValue<'_, '_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BoundedValue<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.0.spend()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(BoundedValue(self.0))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.0.spend()?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.0.spend()?;
            let value = map.next_value_seed(BoundedValue(self.0))?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// What a token may post: the checks that keep posted events from forging
/// evidence (#26 item 4), applied to each event as it is read.
#[derive(Clone)]
pub(crate) struct Admission {
    /// The token posting.
    owner: TokenOwner,
    pub(crate) config: Arc<WebConfig>,
    /// Times before this are refused (µs).
    oldest_us: i64,
    /// Times after this are refused (µs).
    newest_us: i64,
}

impl Admission {
    pub(crate) fn new(owner: TokenOwner, config: Arc<WebConfig>) -> Admission {
        let now = Timestamp::now().as_micros();
        let micros = |d: std::time::Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        Admission {
            oldest_us: now.saturating_sub(micros(config.max_event_age)),
            newest_us: now.saturating_add(micros(config.max_event_ahead)),
            owner,
            config,
        }
    }

    /// The event `incoming` becomes, or why this token may not post it; `where_`
    /// names the event (`event 3`, `line 4`).
    fn admit(&self, mut incoming: IncomingEvent, where_: &str) -> Result<Event, ApiError> {
        let refuse = |field: &str, why: String| {
            ApiError::unprocessable(format!("{where_}: field `{field}`: {why}"))
        };
        if let Some(sensor) = incoming.sensor.as_deref()
            && sensor != self.owner.sensor
        {
            return Err(refuse(
                "sensor",
                format!(
                    "token {:?} posts as sensor {:?} only; leave `sensor` out, or post {:?}'s events with a token made for it",
                    self.owner.name,
                    self.owner.sensor,
                    crate::visible(sensor, 64)
                ),
            ));
        }
        if let Some(time) = incoming.time {
            let us = time.as_micros();
            if us < self.oldest_us {
                return Err(refuse(
                    "time",
                    format!(
                        "{time} is more than {} days in the past (server.max_event_age_days)",
                        self.config.max_event_age.as_secs() / 86_400
                    ),
                ));
            }
            if us > self.newest_us {
                return Err(refuse(
                    "time",
                    format!(
                        "{time} is more than {} hours ahead of the server's clock (server.max_event_ahead_hours)",
                        self.config.max_event_ahead.as_secs() / 3_600
                    ),
                ));
            }
        }
        let data = incoming.data.get_or_insert_default();
        if data.contains_key(field::RECORDING) {
            return Err(refuse(
                "data.recording",
                "only this server's honeypots name session recordings".into(),
            ));
        }
        // A resent event (read back from the API) carries its token already.
        if data
            .get(field::SUBMITTED_BY)
            .is_some_and(|t| t.as_str() != Some(&self.owner.name))
        {
            return Err(refuse(
                "data.submitted_by",
                "the server sets it to the posting token's name".into(),
            ));
        }
        if data.get(field::SESSION).is_some_and(|s| !s.is_string()) {
            return Err(refuse("data.session", "must be a string".into()));
        }
        data.insert(
            field::SUBMITTED_BY.into(),
            Value::String(self.owner.name.clone()),
        );
        incoming
            .into_event(&self.owner.sensor, &self.config.event_limits)
            .map_err(|e| ApiError::bad_request(format!("{where_}: {e}")))
    }

    /// Refuses the batch if an event names a honeypot session (`data.session`)
    /// that holds events of another sensor: posted events cannot be slipped into
    /// a real session's transcript.
    pub(crate) async fn check_sessions(
        &self,
        store: &nectar_store::Store,
        events: &[Event],
    ) -> Result<(), ApiError> {
        fn session(e: &Event) -> Option<&str> {
            e.data.get(field::SESSION).and_then(Value::as_str)
        }
        let mut named: Vec<&str> = events.iter().filter_map(session).collect();
        named.sort_unstable();
        named.dedup();
        let Some((taken, sensor)) = store
            .session_of_other_sensor(&named, &self.owner.sensor)
            .await?
        else {
            return Ok(());
        };
        let index = events
            .iter()
            .position(|e| session(e) == Some(taken.as_str()))
            .unwrap_or_default();
        Err(ApiError::unprocessable(format!(
            "event {index}: field `data.session`: session {:?} belongs to sensor {:?}; posted events cannot join another sensor's session",
            crate::visible(&taken, 64),
            crate::visible(&sensor, 64)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nectar_store::Role;

    #[test]
    fn parses_array_and_ndjson_and_names_errors() {
        let config = WebConfig::default();
        let array = br#"[{"kind":"http.request","summary":"GET /"},{"kind":"net.alarm","summary":"x","severity":"high"}]"#;
        assert_eq!(parse_bytes(array, &config).unwrap().len(), 2);
        let ndjson = b"{\"kind\":\"http.request\",\"summary\":\"a\"}\n\n{\"kind\":\"http.request\",\"summary\":\"b\"}\n";
        assert_eq!(parse_bytes(ndjson, &config).unwrap().len(), 2);

        let bad = br#"[{"kind":"http.request","summary":"ok"},{"kind":"nope","summary":"x"}]"#;
        let err = parse_bytes(bad, &config).unwrap_err();
        assert!(err_message(err).contains("event 1 field `kind`"));
        let bad = b"{\"kind\":\"http.request\",\"summary\":\"a\"}\n{\"kind\":\"http.request\"}\n";
        let message = err_message(parse_bytes(bad, &config).unwrap_err());
        assert!(
            message.contains("line 2") && message.contains("summary"),
            "{message}"
        );
        let bad = b"{\"kind\":\"http.request\",\"summary\":\"a\",\"src_ip\":\"999.1.1.1\"}";
        assert!(err_message(parse_bytes(bad, &config).unwrap_err()).contains("src_ip"));
        assert!(parse_bytes(b"  ", &config).is_err());
    }

    fn err_message(err: ApiError) -> String {
        format!("{err:?}")
    }

    fn owner() -> TokenOwner {
        TokenOwner {
            name: "tok".into(),
            role: Role::Analyst,
            sensor: "s".into(),
        }
    }

    fn parse_bytes(body: &[u8], config: &WebConfig) -> Result<Vec<Event>, ApiError> {
        parse(body, &Admission::new(owner(), Arc::new(config.clone())))
    }

    #[test]
    fn a_token_cannot_forge_evidence() {
        let config = WebConfig::default();
        let events = parse_bytes(br#"[{"kind":"http.request","summary":"a"}]"#, &config).unwrap();
        assert_eq!(events[0].sensor, "s");
        assert_eq!(events[0].data[field::SUBMITTED_BY], "tok");
        let now = Timestamp::now().as_micros();
        let at = |us: i64| Timestamp::from_micros(us).unwrap().to_string();
        for (body, field) in [
            (
                r#"{"kind":"http.request","summary":"a","sensor":"nectar"}"#.to_owned(),
                "`sensor`",
            ),
            (
                r#"{"kind":"http.request","summary":"a","data":{"recording":"recordings/x.cast"}}"#
                    .to_owned(),
                "`data.recording`",
            ),
            (
                r#"{"kind":"http.request","summary":"a","data":{"submitted_by":"admin"}}"#
                    .to_owned(),
                "`data.submitted_by`",
            ),
            (
                r#"{"kind":"http.request","summary":"a","data":{"session":7}}"#.to_owned(),
                "`data.session`",
            ),
            (
                format!(
                    r#"{{"kind":"http.request","summary":"a","time":"{}"}}"#,
                    at(now - 31 * 86_400_000_000)
                ),
                "`time`",
            ),
            (
                format!(
                    r#"{{"kind":"http.request","summary":"a","time":"{}"}}"#,
                    at(now + 2 * 86_400_000_000)
                ),
                "`time`",
            ),
        ] {
            let err = parse_bytes(body.as_bytes(), &config).unwrap_err();
            assert_eq!(
                err.status(),
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "{body}"
            );
            assert!(err_message(err).contains(field), "{body}");
        }
        let same = parse_bytes(
            br#"{"kind":"http.request","summary":"a","sensor":"s"}"#,
            &config,
        )
        .unwrap();
        assert_eq!(same[0].sensor, "s");
    }

    #[test]
    fn batch_size_is_bounded() {
        let config = WebConfig {
            max_batch_events: 2,
            ..WebConfig::default()
        };
        let line = "{\"kind\":\"http.request\",\"summary\":\"a\"}\n";
        assert!(parse_bytes(line.repeat(3).as_bytes(), &config).is_err());
        assert!(parse_bytes(line.repeat(2).as_bytes(), &config).is_ok());
    }

    #[test]
    fn hostile_shapes_are_refused_as_they_are_read() {
        let config = WebConfig::default();
        let ones = |n: usize| vec!["1"; n].join(",");
        let err = parse_bytes(format!("[{}]", ones(100_000)).as_bytes(), &config).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST);
        assert!(err_message(err).contains("event 0"));
        let err = parse_bytes(
            format!(r#"{{"events":[{}]}}"#, ones(100_000)).as_bytes(),
            &config,
        )
        .unwrap_err();
        assert!(err_message(err).contains("events"));
        // Data of many small values: refused when the budget runs out, not after.
        let many = format!(
            r#"[{{"kind":"http.request","summary":"a","data":{{"a":[{}]}}}}]"#,
            ones(MAX_BATCH_VALUES + 10)
        );
        let err = parse_bytes(many.as_bytes(), &config).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
        assert!(err_message(err).contains("JSON values"));
        // Nulls and nested values pass through unchanged.
        let events = parse_bytes(
            br#"[{"kind":"http.request","summary":"a","severity":null,"data":{"x":[1.5,"s",{"y":null},true]}}]"#,
            &config,
        )
        .unwrap();
        assert_eq!(
            Value::Object(events[0].data.clone()),
            serde_json::json!({"x":[1.5,"s",{"y":null},true],"submitted_by":"tok"})
        );
        let err = parse_bytes(
            br#"[{"kind":"http.request","summary":"a","data":[1]}]"#,
            &config,
        )
        .unwrap_err();
        assert!(err_message(err).contains("field `data`"));
        let err = parse_bytes(
            br#"[{"kind":"http.request","summary":"a","kind":"net.alarm"}]"#,
            &config,
        )
        .unwrap_err();
        assert!(err_message(err).contains("duplicate field"));
    }
}
