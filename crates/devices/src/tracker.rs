//! The per-device tracker: finds the devices of our networks on the packet
//! path, fills each one's window accumulators, and at every window boundary
//! (packet time) learns or judges each device and emits `device.anomaly` and
//! `device.silent` events.
//!
//! A device is a unicast MAC address that sends packets from an address of
//! `[inventory] networks` (so a router forwarding outside traffic is not
//! charged with it); packets to that MAC with a destination address of our
//! networks are its incoming ones. Devices live in a fixed open-addressing
//! table sized at start (`max_devices`); the per-device state is allocated
//! once, when a device first appears, never per packet. Devices beyond the
//! table are counted ([`TrackerStats::devices_full`]), not tracked.

use std::net::IpAddr;

use ipnet::IpNet;
use nectar_event::{Event, Kind, Severity, Timestamp};
use nectar_packet::{LinkType, Network, PacketView, Transport};
use serde_json::{Value, json};

use crate::config::DevicesConfig;
use crate::features::{
    Feature, FeatureVector, N_FEATURES, N_MODELLED, WindowAcc, dns_query_name, fmix,
};
use crate::model::{FeatureModel, Forest, KnownSet, LEARN_KEEP, Masses, norm_isf, normalise};

/// New destinations (or ports) listed per anomaly event.
pub const MAX_LISTED: usize = 8;
/// Destinations remembered per device (beyond: the device is not stable).
pub const KNOWN_DSTS: usize = 48;
/// Server ports remembered per device.
pub const KNOWN_PORTS: usize = 24;
/// Longest run of empty windows closed for a gap in the capture; a longer
/// gap restarts the clock (and is counted) instead.
pub const MAX_GAP_WINDOWS: u64 = 1000;

/// Windows of feature values kept per device for charts (the API's and the
/// Devices page's history; saved with the model).
pub const HISTORY: usize = 48;

mod persist;
pub use persist::{DeviceRecord, RestoreError};

/// One window of one device, as kept for charts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HistoryRow {
    pub(crate) start_ns: u64,
    pub(crate) values: [f32; N_FEATURES],
    pub(crate) anomaly: bool,
}

/// Looks up a MAC's vendor (the inventory's OUI table).
pub type VendorFn = fn([u8; 6]) -> Option<&'static str>;

/// Counters of the tracker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrackerStats {
    /// Devices tracked.
    pub devices: u64,
    /// Packets of devices not tracked because the table was full.
    pub devices_full: u64,
    /// Windows closed.
    pub windows: u64,
    /// Gaps longer than [`MAX_GAP_WINDOWS`] skipped.
    pub gaps_skipped: u64,
    /// Device windows judged.
    pub judged: u64,
    /// `device.anomaly` events.
    pub anomalies: u64,
    /// `device.silent` events.
    pub silent: u64,
}

/// Where a device stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Learning its normal.
    Learning,
    /// Judged every window.
    Monitoring,
}

impl Phase {
    /// `learning` or `monitoring`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Learning => "learning",
            Phase::Monitoring => "monitoring",
        }
    }
}

/// Learning windows kept for SPOT's fit and the trees' reference mass.
#[derive(Debug, Clone)]
struct LearnBuf {
    rows: Box<[[f32; N_MODELLED]; LEARN_KEEP]>,
    len: usize,
    next: usize,
}

impl LearnBuf {
    fn new() -> LearnBuf {
        LearnBuf {
            rows: Box::new([[0.0; N_MODELLED]; LEARN_KEEP]),
            len: 0,
            next: 0,
        }
    }

    fn push(&mut self, x: &FeatureVector) {
        let row = &mut self.rows[self.next];
        for (r, v) in row.iter_mut().zip(x.iter()) {
            *r = *v as f32;
        }
        self.next = (self.next + 1) % LEARN_KEEP;
        self.len = (self.len + 1).min(LEARN_KEEP);
    }

    fn vector(&self, i: usize) -> FeatureVector {
        let mut x = [0f64; N_FEATURES];
        for (v, r) in x.iter_mut().zip(self.rows[i].iter()) {
            *v = f64::from(*r);
        }
        x
    }
}

/// One device's state.
#[derive(Debug, Clone)]
struct Device {
    mac: [u8; 6],
    addr: Option<IpAddr>,
    vendor: Option<&'static str>,
    acc: WindowAcc,
    phase: Phase,
    /// Full windows learnt.
    learnt: u32,
    /// Of which the device sent something.
    active_learnt: u32,
    /// Longest run of windows between two active ones while learning (1:
    /// active every window).
    usual_gap: u32,
    /// Inactive windows in a row now.
    gap: u32,
    silent_reported: bool,
    /// The device appeared in the current window (a partial window for it).
    fresh: bool,
    learn: Option<LearnBuf>,
    models: Box<[FeatureModel; N_MODELLED]>,
    masses: Box<Masses>,
    dsts: KnownSet<KNOWN_DSTS>,
    ports: KnownSet<KNOWN_PORTS>,
    /// Learning windows learnt when the sets last grew.
    dsts_grew: u32,
    ports_grew: u32,
    /// Novelty is reported (the set stayed small and stopped growing in the
    /// second half of learning).
    dsts_stable: bool,
    ports_stable: bool,
    protocols: u16,
    new_dsts: [Option<IpAddr>; MAX_LISTED],
    new_ports: [(u8, u16); MAX_LISTED],
    n_new_ports: usize,
    last_anomaly_ns: u64,
    /// The last [`HISTORY`] windows (a ring; allocated once).
    history: Vec<HistoryRow>,
    history_next: usize,
}

impl Device {
    fn new(mac: [u8; 6], vendor: Option<&'static str>) -> Device {
        Device {
            mac,
            addr: None,
            vendor,
            acc: WindowAcc::default(),
            phase: Phase::Learning,
            learnt: 0,
            active_learnt: 0,
            usual_gap: 1,
            gap: 0,
            silent_reported: false,
            fresh: true,
            learn: Some(LearnBuf::new()),
            models: Box::default(),
            masses: Box::default(),
            dsts: KnownSet::default(),
            ports: KnownSet::default(),
            dsts_grew: 0,
            ports_grew: 0,
            dsts_stable: false,
            ports_stable: false,
            protocols: 0,
            new_dsts: [None; MAX_LISTED],
            new_ports: [(0, 0); MAX_LISTED],
            n_new_ports: 0,
            last_anomaly_ns: 0,
            history: Vec::with_capacity(HISTORY),
            history_next: 0,
        }
    }

    fn record(&mut self, row: HistoryRow) {
        if self.history.len() < HISTORY {
            self.history.push(row);
        } else {
            self.history[self.history_next] = row;
        }
        self.history_next = (self.history_next + 1) % HISTORY;
    }

    /// The kept windows, oldest first.
    fn history(&self) -> impl Iterator<Item = &HistoryRow> {
        let (a, b) = if self.history.len() < HISTORY {
            (&self.history[..], &self.history[..0])
        } else {
            let (b, a) = self.history.split_at(self.history_next);
            (a, b)
        };
        a.iter().chain(b.iter())
    }
}

/// A device as summaries (and, later, the UI and API) see it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceSummary {
    /// `aa:bb:cc:dd:ee:ff`.
    pub mac: String,
    /// Last source address.
    pub address: Option<IpAddr>,
    /// Vendor from the OUI.
    pub vendor: Option<&'static str>,
    /// Learning or monitoring.
    pub phase: Phase,
    /// Windows learnt.
    pub learnt: u32,
    /// Typical value of each modelled feature (learnt mean).
    pub typical: Vec<(&'static str, f64)>,
    /// Start of the last window that raised an anomaly (ns; 0: none).
    pub last_anomaly_ns: u64,
    /// The features whose upper tail SPOT models.
    pub spot: Vec<&'static str>,
}

/// The tracker. Feed it every packet with [`Tracker::observe`].
pub struct Tracker {
    networks: Vec<IpNet>,
    sensor: String,
    vendor: VendorFn,
    width: u64,
    learn_windows: u32,
    min_learn: u32,
    q: f64,
    q_test: f64,
    z_test: f64,
    silent_multiple: u32,
    max_devices: usize,
    keys: Box<[u64]>,
    index: Box<[u32]>,
    mask: usize,
    devices: Vec<Device>,
    forest: Forest,
    start: Option<u64>,
    /// The current window began mid-way (capture start): partial for all.
    partial: bool,
    stats: TrackerStats,
}

/// Tests per device window: each modelled feature, the lower tail of
/// `pkts_out`, the trees.
const TESTS: f64 = (N_MODELLED + 2) as f64;

fn mac_key(mac: [u8; 6]) -> u64 {
    let mut b = [0u8; 8];
    b[..6].copy_from_slice(&mac);
    u64::from_le_bytes(b) | (1 << 63)
}

/// Source and destination MAC of a frame, when the link has them.
fn macs(view: &PacketView<'_>) -> (Option<[u8; 6]>, Option<[u8; 6]>) {
    let f = view.frame();
    let pick = |s: Option<&[u8]>| -> Option<[u8; 6]> {
        let m = <[u8; 6]>::try_from(s?).ok()?;
        // Multicast / broadcast / zero addresses are no device.
        (m[0] & 1 == 0 && m != [0; 6]).then_some(m)
    };
    match view.meta.link {
        LinkType::Ethernet => (pick(f.get(6..12)), pick(f.get(0..6))),
        LinkType::LinuxSll if f.get(4..6) == Some(&[0, 6]) => (pick(f.get(6..12)), None),
        LinkType::LinuxSll2 if f.get(11) == Some(&6) => (pick(f.get(12..18)), None),
        _ => (None, None),
    }
}

fn addr_hash(ip: &IpAddr) -> u64 {
    match ip {
        IpAddr::V4(a) => fmix(u64::from(u32::from(*a)) ^ 0x4000_0000_0000),
        IpAddr::V6(a) => {
            let v = u128::from(*a);
            fmix((v as u64) ^ fmix((v >> 64) as u64))
        }
    }
}

fn proto_bit(meta: &nectar_packet::PacketMeta) -> u16 {
    let v6 = meta.network == Network::Ipv6;
    let t = match meta.transport {
        Transport::Tcp => 0,
        Transport::Udp => 1,
        Transport::Icmpv4 | Transport::Icmpv6 => 2,
        _ => 3,
    };
    match meta.network {
        Network::Arp => 1 << 8,
        Network::Ipv4 | Network::Ipv6 => 1 << (t + if v6 { 4 } else { 0 }),
        _ => 1 << 9,
    }
}

fn ts(ns: u64) -> Timestamp {
    Timestamp::from_nanos(i128::from(ns))
        .unwrap_or_else(|| Timestamp::from_micros(0).unwrap_or_else(Timestamp::now))
}

fn mix(mut h: u64, v: u64) -> u64 {
    h ^= v;
    h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^ (h >> 29)
}

/// A deterministic UUIDv7 (a capture analysed twice stores each event once).
fn event_id(sensor: &str, kind: Kind, ns: u64, mac: [u8; 6]) -> uuid::Uuid {
    let mut a = mix(0xcbf2_9ce4_8422_2325, ns);
    for b in sensor.bytes().chain(kind.as_str().bytes()).chain(mac) {
        a = mix(a, u64::from(b));
    }
    let b = mix(a, 0x6c62_272e_07bb_0142);
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&a.to_le_bytes());
    random[8..].copy_from_slice(&b.to_le_bytes()[..2]);
    uuid::Builder::from_unix_timestamp_millis(ns / 1_000_000, &random).into_uuid()
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(mac: [u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

fn num(x: f64) -> Value {
    let r = if x.abs() >= 100.0 {
        x.round()
    } else {
        (x * 1000.0).round() / 1000.0
    };
    serde_json::Number::from_f64(r).map_or(Value::Null, Value::Number)
}

/// One deviating feature of an anomaly.
struct Deviation {
    name: &'static str,
    value: f64,
    low: f64,
    high: f64,
    up: bool,
    p: f64,
    model: &'static str,
}

impl Tracker {
    /// A tracker of `networks` (empty: inactive), naming `sensor` in events.
    /// Allocates its table now (12 bytes per slot); device state is
    /// allocated when a device appears.
    pub fn new(
        cfg: &DevicesConfig,
        networks: Vec<IpNet>,
        sensor: &str,
        vendor: VendorFn,
    ) -> Tracker {
        let slots = (cfg.max_devices + cfg.max_devices / 4)
            .next_power_of_two()
            .max(16);
        let q_test = cfg.q / TESTS;
        Tracker {
            networks: if cfg.enabled { networks } else { Vec::new() },
            sensor: sensor.to_owned(),
            vendor,
            width: u64::try_from(cfg.window.as_nanos())
                .unwrap_or(u64::MAX)
                .max(1),
            learn_windows: cfg.learn_windows,
            min_learn: cfg.min_learn_windows,
            q: cfg.q,
            q_test,
            z_test: norm_isf(q_test),
            silent_multiple: cfg.silent_multiple,
            max_devices: cfg.max_devices,
            keys: vec![0u64; slots].into_boxed_slice(),
            index: vec![0u32; slots].into_boxed_slice(),
            mask: slots - 1,
            devices: Vec::new(),
            forest: Forest::new(0x6e65_6374_6172),
            start: None,
            partial: true,
            stats: TrackerStats::default(),
        }
    }

    /// Whether there is anything to watch (networks set and enabled).
    pub fn is_active(&self) -> bool {
        !self.networks.is_empty()
    }

    /// The counters.
    pub fn stats(&self) -> TrackerStats {
        self.stats
    }

    #[inline]
    fn ours(&self, ip: &IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(ip))
    }

    /// The device of `mac`, created when `create` (and there is room).
    #[inline]
    fn slot(&mut self, mac: [u8; 6], create: bool) -> Option<usize> {
        let key = mac_key(mac);
        let mut i = (fmix(key) as usize) & self.mask;
        loop {
            let k = self.keys[i];
            if k == key {
                return Some(self.index[i] as usize);
            }
            if k == 0 {
                break;
            }
            i = (i + 1) & self.mask;
        }
        if !create {
            return None;
        }
        if self.devices.len() >= self.max_devices {
            self.stats.devices_full += 1;
            return None;
        }
        let n = self.devices.len();
        self.keys[i] = key;
        self.index[i] = u32::try_from(n).unwrap_or(u32::MAX);
        self.devices.push(Device::new(mac, (self.vendor)(mac)));
        self.stats.devices += 1;
        Some(n)
    }

    /// Looks at one packet; events of windows it closes go onto `out`.
    #[inline]
    pub fn observe(&mut self, view: &PacketView<'_>, out: &mut Vec<Event>) {
        if self.networks.is_empty() {
            return;
        }
        let meta = &view.meta;
        let now = meta.ts_ns;
        match self.start {
            None => {
                self.start = Some(now - now % self.width);
                self.partial = true;
            }
            Some(s) if now >= s.saturating_add(self.width) => self.advance(now, out),
            Some(_) => {}
        }
        let (Some(src), dst) = (meta.src, meta.dst) else {
            return;
        };
        let (smac, dmac) = macs(view);
        let len = u64::from(meta.wire_len);
        if let Some(m) = smac
            && self.ours(&src)
            && let Some(i) = self.slot(m, true)
        {
            self.outgoing(i, view, src, dst, len);
        }
        if let (Some(m), Some(d)) = (dmac, dst)
            && self.ours(&d)
            && let Some(i) = self.slot(m, false)
        {
            let dev = &mut self.devices[i];
            let a = &mut dev.acc;
            a.pkts_in += 1;
            a.bytes_in += len;
            let failed = match meta.transport {
                Transport::Tcp => meta.tcp_flags.rst(),
                Transport::Icmpv4 => meta.icmp_type == 3,
                Transport::Icmpv6 => meta.icmp_type == 1,
                _ => false,
            };
            if failed {
                a.failed += 1;
            }
        }
    }

    fn outgoing(
        &mut self,
        i: usize,
        view: &PacketView<'_>,
        src: IpAddr,
        dst: Option<IpAddr>,
        len: u64,
    ) {
        let meta = &view.meta;
        let dev = &mut self.devices[i];
        if dev.addr != Some(src) && meta.network != Network::Arp {
            dev.addr = Some(src);
        }
        let a = &mut dev.acc;
        a.pkts_out += 1;
        a.bytes_out += len;
        a.protocols |= proto_bit(meta);
        a.src_addrs.insert(addr_hash(&src));
        let tcp_udp = matches!(meta.transport, Transport::Tcp | Transport::Udp);
        if tcp_udp {
            a.src_ports
                .insert(fmix(u64::from(meta.src_port) | 0x1_0000));
            a.dst_ports
                .insert(fmix(u64::from(meta.dst_port) | 0x2_0000));
        }
        let syn = meta.transport == Transport::Tcp && meta.tcp_flags.syn() && !meta.tcp_flags.ack();
        if syn {
            a.syns += 1;
        }
        if meta.transport == Transport::Udp
            && meta.dst_port == 53
            && let Some((h, len, entropy)) = dns_query_name(view.payload())
        {
            a.dns_queries += 1;
            a.dns_len_sum += len as f64;
            a.dns_entropy_sum += entropy;
            a.dns_names.insert(h);
        }
        let Some(dst) = dst else { return };
        if meta.network == Network::Arp {
            return;
        }
        let dst_hash = addr_hash(&dst);
        let first_in_window = a.dst_addrs.insert(dst_hash);
        // Novelty only for what the device starts: a TCP SYN, UDP to a
        // server port, an echo request (answers to others are not its choice).
        let initiates = syn
            || (meta.transport == Transport::Udp && meta.dst_port < 32768)
            || (meta.transport == Transport::Icmpv4 && meta.icmp_type == 8)
            || (meta.transport == Transport::Icmpv6 && meta.icmp_type == 128);
        if !initiates {
            return;
        }
        let dkey = dst_hash as u32;
        let pkey = (u32::from(meta.ip_proto) << 16) | u32::from(meta.dst_port);
        match dev.phase {
            Phase::Learning => {
                if first_in_window && dev.dsts.insert(dkey) {
                    dev.dsts_grew = dev.learnt;
                }
                if tcp_udp && dev.ports.insert(pkey) {
                    dev.ports_grew = dev.learnt;
                }
            }
            Phase::Monitoring => {
                if first_in_window && dev.dsts_stable && !dev.dsts.contains(dkey) {
                    let n = dev.acc.new_dsts as usize;
                    if n < MAX_LISTED && !dev.new_dsts[..n].contains(&Some(dst)) {
                        dev.new_dsts[n] = Some(dst);
                    }
                    dev.acc.new_dsts += 1;
                }
                if tcp_udp && dev.ports_stable && !dev.ports.contains(pkey) {
                    let n = dev.n_new_ports;
                    let p = (meta.ip_proto, meta.dst_port);
                    if n < MAX_LISTED && !dev.new_ports[..n].contains(&p) {
                        dev.new_ports[n] = p;
                        dev.n_new_ports += 1;
                    }
                }
            }
        }
    }

    /// Closes every window that ends at or before `now`.
    fn advance(&mut self, now: u64, out: &mut Vec<Event>) {
        let Some(mut start) = self.start else { return };
        let behind = (now - start) / self.width;
        if behind > MAX_GAP_WINDOWS + 1 {
            // A long pause: close the current window, restart the clock.
            self.close(start, false, out);
            self.stats.gaps_skipped += 1;
            self.start = Some(now - now % self.width);
            self.partial = true;
            return;
        }
        while now >= start.saturating_add(self.width) {
            self.close(start, false, out);
            start += self.width;
            self.partial = false;
        }
        self.start = Some(start);
    }

    /// Closes every window that ended by `now_ns` (a live capture's clock
    /// while no packet comes); events of the windows closed go onto `out`.
    pub fn tick(&mut self, now_ns: u64, out: &mut Vec<Event>) {
        if self.networks.is_empty() {
            return;
        }
        if let Some(s) = self.start
            && now_ns >= s.saturating_add(self.width)
        {
            self.advance(now_ns, out);
        }
    }

    /// Closes the current window as partial (the capture ends) and restarts
    /// the clock, so the next capture (maybe hours later) does not produce
    /// the empty windows in between. Call between files and at the end.
    pub fn end_capture(&mut self, out: &mut Vec<Event>) {
        if let Some(start) = self.start.take() {
            self.close(start, true, out);
        }
        self.partial = true;
    }

    /// Ends learning for every device with at least `min_learn_windows`
    /// windows (the end of `nectar analyze --baseline`); returns how many
    /// devices are now monitored and how many still learn.
    pub fn finish_learning(&mut self) -> (usize, usize) {
        let mut learning = 0;
        for i in 0..self.devices.len() {
            if self.devices[i].phase == Phase::Learning {
                if self.devices[i].learnt >= self.min_learn {
                    self.end_learning(i);
                } else {
                    learning += 1;
                }
            }
        }
        (self.devices.len() - learning, learning)
    }

    fn end_learning(&mut self, i: usize) {
        let q = self.q_test;
        let forest = &self.forest;
        let dev = &mut self.devices[i];
        if let Some(buf) = dev.learn.take() {
            let mut values = Vec::with_capacity(buf.len);
            for (fi, f) in Feature::ALL.iter().take(N_MODELLED).enumerate() {
                values.clear();
                values.extend((0..buf.len).map(|r| f64::from(buf.rows[r][fi])));
                dev.models[fi].fit_spot(*f, &values, q);
            }
            let mut scores = Vec::with_capacity(buf.len);
            for r in 0..buf.len {
                let u = normalise(&dev.models, &buf.vector(r));
                dev.masses.learn(forest, &u);
                scores.push(u);
            }
            for u in &scores {
                let s = dev.masses.score(forest, u);
                dev.masses.calibrate(s);
            }
        }
        // A set still growing in the second half of learning (a laptop
        // browsing) is no profile to compare with.
        dev.dsts_stable = dev.dsts.stable() && dev.dsts_grew * 2 <= dev.learnt;
        dev.ports_stable = dev.ports.stable() && dev.ports_grew * 2 <= dev.learnt;
        dev.phase = Phase::Monitoring;
        dev.gap = 0;
    }

    /// Closes window `[start, start + width)` for every device.
    fn close(&mut self, start: u64, ending: bool, out: &mut Vec<Event>) {
        self.stats.windows += 1;
        let end = start.saturating_add(self.width);
        let partial = self.partial || ending;
        for i in 0..self.devices.len() {
            self.close_device(i, start, end, partial, ending, out);
        }
    }

    fn close_device(
        &mut self,
        i: usize,
        start: u64,
        end: u64,
        partial: bool,
        ending: bool,
        out: &mut Vec<Event>,
    ) {
        let x = self.devices[i].acc.features();
        let dev = &self.devices[i];
        let partial = partial || dev.fresh;
        let active = dev.acc.pkts_out > 0;
        let queries = dev.acc.dns_queries > 0;
        let anomalies_before = self.stats.anomalies;
        match dev.phase {
            Phase::Learning => {
                let dev = &mut self.devices[i];
                if !partial {
                    for (fi, f) in Feature::ALL.iter().take(N_MODELLED).enumerate() {
                        if f.is_dns_mean() && !queries {
                            continue;
                        }
                        dev.models[fi].learn(*f, x[fi]);
                    }
                    if let Some(buf) = &mut dev.learn {
                        buf.push(&x);
                    }
                    dev.learnt += 1;
                    if active {
                        dev.active_learnt += 1;
                        dev.usual_gap = dev.usual_gap.max(dev.gap + 1);
                        dev.gap = 0;
                    } else {
                        dev.gap += 1;
                    }
                }
                dev.protocols |= dev.acc.protocols;
                if dev.learnt >= self.learn_windows {
                    self.end_learning(i);
                }
            }
            Phase::Monitoring => self.judge(i, &x, start, end, partial, ending, out),
        }
        let anomaly = self.stats.anomalies > anomalies_before;
        let dev = &mut self.devices[i];
        let mut values = [0f32; N_FEATURES];
        for (v, x) in values.iter_mut().zip(x.iter()) {
            *v = *x as f32;
        }
        dev.record(HistoryRow {
            start_ns: start,
            values,
            anomaly,
        });
        dev.acc.clear();
        dev.n_new_ports = 0;
        dev.new_dsts = [None; MAX_LISTED];
        if !ending {
            dev.fresh = false;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn judge(
        &mut self,
        i: usize,
        x: &FeatureVector,
        start: u64,
        end: u64,
        partial: bool,
        ending: bool,
        out: &mut Vec<Event>,
    ) {
        self.stats.judged += 1;
        let (z, qt) = (self.z_test, self.q_test);
        let dev = &self.devices[i];
        let queries = dev.acc.dns_queries > 0;
        let mut devs: Vec<Deviation> = Vec::new();
        let mut p_min = 1.0f64;
        for (fi, f) in Feature::ALL.iter().take(N_MODELLED).enumerate() {
            if f.is_dns_mean() && (!queries || dev.models[fi].count() < 1.0) {
                continue;
            }
            let lower = *f == Feature::PktsOut && !partial;
            let j = dev.models[fi].judge(*f, x[fi], z, qt, lower);
            let (p, up) = if j.p_high <= j.p_low {
                (j.p_high, true)
            } else {
                (j.p_low, false)
            };
            if p < qt {
                p_min = p_min.min(p);
                devs.push(Deviation {
                    name: f.name(),
                    value: x[fi],
                    low: j.low,
                    high: j.high,
                    up,
                    p,
                    model: if j.spot && up { "spot" } else { "moments" },
                });
            }
        }
        let u = normalise(&dev.models, x);
        let score = dev.masses.score(&self.forest, &u);
        let p_hst = dev.masses.probability(score);
        if p_hst < qt && !partial {
            p_min = p_min.min(p_hst);
            devs.push(Deviation {
                name: "multivariate",
                value: score,
                low: 0.0,
                high: 0.0,
                up: false,
                p: p_hst,
                model: "half_space_trees",
            });
        }
        let new_protocols = dev.acc.protocols & !dev.protocols;
        let novel = dev.acc.new_dsts > 0 || dev.n_new_ports > 0 || new_protocols != 0;
        let statistical = !devs.is_empty();

        // Silence.
        let regular = dev.learnt >= self.min_learn && dev.active_learnt * 2 >= dev.learnt;
        let silent_after = (self.silent_multiple * dev.usual_gap).max(2);
        let active = dev.acc.pkts_out > 0;
        let dev = &mut self.devices[i];
        if active {
            dev.gap = 0;
            dev.silent_reported = false;
        } else if !ending {
            dev.gap += 1;
        }
        let silent = regular && !dev.silent_reported && dev.gap >= silent_after;
        if silent {
            dev.silent_reported = true;
        }

        if !statistical && !partial {
            // A normal window: the models follow slow drift.
            for (fi, f) in Feature::ALL.iter().take(N_MODELLED).enumerate() {
                if f.is_dns_mean() && !queries {
                    continue;
                }
                dev.models[fi].update(*f, x[fi]);
            }
            dev.masses.update(&self.forest, &u, score);
        }
        // What was new is remembered (reported once), unless it came in a
        // burst (a sweep is not the device's new normal).
        if novel && dev.acc.new_dsts <= 4 {
            for d in dev.new_dsts.iter().flatten() {
                dev.dsts.insert(addr_hash(d) as u32);
            }
        }
        if dev.n_new_ports > 0 && dev.n_new_ports <= 2 {
            for (p, port) in dev.new_ports[..dev.n_new_ports].iter().copied() {
                dev.ports.insert((u32::from(p) << 16) | u32::from(port));
            }
        }
        dev.protocols |= new_protocols;

        if statistical || novel {
            self.stats.anomalies += 1;
            dev.last_anomaly_ns = start;
            let event =
                self.anomaly_event(i, x, start, end, &devs, p_min, statistical, new_protocols);
            out.push(event);
        }
        if silent {
            self.stats.silent += 1;
            let event = self.silent_event(i, start, end, silent_after);
            out.push(event);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn anomaly_event(
        &self,
        i: usize,
        x: &FeatureVector,
        start: u64,
        end: u64,
        devs: &[Deviation],
        p_min: f64,
        statistical: bool,
        new_protocols: u16,
    ) -> Event {
        let dev = &self.devices[i];
        let mac = format_mac(dev.mac);
        let n_new = dev.acc.new_dsts;
        let new_dsts: Vec<Value> = dev
            .new_dsts
            .iter()
            .flatten()
            .map(|a| Value::from(a.to_string()))
            .collect();
        let new_ports: Vec<Value> = dev.new_ports[..dev.n_new_ports]
            .iter()
            .map(|(p, port)| {
                let proto = match p {
                    6 => "tcp",
                    17 => "udp",
                    _ => "ip",
                };
                Value::from(format!("{proto}/{port}"))
            })
            .collect();
        let mut severity = if !statistical {
            Severity::Low
        } else if p_min < 1e-9 {
            Severity::High
        } else if p_min < 1e-6 {
            Severity::Medium
        } else {
            Severity::Low
        };
        // A deviation that also goes somewhere new is worse.
        if statistical && (n_new > 0 || !new_ports.is_empty()) {
            severity = match severity {
                Severity::Low => Severity::Medium,
                _ => Severity::High,
            };
        }
        let mut what: Vec<String> = devs
            .iter()
            .take(4)
            .map(|d| {
                if d.model == "half_space_trees" {
                    "unusual combination of features".to_owned()
                } else {
                    format!(
                        "{} {} {} {}",
                        d.name,
                        short(d.value),
                        if d.up { "above" } else { "below" },
                        short(if d.up { d.high } else { d.low })
                    )
                }
            })
            .collect();
        if n_new > 0 {
            what.push(format!("{n_new} new destination(s)"));
        }
        if !new_ports.is_empty() {
            what.push(format!("new port(s) {}", join(&new_ports)));
        }
        if new_protocols != 0 {
            what.push("new protocol".to_owned());
        }
        let who = match (dev.addr, dev.vendor) {
            (Some(a), Some(v)) => format!("{mac} ({a}, {v})"),
            (Some(a), None) => format!("{mac} ({a})"),
            (None, Some(v)) => format!("{mac} ({v})"),
            (None, None) => mac.clone(),
        };
        let summary = format!(
            "Device {who} behaves unlike its profile: {}",
            what.join("; ")
        );
        let features: Vec<Value> = devs
            .iter()
            .map(|d| {
                let mut f = json!({
                    "name": d.name,
                    "value": num(d.value),
                    "probability": d.p,
                    "direction": if d.up { "up" } else { "down" },
                    "model": d.model,
                });
                if d.model != "half_space_trees" {
                    f["threshold"] = num(if d.up { d.high } else { d.low });
                    f["expected"] = json!([num(d.low), num(d.high)]);
                }
                f
            })
            .collect();
        let mut deviation = Vec::new();
        if devs.iter().any(|d| d.model != "half_space_trees") {
            deviation.push("features");
        }
        if devs.iter().any(|d| d.model == "half_space_trees") {
            deviation.push("multivariate");
        }
        if n_new > 0 {
            deviation.push("new_destination");
        }
        if !new_ports.is_empty() {
            deviation.push("new_port");
        }
        if new_protocols != 0 {
            deviation.push("new_protocol");
        }
        let values: serde_json::Map<String, Value> = Feature::ALL
            .iter()
            .map(|f| (f.name().to_owned(), num(x[*f as usize])))
            .collect();
        let mut e =
            Event::new(self.sensor.as_str(), Kind::DeviceAnomaly, severity, summary).at(ts(start));
        e.id = event_id(&self.sensor, Kind::DeviceAnomaly, start, dev.mac);
        if let Some(a) = dev.addr {
            e = e.from_addr(a, None).with("address", a.to_string());
        }
        e.with("mac", mac)
            .with("vendor", dev.vendor.map_or(Value::Null, Value::from))
            .with("window_start", ts(start).to_string())
            .with("window_end", ts(end).to_string())
            .with("features", Value::Array(features))
            .with("values", Value::Object(values))
            .with("new_destinations", Value::Array(new_dsts))
            .with("new_destination_count", n_new)
            .with("new_ports", Value::Array(new_ports))
            .with("deviation", deviation)
            .with("probability", if statistical { p_min } else { 1.0 })
            .with("q", self.q)
    }

    fn silent_event(&self, i: usize, start: u64, end: u64, after: u32) -> Event {
        let dev = &self.devices[i];
        let mac = format_mac(dev.mac);
        let quiet_ns = u64::from(dev.gap).saturating_mul(self.width);
        let since = end.saturating_sub(quiet_ns);
        let summary = format!(
            "Device {mac}{} is silent: nothing sent for {} windows (it usually sends at least every {})",
            dev.addr.map(|a| format!(" ({a})")).unwrap_or_default(),
            dev.gap,
            if dev.usual_gap <= 1 {
                "window".to_owned()
            } else {
                format!("{} windows", dev.usual_gap)
            }
        );
        let mut e = Event::new(
            self.sensor.as_str(),
            Kind::DeviceSilent,
            Severity::Medium,
            summary,
        )
        .at(ts(start));
        e.id = event_id(&self.sensor, Kind::DeviceSilent, start, dev.mac);
        if let Some(a) = dev.addr {
            e = e.from_addr(a, None).with("address", a.to_string());
        }
        e.with("mac", mac)
            .with("vendor", dev.vendor.map_or(Value::Null, Value::from))
            .with("window_start", ts(since).to_string())
            .with("window_end", ts(end).to_string())
            .with("silent_windows", dev.gap)
            .with("usual_gap_windows", dev.usual_gap)
            .with("silent_after_windows", after)
            .with("window_seconds", self.width as f64 / 1e9)
    }

    /// Every tracked device.
    pub fn devices(&self) -> impl Iterator<Item = DeviceSummary> + '_ {
        self.devices.iter().map(|d| DeviceSummary {
            mac: format_mac(d.mac),
            address: d.addr,
            vendor: d.vendor,
            phase: d.phase,
            learnt: d.learnt,
            typical: Feature::ALL
                .iter()
                .take(N_MODELLED)
                .enumerate()
                .map(|(i, f)| (f.name(), d.models[i].typical(*f)))
                .collect(),
            last_anomaly_ns: d.last_anomaly_ns,
            spot: Feature::ALL
                .iter()
                .take(N_MODELLED)
                .enumerate()
                .filter(|(i, _)| d.models[*i].has_spot())
                .map(|(_, f)| f.name())
                .collect(),
        })
    }

    /// Approximate heap bytes per tracked device (state, models, sketches;
    /// the learning buffer is freed when learning ends).
    pub fn bytes_per_device(monitoring: bool) -> usize {
        let base = std::mem::size_of::<Device>()
            + HISTORY * std::mem::size_of::<HistoryRow>()
            + std::mem::size_of::<[FeatureModel; N_MODELLED]>()
            + std::mem::size_of::<Masses>()
            + 12;
        if monitoring {
            base + crate::model::SPOT_FEATURES.len() * crate::model::SPOT_MAX_EXCESS * 264
        } else {
            base + std::mem::size_of::<[[f32; N_MODELLED]; LEARN_KEEP]>()
        }
    }
}

fn short(x: f64) -> String {
    if x.abs() >= 100.0 || x == x.round() {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn join(v: &[Value]) -> String {
    v.iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}
