//! Per-source views with bounded memory, over several time scales at once:
//! for the sources that start connections, how many distinct destination
//! ports and hosts each contacted, how many of its connection attempts were
//! never accepted, and how many connections it opened to remote-login
//! services — the facts behind "the largest number of distinct ports one
//! source probed" and the other `SRC_*` statistics ([`crate::Stat`]).
//!
//! Separate from the window counters because it is the one part that
//! outlives a window: a slow scan (one port a second, a UDP scan slowed by
//! the victim's ICMP rate limit, a password guesser opening a connection
//! every few seconds) is invisible in any single short window and plain over
//! 10 or 100 of them. Every measure is therefore read at three scales: the
//! window itself, the last 10 windows and the last 100 (sliding, cut by
//! packet time like the windows, so a replay gives the same values).
//!
//! Memory is fixed at construction: a table of [`CAPACITY`] sources (open
//! addressing, [`PROBES`] probes), and per source two sketches whose bins hold
//! the number of the window that last set them (a sliding linear counter:
//! a bin counts at scale k when it was set in the last k windows), 256 bins
//! for ports and 128 for hosts, plus sliding sums of the counts (the last 10
//! windows exactly; the last 100 in blocks of 10, the current block partial,
//! so 91 to 100 windows). Exponentially decayed sums were tried first: after
//! a burst (a SYN flood of 10,000 packets) they stay above any threshold for
//! dozens of windows, so a "last 10 windows" view kept alarming 10 s later. Nothing is
//! allocated per packet; a packet costs one hash and a few probes, and only
//! packets that start or accept a connection (TCP SYN and SYN-ACK, UDP
//! requests, ICMP echo and its reply) touch the table at all.
//!
//! The same table keyed by destination instead ([`View::Destination`])
//! gives the per-destination view: how many distinct ports of one host were
//! probed, by how many distinct sources, and how many login connections it
//! received, whoever sent them — a scan or a password guess spread over many
//! sources, each too quiet to stand out on its own, is plain there.
//!
//! When the table is full a newcomer replaces, among its probe slots, the
//! source idle the longest or with the least decayed activity, never one
//! seen in the current window (whose bins could not be told apart from the
//! newcomer's); if all are, the packet is not counted and
//! [`SourceTable::dropped`] says so. A busy scanner therefore keeps its slot
//! while a long tail of one-packet sources churns through the others.
#![forbid(unsafe_code)]

use std::net::IpAddr;

use nectar_packet::{PacketMeta, Transport};

use crate::counters::key_addr;
use crate::distinct::hash_key;

/// Sources tracked at once.
pub const CAPACITY: usize = 1024;
/// Slots probed for a source.
pub const PROBES: usize = 8;
/// Bins of the destination-port sketch of each source.
pub const PORT_BINS: usize = 256;
/// Bins of the destination-host sketch of each source.
pub const HOST_BINS: usize = 128;
/// The time scales, in windows.
pub const SCALES: [u32; 3] = [1, 10, 100];
/// Fewest attempts (TCP SYN, ICMP echo) at a scale before a source's share
/// of failed attempts counts: one unanswered SYN of two is not a pattern.
pub const MIN_ATTEMPTS: f64 = 8.0;
/// Destination ports of remote-login services: SSH, Telnet, RDP, SMB, FTP,
/// VNC, POP3, IMAP, their TLS forms, and database logins (MySQL, MS SQL,
/// PostgreSQL). Web logins (80/443) cannot be told from browsing by packet
/// headers and are not counted.
pub const LOGIN_PORTS: [u16; 15] = [
    21, 22, 23, 110, 143, 445, 993, 995, 1433, 2222, 2323, 3306, 3389, 5432, 5900,
];

/// The per-source and per-destination measures, each read at every scale
/// of [`SCALES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Measure {
    /// Distinct destination ports (TCP SYN, UDP requests).
    Ports,
    /// Distinct destination hosts (TCP SYN, UDP requests, ICMP echo).
    Hosts,
    /// Share of attempts (TCP SYN, ICMP echo) not accepted (no SYN-ACK, no
    /// echo reply: refused with RST, unreachable, or unanswered).
    Failed,
    /// Connections opened (TCP SYN) to remote-login ports ([`LOGIN_PORTS`]).
    Logins,
    /// Distinct ports of one destination that were probed, by anyone.
    DstPorts,
    /// Distinct sources that started connections to one destination.
    DstSources,
    /// Connections to one destination's remote-login ports, from anyone.
    DstLogins,
}

impl Measure {
    /// Number of measures.
    pub const COUNT: usize = 7;

    /// The view whose table computes this measure.
    pub const fn view(self) -> View {
        match self {
            Measure::Ports | Measure::Hosts | Measure::Failed | Measure::Logins => View::Source,
            Measure::DstPorts | Measure::DstSources | Measure::DstLogins => View::Destination,
        }
    }
}

/// Which side of the connections a table is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum View {
    /// Per source: who probes many ports or hosts (`SRC_*`).
    #[default]
    Source,
    /// Per destination: who is probed by many (`DST_*`).
    Destination,
}

impl View {
    /// What the table's four per-slot values (distinct ports, distinct
    /// peers, share failed, logins) are, as measures.
    const fn measures(self) -> [Option<Measure>; 4] {
        match self {
            View::Source => [
                Some(Measure::Ports),
                Some(Measure::Hosts),
                Some(Measure::Failed),
                Some(Measure::Logins),
            ],
            // A destination's share of failed attempts says nothing the
            // source view and DST_PORTS do not.
            View::Destination => [
                Some(Measure::DstPorts),
                Some(Measure::DstSources),
                None,
                Some(Measure::DstLogins),
            ],
        }
    }

    /// The name used in alarms: `source` or `destination`.
    pub const fn name(self) -> &'static str {
        match self {
            View::Source => "source",
            View::Destination => "destination",
        }
    }
}

/// The source (or, in the destination view, the destination) with the
/// largest value of a measure at a scale, and what happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Culprit {
    /// Which table found it.
    pub view: View,
    /// The source; in the destination view, the source that sent most of
    /// the attempts (majority vote).
    pub src: IpAddr,
    /// The destination it contacted most (majority vote); in the
    /// destination view, the destination itself.
    pub dst: Option<IpAddr>,
    /// The destination port contacted most (majority vote).
    pub port: Option<u16>,
    /// Distinct destination ports at this scale (estimate).
    pub ports: f64,
    /// Distinct destination hosts at this scale (estimate); in the
    /// destination view, distinct sources.
    pub hosts: f64,
    /// Attempts (TCP SYN and ICMP echo) at this scale.
    pub attempts: f64,
    /// Share of attempts not accepted at this scale.
    pub failed: f64,
    /// Connections to remote-login ports at this scale.
    pub logins: f64,
}

/// The measures of one window: per measure and scale the largest value over
/// sources and the source behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceValues {
    /// `value[measure][scale index]`: NaN when the table is off.
    pub value: [[f64; SCALES.len()]; Measure::COUNT],
    /// The source behind each value (None when no source had one).
    pub culprit: [[Option<Culprit>; SCALES.len()]; Measure::COUNT],
}

impl SourceValues {
    /// No values (the per-source table is off).
    pub const OFF: SourceValues = SourceValues {
        value: [[f64::NAN; SCALES.len()]; Measure::COUNT],
        culprit: [[None; SCALES.len()]; Measure::COUNT],
    };
}

impl Default for SourceValues {
    fn default() -> Self {
        SourceValues::OFF
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Meta {
    /// Window the current source took the slot.
    born: u64,
    /// Window the sliding sums were last brought up to.
    sum_win: u64,
    attempts: u32,
    accepted: u32,
    logins: u32,
    /// Counts (attempts, accepted, logins) of the last 10 windows, by
    /// window number mod 10.
    win: [[u32; 3]; 10],
    /// The same summed per block of 10 windows, for the last 10 blocks
    /// (the current one partial), by block number mod 10.
    blk: [[u32; 3]; 10],
    /// The other side contacted most: the destination of a source, the
    /// source of a destination.
    peer: u128,
    peer_votes: u32,
    /// Destination view: the source of the attempts that probed a port no
    /// one probed over the longest scale (a scanner, not a busy client).
    prober: u128,
    prober_votes: u32,
    /// The other side and the port of the login attempts.
    guesser: (u128, u16),
    guesser_votes: u32,
    port: u16,
    port_votes: u32,
}

/// The per-source table. Allocated once; see the module documentation.
#[derive(Clone)]
pub struct SourceTable {
    // What a probe reads sits in three compact arrays (16 + 8 + 4 bytes a
    // slot): eight probes touch a few cache lines, not eight entries.
    keys: Box<[u128]>,
    /// Window that last touched the slot; 0: never used.
    last: Box<[u64]>,
    /// Attempts over the longest scale: who to keep when the table is full.
    score: Box<[u32]>,
    meta: Box<[Meta]>,
    ports: Box<[[u16; PORT_BINS]]>,
    hosts: Box<[[u16; HOST_BINS]]>,
    /// Current window number (starts at 1).
    now: u64,
    dropped: u64,
    view: View,
}

impl std::fmt::Debug for SourceTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceTable")
            .field("now", &self.now)
            .field("dropped", &self.dropped)
            .finish_non_exhaustive()
    }
}

impl Default for SourceTable {
    fn default() -> Self {
        SourceTable::new(View::Source)
    }
}

impl SourceTable {
    /// An empty table keyed by the given side.
    pub fn new(view: View) -> SourceTable {
        SourceTable {
            keys: vec![0u128; CAPACITY].into_boxed_slice(),
            last: vec![0u64; CAPACITY].into_boxed_slice(),
            score: vec![0u32; CAPACITY].into_boxed_slice(),
            meta: vec![Meta::default(); CAPACITY].into_boxed_slice(),
            ports: vec![[0u16; PORT_BINS]; CAPACITY].into_boxed_slice(),
            hosts: vec![[0u16; HOST_BINS]; CAPACITY].into_boxed_slice(),
            now: 1,
            dropped: 0,
            view,
        }
    }
}

/// Windows after which a bin's stamp could be mistaken (u16 wrap) unless refreshed.
const REFRESH_EVERY: u64 = 16_384;
/// The stamp given to bins that must count at no scale.
#[inline]
fn old_stamp(now: u64) -> u16 {
    (now as u16).wrapping_sub(0x8000)
}

#[inline]
fn port_bin(p: u16) -> usize {
    // murmur3's finaliser: sequential ports spread evenly.
    let mut h = u32::from(p);
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    (h >> 24) as usize
}

#[inline]
fn host_bin(k: u128) -> usize {
    let x = (k as u64) ^ ((k >> 64) as u64);
    (x.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 57) as usize
}

/// Linear counting: distinct values from `occupied` of `bins` bins.
fn estimate(occupied: usize, bins: usize) -> f64 {
    let m = bins as f64;
    if occupied >= bins {
        // Saturated: the largest value the sketch can tell.
        m * m.ln()
    } else {
        (-m * (1.0 - occupied as f64 / m).ln()).round()
    }
}

/// Each scale's age limit for a source that took its slot in window `born`:
/// bins stamped before that belong to the slot's previous source.
#[inline]
fn limits(now: u64, born: u64) -> [u16; 3] {
    let age_cap = now - born + 1;
    SCALES.map(|k| u64::from(k).min(age_cap) as u16)
}

/// Sum of a ring of counts.
#[inline]
fn ring_sum(ring: &[[u32; 3]; 10]) -> [f64; 3] {
    let mut acc = [0u64; 3];
    for r in ring {
        for (a, &x) in acc.iter_mut().zip(r) {
            *a += u64::from(x);
        }
    }
    acc.map(|x| x as f64)
}

/// Bins set within each scale's limit, in one pass over the sketch.
#[inline]
fn occupied(bins: &[u16], now16: u16, lims: [u16; 3]) -> [usize; 3] {
    // Counted in 16 lanes of 16 bits (a lane sees at most 16 of the 256
    // bins), the shape the compiler turns into vector compares and adds:
    // this runs for every active source at every window close, the
    // table's largest cost.
    let mut lanes = [[0u16; 16]; 3];
    let mut chunks = bins.chunks_exact(16);
    for chunk in &mut chunks {
        for (j, &st) in chunk.iter().enumerate() {
            let age = now16.wrapping_sub(st);
            lanes[0][j] += u16::from(age < lims[0]);
            lanes[1][j] += u16::from(age < lims[1]);
            lanes[2][j] += u16::from(age < lims[2]);
        }
    }
    for (j, &st) in chunks.remainder().iter().enumerate() {
        let age = now16.wrapping_sub(st);
        lanes[0][j] += u16::from(age < lims[0]);
        lanes[1][j] += u16::from(age < lims[1]);
        lanes[2][j] += u16::from(age < lims[2]);
    }
    lanes.map(|l| l.iter().map(|&x| usize::from(x)).sum())
}

fn vote<T: PartialEq + Copy>(cand: &mut T, votes: &mut u32, x: T) {
    if *votes == 0 {
        *cand = x;
        *votes = 1;
    } else if *cand == x {
        *votes = votes.saturating_add(1);
    } else {
        *votes -= 1;
    }
}

impl SourceTable {
    /// Packets not counted because every probe slot held a source active in
    /// the current window.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Which side the table is keyed by.
    pub fn view(&self) -> View {
        self.view
    }

    /// Counts one packet (`s`, `d`: [`crate::counters::addr_key`] of its
    /// addresses; `udp_reply`: a UDP packet that answers one seen just
    /// before, [`crate::udp_flows`]).
    #[inline]
    pub fn add(&mut self, m: &PacketMeta, s: u128, d: u128, udp_reply: bool) {
        // The key of an attempt is its sender (source view) or its target;
        // an acceptance (SYN-ACK, echo reply) travels back, so its key is
        // its receiver (the client) or its sender (the server).
        let (client, server) = match self.view {
            View::Source => (s, d),
            View::Destination => (d, s),
        };
        match m.transport {
            Transport::Tcp => {
                let f = m.tcp_flags;
                if f.syn() {
                    if f.ack() {
                        self.accepted(match self.view {
                            View::Source => d,
                            View::Destination => s,
                        });
                    } else {
                        let login = LOGIN_PORTS.contains(&m.dst_port);
                        self.attempt(client, server, Some(m.dst_port), true, login);
                    }
                }
            }
            // A reply is not a request: one whose request was seen, or from
            // a well-known service port to a client port (its request may
            // be older than the flow map or outside the capture).
            Transport::Udp if !(udp_reply || (m.src_port < 1024 && m.dst_port >= 1024)) => {
                self.attempt(client, server, Some(m.dst_port), false, false)
            }
            Transport::Icmpv4 | Transport::Icmpv6 => match (m.transport, m.icmp_type) {
                (Transport::Icmpv4, 8) | (Transport::Icmpv6, 128) => {
                    self.attempt(client, server, None, true, false)
                }
                (Transport::Icmpv4, 0) | (Transport::Icmpv6, 129) => {
                    self.accepted(match self.view {
                        View::Source => d,
                        View::Destination => s,
                    })
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// An attempt counted under `key` towards (or, in the destination view,
    /// from) `peer`.
    #[inline]
    fn attempt(&mut self, key: u128, peer: u128, port: Option<u16>, counted: bool, login: bool) {
        let Some(i) = self.slot(key, true) else {
            self.dropped += 1;
            return;
        };
        let now16 = self.now as u16;
        self.last[i] = self.now;
        let e = &mut self.meta[i];
        e.attempts += u32::from(counted);
        e.logins += u32::from(login);
        vote(&mut e.peer, &mut e.peer_votes, peer);
        if login {
            vote(
                &mut e.guesser,
                &mut e.guesser_votes,
                (peer, port.unwrap_or(0)),
            );
        }
        if let Some(p) = port {
            vote(&mut e.port, &mut e.port_votes, p);
            let bin = &mut self.ports[i][port_bin(p)];
            // A port of this destination no one probed over the longest
            // scale: a busy client's usual port never counts.
            if self.view == View::Destination && now16.wrapping_sub(*bin) >= SCALES[2] as u16 {
                vote(&mut e.prober, &mut e.prober_votes, peer);
            }
            *bin = now16;
        }
        self.hosts[i][host_bin(peer)] = now16;
    }

    #[inline]
    fn accepted(&mut self, key: u128) {
        if let Some(i) = self.slot(key, false) {
            let e = &mut self.meta[i];
            e.accepted += 1;
        }
    }

    /// The slot of `key`; with `insert`, taken for it if absent.
    #[inline]
    fn slot(&mut self, key: u128, insert: bool) -> Option<usize> {
        let start = hash_key(key) as usize;
        let mut victim: Option<(usize, (u64, u32))> = None;
        for p in 0..PROBES {
            let i = (start + p) & (CAPACITY - 1);
            let last = self.last[i];
            if last != 0 && self.keys[i] == key {
                return Some(i);
            }
            if last == 0 {
                // Never used: nothing further was ever inserted past it.
                victim = Some((i, (0, 0)));
                break;
            }
            if last < self.now {
                // Idle for a whole scale first, then the least active.
                let idle = self.now - last >= u64::from(SCALES[2]);
                let score = (u64::from(!idle), self.score[i]);
                if victim.is_none_or(|(_, v)| score.0 < v.0 || (score.0 == v.0 && score.1 < v.1)) {
                    victim = Some((i, score));
                }
            }
        }
        if !insert {
            return None;
        }
        let (i, _) = victim?;
        self.take(i, key);
        Some(i)
    }

    #[cold]
    fn take(&mut self, i: usize, key: u128) {
        let stale = self.last[i] == 0 || self.now - self.last[i] > 30_000;
        if stale {
            // Stamps that old could alias after the u16 wrap.
            self.ports[i] = [old_stamp(self.now); PORT_BINS];
            self.hosts[i] = [old_stamp(self.now); HOST_BINS];
        }
        self.keys[i] = key;
        self.last[i] = self.now;
        self.score[i] = 0;
        self.meta[i] = Meta {
            born: self.now,
            sum_win: self.now,
            ..Meta::default()
        };
    }

    /// Closes the current window: the largest value of every measure of
    /// this table's view at every scale, and the source (destination)
    /// behind it, into `out` (the other view's measures are left as they
    /// are). Then the next window starts.
    pub fn close(&mut self, out: &mut SourceValues) {
        let now = self.now;
        let now16 = now as u16;
        let longest = u64::from(SCALES[2]);
        // Per measure and scale: (value to compare, attempts, slot). Ports
        // and hosts compare by occupied bins (linear counting is monotone);
        // the winners' culprits are built once at the end.
        let mut best = [[(0.0f64, 0.0f64, usize::MAX); 3]; 4];
        for i in 0..CAPACITY {
            let last = self.last[i];
            if last == 0 || now - last >= longest {
                continue;
            }
            let e = &mut self.meta[i];
            // Bring the sliding sums up to this window. Active sources are
            // closed every window; one back after a whole scale idle starts
            // afresh.
            if now - e.sum_win > 1 {
                e.win = [[0; 3]; 10];
                e.blk = [[0; 3]; 10];
            }
            e.sum_win = now;
            let cur = [e.attempts, e.accepted, e.logins];
            e.win[(now % 10) as usize] = cur;
            let b = ((now / 10) % 10) as usize;
            if now.is_multiple_of(10) {
                e.blk[b] = [0; 3];
            }
            for (x, c) in e.blk[b].iter_mut().zip(cur) {
                *x = x.saturating_add(c);
            }
            e.attempts = 0;
            e.accepted = 0;
            e.logins = 0;
            let sums = [cur.map(f64::from), ring_sum(&e.win), ring_sum(&e.blk)];
            self.score[i] = sums[2][0] as u32;
            let lims = limits(now, e.born);
            let occ_p = occupied(&self.ports[i], now16, lims);
            let occ_h = occupied(&self.hosts[i], now16, lims);
            for si in 0..SCALES.len() {
                let [att, acc, logins] = sums[si];
                let failed = if att >= MIN_ATTEMPTS {
                    ((att - acc) / att).clamp(0.0, 1.0)
                } else {
                    f64::NAN
                };
                let values = [occ_p[si] as f64, occ_h[si] as f64, failed, logins];
                for (mi, v) in values.into_iter().enumerate() {
                    // Ties go to the source with more attempts (the busier one).
                    let (bv, batt, _) = best[mi][si];
                    if v.is_finite() && v > 0.0 && (v > bv || (v == bv && att > batt)) {
                        best[mi][si] = (v, att, i);
                    }
                }
            }
        }
        for (mi, row) in best.iter().enumerate() {
            let Some(measure) = self.view.measures()[mi] else {
                continue;
            };
            let m = measure as usize;
            out.value[m] = [0.0; SCALES.len()];
            out.culprit[m] = [None; SCALES.len()];
            for (si, &(_, _, i)) in row.iter().enumerate() {
                if i == usize::MAX {
                    continue;
                }
                let c = self.culprit(i, si, measure);
                out.value[m][si] = [c.ports, c.hosts, c.failed, c.logins][mi];
                out.culprit[m][si] = Some(c);
            }
        }
        if self.view == View::Source {
            self.name_sources_of(out);
        }
        // Votes count recent attempts most: halved at every window, so that
        // the candidates follow who is active now, not over the source's
        // whole life (a client's steady logins before a guesser's burst).
        for i in 0..CAPACITY {
            if self.last[i] == now {
                let e = &mut self.meta[i];
                for v in [
                    &mut e.peer_votes,
                    &mut e.port_votes,
                    &mut e.prober_votes,
                    &mut e.guesser_votes,
                ] {
                    // Never below 1: a candidate once set stays named.
                    *v = (*v / 2).max(u32::from(*v > 0));
                }
            }
        }
        self.now += 1;
        if self.now.is_multiple_of(REFRESH_EVERY) {
            self.refresh();
        }
    }

    /// Names, for each culprit of the destination view in `out`, the source
    /// behind it from this (source) table: among the sources whose main
    /// destination is that culprit, the one with the most distinct ports
    /// (DST_PORTS), logins (DST_LOGINS) or attempts (DST_SOURCES) at the
    /// same scale. The destination view's own vote names a source too, but
    /// a vote cannot tell a busy benign client from a guesser that just
    /// started; the counts can. Called while closing, with the sums
    /// brought up to the window; only slots aimed at a culprit are read.
    fn name_sources_of(&self, out: &mut SourceValues) {
        let now16 = self.now as u16;
        for (measure, what) in [
            (Measure::DstPorts, 0usize),
            (Measure::DstSources, 1),
            (Measure::DstLogins, 2),
        ] {
            for si in 0..SCALES.len() {
                let Some(c) = &mut out.culprit[measure as usize][si] else {
                    continue;
                };
                let Some(target) = c.dst.map(crate::counters::addr_key) else {
                    continue;
                };
                let mut best: Option<(f64, usize)> = None;
                for i in 0..CAPACITY {
                    let e = &self.meta[i];
                    if self.last[i] == 0 || e.peer != target || e.sum_win != self.now {
                        continue;
                    }
                    let sums = [
                        e.win[(self.now % 10) as usize].map(f64::from),
                        ring_sum(&e.win),
                        ring_sum(&e.blk),
                    ];
                    let value = match what {
                        0 => occupied(&self.ports[i], now16, limits(self.now, e.born))[si] as f64,
                        1 => sums[si][0],
                        _ => sums[si][2],
                    };
                    if value > 0.0 && best.is_none_or(|(b, _)| value > b) {
                        best = Some((value, i));
                    }
                }
                if let Some((_, i)) = best {
                    c.src = key_addr(self.keys[i]);
                }
            }
        }
    }

    /// What source (destination) `i` did at scale index `si`, as of the
    /// window being closed (its sums already brought up to it).
    fn culprit(&self, i: usize, si: usize, measure: Measure) -> Culprit {
        let e = &self.meta[i];
        let lims = limits(self.now, e.born);
        let now16 = self.now as u16;
        let occ_p = occupied(&self.ports[i], now16, lims)[si];
        let occ_h = occupied(&self.hosts[i], now16, lims)[si];
        let cur = e.win[(self.now % 10) as usize];
        let sums = [cur.map(f64::from), ring_sum(&e.win), ring_sum(&e.blk)];
        let [att, acc, logins] = sums[si];
        let key = key_addr(self.keys[i]);
        // In the destination view the source named is the one behind the
        // measure: the probes of new ports, the login attempts, or all
        // attempts. A vote's candidate is a source that was seen even when
        // its votes fell to zero (no majority: sources taking turns).
        let peer = match measure {
            Measure::DstPorts if e.prober != 0 => e.prober,
            Measure::Logins | Measure::DstLogins if e.guesser_votes > 0 => e.guesser.0,
            _ => e.peer,
        };
        // The service of login attempts is the port they went to.
        let port = match measure {
            Measure::Logins | Measure::DstLogins if e.guesser_votes > 0 => Some(e.guesser.1),
            _ => (e.port_votes > 0).then_some(e.port),
        };
        let (src, dst) = match self.view {
            View::Source => (key, (e.peer_votes > 0).then(|| key_addr(peer))),
            View::Destination => (key_addr(peer), Some(key)),
        };
        Culprit {
            view: self.view,
            src,
            dst,
            port,
            ports: estimate(occ_p, PORT_BINS),
            hosts: estimate(occ_h, HOST_BINS),
            attempts: att,
            failed: if att >= MIN_ATTEMPTS {
                ((att - acc) / att).clamp(0.0, 1.0)
            } else {
                f64::NAN
            },
            logins,
        }
    }

    /// Re-stamps bins older than any scale so that the u16 window stamps
    /// never wrap into looking recent.
    fn refresh(&mut self) {
        let now16 = self.now as u16;
        let old = old_stamp(self.now);
        for bins in self.ports.iter_mut() {
            for st in bins.iter_mut() {
                if now16.wrapping_sub(*st) > 1_000 {
                    *st = old;
                }
            }
        }
        for bins in self.hosts.iter_mut() {
            for st in bins.iter_mut() {
                if now16.wrapping_sub(*st) > 1_000 {
                    *st = old;
                }
            }
        }
    }

    /// Forgets every source (after a gap in the capture longer than any scale).
    pub fn clear(&mut self) {
        self.last.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nectar_packet::{Network, TcpFlags};

    fn pkt(src: [u8; 4], dst: [u8; 4], transport: Transport, dport: u16, flags: u8) -> PacketMeta {
        PacketMeta {
            network: Network::Ipv4,
            src: Some(IpAddr::from(src)),
            dst: Some(IpAddr::from(dst)),
            transport,
            src_port: 40000,
            dst_port: dport,
            tcp_flags: TcpFlags(flags),
            ..PacketMeta::default()
        }
    }

    fn add(t: &mut SourceTable, m: &PacketMeta) {
        let k = |a: Option<IpAddr>| crate::counters::addr_key(a.unwrap());
        t.add(m, k(m.src), k(m.dst), false);
    }

    const SYN: u8 = 0x02;
    const SYNACK: u8 = 0x12;

    #[test]
    fn slow_scan_shows_at_longer_scales_and_names_the_scanner() {
        let mut t = SourceTable::default();
        let mut v = SourceValues::OFF;
        let scanner = [203, 0, 113, 7];
        let victim = [198, 51, 100, 10];
        // One port every other window for 100 windows; a benign client
        // connects to port 80 every window and is accepted.
        for w in 0..100u16 {
            if w % 2 == 0 {
                add(&mut t, &pkt(scanner, victim, Transport::Tcp, 1000 + w, SYN));
            }
            add(
                &mut t,
                &pkt([192, 0, 2, 5], victim, Transport::Tcp, 80, SYN),
            );
            add(
                &mut t,
                &pkt(victim, [192, 0, 2, 5], Transport::Tcp, 40000, SYNACK),
            );
            t.close(&mut v);
        }
        let ports = v.value[Measure::Ports as usize];
        assert!(ports[0] <= 1.0, "{ports:?}");
        assert!((4.0..=6.0).contains(&ports[1]), "{ports:?}");
        assert!((45.0..=55.0).contains(&ports[2]), "{ports:?}");
        let c = v.culprit[Measure::Ports as usize][2].unwrap();
        assert_eq!(c.src, IpAddr::from(scanner));
        assert_eq!(c.dst, Some(IpAddr::from(victim)));
        assert_eq!(c.hosts, 1.0);
        // Every scanner SYN failed; the client's were accepted.
        let failed = v.value[Measure::Failed as usize];
        assert!(failed[2] > 0.9, "{failed:?}");
        assert_eq!(
            v.culprit[Measure::Failed as usize][2].unwrap().src,
            IpAddr::from(scanner)
        );
        // 100 windows later everything has aged out.
        for _ in 0..100 {
            t.close(&mut v);
        }
        assert_eq!(v.value[Measure::Ports as usize], [0.0; 3]);
    }

    #[test]
    fn a_scan_spread_over_sources_shows_in_the_destination_view() {
        let mut by_src = SourceTable::new(View::Source);
        let mut by_dst = SourceTable::new(View::Destination);
        let mut v = SourceValues::OFF;
        let victim = [198, 51, 100, 10];
        // Six sources, six ports each (a slice of one port range), none
        // answered; a benign client connects to port 443 of the victim ten
        // times a window, accepted: it makes most of the attempts.
        for w in 0..10u16 {
            for k in 0..6u8 {
                if w < 6 {
                    let m = pkt(
                        [203, 0, 113, 20 + k],
                        victim,
                        Transport::Tcp,
                        100 + u16::from(k) * 6 + w,
                        SYN,
                    );
                    add(&mut by_src, &m);
                    add(&mut by_dst, &m);
                }
            }
            for _ in 0..10 {
                for m in [
                    pkt([192, 0, 2, 5], victim, Transport::Tcp, 443, SYN),
                    pkt(victim, [192, 0, 2, 5], Transport::Tcp, 40000, SYNACK),
                ] {
                    add(&mut by_src, &m);
                    add(&mut by_dst, &m);
                }
            }
            v = SourceValues::OFF;
            by_dst.close(&mut v);
            by_src.close(&mut v);
        }
        // No one source stands out: six ports each.
        assert!(v.value[Measure::Ports as usize][1] <= 6.0, "{:?}", v.value);
        // The victim does: 37 ports from 7 sources over the last 10
        // windows, and the source named is a scanner, not the busy client.
        let ports = v.value[Measure::DstPorts as usize];
        assert!((33.0..=41.0).contains(&ports[1]), "{ports:?}");
        let c = v.culprit[Measure::DstPorts as usize][1].unwrap();
        assert_eq!(c.view, View::Destination);
        assert_eq!(c.dst, Some(IpAddr::from(victim)));
        assert_eq!(c.hosts, 7.0);
        assert_eq!(c.attempts, 136.0);
        assert_eq!(c.failed, 36.0 / 136.0);
        assert_eq!(c.src.to_string().rsplit_once('.').unwrap().0, "203.0.113");
        assert_eq!(v.value[Measure::DstSources as usize][1], 7.0);
        // This window: only the client, all accepted.
        let c = v.culprit[Measure::DstSources as usize][0].unwrap();
        assert_eq!(c.src, IpAddr::from([192, 0, 2, 5]));
        assert_eq!((c.hosts, c.failed), (1.0, 0.0));
        // The source view filled only its measures and the other way round.
        let mut only = SourceValues::OFF;
        by_dst.close(&mut only);
        assert!(only.value[Measure::Ports as usize][0].is_nan());
        assert!(only.value[Measure::DstPorts as usize][0].is_finite());
    }

    #[test]
    fn logins_and_udp_replies() {
        let mut t = SourceTable::default();
        let mut v = SourceValues::OFF;
        for _ in 0..30 {
            add(
                &mut t,
                &pkt([10, 0, 0, 9], [10, 0, 0, 1], Transport::Tcp, 22, SYN),
            );
        }
        // DNS replies (53 -> client port) are not requests.
        let mut reply = pkt([10, 0, 0, 53], [10, 0, 0, 2], Transport::Udp, 0, 0);
        reply.src_port = 53;
        for p in 0..50 {
            reply.dst_port = 30000 + p;
            add(&mut t, &reply);
        }
        t.close(&mut v);
        assert_eq!(v.value[Measure::Logins as usize][0], 30.0);
        assert_eq!(v.value[Measure::Ports as usize][0], 1.0);
        let c = v.culprit[Measure::Logins as usize][0].unwrap();
        assert_eq!(c.port, Some(22));
    }

    #[test]
    fn a_full_table_keeps_the_busy_source() {
        let mut t = SourceTable::default();
        let mut v = SourceValues::OFF;
        let mut n = 0u32;
        for w in 0..20u16 {
            // The scanner: 20 ports a window.
            for p in 0..20 {
                add(
                    &mut t,
                    &pkt(
                        [203, 0, 113, 7],
                        [10, 0, 0, 1],
                        Transport::Tcp,
                        w * 20 + p,
                        SYN,
                    ),
                );
            }
            // 3,000 one-packet sources a window.
            for _ in 0..3000 {
                n += 1;
                let b = n.to_be_bytes();
                add(
                    &mut t,
                    &pkt([10, b[1], b[2], b[3]], [10, 0, 0, 1], Transport::Udp, 53, 0),
                );
            }
            t.close(&mut v);
        }
        let c = v.culprit[Measure::Ports as usize][1].unwrap();
        assert_eq!(c.src, IpAddr::from([203, 0, 113, 7]));
        assert!(v.value[Measure::Ports as usize][1] > 150.0, "{:?}", v.value);
        assert!(t.dropped() > 0);
    }
}
