//! Memory stays bounded under hostile requests (#26 items 1 and 2): the RSS of
//! `nectar serve` stays within 200 MB of idle during and after four hostile
//! requests at once. RSS is read from /proc/PID/status (Linux).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::util::{Server, client, token};

/// The server's resident memory now, in MB.
pub fn rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status");
    kb / 1024
}

/// Samples the RSS of `pid` until `done`; the highest value seen.
pub fn watch_rss(pid: u32, done: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while !done.load(Ordering::Relaxed) {
            peak = peak.max(rss_mb(pid));
            std::thread::sleep(Duration::from_millis(20));
        }
        peak.max(rss_mb(pid))
    })
}

/// `open` + 16 MB of `1,` + `close`, just under the 16 MiB body limit.
fn small_numbers(open: &str, close: &str) -> Vec<u8> {
    let n = (16_000_000 - open.len() - close.len()) / 2;
    let mut body = Vec::with_capacity(16_000_000);
    body.extend_from_slice(open.as_bytes());
    for _ in 0..n {
        body.extend_from_slice(b"1,");
    }
    body.push(b'1');
    body.extend_from_slice(close.as_bytes());
    body
}

#[test]
fn hostile_ingest_keeps_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let analyst = token(&data, "analyst-1", "analyst");
    let server = Server::start(&data, None);
    let pid = server.child.id();
    let c = client();
    // Warm up: one ordinary batch.
    let answer = c
        .post(format!("{}/api/v1/events", server.url))
        .bearer_auth(&analyst)
        .json(&serde_json::json!([{"kind": "http.request", "summary": "warm-up"}]))
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200);
    let idle = rss_mb(pid);

    // The probe's bodies, and one of valid events whose `data` is small numbers.
    let bodies = [
        small_numbers("[", "]"),
        small_numbers("{\"events\":[", "]}"),
        small_numbers(
            "[{\"kind\":\"http.request\",\"summary\":\"x\",\"data\":{\"a\":[",
            "]}}]",
        ),
        small_numbers("[", "]"),
    ];
    let done = Arc::new(AtomicBool::new(false));
    let watcher = watch_rss(pid, done.clone());
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let sends: Vec<_> = bodies
            .iter()
            .map(|body| {
                let (url, token) = (&server.url, &analyst);
                s.spawn(move || {
                    client()
                        .post(format!("{url}/api/v1/events"))
                        .bearer_auth(token)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        sends.into_iter().map(|h| h.join().unwrap()).collect()
    });
    done.store(true, Ordering::Relaxed);
    let during = watcher.join().unwrap();
    for status in &statuses {
        assert!([400, 413, 503].contains(status), "{statuses:?}");
    }
    assert!(statuses.iter().any(|s| *s != 503), "{statuses:?}");
    // After: memory is returned to the system (mimalloc purges freed pages).
    let after = rss_mb(pid);
    eprintln!("ingest RSS: idle {idle} MB, peak {during} MB, after {after} MB");
    assert!(during < idle + 200, "idle {idle} MB, peak {during} MB");
    assert!(after < idle + 200, "idle {idle} MB, after {after} MB");

    // Beyond server.max_concurrent_ingest (4) batches being read: 503 with
    // Retry-After. Four connections hold their slots by never finishing a body.
    let addr = server.url.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {analyst}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{{\"kind\":\"http.request\",\"summary\":\"slow\"}}"
        )
        .unwrap();
        held.push(s);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let busy = loop {
        let answer = c
            .post(format!("{}/api/v1/events", server.url))
            .bearer_auth(&analyst)
            .json(&serde_json::json!([{"kind": "http.request", "summary": "fifth"}]))
            .send()
            .unwrap();
        if answer.status() == 503 {
            break answer;
        }
        assert!(Instant::now() < deadline, "never 503: {}", answer.status());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(busy.headers().contains_key("retry-after"));
    assert!(busy.text().unwrap().contains("max_concurrent_ingest"));
    // Ending the held bodies frees the slots.
    for mut s in held {
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    }
    let answer = c
        .post(format!("{}/api/v1/events", server.url))
        .bearer_auth(&analyst)
        .json(&serde_json::json!([{"kind": "http.request", "summary": "after"}]))
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200);
}
