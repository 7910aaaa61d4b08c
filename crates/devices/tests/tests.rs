//! The tracker on synthetic device traffic ([`nectar_devices::synth`]): a
//! plug with a heartbeat, a camera uploading, a laptop browsing; then the
//! camera sweeps for Telnet and the plug goes silent.

use std::net::{IpAddr, Ipv4Addr};

use nectar_devices::synth::{Lab, Scenario};
use nectar_devices::{DevicesSection, Tracker};
use nectar_event::{Event, Kind};
use nectar_packet::{LinkType, decode};

const T0: u64 = 1_800_000_000_000_000_000;

fn mac_of(e: &Event) -> &str {
    e.data.get("mac").and_then(|v| v.as_str()).unwrap_or("")
}

fn run(
    lab: &mut Lab,
    tracker: &mut Tracker,
    events: &mut Vec<Event>,
    secs: std::ops::Range<u64>,
    s: impl Fn(u64) -> Scenario,
) {
    for t in secs {
        lab.second(T0 + t * 1_000_000_000, &s(t), &mut |ts, f| {
            let view = decode(LinkType::Ethernet, f, ts, f.len() as u32);
            tracker.observe(&view, events);
        });
    }
    tracker.end_capture(events);
}

#[test]
fn a_scanning_camera_and_a_silent_plug_are_named_and_the_laptop_is_quiet() {
    let cfg = DevicesSection {
        window: "5s".into(),
        ..DevicesSection::default()
    }
    .build()
    .unwrap();
    let nets = vec!["192.0.2.0/24".parse().unwrap()];
    let mut tracker = Tracker::new(&cfg, nets, "test", |_| Some("Vendor"));
    let mut lab = Lab::new(3, Ipv4Addr::new(192, 0, 2, 9), 42);
    let mut events = Vec::new();
    // Learn: 40 windows.
    run(&mut lab, &mut tracker, &mut events, 0..200, |_| {
        Scenario::default()
    });
    assert_eq!(tracker.finish_learning(), (3, 0));
    assert!(events.is_empty(), "{events:?}");

    // Monitor: the camera (device 1) scans at 100..102 s, the plug (device
    // 0) is silent from 150 s.
    run(&mut lab, &mut tracker, &mut events, 1000..1200, |t| {
        Scenario {
            silent: (t >= 1150).then_some(0),
            scanning: (1100..1102).contains(&t).then_some(1),
            present: None,
        }
    });
    for e in &events {
        eprintln!("{} {}", e.kind, e.summary);
    }
    let anomalies: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind == Kind::DeviceAnomaly)
        .collect();
    let silent: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind == Kind::DeviceSilent)
        .collect();
    let cam: Vec<_> = anomalies
        .iter()
        .filter(|e| mac_of(e) == "00:0e:58:00:00:01")
        .collect();
    assert!(!cam.is_empty(), "the camera's sweep is flagged");
    let e = cam[0];
    let features = e.data["features"].as_array().unwrap();
    assert!(features.iter().any(|f| f["name"] == "dst_addrs"), "{e:?}");
    assert!(
        features
            .iter()
            .all(|f| f["threshold"].is_number() && f["expected"].is_array())
    );
    assert!(e.data["window_start"].as_str().unwrap().ends_with('Z'));
    assert_eq!(e.data["vendor"], "Vendor");
    assert_eq!(e.src_ip, Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11))));
    assert!(e.data["new_destination_count"].as_u64().unwrap() > 100);
    assert!(
        e.data["new_ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "tcp/23")
    );
    assert!(
        silent.iter().any(|e| mac_of(e) == "18:b4:30:00:00:00"),
        "the plug's silence"
    );
    assert_eq!(silent.len(), 1);
    let laptop = anomalies
        .iter()
        .filter(|e| mac_of(e) == "3c:fd:fe:00:00:02")
        .count();
    assert!(laptop <= 1, "laptop false alarms: {laptop}");
    let plug = anomalies
        .iter()
        .filter(|e| mac_of(e) == "18:b4:30:00:00:00")
        .count();
    assert!(plug <= 2, "plug anomalies: {plug}");
    assert!(cam.len() <= 3, "camera anomalies: {}", cam.len());
}

#[test]
fn memory_per_device_stays_within_16_kib() {
    eprintln!(
        "monitoring {} B, learning {} B",
        Tracker::bytes_per_device(true),
        Tracker::bytes_per_device(false)
    );
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

#[test]
fn long_learning_uses_spot_and_stays_quiet_on_benign_traffic() {
    // 60-s windows, an hour of learning, then three benign hours: at most
    // one false alarm per device per benign hour.
    let cfg = DevicesSection::default().build().unwrap();
    let nets = vec!["192.0.2.0/24".parse().unwrap()];
    let mut tracker = Tracker::new(&cfg, nets, "test", |_| None);
    let mut lab = Lab::new(6, Ipv4Addr::new(192, 0, 2, 9), 7);
    let mut events = Vec::new();
    run(&mut lab, &mut tracker, &mut events, 0..3700, |_| {
        Scenario::default()
    });
    assert!(events.is_empty(), "{events:?}");
    let spot: Vec<_> = tracker.devices().map(|d| d.spot).collect();
    eprintln!("SPOT: {spot:?}");
    assert!(spot.iter().any(|s| !s.is_empty()), "{spot:?}");
    assert!(
        tracker
            .devices()
            .all(|d| d.phase == nectar_devices::Phase::Monitoring)
    );
    run(&mut lab, &mut tracker, &mut events, 3700..4 * 3600, |_| {
        Scenario::default()
    });
    for e in &events {
        eprintln!("{} {}", e.kind, e.summary);
    }
    for i in 0..6 {
        let mac = nectar_devices::tracker::format_mac(Lab::mac(i));
        let n = events.iter().filter(|e| mac_of(e) == mac).count();
        assert!(n <= 3, "{mac}: {n} false alarms in 3 benign hours");
    }
    // Then a sweep is still caught.
    run(
        &mut lab,
        &mut tracker,
        &mut events,
        4 * 3600..4 * 3600 + 120,
        |t| Scenario {
            scanning: (t == 4 * 3600 + 30).then_some(4),
            ..Scenario::default()
        },
    );
    let mac = nectar_devices::tracker::format_mac(Lab::mac(4));
    assert!(
        events
            .iter()
            .any(|e| mac_of(e) == mac && e.kind == Kind::DeviceAnomaly)
    );
}

#[test]
fn a_browsing_laptop_learnt_briefly_reports_no_new_destinations() {
    let cfg = DevicesSection {
        window: "5s".into(),
        ..DevicesSection::default()
    }
    .build()
    .unwrap();
    let nets = vec!["192.0.2.0/24".parse().unwrap()];
    let mut tracker = Tracker::new(&cfg, nets, "test", |_| None);
    let mut lab = Lab::new(3, Ipv4Addr::new(192, 0, 2, 9), 11);
    let mut events = Vec::new();
    run(&mut lab, &mut tracker, &mut events, 0..21, |_| {
        Scenario::default()
    });
    assert_eq!(tracker.finish_learning(), (3, 0));
    run(&mut lab, &mut tracker, &mut events, 100..160, |_| {
        Scenario::default()
    });
    let novel = events
        .iter()
        .filter(|e| {
            e.data["deviation"]
                .as_array()
                .is_some_and(|d| d.iter().any(|x| x == "new_destination"))
        })
        .count();
    assert_eq!(novel, 0, "{events:?}");
}

/// A restarted tracker restores what it learnt: the restored devices are
/// monitored at once, judge the same windows alike, and bad rows are refused.
#[test]
fn saved_models_restore_to_monitoring_and_judge_alike() {
    let cfg = DevicesSection {
        window: "5s".into(),
        ..DevicesSection::default()
    }
    .build()
    .unwrap();
    let nets: Vec<ipnet::IpNet> = vec!["192.0.2.0/24".parse().unwrap()];
    let mut a = Tracker::new(&cfg, nets.clone(), "test", |_| Some("Vendor"));
    let mut lab = Lab::new(3, Ipv4Addr::new(192, 0, 2, 9), 42);
    let mut events = Vec::new();
    run(&mut lab, &mut a, &mut events, 0..200, |_| {
        Scenario::default()
    });
    assert_eq!(a.finish_learning(), (3, 0));
    let saved = a.export();
    assert_eq!(saved.len(), 3);
    for r in &saved {
        assert_eq!(r.phase, "monitoring");
        eprintln!(
            "{} model {} B, history {} B",
            r.mac,
            r.model.len(),
            r.history.len()
        );
        assert!(r.model.len() < 32 * 1024, "{} bytes", r.model.len());
        let h: serde_json::Value = serde_json::from_str(&r.history).unwrap();
        assert_eq!(h["features"].as_array().unwrap().len(), 16);
        assert!(h["ranges"]["pkts_out"].is_array(), "{h}");
        assert!(!h["windows"].as_array().unwrap().is_empty());
    }
    let mut b = Tracker::new(&cfg, nets.clone(), "test", |_| Some("Vendor"));
    for r in &saved {
        b.restore(&r.model).unwrap();
    }
    assert!(
        b.devices()
            .all(|d| d.phase == nectar_devices::Phase::Monitoring)
    );
    // Both judge the same traffic alike: the sweep is flagged on each.
    let mut lab_b = lab.clone();
    let scenario = |t: u64| Scenario {
        scanning: (1100..1102).contains(&t).then_some(1),
        ..Scenario::default()
    };
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    run(&mut lab, &mut a, &mut ea, 1000..1200, scenario);
    run(&mut lab_b, &mut b, &mut eb, 1000..1200, scenario);
    let kinds = |v: &[Event]| -> Vec<(String, String)> {
        v.iter()
            .map(|e| (e.kind.as_str().to_owned(), mac_of(e).to_owned()))
            .collect()
    };
    assert_eq!(kinds(&ea), kinds(&eb));
    assert!(
        eb.iter().any(|e| e.kind == Kind::DeviceAnomaly
            && mac_of(e) == nectar_devices::tracker::format_mac(Lab::mac(1))),
        "{eb:?}"
    );
    // Damaged rows are refused; another window width too.
    let mut c = Tracker::new(&cfg, nets.clone(), "test", |_| None);
    assert!(c.restore("{").is_err());
    let bad = saved[0].model.replace("\"learnt\":", "\"learnt\":1,\"x\":");
    assert!(c.restore(&bad).is_err());
    let other = DevicesSection {
        window: "10s".into(),
        ..DevicesSection::default()
    }
    .build()
    .unwrap();
    let mut d = Tracker::new(&other, nets, "test", |_| None);
    assert!(matches!(
        d.restore(&saved[0].model),
        Err(nectar_devices::tracker::RestoreError::Window { .. })
    ));
    assert_eq!(c.devices().count() + d.devices().count(), 0);
}

/// A live capture's clock closes windows while no packet comes: a network
/// gone entirely quiet still makes its regular devices silent.
#[test]
fn ticks_close_windows_without_packets_and_report_silence() {
    let cfg = DevicesSection {
        window: "5s".into(),
        ..DevicesSection::default()
    }
    .build()
    .unwrap();
    let nets = vec!["192.0.2.0/24".parse().unwrap()];
    let mut tracker = Tracker::new(&cfg, nets, "test", |_| None);
    let mut lab = Lab::new(3, Ipv4Addr::new(192, 0, 2, 9), 5);
    let mut events = Vec::new();
    run(&mut lab, &mut tracker, &mut events, 0..200, |_| {
        Scenario::default()
    });
    tracker.finish_learning();
    // Monitoring, packets for 20 s, then nothing: only the clock.
    for t in 1000..1020u64 {
        lab.second(
            T0 + t * 1_000_000_000,
            &Scenario::default(),
            &mut |ts, f| {
                let view = decode(LinkType::Ethernet, f, ts, f.len() as u32);
                tracker.observe(&view, &mut events);
            },
        );
    }
    let before = events.len();
    tracker.tick(T0 + 1021 * 1_000_000_000, &mut events);
    assert!(
        events[before..]
            .iter()
            .all(|e| e.kind != Kind::DeviceSilent),
        "{events:?}"
    );
    tracker.tick(T0 + 1200 * 1_000_000_000, &mut events);
    let silent: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind == Kind::DeviceSilent)
        .collect();
    assert!(
        silent.iter().any(|e| mac_of(e) == "18:b4:30:00:00:00"),
        "{events:?}"
    );
}
