//! Every bound an attacker can push: a slow head (slowloris), huge request lines
//! and headers, too many headers, a huge body, a per-address request rate, too
//! many connections from one address, keep-alive request count, and garbage. Each
//! hit is answered like Apache and recorded; nothing crashes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use nectar_event::Kind;
use nectar_honeypot::http::HttpHoneypotConfig;

use super::{of, raw, start};

fn status_of(answer: &[u8]) -> String {
    String::from_utf8_lossy(answer)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_head_gets_408_and_a_limit_event() {
    let pot = start(HttpHoneypotConfig {
        header_timeout_seconds: 1,
        ..Default::default()
    })
    .await;
    let addr = pot.addr;
    let (answer, took) = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let started = Instant::now();
        // A slowloris client: a byte at a time, never finishing the head.
        let mut answer = Vec::new();
        for b in b"GET / HTTP/1.1\r\nHost: a\r\nX-a: b\r\n".iter() {
            if s.write_all(&[*b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = s.read_to_end(&mut answer);
        (answer, started.elapsed())
    })
    .await
    .unwrap();
    assert!(
        status_of(&answer).starts_with("HTTP/1.1 408 Request Timeout"),
        "{answer:?}"
    );
    assert!(took < Duration::from_secs(6), "{took:?}");
    let events = pot.finish().await;
    assert!(
        of(&events, Kind::SensorStatus).iter().any(|e| e
            .data
            .get("limit")
            .is_some_and(|v| v == "header_timeout_seconds")),
        "{events:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_malformed_requests_are_answered_and_recorded() {
    let pot = start(HttpHoneypotConfig {
        max_body_bytes: 1000,
        ..Default::default()
    })
    .await;
    let addr = pot.addr;
    let answers = tokio::task::spawn_blocking(move || {
        let t = Duration::from_secs(5);
        let mut long_line = b"GET /".to_vec();
        long_line.extend(std::iter::repeat_n(b'a', 20_000));
        long_line.extend_from_slice(b" HTTP/1.1\r\n\r\n");
        let mut long_header = b"GET / HTTP/1.1\r\nHost: a\r\nCookie: ".to_vec();
        long_header.extend(std::iter::repeat_n(b'c', 9000));
        long_header.extend_from_slice(b"\r\n\r\n");
        let many: String = (0..150).map(|i| format!("X-{i}: a\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\nHost: a\r\n{many}\r\n");
        let mut body = b"POST /xmlrpc.php HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n".to_vec();
        body.extend(std::iter::repeat_n(b'x', 5000));
        let garbage: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let chunked_big = format!(
            "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            2000,
            "y".repeat(2000)
        );
        vec![
            raw(addr, &long_line, t),
            raw(addr, &long_header, t),
            raw(addr, many.as_bytes(), t),
            raw(addr, &body, t),
            raw(addr, &garbage, t),
            raw(addr, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", t),
            raw(addr, chunked_big.as_bytes(), t),
            raw(addr, b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", t),
        ]
    })
    .await
    .unwrap();
    let statuses: Vec<String> = answers.iter().map(|a| status_of(a)).collect();
    assert!(statuses[0].starts_with("HTTP/1.1 414"), "{statuses:?}");
    assert!(statuses[1].starts_with("HTTP/1.1 400"), "{statuses:?}");
    assert!(
        String::from_utf8_lossy(&answers[1])
            .contains("Size of a request header field exceeds server limit.")
    );
    assert!(statuses[2].starts_with("HTTP/1.1 400"), "{statuses:?}");
    assert!(
        String::from_utf8_lossy(&answers[2]).contains("number of request header fields exceeds")
    );
    assert!(statuses[3].starts_with("HTTP/1.1 413"), "{statuses:?}");
    assert!(statuses[4].starts_with("HTTP/1.1 400"), "{statuses:?}");
    assert!(statuses[5].starts_with("HTTP/1.1 400"), "{statuses:?}");
    assert!(statuses[6].starts_with("HTTP/1.1 413"), "{statuses:?}");
    assert!(statuses[7].starts_with("HTTP/1.1 400"), "{statuses:?}");
    let events = pot.finish().await;
    let requests = of(&events, Kind::HttpRequest);
    let limits: Vec<&str> = requests
        .iter()
        .filter_map(|e| e.data.get("limit").and_then(|v| v.as_str()))
        .collect();
    for key in [
        "max_request_line_bytes",
        "max_header_bytes",
        "max_headers",
        "max_body_bytes",
    ] {
        assert!(limits.contains(&key), "{key} not in {limits:?}");
    }
    assert_eq!(requests.len(), 8, "{requests:#?}");
    // Every event's data fits the store's bound.
    for e in &events {
        assert!(serde_json::to_vec(&e.data).unwrap().len() < 256 * 1024);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalive_requests_per_ip_rate_and_connections_are_bounded() {
    let pot = start(HttpHoneypotConfig {
        max_keepalive_requests: 3,
        max_requests_per_ip_per_second: 5,
        max_connections_per_ip: 2,
        ..Default::default()
    })
    .await;
    let addr = pot.addr;
    let (keepalive, refused_conn, rate_closed) = tokio::task::spawn_blocking(move || {
        // Keep-alive: the third answer says close, then the server closes.
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let req = b"GET /robots.txt HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n";
        let mut all = Vec::new();
        for _ in 0..3 {
            s.write_all(req).unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = s.read_to_end(&mut all);
        let text = String::from_utf8_lossy(&all).into_owned();
        // Connections per address: a third is closed at once.
        let held: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
        std::thread::sleep(Duration::from_millis(200));
        let mut third = TcpStream::connect(addr).unwrap();
        third
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let _ = third.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        let mut buf = [0u8; 64];
        let refused = matches!(third.read(&mut buf), Ok(0) | Err(_));
        drop(held);
        std::thread::sleep(Duration::from_millis(200));
        // Rate: the bucket (burst 10) is nearly spent; more requests are closed unanswered.
        let mut closed = 0;
        for _ in 0..20 {
            let answer = raw(
                addr,
                b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                Duration::from_secs(5),
            );
            if answer.is_empty() {
                closed += 1;
            }
        }
        (text, refused, closed)
    })
    .await
    .unwrap();
    assert_eq!(
        keepalive.matches("HTTP/1.1 200 OK").count(),
        3,
        "{keepalive}"
    );
    assert!(
        keepalive.contains("Keep-Alive: timeout=5, max=3\r\n"),
        "{keepalive}"
    );
    assert!(
        keepalive.contains("Keep-Alive: timeout=5, max=2\r\n"),
        "{keepalive}"
    );
    assert!(keepalive.contains("Connection: close\r\n"), "{keepalive}");
    assert!(refused_conn, "third connection from one address was served");
    assert!(
        rate_closed >= 5,
        "only {rate_closed} of 20 over-rate requests refused"
    );
    let events = pot.finish().await;
    let status: Vec<_> = of(&events, Kind::SensorStatus)
        .iter()
        .map(|e| {
            e.data
                .get("limit")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert!(
        status
            .iter()
            .any(|l| l == "max_requests_per_ip_per_second" || l == "max_connections_per_ip"),
        "{status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let request = b"GET /?via=proxy HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.9\r\nConnection: close\r\n\r\n";
    let mut sources = Vec::new();
    for trusted in [vec![], vec!["127.0.0.1".parse().unwrap()]] {
        let pot = start(HttpHoneypotConfig {
            trusted_proxies: trusted,
            ..Default::default()
        })
        .await;
        let addr = pot.addr;
        tokio::task::spawn_blocking(move || raw(addr, request, Duration::from_secs(5)))
            .await
            .unwrap();
        let events = pot.finish().await;
        let e = of(&events, Kind::HttpRequest)[0].clone();
        sources.push((e.src_ip.unwrap().to_string(), e.data.get("proxy").cloned()));
    }
    // Untrusted: the peer. Trusted: the address the proxy saw (the last one).
    assert_eq!(sources[0].0, "127.0.0.1");
    assert_eq!(sources[0].1, None);
    assert_eq!(sources[1].0, "203.0.113.9");
    assert_eq!(sources[1].1, Some(serde_json::json!("127.0.0.1")));
}
