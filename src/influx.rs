//! The InfluxDB sink: per-window statistics and alarms as line protocol,
//! written to InfluxDB 1.x (`/write?db=`) or 2.x (`/api/v2/write?org=&bucket=`)
//! by one thread, in batches, with retries and a bounded buffer.
//!
//! Producers never wait: [`InfluxSink::send`] hands a line to a bounded
//! queue and counts what does not fit. The writer thread batches lines (by
//! count or after `flush_ms`), retries a failed write with growing pauses
//! (up to 30 s) and keeps at most `max_buffer_points` lines meanwhile,
//! dropping the oldest and counting them. Plain HTTP only: TLS would add a
//! crypto stack for one sink; a local proxy (or InfluxDB on the same host)
//! is the documented way to reach a remote server.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nectar_detect::{Alarm, Monitors, WindowReport};
use tracing::{info, warn};

use crate::detect_cfg::InfluxConfig;

/// Counters of the sink.
#[derive(Debug, Default)]
pub struct InfluxStats {
    /// Points acknowledged by InfluxDB.
    pub written: AtomicU64,
    /// Points dropped (queue or buffer full, or refused by the server).
    pub dropped: AtomicU64,
    /// Failed write attempts.
    pub errors: AtomicU64,
}

/// A running sink; dropping it (or [`InfluxSink::close`]) flushes what it can.
pub struct InfluxSink {
    tx: Option<SyncSender<String>>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<InfluxStats>,
    sensor: String,
    windows: bool,
    alarms: bool,
}

impl InfluxSink {
    /// Starts the writer thread.
    pub fn start(cfg: &InfluxConfig, sensor: &str) -> anyhow::Result<InfluxSink> {
        let (tx, rx) = std::sync::mpsc::sync_channel(cfg.batch_points.max(1) * 4);
        let stats = Arc::new(InfluxStats::default());
        let url = write_url(cfg);
        let writer = Writer {
            rx,
            url,
            cfg: cfg.clone(),
            stats: stats.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("influxdb".into())
            .spawn(move || {
                // Built on this thread: reqwest's blocking client runs its own
                // runtime, which must not be created or dropped in async code.
                match reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                {
                    Ok(client) => writer.run(&client),
                    Err(e) => warn!(error = %e, "Cannot start the InfluxDB client."),
                }
            })?;
        Ok(InfluxSink {
            tx: Some(tx),
            thread: Some(thread),
            stats,
            sensor: sensor.to_owned(),
            windows: cfg.windows,
            alarms: cfg.alarms,
        })
    }

    /// The counters.
    pub fn stats(&self) -> &Arc<InfluxStats> {
        &self.stats
    }

    fn send(&self, line: String) {
        if let Some(tx) = &self.tx {
            match tx.try_send(line) {
                Ok(()) => {}
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                    self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// One point for a window: every watched statistic and its thresholds.
    pub fn window(&self, r: &WindowReport, monitors: &Monitors) {
        if self.windows {
            self.send(window_line(&self.sensor, r, monitors));
        }
    }

    /// One point for an alarm.
    pub fn alarm(&self, a: &Alarm) {
        if self.alarms {
            self.send(alarm_line(&self.sensor, a));
        }
    }

    /// Flushes and stops the writer (waits for at most one retry round).
    pub fn close(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for InfluxSink {
    fn drop(&mut self) {
        self.close();
    }
}

fn enc(s: &str) -> String {
    // Query-string encoding for database / org / bucket names.
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn write_url(cfg: &InfluxConfig) -> String {
    let base = cfg.url.trim_end_matches('/');
    if cfg.version == 2 {
        format!(
            "{base}/api/v2/write?org={}&bucket={}&precision=ns",
            enc(&cfg.org),
            enc(&cfg.bucket)
        )
    } else {
        let mut u = format!("{base}/write?db={}&precision=ns", enc(&cfg.database));
        if !cfg.username.is_empty() {
            let _ = write!(
                u,
                "&u={}&p={}",
                enc(&cfg.username),
                enc(cfg.password.expose())
            );
        }
        u
    }
}

/// Escapes a tag key or value (commas, spaces, equals signs).
fn tag(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, ',' | ' ' | '=' | '\\') {
            out.push('\\');
        }
        if c != '\n' && c != '\r' {
            out.push(c);
        }
    }
    if out.is_empty() { "-".into() } else { out }
}

/// A string field value in double quotes.
fn field_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        if c != '\n' && c != '\r' {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// `nectar_window,sensor=S packets=…i,bytes=…i,R_SYN=…,R_SYN_up=…,… ts`.
/// NaN values are left out (line protocol has no NaN).
pub fn window_line(sensor: &str, r: &WindowReport, monitors: &Monitors) -> String {
    let mut line = format!(
        "nectar_window,sensor={} packets={}i,bytes={}i",
        tag(sensor),
        r.counts[nectar_detect::Counter::Pkts],
        r.counts[nectar_detect::Counter::Bytes],
    );
    for s in monitors.status() {
        for (suffix, v) in [
            ("", s.value),
            ("_up", s.threshold_up),
            ("_down", s.threshold_down),
        ] {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                let _ = write!(line, ",{}{suffix}={v}", s.stat);
            }
        }
    }
    let _ = write!(line, " {}", r.start_ns);
    line
}

/// `nectar_alarm,sensor=S,stat=R_SYN,direction=up,severity=high value=…,…,top_src="…" ts`.
pub fn alarm_line(sensor: &str, a: &Alarm) -> String {
    let top =
        |l: &[nectar_detect::Contributor]| l.first().map(|c| c.key.to_string()).unwrap_or_default();
    let num = |x: f64| if x.is_finite() { x } else { 0.0 };
    format!(
        "nectar_alarm,sensor={},stat={},direction={},severity={} value={},threshold={},probability={},top_src={},top_dst={},top_dst_port={} {}",
        tag(sensor),
        a.stat.name(),
        a.direction.as_str(),
        a.severity.as_str(),
        num(a.value),
        num(a.threshold),
        num(a.probability),
        field_str(&top(&a.top_src)),
        field_str(&top(&a.top_dst)),
        field_str(&top(&a.top_dst_port)),
        a.window_start_ns
    )
}

struct Writer {
    rx: Receiver<String>,
    url: String,
    cfg: InfluxConfig,
    stats: Arc<InfluxStats>,
}

impl Writer {
    fn run(self, client: &reqwest::blocking::Client) {
        let mut buffer: VecDeque<String> = VecDeque::new();
        let flush_every = Duration::from_millis(self.cfg.flush_ms);
        let mut last_flush = Instant::now();
        let mut backoff = Duration::ZERO;
        let mut retry_at = Instant::now();
        let mut open = true;
        while open || !buffer.is_empty() {
            let wait = if buffer.is_empty() {
                Duration::from_secs(3600)
            } else {
                flush_every.saturating_sub(last_flush.elapsed())
            };
            match self.rx.recv_timeout(wait.max(Duration::from_millis(1))) {
                Ok(line) => {
                    buffer.push_back(line);
                    if buffer.len() > self.cfg.max_buffer_points {
                        buffer.pop_front();
                        self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => open = false,
            }
            let due = buffer.len() >= self.cfg.batch_points
                || last_flush.elapsed() >= flush_every
                || !open;
            if !due || buffer.is_empty() || Instant::now() < retry_at {
                if !open && Instant::now() < retry_at {
                    // Closing while InfluxDB is down: one last wait, then give up.
                    std::thread::sleep(retry_at - Instant::now());
                } else {
                    continue;
                }
            }
            let n = buffer.len().min(self.cfg.batch_points);
            let body: String = buffer.iter().take(n).fold(String::new(), |mut acc, l| {
                acc.push_str(l);
                acc.push('\n');
                acc
            });
            last_flush = Instant::now();
            match self.post(client, body) {
                Ok(()) => {
                    buffer.drain(..n);
                    self.stats.written.fetch_add(n as u64, Ordering::Relaxed);
                    if backoff > Duration::ZERO {
                        info!("InfluxDB writes work again.");
                    }
                    backoff = Duration::ZERO;
                }
                Err(Failure::Refused(message)) => {
                    // The server rejected the points themselves: retrying
                    // cannot help.
                    buffer.drain(..n);
                    self.stats.dropped.fetch_add(n as u64, Ordering::Relaxed);
                    self.stats.errors.fetch_add(1, Ordering::Relaxed);
                    warn!(points = n, error = %message, "InfluxDB refused points; dropped.");
                }
                Err(Failure::Retry(message)) => {
                    self.stats.errors.fetch_add(1, Ordering::Relaxed);
                    if !open {
                        let left = buffer.len() as u64;
                        self.stats.dropped.fetch_add(left, Ordering::Relaxed);
                        warn!(points = left, error = %message, "InfluxDB unreachable at shutdown; points dropped.");
                        return;
                    }
                    backoff =
                        (backoff * 2).clamp(Duration::from_millis(200), Duration::from_secs(30));
                    retry_at = Instant::now() + backoff;
                    warn!(error = %message, retry_in_ms = backoff.as_millis() as u64, buffered = buffer.len(), "InfluxDB write failed; will retry.");
                }
            }
        }
    }

    fn post(&self, client: &reqwest::blocking::Client, body: String) -> Result<(), Failure> {
        let mut req = client.post(&self.url).body(body);
        if self.cfg.version == 2 {
            req = req.header(
                "Authorization",
                format!("Token {}", self.cfg.token.expose()),
            );
        }
        let resp = req.send().map_err(|e| Failure::Retry(e.to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let text = resp.text().unwrap_or_default();
        let message = format!("{status}: {}", text.chars().take(300).collect::<String>());
        if status.is_client_error() && status.as_u16() != 429 && status.as_u16() != 404 {
            Err(Failure::Refused(message))
        } else {
            Err(Failure::Retry(message))
        }
    }
}

enum Failure {
    Retry(String),
    Refused(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(tag("a b,c=d"), "a\\ b\\,c\\=d");
        assert_eq!(tag(""), "-");
        assert_eq!(field_str("say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"");
        let cfg = InfluxConfig {
            database: "my db".into(),
            ..InfluxConfig::default()
        };
        assert_eq!(
            write_url(&cfg),
            "http://127.0.0.1:8086/write?db=my%20db&precision=ns"
        );
        let cfg = InfluxConfig {
            version: 2,
            org: "o".into(),
            bucket: "b".into(),
            ..InfluxConfig::default()
        };
        assert_eq!(
            write_url(&cfg),
            "http://127.0.0.1:8086/api/v2/write?org=o&bucket=b&precision=ns"
        );
    }
}
