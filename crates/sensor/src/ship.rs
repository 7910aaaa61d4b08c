//! The shipper: empties the spool into the server, oldest batch first, one at
//! a time, deleting a batch only once the server answered that its events are
//! committed.
//!
//! - Each batch carries its sequence number (`X-Nectar-Batch-Seq`): a resend
//!   after a lost answer is harmless (the server stores events once, by id)
//!   and a skipped number shows the server a gap.
//! - Failures of the link (refused, reset, black hole, an answer cut in half)
//!   and `5xx`/`429` are retried with exponential backoff and full jitter;
//!   `Retry-After` (seconds) is honoured within [`MAX_RETRY_AFTER`].
//! - A batch the server refuses as malformed (`400`, `403`, `413`, `415`,
//!   `422`) goes to the spool's dead letters, an alarm event is spooled (the
//!   server learns of it), and the next batch goes on.
//! - `401` means the credential is unknown or revoked: shipping stops and says
//!   so; the spool keeps what the sensor sees.
//! - When the spool dropped events (full, `drop_oldest`), a `sensor.status`
//!   event telling how many is spooled once the link works again.
//! - Every batch also tells the server the spool's depth, oldest unsent
//!   event, drops and the sensor's clock, for the Sensors page.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use nectar_event::{Event, Kind, Severity, Timestamp};
use nectar_spool::{Batch, Spool, SpoolStats};
use rand::Rng;
use tokio::sync::watch;

use crate::{Credential, SensorError};

/// Longest wait a server's `Retry-After` may ask for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Request headers the server reads (see the server's ingest).
pub mod header {
    /// The batch's sequence number.
    pub const BATCH_SEQ: &str = "x-nectar-batch-seq";
    /// The sensor's clock when it sent the batch (ms since the epoch).
    pub const SENSOR_TIME: &str = "x-nectar-sensor-time";
    /// Events waiting in the spool.
    pub const SPOOL_EVENTS: &str = "x-nectar-spool-events";
    /// When the oldest of them was spooled (µs since the epoch).
    pub const SPOOL_OLDEST: &str = "x-nectar-spool-oldest";
    /// Events the spool dropped (full, `drop_oldest`), since it was made.
    pub const DROPPED: &str = "x-nectar-dropped";
    /// Batches set aside as dead letters.
    pub const DEAD_LETTERS: &str = "x-nectar-dead-letters";
    /// The sensor's version.
    pub const VERSION: &str = "x-nectar-version";
}

/// The shipper's settings.
#[derive(Debug, Clone)]
pub struct ShipperConfig {
    /// First wait after a failure.
    pub min_backoff: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
    /// How long an idle shipper waits before looking at the spool again
    /// (appends wake it sooner).
    pub idle_poll: Duration,
    /// The sensor's version, sent with each batch.
    pub version: String,
    /// How long one post (answer included) may take before it is given up
    /// and retried: a black-holed link costs this much.
    pub request_timeout: Duration,
    /// The local address to connect from (a sensor with several
    /// interfaces); unset: the system chooses.
    pub local_address: Option<std::net::IpAddr>,
}

impl Default for ShipperConfig {
    fn default() -> Self {
        ShipperConfig {
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            idle_poll: Duration::from_secs(1),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            request_timeout: crate::client::REQUEST_TIMEOUT,
            local_address: None,
        }
    }
}

/// What the shipper has done, read by the sensor's status output.
#[derive(Debug, Default)]
pub struct ShipStatus {
    /// Batches the server committed.
    pub batches: AtomicU64,
    /// Their events.
    pub events: AtomicU64,
    /// Attempts that failed and were retried.
    pub retries: AtomicU64,
    /// Batches set aside as malformed.
    pub dead_letters: AtomicU64,
    /// The server refused the credential: shipping stopped.
    pub revoked: AtomicBool,
    /// The link works (the last attempt reached the server).
    pub connected: AtomicBool,
}

/// Why [`Shipper::run`] returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// Asked to stop.
    Asked,
    /// The server refused the credential (revoked or unknown); its message.
    Revoked(String),
}

/// What one attempt to send a batch came to.
#[derive(Debug)]
enum Attempt {
    Committed,
    Retry {
        after: Option<Duration>,
        why: String,
    },
    Malformed(String),
    Revoked(String),
}

/// Empties one spool into one server.
pub struct Shipper {
    spool: Spool,
    client: reqwest::Client,
    credential: Credential,
    config: ShipperConfig,
    status: Arc<ShipStatus>,
}

impl Shipper {
    /// A shipper for `spool` to the server of `credential`.
    pub fn new(
        spool: Spool,
        credential: Credential,
        config: ShipperConfig,
    ) -> Result<Shipper, SensorError> {
        let pin = crate::pin::parse_pin(&credential.pin)?;
        let client = crate::client::pinned_client(
            pin,
            &config.version,
            config.request_timeout,
            config.local_address,
        )?;
        Ok(Shipper {
            spool,
            client,
            credential,
            config,
            status: Arc::new(ShipStatus::default()),
        })
    }

    /// Its counters.
    pub fn status(&self) -> Arc<ShipStatus> {
        self.status.clone()
    }

    /// Ships until `stop` turns true or the credential is refused. Spool
    /// errors end it (the spool is the sensor's only copy: better stopped
    /// and said than guessed around).
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> Result<Stopped, SensorError> {
        let mut backoff = Backoff::new(self.config.min_backoff, self.config.max_backoff);
        let mut failures_logged = 0u64;
        // The last failure's reason: a new reason (the server back, but busy)
        // is logged even between the every-20th lines.
        let mut last_why = String::new();
        loop {
            if *stop.borrow() {
                return Ok(Stopped::Asked);
            }
            let Some(batch) = self.spool.next(0, 1).await?.pop() else {
                tokio::select! {
                    _ = self.spool.appended() => {}
                    _ = tokio::time::sleep(self.config.idle_poll) => {}
                    _ = stop.changed() => {}
                }
                continue;
            };
            let stats = self.spool.stats().await?;
            match self.send(&batch, &stats).await {
                Attempt::Committed => {
                    self.spool.ack(batch.seq).await?;
                    self.status.batches.fetch_add(1, Ordering::Relaxed);
                    self.status
                        .events
                        .fetch_add(batch.events, Ordering::Relaxed);
                    if failures_logged > 0 {
                        tracing::info!(
                            server = %self.credential.server,
                            "The server answers again; sending what was spooled."
                        );
                        failures_logged = 0;
                        last_why.clear();
                    }
                    backoff.reset();
                    self.status.connected.store(true, Ordering::Relaxed);
                    // The link works: tell of drops (once each).
                    if stats.dropped > stats.dropped_reported {
                        self.report_drops().await?;
                    }
                }
                Attempt::Retry { after, why } => {
                    self.status.retries.fetch_add(1, Ordering::Relaxed);
                    self.status.connected.store(false, Ordering::Relaxed);
                    let wait = match after {
                        Some(after) => backoff.jitter(after),
                        None => backoff.next(),
                    };
                    failures_logged += 1;
                    // The first failure, every 20th and each new reason: a
                    // long outage must not fill the log.
                    if failures_logged == 1 || failures_logged.is_multiple_of(20) || why != last_why
                    {
                        tracing::warn!(
                            server = %self.credential.server,
                            batch = batch.seq,
                            failures = failures_logged,
                            retry_in_ms = wait.as_millis() as u64,
                            "Could not send a batch: {why}. Kept in the spool; retrying."
                        );
                    }
                    last_why = why;
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => {}
                    }
                }
                Attempt::Malformed(reason) => {
                    self.status.connected.store(true, Ordering::Relaxed);
                    self.set_aside(&batch, &reason).await?;
                }
                Attempt::Revoked(message) => {
                    self.status.revoked.store(true, Ordering::Relaxed);
                    tracing::error!(
                        server = %self.credential.server,
                        sensor = %self.credential.name,
                        "The server refused this sensor's credential ({message}): it was revoked, or the server's database was replaced. Shipping stopped; events stay in the spool. Enrol again with a new `nectar sensor-token create` line."
                    );
                    return Ok(Stopped::Revoked(message));
                }
            }
        }
    }

    /// Posts one batch.
    async fn send(&self, batch: &Batch, stats: &SpoolStats) -> Attempt {
        let url = format!("{}/api/v1/events", self.credential.server);
        let request = self
            .client
            .post(url)
            .bearer_auth(&self.credential.token)
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
            .header(reqwest::header::CONTENT_ENCODING, "gzip")
            .header(header::BATCH_SEQ, batch.seq)
            .header(header::SENSOR_TIME, Timestamp::now().as_micros() / 1000)
            // What waits besides this batch.
            .header(
                header::SPOOL_EVENTS,
                stats.events.saturating_sub(batch.events),
            )
            .header(header::DROPPED, stats.dropped)
            .header(header::DEAD_LETTERS, stats.dead)
            .header(header::VERSION, &self.config.version);
        // The oldest batch is this one: the next is younger, and its time is
        // not known here; this one's is the bound the server shows.
        let request = match stats.oldest_us {
            Some(oldest) if stats.batches > 1 => request.header(header::SPOOL_OLDEST, oldest),
            _ => request,
        };
        let answer = match request.body(batch.payload.clone()).send().await {
            Ok(answer) => answer,
            Err(e) => {
                return Attempt::Retry {
                    after: None,
                    why: crate::client::describe(&e),
                };
            }
        };
        let status = answer.status();
        let retry_after = retry_after(answer.headers());
        // The whole answer is read: one cut in half is a failure, not a commit.
        let body = match answer.bytes().await {
            Ok(body) => body,
            Err(e) => {
                return Attempt::Retry {
                    after: None,
                    why: format!("the answer broke off: {}", crate::client::describe(&e)),
                };
            }
        };
        let message = || error_message(&body, status);
        match status.as_u16() {
            200..=299 => {
                // A success is only a success if the server says what it stored.
                match serde_json::from_slice::<serde_json::Value>(&body) {
                    Ok(v) if v.get("stored").is_some() => Attempt::Committed,
                    _ => Attempt::Retry {
                        after: None,
                        why: format!("{status} without the server's count of stored events"),
                    },
                }
            }
            401 => Attempt::Revoked(message()),
            400 | 403 | 413 | 415 | 422 => Attempt::Malformed(message()),
            _ => Attempt::Retry {
                after: retry_after,
                why: message(),
            },
        }
    }

    /// Sets a refused batch aside and spools an alarm telling of it.
    async fn set_aside(&self, batch: &Batch, reason: &str) -> Result<(), SensorError> {
        self.spool.reject(batch.seq, reason).await?;
        self.status.dead_letters.fetch_add(1, Ordering::Relaxed);
        tracing::error!(
            batch = batch.seq,
            events = batch.events,
            "The server refused a batch as malformed ({reason}); it was set aside in the spool's dead letters, and the batches after it go on."
        );
        let alarm = Event::new(
            self.credential.name.as_str(),
            Kind::SensorStatus,
            Severity::High,
            format!(
                "The server refused batch {} ({} events) as malformed; the sensor kept it as a dead letter",
                batch.seq, batch.events
            ),
        )
        .with("status", "dead_letter")
        .with("batch", batch.seq)
        .with("events", batch.events)
        .with("reason", crate::cut(reason, 500));
        self.spool.append(&[alarm]).await?;
        Ok(())
    }

    /// Spools the event telling how many events the full spool dropped.
    async fn report_drops(&self) -> Result<(), SensorError> {
        let name = self.credential.name.clone();
        let reported = self
            .spool
            .report_drops(|n| {
                Event::new(
                    name,
                    Kind::SensorStatus,
                    Severity::High,
                    format!("The sensor's spool was full: {n} events were dropped, oldest first (sensor.when_full = \"drop_oldest\")"),
                )
                .with("status", "spool_dropped")
                .with("dropped", n)
            })
            .await?;
        if let Some(n) = reported {
            tracing::warn!(
                dropped = n,
                "Told the server of events the full spool dropped."
            );
        }
        Ok(())
    }
}

/// `Retry-After` in seconds, within bounds (an HTTP date is not taken: the
/// backoff decides then).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// The server's `{"error": ...}`, or the start of its body.
fn error_message(body: &[u8], status: reqwest::StatusCode) -> String {
    let text = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned());
    format!("{status}: {}", crate::cut(&text, 300))
}

/// Exponential backoff with full jitter (AWS's "full jitter": a uniform wait
/// in [0, cap], the cap doubling per failure), so many sensors coming back
/// after an outage do not retry in step.
#[derive(Debug)]
struct Backoff {
    min: Duration,
    max: Duration,
    cap: Duration,
}

impl Backoff {
    fn new(min: Duration, max: Duration) -> Backoff {
        Backoff { min, max, cap: min }
    }

    fn reset(&mut self) {
        self.cap = self.min;
    }

    fn next(&mut self) -> Duration {
        let wait = self.jitter(self.cap);
        self.cap = (self.cap * 2).min(self.max);
        wait
    }

    /// Somewhere in [base/2, base]: not sooner than about what was asked.
    fn jitter(&self, base: Duration) -> Duration {
        let base_ms = base.as_millis().max(1) as u64;
        let low = base_ms / 2;
        Duration::from_millis(rand::rng().random_range(low..=base_ms)).max(self.min / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let mut last_cap = Duration::ZERO;
        for _ in 0..10 {
            let wait = b.next();
            assert!(wait <= Duration::from_secs(2));
            assert!(b.cap >= last_cap);
            last_cap = b.cap;
        }
        assert_eq!(b.cap, Duration::from_secs(2));
        b.reset();
        assert_eq!(b.cap, Duration::from_millis(100));
    }

    #[test]
    fn retry_after_takes_seconds_within_bounds() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(reqwest::header::RETRY_AFTER, "999999".parse().unwrap());
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        h.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
