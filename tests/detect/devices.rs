//! Per-device behaviour through `nectar analyze --config FILE --baseline
//! LEARN --json TEST` (the interface the device issue's checks use): on
//! generated device traffic (`nectar_devices::synth`), and on real traffic
//! of devices in network namespaces.

use std::net::Ipv4Addr;
use std::path::Path;

use nectar_devices::synth::{Lab, Scenario};
use nectar_packet::LinkType;
use nectar_packet::synth::PcapWriter;

use crate::util::{events, nectar, rfc3339_ns};

const T0: u64 = 1_800_000_000_000_000_000;

fn write(path: &Path, lab: &mut Lab, secs: std::ops::Range<u64>, s: impl Fn(u64) -> Scenario) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = PcapWriter::new(file, LinkType::Ethernet, 65535, true, false).unwrap();
    for t in secs {
        lab.second(T0 + t * 1_000_000_000, &s(t), &mut |ts, f| {
            w.write_packet(ts, f, f.len() as u32).unwrap();
        });
    }
    w.finish().unwrap();
}

fn config(dir: &Path, window: &str) -> std::path::PathBuf {
    let path = dir.join("nectar.toml");
    std::fs::write(
        &path,
        format!("[inventory]\nnetworks = [\"192.0.2.0/24\"]\n\n[devices]\nwindow = \"{window}\"\n"),
    )
    .unwrap();
    path
}

fn mac(i: u32) -> String {
    nectar_devices::tracker::format_mac(Lab::mac(i))
}

#[test]
fn analyze_names_the_sweeping_device_the_silent_one_and_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut lab = Lab::new(4, Ipv4Addr::new(192, 0, 2, 9), 3);
    let base = dir.path().join("learn.pcap");
    let test = dir.path().join("test.pcap");
    // Devices 0..3 learn; device 3 (a plug) appears only in the test capture.
    write(&base, &mut lab, 0..200, |_| Scenario {
        present: Some(3),
        ..Scenario::default()
    });
    write(&test, &mut lab, 1000..1200, |t| Scenario {
        silent: (t >= 1150).then_some(0),
        scanning: (1100..1102).contains(&t).then_some(1),
        present: None,
    });
    let cfg = config(dir.path(), "5s");
    let out = nectar(
        &dir.path().join("data"),
        &[
            "analyze",
            "--config",
            cfg.to_str().unwrap(),
            "--baseline",
            base.to_str().unwrap(),
            "--json",
            test.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("baseline: 3 device(s) learnt"), "{stderr}");
    let all = events(&out.stdout);
    let of = |kind: &str, mac: &str| -> Vec<&serde_json::Value> {
        all.iter()
            .filter(|e| e["kind"] == kind && e["data"]["mac"] == mac)
            .collect()
    };
    let sweep = of("device.anomaly", &mac(1));
    assert!(!sweep.is_empty(), "{stderr}\n{all:?}");
    let e = sweep[0];
    assert_eq!(e["src_ip"], "192.0.2.11");
    let (ws, we) = (
        rfc3339_ns(e["data"]["window_start"].as_str().unwrap()),
        rfc3339_ns(e["data"]["window_end"].as_str().unwrap()),
    );
    let scan_start = i128::from(T0) + 1100 * 1_000_000_000;
    assert!(ws <= scan_start + 2_000_000_000 && we > scan_start, "{e}");
    let names: Vec<&str> = e["data"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(names.contains(&"dst_addrs") && names.contains(&"syns"), "{names:?}");
    assert!(e["data"]["vendor"].is_string(), "{e}");
    assert!(e["data"]["new_ports"].as_array().unwrap().iter().any(|p| p == "tcp/23"));
    assert_eq!(of("device.silent", &mac(0)).len(), 1, "{all:?}");
    let discovered = of("host.discovered", &mac(3));
    assert_eq!(discovered.len(), 1, "{all:?}");
    assert_eq!(discovered[0]["data"]["address"], "192.0.2.13");
    // Devices known from the baseline are not discovered again.
    for i in 0..3 {
        assert!(of("host.discovered", &mac(i)).is_empty(), "{all:?}");
    }
    // Few false alarms: the laptop and the new plug (still learning).
    assert!(of("device.anomaly", &mac(2)).len() <= 1, "{all:?}");
    assert!(of("device.anomaly", &mac(3)).is_empty(), "{all:?}");
    assert!(of("device.anomaly", &mac(0)).len() <= 1, "{all:?}");
}
