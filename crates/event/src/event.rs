//! The `Event` itself, and `IncomingEvent`, the looser form a sensor posts.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{Kind, Severity, Timestamp};

/// One thing a sensor saw. See the crate docs for the JSON form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// UUIDv7: time-ordered, unique across sensors.
    pub id: Uuid,
    /// When it happened (packet time for captures, wall time otherwise), UTC, µs.
    pub time: Timestamp,
    /// Name of the sensor that produced it.
    pub sensor: String,
    /// What happened.
    pub kind: Kind,
    /// How urgent it is.
    pub severity: Severity,
    /// Source address (the attacker, the client), if any.
    pub src_ip: Option<IpAddr>,
    /// Source port, if any.
    pub src_port: Option<u16>,
    /// Destination address (the sensor, the target), if any.
    pub dst_ip: Option<IpAddr>,
    /// Destination port, if any.
    pub dst_port: Option<u16>,
    /// One line a person can read.
    pub summary: String,
    /// Kind-specific fields; always a JSON object.
    pub data: Map<String, Value>,
}

/// Bounds on what an event may hold, so one event cannot exhaust memory or a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest sensor name, in bytes.
    pub max_sensor_bytes: usize,
    /// Longest summary, in bytes.
    pub max_summary_bytes: usize,
    /// Largest `data` object, in bytes of compact JSON.
    pub max_data_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sensor_bytes: 128,
            max_summary_bytes: 2_048,
            max_data_bytes: 256 * 1024,
        }
    }
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// `sensor` is empty or longer than the limit.
    #[error("field `sensor` must be 1 to {max} bytes long (got {got})")]
    Sensor {
        /// The limit.
        max: usize,
        /// The length received.
        got: usize,
    },
    /// `summary` is empty or longer than the limit.
    #[error("field `summary` must be 1 to {max} bytes long (got {got})")]
    Summary {
        /// The limit.
        max: usize,
        /// The length received.
        got: usize,
    },
    /// `data` serialises to more than the limit.
    #[error("field `data` is {got} bytes of JSON; the limit is {max}")]
    DataTooLarge {
        /// The limit.
        max: usize,
        /// The size received.
        got: usize,
    },
    /// `id` is not a UUID of version 7 (time-ordered).
    #[error("field `id` must be a UUIDv7 (time-ordered); got version {0}")]
    IdVersion(usize),
}

impl Event {
    /// A new event happening now, with a fresh UUIDv7 and empty `data`.
    pub fn new(
        sensor: impl Into<String>,
        kind: Kind,
        severity: Severity,
        summary: impl Into<String>,
    ) -> Event {
        Event {
            id: Uuid::now_v7(),
            time: Timestamp::now(),
            sensor: sensor.into(),
            kind,
            severity,
            src_ip: None,
            src_port: None,
            dst_ip: None,
            dst_port: None,
            summary: summary.into(),
            data: Map::new(),
        }
    }

    /// Sets the time (and nothing else: the id keeps its own clock).
    pub fn at(mut self, time: Timestamp) -> Event {
        self.time = time;
        self
    }

    /// Sets the source address and port.
    pub fn from_addr(mut self, ip: IpAddr, port: Option<u16>) -> Event {
        self.src_ip = Some(ip);
        self.src_port = port;
        self
    }

    /// Sets the destination address and port.
    pub fn to_addr(mut self, ip: IpAddr, port: Option<u16>) -> Event {
        self.dst_ip = Some(ip);
        self.dst_port = port;
        self
    }

    /// Adds one field to `data`.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Event {
        self.data.insert(key.to_owned(), value.into());
        self
    }

    /// Checks the bounds of `limits`; the only check an already typed event needs.
    pub fn validate(&self, limits: &Limits) -> Result<(), EventError> {
        let sensor = self.sensor.len();
        if sensor == 0 || sensor > limits.max_sensor_bytes {
            return Err(EventError::Sensor {
                max: limits.max_sensor_bytes,
                got: sensor,
            });
        }
        let summary = self.summary.len();
        if summary == 0 || summary > limits.max_summary_bytes {
            return Err(EventError::Summary {
                max: limits.max_summary_bytes,
                got: summary,
            });
        }
        if !self.data.is_empty() {
            let mut counter = ByteCounter(0);
            // Writing into a counter cannot fail; an error would only undercount.
            let _ = serde_json::to_writer(&mut counter, &self.data);
            if counter.0 > limits.max_data_bytes {
                return Err(EventError::DataTooLarge {
                    max: limits.max_data_bytes,
                    got: counter.0,
                });
            }
        }
        Ok(())
    }
}

/// Strings no shorter than this are left whole by [`Event::fit_data`].
const MIN_CLIP: usize = 64;

impl Event {
    /// Makes `data` fit in `max_bytes` of compact JSON, for producers with a
    /// tighter bound than [`Limits`] (honeypot events, which anyone can make
    /// large): the longest strings are cut (with `…`) to a length halved until
    /// it fits, then, if it is many small values, the largest fields go, except
    /// `session` and `protocol`. Sealed values (`*_enc`) are never cut (a cut
    /// ciphertext is noise). A changed event gets `data.clipped = true`; returns
    /// whether it changed.
    pub fn fit_data(&mut self, max_bytes: usize) -> bool {
        if json_len(&self.data) <= max_bytes {
            return false;
        }
        self.data
            .insert(crate::field::CLIPPED.into(), Value::Bool(true));
        let mut cap = max_bytes / 2;
        while cap >= MIN_CLIP {
            for (key, value) in self.data.iter_mut() {
                if !key.ends_with("_enc") {
                    clip_strings(value, cap);
                }
            }
            if json_len(&self.data) <= max_bytes {
                return true;
            }
            cap /= 2;
        }
        while json_len(&self.data) > max_bytes {
            let largest = self
                .data
                .iter()
                .filter(|(k, _)| {
                    ![
                        crate::field::SESSION,
                        crate::field::PROTOCOL,
                        crate::field::CLIPPED,
                    ]
                    .contains(&k.as_str())
                })
                .max_by_key(|(_, v)| json_len(v))
                .map(|(k, _)| k.clone());
            match largest {
                Some(key) => {
                    self.data.remove(&key);
                }
                None => break,
            }
        }
        true
    }
}

/// Cuts every string in `value` longer than `cap` bytes (at a character
/// boundary), except under `*_enc` keys.
fn clip_strings(value: &mut Value, cap: usize) {
    match value {
        Value::String(s) if s.len() > cap => {
            let mut end = cap;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
            s.push('…');
        }
        Value::Array(items) => items.iter_mut().for_each(|v| clip_strings(v, cap)),
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if !key.ends_with("_enc") {
                    clip_strings(v, cap);
                }
            }
        }
        _ => {}
    }
}

/// The length of `value` as compact JSON.
fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    let mut counter = ByteCounter(0);
    // Writing into a counter cannot fail; an error would only undercount.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// Counts bytes instead of storing them, to measure JSON size without allocating.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An event as a sensor or script posts it: `id`, `time`, `sensor`, `severity` and
/// `data` may be left out and are filled in on arrival.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncomingEvent {
    /// UUIDv7; a new one is made when absent. Sending the same id twice stores it once,
    /// so a sensor can safely resend a batch whose acknowledgement it lost.
    pub id: Option<Uuid>,
    /// When it happened; now when absent.
    pub time: Option<Timestamp>,
    /// Producer name; the API token's name when absent.
    pub sensor: Option<String>,
    /// What happened (required).
    pub kind: Kind,
    /// `info` when absent.
    pub severity: Option<Severity>,
    /// Source address.
    pub src_ip: Option<IpAddr>,
    /// Source port.
    pub src_port: Option<u16>,
    /// Destination address.
    pub dst_ip: Option<IpAddr>,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// One line a person can read (required).
    pub summary: String,
    /// Kind-specific fields; must be an object when present.
    pub data: Option<Map<String, Value>>,
}

impl IncomingEvent {
    /// Completes and checks the event; `default_sensor` names it when it does not.
    pub fn into_event(self, default_sensor: &str, limits: &Limits) -> Result<Event, EventError> {
        let id = match self.id {
            Some(id) if id.get_version_num() != 7 => {
                return Err(EventError::IdVersion(id.get_version_num()));
            }
            Some(id) => id,
            None => Uuid::now_v7(),
        };
        let event = Event {
            id,
            time: self.time.unwrap_or_else(Timestamp::now),
            sensor: self.sensor.unwrap_or_else(|| default_sensor.to_owned()),
            kind: self.kind,
            severity: self.severity.unwrap_or(Severity::Info),
            src_ip: self.src_ip,
            src_port: self.src_port,
            dst_ip: self.dst_ip,
            dst_port: self.dst_port,
            summary: self.summary,
            data: self.data.unwrap_or_default(),
        };
        event.validate(limits)?;
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        Event::new(
            "honeypot-1",
            Kind::SshLoginFailed,
            Severity::Low,
            "root/123456",
        )
        .from_addr("203.0.113.7".parse().unwrap(), Some(51234))
        .to_addr("::1".parse().unwrap(), Some(2222))
        .with("username", "root")
        .with("password", "123456")
    }

    #[test]
    fn json_round_trip_with_public_field_names() {
        let event = sample();
        let json = serde_json::to_value(&event).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = [
            "id", "time", "sensor", "kind", "severity", "src_ip", "src_port", "dst_ip", "dst_port",
            "summary", "data",
        ];
        expected.sort_unstable();
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        assert_eq!(keys_sorted, expected);
        assert_eq!(json["kind"], "ssh.login.failed");
        assert_eq!(json["severity"], "low");
        assert_eq!(json["src_ip"], "203.0.113.7");
        assert!(json["time"].as_str().unwrap().ends_with('Z'));
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
        assert_eq!(back.id.get_version_num(), 7);
    }

    #[test]
    fn incoming_fills_defaults_and_checks_limits() {
        let incoming: IncomingEvent =
            serde_json::from_str(r#"{"kind":"http.request","summary":"GET /"}"#).unwrap();
        let event = incoming
            .into_event("token-name", &Limits::default())
            .unwrap();
        assert_eq!(event.sensor, "token-name");
        assert_eq!(event.severity, Severity::Info);
        assert!(event.data.is_empty());

        let long = format!(
            r#"{{"kind":"http.request","summary":"{}"}}"#,
            "x".repeat(3000)
        );
        let incoming: IncomingEvent = serde_json::from_str(&long).unwrap();
        assert!(matches!(
            incoming.into_event("s", &Limits::default()),
            Err(EventError::Summary { .. })
        ));

        let v4 =
            r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","kind":"http.request","summary":"x"}"#;
        let incoming: IncomingEvent = serde_json::from_str(v4).unwrap();
        assert_eq!(
            incoming.into_event("s", &Limits::default()),
            Err(EventError::IdVersion(4))
        );
    }

    #[test]
    fn incoming_rejects_unknown_fields_and_non_object_data() {
        assert!(
            serde_json::from_str::<IncomingEvent>(
                r#"{"kind":"http.request","summary":"x","colour":"red"}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<IncomingEvent>(
                r#"{"kind":"http.request","summary":"x","data":[1]}"#
            )
            .is_err()
        );
    }

    #[test]
    fn fit_data_cuts_the_longest_strings_then_the_largest_fields() {
        let mut small = sample();
        assert!(!small.fit_data(16 * 1024));
        let mut long = sample()
            .with(crate::field::SESSION, "abc")
            .with("body", "x".repeat(60_000))
            .with("password_enc", "y".repeat(2_000))
            .with("headers", serde_json::json!(["h".repeat(10_000), "short"]));
        assert!(long.fit_data(16 * 1024));
        assert!(serde_json::to_string(&long.data).unwrap().len() <= 16 * 1024);
        assert_eq!(long.data[crate::field::CLIPPED], true);
        assert_eq!(long.data["password_enc"].as_str().unwrap().len(), 2_000);
        assert!(long.data["body"].as_str().unwrap().ends_with('…'));
        assert_eq!(long.data["headers"][1], "short");
        assert_eq!(long.data["username"], "root");
        let mut many = sample().with(crate::field::SESSION, "abc");
        for i in 0..5_000 {
            many = many.with(&format!("k{i}"), i);
        }
        assert!(many.fit_data(16 * 1024));
        assert!(serde_json::to_string(&many.data).unwrap().len() <= 16 * 1024);
        assert_eq!(many.data[crate::field::SESSION], "abc");
    }

    #[test]
    fn data_limit_is_enforced() {
        let event = sample().with("blob", "y".repeat(300 * 1024));
        assert!(matches!(
            event.validate(&Limits::default()),
            Err(EventError::DataTooLarge { .. })
        ));
    }
}
