//! The HTTP honeypot against real clients: raw sockets for byte-exact answers and
//! limits, curl, sqlmap, nmap, and headless Chromium. Only 127.0.0.1, bounded
//! counts and time. A test whose tool is missing skips locally and fails when
//! `CI=true`.

mod browser;
mod fingerprint;
mod limits;
mod tls;
mod tools;
mod webapp;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use nectar_bus::EventReceiver;
use nectar_bus::EventSender;
use nectar_event::{Event, Kind};
use nectar_honeypot::honeytoken::Honeytokens;
use nectar_honeypot::http::{HttpHoneypot, HttpHoneypotConfig};
use nectar_honeypot::{HoneypotContext, Machine};

pub struct Pot {
    honeypot: Option<HttpHoneypot>,
    events: EventReceiver,
    pub addr: SocketAddr,
    pub tls_addr: Option<SocketAddr>,
    pub tokens: Arc<Honeytokens>,
    pub dir: tempfile::TempDir,
}

/// Starts the honeypot on 127.0.0.1:0 with `config` (listen addresses replaced).
pub async fn start(config: HttpHoneypotConfig) -> Pot {
    let dir = tempfile::tempdir().unwrap();
    start_in(config, dir).await
}

pub async fn start_in(config: HttpHoneypotConfig, dir: tempfile::TempDir) -> Pot {
    let (bus, events) = EventSender::channel(1_000_000);
    let mut config = HttpHoneypotConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..config
    };
    config.tls.listen = "127.0.0.1:0".parse().unwrap();
    let tokens = Arc::new(Honeytokens::load_or_create(dir.path()).unwrap());
    let machine = Machine::decide("", dir.path()).unwrap();
    let mut cx = HoneypotContext::new(dir.path(), "test", bus, machine);
    cx.honeytokens = tokens.clone();
    let honeypot = HttpHoneypot::start(config, &cx).await.unwrap();
    Pot {
        addr: honeypot.local_addr(),
        tls_addr: honeypot.tls_addr(),
        honeypot: Some(honeypot),
        events,
        tokens,
        dir,
    }
}

impl Pot {
    /// Stops the honeypot and returns every event it produced.
    pub async fn finish(self) -> Vec<Event> {
        self.finish_keeping_dir().await.0
    }

    /// Like `finish`, handing back the data directory for a restart.
    pub async fn finish_keeping_dir(mut self) -> (Vec<Event>, tempfile::TempDir) {
        if let Some(h) = self.honeypot.take() {
            h.stop(Duration::from_secs(10)).await;
        }
        let mut out = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            out.push(e);
        }
        (out, self.dir)
    }

    pub fn port(&self) -> String {
        self.addr.port().to_string()
    }
}

pub fn of(events: &[Event], kind: Kind) -> Vec<&Event> {
    events.iter().filter(|e| e.kind == kind).collect()
}

pub fn classes(e: &Event) -> Vec<&str> {
    e.data["classes"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default()
}

/// Sends `request` on a new connection and reads until the server closes or
/// `timeout` passes.
pub fn raw(addr: SocketAddr, request: &[u8], timeout: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    let _ = s.write_all(request);
    let mut data = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
        if complete(&data) {
            break;
        }
    }
    data
}

/// Whether `data` holds a whole response (head and Content-Length body).
fn complete(data: &[u8]) -> bool {
    let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&data[..end]);
    match head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        Some(n) => data.len() >= end + 4 + n,
        None => false,
    }
}

/// Whether `tool` is installed; panics under CI when it is not.
pub fn need(tool: &str, package: &str) -> bool {
    let ok = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{tool} is needed by this test (apt-get install {package})");
    }
    if !ok {
        eprintln!("skipping: {tool} not installed");
    }
    ok
}
