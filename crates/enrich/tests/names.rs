//! Reverse DNS against a real DNS server: dnsmasq on loopback, serving a
//! forward-confirmed name (A and PTR), a PTR whose name does not resolve
//! back (a claim anyone with the reverse zone can make), and an address with
//! no name; then a server that never answers (timeout) and a full set of
//! permits (busy). Needs dnsmasq (`dnsmasq-base`), installed by `.ci/run`:
//! fails under CI=true without it, skips otherwise.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nectar_enrich::{DnsSettings, Names};

struct Dnsmasq(Child);

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn dnsmasq() -> Option<(Dnsmasq, SocketAddr)> {
    let found = Command::new("dnsmasq")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "dnsmasq is missing (Debian package dnsmasq-base; .ci/run installs it)"
        );
        eprintln!("skipped: dnsmasq is not installed");
        return None;
    }
    // A free port (released just before dnsmasq binds it).
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("dnsmasq")
        .args([
            "--no-daemon",
            &format!("--port={port}"),
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            "--conf-file=/dev/null",
            "--user=root",
            "--pid-file",
            // Authoritative for the test range: unknown names are NXDOMAIN.
            "--local=/113.0.203.in-addr.arpa/",
            "--local=/example.net/",
            "--local=/example.org/",
            "--host-record=scanner.example.net,203.0.113.7",
            "--ptr-record=8.113.0.203.in-addr.arpa,spoofed.example.org",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dnsmasq");
    let server = SocketAddr::from(([127, 0, 0, 1], port));
    // Ready when it answers on TCP (it serves both).
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(server).is_err() {
        assert!(Instant::now() < deadline, "dnsmasq did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((Dnsmasq(child), server))
}

fn settings(server: SocketAddr, concurrency: usize) -> DnsSettings {
    DnsSettings {
        servers: vec![server],
        timeout: Duration::from_millis(800),
        concurrency,
        cache_entries: 100,
        negative_ttl: Duration::from_secs(60),
        verify: true,
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test]
async fn names_from_a_real_dns_server_forward_confirmed_or_not() {
    let Some((_dnsmasq, server)) = dnsmasq() else {
        return;
    };
    let names = Names::new(settings(server, 4)).unwrap();
    assert!(names.is_on());
    let a = names.reverse(ip("203.0.113.7")).await.unwrap();
    assert_eq!(a.name.as_deref(), Some("scanner.example.net"));
    assert!(a.verified, "{a:?}");
    let b = names.reverse(ip("203.0.113.8")).await.unwrap();
    assert_eq!(b.name.as_deref(), Some("spoofed.example.org"));
    assert!(!b.verified, "the name does not resolve back: {b:?}");
    let c = names.reverse(ip("203.0.113.9")).await.unwrap();
    assert_eq!((c.name, c.error), (None, None));
    // Cached (dnsmasq answers with TTL 0; names are kept five minutes at
    // least): the same answer without the server.
    drop(_dnsmasq);
    let again = names.reverse(ip("203.0.113.7")).await.unwrap();
    assert_eq!(again.name.as_deref(), Some("scanner.example.net"));
    let st = names.stats();
    assert_eq!((st.lookups, st.named, st.failed, st.busy), (4, 3, 0, 0));
    // Off: no answer at all.
    assert!(Names::off().reverse(ip("203.0.113.7")).await.is_none());
}

#[tokio::test]
async fn a_silent_server_times_out_and_permits_bound_the_lookups() {
    // A server that never answers: each lookup ends at the timeout.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let names = Names::new(settings(silent.local_addr().unwrap(), 1)).unwrap();
    let started = Instant::now();
    let (x, y) = tokio::join!(
        names.reverse(ip("203.0.113.20")),
        names.reverse(ip("203.0.113.21"))
    );
    let errors: Vec<String> = [x, y]
        .into_iter()
        .map(|r| r.unwrap().error.unwrap_or_default())
        .collect();
    // One permit: one lookup waits for the other, whose lookup takes the
    // whole timeout, and gives up as busy.
    assert!(errors.iter().any(|e| e == "busy"), "{errors:?}");
    assert!(errors.iter().all(|e| !e.is_empty()), "{errors:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "bounded");
    let st = names.stats();
    assert_eq!((st.lookups, st.busy, st.failed), (2, 1, 1));
}
