//! The UI/API server's bounds (#26 item 6): a client that never finishes its
//! headers is closed within 30 s (slowloris), and one address cannot hold more
//! than its share of connections.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::util::Server;

fn addr(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

#[test]
fn a_slow_header_connection_is_closed_within_30_s() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, None);
    let mut slow = TcpStream::connect(addr(&server)).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(40)))
        .unwrap();
    slow.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    // The server answers (408) or just closes; either way the read ends.
    loop {
        match slow.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => continue,
        }
    }
    let held = started.elapsed();
    assert!(held < Duration::from_secs(30), "held open {held:?}");
    // The server still serves.
    let mut ok = TcpStream::connect(addr(&server)).unwrap();
    ok.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    ok.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn one_address_cannot_hold_every_connection() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, None);
    // 64 connections from 127.0.0.1 are allowed; the 65th is closed at once.
    let mut held = Vec::new();
    for _ in 0..64 {
        held.push(TcpStream::connect(addr(&server)).unwrap());
    }
    // Let the server count them before the next one.
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = TcpStream::connect(addr(&server)).unwrap();
    extra
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = extra.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let mut buf = [0u8; 64];
    let n = extra.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the 65th connection was served");
    // Another loopback address is not affected.
    let other = reqwest::blocking::Client::builder()
        .local_address("127.0.0.3".parse::<std::net::IpAddr>().ok())
        .build()
        .unwrap();
    let status = other
        .get(format!("{}/api/v1/health", server.url))
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 200);
    drop(held);
}
