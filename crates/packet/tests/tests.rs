//! Integration tests of nectar-packet: one binary, a module per area.

use std::io::{Cursor, Read};
use std::net::IpAddr;

use nectar_packet::synth::{Framing, Layer4, PcapNgWriter, PcapWriter, build};
use nectar_packet::{
    DecodeErrors, FileError, FileReader, Format, LinkType, Network, TcpFlags, Transport,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A reader that hands out at most `chunk` bytes per read, like a pipe.
struct Trickle<R> {
    inner: R,
    chunk: usize,
}

impl<R: Read> Read for Trickle<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.chunk);
        self.inner.read(&mut buf[..n])
    }
}

/// A packet copied out of a reader: timestamp, link type, bytes, wire length.
type Owned = (u64, LinkType, Vec<u8>, u32);

fn read_all(bytes: Vec<u8>) -> Result<Vec<Owned>, FileError> {
    let mut r = FileReader::from_reader(Cursor::new(bytes), "test")?;
    let mut out = Vec::new();
    while let Some(p) = r.next_packet()? {
        out.push((p.ts_ns, p.link, p.data.to_vec(), p.wire_len));
    }
    Ok(out)
}

/// A pcap with `n` TCP packets of varying sizes and addresses.
fn pcap_bytes(n: u32, nanos: bool, big_endian: bool, framing: Framing) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), framing.link_type(), 65535, nanos, big_endian).unwrap();
    let mut buf = Vec::new();
    for i in 0..n {
        let src = IpAddr::from([10, 0, (i >> 8) as u8, i as u8]);
        build(
            &mut buf,
            framing,
            src,
            ip("192.0.2.1"),
            Layer4::Tcp {
                sport: 1000 + i as u16,
                dport: 80,
                flags: TcpFlags::SYN,
            },
            (i % 50) as usize,
        );
        w.write_packet(
            1_000_000_000 * 1_700_000_000 + u64::from(i) * 1_234_567,
            &buf,
            buf.len() as u32,
        )
        .unwrap();
    }
    w.finish().unwrap()
}

mod files {
    use super::*;

    #[test]
    fn pcap_micro_and_nano_both_endiannesses() {
        for nanos in [false, true] {
            for be in [false, true] {
                let bytes = pcap_bytes(300, nanos, be, Framing::Ethernet);
                let r = FileReader::from_reader(Cursor::new(bytes.clone()), "t").unwrap();
                assert_eq!(
                    r.format(),
                    if nanos { Format::PcapNs } else { Format::Pcap }
                );
                assert_eq!(r.link_type(), Some(LinkType::Ethernet));
                let pkts = read_all(bytes).unwrap();
                assert_eq!(pkts.len(), 300);
                for (i, (ts, link, data, wire)) in pkts.iter().enumerate() {
                    let want = 1_000_000_000 * 1_700_000_000 + i as u64 * 1_234_567;
                    // Microsecond files lose the sub-microsecond digits.
                    let want = if nanos { want } else { want - want % 1000 };
                    assert_eq!(*ts, want, "nanos={nanos} be={be}");
                    assert_eq!(*link, LinkType::Ethernet);
                    assert_eq!(data.len() as u32, *wire);
                    let m = nectar_packet::decode(*link, data, *ts, *wire).meta;
                    assert_eq!(m.src_port, 1000 + i as u16);
                }
            }
        }
    }

    #[test]
    fn pcapng_interfaces_resolutions_epb_spb() {
        let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
        let eth = w.add_interface(LinkType::Ethernet, 65535, 6).unwrap();
        let sll2 = w.add_interface(LinkType::LinuxSll2, 65535, 9).unwrap();
        let raw = w.add_interface(LinkType::RawIp, 65535, 3).unwrap();
        let mut buf = Vec::new();
        let base = 1_700_000_000_123_456_789u64;
        let l4 = Layer4::Udp {
            sport: 53,
            dport: 5353,
        };
        build(
            &mut buf,
            Framing::Ethernet,
            ip("10.0.0.1"),
            ip("10.0.0.2"),
            l4,
            3,
        );
        w.write_epb(eth, base, &buf, buf.len() as u32).unwrap();
        build(
            &mut buf,
            Framing::Sll2,
            ip("2001:db8::1"),
            ip("2001:db8::2"),
            l4,
            5,
        );
        w.write_epb(sll2, base + 1, &buf, buf.len() as u32).unwrap();
        build(
            &mut buf,
            Framing::RawIp,
            ip("10.0.0.3"),
            ip("10.0.0.4"),
            l4,
            7,
        );
        w.write_epb(raw, base + 2, &buf, buf.len() as u32).unwrap();
        // An SPB belongs to interface 0 and reuses the previous timestamp.
        build(
            &mut buf,
            Framing::Ethernet,
            ip("10.0.0.5"),
            ip("10.0.0.6"),
            l4,
            1,
        );
        w.write_spb(&buf, buf.len() as u32).unwrap();
        let bytes = w.finish().unwrap();

        let r = FileReader::from_reader(Cursor::new(bytes.clone()), "t").unwrap();
        assert_eq!(r.format(), Format::PcapNg);
        let pkts = read_all(bytes).unwrap();
        assert_eq!(pkts.len(), 4);
        assert_eq!(pkts[0].0, base - base % 1000); // µs resolution
        assert_eq!(pkts[1].0, base + 1); // ns resolution
        assert_eq!(pkts[2].0, (base + 2) - (base + 2) % 1_000_000); // ms resolution
        assert_eq!(pkts[3].0, pkts[2].0);
        let links: Vec<LinkType> = pkts.iter().map(|p| p.1).collect();
        assert_eq!(
            links,
            [
                LinkType::Ethernet,
                LinkType::LinuxSll2,
                LinkType::RawIp,
                LinkType::Ethernet
            ]
        );
        let srcs: Vec<IpAddr> = pkts
            .iter()
            .map(|p| nectar_packet::decode(p.1, &p.2, p.0, p.3).meta.src.unwrap())
            .collect();
        assert_eq!(
            srcs,
            [
                ip("10.0.0.1"),
                ip("2001:db8::1"),
                ip("10.0.0.3"),
                ip("10.0.0.5")
            ]
        );
        // SPB data comes back without its padding.
        assert_eq!(pkts[3].2.len() as u32, pkts[3].3);
    }

    #[test]
    fn big_endian_pcapng() {
        let mut w = PcapNgWriter::new(Vec::new(), true).unwrap();
        let i = w.add_interface(LinkType::LinuxSll, 65535, 9).unwrap();
        let mut buf = Vec::new();
        build(
            &mut buf,
            Framing::Sll,
            ip("10.9.9.9"),
            ip("10.0.0.1"),
            Layer4::Icmp { ty: 8, code: 0 },
            4,
        );
        w.write_epb(i, 42, &buf, buf.len() as u32).unwrap();
        let pkts = read_all(w.finish().unwrap()).unwrap();
        assert_eq!(pkts.len(), 1);
        assert_eq!(pkts[0].0, 42);
        let m = nectar_packet::decode(pkts[0].1, &pkts[0].2, 0, 0).meta;
        assert_eq!(m.transport, Transport::Icmpv4);
    }

    #[test]
    fn vlan_qinq_sll_sll2_raw_captures() {
        for framing in [
            Framing::Vlan(42),
            Framing::QinQ(100, 200),
            Framing::Sll,
            Framing::Sll2,
            Framing::RawIp,
        ] {
            let pkts = read_all(pcap_bytes(20, false, false, framing)).unwrap();
            assert_eq!(pkts.len(), 20);
            let mut errs = DecodeErrors::default();
            for p in &pkts {
                let m = nectar_packet::decode(p.1, &p.2, p.0, p.3).meta;
                errs.record_meta(&m);
                assert_eq!(m.network, Network::Ipv4, "{framing:?}");
                assert!(m.tcp_flags.syn());
                if let Framing::QinQ(outer, _) = framing {
                    assert_eq!((m.vlan_tags, m.vlan_id), (2, outer));
                }
            }
            assert_eq!(errs.total(), 0);
        }
    }

    #[test]
    fn streams_from_short_reads() {
        let bytes = pcap_bytes(200, false, false, Framing::Ethernet);
        let mut r = FileReader::from_reader(
            Trickle {
                inner: Cursor::new(bytes),
                chunk: 7,
            },
            "pipe",
        )
        .unwrap();
        let mut n = 0;
        while r.next_packet().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 200);
    }

    #[test]
    fn open_errors_name_the_problem() {
        let e = FileReader::open("/nonexistent/x.pcap").unwrap_err();
        assert!(matches!(e, FileError::Open { .. }));
        assert!(e.to_string().contains("/nonexistent/x.pcap"));
        let e = FileReader::from_reader(Cursor::new(Vec::new()), "empty").unwrap_err();
        assert!(matches!(e, FileError::Empty { .. }), "{e}");
        let e = FileReader::from_reader(Cursor::new(b"hello world, not a capture".to_vec()), "txt")
            .unwrap_err();
        assert!(matches!(e, FileError::NotACapture { .. }), "{e}");
    }
}

mod damaged {
    use super::*;

    /// Cutting a file anywhere gives either all complete records (cut on a
    /// boundary) or a Truncated error that counts the complete ones.
    #[test]
    fn truncated_pcap_reports_packets_read() {
        let bytes = pcap_bytes(50, false, false, Framing::Ethernet);
        // Record boundaries.
        let mut bounds = vec![24usize];
        let mut off = 24;
        while off < bytes.len() {
            let caplen = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().unwrap()) as usize;
            off += 16 + caplen;
            bounds.push(off);
        }
        for cut in (24..bytes.len()).step_by(37) {
            let complete = bounds.iter().filter(|&&b| b <= cut).count() as u64 - 1;
            match read_all(bytes[..cut].to_vec()) {
                Ok(p) => {
                    assert!(bounds.contains(&cut), "cut {cut} read without error");
                    assert_eq!(p.len() as u64, complete);
                }
                Err(e) => {
                    assert!(matches!(e, FileError::Truncated { .. }), "cut {cut}: {e}");
                    assert_eq!(e.packets_read(), complete, "cut {cut}");
                    assert!(e.to_string().contains("truncated"));
                }
            }
        }
        // A file cut inside its header.
        let e = FileReader::from_reader(Cursor::new(bytes[..10].to_vec()), "t").unwrap_err();
        assert!(matches!(
            e,
            FileError::Truncated { .. } | FileError::NotACapture { .. }
        ));
    }

    #[test]
    fn truncated_pcapng_reports_packets_read() {
        let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
        let i = w.add_interface(LinkType::Ethernet, 65535, 6).unwrap();
        let mut buf = Vec::new();
        for k in 0..10u8 {
            build(
                &mut buf,
                Framing::Ethernet,
                IpAddr::from([10, 0, 0, k]),
                ip("10.1.1.1"),
                Layer4::Udp { sport: 1, dport: 2 },
                k as usize * 10,
            );
            w.write_epb(i, u64::from(k), &buf, buf.len() as u32)
                .unwrap();
        }
        let bytes = w.finish().unwrap();
        let e = read_all(bytes[..bytes.len() - 5].to_vec()).unwrap_err();
        assert!(matches!(e, FileError::Truncated { packets: 9, .. }), "{e}");
    }

    #[test]
    fn corrupt_length_is_a_typed_error() {
        let mut bytes = pcap_bytes(10, false, false, Framing::Ethernet);
        // Second record's caplen: 3 GB.
        let first_caplen = u32::from_le_bytes(bytes[32..36].try_into().unwrap()) as usize;
        let second = 24 + 16 + first_caplen;
        bytes[second + 8..second + 12].copy_from_slice(&3_000_000_000u32.to_le_bytes());
        let e = read_all(bytes).unwrap_err();
        assert_eq!(e.packets_read(), 1, "{e}");
        assert!(
            matches!(e, FileError::Corrupt { .. } | FileError::Truncated { .. }),
            "{e}"
        );
    }

    #[test]
    fn pcapng_unknown_interface_is_corrupt() {
        let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
        w.add_interface(LinkType::Ethernet, 65535, 6).unwrap();
        w.write_epb(0, 1, &[0u8; 60], 60).unwrap();
        w.write_epb(7, 2, &[0u8; 60], 60).unwrap();
        let e = read_all(w.finish().unwrap()).unwrap_err();
        assert!(matches!(e, FileError::Corrupt { packets: 1, .. }), "{e}");
        assert!(e.to_string().contains("interface 7"), "{e}");
    }

    #[test]
    fn reader_is_finished_after_an_error() {
        let bytes = pcap_bytes(3, false, false, Framing::Ethernet);
        let mut r =
            FileReader::from_reader(Cursor::new(bytes[..bytes.len() - 3].to_vec()), "t").unwrap();
        let mut n = 0;
        let err = loop {
            match r.next_packet() {
                Ok(Some(_)) => n += 1,
                Ok(None) => panic!("expected an error"),
                Err(e) => break e,
            }
        };
        assert_eq!((n, err.packets_read()), (2, 2));
        assert!(r.next_packet().unwrap().is_none());
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const LINKS: [LinkType; 10] = LinkType::SAMPLES;

    fn drain(bytes: Vec<u8>) -> u64 {
        let Ok(mut r) = FileReader::from_reader(Cursor::new(bytes), "fuzz") else {
            return 0;
        };
        let mut errs = DecodeErrors::default();
        // Bounded: a finite input yields finitely many records.
        while let Ok(Some(p)) = r.next_packet() {
            errs.record_meta(&p.decode().meta);
        }
        r.packets_read()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn random_frames_never_panic(link in 0usize..LINKS.len(), data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let v = nectar_packet::decode(LINKS[link], &data, 0, data.len() as u32);
            prop_assert!(v.payload().len() <= data.len());
            prop_assert!(v.network_bytes().len() <= data.len());
        }

        #[test]
        fn headers_with_random_tails_never_panic(
            prefix in 0usize..4,
            tail in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            // Valid starts (Ethernet+IPv4, Ethernet+IPv6, IPv4, VLAN) then noise.
            let starts: [&[u8]; 4] = [
                &[0,0,0,0,0,0,0,0,0,0,0,0,0x08,0x00,0x45,0,0,60,0,0,0,0,64,6,0,0,1,2,3,4,5,6,7,8],
                &[0,0,0,0,0,0,0,0,0,0,0,0,0x86,0xdd,0x60,0,0,0,0,40,0,64],
                &[0x46,0,0,80,0,0,0x20,0,64,17,0,0,1,2,3,4,5,6,7,8],
                &[0,0,0,0,0,0,0,0,0,0,0,0,0x81,0x00,0,1,0x86,0xdd,0x60,0,0,0,0,8,44,1],
            ];
            let mut f = starts[prefix].to_vec();
            f.extend_from_slice(&tail);
            let link = if prefix == 2 { LinkType::RawIp } else { LinkType::Ethernet };
            let _ = nectar_packet::decode(link, &f, 0, 0);
        }

        #[test]
        fn random_files_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            drain(data);
        }

        #[test]
        fn mutated_pcap_never_panics(pos in any::<prop::sample::Index>(), val in any::<u8>(), cut in any::<prop::sample::Index>()) {
            let mut b = pcap_bytes(4, false, false, Framing::Ethernet);
            let i = pos.index(b.len());
            b[i] = val;
            let c = cut.index(b.len() + 1);
            b.truncate(c.max(1));
            drain(b);
        }

        #[test]
        fn mutated_pcapng_never_panics(pos in any::<prop::sample::Index>(), val in any::<u8>(), pos2 in any::<prop::sample::Index>()) {
            let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
            let i = w.add_interface(LinkType::Ethernet, 65535, 9).unwrap();
            let j = w.add_interface(LinkType::LinuxSll2, 100, 6).unwrap();
            let mut buf = Vec::new();
            build(&mut buf, Framing::Ethernet, ip("10.0.0.1"), ip("10.0.0.2"), Layer4::Tcp { sport: 1, dport: 2, flags: 2 }, 5);
            w.write_epb(i, 5, &buf, buf.len() as u32).unwrap();
            build(&mut buf, Framing::Sll2, ip("10.0.0.1"), ip("10.0.0.2"), Layer4::Udp { sport: 1, dport: 2 }, 5);
            w.write_epb(j, 6, &buf, buf.len() as u32).unwrap();
            w.write_spb(&buf, buf.len() as u32).unwrap();
            let mut b = w.finish().unwrap();
            let a = pos.index(b.len());
            b[a] = val;
            let c = pos2.index(b.len());
            b[c] ^= 0xff;
            drain(b);
        }
    }
}

/// Small captures written by real tools, kept in the repository so that the
/// formats are checked even where the tools or root are missing. Made with
/// `tcpdump -i any` (SLL2) and `dumpcap -i lo -i any` (pcapng, two
/// interfaces) from 20 UDP datagrams of 20..39 bytes sent to 127.0.0.1:60395.
mod fixtures {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn udp_payload_lengths(name: &str, format: Format) -> (Vec<usize>, Vec<LinkType>) {
        let mut r = FileReader::open(fixture(name)).unwrap();
        assert_eq!(r.format(), format);
        let mut lens = Vec::new();
        let mut links = Vec::new();
        while let Some(p) = r.next_packet().unwrap() {
            let v = p.decode();
            let m = v.meta;
            assert_eq!(m.error, None);
            assert_eq!(m.transport, Transport::Udp);
            assert_eq!(m.dst_port, 60395);
            assert_eq!(m.src, Some(ip("127.0.0.1")));
            lens.push(v.payload().len());
            if !links.contains(&p.link) {
                links.push(p.link);
            }
        }
        (lens, links)
    }

    #[test]
    fn tcpdump_any_sll2() {
        let (lens, links) = udp_payload_lengths("any-sll2.pcap", Format::Pcap);
        assert_eq!(lens, (20..30).collect::<Vec<_>>());
        assert_eq!(links, [LinkType::LinuxSll2]);
    }

    #[test]
    fn dumpcap_two_interface_pcapng() {
        let (lens, links) = udp_payload_lengths("lo-any.pcapng", Format::PcapNg);
        assert_eq!(lens.len(), 10);
        assert_eq!(links.len(), 2, "{links:?}");
        assert!(links.contains(&LinkType::Ethernet));
    }
}

mod tools;
