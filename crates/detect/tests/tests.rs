//! Integration tests of nectar-detect: generated captures through the real
//! file reader, decoder and windower, checked against independent exact
//! computations.

use std::collections::{BTreeMap, HashSet};
use std::io::Cursor;
use std::net::IpAddr;
use std::ops::ControlFlow;
use std::time::Duration;

use nectar_detect::{
    Class, ContributorKey, Counter, Dim, Driver, Ended, Stat, WindowConfig, WindowReport, Windower,
};
use nectar_packet::synth::{Framing, Layer4, Mix, MixConfig, PcapWriter, build};
use nectar_packet::{
    DecodeErrors, FileError, FileReader, LinkType, PacketSource, SourceError, TcpFlags,
};

const T0: u64 = 1_700_000_000_000_000_000;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn mix_pcap(cfg: MixConfig) -> Vec<u8> {
    let mut mix = Mix::new(cfg);
    let mut w = PcapWriter::new(Vec::new(), mix.link_type(), 65535, true, false).unwrap();
    while let Some((ts, f)) = mix.next_packet() {
        w.write_packet(ts, f, f.len() as u32).unwrap();
    }
    w.finish().unwrap()
}

fn windows(bytes: Vec<u8>, width: Duration) -> (Vec<WindowReport>, DecodeErrors) {
    let mut r = PacketSource::File(FileReader::from_reader(Cursor::new(bytes), "t").unwrap());
    let mut d = Driver::new(
        Windower::new(&WindowConfig {
            width,
            ..WindowConfig::default()
        })
        .unwrap(),
    );
    let mut out = Vec::new();
    let mut emit = |r: &WindowReport| out.push(r.clone());
    let ended = d
        .run(&mut r, &mut emit, &mut |_| ControlFlow::Continue(()))
        .unwrap();
    assert_eq!(ended, Ended::EndOfInput);
    d.finish(&mut emit);
    (out, d.errors().clone())
}

#[derive(Default)]
struct Exact {
    pkts: u64,
    ip: u64,
    syn: u64,
    ack: u64,
    udp: u64,
    icmp: u64,
    arp: u64,
    ip_bytes: u64,
    srcs: HashSet<IpAddr>,
    dsts: HashSet<IpAddr>,
    dports: HashSet<u16>,
}

/// Counters computed the slow, obvious way: decode every packet and bucket
/// it by timestamp.
fn exact(bytes: &[u8], width_ns: u64) -> BTreeMap<u64, Exact> {
    let mut r = FileReader::from_reader(Cursor::new(bytes.to_vec()), "t").unwrap();
    let mut m: BTreeMap<u64, Exact> = BTreeMap::new();
    while let Some(p) = r.next_packet().unwrap() {
        let v = p.decode().meta;
        let e = m.entry(v.ts_ns - v.ts_ns % width_ns).or_default();
        e.pkts += 1;
        if v.is_ip() {
            e.ip += 1;
            e.ip_bytes += u64::from(v.ip_len);
            e.srcs.insert(v.src.unwrap());
            e.dsts.insert(v.dst.unwrap());
            match v.transport {
                nectar_packet::Transport::Tcp => {
                    e.syn += u64::from(v.tcp_flags.syn());
                    e.ack += u64::from(v.tcp_flags.ack());
                    e.dports.insert(v.dst_port);
                }
                nectar_packet::Transport::Udp => {
                    e.udp += 1;
                    e.dports.insert(v.dst_port);
                }
                nectar_packet::Transport::Icmpv4 | nectar_packet::Transport::Icmpv6 => e.icmp += 1,
                _ => {}
            }
        } else if v.network == nectar_packet::Network::Arp {
            e.arp += 1;
        }
    }
    m
}

#[test]
fn counters_match_an_exact_oracle() {
    let bytes = mix_pcap(MixConfig {
        packets: 60_000,
        rate_pps: 20_000,
        sources: 400,
        destinations: 300,
        ipv6_percent: 20,
        framing: Framing::Vlan(1),
        ..MixConfig::default()
    });
    let width = Duration::from_millis(250);
    let (ws, errors) = windows(bytes.clone(), width);
    assert_eq!(errors.total(), 0);
    let oracle = exact(&bytes, width.as_nanos() as u64);
    let total: u64 = ws.iter().map(|w| w.counts[Counter::Pkts]).sum();
    assert_eq!(total, 60_000);
    assert_eq!(ws.len(), oracle.len());
    for w in &ws {
        let e = &oracle[&w.start_ns];
        let c = &w.counts;
        assert_eq!(c[Counter::Pkts], e.pkts);
        assert_eq!(c[Counter::Ip], e.ip);
        assert_eq!(c[Counter::IpBytes], e.ip_bytes);
        assert_eq!(c[Counter::Syn], e.syn);
        assert_eq!(c[Counter::Ack], e.ack);
        assert_eq!(c[Counter::Udp], e.udp);
        assert_eq!(c[Counter::Icmp], e.icmp);
        assert_eq!(c[Counter::Arp], e.arp);
        // Below the exact limit the distinct counts are exact.
        assert_eq!(c[Counter::NbUniqSrcAddr], e.srcs.len() as u64);
        assert_eq!(c[Counter::NbUniqDstAddr], e.dsts.len() as u64);
        assert_eq!(c[Counter::NbUniqDstPort], e.dports.len() as u64);
        assert!(c[Counter::Ipv6] > 0);
        assert_eq!(w.end_ns - w.start_ns, width.as_nanos() as u64);
        let r_syn = e.syn as f64 / e.ip as f64;
        assert!((w.stats[Stat::RSyn] - r_syn).abs() < 1e-12);
        assert!((w.stats[Stat::Traffic] - e.ip as f64 / 0.25).abs() < 1e-9);
    }
}

#[test]
fn large_distinct_counts_are_estimated_closely() {
    let bytes = mix_pcap(MixConfig {
        packets: 200_000,
        rate_pps: 10_000_000, // everything in one window
        sources: 1_000_000,
        destinations: 20_000,
        ..MixConfig::default()
    });
    let (ws, _) = windows(bytes.clone(), Duration::from_secs(60));
    assert_eq!(ws.len(), 1);
    let e = exact(&bytes, 60_000_000_000);
    let e = e.values().next().unwrap();
    for (got, want) in [
        (ws[0].counts[Counter::NbUniqSrcAddr], e.srcs.len()),
        (ws[0].counts[Counter::NbUniqDstAddr], e.dsts.len()),
    ] {
        let err = (got as f64 - want as f64).abs() / want as f64;
        assert!(err < 0.04, "estimate {got} vs exact {want}");
    }
}

#[test]
fn syn_flood_contributors_name_the_attacker() {
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535, false, false).unwrap();
    let mut buf = Vec::new();
    // Background: 2,000 packets from 50 clients to a web server.
    for i in 0..2000u32 {
        build(
            &mut buf,
            Framing::Ethernet,
            IpAddr::from([10, 0, 0, (i % 50) as u8]),
            ip("192.0.2.80"),
            Layer4::Tcp {
                sport: 30000 + (i % 1000) as u16,
                dport: 443,
                flags: TcpFlags::ACK,
            },
            100,
        );
        w.write_packet(T0 + u64::from(i) * 400_000, &buf, buf.len() as u32)
            .unwrap();
        // Flood: 5 SYNs per background packet from one source to many ports.
        for k in 0..5u32 {
            build(
                &mut buf,
                Framing::Ethernet,
                ip("203.0.113.66"),
                ip("192.0.2.80"),
                Layer4::Tcp {
                    sport: 4444,
                    dport: ((i * 5 + k) % 60000 + 1) as u16,
                    flags: TcpFlags::SYN,
                },
                0,
            );
            w.write_packet(
                T0 + u64::from(i) * 400_000 + u64::from(k),
                &buf,
                buf.len() as u32,
            )
            .unwrap();
        }
    }
    let (ws, _) = windows(w.finish().unwrap(), Duration::from_millis(200));
    assert_eq!(ws.len(), 4);
    for r in &ws {
        let top = r.top_for(Stat::RSyn, Dim::Src);
        assert_eq!(top[0].key, ContributorKey::Addr(ip("203.0.113.66")));
        assert!(top[0].share > 0.97, "share {}", top[0].share);
        let top_dst = r.top(Class::Ip, Dim::Dst);
        assert_eq!(top_dst[0].key, ContributorKey::Addr(ip("192.0.2.80")));
        assert!(r.stats[Stat::RSyn] > 0.8);
        assert!(r.stats[Stat::RDstSrcPort] > 1.0);
        // Background port 443 is still among the top destination ports.
        assert!(
            r.top(Class::Ip, Dim::DstPort)
                .iter()
                .any(|c| c.key == ContributorKey::Port(443))
        );
    }
}

#[test]
fn replays_give_identical_windows() {
    let bytes = mix_pcap(MixConfig {
        packets: 30_000,
        ..MixConfig::default()
    });
    let strip = |ws: Vec<WindowReport>| -> Vec<_> {
        ws.into_iter()
            .map(|mut w| {
                w.counts.0[Counter::RealTime as usize] = 0;
                let stats: Vec<u64> = w
                    .stats
                    .iter()
                    .filter(|(s, _)| *s != Stat::Perf)
                    .map(|(_, v)| v.to_bits())
                    .collect();
                (
                    w.start_ns,
                    w.counts,
                    stats,
                    w.top(Class::Ip, Dim::Src).to_vec(),
                )
            })
            .collect()
    };
    let a = strip(windows(bytes.clone(), Duration::from_millis(100)).0);
    let b = strip(windows(bytes, Duration::from_millis(100)).0);
    assert_eq!(a, b);
}

#[test]
fn truncated_file_keeps_the_windows_read() {
    let bytes = mix_pcap(MixConfig {
        packets: 5_000,
        rate_pps: 1_000,
        ..MixConfig::default()
    });
    let cut = bytes[..bytes.len() - 10].to_vec();
    let mut r = PacketSource::File(FileReader::from_reader(Cursor::new(cut), "cut.pcap").unwrap());
    let mut d = Driver::new(Windower::new(&WindowConfig::default()).unwrap());
    let mut n = 0u64;
    let mut emit = |r: &WindowReport| n += r.counts[Counter::Pkts];
    let err = d
        .run(&mut r, &mut emit, &mut |_| ControlFlow::Continue(()))
        .unwrap_err();
    assert!(
        matches!(
            err,
            SourceError::File(FileError::Truncated { packets: 4_999, .. })
        ),
        "{err}"
    );
    d.finish(&mut emit);
    assert_eq!(n, 4_999);
}

mod props {
    use super::*;
    use nectar_packet::{Network, PacketMeta, Transport};
    use proptest::prelude::*;

    fn meta() -> impl Strategy<Value = PacketMeta> {
        (
            0u64..5_000_000_000,
            any::<u32>(),
            any::<u8>(),
            any::<u16>(),
            0u8..6,
        )
            .prop_map(|(ts, a, flags, port, kind)| PacketMeta {
                ts_ns: ts,
                wire_len: 60,
                network: if kind == 5 {
                    Network::Arp
                } else {
                    Network::Ipv4
                },
                src: Some(IpAddr::from(a.to_be_bytes())),
                dst: Some(IpAddr::from((a ^ 0xffff).to_be_bytes())),
                transport: match kind {
                    0 | 1 => Transport::Tcp,
                    2 => Transport::Udp,
                    3 => Transport::Icmpv4,
                    _ => Transport::None,
                },
                tcp_flags: TcpFlags(flags),
                dst_port: port,
                src_port: port.rotate_left(3),
                ip_len: 40,
                ..PacketMeta::default()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Any packet sequence (timestamps in any order): every packet is
        /// counted exactly once, windows are contiguous and ratios are in range.
        #[test]
        fn windows_account_for_every_packet(mut pkts in proptest::collection::vec(meta(), 1..400), sorted in any::<bool>()) {
            if sorted {
                pkts.sort_by_key(|m| m.ts_ns);
            }
            let mut w = Windower::new(&WindowConfig { width: Duration::from_millis(100), ..WindowConfig::default() }).unwrap();
            let mut out = Vec::new();
            let mut emit = |r: &WindowReport| out.push(r.clone());
            for m in &pkts {
                w.push(m, &mut emit);
            }
            w.finish(&mut emit);
            let total: u64 = out.iter().map(|r| r.counts[Counter::Pkts]).sum();
            prop_assert_eq!(total, pkts.len() as u64);
            for pair in out.windows(2) {
                prop_assert!(pair[1].start_ns >= pair[0].end_ns);
                if sorted {
                    prop_assert_eq!(pair[1].start_ns, pair[0].end_ns);
                }
            }
            for r in &out {
                for s in [Stat::RSyn, Stat::RAck, Stat::RIp, Stat::RArp, Stat::RIcmp] {
                    let v = r.stats[s];
                    prop_assert!(v.is_nan() || (0.0..=1.0).contains(&v), "{:?}={}", s, v);
                }
                for c in r.top(Class::Ip, Dim::Src) {
                    prop_assert!(c.share > 0.0 && c.share <= 1.0);
                }
            }
        }
    }
}

#[test]
fn the_driver_reports_progress_and_stops_when_asked() {
    let bytes = mix_pcap(MixConfig {
        packets: 5_000,
        rate_pps: 1_000,
        ..MixConfig::default()
    });
    let size = bytes.len() as u64;
    let mut r = PacketSource::File(FileReader::from_reader(Cursor::new(bytes), "t").unwrap());
    let mut d = Driver::new(Windower::new(&WindowConfig::default()).unwrap()).progress_every(1_000);
    let mut reports = Vec::new();
    let ended = d
        .run(&mut r, &mut |_| {}, &mut |p| {
            reports.push(*p);
            if p.packets >= 2_000 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(ended, Ended::Stopped);
    assert_eq!(
        reports.iter().map(|p| p.packets).collect::<Vec<_>>(),
        [1_000, 2_000]
    );
    assert!(reports[0].bytes_read > 0 && reports[1].bytes_read < size);
    assert_eq!(d.packets(), 2_000);
    // A stopped run goes on where it stopped.
    let ended = d
        .run(&mut r, &mut |_| {}, &mut |_| ControlFlow::Continue(()))
        .unwrap();
    assert_eq!(ended, Ended::EndOfInput);
    assert_eq!(d.packets(), 5_000);
}
