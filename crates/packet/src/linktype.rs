//! Link-layer types: which framing a capture's bytes start with.
//!
//! Capture files and live sockets each name their framing with a number
//! (`LINKTYPE_*` in pcap and pcapng, `ARPHRD_*` on Linux sockets). This module
//! turns those numbers into one small enum so the decoder can dispatch on it
//! without knowing where the packet came from.
#![forbid(unsafe_code)]

use std::fmt;

/// The framing of a captured packet's first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LinkType {
    /// `LINKTYPE_ETHERNET` (1): Ethernet II, possibly with 802.1Q / 802.1ad tags.
    #[default]
    Ethernet,
    /// `LINKTYPE_RAW` (101, also DLT 12 and 14 on some systems): bare IPv4 or IPv6,
    /// told apart by the version nibble.
    RawIp,
    /// `LINKTYPE_IPV4` (228): bare IPv4.
    Ipv4,
    /// `LINKTYPE_IPV6` (229): bare IPv6.
    Ipv6,
    /// `LINKTYPE_LINUX_SLL` (113): Linux "cooked" v1 header, 16 bytes.
    LinuxSll,
    /// `LINKTYPE_LINUX_SLL2` (276): Linux "cooked" v2 header, 20 bytes; what
    /// `tcpdump -i any` writes since libpcap 1.10.
    LinuxSll2,
    /// `LINKTYPE_NULL` (0): BSD loopback, 4-byte address family in host order.
    Null,
    /// `LINKTYPE_LOOP` (108): OpenBSD loopback, 4-byte address family, big endian.
    Loop,
    /// No link header: the frame starts at the network layer, whose EtherType
    /// is given here. Live capture on the `any` pseudo-interface produces it
    /// (the kernel reports each packet's protocol beside the bytes); files
    /// never do.
    Network(u16),
    /// Any other link type: the packet is counted but not decoded.
    Other(u32),
}

impl LinkType {
    /// One link type of each framing (an ARP EtherType for `Network`, an unknown
    /// number for `Other`): what tests and fuzzing run a frame through to cover
    /// every path of the decoder.
    pub const SAMPLES: [LinkType; 10] = [
        LinkType::Ethernet,
        LinkType::RawIp,
        LinkType::Ipv4,
        LinkType::Ipv6,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Null,
        LinkType::Loop,
        LinkType::Network(0x0806),
        LinkType::Other(9),
    ];

    /// Maps a pcap / pcapng `LINKTYPE_*` number.
    pub fn from_linktype(value: u32) -> LinkType {
        match value {
            1 => LinkType::Ethernet,
            // 12 and 14 are DLT_RAW on OpenBSD / BSD/OS; some writers put them in files.
            101 | 12 | 14 => LinkType::RawIp,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            0 => LinkType::Null,
            108 => LinkType::Loop,
            other => LinkType::Other(other),
        }
    }

    /// The `LINKTYPE_*` number written to capture files.
    pub fn to_linktype(self) -> u32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::RawIp => 101,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Null => 0,
            LinkType::Loop => 108,
            // Only IP survives as a file link type (LINKTYPE_RAW); ARP and others
            // would need a cooked header.
            LinkType::Network(_) => 101,
            LinkType::Other(v) => v,
        }
    }

    /// Whether the decoder understands this framing.
    pub fn is_supported(self) -> bool {
        !matches!(self, LinkType::Other(_))
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkType::Ethernet => f.write_str("ethernet"),
            LinkType::RawIp => f.write_str("raw-ip"),
            LinkType::Ipv4 => f.write_str("ipv4"),
            LinkType::Ipv6 => f.write_str("ipv6"),
            LinkType::LinuxSll => f.write_str("linux-sll"),
            LinkType::LinuxSll2 => f.write_str("linux-sll2"),
            LinkType::Null => f.write_str("bsd-null"),
            LinkType::Loop => f.write_str("bsd-loop"),
            LinkType::Network(et) => write!(f, "network-{et:#06x}"),
            LinkType::Other(v) => write!(f, "linktype-{v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for v in [0u32, 1, 101, 108, 113, 228, 229, 276, 999] {
            assert_eq!(LinkType::from_linktype(v).to_linktype(), v);
        }
        assert_eq!(LinkType::from_linktype(12), LinkType::RawIp);
        assert!(!LinkType::Other(5).is_supported());
    }
}
