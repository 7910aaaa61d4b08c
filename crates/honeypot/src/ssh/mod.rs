//! The SSH honeypot: a russh server that impersonates Debian 12's OpenSSH,
//! records every authentication attempt and runs accepted logins in the fake shell.
//!
//! Files: [`config`] (the `[honeypot.ssh]` section), [`profile`] (OpenSSH's
//! banner and algorithm lists), [`parser`] (pure parsing of the client's
//! identification line and KEXINIT), [`tap`] (the socket wrapper that sees those
//! bytes), [`auth`] (accepted credentials), [`hostkeys`], and [`session`] (the
//! per-connection handler, where every event is made). This file owns the listener,
//! the connection limits and shutdown.

pub mod auth;
pub mod config;
pub mod hostkeys;
pub mod parser;
pub mod profile;
pub mod session;
pub mod tap;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nectar_event::{Event, Kind, Severity};
use nectar_store::EventSender;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub use config::SshHoneypotConfig;

use crate::Error;
use crate::capture::Capture;
use crate::shell::World;
use crate::shell::persona::Persona;

/// State shared by every connection.
pub(crate) struct Shared {
    pub config: SshHoneypotConfig,
    pub sensor: String,
    pub bus: EventSender,
    pub credentials: auth::Credentials,
    pub world: Arc<World>,
    /// Recordings (and uploads) of sessions.
    pub capture: Arc<Capture>,
    pub russh: Arc<russh::server::Config>,
    /// HASSHes whose algorithm lists were already logged (bounded).
    pub seen_hassh: Mutex<HashSet<String>>,
    /// Open connections per source address.
    pub per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// Flips to true at shutdown.
    pub stop: watch::Receiver<bool>,
}

/// Most distinct HASSHes remembered; the set is cleared when full, so a flood of
/// made-up KEXINITs costs a bounded amount of memory (and some repeated logs).
const MAX_HASSH: usize = 4096;

/// A running SSH honeypot.
pub struct SshHoneypot {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SshHoneypot {
    /// Binds the listener, loads or creates the host keys in `state_dir`, and starts
    /// accepting. Events go to `bus` with `sensor` as their sensor name; sessions are
    /// recorded (and uploads kept) as `capture` says.
    pub async fn start(
        config: SshHoneypotConfig,
        state_dir: &Path,
        sensor: &str,
        bus: EventSender,
        capture: Arc<Capture>,
    ) -> Result<SshHoneypot, Error> {
        config.validate().map_err(Error::Config)?;
        let credentials = auth::Credentials::parse(&config.credentials).map_err(Error::Config)?;
        let keys = hostkeys::load_or_generate(state_dir)?;
        let hostname = if config.hostname.is_empty() {
            persistent_hostname(state_dir)?
        } else {
            config.hostname.clone()
        };
        let listener = bind(config.listen, config.backlog)?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
        let users = config
            .credentials
            .iter()
            .filter_map(|r| r.split_once(':').map(|(u, _)| u.to_owned()))
            .filter(|u| u != "root" && u != "*")
            .fold(Vec::new(), |mut v, u| {
                if !v.contains(&u) {
                    v.push(u);
                }
                v
            });
        let world = World::new(Persona::new(&hostname, users));
        let russh = Arc::new(russh_config(&config, keys));
        let (stop_tx, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            config,
            sensor: sensor.to_owned(),
            bus,
            credentials,
            world,
            capture,
            russh,
            seen_hassh: Mutex::new(HashSet::new()),
            per_ip: Mutex::new(HashMap::new()),
            stop: stop_rx,
        });
        let task = tokio::spawn(accept_loop(listener, shared));
        info!(%addr, "SSH honeypot listening.");
        Ok(SshHoneypot {
            addr,
            stop: stop_tx,
            task,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, disconnects every session, and waits (at most `grace`)
    /// until their last events are on the bus.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            warn!("SSH sessions still open after the grace period; dropping them.");
            task.abort();
        }
    }
}

fn russh_config(
    config: &SshHoneypotConfig,
    keys: Vec<russh::keys::PrivateKey>,
) -> russh::server::Config {
    use russh::MethodKind;
    russh::server::Config {
        server_id: russh::SshId::Standard(config.banner.clone().into()),
        methods: russh::MethodSet::from(
            &[
                MethodKind::PublicKey,
                MethodKind::Password,
                MethodKind::KeyboardInteractive,
            ][..],
        ),
        auth_rejection_time: Duration::from_millis(config.failure_delay_ms),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys,
        // Our own count disconnects with OpenSSH's message first; this is a backstop.
        max_auth_attempts: config.max_auth_attempts as usize + 2,
        inactivity_timeout: Some(Duration::from_secs(config.idle_timeout_seconds)),
        preferred: profile::preferred(),
        // Small windows and buffers: an idle session should cost a few KiB.
        window_size: 64 * 1024,
        maximum_packet_size: 32 * 1024,
        channel_buffer_size: 4,
        event_buffer_size: 4,
        nodelay: true,
        ..Default::default()
    }
}

/// Binds with an explicit backlog (tokio's default is 1024 and not configurable).
fn bind(addr: SocketAddr, backlog: u32) -> Result<TcpListener, Error> {
    let fail = |source| Error::Bind { addr, source };
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(fail)?;
    socket.set_reuseaddr(true).map_err(fail)?;
    socket.bind(addr).map_err(fail)?;
    socket.listen(backlog).map_err(fail)
}

/// A host name picked on first start and kept, so it does not change on restart
/// and is not the same on every installation.
fn persistent_hostname(dir: &Path) -> Result<String, Error> {
    let path = dir.join("hostname");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let name = text.trim();
        if !name.is_empty() && name.len() <= 64 {
            return Ok(name.to_owned());
        }
    }
    const PREFIXES: &[&str] = &["web", "app", "srv", "vps", "node", "db", "api", "prod"];
    let id = uuid::Uuid::now_v7();
    let bytes = id.as_bytes();
    let name = format!(
        "{}-{:02}",
        PREFIXES[usize::from(bytes[15]) % PREFIXES.len()],
        bytes[14] % 40 + 1
    );
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, format!("{name}\n")))
        .map_err(|e| Error::HostKey {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    Ok(name)
}

/// Refused connections are counted and reported at most this often, so a flood
/// does not become a flood of events.
const REFUSAL_REPORT: Duration = Duration::from_secs(10);

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let max = shared.config.max_connections;
    let slots = Arc::new(Semaphore::new(max));
    let mut stop = shared.stop.clone();
    let mut refused_total = 0u64;
    let mut refused_ip = 0u64;
    let mut last_report = tokio::time::Instant::now();
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: wait a little instead of spinning.
                warn!(error = %e, "SSH honeypot accept failed.");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refused_total += 1;
            drop(stream);
            continue;
        };
        let ip_guard = match IpGuard::take(&shared, peer.ip()) {
            Some(g) => g,
            None => {
                refused_ip += 1;
                drop(stream);
                continue;
            }
        };
        if (refused_total > 0 || refused_ip > 0) && last_report.elapsed() >= REFUSAL_REPORT {
            report_refusals(&shared, refused_total, refused_ip);
            refused_total = 0;
            refused_ip = 0;
            last_report = tokio::time::Instant::now();
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            session::run(shared, stream, peer).await;
            drop(ip_guard);
            drop(slot);
        });
    }
    drop(listener);
    if refused_total > 0 || refused_ip > 0 {
        report_refusals(&shared, refused_total, refused_ip);
    }
    // Wait for every session to finish (each holds a slot).
    let _ = slots.acquire_many(max as u32).await;
}

fn report_refusals(shared: &Shared, total: u64, per_ip: u64) {
    let event = Event::new(
        shared.sensor.clone(),
        Kind::SensorStatus,
        Severity::Medium,
        format!(
            "SSH honeypot refused {} connections (limits: {} total, {} per address)",
            total + per_ip,
            shared.config.max_connections,
            shared.config.max_connections_per_ip
        ),
    )
    .with("protocol", "ssh")
    .with(
        "limit",
        if total > 0 {
            "max_connections"
        } else {
            "max_connections_per_ip"
        },
    )
    .with("refused_max_connections", total)
    .with("refused_max_connections_per_ip", per_ip);
    shared.bus.try_send(event);
}

/// One slot of a source address's connection allowance.
struct IpGuard {
    shared: Arc<Shared>,
    ip: IpAddr,
}

impl IpGuard {
    fn take(shared: &Arc<Shared>, ip: IpAddr) -> Option<IpGuard> {
        let mut map = shared.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        let count = map.entry(ip).or_insert(0);
        if *count >= shared.config.max_connections_per_ip {
            return None;
        }
        *count += 1;
        Some(IpGuard {
            shared: shared.clone(),
            ip,
        })
    }
}

impl Drop for IpGuard {
    fn drop(&mut self) {
        let mut map = self.shared.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = map.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                map.remove(&self.ip);
            }
        }
    }
}
