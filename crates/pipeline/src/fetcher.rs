//! The sample fetcher (`[fetcher]`, off by default): downloads the URLs that
//! attackers `wget`/`curl` in the fake shells, so a dropper's payload becomes a
//! file kept by SHA-256, as Cowrie does — but outside the attacker's session.
//!
//! It is a consumer of the committed-event stream (DESIGN.md: "consumers know
//! only committed events"): every committed `ssh.download` / `telnet.download`
//! with a clear-text `data.url` becomes a job on a bounded queue; a job that
//! does not fit is counted (`dropped`) and logged, never waited for, so ingest
//! is never held up. A few workers on the runtime (`concurrency`) fetch, each
//! under `timeout_seconds` and `max_bytes`, through `proxy` when set, only to
//! destinations `allow` permits (by default: public unicast addresses only),
//! checked for every address a name resolves to and again at every redirect,
//! and connecting to the address that was checked. The attacker's session
//! learns nothing of it: its shell answered long before, from the fake
//! filesystem. Each attempt is one `sample.fetch` event, written back through
//! the bus, with the download's id (`data.download`) and session, and either
//! `fetched: true`, `sha256`, `size`, `file` (stored like uploads, sealed with
//! `encrypt_to`), or `fetched: false` and `reason`.
//!
//! The queue is in memory: jobs waiting when `serve` stops are not fetched
//! later (their downloads stay `fetched: false`); the consumer's offset
//! starts at the latest event, so enabling the fetcher does not fetch the past.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ipnet::IpNet;
use nectar_bus::EventSender;
use nectar_bus::stream::{Consumer, ConsumerError, StartAt};
use nectar_capture::uploads::{UploadStore, Verdict};
use nectar_event::config::ConfigError;
use nectar_event::text::clip;
use nectar_event::{Category, Event, Kind, Severity, field};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{info, warn};

use crate::topology::{Component, Stage, Stopping};

/// The consumer's name: the key of its offset in `/api/v1/status`.
pub const CONSUMER_NAME: &str = "sample-fetcher";

/// `[fetcher]`: fetching what attackers download, with its own egress rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FetcherConfig {
    /// Fetch the URLs of `ssh.download` and `telnet.download` events (HTTP and
    /// HTTPS) and keep the files in `DATA_DIR/uploads/` by SHA-256; each attempt
    /// is a `sample.fetch` event. Off by default: it makes this host contact
    /// attackers' servers.
    pub enabled: bool,
    /// Destination networks the fetcher may connect to (CIDR, e.g.
    /// `["203.0.113.0/24"]`). Empty: any public unicast address, never
    /// loopback, private, link-local, CGNAT, multicast or documentation ranges.
    #[schemars(with = "Vec<String>")]
    pub allow: Vec<IpNet>,
    /// An HTTP(S) proxy for every fetch (`http://proxy:3128`); empty: direct.
    /// The destination check still applies to what the URL's host resolves to
    /// here.
    pub proxy: String,
    /// Largest file fetched, in bytes; a larger one is cut off and not kept.
    pub max_bytes: u64,
    /// Longest one fetch may take, redirects included, in seconds.
    pub timeout_seconds: u64,
    /// Fetches at once.
    pub concurrency: usize,
    /// Downloads waiting to be fetched; past it they are dropped (counted).
    pub queue: usize,
    /// Redirects followed (each checked like the first URL).
    pub max_redirects: u32,
    /// The `User-Agent` the fetcher sends (what the dropper's `wget` would).
    pub user_agent: String,
}

impl Default for FetcherConfig {
    fn default() -> Self {
        FetcherConfig {
            enabled: false,
            allow: Vec::new(),
            proxy: String::new(),
            max_bytes: 16 * 1024 * 1024,
            timeout_seconds: 30,
            concurrency: 4,
            queue: 256,
            max_redirects: 5,
            user_agent: "Wget/1.21.3".into(),
        }
    }
}

impl FetcherConfig {
    /// Checks values; errors name the key relative to the section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_bytes == 0 {
            return Err(ConfigError::new("max_bytes", "must be greater than 0"));
        }
        if !(1..=3600).contains(&self.timeout_seconds) {
            return Err(ConfigError::new("timeout_seconds", "1 to 3600"));
        }
        if !(1..=64).contains(&self.concurrency) {
            return Err(ConfigError::new("concurrency", "1 to 64"));
        }
        if !(1..=100_000).contains(&self.queue) {
            return Err(ConfigError::new("queue", "1 to 100000"));
        }
        if self.max_redirects > 20 {
            return Err(ConfigError::new("max_redirects", "at most 20"));
        }
        if !self.proxy.is_empty() {
            let ok = reqwest::Url::parse(&self.proxy)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                return Err(ConfigError::new(
                    "proxy",
                    "an http:// or https:// URL with a host, or empty",
                ));
            }
        }
        if self.user_agent.len() > 256 || self.user_agent.chars().any(char::is_control) {
            return Err(ConfigError::new(
                "user_agent",
                "at most 256 bytes, no control characters",
            ));
        }
        Ok(())
    }

    /// Whether the fetcher may connect to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if ip.is_unspecified() || ip.is_multicast() {
            return false;
        }
        if self.allow.is_empty() {
            return is_public(ip);
        }
        self.allow.iter().any(|net| net.contains(&ip))
    }
}

/// A public unicast address: none of the special-purpose ranges.
fn is_public(ip: IpAddr) -> bool {
    const SPECIAL_V4: &[&str] = &[
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    ];
    const SPECIAL_V6: &[&str] = &[
        "::/128",
        "::1/128",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    ];
    let list = if ip.is_ipv4() { SPECIAL_V4 } else { SPECIAL_V6 };
    !list
        .iter()
        .filter_map(|net| net.parse::<IpNet>().ok())
        .any(|net| net.contains(&ip))
}

/// What the fetcher has done since start.
#[derive(Debug, Default)]
pub struct FetcherStats {
    /// Downloads queued.
    pub queued: AtomicU64,
    /// Downloads dropped because the queue was full (or the fetcher stopped).
    pub dropped: AtomicU64,
    /// Files fetched and kept.
    pub fetched: AtomicU64,
    /// Attempts that kept nothing.
    pub failed: AtomicU64,
}

/// One download to fetch: what its `sample.fetch` event repeats.
#[derive(Debug, Clone)]
struct Job {
    download: String,
    url: String,
    session: Option<String>,
    protocol: Option<String>,
    src: Option<(IpAddr, Option<u16>)>,
    dst: Option<(IpAddr, Option<u16>)>,
}

impl Job {
    /// The job of a committed event, if it is a download with a clear URL.
    fn of(event: &Event) -> Option<Job> {
        if event.kind.category() != Category::Download {
            return None;
        }
        let text = |key: &str| {
            event
                .data
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        Some(Job {
            download: event.id.to_string(),
            url: text(field::URL)?,
            session: text(field::SESSION),
            protocol: text(field::PROTOCOL),
            src: event.src_ip.map(|ip| (ip, event.src_port)),
            dst: event.dst_ip.map(|ip| (ip, event.dst_port)),
        })
    }
}

/// The consumer half: queues the committed downloads for the workers.
pub struct FetchConsumer {
    tx: mpsc::Sender<Job>,
    stats: Arc<FetcherStats>,
}

impl Consumer for FetchConsumer {
    fn name(&self) -> &str {
        CONSUMER_NAME
    }

    fn start_at(&self) -> StartAt {
        // Turning the fetcher on does not fetch every URL of the past.
        StartAt::Latest
    }

    fn resume(&mut self, _checkpoint: &str) -> Result<(), ConsumerError> {
        Ok(())
    }

    fn deliver(&mut self, _first_seq: u64, events: &[Event]) -> Result<(), ConsumerError> {
        for job in events.iter().filter_map(Job::of) {
            match self.tx.try_send(job) {
                Ok(()) => {
                    self.stats.queued.fetch_add(1, Ordering::Relaxed);
                }
                Err(_) => {
                    let dropped = self.stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                    if dropped.is_power_of_two() {
                        warn!(
                            dropped,
                            "The sample fetcher's queue is full (fetcher.queue): a download was not fetched."
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn checkpoint(&mut self) -> Result<String, ConsumerError> {
        Ok(String::new())
    }
}

/// The workers: a producer of `sample.fetch` events, stopped with the other
/// producers so the bus can drain.
pub struct FetcherPart {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    stats: Arc<FetcherStats>,
}

impl FetcherPart {
    /// Its counters.
    pub fn stats(&self) -> Arc<FetcherStats> {
        self.stats.clone()
    }
}

impl Component for FetcherPart {
    fn name(&self) -> String {
        "sample-fetcher-workers".into()
    }
    fn stage(&self) -> Stage {
        Stage::Producer
    }
    fn stop(self: Box<Self>, grace: Duration) -> Stopping {
        Box::pin(async move {
            let _ = self.stop.send(true);
            let abort = self.task.abort_handle();
            if tokio::time::timeout(grace, self.task).await.is_err() {
                abort.abort();
            }
        })
    }
}

/// Starts the fetcher on `runtime`: the consumer to run on the committed
/// stream, and the workers, which keep files in `uploads` and send their
/// events as `sensor` on `bus`.
pub fn spawn(
    config: FetcherConfig,
    uploads: Arc<UploadStore>,
    bus: EventSender,
    sensor: String,
    runtime: &tokio::runtime::Handle,
) -> (FetchConsumer, FetcherPart) {
    let (tx, rx) = mpsc::channel(config.queue.max(1));
    let (stop_tx, stop_rx) = watch::channel(false);
    let stats = Arc::new(FetcherStats::default());
    let worker = Worker {
        config: Arc::new(config),
        uploads,
        bus,
        sensor,
        stats: stats.clone(),
    };
    let task = runtime.spawn(worker.run(rx, stop_rx));
    (
        FetchConsumer {
            tx,
            stats: stats.clone(),
        },
        FetcherPart {
            stop: stop_tx,
            task,
            stats,
        },
    )
}

#[derive(Clone)]
struct Worker {
    config: Arc<FetcherConfig>,
    uploads: Arc<UploadStore>,
    bus: EventSender,
    sensor: String,
    stats: Arc<FetcherStats>,
}

impl Worker {
    async fn run(self, mut rx: mpsc::Receiver<Job>, mut stop: watch::Receiver<bool>) {
        let slots = Arc::new(Semaphore::new(self.config.concurrency.max(1)));
        let mut running = JoinSet::new();
        loop {
            // Reap finished fetches so the set stays small.
            while running.try_join_next().is_some() {}
            let permit = tokio::select! {
                permit = slots.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
                _ = stop.changed() => break,
            };
            let job = tokio::select! {
                job = rx.recv() => match job {
                    Some(job) => job,
                    None => break,
                },
                _ = stop.changed() => break,
            };
            let worker = self.clone();
            running.spawn(async move {
                let event = worker.fetch(&job).await;
                worker.bus.send(event).await;
                drop(permit);
            });
        }
        // Stopping: fetches in flight are abandoned (nothing half-kept: an
        // upload not finished removes its partial file).
        running.abort_all();
        while running.join_next().await.is_some() {}
        let left = rx.len() as u64;
        if left > 0 {
            self.stats.dropped.fetch_add(left, Ordering::Relaxed);
            info!(
                left,
                "The sample fetcher stopped with downloads not fetched."
            );
        }
    }

    /// Fetches one download; its `sample.fetch` event.
    async fn fetch(&self, job: &Job) -> Event {
        let limit = Duration::from_secs(self.config.timeout_seconds);
        let outcome = match tokio::time::timeout(limit, self.get(&job.url)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::new("timeout", "timeout_seconds passed")),
        };
        let shown_url = clip(&job.url, 200);
        let mut event = match &outcome {
            Ok(stored) => Event::new(
                self.sensor.clone(),
                Kind::SampleFetch,
                Severity::High,
                format!(
                    "sample fetched from {shown_url} ({} bytes, sha256 {})",
                    stored.size,
                    &stored.sha256[..16.min(stored.sha256.len())]
                ),
            ),
            Err(failure) => Event::new(
                self.sensor.clone(),
                Kind::SampleFetch,
                Severity::Low,
                format!(
                    "sample not fetched from {shown_url}: {}",
                    clip(&failure.detail, 200)
                ),
            ),
        }
        .with("download", job.download.clone())
        .with(field::URL, job.url.clone());
        if let Some(session) = &job.session {
            event = event.with(field::SESSION, session.clone());
        }
        if let Some(protocol) = &job.protocol {
            event = event.with(field::PROTOCOL, protocol.clone());
        }
        if let Some((ip, port)) = job.src {
            event = event.from_addr(ip, port);
        }
        if let Some((ip, port)) = job.dst {
            event = event.to_addr(ip, port);
        }
        match outcome {
            Ok(stored) => {
                self.stats.fetched.fetch_add(1, Ordering::Relaxed);
                event
                    .with("fetched", true)
                    .with(field::SHA256, stored.sha256)
                    .with("size", stored.size)
                    .with(field::FILE, stored.file)
                    .with(field::STORED, true)
                    .with(field::DUPLICATE, stored.duplicate)
                    .with("status", stored.status)
            }
            Err(failure) => {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                let mut event = event
                    .with("fetched", false)
                    .with("reason", failure.reason)
                    .with("detail", clip(&failure.detail, 500));
                if let Some(status) = failure.status {
                    event = event.with("status", status);
                }
                event
            }
        }
    }

    /// GETs `url`, following redirects, each destination checked; keeps the body.
    async fn get(&self, url: &str) -> Result<Stored, Failure> {
        let mut url = reqwest::Url::parse(url)
            .map_err(|e| Failure::new("bad_url", format!("not a URL ({e})")))?;
        let started = Instant::now();
        let limit = Duration::from_secs(self.config.timeout_seconds);
        for _ in 0..=self.config.max_redirects {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(Failure::new(
                    "unsupported_scheme",
                    format!("{}: only http and https are fetched", url.scheme()),
                ));
            }
            let address = self.destination(&url).await?;
            let client = self.client(&url, address, limit.saturating_sub(started.elapsed()))?;
            let response = client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| Failure::new("error", error_chain(&e)))?;
            let status = response.status();
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|location| url.join(location).ok());
                match next {
                    Some(next) => {
                        url = next;
                        continue;
                    }
                    None => {
                        return Err(Failure::new("http_status", "a redirect without a Location")
                            .status(status.as_u16()));
                    }
                }
            }
            if !status.is_success() {
                return Err(
                    Failure::new("http_status", format!("the server answered {status}"))
                        .status(status.as_u16()),
                );
            }
            return self.keep(response).await;
        }
        Err(Failure::new(
            "max_redirects",
            format!("more than {} redirects", self.config.max_redirects),
        ))
    }

    /// The address to connect to for `url`: every address its host resolves to
    /// must be allowed; the first is used (so a second lookup cannot differ).
    async fn destination(&self, url: &reqwest::Url) -> Result<SocketAddr, Failure> {
        let port = url.port_or_known_default().unwrap_or(80);
        let addresses: Vec<SocketAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Some(url::Host::Domain(name)) => tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| Failure::new("dns", format!("{name} does not resolve ({e})")))?
                .take(16)
                .collect(),
            None => return Err(Failure::new("bad_url", "no host")),
        };
        let first = *addresses
            .first()
            .ok_or_else(|| Failure::new("dns", "no address"))?;
        if let Some(refused) = addresses.iter().find(|a| !self.config.allows(a.ip())) {
            return Err(Failure::new(
                "not_allowed",
                format!(
                    "{} is not an allowed destination (fetcher.allow)",
                    refused.ip()
                ),
            ));
        }
        Ok(first)
    }

    fn client(
        &self,
        url: &reqwest::Url,
        address: SocketAddr,
        left: Duration,
    ) -> Result<reqwest::Client, Failure> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(left.max(Duration::from_millis(1)))
            .user_agent(self.config.user_agent.clone())
            // Droppers' servers rarely have valid certificates; the file is
            // evidence whoever signed it.
            .danger_accept_invalid_certs(true);
        if self.config.proxy.is_empty() {
            builder = builder.no_proxy();
            if let Some(url::Host::Domain(name)) = url.host() {
                builder = builder.resolve(name, address);
            }
        } else {
            let proxy = reqwest::Proxy::all(&self.config.proxy)
                .map_err(|e| Failure::new("error", format!("fetcher.proxy: {e}")))?;
            builder = builder.proxy(proxy);
        }
        builder
            .build()
            .map_err(|e| Failure::new("error", error_chain(&e)))
    }

    /// Streams the body into the upload store, at most `max_bytes`.
    async fn keep(&self, mut response: reqwest::Response) -> Result<Stored, Failure> {
        let status = response.status().as_u16();
        let max = self.config.max_bytes;
        if response.content_length().is_some_and(|n| n > max) {
            return Err(Failure::new(
                "too_large",
                format!("announced larger than max_bytes ({max})"),
            ));
        }
        let mut upload = self
            .uploads
            .begin(response.content_length())
            .map_err(refused)?;
        loop {
            let chunk = response
                .chunk()
                .await
                .map_err(|e| Failure::new("error", error_chain(&e)))?;
            let Some(chunk) = chunk else { break };
            if upload.size() + chunk.len() as u64 > max {
                return Err(Failure::new(
                    "too_large",
                    format!("larger than max_bytes ({max})"),
                ));
            }
            upload.write(&chunk).map_err(refused)?;
        }
        match upload.finish() {
            Verdict::Stored {
                sha256,
                size,
                path,
                duplicate,
            } => Ok(Stored {
                sha256,
                size,
                file: path,
                duplicate,
                status,
            }),
            refusal => Err(refused(refusal)),
        }
    }
}

/// A file kept.
struct Stored {
    sha256: String,
    size: u64,
    file: String,
    duplicate: bool,
    status: u16,
}

/// Why nothing was kept.
#[derive(Debug)]
struct Failure {
    reason: &'static str,
    detail: String,
    status: Option<u16>,
}

impl Failure {
    fn new(reason: &'static str, detail: impl Into<String>) -> Failure {
        Failure {
            reason,
            detail: detail.into(),
            status: None,
        }
    }

    fn status(mut self, status: u16) -> Failure {
        self.status = Some(status);
        self
    }
}

fn refused(verdict: Verdict) -> Failure {
    match verdict {
        Verdict::Refused { reason, .. } => {
            Failure::new(reason.as_str(), "the upload store refused the file")
        }
        Verdict::Stored { .. } => Failure::new("error", "stored"),
    }
}

/// An error with its causes (`error sending request: connection refused`).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_default_only_public_addresses() {
        let config = FetcherConfig::default();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.20.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "203.0.113.5",
            "::1",
            "fe80::1",
            "fd00::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!config.allows(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(config.allows(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn an_allow_list_is_exactly_what_it_says() {
        let config = FetcherConfig {
            allow: vec!["198.51.100.0/24".parse().unwrap()],
            ..FetcherConfig::default()
        };
        assert!(config.allows("198.51.100.7".parse().unwrap()));
        assert!(!config.allows("8.8.8.8".parse().unwrap()));
        assert!(!config.allows("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn bad_values_name_their_key() {
        let bad = |config: FetcherConfig, key: &str| {
            let e = config.validate().unwrap_err().to_string();
            assert!(e.contains(key), "{e}");
        };
        bad(
            FetcherConfig {
                concurrency: 0,
                ..FetcherConfig::default()
            },
            "concurrency",
        );
        bad(
            FetcherConfig {
                proxy: "socks5://x".into(),
                ..FetcherConfig::default()
            },
            "proxy",
        );
        bad(
            FetcherConfig {
                timeout_seconds: 0,
                ..FetcherConfig::default()
            },
            "timeout_seconds",
        );
        assert!(FetcherConfig::default().validate().is_ok());
    }

    #[test]
    fn only_downloads_with_a_clear_url_are_jobs() {
        let download = Event::new("s", Kind::TelnetDownload, Severity::High, "wget")
            .with(field::URL, "http://198.51.100.2/x")
            .with(field::SESSION, "abc");
        let job = Job::of(&download).unwrap();
        assert_eq!(job.url, "http://198.51.100.2/x");
        assert_eq!(job.session.as_deref(), Some("abc"));
        let sealed =
            Event::new("s", Kind::SshDownload, Severity::High, "wget").with("url_enc", "age...");
        assert!(Job::of(&sealed).is_none());
        let command = Event::new("s", Kind::SshCommand, Severity::Low, "wget")
            .with(field::URL, "http://198.51.100.2/x");
        assert!(Job::of(&command).is_none());
    }
}
