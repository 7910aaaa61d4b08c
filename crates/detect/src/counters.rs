//! The per-window counters: NetSpot's 17 plus a few extras, as one enum.
//!
//! Counters are plain integers in an array indexed by [`Counter`], updated by
//! [`Accumulator::add`] for every packet (the hot path: no allocation, no
//! hashing except for the distinct-count sketches) and read once per window.
//!
//! To add a counter: add a variant to [`Counter`] (and to [`Counter::ALL`]);
//! the compiler then asks for its name and kind in [`Counter::info`]; for a
//! per-packet counter add its one-line increment to [`count_packet`].
//!
//! Differences from NetSpot, on purpose: IPv6 counts as IP (NetSpot is
//! IPv4-only), ICMP includes ICMPv6, IP_BYTES uses the IPv6 payload length +
//! 40 for IPv6, and the port counts take TCP *and* UDP ports (NetSpot: TCP
//! only), so that UDP scans move R_DST_SRC_PORT as TCP scans do.
#![forbid(unsafe_code)]

use std::net::IpAddr;

use nectar_packet::{Network, PacketMeta, Transport};

use crate::distinct::{DistinctAddrs, DistinctPorts};
use crate::heavy::HeavyHitters;
use crate::sources::{SourceTable, SourceValues, View};
use crate::udp_flows::UdpFlows;

/// A per-window counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Counter {
    /// Every packet.
    Pkts,
    /// Wall clock (ns since the epoch) when the window was closed.
    RealTime,
    /// Capture timestamp (ns) of the window's last packet.
    SourceTime,
    /// IPv4 and IPv6 packets.
    Ip,
    /// Sum of IP lengths from the headers.
    IpBytes,
    /// Distinct IP source addresses.
    NbUniqSrcAddr,
    /// Distinct IP destination addresses.
    NbUniqDstAddr,
    /// TCP packets with SYN (SYN and SYN-ACK).
    Syn,
    /// TCP packets with ACK.
    Ack,
    /// TCP packets with FIN.
    Fin,
    /// TCP packets with RST.
    Rst,
    /// TCP packets with URG.
    Urg,
    /// Distinct TCP/UDP source ports.
    NbUniqSrcPort,
    /// Distinct TCP/UDP destination ports.
    NbUniqDstPort,
    /// UDP packets.
    Udp,
    /// ICMP and ICMPv6 packets.
    Icmp,
    /// ARP packets.
    Arp,
    // Extras beyond NetSpot.
    /// Bytes on the wire (all packets).
    Bytes,
    /// TCP packets.
    Tcp,
    /// IPv6 packets.
    Ipv6,
    /// Packets whose decoding stopped early (truncated or malformed).
    DecodeErrors,
}

/// How a counter gets its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterKind {
    /// Incremented per packet in [`count_packet`].
    PerPacket,
    /// Read from a distinct-count sketch when the window closes.
    Distinct,
    /// A time, set when the window closes.
    Time,
}

impl Counter {
    /// Number of counters.
    pub const COUNT: usize = Counter::ALL.len();
    /// Every counter, in index order.
    pub const ALL: [Counter; 21] = [
        Counter::Pkts,
        Counter::RealTime,
        Counter::SourceTime,
        Counter::Ip,
        Counter::IpBytes,
        Counter::NbUniqSrcAddr,
        Counter::NbUniqDstAddr,
        Counter::Syn,
        Counter::Ack,
        Counter::Fin,
        Counter::Rst,
        Counter::Urg,
        Counter::NbUniqSrcPort,
        Counter::NbUniqDstPort,
        Counter::Udp,
        Counter::Icmp,
        Counter::Arp,
        Counter::Bytes,
        Counter::Tcp,
        Counter::Ipv6,
        Counter::DecodeErrors,
    ];

    /// The NetSpot-style name and the kind.
    pub const fn info(self) -> (&'static str, CounterKind) {
        use CounterKind::*;
        match self {
            Counter::Pkts => ("PKTS", PerPacket),
            Counter::RealTime => ("REAL_TIME", Time),
            Counter::SourceTime => ("SOURCE_TIME", Time),
            Counter::Ip => ("IP", PerPacket),
            Counter::IpBytes => ("IP_BYTES", PerPacket),
            Counter::NbUniqSrcAddr => ("NB_UNIQ_SRC_ADDR", Distinct),
            Counter::NbUniqDstAddr => ("NB_UNIQ_DST_ADDR", Distinct),
            Counter::Syn => ("SYN", PerPacket),
            Counter::Ack => ("ACK", PerPacket),
            Counter::Fin => ("FIN", PerPacket),
            Counter::Rst => ("RST", PerPacket),
            Counter::Urg => ("URG", PerPacket),
            Counter::NbUniqSrcPort => ("NB_UNIQ_SRC_PORT", Distinct),
            Counter::NbUniqDstPort => ("NB_UNIQ_DST_PORT", Distinct),
            Counter::Udp => ("UDP", PerPacket),
            Counter::Icmp => ("ICMP", PerPacket),
            Counter::Arp => ("ARP", PerPacket),
            Counter::Bytes => ("BYTES", PerPacket),
            Counter::Tcp => ("TCP", PerPacket),
            Counter::Ipv6 => ("IPV6", PerPacket),
            Counter::DecodeErrors => ("DECODE_ERRORS", PerPacket),
        }
    }

    /// The NetSpot-style name, e.g. `NB_UNIQ_SRC_ADDR`.
    pub const fn name(self) -> &'static str {
        self.info().0
    }

    /// Looks a counter up by name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Counter> {
        Counter::ALL
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }
}

/// Counter values of one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts(pub [u64; Counter::COUNT]);

impl Default for Counts {
    fn default() -> Self {
        Counts([0; Counter::COUNT])
    }
}

impl std::ops::Index<Counter> for Counts {
    type Output = u64;
    #[inline]
    fn index(&self, c: Counter) -> &u64 {
        &self.0[c as usize]
    }
}

impl std::ops::IndexMut<Counter> for Counts {
    #[inline]
    fn index_mut(&mut self, c: Counter) -> &mut u64 {
        &mut self.0[c as usize]
    }
}

impl Counts {
    /// `(counter, value)` pairs in index order.
    pub fn iter(&self) -> impl Iterator<Item = (Counter, u64)> + '_ {
        Counter::ALL.iter().map(|&c| (c, self[c]))
    }
}

/// The per-packet counters: one line per counter.
#[inline(always)]
pub fn count_packet(c: &mut Counts, m: &PacketMeta) {
    let ip = m.is_ip();
    let tcp = m.transport == Transport::Tcp;
    let f = m.tcp_flags;
    c[Counter::Pkts] += 1;
    c[Counter::Bytes] += u64::from(m.wire_len);
    c[Counter::Ip] += u64::from(ip);
    c[Counter::Ipv6] += u64::from(m.network == Network::Ipv6);
    c[Counter::IpBytes] += if ip { u64::from(m.ip_len) } else { 0 };
    c[Counter::Tcp] += u64::from(tcp);
    c[Counter::Syn] += u64::from(tcp && f.syn());
    c[Counter::Ack] += u64::from(tcp && f.ack());
    c[Counter::Fin] += u64::from(tcp && f.fin());
    c[Counter::Rst] += u64::from(tcp && f.rst());
    c[Counter::Urg] += u64::from(tcp && f.urg());
    c[Counter::Udp] += u64::from(m.transport == Transport::Udp);
    c[Counter::Icmp] += u64::from(matches!(m.transport, Transport::Icmpv4 | Transport::Icmpv6));
    c[Counter::Arp] += u64::from(m.network == Network::Arp);
    c[Counter::DecodeErrors] += u64::from(m.error.is_some());
}

/// A 128-bit key for an address: IPv4 as v4-mapped IPv6, so one table holds both.
#[inline]
pub fn addr_key(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => 0xffff_0000_0000 | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// Turns an [`addr_key`] back into an address (v4-mapped keys become IPv4).
pub fn key_addr(k: u128) -> IpAddr {
    let v6 = std::net::Ipv6Addr::from(k);
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

/// The set of packets a top-contributor summary is kept for. Each statistic
/// names the class behind it (e.g. R_SYN → [`Class::Syn`]), so an alarm
/// reports who sent the packets that moved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Class {
    /// All IP packets.
    Ip,
    /// TCP packets with SYN.
    Syn,
    /// UDP packets.
    Udp,
    /// ICMP / ICMPv6 packets.
    Icmp,
    /// ARP packets (addresses: sender and target protocol addresses).
    Arp,
}

impl Class {
    /// Number of classes.
    pub const COUNT: usize = 5;
    /// Every class.
    pub const ALL: [Class; Class::COUNT] =
        [Class::Ip, Class::Syn, Class::Udp, Class::Icmp, Class::Arp];
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Class::Ip => "ip",
            Class::Syn => "syn",
            Class::Udp => "udp",
            Class::Icmp => "icmp",
            Class::Arp => "arp",
        }
    }
}

/// What a top-contributor summary is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Dim {
    /// Source address.
    Src,
    /// Destination address.
    Dst,
    /// Destination port (TCP/UDP).
    DstPort,
}

impl Dim {
    /// Number of dimensions.
    pub const COUNT: usize = 3;
    /// Every dimension.
    pub const ALL: [Dim; Dim::COUNT] = [Dim::Src, Dim::Dst, Dim::DstPort];
}

/// Everything a window accumulates: counters, distinct-count sketches and
/// heavy-hitter summaries. Allocated once, reset in place per window.
#[derive(Debug, Clone)]
pub struct Accumulator {
    /// Per-packet counters (distinct and time counters are filled at close).
    pub counts: Counts,
    src_addrs: DistinctAddrs,
    dst_addrs: DistinctAddrs,
    src_ports: DistinctPorts,
    dst_ports: DistinctPorts,
    heavy: [[HeavyHitters; Dim::COUNT]; Class::COUNT],
    last_ts: u64,
    /// Heavy-hitter updates happen for one packet in `stride` (a power of
    /// two) on average; see [`Accumulator::reset`].
    stride_mask: u64,
    /// xorshift state choosing the sampled packets: pseudo-random rather
    /// than every n-th packet, so periodic traffic (an attacker interleaving
    /// packets at a fixed rhythm) cannot alias with the stride and hide.
    rng: u64,
    /// The per-source table, when a per-source statistic is watched. Fed
    /// every packet (never sampled: a scan hiding in a flood must count).
    sources: Option<Box<SourceTable>>,
    /// The per-destination table ([`View::Destination`]), likewise.
    targets: Option<Box<SourceTable>>,
    /// Recent UDP directions, to tell answers from requests (with either table).
    udp_flows: Option<Box<UdpFlows>>,
}

/// Samples per window that the heavy-hitter summaries aim for. Busy windows
/// feed the summaries a pseudo-random one packet in `stride`, where `stride` is the previous
/// window's packet count over this target, rounded down to a power of two:
/// quiet windows are counted exactly, a flood costs a few nanoseconds per
/// packet instead of six hash-table updates, and shares stay within about a
/// percent or two (sampling error of 1,024 samples; the Misra–Gries bound is
/// ~3 % of the samples). The stride depends only on packet counts, so replays
/// give the same contributors.
pub const CONTRIBUTOR_SAMPLES: u64 = 1024;

impl Default for Accumulator {
    fn default() -> Self {
        Accumulator {
            counts: Counts::default(),
            src_addrs: DistinctAddrs::default(),
            dst_addrs: DistinctAddrs::default(),
            src_ports: DistinctPorts::default(),
            dst_ports: DistinctPorts::default(),
            heavy: Default::default(),
            last_ts: 0,
            stride_mask: 0,
            rng: 0x2545_f491_4f6c_dd1d,
            sources: None,
            targets: None,
            udp_flows: None,
        }
    }
}

impl Accumulator {
    /// Counts one packet.
    #[inline]
    pub fn add(&mut self, m: &PacketMeta) {
        count_packet(&mut self.counts, m);
        self.last_ts = m.ts_ns;
        let (Some(src), Some(dst)) = (m.src, m.dst) else {
            return;
        };
        let (s, d) = (addr_key(src), addr_key(dst));
        if let Some(flows) = &mut self.udp_flows {
            let reply =
                m.transport == Transport::Udp && flows.is_reply(s, d, m.src_port, m.dst_port);
            if let Some(t) = &mut self.sources {
                t.add(m, s, d, reply);
            }
            if let Some(t) = &mut self.targets {
                t.add(m, s, d, reply);
            }
        }
        let sampled = self.stride_mask == 0 || {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            self.rng & self.stride_mask == 0
        };
        if m.is_ip() {
            self.src_addrs.insert(s);
            self.dst_addrs.insert(d);
            let ported = matches!(m.transport, Transport::Tcp | Transport::Udp);
            if ported {
                self.src_ports.insert(m.src_port);
                self.dst_ports.insert(m.dst_port);
            }
            if !sampled {
                return;
            }
            self.top3(Class::Ip, s, d, ported.then_some(m.dst_port));
            match m.transport {
                Transport::Tcp if m.tcp_flags.syn() => {
                    self.top3(Class::Syn, s, d, Some(m.dst_port))
                }
                Transport::Udp => self.top3(Class::Udp, s, d, Some(m.dst_port)),
                Transport::Icmpv4 | Transport::Icmpv6 => self.top3(Class::Icmp, s, d, None),
                _ => {}
            }
        } else if m.network == Network::Arp && sampled {
            self.top3(Class::Arp, s, d, None);
        }
    }

    #[inline]
    fn top3(&mut self, class: Class, s: u128, d: u128, port: Option<u16>) {
        let h = &mut self.heavy[class as usize];
        h[Dim::Src as usize].add(s);
        h[Dim::Dst as usize].add(d);
        if let Some(p) = port {
            h[Dim::DstPort as usize].add(u128::from(p));
        }
    }

    /// Fills the distinct and time counters and returns the window's counts.
    pub fn close(&mut self, wall_ns: u64) -> Counts {
        let mut c = self.counts;
        c[Counter::NbUniqSrcAddr] = self.src_addrs.estimate();
        c[Counter::NbUniqDstAddr] = self.dst_addrs.estimate();
        c[Counter::NbUniqSrcPort] = self.src_ports.count();
        c[Counter::NbUniqDstPort] = self.dst_ports.count();
        c[Counter::SourceTime] = self.last_ts;
        c[Counter::RealTime] = wall_ns;
        c
    }

    /// Turns the per-source or per-destination table on (allocated here, once).
    pub fn enable_sources(&mut self, view: View) {
        let table = match view {
            View::Source => &mut self.sources,
            View::Destination => &mut self.targets,
        };
        if table.is_none() {
            *table = Some(Box::new(SourceTable::new(view)));
        }
        if self.udp_flows.is_none() {
            self.udp_flows = Some(Box::default());
        }
    }

    /// Closes the per-source and per-destination tables' window into `out`
    /// (NaN values for a table that is off).
    pub fn close_sources(&mut self, out: &mut SourceValues) {
        *out = SourceValues::OFF;
        // Destinations first: the source table then names the source behind
        // each destination's values.
        for t in [&mut self.targets, &mut self.sources].into_iter().flatten() {
            t.close(out);
        }
        if let Some(flows) = &mut self.udp_flows {
            flows.rotate();
        }
    }

    /// Forgets every source and destination (a gap longer than any scale).
    pub fn clear_sources(&mut self) {
        for t in [&mut self.sources, &mut self.targets].into_iter().flatten() {
            t.clear();
        }
        if let Some(flows) = &mut self.udp_flows {
            flows.clear();
        }
    }

    /// Packets the per-source and per-destination tables could not count
    /// (full of active entries).
    pub fn sources_dropped(&self) -> u64 {
        [&self.sources, &self.targets]
            .into_iter()
            .flatten()
            .map(|t| t.dropped())
            .sum()
    }

    /// The heavy-hitter summary of one class and dimension.
    pub fn heavy(&self, class: Class, dim: Dim) -> &HeavyHitters {
        &self.heavy[class as usize][dim as usize]
    }

    /// Clears everything for the next window, keeping allocations, and sets
    /// the next window's sampling stride from this window's packet count.
    pub fn reset(&mut self) {
        let pkts = self.counts[Counter::Pkts];
        let ratio = pkts / CONTRIBUTOR_SAMPLES;
        self.stride_mask = if ratio <= 1 {
            0
        } else {
            (1u64 << ratio.ilog2()) - 1
        };
        if pkts == 0 {
            return;
        }
        self.counts = Counts::default();
        self.src_addrs.reset();
        self.dst_addrs.reset();
        self.src_ports.reset();
        self.dst_ports.reset();
        for class in self.heavy.iter_mut() {
            for h in class.iter_mut() {
                h.reset();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for (i, c) in Counter::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i, "{c:?} out of order in Counter::ALL");
            assert_eq!(Counter::from_name(c.name()), Some(*c));
        }
        for (i, c) in Class::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
    }

    #[test]
    fn a_udp_service_on_a_high_port_answering_clients_probes_nothing() {
        use crate::sources::Measure;
        let mut acc = Accumulator::default();
        acc.enable_sources(View::Source);
        let udp = |src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16| PacketMeta {
            network: Network::Ipv4,
            src: Some(IpAddr::from(src)),
            dst: Some(IpAddr::from(dst)),
            transport: Transport::Udp,
            src_port: sp,
            dst_port: dp,
            ..PacketMeta::default()
        };
        let (client, server) = ([192, 0, 2, 9], [192, 0, 2, 53]);
        // Fifty queries to 5353, each from a new client port, each answered.
        for i in 0..50u16 {
            acc.add(&udp(client, server, 40000 + i, 5353));
            acc.add(&udp(server, client, 5353, 40000 + i));
        }
        let mut v = SourceValues::OFF;
        acc.close_sources(&mut v);
        let ports = Measure::Ports as usize;
        // The answers went to 50 ports, but they are answers: the most any
        // source probed is the client's one port.
        assert_eq!(v.value[ports][0], 1.0, "{:?}", v.culprit[ports][0]);
        assert_eq!(v.culprit[ports][0].unwrap().src, IpAddr::from(client));
        // A scan from source port 5353 answers nothing: it counts.
        for p in 0..30u16 {
            acc.add(&udp([203, 0, 113, 7], server, 5353, 1000 + p));
        }
        acc.close_sources(&mut v);
        let c = v.culprit[ports][0].unwrap();
        assert_eq!(c.src, IpAddr::from([203, 0, 113, 7]), "{c:?}");
        assert!(
            (28.0..=32.0).contains(&v.value[ports][0]),
            "{:?}",
            v.value[ports]
        );
    }

    #[test]
    fn keys_round_trip() {
        for a in ["10.1.2.3", "::1", "2001:db8::7", "0.0.0.0"] {
            let ip: IpAddr = a.parse().unwrap();
            assert_eq!(key_addr(addr_key(ip)), ip);
        }
    }
}
