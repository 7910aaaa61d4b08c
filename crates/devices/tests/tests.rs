//! The tracker on synthetic device traffic: a plug with a heartbeat, a camera
//! uploading, a laptop browsing; then the camera sweeps for Telnet and the
//! plug goes silent.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use nectar_devices::{DevicesSection, Tracker};
use nectar_event::{Event, Kind};
use nectar_packet::{LinkType, decode};

const PLUG: [u8; 6] = [0x18, 0xb4, 0x30, 0, 0, 1];
const CAM: [u8; 6] = [0x00, 0x0e, 0x58, 0, 0, 2];
const LAPTOP: [u8; 6] = [0x3c, 0xfd, 0xfe, 0, 0, 3];
const ROUTER: [u8; 6] = [0x00, 0x00, 0x0c, 0, 0, 9];

fn frame(
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    sport: u16,
    dport: u16,
    flags: u8,
    payload: usize,
) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst_mac);
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&[0x08, 0x00]);
    let l4 = if proto == 6 { 20 } else { 8 };
    let total = (20 + l4 + payload) as u16;
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        proto,
        0,
        0,
    ]);
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(&dst.octets());
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    if proto == 6 {
        f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    } else {
        f.extend_from_slice(&[((8 + payload) >> 8) as u8, (8 + payload) as u8, 0, 0]);
    }
    f.extend(std::iter::repeat_n(0u8, payload));
    f
}

struct Lab {
    tracker: Tracker,
    events: Vec<Event>,
    rng: u64,
}

impl Lab {
    fn feed(&mut self, ts_ns: u64, f: &[u8]) {
        let view = decode(LinkType::Ethernet, f, ts_ns, f.len() as u32);
        self.tracker.observe(&view, &mut self.events);
    }

    fn rand(&mut self, n: u64) -> u64 {
        self.rng = self
            .rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.rng >> 33) % n
    }

    /// One second of benign traffic starting at `t` (seconds).
    fn second(&mut self, t: u64, plug_on: bool, cam_scans: bool) {
        let base = 1_800_000_000_000_000_000u64 + t * 1_000_000_000;
        let plug = Ipv4Addr::new(192, 0, 2, 10);
        let cam = Ipv4Addr::new(192, 0, 2, 20);
        let laptop = Ipv4Addr::new(192, 0, 2, 30);
        let broker = Ipv4Addr::new(198, 51, 100, 10);
        let cloud = Ipv4Addr::new(203, 0, 113, 5);
        if plug_on {
            let f = frame(PLUG, ROUTER, plug, broker, 17, 40000, 8883, 0, 40);
            self.feed(base + 1000, &f);
            let f = frame(ROUTER, PLUG, broker, plug, 17, 8883, 40000, 0, 40);
            self.feed(base + 2000, &f);
        }
        // Camera: a connection every 5 s, ~4 data packets a second.
        if t % 5 == 0 {
            let f = frame(
                CAM,
                ROUTER,
                cam,
                cloud,
                6,
                50000 + (t % 1000) as u16,
                443,
                0x02,
                0,
            );
            self.feed(base + 3000, &f);
        }
        for k in 0..4 + self.rand(2) {
            let f = frame(
                CAM,
                ROUTER,
                cam,
                cloud,
                6,
                50000 + (t % 1000) as u16,
                443,
                0x18,
                1000,
            );
            self.feed(base + 10_000 + k * 1000, &f);
            let f = frame(
                ROUTER,
                CAM,
                cloud,
                cam,
                6,
                443,
                50000 + (t % 1000) as u16,
                0x10,
                0,
            );
            self.feed(base + 10_500 + k * 1000, &f);
        }
        if cam_scans {
            for h in 1..=254u8 {
                let d = Ipv4Addr::new(198, 51, 100, h);
                let f = frame(CAM, ROUTER, cam, d, 6, 60000, 23, 0x02, 0);
                self.feed(base + 100_000 + u64::from(h) * 1000, &f);
            }
        }
        // Laptop: bursts to many places, some seconds idle.
        let n = [0, 2, 30, 5, 80, 0, 12][self.rand(7) as usize];
        for k in 0..n {
            let d = Ipv4Addr::new(203, 0, 113, self.rand(250) as u8 + 1);
            let f = frame(
                LAPTOP,
                ROUTER,
                laptop,
                d,
                6,
                55000 + k as u16,
                443,
                if k % 8 == 0 { 0x02 } else { 0x18 },
                self.rand(1400) as usize,
            );
            self.feed(base + 400_000 + k * 1000, &f);
        }
    }
}

fn mac_of(e: &Event) -> &str {
    e.data.get("mac").and_then(|v| v.as_str()).unwrap_or("")
}

#[test]
fn a_scanning_camera_and_a_silent_plug_are_named_and_the_laptop_is_quiet() {
    let cfg = DevicesSection {
        window: "5s".into(),
        ..DevicesSection::default()
    }
    .build()
    .unwrap();
    assert_eq!(cfg.window, Duration::from_secs(5));
    let nets = vec!["192.0.2.0/24".parse().unwrap()];
    let mut lab = Lab {
        tracker: Tracker::new(&cfg, nets, "test", |_| Some("Vendor")),
        events: Vec::new(),
        rng: 42,
    };
    // Learn: 40 windows.
    for t in 0..200 {
        lab.second(t, true, false);
    }
    lab.tracker.end_capture(&mut lab.events);
    let (monitored, learning) = lab.tracker.finish_learning();
    assert_eq!((monitored, learning), (3, 0));
    assert!(lab.events.is_empty(), "{:?}", lab.events);

    // Monitor: benign for 100 s, the camera scans at 100..105 s, the plug
    // is silent from 150 s.
    for t in 1000..1200 {
        lab.second(t, t < 1150, (1100..1102).contains(&t));
    }
    lab.tracker.end_capture(&mut lab.events);
    let anomalies: Vec<&Event> = lab
        .events
        .iter()
        .filter(|e| e.kind == Kind::DeviceAnomaly)
        .collect();
    let silent: Vec<&Event> = lab
        .events
        .iter()
        .filter(|e| e.kind == Kind::DeviceSilent)
        .collect();
    for e in &lab.events {
        eprintln!("{} {}", e.kind, e.summary);
    }
    let cam: Vec<_> = anomalies
        .iter()
        .filter(|e| mac_of(e) == "00:0e:58:00:00:02")
        .collect();
    assert!(!cam.is_empty(), "the camera's sweep is flagged");
    let e = cam[0];
    let features = e.data["features"].as_array().unwrap();
    assert!(features.iter().any(|f| f["name"] == "dst_addrs"), "{e:?}");
    assert!(e.data["window_start"].as_str().unwrap().ends_with('Z'));
    assert_eq!(e.data["vendor"], "Vendor");
    assert_eq!(e.src_ip, Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 20))));
    assert!(e.data["new_destination_count"].as_u64().unwrap() > 100);
    assert!(
        e.data["new_ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "tcp/23")
    );
    assert!(
        silent.iter().any(|e| mac_of(e) == "18:b4:30:00:00:01"),
        "the plug's silence"
    );
    assert_eq!(silent.len(), 1);
    let laptop = anomalies
        .iter()
        .filter(|e| mac_of(e) == "3c:fd:fe:00:00:03")
        .count();
    assert!(laptop <= 1, "laptop false alarms: {laptop}");
    let plug = anomalies
        .iter()
        .filter(|e| mac_of(e) == "18:b4:30:00:00:01")
        .count();
    assert!(plug <= 2, "plug anomalies: {plug}");
    assert!(cam.len() <= 3, "camera anomalies: {}", cam.len());
    assert!(
        Tracker::bytes_per_device(true) <= 16 * 1024,
        "{}",
        Tracker::bytes_per_device(true)
    );
    assert!(
        Tracker::bytes_per_device(false) <= 16 * 1024,
        "{}",
        Tracker::bytes_per_device(false)
    );
}
