//! Remote sensors in numbers and under faults (#20): many enrolled sensors in
//! this process (each a real client of `nectar_sensor` with its own spool)
//! against one real `nectar serve` over HTTPS; a full spool with
//! `drop_oldest` and with `block`; a TCP proxy that resets connections,
//! swallows them (black hole) and cuts answers in half. Every event is
//! counted on the server by its id: none lost, none doubled.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use nectar_event::{Event, Kind, Severity};
use nectar_sensor::{Credential, Shipper, ShipperConfig};
use nectar_spool::{Spool, SpoolConfig, WhenFull};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::sensors::{free_port, server_config};
use crate::util::{Server, all_events, client, token};

/// One `nectar serve` with HTTPS on a free port, its data in a temporary
/// directory, and an admin's and an analyst's token.
struct Hub {
    root: tempfile::TempDir,
    server: Server,
    admin: String,
    analyst: String,
    tls_port: u16,
    tls_url: String,
}

impl Hub {
    fn start() -> Hub {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("server");
        std::fs::create_dir_all(&dir).unwrap();
        let tls_port = free_port();
        let config = server_config(&dir, tls_port, "");
        let server = Server::start(&dir, Some(&config));
        Hub {
            admin: token(&dir, "admin-token", "admin"),
            analyst: token(&dir, "analyst", "analyst"),
            tls_url: format!("https://127.0.0.1:{tls_port}"),
            root,
            server,
            tls_port,
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Enrols sensor `name` through the API (admin) and `nectar_sensor::enrol`.
async fn enrolled(server: &str, admin: &str, name: &str, tls_url: &str) -> Credential {
    let made: Value = reqwest::Client::new()
        .post(format!("{server}/api/v1/sensors"))
        .bearer_auth(admin)
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = made["secret"].as_str().unwrap();
    let pin = made["pin"]
        .as_str()
        .expect("the server's pin (it listens with TLS)");
    nectar_sensor::enrol(tls_url, secret, pin, "test")
        .await
        .unwrap()
}

fn event(sensor: &str, n: usize) -> Event {
    Event::new(
        sensor,
        Kind::HttpRequest,
        Severity::Low,
        format!("GET /fleet/{n}"),
    )
    .with("path", format!("/fleet/{n}"))
    // Incompressible enough that a small spool fills.
    .with("filler", Uuid::now_v7().simple().to_string())
}

/// Ids of every event of `sensor` (of kind http.request) on the server.
fn ids_at_server(url: &str, token: &str, sensor: &str) -> Vec<String> {
    all_events(url, token, &format!("kind=http.request&sensor={sensor}"))
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

fn check_exactly(url: &str, token: &str, sensor: &str, sent: &HashSet<String>) {
    let got = ids_at_server(url, token, sensor);
    let unique: HashSet<String> = got.iter().cloned().collect();
    assert_eq!(
        got.len(),
        unique.len(),
        "{sensor}: an event is stored twice"
    );
    let missing = sent.difference(&unique).count();
    let extra = unique.difference(sent).count();
    assert_eq!(
        (missing, extra),
        (0, 0),
        "{sensor}: missing / unexpected events"
    );
}

async fn wait_empty(spool: &Spool, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let stats = spool.stats().await.unwrap();
        if stats.batches == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the spool did not drain: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn fast_shipper() -> ShipperConfig {
    ShipperConfig {
        min_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(2),
        request_timeout: Duration::from_secs(3),
        ..ShipperConfig::default()
    }
}

/// 100 sensors × 50 events/s for `FLEET_SECONDS` (default 10; 60 in the
/// benchmark): every event stored once.
#[test]
fn a_fleet_of_100_sensors_stores_every_event_once() {
    let seconds: usize = std::env::var("FLEET_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let Hub {
        root,
        server,
        admin,
        analyst,
        tls_url,
        ..
    } = Hub::start();
    let rt = runtime();
    let sent: Vec<(String, HashSet<String>)> = rt.block_on(async {
        // Enrolled first (each enrolment's connection closes with its client).
        let mut credentials = Vec::new();
        for i in 0..100 {
            let name = format!("fleet-{i:03}");
            credentials.push(enrolled(&server.url, &admin, &name, &tls_url).await);
        }
        let mut tasks = Vec::new();
        for (i, credential) in credentials.into_iter().enumerate() {
            let name = credential.name.clone();
            let spool = Spool::open(
                &root.path().join(format!("{name}.db")),
                SpoolConfig::default(),
            )
            .await
            .unwrap();
            // One machine each: its own loopback address (the server bounds
            // connections per address).
            let config = ShipperConfig {
                local_address: Some(std::net::IpAddr::from([127, 0, 1, i as u8 + 1])),
                ..fast_shipper()
            };
            let shipper = Shipper::new(spool.clone(), credential, config).unwrap();
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let shipping = tokio::spawn(shipper.run(stop_rx));
            tasks.push(tokio::spawn(async move {
                let mut ids = HashSet::new();
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                for second in 0..seconds {
                    tick.tick().await;
                    let batch: Vec<Event> =
                        (0..50).map(|k| event(&name, second * 50 + k)).collect();
                    ids.extend(batch.iter().map(|e| e.id.to_string()));
                    spool.append(&batch).await.unwrap();
                }
                wait_empty(&spool, Duration::from_secs(120)).await;
                let _ = stop_tx.send(true);
                shipping.await.unwrap().unwrap();
                (name, ids)
            }));
        }
        let mut sent = Vec::new();
        for task in tasks {
            sent.push(task.await.unwrap());
        }
        sent
    });
    let mut total = 0;
    for (name, ids) in &sent {
        total += ids.len();
        check_exactly(&server.url, &analyst, name, ids);
    }
    assert_eq!(total, 100 * 50 * seconds);
    // The fleet on the Sensors API.
    let list: Value = client()
        .get(format!("{}/api/v1/sensors", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let sensors = list["sensors"].as_array().unwrap();
    assert_eq!(sensors.len(), 100);
    for s in sensors {
        assert_eq!(s["events"], json!(50 * seconds), "{s}");
        assert_eq!(s["spool_events"], 0, "{s}");
        assert_eq!(s["missing_batches"], 0, "{s}");
    }
}

/// A full spool with `drop_oldest` drops the oldest batches and the server is
/// told exactly how many; with `block` nothing is dropped.
#[test]
fn a_full_spool_drops_exactly_what_it_reports_or_blocks() {
    let Hub {
        root,
        server,
        admin,
        analyst,
        tls_url,
        ..
    } = Hub::start();
    let rt = runtime();
    let (kept, dropped, blocked) = rt.block_on(async {
        // drop_oldest, with the link down (no shipper yet).
        let credential = enrolled(&server.url, &admin, "dropper", &tls_url).await;
        let config = SpoolConfig {
            max_bytes: 64 * 1024,
            when_full: WhenFull::DropOldest,
        };
        let spool = Spool::open(&root.path().join("dropper.db"), config)
            .await
            .unwrap();
        let mut appended = Vec::new();
        let mut dropped = 0;
        for b in 0..100 {
            let batch: Vec<Event> = (0..20).map(|k| event("dropper", b * 20 + k)).collect();
            let done = spool.append(&batch).await.unwrap();
            dropped += done.dropped_events;
            appended.push((done.seq, batch));
        }
        assert!(dropped > 0, "the spool never filled");
        let stats = spool.stats().await.unwrap();
        assert_eq!(stats.dropped, dropped);
        // What is left is the newest batches, whole.
        let kept: HashSet<String> = {
            let waiting = spool.next(0, 10_000).await.unwrap();
            let seqs: HashSet<u64> = waiting.iter().map(|b| b.seq).collect();
            appended
                .iter()
                .filter(|(seq, _)| seqs.contains(seq))
                .flat_map(|(_, batch)| batch.iter().map(|e| e.id.to_string()))
                .collect()
        };
        assert_eq!(kept.len() as u64 + dropped, 2_000);
        let shipper = Shipper::new(spool.clone(), credential, fast_shipper()).unwrap();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let shipping = tokio::spawn(shipper.run(stop_rx));
        wait_empty(&spool, Duration::from_secs(60)).await;
        // The drop report is spooled after the first success; let it go too.
        tokio::time::sleep(Duration::from_secs(1)).await;
        wait_empty(&spool, Duration::from_secs(60)).await;
        let _ = stop_tx.send(true);
        shipping.await.unwrap().unwrap();
        // block: the producer waits for the link; nothing is dropped.
        let credential = enrolled(&server.url, &admin, "blocker", &tls_url).await;
        let config = SpoolConfig {
            max_bytes: 64 * 1024,
            when_full: WhenFull::Block,
        };
        let spool = Spool::open(&root.path().join("blocker.db"), config)
            .await
            .unwrap();
        let shipper = Shipper::new(spool.clone(), credential, fast_shipper()).unwrap();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let shipping = tokio::spawn(shipper.run(stop_rx));
        let mut ids = HashSet::new();
        for b in 0..100 {
            let batch: Vec<Event> = (0..20).map(|k| event("blocker", b * 20 + k)).collect();
            ids.extend(batch.iter().map(|e| e.id.to_string()));
            let done = spool.append(&batch).await.unwrap();
            assert_eq!(done.dropped_events, 0);
        }
        wait_empty(&spool, Duration::from_secs(60)).await;
        let _ = stop_tx.send(true);
        shipping.await.unwrap().unwrap();
        assert_eq!(spool.stats().await.unwrap().dropped, 0);
        (kept, dropped, ids)
    });
    check_exactly(&server.url, &analyst, "blocker", &blocked);
    check_exactly(&server.url, &analyst, "dropper", &kept);
    let reports: Vec<Value> =
        all_events(&server.url, &analyst, "kind=sensor.status&sensor=dropper")
            .into_iter()
            .filter(|e| e["data"]["status"] == "spool_dropped")
            .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["data"]["dropped"], json!(dropped));
    let sensor: Value = client()
        .get(format!("{}/api/v1/sensors/dropper", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(sensor["dropped"], json!(dropped));
}

/// What the proxy does to new connections.
const PASS: u8 = 0;
const RESET: u8 = 1;
const BLACK_HOLE: u8 = 2;
const CUT_ANSWER: u8 = 3;

/// A TCP proxy to `upstream` whose behaviour `mode` switches at run time,
/// checked at every chunk (kept-alive connections feel the change too).
fn proxy(upstream: u16, mode: Arc<AtomicU8>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let mode = mode.clone();
            std::thread::spawn(move || relay(client, upstream, mode));
        }
    });
    port
}

/// Resets `stream` (SO_LINGER 0: the close sends RST, not FIN).
fn reset(stream: &TcpStream) {
    if let Ok(copy) = stream.try_clone() {
        let socket = socket2::Socket::from(copy);
        let _ = socket.set_linger(Some(Duration::ZERO));
        let _ = socket.shutdown(std::net::Shutdown::Both);
    }
}

fn relay(client: TcpStream, upstream: u16, mode: Arc<AtomicU8>) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    // Bytes the client sent on this connection: past the TLS handshake (a
    // few hundred bytes) a request with its batch has gone up.
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let (up_mode, up_sent, up_client) = (mode.clone(), sent.clone(), client.try_clone().unwrap());
    let up = std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match c_in.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            match up_mode.load(Ordering::SeqCst) {
                RESET => {
                    reset(&up_client);
                    break;
                }
                // Swallowed: the client waits for an answer that never comes.
                BLACK_HOLE => continue,
                _ => {}
            }
            up_sent.fetch_add(n, Ordering::SeqCst);
            if s_out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = s_out.shutdown(std::net::Shutdown::Write);
    });
    let (mut s_in, mut c_out) = (server, client);
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match s_in.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let now = mode.load(Ordering::SeqCst);
        if now == BLACK_HOLE {
            continue;
        }
        if now == CUT_ANSWER && sent.load(Ordering::SeqCst) > 4_000 {
            // Half an answer, then the connection ends: the server has
            // committed the batch; the client never hears so and resends.
            let _ = c_out.write_all(&buf[..n / 2]);
            let _ = c_out.shutdown(std::net::Shutdown::Both);
            break;
        }
        if c_out.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = c_out.shutdown(std::net::Shutdown::Both);
    let _ = up.join();
}

/// Connection resets, a black hole and answers cut in half: nothing lost,
/// nothing doubled.
#[test]
fn network_faults_lose_and_double_nothing() {
    let Hub {
        root,
        server,
        admin,
        analyst,
        tls_port,
        ..
    } = Hub::start();
    let mode = Arc::new(AtomicU8::new(PASS));
    let proxy_port = proxy(tls_port, mode.clone());
    let rt = runtime();
    let ids = rt.block_on(async {
        let mut credential = enrolled(
            &server.url,
            &admin,
            "faulty",
            &format!("https://127.0.0.1:{tls_port}"),
        )
        .await;
        credential.server = format!("https://127.0.0.1:{proxy_port}");
        let spool = Spool::open(&root.path().join("faulty.db"), SpoolConfig::default())
            .await
            .unwrap();
        let shipper = Shipper::new(spool.clone(), credential, fast_shipper()).unwrap();
        let status = shipper.status();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let shipping = tokio::spawn(shipper.run(stop_rx));
        let mut ids = HashSet::new();
        let mut seen_modes = HashMap::new();
        for (round, fault) in [
            PASS, RESET, PASS, BLACK_HOLE, PASS, CUT_ANSWER, RESET, CUT_ANSWER, PASS,
        ]
        .into_iter()
        .enumerate()
        {
            mode.store(fault, Ordering::SeqCst);
            let batch: Vec<Event> = (0..200).map(|k| event("faulty", round * 200 + k)).collect();
            ids.extend(batch.iter().map(|e| e.id.to_string()));
            spool.append(&batch).await.unwrap();
            tokio::time::sleep(Duration::from_secs(if fault == BLACK_HOLE { 5 } else { 2 })).await;
            *seen_modes.entry(fault).or_insert(0) += 1;
        }
        mode.store(PASS, Ordering::SeqCst);
        wait_empty(&spool, Duration::from_secs(90)).await;
        let _ = stop_tx.send(true);
        shipping.await.unwrap().unwrap();
        // The faults were felt: some attempts failed and were retried.
        assert!(
            status.retries.load(Ordering::Relaxed) >= 3,
            "the faults did not reach the shipper"
        );
        ids
    });
    check_exactly(&server.url, &analyst, "faulty", &ids);
    let sensor: Value = client()
        .get(format!("{}/api/v1/sensors/faulty", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap()
        .json()
        .unwrap();
    // An answer cut in half makes the sensor resend a committed batch.
    assert!(sensor["resent_batches"].as_u64().unwrap() >= 1, "{sensor}");
    assert_eq!(sensor["missing_batches"], 0);
}

/// The benchmark (BENCHMARKS.md, `scripts/bench_fleet.sh`): 100 sensors whose
/// spools hold `FLEET_BATCHES` batches of 1,000 events each, shipped at full
/// speed over HTTPS to one `serve`; prints events per second from the first
/// post to the last commit. Ignored in the test run (it measures).
#[test]
#[ignore = "benchmark: scripts/bench_fleet.sh"]
fn fleet_full_speed() {
    let batches: usize = std::env::var("FLEET_BATCHES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let Hub {
        root,
        server,
        admin,
        tls_url,
        ..
    } = Hub::start();
    let rt = runtime();
    let (events, elapsed) = rt.block_on(async {
        let mut sensors = Vec::new();
        for i in 0..100 {
            let name = format!("speed-{i:03}");
            let credential = enrolled(&server.url, &admin, &name, &tls_url).await;
            let spool = Spool::open(
                &root.path().join(format!("{name}.db")),
                SpoolConfig::default(),
            )
            .await
            .unwrap();
            for b in 0..batches {
                let batch: Vec<Event> = (0..1000).map(|k| event(&name, b * 1000 + k)).collect();
                spool.append(&batch).await.unwrap();
            }
            sensors.push((credential, spool, i));
        }
        let start = Instant::now();
        let mut tasks = Vec::new();
        for (credential, spool, i) in sensors {
            let config = ShipperConfig {
                local_address: Some(std::net::IpAddr::from([127, 0, 1, i as u8 + 1])),
                ..fast_shipper()
            };
            let shipper = Shipper::new(spool.clone(), credential, config).unwrap();
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let shipping = tokio::spawn(shipper.run(stop_rx));
            tasks.push(tokio::spawn(async move {
                wait_empty(&spool, Duration::from_secs(600)).await;
                let _ = stop_tx.send(true);
                shipping.await.unwrap().unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        (100 * batches * 1000, start.elapsed())
    });
    println!(
        "fleet: {events} events from 100 sensors in {:.2} s = {:.0} events/s",
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64()
    );
}

/// A batch the server refuses as malformed goes to the spool's dead letters
/// with an alarm the server receives, and the batches after it go on.
#[test]
fn a_refused_batch_becomes_a_dead_letter_and_the_rest_goes_on() {
    let Hub {
        root,
        server,
        admin,
        analyst,
        tls_url,
        ..
    } = Hub::start();
    let rt = runtime();
    let (bad_seq, good) = rt.block_on(async {
        let credential = enrolled(&server.url, &admin, "sender", &tls_url).await;
        let spool = Spool::open(&root.path().join("sender.db"), SpoolConfig::default())
            .await
            .unwrap();
        // An event naming another sensor: the server refuses the batch (422).
        let bad = spool.append(&[event("someone-else", 0)]).await.unwrap();
        let batch: Vec<Event> = (0..10).map(|k| event("sender", k)).collect();
        let good: HashSet<String> = batch.iter().map(|e| e.id.to_string()).collect();
        spool.append(&batch).await.unwrap();
        let shipper = Shipper::new(spool.clone(), credential, fast_shipper()).unwrap();
        let status = shipper.status();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let shipping = tokio::spawn(shipper.run(stop_rx));
        wait_empty(&spool, Duration::from_secs(30)).await;
        let _ = stop_tx.send(true);
        shipping.await.unwrap().unwrap();
        assert_eq!(status.dead_letters.load(Ordering::Relaxed), 1);
        assert_eq!(spool.stats().await.unwrap().dead, 1);
        (bad.seq, good)
    });
    check_exactly(&server.url, &analyst, "sender", &good);
    let alarms: Vec<Value> = all_events(&server.url, &analyst, "kind=sensor.status&sensor=sender")
        .into_iter()
        .filter(|e| e["data"]["status"] == "dead_letter")
        .collect();
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    assert_eq!(alarms[0]["data"]["batch"], json!(bad_seq));
    assert!(
        alarms[0]["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("422")
    );
    assert!(all_events(&server.url, &analyst, "sensor=someone-else").is_empty());
}
