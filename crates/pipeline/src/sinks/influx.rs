//! `[sinks.influxdb]`: per-window statistics and alarms as line protocol,
//! written to InfluxDB 1.x (`/write?db=`) or 2.x (`/api/v2/write?org=&bucket=`)
//! by one task on the shared async runtime, in batches, with retries and a
//! bounded buffer.
//!
//! Producers never wait: [`InfluxSink::window`] and [`InfluxSink::alarm`]
//! hand a line to a bounded queue and count what does not fit. The writer
//! task batches lines (by count or after `flush_ms`), retries a failed write
//! with growing pauses (up to 30 s) and keeps at most `max_buffer_points`
//! lines meanwhile, dropping the oldest and counting them. Plain HTTP only:
//! TLS would add a crypto stack for one sink; a local proxy (or InfluxDB on
//! the same host) is the documented way to reach a remote server.
//!
//! Windows (which are not events) come straight from the detector; alarms
//! are `net.alarm` events and come from the committed stream, through the
//! consumer in [`super::influx_stream`], so every stored alarm (from this
//! detector, `nectar analyze --store` or a remote sensor) is written once
//! its commit is durable, and one that was missed is caught up.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use nectar_detect::{Alarm, Counter, StatStatus, WindowReport};
use nectar_event::{Event, Kind};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{info, warn};

use super::SinkStats;
use crate::config::InfluxConfig;

/// Longest wait at shutdown for the writer to hand over what it holds:
/// one retry pause plus one request.
const CLOSE_WAIT: Duration = Duration::from_secs(45);

/// The sink could not start.
#[derive(Debug, thiserror::Error)]
#[error("sinks.influxdb: cannot build the HTTP client: {0}")]
pub struct StartError(#[source] reqwest::Error);

/// A running sink, shared by the detector (windows) and the alarm consumer
/// ([`super::influx_stream`]); [`InfluxSink::close`] (or dropping the last
/// handle) flushes what it can.
#[derive(Debug)]
pub struct InfluxSink {
    tx: Mutex<Option<mpsc::Sender<String>>>,
    done: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    stats: Arc<SinkStats>,
    sensor: String,
    windows: bool,
    alarms: bool,
    events: bool,
}

/// The sink was closed: nothing more can be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the InfluxDB sink is closed")]
pub struct Closed;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl InfluxSink {
    /// Starts the writer task on `runtime`.
    pub fn start(
        cfg: &InfluxConfig,
        sensor: &str,
        runtime: &tokio::runtime::Handle,
    ) -> Result<InfluxSink, StartError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(StartError)?;
        let (tx, rx) = mpsc::channel(cfg.batch_points.max(1) * 4);
        let (done_tx, done) = std::sync::mpsc::sync_channel(1);
        let stats = Arc::new(SinkStats::default());
        let writer = Writer {
            rx,
            client,
            url: write_url(cfg),
            cfg: cfg.clone(),
            stats: stats.clone(),
        };
        runtime.spawn(async move {
            writer.run().await;
            let _ = done_tx.send(());
        });
        Ok(InfluxSink {
            tx: Mutex::new(Some(tx)),
            done: Mutex::new(Some(done)),
            stats,
            sensor: sensor.to_owned(),
            windows: cfg.windows,
            alarms: cfg.alarms,
            events: cfg.events,
        })
    }

    /// The counters.
    pub fn stats(&self) -> &Arc<SinkStats> {
        &self.stats
    }

    /// Whether stored events reach InfluxDB: the alarms
    /// (`sinks.influxdb.alarms`), every event (`sinks.influxdb.events`), or both.
    pub fn reads_stored_events(&self) -> bool {
        self.alarms || self.events
    }

    fn sender(&self) -> Option<mpsc::Sender<String>> {
        lock(&self.tx).clone()
    }

    /// Queues a line without waiting; what does not fit is dropped and counted.
    fn send(&self, line: String) {
        let sent = self.sender().is_some_and(|tx| tx.try_send(line).is_ok());
        if !sent {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queues a line, waiting (this thread) for room: for a consumer of the
    /// committed stream, which may fall behind and catch up, but not for the
    /// packet loop. Call it from a plain thread, not from async code.
    fn send_waiting(&self, line: String) -> Result<(), Closed> {
        let tx = self.sender().ok_or(Closed)?;
        tx.blocking_send(line).map_err(|_| Closed)
    }

    /// One point for a window: every watched statistic and its thresholds.
    pub fn window(&self, r: &WindowReport, status: &[StatStatus]) {
        if self.windows {
            self.send(window_line(&self.sensor, r, status));
        }
    }

    /// The points of a stored event, waiting for room in the queue: its
    /// alarm's (a `net.alarm` with `alarms` on) and its own (with `events`
    /// on). Call it from a plain thread.
    pub fn stored_event(&self, e: &Event) -> Result<(), Closed> {
        if self.alarms
            && let Some(line) = event_alarm_line(e)
        {
            self.send_waiting(line)?;
        }
        if self.events {
            self.send_waiting(event_line(e))?;
        }
        Ok(())
    }

    /// Flushes and stops the writer, waiting (this thread) for at most one
    /// retry round. Call it from a plain thread, not from async code.
    pub fn close(&self) {
        drop(lock(&self.tx).take());
        let done = lock(&self.done).take();
        if let Some(done) = done
            && done.recv_timeout(CLOSE_WAIT).is_err()
        {
            // The runtime went away first, or InfluxDB hangs: what the task
            // still held is lost, and was counted as it gave up.
            warn!("The InfluxDB writer did not finish in time.");
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
pub fn window_line(sensor: &str, r: &WindowReport, status: &[StatStatus]) -> String {
    let mut line = format!(
        "nectar_window,sensor={} packets={}i,bytes={}i",
        tag(sensor),
        r.counts[Counter::Pkts],
        r.counts[Counter::Bytes],
    );
    for s in status {
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

/// `nectar_alarm,sensor=S,stat=R_SYN,direction=up,severity=high,class=flood,scale=1 value=…,…,top_src="…" ts`.
pub fn alarm_line(sensor: &str, a: &Alarm) -> String {
    let top =
        |l: &[nectar_detect::Contributor]| l.first().map(|c| c.key.to_string()).unwrap_or_default();
    let num = |x: f64| if x.is_finite() { x } else { 0.0 };
    format!(
        "nectar_alarm,sensor={},stat={},direction={},severity={},class={},scale={} value={},threshold={},probability={},top_src={},top_dst={},top_dst_port={} {}",
        tag(sensor),
        a.stat.name(),
        a.direction.as_str(),
        a.severity.as_str(),
        a.class(),
        a.scale,
        num(a.value),
        num(a.threshold),
        num(a.probability),
        field_str(&top(&a.top_src)),
        field_str(&top(&a.top_dst)),
        field_str(&top(&a.top_dst_port)),
        a.window_start_ns
    )
}

/// The `nectar_event` point of a stored event: sensor, kind, protocol and
/// severity as tags (few values each); a count and the addresses and ports as
/// fields (many values: as tags they would grow InfluxDB's series index
/// without bound).
/// `nectar_event,sensor=S,kind=ssh.login.failed,protocol=ssh,severity=low count=1i,src_ip="203.0.113.7",src_port=40000i,dst_ip="198.51.100.1",dst_port=22i ts`.
pub fn event_line(e: &Event) -> String {
    use std::fmt::Write as _;
    let mut line = format!(
        "nectar_event,sensor={},kind={},protocol={},severity={} count=1i",
        tag(&e.sensor),
        e.kind.as_str(),
        e.kind.protocol().as_str(),
        e.severity.as_str()
    );
    // Writes into a String cannot fail.
    if let Some(ip) = e.src_ip {
        let _ = write!(line, ",src_ip=\"{ip}\"");
    }
    if let Some(port) = e.src_port {
        let _ = write!(line, ",src_port={port}i");
    }
    if let Some(ip) = e.dst_ip {
        let _ = write!(line, ",dst_ip=\"{ip}\"");
    }
    if let Some(port) = e.dst_port {
        let _ = write!(line, ",dst_port={port}i");
    }
    let _ = write!(line, " {}", i128::from(e.time.as_micros()) * 1_000);
    line
}

/// Longest tag value taken from a stored event (its statistic, its direction):
/// events posted through the API are not trusted to be short.
const MAX_EVENT_TAG: usize = 64;

/// The line of a stored `net.alarm` event, as [`alarm_line`] writes it from
/// the [`Alarm`] the event was made of ([`Alarm::to_event`]); `None` for any
/// other kind. Fields missing from a posted event read as 0 or empty.
pub fn event_alarm_line(e: &Event) -> Option<String> {
    if e.kind != Kind::NetAlarm {
        return None;
    }
    let text = |k: &str| {
        let s = e.data.get(k).and_then(Value::as_str).unwrap_or_default();
        let end = s
            .char_indices()
            .nth(MAX_EVENT_TAG)
            .map_or(s.len(), |(i, _)| i);
        tag(&s[..end])
    };
    let num = |k: &str| {
        e.data
            .get(k)
            .and_then(Value::as_f64)
            .filter(|x| x.is_finite())
            .unwrap_or(0.0)
    };
    let top = |k: &str| {
        let key = e
            .data
            .get(k)
            .and_then(|l| l.get(0))
            .and_then(|c| c.get("key"));
        let key = match key {
            Some(Value::String(s)) => s.chars().take(MAX_EVENT_TAG).collect(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        field_str(&key)
    };
    // Alarms stored before classes and scales existed read as such.
    let class = match text("class").as_str() {
        "-" => "anomaly".to_owned(),
        c => c.to_owned(),
    };
    let scale = e
        .data
        .get("scale")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 1_000_000);
    Some(format!(
        "nectar_alarm,sensor={},stat={},direction={},severity={},class={class},scale={scale} value={},threshold={},probability={},top_src={},top_dst={},top_dst_port={} {}",
        tag(&e.sensor),
        text("stat"),
        text("direction"),
        e.severity.as_str(),
        num("value"),
        num("threshold"),
        num("probability"),
        top("top_src"),
        top("top_dst"),
        top("top_dst_port"),
        i128::from(e.time.as_micros()) * 1_000
    ))
}

/// The writer task's state.
struct Writer {
    rx: mpsc::Receiver<String>,
    client: reqwest::Client,
    url: String,
    cfg: InfluxConfig,
    stats: Arc<SinkStats>,
}

/// Why a write failed.
enum Failure {
    /// The server or the network may recover: keep the points and retry.
    Retry(String),
    /// The server rejected the points themselves: retrying cannot help.
    Refused(String),
}

impl Writer {
    async fn run(mut self) {
        let mut buffer: VecDeque<String> = VecDeque::new();
        let flush_every = Duration::from_millis(self.cfg.flush_ms);
        let mut last_flush = Instant::now();
        let mut backoff = Duration::ZERO;
        let mut retry_at = Instant::now();
        let mut open = true;
        while open || !buffer.is_empty() {
            if open {
                // Wake for the next flush, or for the retry when one is pending.
                let wait = if buffer.is_empty() {
                    Duration::from_secs(3600)
                } else {
                    flush_every
                        .saturating_sub(last_flush.elapsed())
                        .max(retry_at.saturating_duration_since(Instant::now()))
                };
                match tokio::time::timeout(wait.max(Duration::from_millis(1)), self.rx.recv()).await
                {
                    Ok(Some(line)) => {
                        buffer.push_back(line);
                        if buffer.len() > self.cfg.max_buffer_points {
                            buffer.pop_front();
                            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(None) => open = false,
                    Err(_elapsed) => {}
                }
            }
            let due = buffer.len() >= self.cfg.batch_points
                || last_flush.elapsed() >= flush_every
                || !open;
            if !due || buffer.is_empty() {
                continue;
            }
            if Instant::now() < retry_at {
                if open {
                    continue;
                }
                // Closing while InfluxDB is down: one last wait, then give up.
                tokio::time::sleep_until(retry_at).await;
            }
            let n = buffer.len().min(self.cfg.batch_points);
            let body: String = buffer.iter().take(n).fold(String::new(), |mut acc, l| {
                acc.push_str(l);
                acc.push('\n');
                acc
            });
            last_flush = Instant::now();
            match self.post(body).await {
                Ok(()) => {
                    buffer.drain(..n);
                    self.stats.written.fetch_add(n as u64, Ordering::Relaxed);
                    if backoff > Duration::ZERO {
                        info!("InfluxDB writes work again.");
                    }
                    backoff = Duration::ZERO;
                }
                Err(Failure::Refused(message)) => {
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

    async fn post(&self, body: String) -> Result<(), Failure> {
        let mut req = self.client.post(&self.url).body(body);
        if self.cfg.version == 2 {
            req = req.header(
                "Authorization",
                format!("Token {}", self.cfg.token.expose()),
            );
        }
        let resp = req
            .send()
            .await
            .map_err(|e| Failure::Retry(e.to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let text = resp.text().await.unwrap_or_default();
        let message = format!("{status}: {}", text.chars().take(300).collect::<String>());
        if status.is_client_error() && status.as_u16() != 429 && status.as_u16() != 404 {
            Err(Failure::Refused(message))
        } else {
            Err(Failure::Retry(message))
        }
    }
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

/// The writer against a stand-in InfluxDB on loopback that answers every
/// write with one status and records the lines it was sent.
#[cfg(test)]
mod writer_tests {
    use super::*;
    use crate::sinks::windows_jsonl::tests::reports;
    use nectar_detect::{DetectConfig, Monitors};
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    /// Serves `status` to every request; returns the URL and the lines received.
    fn fake_influx(
        rt: &tokio::runtime::Runtime,
        status: &'static str,
    ) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = lines.clone();
        rt.spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut socket = BufReader::new(socket);
                    loop {
                        let mut length = 0usize;
                        loop {
                            let mut header = String::new();
                            if socket.read_line(&mut header).await.unwrap_or(0) == 0 {
                                return;
                            }
                            let header = header.trim_end().to_ascii_lowercase();
                            if header.is_empty() {
                                break;
                            }
                            if let Some(v) = header.strip_prefix("content-length:") {
                                length = v.trim().parse().unwrap();
                            }
                        }
                        let mut body = vec![0; length];
                        socket.read_exact(&mut body).await.unwrap();
                        let body = String::from_utf8(body).unwrap();
                        seen.lock().unwrap().extend(body.lines().map(str::to_owned));
                        let reply = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
                        socket.get_mut().write_all(reply.as_bytes()).await.unwrap();
                    }
                });
            }
        });
        (url, lines)
    }

    fn config(url: String) -> InfluxConfig {
        InfluxConfig {
            enabled: true,
            url,
            batch_points: 4,
            flush_ms: 20,
            ..InfluxConfig::default()
        }
    }

    #[test]
    fn windows_are_written_in_batches_on_the_shared_runtime() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (url, lines) = fake_influx(&rt, "204 No Content");
        let sink = InfluxSink::start(&config(url), "lab 1", rt.handle()).unwrap();
        let status = Monitors::new(&DetectConfig::default()).unwrap().status();
        let reports = reports(10_000);
        for r in &reports {
            sink.window(r, &status);
        }
        sink.close();
        let c = sink.stats().counters();
        assert_eq!(
            (c.written, c.dropped, c.errors),
            (reports.len() as u64, 0, 0)
        );
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), reports.len());
        assert!(
            lines[0].starts_with("nectar_window,sensor=lab\\ 1 packets="),
            "{}",
            lines[0]
        );
        assert!(lines[0].ends_with(&format!(" {}", reports[0].start_ns)));
    }

    #[test]
    fn points_the_server_refuses_are_dropped_and_counted() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (url, lines) = fake_influx(&rt, "400 Bad Request");
        let sink = InfluxSink::start(&config(url), "s", rt.handle()).unwrap();
        let status = Monitors::new(&DetectConfig::default()).unwrap().status();
        let reports = reports(3_000);
        for r in &reports {
            sink.window(r, &status);
        }
        sink.close();
        let c = sink.stats().counters();
        assert_eq!(c.written, 0);
        assert_eq!(c.dropped, reports.len() as u64);
        assert!(c.errors >= 1);
        assert_eq!(lines.lock().unwrap().len(), reports.len());
    }

    fn alarm() -> Alarm {
        use nectar_detect::{Contributor, ContributorKey, Direction, Stat};
        let c = |key| {
            vec![Contributor {
                key,
                packets: 90,
                share: 0.9,
            }]
        };
        Alarm {
            stat: Stat::from_name("R_SYN").unwrap(),
            value: 0.93,
            threshold: 0.41,
            direction: Direction::Up,
            window_start_ns: 1_700_000_000_500_000_000,
            window_end_ns: 1_700_000_001_000_000_000,
            probability: 1.5e-6,
            severity: nectar_event::Severity::High,
            top_src: c(ContributorKey::Addr("198.51.100.66".parse().unwrap())),
            top_dst: c(ContributorKey::Addr("192.0.2.10".parse().unwrap())),
            top_dst_port: c(ContributorKey::Port(22)),
            scale: 1,
            culprit: None,
        }
    }

    #[test]
    fn a_stored_alarm_event_gives_the_line_of_its_alarm() {
        let a = alarm();
        let event = a.to_event("edge 1");
        assert_eq!(
            event_alarm_line(&event).as_deref(),
            Some(alarm_line("edge 1", &a).as_str())
        );
        let other = Event::new(
            "edge 1",
            Kind::SshLoginFailed,
            nectar_event::Severity::Low,
            "x",
        );
        assert_eq!(event_alarm_line(&other), None);
        // A posted alarm with hostile fields: escaped, clipped, never a panic.
        let mut posted = event.clone();
        posted
            .data
            .insert("stat".into(), "a b,c=d\n".repeat(100).into());
        posted.data.insert("value".into(), "NaN".into());
        posted
            .data
            .insert("top_src".into(), serde_json::json!([{"key": "\"x\"\n"}]));
        let line = event_alarm_line(&posted).unwrap();
        assert!(line.contains(",stat=a\\ b\\,c\\=d"), "{line}");
        assert!(line.contains(" value=0,"), "{line}");
        assert!(line.contains("top_src=\"\\\"x\\\"\""), "{line}");
        assert!(!line.contains('\n'), "{line}");
    }

    #[test]
    fn the_alarm_consumer_writes_stored_alarms_and_skips_other_events() {
        use crate::sinks::influx_stream::InfluxStream;
        use nectar_bus::stream::Consumer;

        let rt = tokio::runtime::Runtime::new().unwrap();
        let (url, lines) = fake_influx(&rt, "204 No Content");
        let sink = Arc::new(InfluxSink::start(&config(url), "s", rt.handle()).unwrap());
        let mut consumer = InfluxStream::new(sink.clone());
        assert_eq!(consumer.name(), "influxdb");
        consumer.resume("").unwrap();
        let a = alarm();
        let events = [
            a.to_event("edge 1"),
            Event::new(
                "edge 1",
                Kind::SshLoginFailed,
                nectar_event::Severity::Low,
                "x",
            ),
        ];
        consumer.deliver(1, &events).unwrap();
        assert_eq!(consumer.checkpoint().unwrap(), "");
        sink.close();
        assert_eq!(sink.stats().counters().written, 1);
        assert_eq!(*lines.lock().unwrap(), [alarm_line("edge 1", &a)]);
        // After close, delivering fails so the runner offers the events again.
        assert!(consumer.deliver(1, &events).is_err());
    }

    #[test]
    fn with_events_on_every_stored_event_is_a_point_and_alarms_keep_theirs() {
        use crate::sinks::influx_stream::InfluxStream;
        use nectar_bus::stream::Consumer;

        let rt = tokio::runtime::Runtime::new().unwrap();
        let (url, lines) = fake_influx(&rt, "204 No Content");
        let cfg = InfluxConfig {
            events: true,
            ..config(url)
        };
        let sink = Arc::new(InfluxSink::start(&cfg, "s", rt.handle()).unwrap());
        assert!(sink.reads_stored_events());
        let mut consumer = InfluxStream::new(sink.clone());
        let a = alarm();
        let login = Event::new(
            "edge 1",
            Kind::SshLoginFailed,
            nectar_event::Severity::Low,
            "x",
        )
        .from_addr("203.0.113.7".parse().unwrap(), Some(40_000))
        .to_addr("2001:db8::1".parse().unwrap(), Some(22));
        consumer
            .deliver(1, &[a.to_event("edge 1"), login.clone()])
            .unwrap();
        sink.close();
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0], alarm_line("edge 1", &a));
        assert!(
            lines[1].starts_with("nectar_event,sensor=edge\\ 1,kind=net.alarm,protocol=net,"),
            "{}",
            lines[1]
        );
        assert_eq!(
            lines[2],
            format!(
                "nectar_event,sensor=edge\\ 1,kind=ssh.login.failed,protocol=ssh,severity=low count=1i,src_ip=\"203.0.113.7\",src_port=40000i,dst_ip=\"2001:db8::1\",dst_port=22i {}",
                i128::from(login.time.as_micros()) * 1_000
            )
        );
    }
}
