//! The InfluxDB sink as a consumer of the committed-event stream: every
//! stored `net.alarm` event becomes one `nectar_alarm` point, whichever
//! producer raised it (the live detector, `nectar analyze --store`, a remote
//! sensor posting to the API), and with `events = true` every stored event a
//! `nectar_event` point.
//!
//! As a consumer it has a durable offset (`influxdb` in `/api/v1/status`):
//! alarms committed while InfluxDB or Nectar was down are caught up from the
//! store. It waits for room in the sink's queue instead of dropping, so a
//! slow InfluxDB makes it fall behind (its lag shows) rather than lose
//! alarms; the sink's own buffer bound (`max_buffer_points`) still applies
//! while InfluxDB is unreachable, and what it drops is counted.
#![forbid(unsafe_code)]

use std::sync::Arc;

use nectar_bus::stream::{Consumer, ConsumerError, StartAt};
use nectar_event::Event;

use super::influx::InfluxSink;

/// The consumer's name: the key of its offset.
pub const CONSUMER_NAME: &str = "influxdb";

/// Writes the committed stream's alarms (and, if asked, every event) to a
/// shared [`InfluxSink`].
#[derive(Debug)]
pub struct InfluxStream {
    sink: Arc<InfluxSink>,
}

impl InfluxStream {
    /// A consumer writing to `sink` (which the detector may share for windows).
    pub fn new(sink: Arc<InfluxSink>) -> InfluxStream {
        InfluxStream { sink }
    }
}

impl Consumer for InfluxStream {
    fn name(&self) -> &str {
        CONSUMER_NAME
    }

    fn start_at(&self) -> StartAt {
        // A new InfluxDB sink of an old store writes alarms from now on, as
        // the sink did before it was a consumer.
        StartAt::Latest
    }

    fn resume(&mut self, _checkpoint: &str) -> Result<(), ConsumerError> {
        // Points are keyed by time and tags: one written twice is one point.
        Ok(())
    }

    fn deliver(&mut self, _first_seq: u64, events: &[Event]) -> Result<(), ConsumerError> {
        for e in events {
            self.sink
                .stored_event(e)
                .map_err(ConsumerError::from_display)?;
        }
        Ok(())
    }

    fn checkpoint(&mut self) -> Result<String, ConsumerError> {
        Ok(String::new())
    }
}
