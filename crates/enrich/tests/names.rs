//! Reverse DNS against a real DNS server: dnsmasq on loopback, serving a
//! forward-confirmed name (A and PTR), a PTR whose name does not resolve
//! back (a claim anyone with the reverse zone can make), and an address with
//! no name; then a server that never answers (timeout) and a full set of
//! permits (busy). Needs dnsmasq (`dnsmasq-base`), installed by `.ci/run`:
//! fails under CI=true without it, skips otherwise.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use nectar_enrich::testing::Dnsmasq;
use nectar_enrich::{DnsSettings, Names};

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
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    let server = dns.addr;
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
    drop(dns);
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
