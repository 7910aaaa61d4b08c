//! The UI and API server's connections: axum's router behind hyper, with the
//! bounds a server facing the network needs and `axum::serve` does not expose.
//!
//! - A request's headers must arrive within [`HEADER_READ_TIMEOUT`]; the same
//!   timer ends a keep-alive connection left idle (a slow-header client, or 200 of
//!   them, no longer holds memory and a task for minutes).
//! - At most [`MAX_CONNECTIONS`] connections in all and [`MAX_PER_ADDRESS`] from
//!   one address; one more is closed at once, and counted.
//! - Header buffers are bounded ([`MAX_BUFFER`], [`MAX_HEADERS`]).
//! - HTTP/1.1 only, as before (no HTTP/2 stack to bound as well).
//! - Optionally TLS (`[server.tls]`): the handshake must end within the same
//!   [`HEADER_READ_TIMEOUT`], so a client that opens and says nothing does not
//!   hold a place either.
//! - Stopping closes the listener, lets open requests finish (the caller bounds
//!   how long) and then ends every connection.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tracing::{debug, warn};

/// How long a client may take to send a request's headers, or to start the next
/// request on a kept-alive connection.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections open at once, from everyone.
pub const MAX_CONNECTIONS: usize = 1_024;
/// Connections open at once from one address.
pub const MAX_PER_ADDRESS: usize = 64;
/// Bytes hyper buffers for one connection's request head.
pub const MAX_BUFFER: usize = 64 * 1024;
/// Header lines in one request.
pub const MAX_HEADERS: usize = 100;

/// Connections refused by the caps since start (for the log).
static REFUSED: AtomicU64 = AtomicU64::new(0);

/// Open connections per address; the guard gives its place back when dropped.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

struct Place {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    fn enter(table: &Arc<PerAddress>, ip: IpAddr) -> Option<Place> {
        let mut map = table.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_insert(0);
        if *n >= MAX_PER_ADDRESS {
            return None;
        }
        *n += 1;
        Some(Place {
            table: table.clone(),
            ip,
        })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut map = self.table.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` (through `tls` when given) until `stop` turns
/// true, then stops accepting and waits for open requests (the caller bounds
/// the wait by aborting the task).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let total = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let per_address = Arc::new(PerAddress::default());
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_BUFFER)
        .max_headers(MAX_HEADERS);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: pause, never spin.
                    warn!(error = %e, "Could not accept a connection.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            // The guard `wait_for` gives is dropped inside: it is not Send.
            _ = async { drop(stop.wait_for(|stopped| *stopped).await) } => break,
        };
        let Ok(slot) = total.clone().try_acquire_owned() else {
            refused(remote, "too many connections");
            continue;
        };
        let Some(place) = PerAddress::enter(&per_address, remote.ip()) else {
            refused(remote, "too many connections from one address");
            continue;
        };
        let service = app.clone().map_request(move |request: Request<Incoming>| {
            let mut request = request.map(Body::new);
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(remote));
            request
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let served = match tls {
                None => serve_connection(&builder, tcp, service, watcher).await,
                Some(acceptor) => {
                    match tokio::time::timeout(HEADER_READ_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            serve_connection(&builder, stream, service, watcher).await
                        }
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err("TLS handshake timed out".to_owned()),
                    }
                }
            };
            if let Err(e) = served {
                debug!(error = %e, %remote, "A UI/API connection ended with an error.");
            }
            drop((slot, place));
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Serves one connection (plain or TLS) until it ends or the server stops.
async fn serve_connection<I, S>(
    builder: &Builder<TokioExecutor>,
    io: I,
    service: S,
    watcher: hyper_util::server::graceful::Watcher,
) -> Result<(), String>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<
            Request<Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let connection = builder
        .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service))
        .into_owned();
    watcher.watch(connection).await.map_err(|e| e.to_string())
}

fn refused(remote: SocketAddr, why: &str) {
    let n = REFUSED.fetch_add(1, Ordering::Relaxed) + 1;
    // The first, then every thousandth: a flood must not flood the log too.
    if n == 1 || n.is_multiple_of(1_000) {
        warn!(%remote, refused = n, "A UI/API connection was closed at once: {why}.");
    }
}
