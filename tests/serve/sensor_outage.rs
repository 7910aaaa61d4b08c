//! Remote sensors (#20) through an outage and a power cut, with real processes:
//!
//! - The server down for a while (`NECTAR_TEST_OUTAGE_SECS`, default 20; the
//!   issue says two minutes: run it once with 120): the sensor spools, then
//!   drains into a server whose event queue is kept full, which answers `503`
//!   with `Retry-After`; the sensor waits as asked and everything arrives once.
//! - A full event queue answers a posted batch `503` with `Retry-After`.
//! - A torn last write in the spool (the sensor `kill -9`ed, the spool's
//!   write-ahead log cut in the middle of its last frame, as a power cut
//!   leaves it): the sensor says so at restart, and the batches before it
//!   arrive exactly once.
//!
//! The server's queue is made full for real: its writer is held up by a
//! second SQLite connection holding the write lock (Python's `sqlite3`, for a
//! few seconds, well within the writer's busy timeout), while clients flood
//! its own HTTP honeypot, whose requests then wait for room on the bus.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::sensors::{
    Sensor, arrived, assert_exactly_once, enrol, enrolment, free_port, probe, wait_arrived,
    wait_until,
};
use crate::util::{Server, all_events, client, token};

/// A server with HTTPS on `tls_port`, a small event queue (eight places,
/// the writer taking one event at a time) and its own HTTP honeypot (the
/// flood that fills the queue), without a per-address rate limit.
fn small_queue_config(dir: &Path, tls_port: u16) -> PathBuf {
    let path = dir.with_extension("server.toml");
    std::fs::write(
        &path,
        format!(
            "[server.tls]\nlisten = \"127.0.0.1:{tls_port}\"\n\
             [store]\nqueue_events = 8\nqueue_batches = 1\nmax_batch_events = 1\n\
             [honeypot.ssh]\nenabled = false\n[honeypot.telnet]\nenabled = false\n\
             [honeypot.http]\nmax_requests_per_ip_per_second = 0\n"
        ),
    )
    .unwrap();
    path
}

/// Holds the SQLite write lock of the server's database for `seconds`
/// (returns once it is held); the child ends by itself.
fn hold_write_lock(data: &Path, seconds: f64) -> Child {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3,sys,time\n\
             c=sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\n\
             c.execute('BEGIN IMMEDIATE')\n\
             print('locked', flush=True)\n\
             time.sleep(float(sys.argv[2]))\n\
             c.execute('ROLLBACK')\n",
        )
        .arg(data.join("nectar.db"))
        .arg(seconds.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked", "python could not lock the database");
    child
}

/// Clients requesting `/flood/{n}` from an HTTP honeypot until stopped.
struct Flood {
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicU64>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Flood {
    fn start(http: &str, clients: usize) -> Flood {
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicU64::new(0));
        let next = Arc::new(AtomicU64::new(0));
        let threads = (0..clients)
            .map(|_| {
                let (stop, answered, next) = (stop.clone(), answered.clone(), next.clone());
                let http = http.to_owned();
                std::thread::spawn(move || {
                    let client = client();
                    // Bounded: stops when asked, or after 10,000 requests each.
                    for _ in 0..10_000 {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if client
                            .get(format!("http://{http}/flood/{n}"))
                            .send()
                            .is_ok()
                        {
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        Flood {
            stop,
            answered,
            threads,
        }
    }

    /// Stops it; how many requests were answered.
    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
        self.answered.load(Ordering::Relaxed)
    }
}

/// Envelopes waiting on the server's bus now.
fn queued(url: &str, token: &str) -> u64 {
    let status: Value = client()
        .get(format!("{url}/api/v1/status"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    status["bus"]["queued"].as_u64().unwrap_or(0)
}

/// Distinct `/flood/` paths the server stored (its own honeypot's events).
fn flood_stored(url: &str, token: &str) -> usize {
    all_events(url, token, "kind=http.request")
        .iter()
        .filter_map(|e| e["data"]["path"].as_str())
        .filter(|p| p.starts_with("/flood/"))
        .collect::<std::collections::HashSet<_>>()
        .len()
}

#[test]
fn a_full_event_queue_answers_503_with_retry_after() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("server");
    std::fs::create_dir_all(&data).unwrap();
    let config = small_queue_config(&data, free_port());
    let server = Server::start(&data, Some(&config));
    let analyst = token(&data, "analyst", "analyst");
    let http = server
        .printed_after("HTTP honeypot listening on ")
        .expect("the server's HTTP honeypot")
        .trim()
        .to_owned();
    let batch = r#"{"kind":"http.request","summary":"GET /posted","data":{"path":"/posted/1"}}"#;
    let post = || {
        client()
            .post(format!("{}/api/v1/events", server.url))
            .bearer_auth(&analyst)
            .header("content-type", "application/x-ndjson")
            .body(batch)
            .send()
            .unwrap()
    };
    assert_eq!(post().status(), 200);

    // The writer held up, the honeypot flooded: the queue fills.
    let mut lock = hold_write_lock(&data, 6.0);
    let flood = Flood::start(&http, 16);
    assert!(
        wait_until(Duration::from_secs(5), || queued(&server.url, &analyst)
            >= 7),
        "the event queue did not fill: {} queued",
        queued(&server.url, &analyst)
    );
    let refused = post();
    assert_eq!(refused.status(), 503);
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    let message: Value = refused.json().unwrap();
    assert!(
        message["error"]
            .as_str()
            .unwrap()
            .contains("event queue is full"),
        "{message}"
    );
    let _ = lock.wait();
    let answered = flood.stop();
    assert!(answered > 0);

    // Once the writer goes on, the queue empties and the same batch is taken,
    // after the wait the server asked for.
    std::thread::sleep(Duration::from_secs(2));
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut status = post().status();
    while status != 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(2));
        status = post().status();
    }
    assert_eq!(status, 200);
    // Honeypot requests waited for room rather than being dropped: each one
    // answered is stored.
    assert!(
        wait_until(Duration::from_secs(30), || flood_stored(
            &server.url,
            &analyst
        ) >= answered as usize),
        "{} of {answered} flood requests stored",
        flood_stored(&server.url, &analyst)
    );
}

#[test]
fn a_sensor_spools_through_an_outage_and_drains_past_503s() {
    // The issue's two minutes: NECTAR_TEST_OUTAGE_SECS=120.
    let outage = std::env::var("NECTAR_TEST_OUTAGE_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(20)
        .clamp(1, 900);
    let root = tempfile::tempdir().unwrap();
    let server_dir = root.path().join("server");
    let sensor_dir = root.path().join("sensor");
    std::fs::create_dir_all(&server_dir).unwrap();
    let tls_port = free_port();
    let config = small_queue_config(&server_dir, tls_port);
    let mut server = Server::start(&server_dir, Some(&config));
    let (url, secret, pin) = enrolment(&server_dir, &config, "edge-1", tls_port);
    assert!(enrol(&sensor_dir, &url, &secret, &pin).status.success());
    let analyst = token(&server_dir, "analyst", "analyst");
    let sensor = Sensor::start(&sensor_dir, "");
    probe(&sensor.http, "o", 0..20);
    let seen = wait_arrived(&server.url, &analyst, "o", 20, Duration::from_secs(60));
    assert_exactly_once(&seen, "o", 20);

    // Down: the sensor goes on seeing attacks, and spools them.
    server.kill9();
    drop(server);
    let began = Instant::now();
    let mut n = 20;
    while began.elapsed() < Duration::from_secs(outage) {
        probe(&sensor.http, "o", n..n + 5);
        n += 5;
        std::thread::sleep(Duration::from_secs(1));
    }
    let spooled = crate::sensors::spooled(&sensor_dir);
    assert!(spooled > 0, "nothing spooled during the outage");
    eprintln!(
        "outage: {} s, {} probes made, {spooled} events spooled",
        began.elapsed().as_secs(),
        n
    );

    // Back, but busy: its queue is kept full (writer held up in rounds of 4 s,
    // its honeypot flooded) until the sensor has met a 503.
    let server = Server::start(&server_dir, Some(&config));
    let http = server
        .printed_after("HTTP honeypot listening on ")
        .expect("the server's HTTP honeypot")
        .trim()
        .to_owned();
    let flood = Flood::start(&http, 16);
    let busy_since = Instant::now();
    let met_503 = |log: &str| log.contains("event queue is full");
    while !met_503(&sensor.log()) {
        assert!(
            busy_since.elapsed() < Duration::from_secs(120),
            "the sensor never met a 503 in 120 s of a full queue; its log:\n{}",
            sensor.log()
        );
        let mut lock = hold_write_lock(&server_dir, 4.0);
        let _ = lock.wait();
        std::thread::sleep(Duration::from_millis(200));
    }
    flood.stop();
    let drained_from = Instant::now();
    let seen = wait_arrived(&server.url, &analyst, "o", n, Duration::from_secs(300));
    eprintln!(
        "drained {n} probes in {:.1} s after the queue was released",
        drained_from.elapsed().as_secs_f64()
    );
    assert_exactly_once(&seen, "o", n);
    // The sensor waited as asked: Retry-After is 2 s, its wait within [1, 2] s.
    let log = sensor.log();
    let waits: Vec<u64> = log
        .lines()
        .filter(|l| met_503(l))
        .filter_map(|l| {
            let at = l.find("retry_in_ms=")? + "retry_in_ms=".len();
            l[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert!(!waits.is_empty(), "{log}");
    assert!(
        waits.iter().all(|w| (1_000..=2_000).contains(w)),
        "waits after 503: {waits:?}"
    );
    assert_eq!(arrived(&server.url, &analyst, "o").len(), n);
}

#[test]
fn a_torn_last_write_in_the_spool_is_detected_and_skipped() {
    let root = tempfile::tempdir().unwrap();
    let server_dir = root.path().join("server");
    let sensor_dir = root.path().join("sensor");
    std::fs::create_dir_all(&server_dir).unwrap();
    let tls_port = free_port();
    let config = crate::sensors::server_config(&server_dir, tls_port, "");
    let mut server = Server::start(&server_dir, Some(&config));
    let (url, secret, pin) = enrolment(&server_dir, &config, "edge-1", tls_port);
    assert!(enrol(&sensor_dir, &url, &secret, &pin).status.success());
    let analyst = token(&server_dir, "analyst", "analyst");
    // The server down: what the sensor sees stays in its spool.
    server.kill9();
    drop(server);
    let mut sensor = Sensor::start(&sensor_dir, "");
    // One probe per batch: wait until each is spooled before the next.
    let probes = 6;
    for i in 0..probes {
        let before = crate::sensors::spooled(&sensor_dir);
        probe(&sensor.http, "torn", i..i + 1);
        assert!(
            wait_until(Duration::from_secs(30), || crate::sensors::spooled(
                &sensor_dir
            ) > before),
            "probe {i} was not spooled"
        );
    }
    // A power cut: the process gone at once, and the last frame of the
    // spool's log only partly on disk.
    sensor.kill9();
    let wal = sensor_dir.join("spool.db-wal");
    let len = std::fs::metadata(&wal).expect("the spool's log").len();
    assert!(len > 1_000, "the spool's log holds {len} bytes");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&wal)
        .unwrap()
        .set_len(len - 100)
        .unwrap();

    let server = Server::start(&server_dir, Some(&config));
    let sensor = Sensor::start(&sensor_dir, "");
    wait_arrived(
        &server.url,
        &analyst,
        "torn",
        probes - 1,
        Duration::from_secs(60),
    );
    // The sensor tells the server what it lost.
    assert!(
        wait_until(Duration::from_secs(30), || {
            all_events(&server.url, &analyst, "kind=sensor.status&sensor=edge-1")
                .iter()
                .any(|e| e["data"]["status"] == "spool_torn")
        }),
        "no spool_torn report reached the server"
    );
    // Everything before the torn batch, once; the torn batch (the last
    // probe) not at all.
    let mut seen = arrived(&server.url, &analyst, "torn");
    let torn = seen.remove(&format!("/probe/torn-{}", probes - 1));
    assert_eq!(torn, None, "the torn batch was delivered");
    assert_exactly_once(&seen, "torn", probes - 1);
    let log = sensor.log();
    assert!(log.contains("last write was cut off"), "{log}");
}
