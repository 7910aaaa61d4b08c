//! The observer on hand-built frames: discovery, services, DHCP names, OS
//! and MAC changes, gone hosts, bounds.

use std::net::IpAddr;

use nectar_packet::{LinkType, decode};

use super::*;
use crate::config::InventorySection;

const SERVER_MAC: [u8; 6] = [0x00, 0x16, 0x3e, 0, 0, 2];
const CLIENT_MAC: [u8; 6] = [0x00, 0x16, 0x3e, 0, 0, 1];

fn inventory(max_hosts: usize) -> Inventory {
    InventorySection {
        networks: vec!["192.0.2.0/24".into()],
        gone_after: "10m".into(),
        max_hosts,
        ..InventorySection::default()
    }
    .build()
    .unwrap()
}

fn ip4(a: &str) -> [u8; 4] {
    a.parse::<std::net::Ipv4Addr>().unwrap().octets()
}

/// Ethernet + IPv4 + TCP or UDP with `payload`.
#[allow(clippy::too_many_arguments)]
fn frame(
    src_mac: [u8; 6],
    src: &str,
    dst: &str,
    proto: u8,
    sport: u16,
    dport: u16,
    flags: u8,
    ttl: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&[0x08, 0x00]);
    let l4 = if proto == TCP { 20 } else { 8 };
    let total = (20 + l4 + payload.len()) as u16;
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        ttl,
        proto,
        0,
        0,
    ]);
    f.extend_from_slice(&ip4(src));
    f.extend_from_slice(&ip4(dst));
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    if proto == TCP {
        let seq: [u8; 4] = if flags & 0x04 != 0 {
            [0; 4]
        } else {
            [0, 0, 0, 9]
        };
        f.extend_from_slice(&seq);
        f.extend_from_slice(&[0, 0, 0, 1, 0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    } else {
        f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
    }
    f.extend_from_slice(payload);
    f
}

fn feed(o: &mut Observer, ts_s: u64, f: &[u8]) -> Vec<Event> {
    let mut out = Vec::new();
    let v = decode(LinkType::Ethernet, f, ts_s * 1_000_000_000, f.len() as u32);
    o.observe(&v, &mut out);
    out
}

fn kinds(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

const SYN: u8 = 0x02;
const SYN_ACK: u8 = 0x12;
const RST_ACK: u8 = 0x14;
const ACK: u8 = 0x10;

#[test]
fn a_handshake_discovers_both_hosts_and_the_service() {
    let mut o = Observer::new(&inventory(16), "s1");
    let c = "192.0.2.1";
    let s = "192.0.2.2";
    let e = feed(
        &mut o,
        100,
        &frame(CLIENT_MAC, c, s, TCP, 40000, 22, SYN, 64, b""),
    );
    assert_eq!(kinds(&e), ["host.discovered", "host.changed"]);
    assert_eq!(e[0].data["mac"], "00:16:3e:00:00:01");
    assert_eq!(e[0].data["vendor"], "Xensource, Inc.");
    assert_eq!(e[1].data["field"], "os");
    assert_eq!(e[1].data["new"], "Linux");
    let e = feed(
        &mut o,
        100,
        &frame(SERVER_MAC, s, c, TCP, 22, 40000, SYN_ACK, 64, b""),
    );
    assert_eq!(
        kinds(&e),
        ["host.discovered", "host.changed", "service.opened"]
    );
    assert_eq!(e[2].data["port"], 22);
    assert_eq!(e[2].src_port, Some(22));
    // Nothing new: nothing emitted.
    assert!(
        feed(
            &mut o,
            101,
            &frame(SERVER_MAC, s, c, TCP, 22, 40000, ACK, 64, b"x")
        )
        .is_empty()
    );
    assert!(
        feed(
            &mut o,
            101,
            &frame(SERVER_MAC, s, c, TCP, 22, 40001, SYN_ACK, 64, b"")
        )
        .is_empty()
    );
    // A reset answering a SYN: the service closed; again open later.
    let e = feed(
        &mut o,
        102,
        &frame(SERVER_MAC, s, c, TCP, 22, 40002, RST_ACK, 64, b""),
    );
    assert_eq!(kinds(&e), ["service.closed"]);
    let e = feed(
        &mut o,
        103,
        &frame(SERVER_MAC, s, c, TCP, 22, 40003, SYN_ACK, 64, b""),
    );
    assert_eq!(kinds(&e), ["service.opened"]);
    // A reset of a port never open says nothing.
    assert!(
        feed(
            &mut o,
            103,
            &frame(SERVER_MAC, s, c, TCP, 23, 40003, RST_ACK, 64, b"")
        )
        .is_empty()
    );
    // Outside our networks: nothing.
    assert!(
        feed(
            &mut o,
            103,
            &frame(SERVER_MAC, "198.51.100.1", c, TCP, 80, 1, SYN_ACK, 64, b"")
        )
        .is_empty()
    );
    assert_eq!(o.stats().hosts, 2);
}

#[test]
fn udp_answers_are_services_and_requests_are_not() {
    let mut o = Observer::new(&inventory(16), "s1");
    let c = "192.0.2.1";
    let s = "192.0.2.53";
    let e = feed(
        &mut o,
        1,
        &frame(CLIENT_MAC, c, s, UDP, 50000, 53, 0, 64, b"q"),
    );
    assert_eq!(kinds(&e), ["host.discovered"]);
    let e = feed(
        &mut o,
        1,
        &frame(SERVER_MAC, s, c, UDP, 53, 50000, 0, 64, b"a"),
    );
    assert_eq!(kinds(&e), ["host.discovered", "service.opened"]);
    assert_eq!(e[1].data["proto"], "udp");
    // The client's next query from the same port is no answer.
    assert!(
        feed(
            &mut o,
            2,
            &frame(CLIENT_MAC, c, s, UDP, 50000, 53, 0, 64, b"q")
        )
        .is_empty()
    );
    // Unanswered traffic to a port is no service.
    assert!(
        feed(
            &mut o,
            2,
            &frame(SERVER_MAC, s, c, UDP, 5353, 7, 0, 64, b"q")
        )
        .is_empty()
    );
}

#[test]
fn dhcp_names_and_os_and_mac_changes_are_events() {
    let mut o = Observer::new(&inventory(16), "s1");
    let req = super::dhcp::tests_support::request(b"printer-2\x1b[31m");
    let e = feed(
        &mut o,
        5,
        &frame(
            [0, 0x16, 0x3e, 0, 0, 7],
            "0.0.0.0",
            "255.255.255.255",
            UDP,
            68,
            67,
            0,
            64,
            &req,
        ),
    );
    assert_eq!(kinds(&e), ["host.discovered", "host.changed"]);
    assert_eq!(e[0].data["address"], "192.0.2.7");
    assert_eq!(e[1].data["field"], "name");
    assert_eq!(e[1].data["new"], "printer-2?[31m");
    // A Windows TTL on the same host, then another MAC.
    let e = feed(
        &mut o,
        6,
        &frame(
            [0, 0x16, 0x3e, 0, 0, 7],
            "192.0.2.7",
            "192.0.2.1",
            TCP,
            1,
            80,
            SYN,
            128,
            b"",
        ),
    );
    assert_eq!(kinds(&e), ["host.changed"]);
    assert_eq!(
        (e[0].data["field"].as_str(), e[0].data["new"].as_str()),
        (Some("os"), Some("Windows"))
    );
    let e = feed(
        &mut o,
        7,
        &frame(
            [0, 0x50, 0x56, 0, 0, 7],
            "192.0.2.7",
            "192.0.2.1",
            UDP,
            1,
            9,
            0,
            128,
            b"",
        ),
    );
    assert_eq!(kinds(&e), ["host.changed"]);
    assert_eq!(e[0].data["old"], "00:16:3e:00:00:07");
    assert_eq!(e[0].data["vendor"], "VMware, Inc.");
}

#[test]
fn silent_hosts_go_and_seen_reports_carry_last_seen() {
    let mut o = Observer::new(&inventory(16), "s1");
    feed(
        &mut o,
        1000,
        &frame(
            SERVER_MAC,
            "192.0.2.2",
            "192.0.2.1",
            TCP,
            22,
            4,
            SYN_ACK,
            64,
            b"",
        ),
    );
    feed(
        &mut o,
        1030,
        &frame(CLIENT_MAC, "192.0.2.1", "192.0.2.9", UDP, 4, 9, 0, 64, b""),
    );
    feed(
        &mut o,
        1031,
        &frame(CLIENT_MAC, "192.0.2.1", "192.0.2.9", UDP, 4, 9, 0, 64, b""),
    );
    // Reported at most once a minute.
    assert!(
        feed(
            &mut o,
            1070,
            &frame(CLIENT_MAC, "192.0.2.1", "192.0.2.9", UDP, 4, 9, 0, 64, b"")
        )
        .is_empty()
    );
    let e = feed(
        &mut o,
        1091,
        &frame(CLIENT_MAC, "192.0.2.1", "192.0.2.9", UDP, 4, 9, 0, 64, b""),
    );
    assert_eq!(kinds(&e), ["host.seen"]);
    // 192.0.2.2 was not seen again since its discovery.
    let hosts = e[0].data["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0]["address"], "192.0.2.1");
    // Ten minutes after its last packet, 192.0.2.2 is gone; once.
    let e = feed(
        &mut o,
        1601,
        &frame(CLIENT_MAC, "192.0.2.1", "192.0.2.9", UDP, 4, 9, 0, 64, b""),
    );
    assert_eq!(kinds(&e), ["host.gone", "host.seen"]);
    assert_eq!(e[0].data["address"], "192.0.2.2");
    assert!(
        !kinds(&feed(
            &mut o,
            1700,
            &frame(CLIENT_MAC, "192.0.2.1", "192.0.2.9", UDP, 4, 9, 0, 64, b"")
        ))
        .contains(&"host.gone")
    );
    // It comes back: discovered again, marked returned.
    let e = feed(
        &mut o,
        1800,
        &frame(SERVER_MAC, "192.0.2.2", "192.0.2.1", UDP, 4, 9, 0, 64, b""),
    );
    assert_eq!(e.last().map(|e| e.kind.as_str()), Some("host.discovered"));
    assert_eq!(e.last().unwrap().data["returned"], true);
    let mut out = Vec::new();
    o.flush(&mut out);
    assert_eq!(kinds(&out), ["host.seen"]);
}

#[test]
fn the_table_is_bounded_and_ids_are_deterministic() {
    let mut o = Observer::new(&inventory(4), "s1");
    for i in 1..=10 {
        feed(
            &mut o,
            1,
            &frame(
                CLIENT_MAC,
                &format!("192.0.2.{i}"),
                "192.0.2.200",
                UDP,
                4,
                9,
                0,
                64,
                b"",
            ),
        );
    }
    assert_eq!(o.stats().hosts, 4);
    assert_eq!(o.stats().table_full, 6);
    let f = frame(
        SERVER_MAC,
        "192.0.2.2",
        "192.0.2.1",
        TCP,
        22,
        4,
        SYN_ACK,
        64,
        b"",
    );
    let a = feed(&mut Observer::new(&inventory(4), "s1"), 9, &f);
    let b = feed(&mut Observer::new(&inventory(4), "s1"), 9, &f);
    assert_eq!(
        a.iter().map(|e| e.id).collect::<Vec<_>>(),
        b.iter().map(|e| e.id).collect::<Vec<_>>()
    );
    assert_eq!(a[0].id.get_version_num(), 7);
}

#[test]
fn garbage_frames_never_panic() {
    let mut o = Observer::new(&inventory(16), "s1");
    let good = frame(
        SERVER_MAC,
        "192.0.2.2",
        "192.0.2.1",
        UDP,
        67,
        68,
        0,
        64,
        &[0u8; 300],
    );
    for cut in 0..good.len() {
        feed(&mut o, 1, &good[..cut]);
    }
    let mut rng = 0x1234_5678u64;
    for _ in 0..2000 {
        let mut f = good.clone();
        for b in f.iter_mut().skip(14) {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if rng >> 60 == 0 {
                *b = (rng >> 32) as u8;
            }
        }
        feed(&mut o, 1, &f);
    }
}

#[test]
fn dns_answers_name_hosts_seen_and_never_replace_a_dhcp_name() {
    let mut o = Observer::new(&inventory(16), "s1");
    let cam = "192.0.2.50";
    // Not seen sending yet: the answer names nobody.
    let answer = super::dns::tests::response();
    assert!(
        feed(
            &mut o,
            1,
            &frame(
                SERVER_MAC,
                "198.51.100.53",
                "192.0.2.1",
                UDP,
                53,
                4000,
                0,
                64,
                &answer
            )
        )
        .iter()
        .all(|e| e.kind != Kind::HostChanged)
    );
    feed(
        &mut o,
        2,
        &frame(CLIENT_MAC, cam, "192.0.2.1", UDP, 4, 9, 0, 64, b""),
    );
    let e = feed(
        &mut o,
        3,
        &frame(
            SERVER_MAC,
            "198.51.100.53",
            "192.0.2.1",
            UDP,
            53,
            4000,
            0,
            64,
            &answer,
        ),
    );
    assert_eq!(kinds(&e), ["host.changed"]);
    assert_eq!(
        (e[0].data["new"].as_str(), e[0].data["how"].as_str()),
        (Some("cam.example.org"), Some("dns"))
    );
    // Again: no change.
    assert!(
        feed(
            &mut o,
            4,
            &frame(
                SERVER_MAC,
                "198.51.100.53",
                "192.0.2.1",
                UDP,
                53,
                4000,
                0,
                64,
                &answer
            )
        )
        .is_empty()
    );
}

#[test]
fn sequential_addresses_spread_over_the_table() {
    let inv = InventorySection {
        networks: vec!["10.0.0.0/8".into(), "2001:db8::/32".into()],
        max_hosts: 16_384,
        ..InventorySection::default()
    }
    .build()
    .unwrap();
    let mut o = Observer::new(&inv, "s1");
    let mut out = Vec::new();
    for i in 0..16_384u32 {
        let ip = if i % 2 == 0 {
            IpAddr::from((0x0a00_0000 + i).to_be_bytes())
        } else {
            IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16])
        };
        o.touch(ip, None, 1, &mut out);
        out.clear();
    }
    let d = o.probe_distances();
    assert_eq!(d.len(), 16_384);
    let mean = d.iter().sum::<usize>() as f64 / d.len() as f64;
    // Linear probing at load 0.5 averages 0.5 slots; clustering would be thousands.
    assert!(
        mean < 2.0 && d.iter().max() < Some(&64),
        "mean {mean}, max {:?}",
        d.iter().max()
    );
}
