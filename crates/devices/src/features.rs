//! What one device did in one window: counters and fixed-size distinct-count
//! sketches filled on the packet path (no allocation), read once when the
//! window closes into a [`FeatureVector`].
//!
//! Distinct counts use linear counting over small bitmaps (Whang et al.
//! 1990): a bit per hash, the estimate `-m ln(zero bits / m)`; within a few
//! per cent up to a few times `m`, saturating at `m ln m` (the value is then
//! a lower bound, which is all an alarm needs). IoTVigilant's six counts are
//! among the features: packets, distinct source and destination addresses and
//! ports, distinct protocol stacks.

/// One feature of a device window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Feature {
    /// Packets the device sent.
    PktsOut,
    /// Packets sent to the device.
    PktsIn,
    /// Bytes (on the wire) the device sent.
    BytesOut,
    /// Bytes sent to the device.
    BytesIn,
    /// Distinct destination addresses of its packets.
    DstAddrs,
    /// Distinct destination ports of its TCP/UDP packets.
    DstPorts,
    /// Distinct source addresses it used.
    SrcAddrs,
    /// Distinct source ports of its TCP/UDP packets.
    SrcPorts,
    /// Distinct protocol stacks (ARP, IPv4/TCP, IPv6/UDP, ...).
    Protocols,
    /// TCP connections it started (SYN without ACK).
    Syns,
    /// Its connections that failed: a TCP reset or an ICMP unreachable back.
    Failed,
    /// DNS queries it sent.
    DnsQueries,
    /// Distinct names in its DNS queries.
    DnsNames,
    /// Mean length of the names it queried (windows with queries only).
    DnsNameLen,
    /// Mean per-character entropy of the names it queried, in bits.
    DnsEntropy,
    /// Destinations it started talking to that it never had before
    /// (monitoring only; a device whose set was stable while learning).
    NewDsts,
}

/// Number of features.
pub const N_FEATURES: usize = 16;
/// Features with a per-device statistical model (all but [`Feature::NewDsts`],
/// which is novelty).
pub const N_MODELLED: usize = 15;

impl Feature {
    /// Every feature, in vector order.
    pub const ALL: [Feature; N_FEATURES] = [
        Feature::PktsOut,
        Feature::PktsIn,
        Feature::BytesOut,
        Feature::BytesIn,
        Feature::DstAddrs,
        Feature::DstPorts,
        Feature::SrcAddrs,
        Feature::SrcPorts,
        Feature::Protocols,
        Feature::Syns,
        Feature::Failed,
        Feature::DnsQueries,
        Feature::DnsNames,
        Feature::DnsNameLen,
        Feature::DnsEntropy,
        Feature::NewDsts,
    ];

    /// The name in events and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Feature::PktsOut => "pkts_out",
            Feature::PktsIn => "pkts_in",
            Feature::BytesOut => "bytes_out",
            Feature::BytesIn => "bytes_in",
            Feature::DstAddrs => "dst_addrs",
            Feature::DstPorts => "dst_ports",
            Feature::SrcAddrs => "src_addrs",
            Feature::SrcPorts => "src_ports",
            Feature::Protocols => "protocols",
            Feature::Syns => "syns",
            Feature::Failed => "failed",
            Feature::DnsQueries => "dns_queries",
            Feature::DnsNames => "dns_names",
            Feature::DnsNameLen => "dns_name_len",
            Feature::DnsEntropy => "dns_entropy",
            Feature::NewDsts => "new_dsts",
        }
    }

    /// Whether the feature is a mean over DNS queries (only defined in
    /// windows with queries).
    pub fn is_dns_mean(self) -> bool {
        matches!(self, Feature::DnsNameLen | Feature::DnsEntropy)
    }
}

/// The feature values of one device window, in [`Feature::ALL`] order.
pub type FeatureVector = [f64; N_FEATURES];

/// A bitmap of `W` words for linear counting.
#[derive(Debug, Clone, Copy)]
pub struct Bits<const W: usize>([u64; W]);

impl<const W: usize> Default for Bits<W> {
    fn default() -> Self {
        Bits([0; W])
    }
}

impl<const W: usize> Bits<W> {
    /// Sets the bit of `hash`; true when it was not set (a new value, up to
    /// collisions).
    #[inline]
    pub fn insert(&mut self, hash: u64) -> bool {
        let bit = (hash as usize) % (W * 64);
        let (w, b) = (bit / 64, bit % 64);
        let was = self.0[w] & (1 << b) != 0;
        self.0[w] |= 1 << b;
        !was
    }

    /// The linear-counting estimate of distinct values inserted.
    pub fn estimate(&self) -> f64 {
        let m = (W * 64) as f64;
        let ones: u32 = self.0.iter().map(|w| w.count_ones()).sum();
        if ones == 0 {
            return 0.0;
        }
        let zeros = m - f64::from(ones);
        if zeros < 1.0 {
            return m * m.ln();
        }
        (-m * (zeros / m).ln()).round()
    }

    /// Empties the bitmap.
    pub fn clear(&mut self) {
        self.0 = [0; W];
    }
}

/// The accumulators of one device's current window.
#[derive(Debug, Clone, Default)]
pub struct WindowAcc {
    /// Packets out.
    pub pkts_out: u64,
    /// Packets in.
    pub pkts_in: u64,
    /// Bytes out.
    pub bytes_out: u64,
    /// Bytes in.
    pub bytes_in: u64,
    /// SYNs started.
    pub syns: u64,
    /// Failed connections.
    pub failed: u64,
    /// DNS queries.
    pub dns_queries: u64,
    /// Sum of the queried names' lengths.
    pub dns_len_sum: f64,
    /// Sum of the queried names' entropies.
    pub dns_entropy_sum: f64,
    /// New destinations seen (monitoring).
    pub new_dsts: u64,
    /// Protocol stacks seen, one bit each.
    pub protocols: u16,
    /// Destination addresses.
    pub dst_addrs: Bits<16>,
    /// Destination ports.
    pub dst_ports: Bits<8>,
    /// Source addresses.
    pub src_addrs: Bits<1>,
    /// Source ports.
    pub src_ports: Bits<8>,
    /// Queried names.
    pub dns_names: Bits<4>,
}

impl WindowAcc {
    /// The window's feature values.
    pub fn features(&self) -> FeatureVector {
        let q = self.dns_queries as f64;
        [
            self.pkts_out as f64,
            self.pkts_in as f64,
            self.bytes_out as f64,
            self.bytes_in as f64,
            self.dst_addrs.estimate(),
            self.dst_ports.estimate(),
            self.src_addrs.estimate(),
            self.src_ports.estimate(),
            f64::from(self.protocols.count_ones()),
            self.syns as f64,
            self.failed as f64,
            q,
            self.dns_names.estimate(),
            if q > 0.0 { self.dns_len_sum / q } else { 0.0 },
            if q > 0.0 {
                self.dns_entropy_sum / q
            } else {
                0.0
            },
            self.new_dsts as f64,
        ]
    }

    /// Empties the window (no allocation: the struct is reused).
    pub fn clear(&mut self) {
        *self = WindowAcc::default();
    }
}

/// A 64-bit mix of a value (the MurmurHash3 finaliser).
#[inline]
pub fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The queried name of a DNS query message (UDP payload): its hash (case
/// folded), length (with the dots) and per-character Shannon entropy in bits.
/// `None` for answers, malformed or compressed names: attacker bytes, so every
/// offset is checked and the walk is bounded by the 255-byte name limit.
pub fn dns_query_name(payload: &[u8]) -> Option<(u64, usize, f64)> {
    let flags = *payload.get(2)?;
    if flags & 0x80 != 0 {
        return None; // an answer
    }
    let qdcount = u16::from_be_bytes([*payload.get(4)?, *payload.get(5)?]);
    if qdcount == 0 {
        return None;
    }
    let mut at = 12usize;
    let mut hist = [0u8; 40];
    let mut chars = 0usize;
    let mut labels = 0usize;
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    loop {
        let len = usize::from(*payload.get(at)?);
        if len == 0 {
            break;
        }
        if len > 63 {
            return None; // compression or a reserved label type
        }
        let label = payload.get(at + 1..at + 1 + len)?;
        for &b in label {
            let c = b.to_ascii_lowercase();
            hash = (hash ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3);
            let slot = match c {
                b'a'..=b'z' => c - b'a',
                b'0'..=b'9' => 26 + (c - b'0'),
                b'-' => 36,
                b'_' => 37,
                _ => 38,
            };
            let h = &mut hist[usize::from(slot)];
            *h = h.saturating_add(1);
        }
        hash = (hash ^ u64::from(b'.')).wrapping_mul(0x0100_0000_01b3);
        chars += len;
        labels += 1;
        at += 1 + len;
        if chars + labels > 255 {
            return None;
        }
    }
    if chars == 0 {
        return Some((fmix(hash), 0, 0.0));
    }
    let n = chars as f64;
    let entropy = hist
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum();
    Some((fmix(hash), chars + labels - 1, entropy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str) -> Vec<u8> {
        let mut p = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name.split('.') {
            p.push(l.len() as u8);
            p.extend_from_slice(l.as_bytes());
        }
        p.extend_from_slice(&[0, 0, 1, 0, 1]);
        p
    }

    #[test]
    fn dns_names_are_measured_and_hostile_bytes_refused() {
        let (h1, len, e) = dns_query_name(&query("example.com")).unwrap();
        assert_eq!(len, 11);
        assert!(e > 2.5 && e < 3.5, "{e}");
        let (h2, _, _) = dns_query_name(&query("EXAMPLE.com")).unwrap();
        assert_eq!(h1, h2);
        let (_, _, e2) = dns_query_name(&query("aaaa.aaaa")).unwrap();
        assert_eq!(e2, 0.0);
        let mut answer = query("example.com");
        answer[2] |= 0x80;
        assert!(dns_query_name(&answer).is_none());
        let q = query("example.com");
        for cut in 0..q.len() - 5 {
            let _ = dns_query_name(&q[..cut]);
        }
        assert!(dns_query_name(&[0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12]).is_none());
        // A chain of 63-byte labels longer than 255 is refused.
        let mut long = vec![0u8, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for _ in 0..10 {
            long.push(63);
            long.extend_from_slice(&[b'a'; 63]);
        }
        long.push(0);
        assert!(dns_query_name(&long).is_none());
    }

    #[test]
    fn linear_counting_is_close() {
        let mut b = Bits::<16>::default();
        for i in 0..254u64 {
            b.insert(fmix(i));
        }
        let e = b.estimate();
        assert!((e - 254.0).abs() < 20.0, "{e}");
        let mut c = Bits::<1>::default();
        for i in 0..10_000u64 {
            c.insert(fmix(i));
        }
        assert!(c.estimate() >= 200.0);
    }
}
