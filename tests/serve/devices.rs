//! Per-device behaviour through `serve`: the live detector (here replaying a
//! generated capture through the same code as live capture) learns the
//! devices, flags the camera's Telnet sweep, and saves the models in the
//! store; `/api/v1/devices`, the Devices pages, the host page's link and
//! `nectar ctl devices` show them, by role, matching the OpenAPI document.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use nectar_devices::synth::{Lab, Scenario};
use nectar_packet::LinkType;
use nectar_packet::synth::PcapWriter;
use reqwest::Method;
use serde_json::Value;

use crate::util::{BIN, Server, client, token};

const T0: u64 = 1_800_000_000_000_000_000;

fn mac(i: u32) -> String {
    nectar_devices::tracker::format_mac(Lab::mac(i))
}

/// 300 s of three devices (plug, camera, laptop); the camera sweeps at
/// 250..252 s.
fn write_capture(path: &Path) {
    let mut lab = Lab::new(3, Ipv4Addr::new(192, 0, 2, 9), 7);
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = PcapWriter::new(file, LinkType::Ethernet, 65535, true, false).unwrap();
    for t in 0..300u64 {
        let s = Scenario {
            scanning: (250..252).contains(&t).then_some(1),
            ..Scenario::default()
        };
        lab.second(T0 + t * 1_000_000_000, &s, &mut |ts, f| {
            w.write_packet(ts, f, f.len() as u32).unwrap();
        });
    }
    w.finish().unwrap();
}

fn ctl(data: &Path, url: &str, token: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN)
        .args(["ctl", "--url", url, "--token", token])
        .args(args)
        .env_remove("NECTAR_URL")
        .env_remove("NECTAR_TOKEN")
        .env_remove("NECTAR_CTL_CONFIG")
        .env_remove("NECTAR_CONFIG")
        .env("HOME", data)
        .env("XDG_CONFIG_HOME", data.join("config"))
        .output()
        .unwrap()
}

#[test]
fn devices_are_learnt_flagged_saved_and_shown_by_api_page_and_ctl() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let pcap = dir.path().join("lan.pcap");
    write_capture(&pcap);
    let config = dir.path().join("nectar.toml");
    std::fs::write(
        &config,
        format!(
            "[inventory]\nnetworks = [\"192.0.2.0/24\"]\n\n[devices]\nwindow = \"5s\"\nlearn_windows = 30\n\n[capture]\nfile = \"{}\"\nsave_seconds = 1\n\n[honeypot.ssh]\nenabled = false\n[honeypot.http]\nenabled = false\n[honeypot.telnet]\nenabled = false\n",
            pcap.display()
        ),
    )
    .unwrap();
    let viewer = token(&data, "v", "viewer");
    let server = Server::start(&data, Some(&config));
    let url = server.url.as_str();
    let doc: Value = client()
        .get(format!("{url}/api/v1/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let call = |template: &str, path: &str, token: &str| {
        crate::openapi::call(&doc, url, token, Method::GET, template, path, None)
    };
    // The replay ends within seconds; its models are saved then.
    let cam_mac = mac(1);
    let deadline = Instant::now() + Duration::from_secs(60);
    let list = loop {
        let list = call("/api/v1/devices", "/api/v1/devices", &viewer);
        let ready = list["devices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["mac"] == cam_mac.as_str() && !d["last_anomaly"].is_null());
        if ready {
            break list;
        }
        assert!(Instant::now() < deadline, "{list}");
        std::thread::sleep(Duration::from_millis(300));
    };
    let devices = list["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 3, "{list}");
    for d in devices {
        assert_eq!(d["state"], "monitoring", "{d}");
        assert!(d["vendor"].is_string(), "{d}");
    }
    let cam = devices
        .iter()
        .find(|d| d["mac"] == cam_mac.as_str())
        .unwrap();
    assert_eq!(cam["addresses"], serde_json::json!(["192.0.2.11"]));
    // The sweep's device.anomaly is stored, naming the camera.
    let events = crate::util::all_events(url, &viewer, "kind=device.anomaly");
    assert!(
        events.iter().any(|e| e["data"]["mac"] == cam_mac.as_str()),
        "{events:?}"
    );
    // Pages of the list: a cursor after the first.
    let first = call("/api/v1/devices", "/api/v1/devices?limit=1", &viewer);
    let next = first["next_cursor"].as_str().unwrap().to_owned();
    let second = call(
        "/api/v1/devices",
        &format!("/api/v1/devices?limit=1&cursor={next}"),
        &viewer,
    );
    assert_ne!(first["devices"][0]["mac"], second["devices"][0]["mac"]);

    // One device with its history: 16 features, learnt ranges, the sweep
    // window marked.
    let upper = cam_mac.to_uppercase().replace(':', "-");
    let one = call(
        "/api/v1/devices/{mac}",
        &format!("/api/v1/devices/{upper}"),
        &viewer,
    );
    assert_eq!(one["mac"], cam_mac.as_str());
    let h = &one["history"];
    assert_eq!(h["features"].as_array().unwrap().len(), 16, "{h}");
    assert!(h["ranges"]["dst_addrs"].is_array(), "{h}");
    let windows = h["windows"].as_array().unwrap();
    assert!(!windows.is_empty() && windows.len() <= 48, "{h}");
    assert!(windows.iter().any(|w| w["anomaly"] == true), "{h}");
    // Mistakes and roles.
    let bad = call(
        "/api/v1/devices/{mac}",
        "/api/v1/devices/not-a-mac",
        &viewer,
    );
    assert!(bad["error"].as_str().unwrap().contains("mac"), "{bad}");
    call(
        "/api/v1/devices/{mac}",
        "/api/v1/devices/02:00:00:00:00:99",
        &viewer,
    );
    call("/api/v1/devices", "/api/v1/devices?limit=0", &viewer);
    call("/api/v1/devices", "/api/v1/devices", "");

    // The pages: the list, the device with one sparkline per feature, the
    // anomaly marked; the host page links to it.
    let cookie = crate::util::web_login(&server, &data);
    let page = |path: &str| -> String {
        let r = client()
            .get(format!("{url}{path}"))
            .header("cookie", &cookie)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        r.text().unwrap()
    };
    let listing = page("/devices");
    assert!(listing.contains(&cam_mac) && listing.contains("monitoring"));
    let detail = page(&format!("/devices/{cam_mac}"));
    assert_eq!(detail.matches("<svg class=\"spark\"").count(), 16);
    assert!(detail.contains("class=\"anomaly\""));
    assert!(detail.contains("class=\"learnt\""));
    assert!(!detail.contains("<script"));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = client()
            .get(format!("{url}/hosts/192.0.2.11"))
            .header("cookie", &cookie)
            .send()
            .unwrap();
        if r.status() == 200 {
            let host = r.text().unwrap();
            assert!(
                host.contains(&format!("device <code>{cam_mac}</code>")),
                "{host}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no host page");
        std::thread::sleep(Duration::from_millis(300));
    }

    // nectar ctl.
    let out = ctl(&data, url, &viewer, &["devices", "list"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&cam_mac) && text.contains("monitoring"),
        "{text}"
    );
    let out = ctl(&data, url, &viewer, &["devices", "show", &cam_mac]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("pkts_out") && text.contains('*'), "{text}");
    let out = ctl(&data, url, &viewer, &["devices", "show", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MAC"));
}
