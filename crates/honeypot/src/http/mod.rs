//! The HTTP honeypot: a web server that answers like Apache 2.4 on Debian (or
//! nginx), serves bait personas full of honeytokens, and turns every request into
//! a classified `http.request` event.
//!
//! Files: [`config`] (the `[honeypot.http]` section), [`profile`] (the claimed
//! server's headers and error pages), [`site`] (personas from template files),
//! [`classify`] and [`decode`] (attack classes from data-driven rules), [`webapp`]
//! (the vulnerable PHP/MySQL shop and its pretend MariaDB), `conn`
//! (one connection: limits, parsing, answers), `record` (where every event is
//! made), `tls` (HTTPS with rustls). This file owns the listeners, the connection
//! and rate limits, and shutdown.

pub mod classify;
pub mod config;
mod conn;
pub mod decode;
pub mod profile;
mod record;
pub mod site;
mod tls;
pub mod webapp;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nectar_bus::EventSender;
use nectar_event::field;
use nectar_event::{Event, Kind, Severity};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub use config::{HttpHoneypotConfig, ServerProfile, TlsConfig};

use crate::honeytoken::Honeytokens;
use crate::listener::ConnectionsPerIp;
use crate::{Error, HoneypotContext};

/// State shared by every connection.
pub(crate) struct Shared {
    pub config: HttpHoneypotConfig,
    pub sensor: String,
    pub bus: EventSender,
    pub site: site::Site,
    pub classifier: classify::Classifier,
    pub tokens: Arc<Honeytokens>,
    /// Encrypts captured passwords when `[honeypot] encrypt_to` is set.
    pub capture: Arc<crate::capture::Capture>,
    /// The "webapp" persona, when enabled.
    pub webapp: Option<webapp::WebApp>,
    /// Permits to hold a connection on an injected `SLEEP()`
    /// (`max_sleeping_connections`).
    pub sleepers: Arc<Semaphore>,
    pub stop: watch::Receiver<bool>,
    per_ip: Arc<ConnectionsPerIp>,
    rate: Mutex<HashMap<IpAddr, Bucket>>,
    refused: Refusals,
}

/// A token bucket of one source address.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Most addresses tracked by the rate limiter; when full, idle ones are dropped.
const MAX_RATE_ENTRIES: usize = 65_536;

/// Connections refused by a limit, reported at most every [`REFUSAL_REPORT`].
#[derive(Default)]
struct Refusals {
    max_connections: AtomicU64,
    per_ip: AtomicU64,
    rate: AtomicU64,
    last_report: Mutex<Option<Instant>>,
}

const REFUSAL_REPORT: Duration = Duration::from_secs(10);

impl Shared {
    /// Takes one request from `ip`'s allowance; false (and counted) when over it.
    pub(crate) fn rate_allows(&self, ip: IpAddr) -> bool {
        let per_second = self.config.max_requests_per_ip_per_second;
        if per_second == 0 {
            return true;
        }
        let now = Instant::now();
        let rate = f64::from(per_second);
        let burst = rate * 2.0;
        let mut map = self.rate.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_RATE_ENTRIES && !map.contains_key(&ip) {
            map.retain(|_, b| now.duration_since(b.last) < Duration::from_secs(10));
            if map.len() >= MAX_RATE_ENTRIES {
                map.clear();
            }
        }
        let bucket = map.entry(ip).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return true;
        }
        drop(map);
        self.refused.rate.fetch_add(1, Ordering::Relaxed);
        self.report_refusals(false);
        false
    }

    /// Sends one `sensor.status` with the refusals counted since the last one, if
    /// the last was long enough ago (or `force`).
    fn report_refusals(&self, force: bool) {
        {
            let mut last = self
                .refused
                .last_report
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if !force && last.is_some_and(|t| t.elapsed() < REFUSAL_REPORT) {
                return;
            }
            *last = Some(Instant::now());
        }
        let total = self.refused.max_connections.swap(0, Ordering::Relaxed);
        let per_ip = self.refused.per_ip.swap(0, Ordering::Relaxed);
        let rate = self.refused.rate.swap(0, Ordering::Relaxed);
        if total + per_ip + rate == 0 {
            return;
        }
        let limit = if rate > 0 {
            "max_requests_per_ip_per_second"
        } else if total > 0 {
            "max_connections"
        } else {
            "max_connections_per_ip"
        };
        let event = Event::new(
            self.sensor.clone(),
            Kind::SensorStatus,
            Severity::Medium,
            format!(
                "HTTP honeypot refused {} connections or requests (limits: {} connections, {} per address, {} requests/s per address)",
                total + per_ip + rate,
                self.config.max_connections,
                self.config.max_connections_per_ip,
                self.config.max_requests_per_ip_per_second
            ),
        )
        .with(field::PROTOCOL, "http")
        .with(field::LIMIT, limit)
        .with("refused_max_connections", total)
        .with("refused_max_connections_per_ip", per_ip)
        .with("refused_max_requests_per_ip_per_second", rate);
        self.bus.try_send(event);
    }
}

/// A running HTTP honeypot.
pub struct HttpHoneypot {
    addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl HttpHoneypot {
    /// Binds the listeners (HTTP, and HTTPS when `tls` is on) and starts
    /// accepting. The bait pages show the context's machine; the context's `http/`
    /// state directory keeps the install date and TLS certificate; events go to
    /// its bus as its sensor, with captured passwords sealed as its capture says;
    /// its honeytokens are planted in the pages.
    pub async fn start(
        config: HttpHoneypotConfig,
        cx: &HoneypotContext,
    ) -> Result<HttpHoneypot, Error> {
        let state_dir = &cx.dir("http");
        let (sensor, bus, tokens, capture) = (
            cx.sensor.as_str(),
            cx.bus.clone(),
            cx.honeytokens.clone(),
            cx.capture.clone(),
        );
        config.validate()?;
        let user_rules = if config.rules_file.as_os_str().is_empty() {
            None
        } else {
            let text = std::fs::read_to_string(&config.rules_file).map_err(|e| {
                Error::Config(format!(
                    "key `rules_file`: {}: {e}",
                    config.rules_file.display()
                ))
            })?;
            Some(text)
        };
        let name = config.rules_file.display().to_string();
        let classifier =
            classify::Classifier::new(user_rules.as_deref().map(|t| (name.as_str(), t)))
                .map_err(|e| Error::Config(format!("key `rules_file`: {e}")))?;
        std::fs::create_dir_all(state_dir).map_err(|e| Error::State {
            path: state_dir.into(),
            reason: e.to_string(),
        })?;
        let install_time = install_time(state_dir)?;
        // The same machine as the SSH honeypot's, so both tell one story.
        let hostname = &cx.machine.hostname;
        let site = site::Site::build(&config, &tokens, hostname, install_time)
            .map_err(|e| Error::Config(format!("key `templates_dir`: {e}")))?;
        let listener = crate::listener::bind(config.listen, config.backlog)?;
        let addr = local_addr(&listener, config.listen)?;
        let tls = if config.tls.enabled {
            let acceptor = tls::acceptor(&config.tls, state_dir)?;
            let listener = crate::listener::bind(config.tls.listen, config.backlog)?;
            let addr = local_addr(&listener, config.tls.listen)?;
            Some((listener, addr, acceptor))
        } else {
            None
        };
        let webapp = config.personas.iter().any(|p| p == "webapp").then(|| {
            let world = crate::shell::World::new(crate::shell::persona::Persona::debian(
                hostname,
                Vec::new(),
            ));
            webapp::WebApp::new(world, tokens.value("db_password"))
        });
        let sleepers = Arc::new(Semaphore::new(config.max_sleeping_connections));
        let (stop_tx, stop_rx) = watch::channel(false);
        let per_ip = ConnectionsPerIp::new(config.max_connections_per_ip);
        let shared = Arc::new(Shared {
            config,
            sensor: sensor.to_owned(),
            bus,
            site,
            classifier,
            tokens,
            capture,
            webapp,
            sleepers,
            stop: stop_rx,
            per_ip,
            rate: Mutex::new(HashMap::new()),
            refused: Refusals::default(),
        });
        let slots = Arc::new(Semaphore::new(shared.config.max_connections));
        let mut tasks = vec![tokio::spawn(accept_loop(
            listener,
            shared.clone(),
            slots.clone(),
            None,
        ))];
        let mut tls_addr = None;
        if let Some((listener, addr, acceptor)) = tls {
            tasks.push(tokio::spawn(accept_loop(
                listener,
                shared.clone(),
                slots.clone(),
                Some(acceptor),
            )));
            tls_addr = Some(addr);
            info!(%addr, "HTTPS honeypot listening.");
        }
        info!(%addr, "HTTP honeypot listening.");
        Ok(HttpHoneypot {
            addr,
            tls_addr,
            stop: stop_tx,
            tasks,
        })
    }

    /// The plain HTTP address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The HTTPS address, if TLS is on.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// Stops accepting, closes idle connections, and waits (at most `grace`) until
    /// the last events are on the bus.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        for mut task in self.tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                warn!("HTTP connections still open after the grace period; dropping them.");
                task.abort();
            }
        }
    }
}

fn local_addr(listener: &TcpListener, configured: SocketAddr) -> Result<SocketAddr, Error> {
    listener.local_addr().map_err(|source| Error::Bind {
        addr: configured,
        source,
    })
}

/// The installation's first start (seconds since the epoch), kept so file dates
/// and ETags stay the same across restarts.
fn install_time(dir: &Path) -> Result<u64, Error> {
    let path = dir.join("installed");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(t) = text.trim().parse()
    {
        return Ok(t);
    }
    // A little in the past, at an irregular second, like a real deployment.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let t = now.saturating_sub(86_400 * 23 + u64::from(rand::random::<u16>()) * 7);
    std::fs::write(&path, format!("{t}\n")).map_err(|e| Error::State {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Ok(t)
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let max = shared.config.max_connections;
    let mut stop = shared.stop.clone();
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                warn!(error = %e, "HTTP honeypot accept failed.");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            shared
                .refused
                .max_connections
                .fetch_add(1, Ordering::Relaxed);
            shared.report_refusals(false);
            continue;
        };
        let Some(ip_guard) = shared.per_ip.take(peer.ip()) else {
            shared.refused.per_ip.fetch_add(1, Ordering::Relaxed);
            shared.report_refusals(false);
            continue;
        };
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            run_connection(shared, stream, peer, tls).await;
            drop(ip_guard);
            drop(slot);
        });
    }
    drop(listener);
    shared.report_refusals(true);
    // Wait for every connection to finish (each holds a slot).
    let _ = slots.acquire_many(max as u32).await;
}

async fn run_connection(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr().unwrap_or(peer);
    let id = uuid::Uuid::now_v7().simple().to_string();
    let mut info = conn::ConnInfo {
        peer,
        local,
        sni: None,
        tls: tls.is_some(),
        id: id[id.len() - 12..].to_owned(),
    };
    match tls {
        None => conn::serve(shared, stream, info).await,
        Some(acceptor) => {
            let timeout = Duration::from_secs(shared.config.header_timeout_seconds);
            let Ok(Ok(stream)) = tokio::time::timeout(timeout, acceptor.accept(stream)).await
            else {
                return;
            };
            info.sni = stream
                .get_ref()
                .1
                .server_name()
                .map(|s| s.chars().take(255).collect());
            conn::serve(shared, stream, info).await;
        }
    }
}
