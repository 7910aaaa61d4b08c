//! What the TCP honeypots do the same way before a connection is handed to its
//! protocol: bind with an explicit backlog (SSH, Telnet, HTTP), cap connections in
//! total and per source address (SSH and Telnet through [`Gate`], HTTP with
//! [`ConnectionsPerIp`] and its own request limits), report refusals as
//! rate-limited events, keep a generated host name across restarts (for
//! [`crate::Machine`]), and wait for open sessions at shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nectar_bus::EventSender;
use nectar_event::field;
use nectar_event::{Event, Kind, Severity};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tracing::warn;

use crate::Error;

/// Binds with an explicit backlog (tokio's default is 1024 and not configurable).
pub(crate) fn bind(addr: SocketAddr, backlog: u32) -> Result<TcpListener, Error> {
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

/// A host name picked on first start and kept in `dir`, so it does not change on
/// restart and is not the same on every installation.
pub(crate) fn persistent_hostname(dir: &Path) -> Result<String, Error> {
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
        .map_err(|e| Error::State {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    Ok(name)
}

/// A new session id: the last 12 hex digits of a UUIDv7 (Cowrie's length).
pub(crate) fn session_id() -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    id[id.len() - 12..].to_owned()
}

/// The connection caps of one honeypot and who to tell when they refuse.
pub(crate) struct Gate {
    /// `ssh` or `telnet`, for events.
    pub protocol: &'static str,
    /// `SSH` or `Telnet`, for summaries and logs.
    pub label: &'static str,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub sensor: String,
    pub bus: EventSender,
    per_ip: Arc<ConnectionsPerIp>,
}

impl Gate {
    pub fn new(
        protocol: &'static str,
        label: &'static str,
        max_connections: usize,
        max_connections_per_ip: usize,
        sensor: &str,
        bus: EventSender,
    ) -> Arc<Gate> {
        Arc::new(Gate {
            protocol,
            label,
            max_connections,
            max_connections_per_ip,
            sensor: sensor.to_owned(),
            bus,
            per_ip: ConnectionsPerIp::new(max_connections_per_ip),
        })
    }

    fn report_refusals(&self, total: u64, per_ip: u64) {
        let event = Event::new(
            self.sensor.clone(),
            Kind::SensorStatus,
            Severity::Medium,
            format!(
                "{} honeypot refused {} connections (limits: {} total, {} per address)",
                self.label,
                total + per_ip,
                self.max_connections,
                self.max_connections_per_ip
            ),
        )
        .with(field::PROTOCOL, self.protocol)
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
        self.bus.try_send(event);
    }
}

/// Refused connections are counted and reported at most this often, so a flood
/// does not become a flood of events.
const REFUSAL_REPORT: Duration = Duration::from_secs(10);

/// Accepts until `stop` flips, runs `session` for each connection the caps allow,
/// then waits until every session has ended.
pub(crate) async fn accept_loop<F, Fut>(
    listener: TcpListener,
    gate: Arc<Gate>,
    mut stop: watch::Receiver<bool>,
    session: F,
) where
    F: Fn(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let max = gate.max_connections;
    let slots = Arc::new(Semaphore::new(max));
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
                warn!(error = %e, protocol = gate.protocol, "Honeypot accept failed.");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refused_total += 1;
            drop(stream);
            continue;
        };
        let Some(ip_guard) = gate.per_ip.take(peer.ip()) else {
            refused_ip += 1;
            drop(stream);
            continue;
        };
        if (refused_total > 0 || refused_ip > 0) && last_report.elapsed() >= REFUSAL_REPORT {
            gate.report_refusals(refused_total, refused_ip);
            refused_total = 0;
            refused_ip = 0;
            last_report = tokio::time::Instant::now();
        }
        // Boxed: the task's block below would otherwise hold the session's
        // future twice (captured, then moved into its `.await`), for as long
        // as the connection lasts.
        let run = Box::pin(session(stream, peer));
        tokio::spawn(async move {
            run.await;
            drop(ip_guard);
            drop(slot);
        });
    }
    drop(listener);
    if refused_total > 0 || refused_ip > 0 {
        gate.report_refusals(refused_total, refused_ip);
    }
    // Wait for every session to finish (each holds a slot).
    let _ = slots.acquire_many(max as u32).await;
}

/// Open connections per source address, capped (shared by every honeypot's
/// accept loop).
pub(crate) struct ConnectionsPerIp {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl ConnectionsPerIp {
    pub(crate) fn new(max: usize) -> Arc<ConnectionsPerIp> {
        Arc::new(ConnectionsPerIp {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for one more connection from `ip`, or `None` when it has `max` open.
    pub(crate) fn take(self: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        let mut map = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = map.entry(ip).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(IpSlot {
            owner: self.clone(),
            ip,
        })
    }
}

/// One connection's place in its source address's allowance, given back on drop.
pub(crate) struct IpSlot {
    owner: Arc<ConnectionsPerIp>,
    ip: IpAddr,
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut map = self.owner.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = map.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Most bytes of an attacker string an SSH or Telnet event keeps in its data
/// (user names, passwords, forwarding targets): enough for any real value, bounded
/// so one connection cannot make one event huge.
pub(crate) const MAX_VALUE_BYTES: usize = 16 * 1024;
