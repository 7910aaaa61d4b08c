//! The committed-event stream end to end: after `kill -9` in the middle of posted
//! batches and honeypot sessions, the event log and the Cowrie log hold every
//! stored event exactly once and every consumer's lag returns to 0; a consumer
//! made slow on purpose holds back neither the API nor the honeypots, and its lag
//! is reported.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{Server, all_events, client, token};

const BATCH: usize = 100;

/// A failed Telnet login: waits for each prompt, so the session is a real one.
fn telnet_attempt(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut seen = Vec::new();
    let mut wait_for = |s: &mut TcpStream, what: &[u8]| -> bool {
        let mut buf = [0u8; 512];
        while !seen.windows(what.len()).any(|w| w == what) {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return false,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        seen.clear();
        true
    };
    wait_for(&mut s, b"login:")
        && s.write_all(b"root\r\n").is_ok()
        && wait_for(&mut s, b"assword:")
        && s.write_all(b"wrong-one\r\n").is_ok()
        && wait_for(&mut s, b"incorrect")
}

pub fn status(url: &str, token: &str) -> Value {
    client()
        .get(format!("{url}/api/v1/status"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

pub fn consumer<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no consumer {name} in {status}"))
}

pub fn wait_for_lag_zero(url: &str, token: &str, names: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = status(url, token);
        if names.iter().all(|n| consumer(&now, n)["lag"] == 0) {
            return now;
        }
        assert!(Instant::now() < deadline, "lag did not return to 0: {now}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn cowrie_config(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("nectar.toml");
    std::fs::write(&config, "[honeypot.cowrie]\nenabled = true\n").unwrap();
    config
}

#[test]
fn kill_9_leaves_each_log_with_every_stored_event_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = cowrie_config(dir.path());
    let token = token(&data, "loader", "analyst");
    let mut server = Server::start(&data, Some(&config));
    let telnet = server.telnet.expect("the Telnet honeypot listens");

    let acked = Arc::new(Mutex::new(BTreeSet::<u64>::new()));
    let logins = Arc::new(Mutex::new(0u64));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for worker in 0..2u64 {
        let (url, token, acked, stop) = (
            server.url.clone(),
            token.clone(),
            acked.clone(),
            stop.clone(),
        );
        clients.push(std::thread::spawn(move || {
            let client = client();
            let deadline = Instant::now() + Duration::from_secs(60);
            for n in 0..100_000u64 {
                if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                    break;
                }
                let batch = worker * 1_000_000 + n;
                // Honeypot-shaped events, as a remote sensor posts them: each its
                // own session, so each Cowrie line names its event.
                let events: Vec<Value> = (0..BATCH)
                    .map(|i| {
                        json!({"kind": "session.connect", "summary": "connect",
                               "src_ip": "192.0.2.9", "src_port": 40000, "dst_ip": "198.51.100.1", "dst_port": 22,
                               "data": {"batch": batch, "protocol": "ssh",
                                        "session": format!("{:012x}", batch * 1_000 + i as u64)}})
                    })
                    .collect();
                let sent = client
                    .post(format!("{url}/api/v1/events"))
                    .bearer_auth(&token)
                    .json(&events)
                    .send();
                match sent {
                    Ok(response) if response.status() == 200 => {
                        acked.lock().unwrap().insert(batch);
                    }
                    _ => break,
                }
            }
        }));
    }
    for _ in 0..2 {
        let (logins, stop) = (logins.clone(), stop.clone());
        clients.push(std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                if telnet_attempt(telnet) {
                    *logins.lock().unwrap() += 1;
                } else {
                    break;
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while (acked.lock().unwrap().len() < 60 || *logins.lock().unwrap() < 10)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 60,
        "only {} batches acknowledged",
        acked.len()
    );
    assert!(*logins.lock().unwrap() >= 10, "too few Telnet logins");

    let server = Server::start(&data, Some(&config));
    wait_for_lag_zero(&server.url, &token, &["event-log", "cowrie-log"]);
    let stored = all_events(&server.url, &token, "");
    let mut per_batch = BTreeMap::<u64, usize>::new();
    for event in &stored {
        if let Some(batch) = event["data"]["batch"].as_u64() {
            *per_batch.entry(batch).or_default() += 1;
        }
    }
    for batch in &acked {
        assert_eq!(
            per_batch.get(batch),
            Some(&BATCH),
            "acknowledged batch {batch} lost"
        );
    }

    // The event log: every stored event, once.
    let logged = lines(&data.join("events.jsonl"));
    let mut logged_ids: Vec<&str> = logged.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let total = logged_ids.len();
    logged_ids.sort_unstable();
    logged_ids.dedup();
    assert_eq!(logged_ids.len(), total, "an event logged twice");
    let mut stored_ids: Vec<&str> = stored.iter().map(|e| e["id"].as_str().unwrap()).collect();
    stored_ids.sort_unstable();
    assert_eq!(
        logged_ids, stored_ids,
        "the event log differs from the store"
    );

    // The Cowrie log: one connect line per stored SSH/Telnet connect, posted or
    // made by this server's Telnet honeypot, whatever the kill interrupted.
    let cowrie = lines(&data.join("cowrie.json"));
    let mut connects: Vec<String> = cowrie
        .iter()
        .filter(|l| l["eventid"] == "cowrie.session.connect")
        .map(|l| l["session"].as_str().unwrap().to_owned())
        .collect();
    let n = connects.len();
    connects.sort_unstable();
    connects.dedup();
    assert_eq!(connects.len(), n, "a Cowrie line written twice");
    let mut expected: Vec<String> = stored
        .iter()
        .filter(|e| e["kind"] == "session.connect")
        .map(|e| e["data"]["session"].as_str().unwrap().to_owned())
        .collect();
    expected.sort_unstable();
    assert!(
        expected.len() > acked.len() * BATCH,
        "no Telnet sessions stored"
    );
    assert_eq!(connects, expected, "the Cowrie log differs from the store");
}

#[test]
fn a_slow_consumer_holds_back_neither_the_api_nor_the_honeypots() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let token = token(&data, "loader", "analyst");
    let server = Server::start_with_env(&data, None, &[("NECTAR_TEST_SLOW_CONSUMER_MS", "2000")]);
    let telnet = server.telnet.expect("the Telnet honeypot listens");
    let c = client();
    for batch in 0..40 {
        let events: Vec<Value> = (0..500)
            .map(|i| json!({"kind": "http.request", "summary": format!("{batch}/{i}")}))
            .collect();
        let response = c
            .post(format!("{}/api/v1/events", server.url))
            .bearer_auth(&token)
            .json(&events)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    // Many small commits: what the slow one's queue cannot hold is skipped for
    // it (read back later), never waited for.
    for i in 0..300 {
        let response = c
            .post(format!("{}/api/v1/events", server.url))
            .bearer_auth(&token)
            .json(&json!([{"kind": "http.request", "summary": format!("single {i}")}]))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    for _ in 0..5 {
        assert!(telnet_attempt(telnet), "the Telnet honeypot did not answer");
    }
    // The event log keeps up; the slow one is behind, and says so.
    let now = wait_for_lag_zero(&server.url, &token, &["event-log"]);
    let slow = consumer(&now, "test-slow");
    assert!(slow["lag"].as_u64().unwrap() > 0, "{now}");
    assert!(now["writer"]["events"].as_u64().unwrap() >= 20_300, "{now}");
    // And it catches up from the store.
    wait_for_lag_zero(&server.url, &token, &["test-slow"]);
}
