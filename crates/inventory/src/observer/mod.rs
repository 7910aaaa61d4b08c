//! Passive discovery on the packet path: which hosts of our networks send,
//! with what MAC, which of their ports answer, what they call themselves
//! (DHCP) and what their handshakes suggest about their OS — turned into
//! change events (`host.discovered`, `service.opened`, `service.closed`,
//! `host.changed`, `host.gone`, and `host.seen` for last-seen times) that go
//! into the bus like any other event. The inventory tables are kept by the
//! stream consumer ([`crate::stage`]), not here.
//!
//! Every packet costs a prefix test and, for packets of our hosts, one probe
//! of a fixed open-addressing table sized at start (`[inventory] max_hosts`):
//! nothing is allocated per packet, only when something changes (an event).
//! Hosts beyond the table's size and services beyond [`MAX_SERVICES`] per host
//! are counted, not tracked. Times are packet times, so a capture analysed
//! twice gives the same events (with the same ids).

pub mod dhcp;
pub mod dns;
pub mod os;

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use nectar_event::{Event, Kind, Severity, Timestamp};
use nectar_packet::{LinkType, Network, PacketView, Transport};
use serde_json::{Value, json};

use crate::config::{Inventory, Networks};
use crate::oui;
pub use os::OsFamily;

/// Most services tracked per host.
pub const MAX_SERVICES: usize = 16;
/// Longest DHCP host name kept (longer ones are cut).
pub const MAX_NAME: usize = 63;
/// How often (packet time) a host still seen is reported in `host.seen`.
pub const SEEN_EVERY: Duration = Duration::from_secs(60);
/// How often (packet time) the table is swept for gone hosts and seen reports:
/// a sweep reads the whole table, so not every second.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// Most hosts in one `host.seen` event.
const SEEN_PER_EVENT: usize = 256;
/// Slots of the recent-UDP-request cache (a power of two).
const UDP_SLOTS: usize = 4096;

const TCP: u8 = 6;
const UDP: u8 = 17;

#[derive(Debug, Clone, Copy, Default)]
struct Svc {
    port: u16,
    proto: u8,
    open: bool,
    last_ns: u64,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    used: bool,
    gone: bool,
    dirty: bool,
    has_mac: bool,
    os: OsFamily,
    n_services: u8,
    name_len: u8,
    addr: [u8; 16],
    mac: [u8; 6],
    last_ns: u64,
    reported_ns: u64,
    name: [u8; MAX_NAME],
    services: [Svc; MAX_SERVICES],
}

impl Default for Slot {
    fn default() -> Slot {
        Slot {
            used: false,
            gone: false,
            dirty: false,
            has_mac: false,
            os: OsFamily::Unknown,
            n_services: 0,
            name_len: 0,
            addr: [0; 16],
            mac: [0; 6],
            last_ns: 0,
            reported_ns: 0,
            name: [0; MAX_NAME],
            services: [Svc::default(); MAX_SERVICES],
        }
    }
}

impl Slot {
    fn ip(&self) -> IpAddr {
        key_ip(self.addr)
    }
}

/// Counters of the observer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObserverStats {
    /// Hosts tracked.
    pub hosts: u64,
    /// Hosts not tracked because the table was full.
    pub table_full: u64,
    /// Services not tracked because a host had [`MAX_SERVICES`] already.
    pub services_full: u64,
    /// Events emitted.
    pub events: u64,
}

/// The passive observer. Feed it every packet with [`Observer::observe`].
pub struct Observer {
    networks: Networks,
    sensor: String,
    gone_after_ns: u64,
    slots: Box<[Slot]>,
    mask: usize,
    max_hosts: usize,
    udp: Box<[u64]>,
    next_sweep_ns: u64,
    stats: ObserverStats,
}

fn ip_key(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

fn key_ip(key: [u8; 16]) -> IpAddr {
    let v6 = Ipv6Addr::from(key);
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

#[inline]
fn mix(mut h: u64, v: u64) -> u64 {
    h ^= v;
    h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^ (h >> 29)
}

/// MurmurHash3's 64-bit finaliser: every input bit reaches every output bit,
/// so the table's low index bits depend on the whole address (the host part
/// of an IPv4-mapped key sits in the high bits of its last word).
#[inline]
fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[inline]
fn hash_key(k: &[u8; 16]) -> u64 {
    let (a, b) = k.split_at(8);
    let a = u64::from_le_bytes(a.try_into().unwrap_or([0; 8]));
    let b = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
    fmix(a ^ fmix(b))
}

fn ns_time(ns: u64) -> Timestamp {
    Timestamp::from_nanos(i128::from(ns)).unwrap_or_else(Timestamp::now)
}

/// A deterministic UUIDv7 for an event of `kind` about `parts` at `ns`, so
/// analysing the same capture twice stores each event once.
fn event_id(sensor: &str, kind: Kind, ns: u64, parts: &[u64]) -> uuid::Uuid {
    let mut a = mix(0xcbf2_9ce4_8422_2325, ns);
    for b in sensor.bytes().chain(kind.as_str().bytes()) {
        a = mix(a, u64::from(b));
    }
    for p in parts {
        a = mix(a, *p);
    }
    let b = mix(a, 0x6c62_272e_07bb_0142);
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&a.to_le_bytes());
    random[8..].copy_from_slice(&b.to_le_bytes()[..2]);
    uuid::Builder::from_unix_timestamp_millis(ns / 1_000_000, &random).into_uuid()
}

fn key_parts(addr: &[u8; 16], extra: u64) -> [u64; 3] {
    let (a, b) = addr.split_at(8);
    [
        u64::from_le_bytes(a.try_into().unwrap_or([0; 8])),
        u64::from_le_bytes(b.try_into().unwrap_or([0; 8])),
        extra,
    ]
}

fn proto_name(p: u8) -> &'static str {
    if p == UDP { "udp" } else { "tcp" }
}

/// The sender's MAC address from the link header, when the link has one.
fn link_mac(view: &PacketView<'_>) -> Option<[u8; 6]> {
    let f = view.frame();
    let slice = match view.meta.link {
        LinkType::Ethernet => f.get(6..12)?,
        LinkType::LinuxSll if f.get(4..6)? == [0, 6] => f.get(6..12)?,
        LinkType::LinuxSll2 if *f.get(11)? == 6 => f.get(12..18)?,
        _ => return None,
    };
    let mut mac = [0u8; 6];
    mac.copy_from_slice(slice);
    // Multicast or all-zero senders say nothing about a host.
    (mac[0] & 1 == 0 && mac != [0; 6]).then_some(mac)
}

/// The TCP header, for IPv4 and for IPv6 without extension headers.
fn tcp_header<'a>(view: &PacketView<'a>) -> Option<&'a [u8]> {
    let n = view.network_bytes();
    let off = match view.meta.network {
        Network::Ipv4 => usize::from(n.first()? & 0x0f) * 4,
        Network::Ipv6 if *n.get(6)? == TCP => 40,
        _ => return None,
    };
    n.get(off..off + 20)
}

/// Whether an address can be a host's own (not unspecified, multicast,
/// broadcast).
fn is_host_address(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => !(a.is_unspecified() || a.is_multicast() || a.is_broadcast()),
        IpAddr::V6(a) => !(a.is_unspecified() || a.is_multicast()),
    }
}

impl Observer {
    /// An observer of `inventory`'s networks, naming `sensor` in its events.
    /// Allocates its tables now (about 420 bytes per host of `max_hosts`).
    pub fn new(inventory: &Inventory, sensor: &str) -> Observer {
        let slots = (inventory.max_hosts + inventory.max_hosts / 4)
            .next_power_of_two()
            .max(16);
        Observer {
            networks: inventory.networks.clone(),
            sensor: sensor.to_owned(),
            gone_after_ns: u64::try_from(inventory.gone_after.as_nanos()).unwrap_or(u64::MAX),
            slots: vec![Slot::default(); slots].into_boxed_slice(),
            mask: slots - 1,
            max_hosts: inventory.max_hosts,
            udp: vec![0u64; UDP_SLOTS].into_boxed_slice(),
            next_sweep_ns: 0,
            stats: ObserverStats::default(),
        }
    }

    /// Whether there is anything to watch (`[inventory] networks` set).
    pub fn is_active(&self) -> bool {
        !self.networks.is_empty()
    }

    /// The counters.
    pub fn stats(&self) -> ObserverStats {
        self.stats
    }

    /// How far from its home slot each tracked host sits (tests: the hash
    /// spreads addresses).
    #[cfg(test)]
    fn probe_distances(&self) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i].used)
            .map(|i| {
                let home = (hash_key(&self.slots[i].addr) as usize) & self.mask;
                (i + self.slots.len() - home) & self.mask
            })
            .collect()
    }

    /// Looks at one packet; change events are pushed onto `out`.
    #[inline]
    pub fn observe(&mut self, view: &PacketView<'_>, out: &mut Vec<Event>) {
        if self.networks.is_empty() {
            return;
        }
        let meta = &view.meta;
        let now = meta.ts_ns;
        if now >= self.next_sweep_ns {
            self.sweep(now, out);
        }
        match meta.network {
            Network::Arp => {
                if let Some(src) = meta.src
                    && self.networks.contains(&src)
                    && is_host_address(&src)
                {
                    // The ARP sender hardware address (Ethernet/IPv4 ARP).
                    let n = view.network_bytes();
                    let mac = (n.get(0..2) == Some(&[0, 1]) && n.get(4) == Some(&6))
                        .then(|| n.get(8..14))
                        .flatten()
                        .and_then(|s| <[u8; 6]>::try_from(s).ok());
                    self.touch(src, mac.or_else(|| link_mac(view)), now, out);
                }
            }
            Network::Ipv4 | Network::Ipv6 => self.ip_packet(view, now, out),
            _ => {}
        }
    }

    fn ip_packet(&mut self, view: &PacketView<'_>, now: u64, out: &mut Vec<Event>) {
        let meta = &view.meta;
        let (Some(src), Some(dst)) = (meta.src, meta.dst) else {
            return;
        };
        let ours = self.networks.contains(&src) && is_host_address(&src);
        if meta.transport == Transport::Udp {
            match (meta.src_port, meta.dst_port) {
                (68, 67) | (67, 68) => self.dhcp(view.payload(), now, out),
                // DNS and mDNS answers name hosts already seen sending.
                (53 | 5353, _) => self.dns(view.payload(), now, out),
                _ => {}
            }
        }
        if !ours {
            // Remember UDP requests to our hosts, to know their answers.
            if meta.transport == Transport::Udp && self.networks.contains(&dst) {
                self.remember_udp(src, meta.src_port, dst, meta.dst_port);
            }
            return;
        }
        let Some(i) = self.touch(src, link_mac(view), now, out) else {
            return;
        };
        match meta.transport {
            Transport::Tcp => {
                let flags = meta.tcp_flags;
                let header = tcp_header(view);
                if flags.syn() {
                    let window = header
                        .and_then(|h| h.get(14..16))
                        .map(|w| u16::from_be_bytes([w[0], w[1]]));
                    let guess = OsFamily::guess(meta.ttl, window);
                    self.set_os(i, guess, now, out);
                }
                if flags.syn() && flags.ack() {
                    self.service(i, meta.src_port, TCP, true, now, out);
                } else if flags.rst() && flags.ack() {
                    // A reset with sequence number 0 answers a SYN: the port
                    // refuses connections (an abort mid-connection has one).
                    let seq0 = header.and_then(|h| h.get(4..8)) == Some(&[0, 0, 0, 0]);
                    if seq0 {
                        self.service(i, meta.src_port, TCP, false, now, out);
                    }
                }
            }
            Transport::Udp => {
                if self.answered_udp(src, meta.src_port, dst, meta.dst_port) {
                    self.service(i, meta.src_port, UDP, true, now, out);
                } else if self.networks.contains(&dst) {
                    self.remember_udp(src, meta.src_port, dst, meta.dst_port);
                }
            }
            _ => {}
        }
    }

    #[inline]
    fn udp_key(a: IpAddr, ap: u16, b: IpAddr, bp: u16) -> u64 {
        let ka = ip_key(a);
        let kb = ip_key(b);
        fmix(
            hash_key(&ka) ^ hash_key(&kb).rotate_left(17) ^ ((u64::from(ap) << 16) | u64::from(bp)),
        ) | 1
    }

    #[inline]
    fn remember_udp(&mut self, a: IpAddr, ap: u16, b: IpAddr, bp: u16) {
        let k = Self::udp_key(a, ap, b, bp);
        self.udp[(k as usize) & (UDP_SLOTS - 1)] = k;
    }

    /// Whether `src:sp -> dst:dp` answers a request `dst:dp -> src:sp` seen
    /// before.
    #[inline]
    fn answered_udp(&self, src: IpAddr, sp: u16, dst: IpAddr, dp: u16) -> bool {
        let k = Self::udp_key(dst, dp, src, sp);
        self.udp[(k as usize) & (UDP_SLOTS - 1)] == k
    }

    /// The slot of `ip`, inserting it (and reporting it discovered) if new;
    /// `None` when the table is full.
    fn touch(
        &mut self,
        ip: IpAddr,
        mac: Option<[u8; 6]>,
        now: u64,
        out: &mut Vec<Event>,
    ) -> Option<usize> {
        let key = ip_key(ip);
        let mut i = (hash_key(&key) as usize) & self.mask;
        loop {
            let slot = &self.slots[i];
            if !slot.used {
                break;
            }
            if slot.addr == key {
                let returned = slot.gone;
                let s = &mut self.slots[i];
                s.last_ns = s.last_ns.max(now);
                s.dirty = true;
                if returned {
                    s.gone = false;
                    if let Some(m) = mac {
                        s.mac = m;
                        s.has_mac = true;
                    }
                    self.discovered(i, now, true, out);
                } else if let Some(m) = mac {
                    self.set_mac(i, m, now, out);
                }
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
        if self.stats.hosts as usize >= self.max_hosts {
            self.stats.table_full += 1;
            return None;
        }
        self.stats.hosts += 1;
        self.slots[i] = Slot {
            used: true,
            dirty: false,
            has_mac: mac.is_some(),
            addr: key,
            mac: mac.unwrap_or([0; 6]),
            last_ns: now,
            reported_ns: now,
            ..Slot::default()
        };
        self.discovered(i, now, false, out);
        Some(i)
    }

    fn base_event(&mut self, kind: Kind, ns: u64, parts: &[u64], summary: String) -> Event {
        self.stats.events += 1;
        let mut e = Event::new(self.sensor.as_str(), kind, Severity::Info, summary).at(ns_time(ns));
        e.id = event_id(&self.sensor, kind, ns, parts);
        e.with("source", "passive")
    }

    fn discovered(&mut self, i: usize, now: u64, returned: bool, out: &mut Vec<Event>) {
        let s = self.slots[i];
        let ip = s.ip();
        let mac = s.has_mac.then(|| oui::format_mac(s.mac));
        let vendor = s.has_mac.then(|| oui::vendor(s.mac)).flatten();
        let mut summary = format!("{} host {ip}", if returned { "Returning" } else { "New" });
        if let Some(m) = &mac {
            summary.push_str(&format!(
                " ({m}{})",
                vendor.map(|v| format!(", {v}")).unwrap_or_default()
            ));
        }
        let mut e = self
            .base_event(Kind::HostDiscovered, now, &key_parts(&s.addr, 0), summary)
            .from_addr(ip, None)
            .with("address", ip.to_string());
        if let Some(m) = mac {
            e = e.with("mac", m);
        }
        if let Some(v) = vendor {
            e = e.with("vendor", v);
        }
        if returned {
            e = e.with("returned", true);
        }
        out.push(e);
    }

    fn changed(
        &mut self,
        i: usize,
        field: &str,
        old: Value,
        new: Value,
        now: u64,
        out: &mut Vec<Event>,
    ) {
        let s = self.slots[i];
        let ip = s.ip();
        let summary = format!("Host {ip}: {field} changed");
        let tag = field.bytes().fold(0u64, |a, b| mix(a, u64::from(b)));
        let e = self
            .base_event(Kind::HostChanged, now, &key_parts(&s.addr, tag), summary)
            .from_addr(ip, None)
            .with("address", ip.to_string())
            .with("field", field)
            .with("old", old)
            .with("new", new);
        out.push(e);
    }

    fn set_mac(&mut self, i: usize, mac: [u8; 6], now: u64, out: &mut Vec<Event>) {
        let s = &mut self.slots[i];
        if s.has_mac && s.mac == mac {
            return;
        }
        let old = s.has_mac.then(|| oui::format_mac(s.mac));
        s.mac = mac;
        s.has_mac = true;
        let new = oui::format_mac(mac);
        // The first MAC of a host seen before without one is a change from null.
        let old_v = old.map_or(Value::Null, Value::from);
        self.changed(i, "mac", old_v, Value::from(new), now, out);
        if let Some(v) = oui::vendor(mac)
            && let Some(last) = out.last_mut()
        {
            last.data.insert("vendor".into(), Value::from(v));
        }
    }

    fn set_os(&mut self, i: usize, os: OsFamily, now: u64, out: &mut Vec<Event>) {
        let s = &mut self.slots[i];
        if os == OsFamily::Unknown || s.os == os {
            return;
        }
        let old = s.os;
        s.os = os;
        let old_v = if old == OsFamily::Unknown {
            Value::Null
        } else {
            Value::from(old.as_str())
        };
        self.changed(i, "os", old_v, Value::from(os.as_str()), now, out);
    }

    fn service(
        &mut self,
        i: usize,
        port: u16,
        proto: u8,
        open: bool,
        now: u64,
        out: &mut Vec<Event>,
    ) {
        let s = &mut self.slots[i];
        let n = usize::from(s.n_services);
        let found = s.services[..n]
            .iter()
            .position(|v| v.port == port && v.proto == proto);
        let changed = match found {
            Some(j) => {
                let v = &mut s.services[j];
                v.last_ns = v.last_ns.max(now);
                let was = v.open;
                v.open = open;
                was != open
            }
            None if !open => false,
            None if n >= MAX_SERVICES => {
                self.stats.services_full += 1;
                false
            }
            None => {
                s.services[n] = Svc {
                    port,
                    proto,
                    open,
                    last_ns: now,
                };
                s.n_services += 1;
                true
            }
        };
        if !changed {
            return;
        }
        let ip = s.ip();
        let addr = s.addr;
        let (kind, verb) = if open {
            (Kind::ServiceOpened, "answers")
        } else {
            (Kind::ServiceClosed, "refused connections")
        };
        let p = proto_name(proto);
        let summary = format!("{ip} {verb} on {port}/{p}");
        let e = self
            .base_event(
                kind,
                now,
                &key_parts(&addr, (u64::from(proto) << 16) | u64::from(port)),
                summary,
            )
            .from_addr(ip, Some(port))
            .with("address", ip.to_string())
            .with("port", port)
            .with("proto", p);
        out.push(e);
    }

    fn dhcp(&mut self, payload: &[u8], now: u64, out: &mut Vec<Event>) {
        let Some(info) = dhcp::parse(payload) else {
            return;
        };
        let Some(v4) = info.address else {
            return;
        };
        let ip = IpAddr::V4(v4);
        if !self.networks.contains(&ip) || !is_host_address(&ip) {
            return;
        }
        let Some(i) = self.touch(ip, Some(info.mac), now, out) else {
            return;
        };
        if let Some(raw) = info.host_name {
            self.set_name(i, raw, "dhcp", now, out);
        }
    }

    /// The slot of `ip` if it is tracked (nothing is inserted).
    fn find(&self, ip: IpAddr) -> Option<usize> {
        let key = ip_key(ip);
        let mut i = (hash_key(&key) as usize) & self.mask;
        loop {
            let slot = &self.slots[i];
            if !slot.used {
                return None;
            }
            if slot.addr == key {
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
    }

    fn dns(&mut self, payload: &[u8], now: u64, out: &mut Vec<Event>) {
        dns::answers(payload, &mut |name, ip| {
            if !self.networks.contains(&ip) {
                return;
            }
            // A name from DNS fills an empty one; a DHCP name is the host's own.
            if let Some(i) = self.find(ip)
                && self.slots[i].name_len == 0
            {
                self.set_name(i, name.as_bytes(), "dns", now, out);
            }
        });
    }

    /// Sets a host's name (printable ASCII, cut to [`MAX_NAME`]) and reports
    /// the change, learnt `how`.
    fn set_name(&mut self, i: usize, raw: &[u8], how: &str, now: u64, out: &mut Vec<Event>) {
        let mut name = [0u8; MAX_NAME];
        let len = raw.len().min(MAX_NAME);
        for (d, b) in name.iter_mut().zip(raw) {
            // Printable ASCII only: a name is shown and searched, never run.
            *d = if b.is_ascii_graphic() { *b } else { b'?' };
        }
        let s = &mut self.slots[i];
        if usize::from(s.name_len) == len && s.name[..len] == name[..len] {
            return;
        }
        let old = (s.name_len > 0)
            .then(|| String::from_utf8_lossy(&s.name[..usize::from(s.name_len)]).into_owned());
        s.name = name;
        s.name_len = len as u8;
        let new = String::from_utf8_lossy(&name[..len]).into_owned();
        self.changed(
            i,
            "name",
            old.map_or(Value::Null, Value::from),
            Value::from(new),
            now,
            out,
        );
        if let Some(last) = out.last_mut() {
            last.data.insert("how".into(), Value::from(how));
        }
    }

    /// Reports hosts silent for `gone_after` as gone and hosts seen since
    /// their last report (at most every [`SEEN_EVERY`]) in `host.seen`.
    fn sweep(&mut self, now: u64, out: &mut Vec<Event>) {
        self.next_sweep_ns = now.saturating_add(SWEEP_EVERY.as_nanos() as u64);
        let every = SEEN_EVERY.as_nanos() as u64;
        let mut seen = Vec::new();
        for i in 0..self.slots.len() {
            let s = self.slots[i];
            if !s.used {
                continue;
            }
            if !s.gone && s.last_ns.saturating_add(self.gone_after_ns) < now {
                if s.dirty {
                    seen.push(i);
                }
                self.slots[i].gone = true;
                let ip = s.ip();
                let e = self
                    .base_event(
                        Kind::HostGone,
                        now,
                        &key_parts(&s.addr, s.last_ns),
                        format!("Host {ip} not seen since {}", ns_time(s.last_ns)),
                    )
                    .from_addr(ip, None)
                    .with("address", ip.to_string())
                    .with("last_seen", ns_time(s.last_ns).to_string());
                out.push(e);
            } else if s.dirty && now.saturating_sub(s.reported_ns) >= every {
                seen.push(i);
            }
        }
        self.report_seen(&seen, now, out);
    }

    /// Reports every host seen since its last report (end of a capture, stop).
    pub fn flush(&mut self, out: &mut Vec<Event>) {
        let dirty: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].used && self.slots[i].dirty)
            .collect();
        let now = dirty
            .iter()
            .map(|&i| self.slots[i].last_ns)
            .max()
            .unwrap_or(0);
        self.report_seen(&dirty, now, out);
    }

    /// A wall-clock tick of a live capture with no packets: hosts go gone.
    pub fn tick(&mut self, now_ns: u64, out: &mut Vec<Event>) {
        if !self.networks.is_empty() && now_ns >= self.next_sweep_ns {
            self.sweep(now_ns, out);
        }
    }

    fn report_seen(&mut self, slots: &[usize], now: u64, out: &mut Vec<Event>) {
        for chunk in slots.chunks(SEEN_PER_EVENT) {
            let mut hosts = Vec::with_capacity(chunk.len());
            let mut h = 0u64;
            for &i in chunk {
                let s = &mut self.slots[i];
                s.dirty = false;
                s.reported_ns = now;
                let services: Vec<Value> = s.services[..usize::from(s.n_services)]
                    .iter()
                    .filter(|v| v.open)
                    .map(|v| json!({"port": v.port, "proto": proto_name(v.proto), "last_seen": ns_time(v.last_ns).to_string()}))
                    .collect();
                h = mix(h, hash_key(&s.addr));
                hosts.push(json!({
                    "address": s.ip().to_string(),
                    "last_seen": ns_time(s.last_ns).to_string(),
                    "services": services,
                }));
            }
            let summary = format!("{} host(s) of our networks seen", hosts.len());
            let e = self
                .base_event(Kind::HostSeen, now, &[h], summary)
                .with("hosts", Value::Array(hosts));
            out.push(e);
        }
    }
}

#[cfg(test)]
mod tests;
