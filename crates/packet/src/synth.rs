//! Synthetic captures for tests and benchmarks: pcap / pcapng writers and a
//! packet builder.
//!
//! Tests need captures with known content (exact counts, many distinct
//! addresses and ports, every framing the decoder supports) and the benchmark
//! needs millions of packets; committing such files would bloat the
//! repository, so they are generated. The writers produce every variant the
//! reader must accept: pcap in micro- and nanoseconds and both byte orders,
//! pcapng with several interfaces of different link types and timestamp
//! resolutions, EPB and SPB blocks. Output is deterministic for a given seed.
#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::net::IpAddr;

use crate::LinkType;
use crate::decode::TcpFlags;

/// Writes a classic pcap file.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    w: W,
    nanos: bool,
    big_endian: bool,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header. `nanos` selects the nanosecond magic.
    pub fn new(
        mut w: W,
        link: LinkType,
        snaplen: u32,
        nanos: bool,
        big_endian: bool,
    ) -> io::Result<Self> {
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut h = Vec::with_capacity(24);
        let put32 = |h: &mut Vec<u8>, v: u32| {
            h.extend_from_slice(&if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            })
        };
        let put16 = |h: &mut Vec<u8>, v: u16| {
            h.extend_from_slice(&if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            })
        };
        put32(&mut h, magic);
        put16(&mut h, 2);
        put16(&mut h, 4);
        put32(&mut h, 0);
        put32(&mut h, 0);
        put32(&mut h, snaplen);
        put32(&mut h, link.to_linktype());
        w.write_all(&h)?;
        Ok(PcapWriter {
            w,
            nanos,
            big_endian,
        })
    }

    /// Appends one record.
    pub fn write_packet(&mut self, ts_ns: u64, data: &[u8], wire_len: u32) -> io::Result<()> {
        let sec = (ts_ns / 1_000_000_000) as u32;
        let sub = ts_ns % 1_000_000_000;
        let frac = if self.nanos { sub } else { sub / 1000 } as u32;
        let caplen = u32::try_from(data.len()).map_err(io::Error::other)?;
        let mut h = [0u8; 16];
        for (i, v) in [sec, frac, caplen, wire_len].into_iter().enumerate() {
            let b = if self.big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            h[i * 4..i * 4 + 4].copy_from_slice(&b);
        }
        self.w.write_all(&h)?;
        self.w.write_all(data)
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.flush()?;
        Ok(self.w)
    }
}

/// Writes a pcapng file (one section).
#[derive(Debug)]
pub struct PcapNgWriter<W: Write> {
    w: W,
    big_endian: bool,
    /// `if_tsresol` (decimal exponent) per interface.
    resolutions: Vec<u8>,
    buf: Vec<u8>,
}

impl<W: Write> PcapNgWriter<W> {
    /// Writes the section header block.
    pub fn new(w: W, big_endian: bool) -> io::Result<Self> {
        let mut me = PcapNgWriter {
            w,
            big_endian,
            resolutions: Vec::new(),
            buf: Vec::with_capacity(2048),
        };
        me.begin(0x0A0D_0D0A);
        me.u32(0x1A2B_3C4D);
        me.u16(1);
        me.u16(0);
        me.u32(0xffff_ffff); // section length: unknown (-1)
        me.u32(0xffff_ffff);
        me.end()?;
        Ok(me)
    }

    /// Adds an interface; `tsresol` is the decimal exponent (6 = µs, 9 = ns).
    /// Returns its id.
    pub fn add_interface(&mut self, link: LinkType, snaplen: u32, tsresol: u8) -> io::Result<u32> {
        self.begin(1);
        self.u16(link.to_linktype() as u16);
        self.u16(0);
        self.u32(snaplen);
        if tsresol != 6 {
            self.u16(9); // if_tsresol
            self.u16(1);
            self.buf.extend_from_slice(&[tsresol, 0, 0, 0]);
        }
        self.u16(0); // opt_endofopt
        self.u16(0);
        self.end()?;
        self.resolutions.push(tsresol);
        Ok(self.resolutions.len() as u32 - 1)
    }

    /// Appends an enhanced packet block on interface `if_id`.
    pub fn write_epb(
        &mut self,
        if_id: u32,
        ts_ns: u64,
        data: &[u8],
        wire_len: u32,
    ) -> io::Result<()> {
        let resol = self.resolutions.get(if_id as usize).copied().unwrap_or(6);
        let ticks = ts_ns / 10u64.pow(9u32.saturating_sub(u32::from(resol.min(9))));
        self.begin(6);
        self.u32(if_id);
        self.u32((ticks >> 32) as u32);
        self.u32(ticks as u32);
        self.u32(data.len() as u32);
        self.u32(wire_len);
        self.data(data);
        self.end()
    }

    /// Appends a simple packet block (interface 0, no timestamp).
    pub fn write_spb(&mut self, data: &[u8], wire_len: u32) -> io::Result<()> {
        self.begin(3);
        self.u32(wire_len);
        self.data(data);
        self.end()
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.flush()?;
        Ok(self.w)
    }

    fn begin(&mut self, block_type: u32) {
        self.buf.clear();
        self.u32(block_type);
        self.u32(0); // length, patched in end()
    }
    fn data(&mut self, d: &[u8]) {
        self.buf.extend_from_slice(d);
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }
    fn end(&mut self) -> io::Result<()> {
        let len = self.buf.len() as u32 + 4;
        let b = if self.big_endian {
            len.to_be_bytes()
        } else {
            len.to_le_bytes()
        };
        self.buf[4..8].copy_from_slice(&b);
        self.buf.extend_from_slice(&b);
        self.w.write_all(&self.buf)
    }
    fn u32(&mut self, v: u32) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }
    fn u16(&mut self, v: u16) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }
}

/// Link-layer framing for [`build`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Ethernet II.
    Ethernet,
    /// Ethernet with one 802.1Q tag.
    Vlan(u16),
    /// Ethernet with an 802.1ad outer and an 802.1Q inner tag.
    QinQ(u16, u16),
    /// Linux cooked v1.
    Sll,
    /// Linux cooked v2.
    Sll2,
    /// Bare IP.
    RawIp,
}

impl Framing {
    /// The capture link type this framing needs.
    pub fn link_type(self) -> LinkType {
        match self {
            Framing::Ethernet | Framing::Vlan(_) | Framing::QinQ(..) => LinkType::Ethernet,
            Framing::Sll => LinkType::LinuxSll,
            Framing::Sll2 => LinkType::LinuxSll2,
            Framing::RawIp => LinkType::RawIp,
        }
    }
}

/// What sits above the network layer in a built packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer4 {
    /// TCP with ports and flags ([`TcpFlags`] bits).
    Tcp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Flag bits.
        flags: u8,
    },
    /// UDP with ports.
    Udp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
    },
    /// ICMP (ICMPv6 when the addresses are IPv6) with type and code.
    Icmp {
        /// Type.
        ty: u8,
        /// Code.
        code: u8,
    },
    /// ARP (the addresses must be IPv4); 1 request, 2 reply.
    Arp {
        /// Operation.
        op: u16,
    },
}

/// Builds one frame into `buf` (cleared first) and returns its length.
/// `payload` bytes of filler follow the transport header.
pub fn build(
    buf: &mut Vec<u8>,
    framing: Framing,
    src: IpAddr,
    dst: IpAddr,
    l4: Layer4,
    payload: usize,
) -> usize {
    buf.clear();
    let et: u16 = match (l4, src) {
        (Layer4::Arp { .. }, _) => 0x0806,
        (_, IpAddr::V4(_)) => 0x0800,
        (_, IpAddr::V6(_)) => 0x86dd,
    };
    let mac_src = [0x02, 0, 0, 0, 0, 1];
    let mac_dst = [0x02, 0, 0, 0, 0, 2];
    match framing {
        Framing::Ethernet | Framing::Vlan(_) | Framing::QinQ(..) => {
            buf.extend_from_slice(&mac_dst);
            buf.extend_from_slice(&mac_src);
            match framing {
                Framing::Vlan(id) => {
                    buf.extend_from_slice(&[0x81, 0x00]);
                    buf.extend_from_slice(&(id & 0x0fff).to_be_bytes());
                }
                Framing::QinQ(outer, inner) => {
                    buf.extend_from_slice(&[0x88, 0xa8]);
                    buf.extend_from_slice(&(outer & 0x0fff).to_be_bytes());
                    buf.extend_from_slice(&[0x81, 0x00]);
                    buf.extend_from_slice(&(inner & 0x0fff).to_be_bytes());
                }
                _ => {}
            }
            buf.extend_from_slice(&et.to_be_bytes());
        }
        Framing::Sll => {
            buf.extend_from_slice(&[0, 0, 0, 1, 0, 6]);
            buf.extend_from_slice(&mac_src);
            buf.extend_from_slice(&[0, 0]);
            buf.extend_from_slice(&et.to_be_bytes());
        }
        Framing::Sll2 => {
            buf.extend_from_slice(&et.to_be_bytes());
            buf.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6]);
            buf.extend_from_slice(&mac_src);
            buf.extend_from_slice(&[0, 0]);
        }
        Framing::RawIp => {}
    }
    if let Layer4::Arp { op } = l4 {
        let (IpAddr::V4(s), IpAddr::V4(d)) = (src, dst) else {
            return buf.len();
        };
        buf.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4]);
        buf.extend_from_slice(&op.to_be_bytes());
        buf.extend_from_slice(&mac_src);
        buf.extend_from_slice(&s.octets());
        buf.extend_from_slice(&[0; 6]);
        buf.extend_from_slice(&d.octets());
        return buf.len();
    }
    let v6 = src.is_ipv6();
    let (proto, l4_len) = match l4 {
        Layer4::Tcp { .. } => (6u8, 20usize),
        Layer4::Udp { .. } => (17, 8),
        Layer4::Icmp { .. } => (if v6 { 58 } else { 1 }, 8),
        Layer4::Arp { .. } => (0, 0),
    };
    let ip_start = buf.len();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = (20 + l4_len + payload) as u16;
            buf.extend_from_slice(&[0x45, 0]);
            buf.extend_from_slice(&total.to_be_bytes());
            buf.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
            buf.extend_from_slice(&s.octets());
            buf.extend_from_slice(&d.octets());
            let sum = ipv4_checksum(&buf[ip_start..ip_start + 20]);
            buf[ip_start + 10..ip_start + 12].copy_from_slice(&sum.to_be_bytes());
        }
        _ => {
            let to6 = |a: IpAddr| match a {
                IpAddr::V4(a) => a.to_ipv6_mapped(),
                IpAddr::V6(a) => a,
            };
            let plen = (l4_len + payload) as u16;
            buf.extend_from_slice(&[0x60, 0, 0, 0]);
            buf.extend_from_slice(&plen.to_be_bytes());
            buf.extend_from_slice(&[proto, 64]);
            buf.extend_from_slice(&to6(src).octets());
            buf.extend_from_slice(&to6(dst).octets());
        }
    }
    match l4 {
        Layer4::Tcp {
            sport,
            dport,
            flags,
        } => {
            buf.extend_from_slice(&sport.to_be_bytes());
            buf.extend_from_slice(&dport.to_be_bytes());
            buf.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        }
        Layer4::Udp { sport, dport } => {
            buf.extend_from_slice(&sport.to_be_bytes());
            buf.extend_from_slice(&dport.to_be_bytes());
            buf.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
            buf.extend_from_slice(&[0, 0]);
        }
        Layer4::Icmp { ty, code } => {
            buf.extend_from_slice(&[ty, code, 0, 0, 0, 1, 0, 1]);
        }
        Layer4::Arp { .. } => {}
    }
    buf.resize(buf.len() + payload, 0x5a);
    buf.len()
}

fn ipv4_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in h.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A small deterministic PRNG (SplitMix64): reproducible captures without a
/// dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeds the generator.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }
}

/// Parameters of [`Mix`], a synthetic traffic mix.
#[derive(Debug, Clone)]
pub struct MixConfig {
    /// Packets to produce.
    pub packets: u64,
    /// Timestamp of the first packet (ns since the epoch).
    pub start_ns: u64,
    /// Mean packets per second of capture time.
    pub rate_pps: u64,
    /// Distinct source addresses in the long tail.
    pub sources: u32,
    /// Distinct destination addresses in the long tail.
    pub destinations: u32,
    /// Percentage of IPv6 packets.
    pub ipv6_percent: u8,
    /// Framing of every packet (VLAN ids vary when it is a VLAN framing).
    pub framing: Framing,
    /// PRNG seed.
    pub seed: u64,
}

impl Default for MixConfig {
    fn default() -> Self {
        MixConfig {
            packets: 10_000,
            start_ns: 1_700_000_000_000_000_000,
            rate_pps: 100_000,
            sources: 50_000,
            destinations: 5_000,
            ipv6_percent: 10,
            framing: Framing::Ethernet,
            seed: 1,
        }
    }
}

/// A deterministic stream of mixed packets: mostly TCP (a few heavy flows and
/// a long tail of addresses and ports), UDP, ICMP and some ARP, sizes from 60
/// to 1514 bytes.
#[derive(Debug)]
pub struct Mix {
    cfg: MixConfig,
    rng: Rng,
    n: u64,
    ts: u64,
    buf: Vec<u8>,
}

impl Mix {
    /// Starts a stream.
    pub fn new(cfg: MixConfig) -> Mix {
        Mix {
            rng: Rng::new(cfg.seed),
            ts: cfg.start_ns,
            n: 0,
            buf: Vec::with_capacity(2048),
            cfg,
        }
    }

    fn addr(&mut self, pool: u32, base: u32, v6: bool) -> IpAddr {
        // One in four packets comes from a handful of heavy hitters, the rest
        // from a uniform tail of `pool` addresses.
        let idx = if self.rng.below(4) == 0 {
            self.rng.below(8) as u32
        } else {
            self.rng.below(u64::from(pool.max(1))) as u32
        };
        if v6 {
            let mut o = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            o[8..12].copy_from_slice(&base.to_be_bytes());
            o[12..16].copy_from_slice(&idx.to_be_bytes());
            IpAddr::from(o)
        } else {
            IpAddr::from((base.wrapping_add(idx)).to_be_bytes())
        }
    }

    /// The next packet: `(timestamp ns, frame)`, or None after `packets`.
    pub fn next_packet(&mut self) -> Option<(u64, &[u8])> {
        if self.n >= self.cfg.packets {
            return None;
        }
        self.n += 1;
        let gap = 2_000_000_000 / self.cfg.rate_pps.max(1);
        self.ts += self.rng.below(gap.max(1));
        let v6 = self.rng.below(100) < u64::from(self.cfg.ipv6_percent);
        let kind = self.rng.below(100);
        let src = self.addr(self.cfg.sources, 0x0a00_0000, v6);
        let dst = self.addr(self.cfg.destinations, 0xc0a8_0000, v6);
        let size_class = self.rng.below(10);
        let payload = match size_class {
            0..=4 => 0,
            5..=6 => self.rng.below(200) as usize,
            7 => 512,
            _ => 1400 + self.rng.below(60) as usize,
        };
        let sport = 1024 + self.rng.below(60_000) as u16;
        let l4 = match kind {
            0..=69 => {
                let dport = [80u16, 443, 22, 25, 53, 8080][self.rng.below(6) as usize];
                let dport = if self.rng.below(5) == 0 {
                    self.rng.below(65_535) as u16 + 1
                } else {
                    dport
                };
                let flags = match self.rng.below(20) {
                    0 => TcpFlags::SYN,
                    1 => TcpFlags::SYN | TcpFlags::ACK,
                    2 => TcpFlags::FIN | TcpFlags::ACK,
                    3 => TcpFlags::RST,
                    _ => TcpFlags::ACK | TcpFlags::PSH,
                };
                Layer4::Tcp {
                    sport,
                    dport,
                    flags,
                }
            }
            70..=89 => Layer4::Udp {
                sport,
                dport: [53u16, 123, 443, 5353][self.rng.below(4) as usize],
            },
            90..=97 => Layer4::Icmp {
                ty: if v6 { 128 } else { 8 },
                code: 0,
            },
            _ if !v6 => Layer4::Arp { op: 1 },
            _ => Layer4::Icmp { ty: 135, code: 0 },
        };
        let framing = match self.cfg.framing {
            Framing::Vlan(_) => Framing::Vlan(1 + self.rng.below(100) as u16),
            f => f,
        };
        let payload = if matches!(l4, Layer4::Arp { .. }) {
            0
        } else {
            payload
        };
        build(&mut self.buf, framing, src, dst, l4, payload);
        Some((self.ts, &self.buf))
    }

    /// Link type of the produced frames.
    pub fn link_type(&self) -> LinkType {
        self.cfg.framing.link_type()
    }
}

/// Writes a mixed pcap capture to `w`; returns the number of bytes of packet data.
pub fn write_mix_pcap<W: Write>(w: W, cfg: MixConfig) -> io::Result<u64> {
    let mut mix = Mix::new(cfg);
    let mut out = PcapWriter::new(w, mix.link_type(), 262_144, false, false)?;
    let mut bytes = 0u64;
    while let Some((ts, frame)) = mix.next_packet() {
        bytes += frame.len() as u64;
        out.write_packet(ts, frame, frame.len() as u32)?;
    }
    out.finish()?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Network, Transport, decode};

    #[test]
    fn built_frames_decode() {
        let mut b = Vec::new();
        let s4: IpAddr = "10.0.0.1".parse().unwrap();
        let d4: IpAddr = "10.0.0.2".parse().unwrap();
        let s6: IpAddr = "2001:db8::1".parse().unwrap();
        let d6: IpAddr = "2001:db8::2".parse().unwrap();
        for framing in [
            Framing::Ethernet,
            Framing::Vlan(7),
            Framing::QinQ(1, 2),
            Framing::Sll,
            Framing::Sll2,
            Framing::RawIp,
        ] {
            for (s, d) in [(s4, d4), (s6, d6)] {
                for l4 in [
                    Layer4::Tcp {
                        sport: 1,
                        dport: 2,
                        flags: TcpFlags::SYN,
                    },
                    Layer4::Udp { sport: 3, dport: 4 },
                    Layer4::Icmp { ty: 8, code: 0 },
                ] {
                    build(&mut b, framing, s, d, l4, 10);
                    let m = decode(framing.link_type(), &b, 0, b.len() as u32).meta;
                    assert_eq!(m.error, None, "{framing:?} {l4:?}");
                    assert_eq!(m.src, Some(s));
                    assert_eq!(m.dst, Some(d));
                    assert_ne!(m.transport, Transport::None);
                    assert_eq!(
                        decode(framing.link_type(), &b, 0, 0).payload().len(),
                        10,
                        "{framing:?} {l4:?}"
                    );
                }
            }
            if framing != Framing::RawIp {
                build(&mut b, framing, s4, d4, Layer4::Arp { op: 2 }, 0);
                let m = decode(framing.link_type(), &b, 0, 0).meta;
                assert_eq!(m.network, Network::Arp);
                assert_eq!(m.arp_op, 2);
            }
        }
    }
}
