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
    assert!(
        names.contains(&"dst_addrs") && names.contains(&"syns"),
        "{names:?}"
    );
    assert!(e["data"]["vendor"].is_string(), "{e}");
    assert!(
        e["data"]["new_ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "tcp/23")
    );
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

/// A LAN of device namespaces on a bridge (in a hub namespace) with a router
/// namespace at 192.0.2.1 that every device talks to (its server, and the
/// gateway to a black-holed 198.51.100.0/24). Everything is deleted on drop,
/// also when the test fails.
struct DeviceLan {
    id: String,
    namespaces: Vec<String>,
    children: Vec<(String, std::process::Child)>,
}

const ROUTER_IP: &str = "192.0.2.1";

impl DeviceLan {
    fn new(devices: &[(&str, &str)]) -> DeviceLan {
        use crate::netns::ip;
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let id = format!(
            "{}{}",
            std::process::id() % 100_000,
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut lan = DeviceLan {
            id: id.clone(),
            namespaces: Vec::new(),
            children: Vec::new(),
        };
        let hub = lan.ns("hub");
        ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &hub, "link", "set", "br0", "up"]);
        let attach = |lan: &mut DeviceLan, name: &str, addr: &str, mac: Option<&str>| {
            let ns = lan.ns(name);
            let (inside, outside) = (format!("d{name}{id}"), format!("h{name}{id}"));
            ip(&[
                "link", "add", &inside, "netns", &ns, "type", "veth", "peer", "name", &outside,
                "netns", &hub,
            ]);
            if let Some(m) = mac {
                ip(&["-n", &ns, "link", "set", &inside, "address", m]);
            }
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                &inside,
            ]);
            ip(&["-n", &ns, "link", "set", &inside, "up"]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            ip(&["-n", &hub, "link", "set", &outside, "master", "br0"]);
            ip(&["-n", &hub, "link", "set", &outside, "up"]);
            if name != "r" {
                ip(&["-n", &ns, "route", "add", "default", "via", ROUTER_IP]);
            }
            inside
        };
        let router_if = attach(&mut lan, "r", ROUTER_IP, None);
        let router = lan.ns("r");
        // Scans of 198.51.100.0/24 go through the router and vanish there.
        ip(&[
            "-n",
            &router,
            "route",
            "add",
            "blackhole",
            "198.51.100.0/24",
        ]);
        let _ = std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &router,
                "sysctl",
                "-qw",
                "net.ipv4.ip_forward=1",
            ])
            .status();
        for (i, (name, mac)) in devices.iter().enumerate() {
            attach(&mut lan, name, &format!("192.0.2.{}", 10 + i), Some(mac));
        }
        lan.namespaces.push(router_if);
        lan
    }

    /// The namespace called `name` (created on first use).
    fn ns(&mut self, name: &str) -> String {
        let full = format!("dv{}{name}", self.id);
        if !self.namespaces.contains(&full) {
            crate::netns::ip(&["netns", "add", &full]);
            self.namespaces.push(full.clone());
        }
        full
    }

    /// Runs `program` in the namespace of `name` (`tcpdump`: the router's),
    /// registered under `name` for [`DeviceLan::stop`].
    fn spawn(&mut self, name: &str, program: &str, args: &[&str]) {
        let ns_name = if name == "tcpdump" { "r" } else { name };
        let ns = format!("dv{}{ns_name}", self.id);
        let child = crate::netns::Netns::cmd(&ns, program, args)
            .spawn()
            .expect("spawn");
        self.children.push((name.to_owned(), child));
    }

    /// Stops the processes of device `name` (SIGINT first: tcpdump finishes
    /// its file).
    fn stop(&mut self, name: &str) {
        let mut kept = Vec::new();
        for (n, mut c) in std::mem::take(&mut self.children) {
            if n != name {
                kept.push((n, c));
                continue;
            }
            let _ = std::process::Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while c.try_wait().ok().flatten().is_none() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        self.children = kept;
    }
}

impl Drop for DeviceLan {
    fn drop(&mut self) {
        let names: Vec<String> = self.children.iter().map(|(n, _)| n.clone()).collect();
        for n in names {
            self.stop(&n);
        }
        // The last entry is the router's interface name, not a namespace.
        self.namespaces.pop();
        for ns in &self.namespaces {
            if let Ok(out) = std::process::Command::new("ip")
                .args(["netns", "pids", ns])
                .output()
            {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = std::process::Command::new("kill")
                        .args(["-KILL", pid])
                        .status();
                }
            }
            let _ = std::process::Command::new("ip")
                .args(["netns", "del", ns])
                .status();
        }
    }
}

const PLUG_MAC: &str = "18:b4:30:00:00:0a";
const CAMERA_MAC: &str = "00:0e:58:00:00:0b";
const POLLER_MAC: &str = "b8:27:eb:00:00:0c";

/// Starts the devices: a plug pinging its server every second, a camera
/// fetching every second, a poller fetching twice a second with a ping
/// every 2 s.
fn start_devices(lan: &mut DeviceLan) {
    let url = format!("http://{ROUTER_IP}:8080/");
    lan.spawn("plug", "ping", &["-q", "-i", "1", ROUTER_IP]);
    let camera = format!("while true; do curl -s -m 1 -o /dev/null {url}; sleep 1; done");
    lan.spawn("cam", "sh", &["-c", &camera]);
    let poller = format!("while true; do curl -s -m 1 -o /dev/null {url}; sleep 0.5; done");
    lan.spawn("poll", "sh", &["-c", &poller]);
    lan.spawn("poll", "ping", &["-q", "-i", "2", ROUTER_IP]);
}

/// Captures on the router's interface: every device's traffic passes there.
fn capture(lan: &mut DeviceLan, path: &Path) {
    let dev = lan.namespaces.last().cloned().unwrap_or_default();
    lan.spawn(
        "tcpdump",
        "tcpdump",
        &[
            "-i",
            &dev,
            "-U",
            "-s",
            "262144",
            "-Z",
            "root",
            "-w",
            path.to_str().unwrap(),
        ],
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
}

#[test]
fn devices_in_namespaces_a_telnet_sweep_and_a_silent_plug_are_named() {
    use std::time::{Duration, Instant};
    let tools = ["ip", "tcpdump", "nmap", "curl", "ping", "python3", "sh"];
    if !crate::util::require("device behaviour lab test", &tools, true) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut lan = DeviceLan::new(&[
        ("plug", PLUG_MAC),
        ("cam", CAMERA_MAC),
        ("poll", POLLER_MAC),
    ]);
    lan.spawn(
        "r",
        "python3",
        &["-m", "http.server", "8080", "--bind", ROUTER_IP],
    );
    std::thread::sleep(Duration::from_millis(800));
    start_devices(&mut lan);

    // Learn: 40 s of the devices' normal traffic.
    let learn = dir.path().join("learn.pcap");
    capture(&mut lan, &learn);
    std::thread::sleep(Duration::from_secs(40));
    // Only the capture stops; the devices go on.
    lan.stop("tcpdump");

    // Test: 15 s normal, the camera sweeps 198.51.100.0/24 for Telnet, the
    // plug goes silent 10 s later, 20 s more.
    let test = dir.path().join("test.pcap");
    capture(&mut lan, &test);
    std::thread::sleep(Duration::from_secs(15));
    let sweep_start = crate::netns::now_ns();
    let cam_ns = format!("dv{}cam", lan.id);
    let mut nmap = crate::netns::Netns::cmd(
        &cam_ns,
        "nmap",
        &[
            "-sS",
            "-n",
            "-Pn",
            "-T5",
            "--max-retries",
            "0",
            "--max-rtt-timeout",
            "200ms",
            "-p",
            "23",
            "198.51.100.0/24",
        ],
    )
    .spawn()
    .expect("nmap");
    let deadline = Instant::now() + Duration::from_secs(60);
    while nmap.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "nmap did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    let sweep_end = crate::netns::now_ns();
    std::thread::sleep(Duration::from_secs(10));
    let silent_from = crate::netns::now_ns();
    lan.stop("plug");
    std::thread::sleep(Duration::from_secs(22));
    drop(lan);

    let data = dir.path().join("data");
    let cfg = config(dir.path(), "5s");
    let out = nectar(
        &data,
        &[
            "analyze",
            "--config",
            cfg.to_str().unwrap(),
            "--baseline",
            learn.to_str().unwrap(),
            "--json",
            test.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let all = events(&out.stdout);
    let dev: Vec<&serde_json::Value> = all
        .iter()
        .filter(|e| e["kind"].as_str().is_some_and(|k| k.starts_with("device.")))
        .collect();
    let report = format!(
        "{stderr}\n{}",
        dev.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let window = |e: &serde_json::Value| {
        (
            rfc3339_ns(e["data"]["window_start"].as_str().unwrap()),
            rfc3339_ns(e["data"]["window_end"].as_str().unwrap()),
        )
    };
    eprintln!("{report}");
    // The sweep is flagged on the camera, inside the sweep's windows.
    let cam: Vec<_> = dev
        .iter()
        .filter(|e| e["kind"] == "device.anomaly" && e["data"]["mac"] == CAMERA_MAC)
        .collect();
    assert!(
        cam.iter().any(|e| {
            let (ws, we) = window(e);
            we > sweep_start && ws < sweep_end + 1_000_000_000
        }),
        "no device.anomaly for the camera during the sweep\n{report}"
    );
    let e = cam[0];
    assert_eq!(e["src_ip"], "192.0.2.11", "{report}");
    assert!(
        e["data"]["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "dst_addrs" || f["name"] == "syns"),
        "{report}"
    );
    // The plug's silence.
    let silent: Vec<_> = dev
        .iter()
        .filter(|e| e["kind"] == "device.silent")
        .collect();
    assert!(
        silent
            .iter()
            .any(|e| e["data"]["mac"] == PLUG_MAC && window(e).1 > silent_from),
        "no device.silent for the plug\n{report}"
    );
    // Few false alarms: the poller and the router at most one; the camera only
    // around its sweep; the plug at most once (the window it stopped in).
    let others = dev
        .iter()
        .filter(|e| e["data"]["mac"] != CAMERA_MAC && e["data"]["mac"] != PLUG_MAC)
        .count();
    assert!(
        others <= 1,
        "{others} events of the poller and the router\n{report}"
    );
    let cam_outside = cam
        .iter()
        .filter(|e| {
            let (ws, we) = window(e);
            !(we > sweep_start && ws < sweep_end + 6_000_000_000)
        })
        .count();
    assert!(
        cam_outside <= 1,
        "camera anomalies outside the sweep: {cam_outside}\n{report}"
    );
    let plug_anomalies = dev
        .iter()
        .filter(|e| e["kind"] == "device.anomaly" && e["data"]["mac"] == PLUG_MAC)
        .count();
    assert!(plug_anomalies <= 1, "{report}");
}

/// `nectar serve` capturing live on a LAN of device namespaces (a port of
/// the hub's bridge in our namespace; the bridge floods every frame there):
/// the devices learn, then the camera sweeps for Telnet and a
/// `device.anomaly` naming its MAC is stored; the models are saved in the
/// store and a restarted server lists the devices as monitoring at once.
#[test]
fn serve_learns_devices_live_and_flags_the_sweeping_camera() {
    use std::time::{Duration, Instant};

    use crate::serve_util::{Server, all_events, client, token};
    let tools = ["ip", "nmap", "curl", "ping", "python3", "sh"];
    if !crate::util::require("live device behaviour test", &tools, true) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut lan = DeviceLan::new(&[
        ("plug", PLUG_MAC),
        ("cam", CAMERA_MAC),
        ("poll", POLLER_MAC),
    ]);
    let hub = lan.ns("hub");
    // A bridge that learns no addresses floods every frame to every port,
    // ours included.
    crate::netns::ip(&[
        "-n",
        &hub,
        "link",
        "set",
        "br0",
        "type",
        "bridge",
        "ageing_time",
        "0",
    ]);
    let tap = format!("nt{}", lan.id);
    crate::netns::ip(&[
        "link",
        "add",
        &tap,
        "type",
        "veth",
        "peer",
        "name",
        &format!("nh{}", lan.id),
        "netns",
        &hub,
    ]);
    crate::netns::ip(&[
        "-n",
        &hub,
        "link",
        "set",
        &format!("nh{}", lan.id),
        "master",
        "br0",
        "up",
    ]);
    crate::netns::ip(&["link", "set", &tap, "up"]);
    lan.spawn(
        "r",
        "python3",
        &["-m", "http.server", "8080", "--bind", ROUTER_IP],
    );
    std::thread::sleep(Duration::from_millis(800));
    start_devices(&mut lan);

    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = dir.path().join("nectar.toml");
    // Short windows and learning: 10 windows of 2 s.
    std::fs::write(
        &config,
        format!(
            "[inventory]\nnetworks = [\"192.0.2.0/24\"]\n\n[devices]\nwindow = \"2s\"\nlearn_windows = 10\nmin_learn_windows = 3\n\n[capture]\ninterface = \"{tap}\"\nsnaplen = 512\nsave_seconds = 1\n\n[honeypot.ssh]\nenabled = false\n[honeypot.http]\nenabled = false\n[honeypot.telnet]\nenabled = false\n"
        ),
    )
    .unwrap();
    let viewer = token(&data, "v", "viewer");
    let mut server = Server::start(&data, Some(&config));
    let c = client();
    let url = std::cell::RefCell::new(server.url.clone());
    let device = |mac: &str| -> serde_json::Value {
        let r = c
            .get(format!("{}/api/v1/devices/{mac}", url.borrow()))
            .bearer_auth(&viewer)
            .send()
            .unwrap();
        if r.status() == 404 {
            return serde_json::Value::Null;
        }
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    };
    // Learning ends after 10 full windows (about 22 s); the models are saved
    // every second.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let cam = device(CAMERA_MAC);
        if cam["state"] == "monitoring" && device(POLLER_MAC)["state"] == "monitoring" {
            assert_eq!(cam["addresses"][0], "192.0.2.11", "{cam}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the camera is not monitored: {cam}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // A few monitored windows of normal traffic, then the sweep.
    std::thread::sleep(Duration::from_secs(5));
    let sweep_start = crate::netns::now_ns();
    let cam_ns = format!("dv{}cam", lan.id);
    let mut nmap = crate::netns::Netns::cmd(
        &cam_ns,
        "nmap",
        &[
            "-sS",
            "-n",
            "-Pn",
            "-T5",
            "--max-retries",
            "0",
            "--max-rtt-timeout",
            "200ms",
            "-p",
            "23",
            "198.51.100.0/24",
        ],
    )
    .spawn()
    .expect("nmap");
    let deadline = Instant::now() + Duration::from_secs(60);
    while nmap.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "nmap did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Windows close on packet time: the devices' traffic closes the sweep's.
    let deadline = Instant::now() + Duration::from_secs(30);
    let anomaly = loop {
        let events = all_events(&server.url, &viewer, "kind=device.anomaly");
        if let Some(e) = events.iter().find(|e| {
            e["data"]["mac"] == CAMERA_MAC
                && rfc3339_ns(e["data"]["window_end"].as_str().unwrap_or("")) > sweep_start
        }) {
            break e.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no device.anomaly for the camera: {events:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(anomaly["src_ip"], "192.0.2.11", "{anomaly}");
    assert!(
        anomaly["data"]["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "dst_addrs" || f["name"] == "syns"),
        "{anomaly}"
    );
    // The saved model shows the anomaly and the history marks it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let cam = loop {
        let cam = device(CAMERA_MAC);
        if !cam["last_anomaly"].is_null() {
            break cam;
        }
        assert!(Instant::now() < deadline, "{cam}");
        std::thread::sleep(Duration::from_millis(300));
    };
    let windows = cam["history"]["windows"].as_array().unwrap();
    assert!(windows.iter().any(|w| w["anomaly"] == true), "{cam}");
    assert!(cam["history"]["ranges"]["pkts_out"].is_array(), "{cam}");
    // The plug stops: a device.silent names it a few windows later.
    lan.stop("plug");
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let events = all_events(&server.url, &viewer, "kind=device.silent");
        if events.iter().any(|e| e["data"]["mac"] == PLUG_MAC) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no device.silent for the plug: {events:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(server.sigterm().success());

    // A restart restores the models: monitored at once, nothing relearnt.
    let server = Server::start(&data, Some(&config));
    *url.borrow_mut() = server.url.clone();
    let list: serde_json::Value = c
        .get(format!("{}/api/v1/devices", server.url))
        .bearer_auth(&viewer)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let cam = list["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["mac"] == CAMERA_MAC)
        .cloned()
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(cam["state"], "monitoring", "{list}");
    let learnt = cam["learnt_windows"].as_u64().unwrap();
    // Saved again a few seconds later: still monitoring, learnt unchanged.
    std::thread::sleep(Duration::from_secs(4));
    let again = device(CAMERA_MAC);
    assert_eq!(again["state"], "monitoring", "{again}");
    assert_eq!(again["learnt_windows"].as_u64(), Some(learnt), "{again}");
    assert_ne!(again["updated"], cam["updated"], "not saved after restart");
    drop(lan);
}
