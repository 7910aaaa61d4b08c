//! Cutting the packet stream into fixed windows of capture time, and turning
//! each window's accumulators into a [`WindowReport`]: times, counters,
//! statistics and top contributors.
//!
//! Windows are aligned on multiples of the width since the epoch and driven by
//! packet timestamps only, so a replay gives the same windows at any speed.
//! A quiet period yields one empty window per width (zero counts), not one
//! long window; a gap longer than [`WindowConfig::max_gap_windows`] (a capture
//! paused for days, or a bogus timestamp) is skipped and counted instead of
//! emitting millions of empty windows. Packets older than the current window
//! (out-of-order captures, pcapng interfaces interleaved) are counted in the
//! current window and reported in [`WindowerStats::late_packets`].
#![forbid(unsafe_code)]

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nectar_packet::PacketMeta;

use crate::counters::{Accumulator, Class, Counts, Dim, key_addr};
use crate::stats::{Stat, StatInput, StatValues};

/// Window settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowConfig {
    /// Window width in capture time.
    pub width: Duration,
    /// Longest run of empty windows emitted for a gap; longer gaps are skipped.
    pub max_gap_windows: u64,
    /// Contributors reported per class and dimension.
    pub top_n: usize,
    /// Keep the per-source table ([`crate::sources`]) for the `SRC_*` statistics.
    pub sources: bool,
    /// Keep the per-destination table for the `DST_*` statistics.
    pub targets: bool,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            width: Duration::from_secs(1),
            max_gap_windows: 100_000,
            top_n: 5,
            sources: true,
            targets: true,
        }
    }
}

/// An invalid [`WindowConfig`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowConfigError {
    /// The width must be between 1 ms and 1 day.
    #[error("window width {0:?} is outside 1ms..=1day")]
    Width(Duration),
    /// At most [`crate::heavy::CAPACITY`] contributors are tracked.
    #[error("top_n {0} is above the {max} contributors tracked", max = crate::heavy::CAPACITY)]
    TopN(usize),
}

/// Who a contributor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContributorKey {
    /// An IP address.
    Addr(IpAddr),
    /// A TCP/UDP port.
    Port(u16),
}

impl fmt::Display for ContributorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContributorKey::Addr(a) => a.fmt(f),
            ContributorKey::Port(p) => p.fmt(f),
        }
    }
}

/// One top contributor of a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contributor {
    /// The address or port.
    pub key: ContributorKey,
    /// Packets counted for it (a lower bound, at most
    /// `total / (CAPACITY + 1)` below the truth).
    pub packets: u64,
    /// `packets` over all packets of the class in the window, 0..=1.
    pub share: f64,
}

/// The result of one window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowReport {
    /// Window number since the windower started (gaps included).
    pub index: u64,
    /// Start, ns since the epoch (inclusive).
    pub start_ns: u64,
    /// End, ns since the epoch (exclusive).
    pub end_ns: u64,
    /// Counter values.
    pub counts: Counts,
    /// Statistic values (NaN: no value this window).
    pub stats: StatValues,
    /// The per-source measures and the sources behind them.
    pub sources: crate::sources::SourceValues,
    top: [[Vec<Contributor>; Dim::COUNT]; Class::COUNT],
}

impl WindowReport {
    fn new() -> WindowReport {
        WindowReport {
            index: 0,
            start_ns: 0,
            end_ns: 0,
            counts: Counts::default(),
            stats: StatValues([f64::NAN; Stat::COUNT]),
            sources: crate::sources::SourceValues::OFF,
            top: Default::default(),
        }
    }

    /// Top contributors of a class along a dimension, largest first.
    pub fn top(&self, class: Class, dim: Dim) -> &[Contributor] {
        &self.top[class as usize][dim as usize]
    }

    /// Top contributors behind a statistic (its [`Class`]), largest first.
    pub fn top_for(&self, stat: Stat, dim: Dim) -> &[Contributor] {
        self.top(stat.info().class, dim)
    }

    /// No packet in this window.
    pub fn is_empty(&self) -> bool {
        self.counts[crate::Counter::Pkts] == 0
    }

    #[cfg(test)]
    pub(crate) fn set_top_for_tests(&mut self, class: Class, dim: Dim, top: Vec<Contributor>) {
        self.top[class as usize][dim as usize] = top;
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// An empty report for tests of what consumes reports.
    pub fn empty_report() -> super::WindowReport {
        super::WindowReport::new()
    }
}

/// What the windower did besides emitting windows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowerStats {
    /// Windows emitted.
    pub windows: u64,
    /// Of which empty.
    pub empty_windows: u64,
    /// Windows skipped inside gaps longer than `max_gap_windows`.
    pub skipped_windows: u64,
    /// Packets older than the window they were counted in.
    pub late_packets: u64,
    /// Packets counted.
    pub packets: u64,
}

/// Cuts packets into windows and emits a [`WindowReport`] per window.
#[derive(Debug)]
pub struct Windower {
    width: u64,
    max_gap: u64,
    top_n: usize,
    acc: Accumulator,
    /// Current window `[start, end)`; None before the first packet.
    start: Option<u64>,
    end: u64,
    index: u64,
    report: WindowReport,
    scratch: Vec<(u128, u64)>,
    wall_prev: Option<Instant>,
    stats: WindowerStats,
}

impl Windower {
    /// A windower with the given settings.
    pub fn new(cfg: &WindowConfig) -> Result<Windower, WindowConfigError> {
        if cfg.width < Duration::from_millis(1) || cfg.width > Duration::from_secs(86_400) {
            return Err(WindowConfigError::Width(cfg.width));
        }
        if cfg.top_n > crate::heavy::CAPACITY {
            return Err(WindowConfigError::TopN(cfg.top_n));
        }
        let mut acc = Accumulator::default();
        if cfg.sources {
            acc.enable_sources(crate::sources::View::Source);
        }
        if cfg.targets {
            acc.enable_sources(crate::sources::View::Destination);
        }
        Ok(Windower {
            width: cfg.width.as_nanos() as u64,
            max_gap: cfg.max_gap_windows,
            top_n: cfg.top_n,
            acc,
            start: None,
            end: 0,
            index: 0,
            report: WindowReport::new(),
            scratch: Vec::with_capacity(crate::heavy::CAPACITY * 2),
            wall_prev: None,
            stats: WindowerStats::default(),
        })
    }

    /// Counts one packet; emits the windows it closes first.
    #[inline]
    pub fn push<F: FnMut(&WindowReport)>(&mut self, m: &PacketMeta, emit: &mut F) {
        match self.start {
            Some(start) if m.ts_ns < self.end => {
                if m.ts_ns < start {
                    self.stats.late_packets += 1;
                }
            }
            _ => self.advance(m.ts_ns, emit),
        }
        self.stats.packets += 1;
        self.acc.add(m);
    }

    /// Emits the current (partial) window, if a packet opened one. Call at the
    /// end of the input; a later packet starts afresh.
    pub fn finish<F: FnMut(&WindowReport)>(&mut self, emit: &mut F) {
        if self.start.is_some() {
            self.close(emit);
            self.start = None;
        }
    }

    /// Closes every window that ended by `now_ns` (capture clock), emitting
    /// empty ones for silence. For live capture: call it when the source
    /// timed out, so a quiet network still produces (zero) windows on time.
    /// Before the first packet there is no window to close.
    pub fn tick<F: FnMut(&WindowReport)>(&mut self, now_ns: u64, emit: &mut F) {
        if self.start.is_some() && now_ns >= self.end {
            self.advance(now_ns, emit);
        }
    }

    /// Counts of what the windower did.
    pub fn stats(&self) -> WindowerStats {
        self.stats
    }

    /// Window width in nanoseconds.
    pub fn width_ns(&self) -> u64 {
        self.width
    }

    #[cold]
    fn advance<F: FnMut(&WindowReport)>(&mut self, ts: u64, emit: &mut F) {
        let aligned = ts - ts % self.width;
        if self.start.is_some() {
            self.close(emit);
            // Whole empty windows between the closed one and the packet's.
            // Saturating: a hostile timestamp near u64::MAX must not wrap.
            let gap = aligned.saturating_sub(self.end) / self.width;
            if gap > self.max_gap {
                self.stats.skipped_windows += gap;
                self.index += gap;
                self.acc.clear_sources();
            } else {
                for _ in 0..gap {
                    self.start = Some(self.end);
                    self.end = self.end.saturating_add(self.width);
                    self.close(emit);
                }
            }
        }
        self.start = Some(aligned);
        self.end = aligned.saturating_add(self.width);
    }

    fn close<F: FnMut(&WindowReport)>(&mut self, emit: &mut F) {
        let start = self.start.unwrap_or(0);
        let wall_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let now = Instant::now();
        let wall_s = self.wall_prev.map(|p| now.duration_since(p).as_secs_f64());
        self.wall_prev = Some(now);

        let r = &mut self.report;
        r.index = self.index;
        r.start_ns = start;
        r.end_ns = self.end;
        r.counts = self.acc.close(wall_ns);
        self.acc.close_sources(&mut r.sources);
        r.stats = StatValues::compute(&StatInput {
            counts: &r.counts,
            width_s: self.width as f64 / 1e9,
            wall_s,
            sources: &r.sources,
        });
        for class in Class::ALL {
            for dim in Dim::ALL {
                let h = self.acc.heavy(class, dim);
                h.top(self.top_n, &mut self.scratch);
                let total = h.total().max(1) as f64;
                let out = &mut r.top[class as usize][dim as usize];
                out.clear();
                out.extend(self.scratch.iter().map(|&(k, n)| Contributor {
                    key: if dim == Dim::DstPort {
                        ContributorKey::Port(k as u16)
                    } else {
                        ContributorKey::Addr(key_addr(k))
                    },
                    packets: n,
                    share: n as f64 / total,
                }));
            }
        }
        self.stats.windows += 1;
        if r.is_empty() {
            self.stats.empty_windows += 1;
        }
        emit(r);
        self.acc.reset();
        self.index += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nectar_packet::{Network, PacketMeta, TcpFlags, Transport};

    fn tcp(ts_ns: u64, src: [u8; 4], dport: u16, flags: u8) -> PacketMeta {
        PacketMeta {
            ts_ns,
            wire_len: 60,
            cap_len: 60,
            network: Network::Ipv4,
            src: Some(IpAddr::from(src)),
            dst: Some(IpAddr::from([10, 0, 0, 1])),
            ip_len: 40,
            ip_proto: 6,
            transport: Transport::Tcp,
            src_port: 40000,
            dst_port: dport,
            tcp_flags: TcpFlags(flags),
            ..PacketMeta::default()
        }
    }

    #[test]
    fn gaps_give_empty_windows_and_last_window_is_flushed() {
        let cfg = WindowConfig {
            width: Duration::from_millis(100),
            ..WindowConfig::default()
        };
        let mut w = Windower::new(&cfg).unwrap();
        let mut out = Vec::new();
        let mut emit = |r: &WindowReport| out.push(r.clone());
        let s = 1_000_000_000_000u64;
        w.push(&tcp(s + 10, [1, 1, 1, 1], 80, TcpFlags::SYN), &mut emit);
        w.push(
            &tcp(s + 50_000_000, [1, 1, 1, 2], 81, TcpFlags::ACK),
            &mut emit,
        );
        // 350 ms later: windows 1 and 2 are empty, the packet lands in window 3.
        w.push(
            &tcp(s + 350_000_000, [1, 1, 1, 1], 80, TcpFlags::SYN),
            &mut emit,
        );
        w.finish(&mut emit);
        assert_eq!(out.len(), 4);
        assert_eq!(out[0].start_ns, s);
        assert_eq!(out[0].end_ns, s + 100_000_000);
        assert_eq!(out[0].counts[crate::Counter::Pkts], 2);
        assert_eq!(out[0].counts[crate::Counter::NbUniqSrcAddr], 2);
        assert_eq!(out[0].counts[crate::Counter::NbUniqDstPort], 2);
        assert_eq!(out[0].stats[Stat::RSyn], 0.5);
        assert_eq!(out[0].stats[Stat::Traffic], 20.0);
        assert!(out[1].is_empty() && out[2].is_empty());
        assert_eq!(out[1].stats[Stat::Traffic], 0.0);
        assert_eq!(out[3].start_ns, s + 300_000_000);
        assert_eq!(out[3].counts[crate::Counter::Syn], 1);
        assert_eq!(out[3].index, 3);
        let top = out[0].top(Class::Syn, Dim::Src);
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].key, ContributorKey::Addr(IpAddr::from([1, 1, 1, 1])));
        assert_eq!(top[0].share, 1.0);
        assert_eq!(
            out[0].top_for(Stat::RSyn, Dim::DstPort)[0].key,
            ContributorKey::Port(80)
        );
        let st = w.stats();
        assert_eq!((st.windows, st.empty_windows, st.packets), (4, 2, 3));
    }

    #[test]
    fn long_gaps_are_skipped_and_late_packets_counted() {
        let cfg = WindowConfig {
            width: Duration::from_secs(1),
            max_gap_windows: 10,
            top_n: 3,
            sources: true,
            targets: true,
        };
        let mut w = Windower::new(&cfg).unwrap();
        let mut n = 0;
        let mut emit = |_: &WindowReport| n += 1;
        let s = 5_000_000_000u64;
        w.push(&tcp(s, [1, 1, 1, 1], 80, 0), &mut emit);
        w.push(&tcp(s - 2_000_000_000, [1, 1, 1, 1], 80, 0), &mut emit);
        w.push(
            &tcp(s + 3600 * 1_000_000_000, [1, 1, 1, 1], 80, 0),
            &mut emit,
        );
        w.finish(&mut emit);
        assert_eq!(n, 2);
        let st = w.stats();
        assert_eq!(st.late_packets, 1);
        assert_eq!(st.skipped_windows, 3599);
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let mut w = Windower::new(&WindowConfig::default()).unwrap();
        let mut n = 0;
        let mut emit = |_: &WindowReport| n += 1;
        for ts in [0, u64::MAX, u64::MAX, 5, u64::MAX - 1] {
            w.push(&tcp(ts, [1, 2, 3, 4], 1, 0), &mut emit);
        }
        w.finish(&mut emit);
        assert!(n >= 2);
        assert_eq!(w.stats().packets, 5);
    }

    #[test]
    fn tick_closes_quiet_windows() {
        let cfg = WindowConfig {
            width: Duration::from_millis(100),
            ..WindowConfig::default()
        };
        let mut w = Windower::new(&cfg).unwrap();
        let mut out = Vec::new();
        let mut emit = |r: &WindowReport| out.push((r.start_ns, r.counts[crate::Counter::Pkts]));
        w.tick(10, &mut emit);
        w.push(&tcp(1_000_000_000, [1, 1, 1, 1], 80, 0), &mut emit);
        w.tick(1_050_000_000, &mut emit);
        w.tick(1_250_000_000, &mut emit);
        w.finish(&mut emit);
        assert_eq!(
            out,
            [(1_000_000_000, 1), (1_100_000_000, 0), (1_200_000_000, 0)]
        );
    }

    #[test]
    fn bad_config() {
        let cfg = WindowConfig {
            width: Duration::ZERO,
            ..WindowConfig::default()
        };
        assert!(Windower::new(&cfg).is_err());
    }
}
