//! Decoding one captured frame into a borrowed [`PacketView`] and a compact,
//! `Copy` [`PacketMeta`].
//!
//! This is the attacker-facing parser of the packet path: every byte comes off
//! the wire. It owns the walk link → VLAN tags → network → transport, and the
//! classification of what went wrong ([`DecodeError`], counted per reason in
//! [`DecodeErrors`]). It never panics, never allocates, and never fails as a
//! whole: a packet whose TCP header is cut off still reports its IP addresses,
//! with `meta.error` saying where decoding stopped.
//!
//! The header layouts come from etherparse's zero-copy header slices (checked
//! lengths, typed errors). Linux cooked v1/v2 and the BSD loopback headers are
//! fixed-layout and read here directly: etherparse has no SLL2, and its SLL
//! slice rejects packet types that real `any` captures contain.
#![forbid(unsafe_code)]

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{
    ArpPacketSlice, Ethernet2HeaderSlice, Icmpv6Slice, IpNumber, Ipv4HeaderSlice,
    Ipv6ExtensionsSlice, Ipv6HeaderSlice, SingleVlanHeaderSlice, TcpHeaderSlice, UdpHeaderSlice,
};

use crate::LinkType;

/// EtherType values the decoder dispatches on.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service VLAN tag (outer tag of QinQ).
    pub const QINQ: u16 = 0x88a8;
    /// Pre-standard QinQ outer tag still sent by some switches.
    pub const QINQ_OLD: u16 = 0x9100;
}

/// How many stacked VLAN tags are walked before giving up; real networks use
/// at most two (QinQ), a crafted frame could repeat tags to burn time.
pub const MAX_VLAN_TAGS: u8 = 4;

/// TCP flag bits, as in byte 13 of the TCP header.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN: no more data from sender.
    pub const FIN: u8 = 0x01;
    /// SYN: synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// RST: reset the connection.
    pub const RST: u8 = 0x04;
    /// PSH: push function.
    pub const PSH: u8 = 0x08;
    /// ACK: acknowledgment field significant.
    pub const ACK: u8 = 0x10;
    /// URG: urgent pointer field significant.
    pub const URG: u8 = 0x20;
    /// ECE: ECN echo.
    pub const ECE: u8 = 0x40;
    /// CWR: congestion window reduced.
    pub const CWR: u8 = 0x80;

    /// Whether every bit of `mask` is set.
    #[inline]
    pub fn contains(self, mask: u8) -> bool {
        self.0 & mask == mask
    }
    /// SYN set (SYN or SYN-ACK).
    #[inline]
    pub fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    /// ACK set.
    #[inline]
    pub fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
    /// FIN set.
    #[inline]
    pub fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    /// RST set.
    #[inline]
    pub fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    /// URG set.
    #[inline]
    pub fn urg(self) -> bool {
        self.contains(Self::URG)
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 8] = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];
        let mut first = true;
        f.write_str("TcpFlags(")?;
        for (i, name) in NAMES.iter().enumerate() {
            if self.0 & (1 << i) != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        f.write_str(")")
    }
}

/// The network layer found in the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Network {
    /// Nothing decoded (unsupported link type or a broken link header).
    #[default]
    None,
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
    /// ARP (any hardware / protocol; addresses filled in for IPv4 over anything).
    Arp,
    /// Another EtherType (see [`PacketMeta::ethertype`]), e.g. LLDP, 802.3 LLC.
    Other,
}

/// The transport layer found inside IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// No transport header: not IP, a non-first fragment, or decoding stopped.
    #[default]
    None,
    /// TCP: ports and flags are set.
    Tcp,
    /// UDP: ports are set.
    Udp,
    /// ICMPv4: type and code are set.
    Icmpv4,
    /// ICMPv6: type and code are set.
    Icmpv6,
    /// Another IP protocol (see [`PacketMeta::ip_proto`]).
    Other,
}

/// Why decoding stopped early. One counter per variant in [`DecodeErrors`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DecodeError {
    /// The frame is shorter than its link-layer header (snaplen too small or a runt).
    TruncatedLink,
    /// A VLAN tag is cut off, or more than [`MAX_VLAN_TAGS`] tags are stacked.
    BadVlan,
    /// The capture's link type is not one the decoder knows.
    UnsupportedLinkType,
    /// The IPv4 header is cut off.
    TruncatedIpv4,
    /// The IPv4 header is inconsistent (IHL < 5, or total length < header length).
    BadIpv4Header,
    /// The IPv6 fixed header is cut off.
    TruncatedIpv6,
    /// An IPv6 extension header is cut off or malformed.
    BadIpv6Extension,
    /// The IP version nibble does not match the framing (e.g. EtherType IPv4 carrying version 6).
    BadIpVersion,
    /// The TCP header is cut off.
    TruncatedTcp,
    /// The TCP data offset is below 5 words.
    BadTcpHeader,
    /// The UDP header is cut off.
    TruncatedUdp,
    /// The ICMPv4 header is cut off.
    TruncatedIcmpv4,
    /// The ICMPv6 header is cut off.
    TruncatedIcmpv6,
    /// The ARP packet is shorter than its declared address lengths.
    TruncatedArp,
}

impl DecodeError {
    /// Number of variants (size of the counter array).
    pub const COUNT: usize = 14;
    /// Every variant, in counter order.
    pub const ALL: [DecodeError; Self::COUNT] = [
        DecodeError::TruncatedLink,
        DecodeError::BadVlan,
        DecodeError::UnsupportedLinkType,
        DecodeError::TruncatedIpv4,
        DecodeError::BadIpv4Header,
        DecodeError::TruncatedIpv6,
        DecodeError::BadIpv6Extension,
        DecodeError::BadIpVersion,
        DecodeError::TruncatedTcp,
        DecodeError::BadTcpHeader,
        DecodeError::TruncatedUdp,
        DecodeError::TruncatedIcmpv4,
        DecodeError::TruncatedIcmpv6,
        DecodeError::TruncatedArp,
    ];

    /// A stable snake_case name, for summaries and JSON keys.
    pub fn name(self) -> &'static str {
        match self {
            DecodeError::TruncatedLink => "truncated_link",
            DecodeError::BadVlan => "bad_vlan",
            DecodeError::UnsupportedLinkType => "unsupported_link_type",
            DecodeError::TruncatedIpv4 => "truncated_ipv4",
            DecodeError::BadIpv4Header => "bad_ipv4_header",
            DecodeError::TruncatedIpv6 => "truncated_ipv6",
            DecodeError::BadIpv6Extension => "bad_ipv6_extension",
            DecodeError::BadIpVersion => "bad_ip_version",
            DecodeError::TruncatedTcp => "truncated_tcp",
            DecodeError::BadTcpHeader => "bad_tcp_header",
            DecodeError::TruncatedUdp => "truncated_udp",
            DecodeError::TruncatedIcmpv4 => "truncated_icmpv4",
            DecodeError::TruncatedIcmpv6 => "truncated_icmpv6",
            DecodeError::TruncatedArp => "truncated_arp",
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Per-reason counts of packets whose decoding stopped early.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeErrors {
    counts: [u64; DecodeError::COUNT],
}

impl DecodeErrors {
    /// Counts one packet that stopped with `err`.
    #[inline]
    pub fn record(&mut self, err: DecodeError) {
        self.counts[err as usize] += 1;
    }
    /// Counts `meta.error`, if any.
    #[inline]
    pub fn record_meta(&mut self, meta: &PacketMeta) {
        if let Some(e) = meta.error {
            self.record(e);
        }
    }
    /// The count for one reason.
    pub fn get(&self, err: DecodeError) -> u64 {
        self.counts[err as usize]
    }
    /// All reasons together.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
    /// `(reason, count)` for every reason, zeros included, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = (DecodeError, u64)> + '_ {
        DecodeError::ALL.iter().map(|&e| (e, self.get(e)))
    }
    /// Adds another set of counts (e.g. from another file).
    pub fn merge(&mut self, other: &DecodeErrors) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += *b;
        }
    }
}

/// What was learned about one packet: small, `Copy`, no borrow, so it can be
/// kept after the capture buffer moves on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacketMeta {
    /// Capture timestamp, nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// Length on the wire (may exceed `cap_len` when the snaplen cut it).
    pub wire_len: u32,
    /// Bytes actually captured.
    pub cap_len: u32,
    /// The framing the bytes start with.
    pub link: LinkType,
    /// The EtherType (or SLL protocol) of the network layer; for raw-IP link
    /// types the one implied by the version nibble; 0 when unknown.
    pub ethertype: u16,
    /// Number of VLAN tags walked.
    pub vlan_tags: u8,
    /// VLAN id of the outermost tag (0 when untagged).
    pub vlan_id: u16,
    /// The network layer.
    pub network: Network,
    /// IP source address; for ARP over IPv4 the sender protocol address.
    pub src: Option<IpAddr>,
    /// IP destination address; for ARP over IPv4 the target protocol address.
    pub dst: Option<IpAddr>,
    /// IP length from the header: IPv4 total length, IPv6 payload length + 40.
    pub ip_len: u32,
    /// IP protocol / final IPv6 next header (after extension headers).
    pub ip_proto: u8,
    /// TTL / hop limit.
    pub ttl: u8,
    /// A fragment other than the first: no transport header to read.
    pub fragment: bool,
    /// The transport layer.
    pub transport: Transport,
    /// TCP/UDP source port (0 otherwise).
    pub src_port: u16,
    /// TCP/UDP destination port (0 otherwise).
    pub dst_port: u16,
    /// TCP flags (empty otherwise).
    pub tcp_flags: TcpFlags,
    /// ICMP / ICMPv6 type (0 otherwise).
    pub icmp_type: u8,
    /// ICMP / ICMPv6 code (0 otherwise).
    pub icmp_code: u8,
    /// ARP operation (1 request, 2 reply; 0 otherwise).
    pub arp_op: u16,
    /// Where decoding stopped, if it did.
    pub error: Option<DecodeError>,
}

impl PacketMeta {
    /// IPv4 or IPv6.
    #[inline]
    pub fn is_ip(&self) -> bool {
        matches!(self.network, Network::Ipv4 | Network::Ipv6)
    }
    /// The snaplen cut this packet.
    #[inline]
    pub fn is_snapped(&self) -> bool {
        self.cap_len < self.wire_len
    }
}

/// A decoded packet borrowing the capture buffer: the metadata plus access to
/// the frame and the bytes above each decoded layer.
#[derive(Debug, Clone, Copy)]
pub struct PacketView<'a> {
    /// Everything decoded, as plain values.
    pub meta: PacketMeta,
    frame: &'a [u8],
    network_offset: usize,
    payload_offset: usize,
}

impl<'a> PacketView<'a> {
    /// The whole captured frame.
    pub fn frame(&self) -> &'a [u8] {
        self.frame
    }
    /// The bytes from the network header on (empty if no network layer).
    pub fn network_bytes(&self) -> &'a [u8] {
        self.frame.get(self.network_offset..).unwrap_or(&[])
    }
    /// The bytes after the deepest decoded header: the TCP/UDP payload for
    /// TCP/UDP, the ICMP body, the IP payload for other protocols.
    pub fn payload(&self) -> &'a [u8] {
        self.frame.get(self.payload_offset..).unwrap_or(&[])
    }
}

/// Decodes one frame. Never fails as a whole: see `meta.error`.
///
/// `ts_ns` and `wire_len` are copied into the metadata as given.
pub fn decode(link: LinkType, frame: &[u8], ts_ns: u64, wire_len: u32) -> PacketView<'_> {
    let mut meta = PacketMeta {
        ts_ns,
        wire_len,
        cap_len: u32::try_from(frame.len()).unwrap_or(u32::MAX),
        link,
        ..PacketMeta::default()
    };
    let mut offsets = (frame.len(), frame.len());
    if let Err(e) = decode_into(&mut meta, &mut offsets, link, frame) {
        meta.error = Some(e);
    }
    PacketView {
        meta,
        frame,
        network_offset: offsets.0,
        payload_offset: offsets.1,
    }
}

#[inline]
fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

#[inline]
fn decode_into(
    meta: &mut PacketMeta,
    offsets: &mut (usize, usize),
    link: LinkType,
    frame: &[u8],
) -> Result<(), DecodeError> {
    let (ethertype, net_off) = match link {
        LinkType::Ethernet => ethernet(meta, frame)?,
        LinkType::LinuxSll => {
            // sll_header: pkttype u16, hatype u16, halen u16, addr [u8; 8], protocol u16.
            let proto = be16(frame, 14).ok_or(DecodeError::TruncatedLink)?;
            (sll_protocol(proto), 16)
        }
        LinkType::LinuxSll2 => {
            // sll2_header: protocol u16, reserved u16, ifindex u32, hatype u16,
            // pkttype u8, halen u8, addr [u8; 8].
            if frame.len() < 20 {
                return Err(DecodeError::TruncatedLink);
            }
            let proto = be16(frame, 0).ok_or(DecodeError::TruncatedLink)?;
            (sll_protocol(proto), 20)
        }
        LinkType::RawIp => {
            let first = *frame.first().ok_or(DecodeError::TruncatedIpv4)?;
            match first >> 4 {
                4 => (ethertype::IPV4, 0),
                6 => (ethertype::IPV6, 0),
                _ => return Err(DecodeError::BadIpVersion),
            }
        }
        LinkType::Ipv4 => (ethertype::IPV4, 0),
        LinkType::Ipv6 => (ethertype::IPV6, 0),
        LinkType::Network(et) => (et, 0),
        LinkType::Null | LinkType::Loop => {
            let b: [u8; 4] = frame
                .get(..4)
                .and_then(|s| s.try_into().ok())
                .ok_or(DecodeError::TruncatedLink)?;
            // NULL is in the writer's byte order, LOOP is big endian: accept either.
            let family = if link == LinkType::Loop {
                u32::from_be_bytes(b)
            } else {
                let le = u32::from_le_bytes(b);
                if le < 256 { le } else { u32::from_be_bytes(b) }
            };
            match family {
                2 => (ethertype::IPV4, 4),
                // AF_INET6 differs per OS: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30.
                10 | 24 | 28 | 30 => (ethertype::IPV6, 4),
                _ => (0, 4),
            }
        }
        LinkType::Other(_) => return Err(DecodeError::UnsupportedLinkType),
    };
    meta.ethertype = ethertype;
    offsets.0 = net_off;
    offsets.1 = net_off;
    let rest = frame.get(net_off..).unwrap_or(&[]);
    match ethertype {
        ethertype::IPV4 => ipv4(meta, offsets, rest),
        ethertype::IPV6 => ipv6(meta, offsets, rest),
        ethertype::ARP => arp(meta, rest),
        _ => {
            meta.network = Network::Other;
            Ok(())
        }
    }
}

/// SLL protocol values below 0x0600 are not EtherTypes (802.3, 802.2 LLC, CAN...).
#[inline]
fn sll_protocol(proto: u16) -> u16 {
    if proto >= 0x0600 { proto } else { 0 }
}

#[inline]
fn ethernet(meta: &mut PacketMeta, frame: &[u8]) -> Result<(u16, usize), DecodeError> {
    let eth = Ethernet2HeaderSlice::from_slice(frame).map_err(|_| DecodeError::TruncatedLink)?;
    let mut et = eth.ether_type().0;
    let mut off = eth.slice().len();
    while matches!(et, ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD) {
        if meta.vlan_tags >= MAX_VLAN_TAGS {
            return Err(DecodeError::BadVlan);
        }
        let rest = frame.get(off..).unwrap_or(&[]);
        let tag = SingleVlanHeaderSlice::from_slice(rest).map_err(|_| DecodeError::BadVlan)?;
        if meta.vlan_tags == 0 {
            meta.vlan_id = tag.vlan_identifier().value();
        }
        meta.vlan_tags += 1;
        et = tag.ether_type().0;
        off += tag.slice().len();
    }
    // Values below 0x0600 are 802.3 lengths, not EtherTypes.
    Ok((if et >= 0x0600 { et } else { 0 }, off))
}

#[inline]
fn ipv4(meta: &mut PacketMeta, offsets: &mut (usize, usize), b: &[u8]) -> Result<(), DecodeError> {
    use etherparse::err::ipv4::{HeaderError, HeaderSliceError};
    let h = Ipv4HeaderSlice::from_slice(b).map_err(|e| match e {
        HeaderSliceError::Len(_) => DecodeError::TruncatedIpv4,
        HeaderSliceError::Content(HeaderError::UnexpectedVersion { .. }) => {
            DecodeError::BadIpVersion
        }
        HeaderSliceError::Content(_) => DecodeError::BadIpv4Header,
    })?;
    meta.network = Network::Ipv4;
    meta.src = Some(IpAddr::V4(Ipv4Addr::from(h.source())));
    meta.dst = Some(IpAddr::V4(Ipv4Addr::from(h.destination())));
    let hlen = h.slice().len();
    let total = usize::from(h.total_len());
    meta.ip_len = u32::from(h.total_len());
    meta.ip_proto = h.protocol().0;
    meta.ttl = h.ttl();
    if total < hlen {
        return Err(DecodeError::BadIpv4Header);
    }
    offsets.1 += hlen;
    if h.fragments_offset().value() != 0 {
        meta.fragment = true;
        return Ok(());
    }
    // Ethernet pads short frames: the IP payload ends at total length, or at
    // the end of what was captured when the snaplen cut it.
    let end = total.min(b.len());
    let payload = b.get(hlen..end).unwrap_or(&[]);
    transport(meta, offsets, h.protocol(), payload, false)
}

#[inline]
fn ipv6(meta: &mut PacketMeta, offsets: &mut (usize, usize), b: &[u8]) -> Result<(), DecodeError> {
    use etherparse::err::ipv6::HeaderSliceError;
    let h = Ipv6HeaderSlice::from_slice(b).map_err(|e| match e {
        HeaderSliceError::Len(_) => DecodeError::TruncatedIpv6,
        HeaderSliceError::Content(_) => DecodeError::BadIpVersion,
    })?;
    meta.network = Network::Ipv6;
    meta.src = Some(IpAddr::V6(Ipv6Addr::from(h.source())));
    meta.dst = Some(IpAddr::V6(Ipv6Addr::from(h.destination())));
    let plen = usize::from(h.payload_length());
    meta.ip_len = u32::from(h.payload_length()) + 40;
    meta.ttl = h.hop_limit();
    let mut proto = h.next_header();
    meta.ip_proto = proto.0;
    offsets.1 += 40;
    // A payload length of 0 means a jumbogram (or a lie): use what was captured.
    let end = if plen == 0 {
        b.len()
    } else {
        (40 + plen).min(b.len())
    };
    let mut payload = b.get(40..end).unwrap_or(&[]);
    if is_ipv6_ext(proto) {
        let (exts, last, rest) = Ipv6ExtensionsSlice::from_slice(proto, payload)
            .map_err(|_| DecodeError::BadIpv6Extension)?;
        offsets.1 += exts.slice().len();
        proto = last;
        meta.ip_proto = proto.0;
        payload = rest;
        if exts.is_fragmenting_payload() {
            meta.fragment = true;
            return Ok(());
        }
    }
    transport(meta, offsets, proto, payload, true)
}

#[inline]
fn is_ipv6_ext(p: IpNumber) -> bool {
    // Hop-by-hop, routing, fragment, AH, destination options, mobility, HIP, shim6.
    matches!(p.0, 0 | 43 | 44 | 51 | 60 | 135 | 139 | 140)
}

#[inline]
fn transport(
    meta: &mut PacketMeta,
    offsets: &mut (usize, usize),
    proto: IpNumber,
    b: &[u8],
    v6: bool,
) -> Result<(), DecodeError> {
    use etherparse::err::tcp::HeaderSliceError;
    match proto.0 {
        6 => {
            let t = TcpHeaderSlice::from_slice(b).map_err(|e| match e {
                HeaderSliceError::Len(_) => DecodeError::TruncatedTcp,
                HeaderSliceError::Content(_) => DecodeError::BadTcpHeader,
            })?;
            meta.transport = Transport::Tcp;
            meta.src_port = t.source_port();
            meta.dst_port = t.destination_port();
            // Byte 13 holds the eight classic flags; read it once instead of
            // eight accessor calls.
            meta.tcp_flags = TcpFlags(t.slice()[13]);
            offsets.1 += t.slice().len();
        }
        17 => {
            let u = UdpHeaderSlice::from_slice(b).map_err(|_| DecodeError::TruncatedUdp)?;
            meta.transport = Transport::Udp;
            meta.src_port = u.source_port();
            meta.dst_port = u.destination_port();
            offsets.1 += 8;
        }
        1 if !v6 => {
            // The ICMPv4 header is 8 bytes; etherparse's Icmpv4Slice also insists
            // on exact timestamp-message lengths, which padded frames break, so
            // only type and code are read here.
            if b.len() < 8 {
                return Err(DecodeError::TruncatedIcmpv4);
            }
            meta.transport = Transport::Icmpv4;
            meta.icmp_type = b[0];
            meta.icmp_code = b[1];
            offsets.1 += 8;
        }
        58 => {
            let i = Icmpv6Slice::from_slice(b).map_err(|_| DecodeError::TruncatedIcmpv6)?;
            meta.transport = Transport::Icmpv6;
            meta.icmp_type = i.type_u8();
            meta.icmp_code = i.code_u8();
            offsets.1 += 8;
        }
        _ => meta.transport = Transport::Other,
    }
    Ok(())
}

#[inline]
fn arp(meta: &mut PacketMeta, b: &[u8]) -> Result<(), DecodeError> {
    let a = ArpPacketSlice::from_slice(b).map_err(|_| DecodeError::TruncatedArp)?;
    meta.network = Network::Arp;
    meta.arp_op = a.operation().0;
    if a.proto_addr_type().0 == ethertype::IPV4 && a.proto_addr_size() == 4 {
        let s: Option<[u8; 4]> = a.sender_protocol_addr().try_into().ok();
        let t: Option<[u8; 4]> = a.target_protocol_addr().try_into().ok();
        meta.src = s.map(|s| IpAddr::V4(Ipv4Addr::from(s)));
        meta.dst = t.map(|t| IpAddr::V4(Ipv4Addr::from(t)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ethernet + IPv4 + TCP SYN 10.0.0.1:1234 -> 10.0.0.2:80, no payload.
    const ETH_TCP_SYN: &[u8] = &[
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, // ethernet
        0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // ipv4
        0x04, 0xd2, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0, // tcp
    ];

    #[test]
    fn ethernet_ipv4_tcp() {
        let v = decode(LinkType::Ethernet, ETH_TCP_SYN, 7, 54);
        let m = v.meta;
        assert_eq!(m.error, None);
        assert_eq!(m.network, Network::Ipv4);
        assert_eq!(m.src, Some("10.0.0.1".parse().unwrap()));
        assert_eq!(m.dst, Some("10.0.0.2".parse().unwrap()));
        assert_eq!(m.transport, Transport::Tcp);
        assert_eq!((m.src_port, m.dst_port), (1234, 80));
        assert!(m.tcp_flags.syn() && !m.tcp_flags.ack());
        assert_eq!(m.ip_len, 40);
        assert_eq!(m.ttl, 64);
        assert_eq!(v.payload(), &[] as &[u8]);
        assert_eq!(v.network_bytes().len(), 40);
    }

    #[test]
    fn every_truncation_is_counted_not_panicking() {
        let mut errs = DecodeErrors::default();
        for n in 0..ETH_TCP_SYN.len() {
            let v = decode(LinkType::Ethernet, &ETH_TCP_SYN[..n], 0, 54);
            let e = v.meta.error.expect("a cut frame must report an error");
            errs.record(e);
            match n {
                0..=13 => assert_eq!(e, DecodeError::TruncatedLink),
                14..=33 => assert_eq!(e, DecodeError::TruncatedIpv4),
                _ => {
                    assert_eq!(e, DecodeError::TruncatedTcp);
                    // IP layer is still reported when TCP is cut.
                    assert_eq!(v.meta.network, Network::Ipv4);
                }
            }
        }
        assert_eq!(errs.total(), ETH_TCP_SYN.len() as u64);
        assert_eq!(errs.get(DecodeError::TruncatedLink), 14);
    }

    #[test]
    fn qinq_vlan() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0xc8, 0x08, 0x00]);
        f.extend_from_slice(&ETH_TCP_SYN[14..]);
        let m = decode(LinkType::Ethernet, &f, 0, f.len() as u32).meta;
        assert_eq!(m.error, None);
        assert_eq!(m.vlan_tags, 2);
        assert_eq!(m.vlan_id, 100);
        assert_eq!(m.dst_port, 80);
    }

    #[test]
    fn too_many_vlan_tags() {
        let mut f = vec![0u8; 12];
        for _ in 0..6 {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x01]);
        }
        f.extend_from_slice(&[0x08, 0x00]);
        assert_eq!(
            decode(LinkType::Ethernet, &f, 0, 0).meta.error,
            Some(DecodeError::BadVlan)
        );
    }

    #[test]
    fn sll2_ipv6_udp() {
        let mut f = vec![
            0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        // IPv6 header: version 6, payload 8, next header UDP, hop limit 1, ::1 -> ::2
        f.extend_from_slice(&[0x60, 0, 0, 0, 0, 8, 17, 1]);
        f.extend_from_slice(&[0; 15]);
        f.push(1);
        f.extend_from_slice(&[0; 15]);
        f.push(2);
        f.extend_from_slice(&[0x00, 0x35, 0x30, 0x39, 0, 8, 0, 0]);
        let m = decode(LinkType::LinuxSll2, &f, 0, f.len() as u32).meta;
        assert_eq!(m.error, None);
        assert_eq!(m.network, Network::Ipv6);
        assert_eq!(m.transport, Transport::Udp);
        assert_eq!((m.src_port, m.dst_port), (53, 12345));
        assert_eq!(m.src, Some("::1".parse().unwrap()));
        assert_eq!(m.ip_len, 48);
    }

    #[test]
    fn sll_arp() {
        let mut f = vec![0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x06];
        f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        f.extend_from_slice(&[
            1, 2, 3, 4, 5, 6, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 7,
        ]);
        let m = decode(LinkType::LinuxSll, &f, 0, 0).meta;
        assert_eq!(m.error, None);
        assert_eq!(m.network, Network::Arp);
        assert_eq!(m.arp_op, 1);
        assert_eq!(m.src, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(m.dst, Some("192.0.2.7".parse().unwrap()));
        assert!(!m.is_ip());
    }

    #[test]
    fn raw_ip_icmp_and_bad_version() {
        let icmp = [
            0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1, 8, 0, 0, 0, 0, 1,
            0, 1,
        ];
        let m = decode(LinkType::RawIp, &icmp, 0, 28).meta;
        assert_eq!(m.transport, Transport::Icmpv4);
        assert_eq!(m.icmp_type, 8);
        let m = decode(LinkType::Ipv4, &icmp, 0, 28).meta;
        assert_eq!(m.transport, Transport::Icmpv4);
        let mut bad = icmp;
        bad[0] = 0x75;
        assert_eq!(
            decode(LinkType::RawIp, &bad, 0, 28).meta.error,
            Some(DecodeError::BadIpVersion)
        );
        assert_eq!(
            decode(LinkType::Ipv4, &bad, 0, 28).meta.error,
            Some(DecodeError::BadIpVersion)
        );
        let mut bad_ihl = icmp;
        bad_ihl[0] = 0x44;
        assert_eq!(
            decode(LinkType::RawIp, &bad_ihl, 0, 28).meta.error,
            Some(DecodeError::BadIpv4Header)
        );
        assert_eq!(
            decode(LinkType::Other(147), &icmp, 0, 28).meta.error,
            Some(DecodeError::UnsupportedLinkType)
        );
    }

    #[test]
    fn non_first_fragment_has_no_transport() {
        let mut p = ETH_TCP_SYN.to_vec();
        p[14 + 6] = 0x00;
        p[14 + 7] = 0x10; // fragment offset 16 * 8 bytes
        let m = decode(LinkType::Ethernet, &p, 0, 0).meta;
        assert_eq!(m.error, None);
        assert!(m.fragment);
        assert_eq!(m.transport, Transport::None);
    }

    #[test]
    fn bsd_null_loopback() {
        let mut f = vec![2, 0, 0, 0];
        f.extend_from_slice(&ETH_TCP_SYN[14..]);
        let m = decode(LinkType::Null, &f, 0, 0).meta;
        assert_eq!(m.transport, Transport::Tcp);
    }

    #[test]
    fn flags_debug() {
        assert_eq!(format!("{:?}", TcpFlags(0x12)), "TcpFlags(SYN|ACK)");
    }
}
