//! The per-window statistics computed from the counters: NetSpot's ten, as
//! one enum with one formula each.
//!
//! To add a statistic: add a variant to [`Stat`] and [`Stat::ALL`]; the
//! compiler then asks for its name, formula and contributor class in
//! [`Stat::info`] and [`Stat::compute`].
//!
//! Formulas follow NetSpot (`research/spot-netspot.md` §1.3) with one
//! correction to its edge cases: a ratio whose denominator is zero (an empty
//! window, or one without the packets the ratio is about) is NaN, "no value
//! this window", never 0 — NaN is not fed to SPOT, so quiet periods neither
//! drag a model towards 0 nor show as rows of false alarms. NetSpot gives 0
//! for R_SYN, R_ACK, R_DST_SRC and R_DST_SRC_PORT of an empty window. Two
//! more deliberate changes: TRAFFIC is IP packets per *second* over the
//! window's width (NetSpot divides by the time between last packets and, by
//! a units slip, gives packets per millisecond), and PERF is measured over
//! the wall time between window closes.
//!
//! Every statistic has a [`StatInfo::range`], what it can take (a share is
//! within 0..=1); thresholds are reported within it (see the monitors).
#![forbid(unsafe_code)]

use crate::counters::{Class, Counter, Counts};
use crate::sources::{Measure, SCALES, SourceValues};

/// A per-window statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Stat {
    /// Mean IP packet size: IP_BYTES / IP.
    AvgPktSize,
    /// Packets processed per wall-clock second (depends on the machine: not
    /// monitored by default).
    Perf,
    /// ACK / IP.
    RAck,
    /// SYN / IP.
    RSyn,
    /// ARP / PKTS.
    RArp,
    /// ICMP / IP.
    RIcmp,
    /// IP / PKTS.
    RIp,
    /// NB_UNIQ_DST_ADDR / NB_UNIQ_SRC_ADDR.
    RDstSrc,
    /// NB_UNIQ_DST_PORT / NB_UNIQ_SRC_PORT.
    RDstSrcPort,
    /// IP packets per second.
    Traffic,
    /// Most distinct destination ports one source contacted in the window.
    SrcPorts,
    /// The same over the last 10 windows.
    SrcPortsX10,
    /// The same over the last 100 windows.
    SrcPortsX100,
    /// Most distinct destination hosts one source contacted in the window.
    SrcHosts,
    /// The same over the last 10 windows.
    SrcHostsX10,
    /// The same over the last 100 windows.
    SrcHostsX100,
    /// Largest share of one source's connection attempts not accepted.
    SrcFailed,
    /// The same over the last 10 windows.
    SrcFailedX10,
    /// The same over the last 100 windows.
    SrcFailedX100,
    /// Most connections one source opened to remote-login services.
    SrcLogins,
    /// The same over the last 10 windows.
    SrcLoginsX10,
    /// The same over the last 100 windows.
    SrcLoginsX100,
    /// Most distinct ports of one destination probed, by any sources.
    DstPorts,
    /// The same over the last 10 windows.
    DstPortsX10,
    /// The same over the last 100 windows.
    DstPortsX100,
    /// Most distinct sources that started connections to one destination.
    DstSources,
    /// The same over the last 10 windows.
    DstSourcesX10,
    /// The same over the last 100 windows.
    DstSourcesX100,
    /// Most connections to one destination's remote-login services.
    DstLogins,
    /// The same over the last 10 windows.
    DstLoginsX10,
    /// The same over the last 100 windows.
    DstLoginsX100,
}

/// What a statistic's formula sees.
#[derive(Debug, Clone, Copy)]
pub struct StatInput<'a> {
    /// The window's counters.
    pub counts: &'a Counts,
    /// Window width in seconds of capture time.
    pub width_s: f64,
    /// Wall-clock seconds since the previous window closed (None for the first).
    pub wall_s: Option<f64>,
    /// The per-source measures ([`crate::sources`]).
    pub sources: &'a SourceValues,
}

/// Static facts about a statistic.
#[derive(Debug, Clone, Copy)]
pub struct StatInfo {
    /// NetSpot-style name, e.g. `R_SYN`.
    pub name: &'static str,
    /// One line for people.
    pub description: &'static str,
    /// Whether it is watched by default (PERF is not: it measures the machine).
    pub monitored: bool,
    /// The packets behind the statistic, for "who" in alarms.
    pub class: Class,
    /// The values the statistic can take, `(min, max)`: thresholds outside
    /// it are reported at its edge (a share never gets a threshold above 1).
    pub range: (f64, f64),
    /// The time scale in windows: 1, or 10 and 100 for the longer views.
    pub scale: u32,
    /// For a per-source statistic, its measure.
    pub measure: Option<Measure>,
    /// Lowest upper threshold that makes sense: below it a value is normal
    /// whatever was learnt (a network whose baseline never showed a login
    /// must not alarm on the first one). 0 for the link statistics.
    pub floor: f64,
}

/// The range of a share.
const SHARE: (f64, f64) = (0.0, 1.0);
/// The range of a count or rate.
const COUNT: (f64, f64) = (0.0, f64::INFINITY);

impl Stat {
    /// Number of statistics.
    pub const COUNT: usize = Stat::ALL.len();
    /// Every statistic, in index order.
    pub const ALL: [Stat; 31] = [
        Stat::AvgPktSize,
        Stat::Perf,
        Stat::RAck,
        Stat::RSyn,
        Stat::RArp,
        Stat::RIcmp,
        Stat::RIp,
        Stat::RDstSrc,
        Stat::RDstSrcPort,
        Stat::Traffic,
        Stat::SrcPorts,
        Stat::SrcPortsX10,
        Stat::SrcPortsX100,
        Stat::SrcHosts,
        Stat::SrcHostsX10,
        Stat::SrcHostsX100,
        Stat::SrcFailed,
        Stat::SrcFailedX10,
        Stat::SrcFailedX100,
        Stat::SrcLogins,
        Stat::SrcLoginsX10,
        Stat::SrcLoginsX100,
        Stat::DstPorts,
        Stat::DstPortsX10,
        Stat::DstPortsX100,
        Stat::DstSources,
        Stat::DstSourcesX10,
        Stat::DstSourcesX100,
        Stat::DstLogins,
        Stat::DstLoginsX10,
        Stat::DstLoginsX100,
    ];

    /// Name, description, default monitoring and contributor class.
    pub const fn info(self) -> StatInfo {
        const fn i(name: &'static str, description: &'static str, class: Class) -> StatInfo {
            StatInfo {
                name,
                description,
                monitored: true,
                class,
                range: SHARE,
                scale: 1,
                measure: None,
                floor: 0.0,
            }
        }
        const fn src(
            name: &'static str,
            description: &'static str,
            measure: Measure,
            scale: u32,
            floor: f64,
        ) -> StatInfo {
            StatInfo {
                range: if matches!(measure, Measure::Failed) {
                    SHARE
                } else {
                    COUNT
                },
                scale,
                measure: Some(measure),
                floor,
                ..i(name, description, Class::Ip)
            }
        }
        const PORTS: &str = "most distinct destination ports one source contacted";
        const HOSTS: &str = "most distinct destination hosts one source contacted";
        const FAILED: &str =
            "largest share of one source's connection attempts not accepted (at least 8 attempts)";
        const LOGINS: &str = "most connections one source opened to remote-login services";
        const DST_PORTS: &str = "most distinct ports of one destination probed, by any sources";
        const DST_SOURCES: &str = "most distinct sources that contacted one destination";
        const DST_LOGINS: &str = "most connections to one destination's remote-login services";
        const fn n(name: &'static str, description: &'static str, class: Class) -> StatInfo {
            StatInfo {
                range: COUNT,
                ..i(name, description, class)
            }
        }
        match self {
            Stat::AvgPktSize => StatInfo {
                range: (0.0, 65_575.0),
                ..i("AVG_PKT_SIZE", "mean IP packet size (bytes)", Class::Ip)
            },
            Stat::Perf => StatInfo {
                monitored: false,
                ..n("PERF", "packets processed per wall-clock second", Class::Ip)
            },
            Stat::RAck => i("R_ACK", "share of IP packets with TCP ACK", Class::Ip),
            Stat::RSyn => i("R_SYN", "share of IP packets with TCP SYN", Class::Syn),
            Stat::RArp => i("R_ARP", "share of packets that are ARP", Class::Arp),
            Stat::RIcmp => i("R_ICMP", "share of IP packets that are ICMP", Class::Icmp),
            Stat::RIp => i("R_IP", "share of packets that are IP", Class::Ip),
            Stat::RDstSrc => n(
                "R_DST_SRC",
                "distinct destination / distinct source addresses",
                Class::Ip,
            ),
            Stat::RDstSrcPort => n(
                "R_DST_SRC_PORT",
                "distinct destination / distinct source ports (TCP and UDP)",
                Class::Ip,
            ),
            Stat::Traffic => n("TRAFFIC", "IP packets per second", Class::Ip),
            Stat::SrcPorts => src("SRC_PORTS", PORTS, Measure::Ports, 1, 10.0),
            Stat::SrcPortsX10 => src("SRC_PORTS_X10", PORTS, Measure::Ports, 10, 10.0),
            Stat::SrcPortsX100 => src("SRC_PORTS_X100", PORTS, Measure::Ports, 100, 12.0),
            Stat::SrcHosts => src("SRC_HOSTS", HOSTS, Measure::Hosts, 1, 10.0),
            Stat::SrcHostsX10 => src("SRC_HOSTS_X10", HOSTS, Measure::Hosts, 10, 10.0),
            Stat::SrcHostsX100 => src("SRC_HOSTS_X100", HOSTS, Measure::Hosts, 100, 12.0),
            Stat::SrcFailed => src("SRC_FAILED", FAILED, Measure::Failed, 1, 0.5),
            Stat::SrcFailedX10 => src("SRC_FAILED_X10", FAILED, Measure::Failed, 10, 0.5),
            Stat::SrcFailedX100 => src("SRC_FAILED_X100", FAILED, Measure::Failed, 100, 0.5),
            Stat::SrcLogins => src("SRC_LOGINS", LOGINS, Measure::Logins, 1, 3.0),
            Stat::SrcLoginsX10 => src("SRC_LOGINS_X10", LOGINS, Measure::Logins, 10, 5.0),
            Stat::SrcLoginsX100 => src("SRC_LOGINS_X100", LOGINS, Measure::Logins, 100, 12.0),
            // Floors as the per-source ones: a server's own few services
            // and clients must not alarm on a network that learnt little.
            Stat::DstPorts => src("DST_PORTS", DST_PORTS, Measure::DstPorts, 1, 10.0),
            Stat::DstPortsX10 => src("DST_PORTS_X10", DST_PORTS, Measure::DstPorts, 10, 10.0),
            Stat::DstPortsX100 => src("DST_PORTS_X100", DST_PORTS, Measure::DstPorts, 100, 12.0),
            Stat::DstSources => src("DST_SOURCES", DST_SOURCES, Measure::DstSources, 1, 10.0),
            Stat::DstSourcesX10 => src(
                "DST_SOURCES_X10",
                DST_SOURCES,
                Measure::DstSources,
                10,
                10.0,
            ),
            Stat::DstSourcesX100 => src(
                "DST_SOURCES_X100",
                DST_SOURCES,
                Measure::DstSources,
                100,
                12.0,
            ),
            Stat::DstLogins => src("DST_LOGINS", DST_LOGINS, Measure::DstLogins, 1, 3.0),
            Stat::DstLoginsX10 => src("DST_LOGINS_X10", DST_LOGINS, Measure::DstLogins, 10, 5.0),
            Stat::DstLoginsX100 => {
                src("DST_LOGINS_X100", DST_LOGINS, Measure::DstLogins, 100, 12.0)
            }
        }
    }

    /// The formula.
    pub fn compute(self, x: &StatInput<'_>) -> f64 {
        let c = x.counts;
        let info = self.info();
        if let Some(m) = info.measure {
            let si = SCALES.iter().position(|&k| k == info.scale).unwrap_or(0);
            return x.sources.value[m as usize][si];
        }
        match self {
            Stat::AvgPktSize => {
                if c[Counter::Ip] == 0 {
                    f64::NAN
                } else {
                    c[Counter::IpBytes] as f64 / c[Counter::Ip] as f64
                }
            }
            Stat::Perf => match x.wall_s {
                Some(s) if s > 0.0 => c[Counter::Pkts] as f64 / s,
                Some(_) => 0.0,
                None => f64::NAN,
            },
            Stat::RAck => ratio(c[Counter::Ack], c[Counter::Ip]),
            Stat::RSyn => ratio(c[Counter::Syn], c[Counter::Ip]),
            Stat::RArp => ratio(c[Counter::Arp], c[Counter::Pkts]),
            Stat::RIcmp => ratio(c[Counter::Icmp], c[Counter::Ip]),
            Stat::RIp => ratio(c[Counter::Ip], c[Counter::Pkts]),
            Stat::RDstSrc => ratio(c[Counter::NbUniqDstAddr], c[Counter::NbUniqSrcAddr]),
            Stat::RDstSrcPort => ratio(c[Counter::NbUniqDstPort], c[Counter::NbUniqSrcPort]),
            Stat::Traffic => {
                if x.width_s > 0.0 {
                    c[Counter::Ip] as f64 / x.width_s
                } else {
                    0.0
                }
            }
            // Read from the per-source measures above.
            _ => f64::NAN,
        }
    }

    /// The NetSpot-style name.
    pub const fn name(self) -> &'static str {
        self.info().name
    }

    /// Whether this is a per-source statistic (needs the source table).
    pub const fn per_source(self) -> bool {
        self.info().measure.is_some()
    }

    /// Looks a statistic up by name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Stat> {
        Stat::ALL
            .iter()
            .copied()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

/// A ratio: NaN when the denominator is zero, even if the numerator is too
/// (an empty window has no ratio; 0 would teach the model a value that was
/// never observed).
#[inline]
fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        f64::NAN
    } else {
        num as f64 / den as f64
    }
}

/// Statistic values of one window, indexed by [`Stat`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatValues(pub [f64; Stat::COUNT]);

impl std::ops::Index<Stat> for StatValues {
    type Output = f64;
    fn index(&self, s: Stat) -> &f64 {
        &self.0[s as usize]
    }
}

impl StatValues {
    /// Computes every statistic.
    pub fn compute(x: &StatInput<'_>) -> StatValues {
        let mut v = [0.0; Stat::COUNT];
        for s in Stat::ALL {
            v[s as usize] = s.compute(x);
        }
        StatValues(v)
    }
    /// `(stat, value)` pairs in index order.
    pub fn iter(&self) -> impl Iterator<Item = (Stat, f64)> + '_ {
        Stat::ALL.iter().map(|&s| (s, self[s]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(c: &Counts) -> StatInput<'_> {
        StatInput {
            counts: c,
            width_s: 0.5,
            wall_s: None,
            sources: &SourceValues::OFF,
        }
    }

    #[test]
    fn table_is_consistent() {
        for (i, s) in Stat::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i);
            assert_eq!(Stat::from_name(s.name()), Some(*s));
        }
    }

    #[test]
    fn formulas_and_edge_cases() {
        let mut c = Counts::default();
        // Empty window: every ratio is NaN (no value), counts and rates 0.
        let v = StatValues::compute(&input(&c));
        for s in [
            Stat::AvgPktSize,
            Stat::RIp,
            Stat::RArp,
            Stat::RIcmp,
            Stat::RSyn,
            Stat::RAck,
            Stat::RDstSrc,
            Stat::RDstSrcPort,
        ] {
            assert!(v[s].is_nan(), "{s:?} of an empty window");
        }
        assert_eq!(v[Stat::Traffic], 0.0);
        assert!(v[Stat::Perf].is_nan());

        c[Counter::Pkts] = 10;
        c[Counter::Ip] = 8;
        c[Counter::IpBytes] = 800;
        c[Counter::Syn] = 4;
        c[Counter::Ack] = 2;
        c[Counter::Arp] = 2;
        c[Counter::Icmp] = 1;
        c[Counter::NbUniqSrcAddr] = 2;
        c[Counter::NbUniqDstAddr] = 6;
        c[Counter::NbUniqSrcPort] = 0;
        c[Counter::NbUniqDstPort] = 3;
        let v = StatValues::compute(&StatInput {
            counts: &c,
            width_s: 0.5,
            wall_s: Some(2.0),
            sources: &SourceValues::OFF,
        });
        assert_eq!(v[Stat::AvgPktSize], 100.0);
        assert_eq!(v[Stat::RSyn], 0.5);
        assert_eq!(v[Stat::RAck], 0.25);
        assert_eq!(v[Stat::RArp], 0.2);
        assert_eq!(v[Stat::RIcmp], 0.125);
        assert_eq!(v[Stat::RIp], 0.8);
        assert_eq!(v[Stat::RDstSrc], 3.0);
        assert!(v[Stat::RDstSrcPort].is_nan());
        assert_eq!(v[Stat::Traffic], 16.0);
        assert_eq!(v[Stat::Perf], 5.0);
    }
}
