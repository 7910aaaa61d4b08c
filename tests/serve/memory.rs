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
    // Right after: still bounded (what was freed is given back within 5 s).
    let after = rss_mb(pid);
    eprintln!("ingest RSS: idle {idle} MB, peak {during} MB, after {after} MB");
    assert!(during < idle + 200, "idle {idle} MB, peak {during} MB");
    assert!(after < idle + 200, "idle {idle} MB, after {after} MB");
    // `serve` gives freed memory back every 5 s (mi_collect): it settles.
    std::thread::sleep(Duration::from_secs(6));
    let settled = rss_mb(pid);
    eprintln!("ingest RSS settled at {settled} MB");
    assert!(
        settled <= after && settled < idle + 50,
        "idle {idle} MB, after {after} MB, 6 s later {settled} MB"
    );

    // Beyond server.max_concurrent_ingest (4) batches being read: 503 with
    // Retry-After. Four connections hold their slots by never finishing a body.
    let addr = server.url.trim_start_matches("http://").to_owned();
    let hold = || {
        let mut s = TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {analyst}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{{\"kind\":\"http.request\",\"summary\":\"slow\"}}"
        )
        .unwrap();
        s
    };
    let mut held: Vec<TcpStream> = (0..4).map(|_| hold()).collect();
    // A held request that met a slot still taken (the previous step's last
    // batch finishing) was answered 503 at once: send it again, until the
    // four hold their slots (bounded).
    for _ in 0..20 {
        let mut answered = 0;
        for s in held.iter_mut() {
            use std::io::Read;
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut buf = [0u8; 64];
            if matches!(s.read(&mut buf), Ok(n) if n > 0) {
                *s = hold();
                answered += 1;
            }
        }
        if answered == 0 {
            break;
        }
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

#[test]
fn exports_stream_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // A byte limit below the export's size, to see it stop and say so.
    let config = dir.path().join("nectar.toml");
    std::fs::write(&config, "[server]\nmax_export_bytes = 100000000\n").unwrap();
    let analyst = token(&data, "analyst-1", "analyst");
    let server = Server::start(&data, Some(&config));
    let pid = server.child.id();
    let c = client();
    let start_rss = rss_mb(pid);

    // 3,000 events of ~60 KB, the size honeypot traffic could make before #26.
    let blob = "x".repeat(60_000);
    for batch in 0..15 {
        let events: Vec<_> = (0..200)
            .map(|i| {
                serde_json::json!({"kind": "http.request", "summary": format!("big {batch}/{i}"),
                    "data": {"blob": blob}})
            })
            .collect();
        let answer = c
            .post(format!("{}/api/v1/events", server.url))
            .bearer_auth(&analyst)
            .json(&events)
            .send()
            .unwrap();
        assert_eq!(answer.status(), 200);
    }

    // A honeypot event cannot be that large: an HTTP request with ~50 KB of
    // headers is recorded with its data cut to 16 KiB.
    let http = server
        .printed_after("HTTP honeypot listening on ")
        .expect("the HTTP honeypot's address");
    let mut request = String::from("GET /big HTTP/1.1\r\nHost: x\r\n");
    for h in 0..7 {
        request.push_str(&format!("X-Big-{h}: {}\r\n", "h".repeat(7_000)));
    }
    request.push_str("Connection: close\r\n\r\n");
    let mut s = TcpStream::connect(&http).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let _ = s.read_to_end(&mut Vec::new());
    let deadline = Instant::now() + Duration::from_secs(30);
    let honeypot_event = loop {
        let list: serde_json::Value = c
            .get(format!(
                "{}/api/v1/events?kind=http.request&sensor=nectar",
                server.url
            ))
            .bearer_auth(&analyst)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if let Some(e) = list["events"].as_array().and_then(|l| l.first()) {
            break e.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the honeypot's event did not arrive"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(honeypot_event["data"]["clipped"], true, "{honeypot_event}");
    assert!(honeypot_event["data"].to_string().len() <= 16 * 1024);

    let cookie = crate::util::web_login(&server, &data);
    let idle = rss_mb(pid);
    let done = Arc::new(AtomicBool::new(false));
    let watcher = watch_rss(pid, done.clone());
    let open = |path: &str| {
        client()
            .get(format!("{}{path}", server.url))
            .header("cookie", &cookie)
            .send()
            .unwrap()
    };
    // Four exports hold every slot while their bodies are not read ...
    let exports: Vec<_> = ["csv", "json", "csv", "json"]
        .iter()
        .map(|f| (*f, open(&format!("/events/export.{f}?kind=http.request"))))
        .collect();
    for (_, e) in &exports {
        assert_eq!(e.status(), 200);
        assert_eq!(
            e.headers()["nectar-export-limit"],
            "rows=50000, bytes=100000000"
        );
    }
    // ... so a fifth is refused.
    let fifth = open("/events/export.csv");
    assert_eq!(fifth.status(), 503);
    assert!(fifth.headers().contains_key("retry-after"));
    // All four, and an API page of 1,000, read at once.
    std::thread::scope(|s| {
        let page = s.spawn(|| {
            let page: serde_json::Value = client()
                .get(format!("{}/api/v1/events?limit=1000", server.url))
                .bearer_auth(&analyst)
                .send()
                .unwrap()
                .json()
                .unwrap();
            assert_eq!(page["events"].as_array().unwrap().len(), 1000);
            assert!(page["next_cursor"].is_string());
        });
        for (format, export) in exports {
            s.spawn(move || {
                let body = export.bytes().unwrap();
                assert!(body.len() <= 100_000_000 + 200, "{}", body.len());
                if format == "csv" {
                    let text = String::from_utf8_lossy(&body);
                    let last = text
                        .trim_end()
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .to_owned();
                    assert!(
                        last.starts_with("# Export stopped at its limit of 100000000 bytes"),
                        "{last}"
                    );
                } else {
                    let events: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
                    assert!((1_000..3_000).contains(&events.len()), "{}", events.len());
                }
            });
        }
        page.join().unwrap();
    });
    done.store(true, Ordering::Relaxed);
    let during = watcher.join().unwrap();
    let after = rss_mb(pid);
    eprintln!(
        "export RSS: at start {start_rss} MB, idle before the exports {idle} MB, peak {during} MB, after {after} MB"
    );
    assert!(during < idle + 200, "idle {idle} MB, peak {during} MB");
    assert!(after < idle + 200, "idle {idle} MB, after {after} MB");
    // The slots are free again.
    assert_eq!(open("/events/export.csv?limit=1").status(), 200);
}
