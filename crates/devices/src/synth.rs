//! Synthetic device traffic for tests and the benchmark: plugs with a
//! heartbeat, cameras uploading, laptops browsing, as Ethernet/IPv4 frames
//! with known MACs, and the attacks a test injects (a Telnet sweep, silence).
//! Deterministic for a seed; nothing is sent anywhere (frames go to a
//! callback, typically a pcap writer).

use std::net::Ipv4Addr;

/// The router's MAC: every device talks through it.
pub const ROUTER_MAC: [u8; 6] = [0x00, 0x00, 0x0c, 0, 0, 1];

/// What a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A UDP heartbeat every second to one broker.
    Plug,
    /// A TCP upload to one cloud address, ~5 packets a second each way.
    Camera,
    /// Bursts to many addresses, some seconds idle.
    Laptop,
}

/// The lab: `devices` devices, roles in turn (plug, camera, laptop), device
/// `i` at `base + i + 1`.
#[derive(Debug, Clone)]
pub struct Lab {
    /// Number of devices.
    pub devices: u32,
    /// First address (device 0 is `base + 1`).
    pub base: Ipv4Addr,
    rng: u64,
    buf: Vec<u8>,
}

/// What happens in a second besides benign traffic.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scenario {
    /// This device sends nothing.
    pub silent: Option<u32>,
    /// This device sweeps 198.51.100.0/24 for Telnet (TCP SYN to port 23).
    pub scanning: Option<u32>,
    /// Only the first this many devices send (later ones appear later).
    pub present: Option<u32>,
}

impl Lab {
    /// A lab of `devices` devices from `base`.
    pub fn new(devices: u32, base: Ipv4Addr, seed: u64) -> Lab {
        Lab {
            devices,
            base,
            rng: seed | 1,
            buf: Vec::with_capacity(2048),
        }
    }

    /// Device `i`'s role.
    pub fn role(i: u32) -> Role {
        match i % 3 {
            0 => Role::Plug,
            1 => Role::Camera,
            _ => Role::Laptop,
        }
    }

    /// Device `i`'s MAC (a real vendor prefix per role).
    pub fn mac(i: u32) -> [u8; 6] {
        let oui: [u8; 3] = match Lab::role(i) {
            Role::Plug => [0x18, 0xb4, 0x30],
            Role::Camera => [0x00, 0x0e, 0x58],
            Role::Laptop => [0x3c, 0xfd, 0xfe],
        };
        let [_, a, b, c] = i.to_be_bytes();
        [oui[0], oui[1], oui[2], a, b, c]
    }

    /// Device `i`'s address.
    pub fn addr(&self, i: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base).wrapping_add(i + 1))
    }

    fn rand(&mut self, n: u64) -> u64 {
        self.rng = self
            .rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.rng >> 33) % n.max(1)
    }

    #[allow(clippy::too_many_arguments)]
    fn frame(
        &mut self,
        emit: &mut dyn FnMut(u64, &[u8]),
        ts: u64,
        macs: ([u8; 6], [u8; 6]),
        src: Ipv4Addr,
        dst: Ipv4Addr,
        proto: u8,
        ports: (u16, u16),
        flags: u8,
        payload: usize,
    ) {
        let f = &mut self.buf;
        f.clear();
        f.extend_from_slice(&macs.1);
        f.extend_from_slice(&macs.0);
        f.extend_from_slice(&[0x08, 0x00]);
        let l4 = if proto == 6 { 20 } else { 8 };
        let total = u16::try_from(20 + l4 + payload).unwrap_or(u16::MAX);
        let [t0, t1] = total.to_be_bytes();
        f.extend_from_slice(&[0x45, 0, t0, t1, 0, 1, 0x40, 0, 64, proto, 0, 0]);
        f.extend_from_slice(&src.octets());
        f.extend_from_slice(&dst.octets());
        f.extend_from_slice(&ports.0.to_be_bytes());
        f.extend_from_slice(&ports.1.to_be_bytes());
        if proto == 6 {
            f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        } else {
            let [u0, u1] = u16::try_from(8 + payload).unwrap_or(u16::MAX).to_be_bytes();
            f.extend_from_slice(&[u0, u1, 0, 0]);
        }
        f.resize(f.len() + payload, 0);
        emit(ts, &self.buf);
    }

    /// One second of traffic starting at `t_ns`, frames in time order per
    /// device (devices interleave within the second).
    pub fn second(&mut self, t_ns: u64, s: &Scenario, emit: &mut dyn FnMut(u64, &[u8])) {
        let t_s = t_ns / 1_000_000_000;
        let broker = Ipv4Addr::new(198, 51, 100, 10);
        let cloud = Ipv4Addr::new(203, 0, 113, 5);
        let n = s.present.unwrap_or(self.devices).min(self.devices);
        for i in 0..n {
            if s.silent == Some(i) {
                continue;
            }
            let me = self.addr(i);
            let mac = Lab::mac(i);
            let out = (mac, ROUTER_MAC);
            let back = (ROUTER_MAC, mac);
            // Spread devices over the second.
            let t = t_ns + u64::from(i % 1000) * 900_000;
            match Lab::role(i) {
                Role::Plug => {
                    self.frame(emit, t, out, me, broker, 17, (40000, 8883), 0, 40);
                    self.frame(emit, t + 1000, back, broker, me, 17, (8883, 40000), 0, 40);
                }
                Role::Camera => {
                    let sport = 50000 + (t_s % 5000) as u16 / 5;
                    if t_s.is_multiple_of(5) {
                        self.frame(emit, t, out, me, cloud, 6, (sport, 443), 0x02, 0);
                    }
                    for k in 0..4 + self.rand(2) {
                        self.frame(
                            emit,
                            t + 10_000 + k * 1000,
                            out,
                            me,
                            cloud,
                            6,
                            (sport, 443),
                            0x18,
                            1000,
                        );
                        self.frame(
                            emit,
                            t + 10_500 + k * 1000,
                            back,
                            cloud,
                            me,
                            6,
                            (443, sport),
                            0x10,
                            0,
                        );
                    }
                }
                Role::Laptop => {
                    let n = [0, 2, 30, 5, 80, 0, 12][self.rand(7) as usize];
                    for k in 0..n {
                        let d = Ipv4Addr::new(203, 0, 113, self.rand(250) as u8 + 1);
                        let flags = if k % 8 == 0 { 0x02 } else { 0x18 };
                        let size = self.rand(1400) as usize;
                        self.frame(
                            emit,
                            t + 20_000 + k * 1000,
                            out,
                            me,
                            d,
                            6,
                            (55000 + k as u16, 443),
                            flags,
                            size,
                        );
                    }
                }
            }
            if s.scanning == Some(i) {
                for h in 1..=254u8 {
                    let d = Ipv4Addr::new(198, 51, 100, h);
                    self.frame(
                        emit,
                        t + 100_000 + u64::from(h) * 1000,
                        out,
                        me,
                        d,
                        6,
                        (60000, 23),
                        0x02,
                        0,
                    );
                }
            }
        }
    }
}
