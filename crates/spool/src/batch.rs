//! A batch's payload: its events as NDJSON (one event's JSON per line), gzip'd.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use nectar_event::Event;

use crate::SpoolError;

/// The payload of `events`.
///
/// The NDJSON is written out whole and then compressed in one call: flate2
/// writing into a `Vec` fills the vector's spare room with zeros on each
/// write, so many small writes (one per JSON token) cost that fill each time
/// (75 % of the time in the spool bench).
pub fn encode(events: &[Event]) -> Result<Vec<u8>, SpoolError> {
    let mut ndjson = Vec::with_capacity(events.len() * 256);
    for event in events {
        serde_json::to_writer(&mut ndjson, event)
            .map_err(|e| SpoolError::Payload(e.to_string()))?;
        ndjson.push(b'\n');
    }
    let mut gz = GzEncoder::new(
        Vec::with_capacity(ndjson.len() / 4 + 64),
        Compression::fast(),
    );
    gz.write_all(&ndjson)
        .map_err(|e| SpoolError::Payload(e.to_string()))?;
    gz.finish().map_err(|e| SpoolError::Payload(e.to_string()))
}

/// The events of a payload; at most `max_bytes` of NDJSON are read (a payload
/// that inflates beyond is refused, not followed).
pub fn decode(payload: &[u8], max_bytes: u64) -> Result<Vec<Event>, SpoolError> {
    let mut text = Vec::new();
    GzDecoder::new(payload)
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut text)
        .map_err(|e| SpoolError::Payload(format!("not gzip: {e}")))?;
    if text.len() as u64 > max_bytes {
        return Err(SpoolError::Payload(format!(
            "inflates beyond {max_bytes} bytes"
        )));
    }
    text.split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_slice(line)
                .map_err(|e| SpoolError::Payload(format!("line {}: {e}", i + 1)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nectar_event::{Kind, Severity};

    #[test]
    fn events_come_back_as_they_went_in() {
        let events: Vec<Event> = (0..50)
            .map(|i| {
                Event::new("s1", Kind::SshLoginFailed, Severity::Low, "failed")
                    .with("password", format!("pw{i}\n\"quoted\""))
            })
            .collect();
        let payload = encode(&events).unwrap();
        assert_eq!(decode(&payload, 1 << 20).unwrap(), events);
    }

    #[test]
    fn a_bomb_or_garbage_is_refused() {
        let big = vec![Event::new(
            "s1",
            Kind::SessionConnect,
            Severity::Info,
            "x".repeat(10_000),
        )];
        let payload = encode(&big).unwrap();
        assert!(matches!(
            decode(&payload, 1_000),
            Err(SpoolError::Payload(_))
        ));
        assert!(decode(b"not gzip at all", 1_000).is_err());
    }
}
