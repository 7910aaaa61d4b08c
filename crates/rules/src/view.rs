//! Events as Sigma sees them: a borrowed view of a committed [`Event`] that
//! the Sigma engine reads fields from, without converting the event to JSON.
//!
//! The native view has `logsource: product: nectar, service: <family>` (ssh,
//! telnet, http, net, ...). Its fields are the event's JSON fields (`id`,
//! `time`, `sensor`, `kind`, `severity`, `src_ip`, `src_port`, `dst_ip`,
//! `dst_port`, `summary`, `data`), and every `data.x` is reachable both as
//! `data.x` and as `x` (a top-level name wins). Keyword (field-less) detections
//! search the summary and every string in `data`.
//!
//! [`crate::mapped`] adds the views public rules expect (`webserver`,
//! `process_creation`).

use std::borrow::Cow;

use nectar_event::Event;
use rsigma_eval::event::{Event as SigmaEvent, EventValue};
use rsigma_parser::LogSource;
use serde_json::{Map, Value};

/// Deepest nesting walked in `data` (attacker-shaped JSON is bounded by the
/// event's size limits, but recursion is bounded here too).
pub(crate) const MAX_DEPTH: usize = 16;

/// The logsource `product` of every native view.
pub const PRODUCT: &str = "nectar";

/// The logsource of `event`'s native view.
pub fn native_logsource(event: &Event) -> LogSource {
    LogSource {
        product: Some(PRODUCT.to_owned()),
        service: Some(event.kind.family().to_owned()),
        ..LogSource::default()
    }
}

/// A committed event as the Sigma engine reads it.
#[derive(Debug, Clone)]
pub struct NativeView<'a> {
    event: &'a Event,
    /// `src_ip` as text, made once: correlations read it for every group key.
    src_ip: Option<String>,
    /// `id` and `time` as text, made when first asked for (each firing of a
    /// correlation reads them for its event references).
    id: std::cell::OnceCell<String>,
    time: std::cell::OnceCell<String>,
}

impl<'a> NativeView<'a> {
    /// The view of `event`.
    pub fn new(event: &'a Event) -> NativeView<'a> {
        NativeView {
            event,
            src_ip: event.src_ip.map(|ip| ip.to_string()),
            id: std::cell::OnceCell::new(),
            time: std::cell::OnceCell::new(),
        }
    }

    /// What the engine keeps of an event it references: its id (rsigma's
    /// `Refs` mode reads `id` and takes the time from the window), made once
    /// per event however many correlations count it.
    pub(crate) fn reference(&self) -> Value {
        let mut map = Map::with_capacity(1);
        let id = self.id.get_or_init(|| self.event.id.to_string());
        map.insert("id".into(), Value::String(id.clone()));
        Value::Object(map)
    }

    /// The field `path` (also for the mapped views, which add their own): a
    /// top-level field, else `data.x` by `x` or `data.x`.
    pub(crate) fn field(&self, path: &str) -> Option<EventValue<'_>> {
        let path = path.strip_prefix("data.").unwrap_or(path);
        let borrowed = |s: &'a str| Some(EventValue::Str(Cow::Borrowed(s)));
        let event = self.event;
        let port = |p: Option<u16>| p.map(|p| EventValue::Int(i64::from(p)));
        match path {
            "src_ip" => self
                .src_ip
                .as_deref()
                .map(|s| EventValue::Str(Cow::Borrowed(s))),
            "id" => Some(EventValue::Str(Cow::Borrowed(
                self.id.get_or_init(|| event.id.to_string()),
            ))),
            "time" | "@timestamp" | "timestamp" => Some(EventValue::Str(Cow::Borrowed(
                self.time.get_or_init(|| event.time.to_string()),
            ))),
            "dst_ip" => event
                .dst_ip
                .map(|ip| EventValue::Str(Cow::Owned(ip.to_string()))),
            "sensor" => borrowed(&event.sensor),
            "kind" => borrowed(event.kind.as_str()),
            "severity" => borrowed(event.severity.as_str()),
            "summary" => borrowed(&event.summary),
            "src_port" => port(event.src_port),
            "dst_port" => port(event.dst_port),
            "product" => borrowed(PRODUCT),
            "service" => borrowed(event.kind.family()),
            "data" => Some(map_value(&event.data, 0)),
            _ => data_field(&event.data, path).map(|v| value(v, 0)),
        }
    }
}

/// `path` looked up in `data`: a key with that exact name first (keys may hold
/// dots), then the dotted path through nested objects.
pub(crate) fn data_field<'a>(data: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = data.get(path) {
        return Some(v);
    }
    let mut parts = path.split('.');
    let mut current = data.get(parts.next()?)?;
    for part in parts {
        current = match current {
            Value::Object(map) => map.get(part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// A JSON value as the engine's value, without copying strings; nesting below
/// [`MAX_DEPTH`] reads as null.
pub(crate) fn value(v: &Value, depth: usize) -> EventValue<'_> {
    if depth >= MAX_DEPTH {
        return EventValue::Null;
    }
    match v {
        Value::String(s) => EventValue::Str(Cow::Borrowed(s)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => EventValue::Int(i),
            None => EventValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::Bool(b) => EventValue::Bool(*b),
        Value::Null => EventValue::Null,
        Value::Array(items) => {
            EventValue::Array(items.iter().map(|v| value(v, depth + 1)).collect())
        }
        Value::Object(map) => map_value(map, depth + 1),
    }
}

fn map_value(map: &Map<String, Value>, depth: usize) -> EventValue<'_> {
    EventValue::Map(
        map.iter()
            .map(|(k, v)| (Cow::Borrowed(k.as_str()), value(v, depth + 1)))
            .collect(),
    )
}

/// Calls `visit` with every string in `v` (bounded depth).
pub(crate) fn visit_strings<'a>(v: &'a Value, depth: usize, visit: &mut dyn FnMut(&'a str)) {
    if depth >= MAX_DEPTH {
        return;
    }
    match v {
        Value::String(s) => visit(s),
        Value::Array(items) => items
            .iter()
            .for_each(|v| visit_strings(v, depth + 1, visit)),
        Value::Object(map) => map
            .values()
            .for_each(|v| visit_strings(v, depth + 1, visit)),
        _ => {}
    }
}

impl SigmaEvent for NativeView<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        self.field(path)
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut found = pred(&self.event.summary);
        for v in self.event.data.values() {
            if found {
                break;
            }
            visit_strings(v, 0, &mut |s| found = found || pred(s));
        }
        found
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = vec![Cow::Borrowed(self.event.summary.as_str())];
        for v in self.event.data.values() {
            visit_strings(v, 0, &mut |s| out.push(Cow::Borrowed(s)));
        }
        out
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        visit(&self.event.summary);
        for v in self.event.data.values() {
            visit_strings(v, 0, &mut |s| visit(s));
        }
    }

    /// rsigma asks for an event's JSON only to copy it into results when told
    /// to include events, which it never is here: a reference is enough.
    fn to_json(&self) -> Value {
        self.reference()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nectar_event::{Kind, Severity};

    fn event() -> Event {
        let mut e = Event::new(
            "honeypot",
            Kind::SshLoginFailed,
            Severity::Low,
            "root failed",
        );
        e.src_ip = Some("203.0.113.7".parse().unwrap());
        e.src_port = Some(40_000);
        e.data.insert("username".into(), "root".into());
        e.data.insert(
            "client".into(),
            serde_json::json!({"version": "SSH-2.0-Go"}),
        );
        e
    }

    #[test]
    fn data_fields_are_reachable_with_and_without_the_prefix() {
        let e = event();
        let v = NativeView::new(&e);
        for path in ["username", "data.username"] {
            assert_eq!(
                v.get_field(path)
                    .and_then(|v| v.as_str().map(|s| s.into_owned())),
                Some("root".to_owned()),
                "{path}"
            );
        }
        assert_eq!(
            v.get_field("client.version")
                .and_then(|v| v.as_str().map(|s| s.into_owned())),
            Some("SSH-2.0-Go".to_owned())
        );
        assert_eq!(
            v.get_field("src_ip")
                .and_then(|v| v.as_str().map(|s| s.into_owned())),
            Some("203.0.113.7".to_owned())
        );
        assert_eq!(v.get_field("src_port"), Some(EventValue::Int(40_000)));
        assert_eq!(
            v.get_field("service")
                .and_then(|v| v.as_str().map(|s| s.into_owned())),
            Some("ssh".to_owned())
        );
        assert!(v.get_field("nothing").is_none());
        assert!(v.any_string_value(&|s| s.contains("SSH-2.0")));
        assert_eq!(native_logsource(&e).service.as_deref(), Some("ssh"));
    }
}
