//! Integration tests of nectar-pipeline: the live detector on a generated
//! capture file, through its public handle, as `serve` and the API use it.

use std::path::Path;
use std::time::{Duration, Instant};

use nectar_bus::EventSender;
use nectar_detect::{DetectConfig, DetectControl, DetectorStatus};
use nectar_packet::synth::{Mix, MixConfig, PcapWriter};
use nectar_pipeline::{CaptureConfig, Detector, DetectorConfig, MODELS_FILE, SinksConfig};

fn write_capture(path: &Path, packets: u64) {
    let mut mix = Mix::new(MixConfig {
        packets,
        rate_pps: 1_000,
        ..MixConfig::default()
    });
    let mut w = PcapWriter::new(Vec::new(), mix.link_type(), 65535, true, false).unwrap();
    while let Some((ts, f)) = mix.next_packet() {
        w.write_packet(ts, f, f.len() as u32).unwrap();
    }
    std::fs::write(path, w.finish().unwrap()).unwrap();
}

fn wait_until_done(d: &Detector) -> DetectorStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = d.status();
        if !s.running {
            return s;
        }
        assert!(Instant::now() < deadline, "the detector did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_replayed_file_gives_windows_history_sink_lines_and_saved_models() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("mix.pcap");
    write_capture(&capture, 6_000);
    let windows_file = dir.path().join("windows.jsonl");
    let (bus, _events) = EventSender::channel(16);
    let cfg = DetectorConfig {
        capture: CaptureConfig {
            file: capture.clone(),
            history: 3,
            ..CaptureConfig::default()
        },
        detect: DetectConfig::default(),
        sinks: SinksConfig {
            windows_jsonl: windows_file.clone(),
            ..SinksConfig::default()
        },
        sensor: "test".into(),
        data_dir: dir.path().to_owned(),
        inventory: None,
        devices: None,
    };
    let d = Detector::new(cfg, bus, None).unwrap();
    assert!(!d.status().running);
    assert!(d.stop().is_err(), "stop before start");

    d.start().unwrap();
    let s = wait_until_done(&d);
    assert_eq!(s.error, None);
    assert_eq!(s.packets, 6_000);
    assert!(s.windows >= 6, "{s:?}");
    assert_eq!(s.source, format!("file {}", capture.display()));
    assert_eq!(s.window, "1s");
    assert!(s.last_window_end.is_some());
    assert!(s.influxdb.is_none());
    let lines = std::fs::read_to_string(&windows_file).unwrap();
    assert_eq!(lines.lines().count() as u64, s.windows);
    let jsonl = s.windows_jsonl.unwrap();
    assert_eq!((jsonl.written, jsonl.errors), (s.windows, 0));
    for stat in &s.stats {
        assert_eq!(stat.history.len(), 3, "history is bounded");
        assert_eq!(stat.status.state, "learning");
    }

    // The JSON the API serves: the monitor's fields flattened beside `history`.
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["stats"][0]["stat"], s.stats[0].status.stat);
    assert!(json["stats"][0]["history"][0]["window_start"].is_string());
    assert!(json["influxdb"].is_null());

    // Stop saves the models; a restart goes on from what was learnt.
    d.stop().unwrap();
    assert!(dir.path().join(MODELS_FILE).is_file());
    let learnt = s.stats[0].status.learnt;
    d.start().unwrap();
    let again = wait_until_done(&d);
    assert!(again.stats[0].status.learnt > learnt, "{again:?}");
    d.shutdown();
    assert_eq!(
        d.start().unwrap_err(),
        "the server is shutting down",
        "no start after shutdown"
    );
}

#[test]
fn a_missing_file_is_reported_in_the_status() {
    let dir = tempfile::tempdir().unwrap();
    let (bus, _events) = EventSender::channel(16);
    let cfg = DetectorConfig {
        capture: CaptureConfig {
            file: dir.path().join("absent.pcap"),
            ..CaptureConfig::default()
        },
        detect: DetectConfig::default(),
        sinks: SinksConfig::default(),
        sensor: "test".into(),
        data_dir: dir.path().to_owned(),
        inventory: None,
        devices: None,
    };
    let d = Detector::new(cfg, bus, None).unwrap();
    let err = d.start().unwrap_err();
    assert!(err.starts_with("capture.file "), "{err}");
    assert_eq!(d.status().error.as_deref(), Some(err.as_str()));
    assert!(!d.status().running);
}

/// Per-device behaviour in the detector, with the models kept in a file as
/// `nectar sensor` keeps them: a first run learns the devices and saves
/// them; a second detector restores them and flags the camera's sweep in a
/// capture too short to learn anything from.
#[test]
fn device_models_are_saved_to_a_file_and_a_new_detector_monitors_at_once() {
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    use nectar_devices::synth::{Lab, Scenario};
    use nectar_pipeline::{DEVICE_MODELS_FILE, DevicesSetup, FileDeviceModels};

    const T0: u64 = 1_800_000_000_000_000_000;
    let dir = tempfile::tempdir().unwrap();
    let mut lab = Lab::new(3, Ipv4Addr::new(192, 0, 2, 9), 11);
    let write = |path: &Path, lab: &mut Lab, secs: std::ops::Range<u64>, scan: bool| {
        let mut w = PcapWriter::new(
            Vec::new(),
            nectar_packet::LinkType::Ethernet,
            65535,
            true,
            false,
        )
        .unwrap();
        for t in secs {
            let s = Scenario {
                scanning: (scan && t % 100 == 30).then_some(1),
                ..Scenario::default()
            };
            lab.second(T0 + t * 1_000_000_000, &s, &mut |ts, f| {
                w.write_packet(ts, f, f.len() as u32).unwrap();
            });
        }
        std::fs::write(path, w.finish().unwrap()).unwrap();
    };
    let learn = dir.path().join("learn.pcap");
    let test = dir.path().join("test.pcap");
    write(&learn, &mut lab, 0..200, false);
    write(&test, &mut lab, 1000..1060, true);
    let inventory = nectar_inventory::InventorySection {
        networks: vec!["192.0.2.0/24".into()],
        ..Default::default()
    }
    .build()
    .unwrap();
    let devices = nectar_devices::DevicesSection {
        window: "5s".into(),
        learn_windows: 30,
        ..Default::default()
    }
    .build()
    .unwrap();
    let file = FileDeviceModels::new(dir.path());
    let detector = |capture: &Path, bus: EventSender| {
        let cfg = DetectorConfig {
            capture: CaptureConfig {
                file: capture.to_owned(),
                ..CaptureConfig::default()
            },
            detect: DetectConfig::default(),
            sinks: SinksConfig::default(),
            sensor: "edge".into(),
            data_dir: dir.path().to_owned(),
            inventory: Some(Arc::new(inventory.clone())),
            devices: Some(DevicesSetup {
                config: devices.clone(),
                saved: file.load(),
                saver: Some(Arc::new(file.clone())),
            }),
        };
        Detector::new(cfg, bus, None).unwrap()
    };
    let anomalies = |rx: &mut nectar_bus::EventReceiver| -> Vec<String> {
        let mut macs = Vec::new();
        while let Ok(e) = rx.try_recv() {
            if e.kind == nectar_event::Kind::DeviceAnomaly {
                macs.push(
                    e.data
                        .get("mac")
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_owned(),
                );
            }
        }
        macs
    };
    let (bus, mut rx) = EventSender::channel(100_000);
    let d = detector(&learn, bus);
    d.start().unwrap();
    wait_until_done(&d);
    d.shutdown();
    assert!(anomalies(&mut rx).is_empty());
    let saved = std::fs::read_to_string(dir.path().join(DEVICE_MODELS_FILE)).unwrap();
    assert_eq!(saved.lines().count(), 3, "{saved}");
    assert!(saved.contains("\"monitoring\":true"));

    let (bus, mut rx) = EventSender::channel(100_000);
    let d = detector(&test, bus);
    d.start().unwrap();
    wait_until_done(&d);
    d.shutdown();
    let cam = nectar_devices::tracker::format_mac(Lab::mac(1));
    let flagged = anomalies(&mut rx);
    assert!(flagged.contains(&cam), "{flagged:?}");

    // Without the saved models the same capture only learns.
    std::fs::remove_file(dir.path().join(DEVICE_MODELS_FILE)).unwrap();
    let (bus, mut rx) = EventSender::channel(100_000);
    let d = detector(&test, bus);
    d.start().unwrap();
    wait_until_done(&d);
    d.shutdown();
    assert!(anomalies(&mut rx).is_empty());
}
