//! The InfluxDB sink against a real InfluxDB 1.x (Debian's `influxdb`),
//! started by the test on loopback ports with its data in a temporary
//! directory: `serve` replays a capture with the sink on, then the points
//! are read back with InfluxQL queries.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::analyze::capture;
use crate::serve::{learn, wait_done};
use crate::serve_util::{Server, client, token};
use crate::util::require;

/// A running influxd, killed on drop.
struct Influx {
    child: Child,
    url: String,
}

impl Drop for Influx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Influx {
    fn start(dir: &Path) -> Influx {
        let (http, rpc) = (free_port(), free_port());
        let d = dir.display();
        std::fs::create_dir_all(dir).unwrap();
        let conf = dir.join("influxdb.conf");
        std::fs::write(
            &conf,
            format!(
                "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc}\"\n\
                 [meta]\n  dir = \"{d}/meta\"\n\
                 [data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n\
                 [http]\n  bind-address = \"127.0.0.1:{http}\"\n  log-enabled = false\n\
                 [monitor]\n  store-enabled = false\n"
            ),
        )
        .unwrap();
        let child = Command::new("influxd")
            .arg("-config")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start influxd");
        let influx = Influx {
            child,
            url: format!("http://127.0.0.1:{http}"),
        };
        let c = client();
        let deadline = Instant::now() + Duration::from_secs(30);
        while c
            .get(format!("{}/ping", influx.url))
            .send()
            .map(|r| r.status().as_u16() != 204)
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "influxd did not answer /ping");
            std::thread::sleep(Duration::from_millis(100));
        }
        influx
    }

    fn query(&self, q: &str) -> Value {
        client()
            .post(format!("{}/query", self.url))
            .form(&[("q", q), ("db", "nectar")])
            .send()
            .unwrap()
            .json()
            .unwrap()
    }
}

#[test]
fn windows_and_alarms_reach_a_real_influxdb() {
    if !require("InfluxDB sink test", &["influxd"], false) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let influx = Influx::start(&dir.path().join("influx"));
    influx.query("CREATE DATABASE nectar");

    let data = dir.path().join("data");
    learn(&data, dir.path());
    let attack = dir.path().join("attack.pcap");
    capture(&attack, 90, 8, true);
    let config = dir.path().join("nectar.toml");
    std::fs::write(
        &config,
        format!(
            "sensor_name = \"edge 1\"\n[detect]\nwindow = \"500ms\"\n[capture]\nfile = {:?}\n\
             [sinks.influxdb]\nenabled = true\nurl = {:?}\ndatabase = \"nectar\"\nbatch_points = 50\nflush_ms = 200\n\
             [honeypot.ssh]\nenabled = false\n[honeypot.http]\nenabled = false\n",
            attack.to_str().unwrap(),
            influx.url
        ),
    )
    .unwrap();
    let viewer = token(&data, "v", "viewer");
    let server = Server::start(&data, Some(&config));
    let st = wait_done(&server.url, &viewer);
    let windows = st["windows"].as_u64().unwrap();
    let alarms = st["alarms"].as_u64().unwrap();
    assert!(alarms > 0, "{st}");
    // Windows come from the detector; alarms are stored events, written by the
    // InfluxDB consumer after their commit: wait for both to be flushed.
    let deadline = Instant::now() + Duration::from_secs(20);
    let st = loop {
        let st: Value = client()
            .get(format!("{}/api/v1/detect/stats", server.url))
            .bearer_auth(&viewer)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if st["influxdb"]["written"].as_u64() >= Some(windows + alarms) || Instant::now() > deadline
        {
            break st;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(st["influxdb"]["dropped"], 0, "{st}");
    assert_eq!(st["influxdb"]["written"], windows + alarms, "{st}");

    let count = |q: &str| -> u64 {
        let v = influx.query(q);
        v["results"][0]["series"][0]["values"][0][1]
            .as_u64()
            .unwrap_or_else(|| panic!("{q}: {v}"))
    };
    assert_eq!(count("SELECT count(packets) FROM nectar_window"), windows);
    assert_eq!(count("SELECT count(value) FROM nectar_alarm"), alarms);
    // Tags and fields as written: the flood's alarms name the attacker.
    let v = influx.query(
        "SELECT value, threshold, top_src FROM nectar_alarm WHERE stat = 'R_SYN' AND sensor = 'edge 1'",
    );
    let rows = v["results"][0]["series"][0]["values"].as_array().unwrap();
    assert!(!rows.is_empty(), "{v}");
    for row in rows {
        assert!(row[1].as_f64().unwrap() > row[2].as_f64().unwrap(), "{row}");
        assert_eq!(row[3], "198.51.100.66");
    }
    // Window points carry the statistics and thresholds.
    let v = influx.query("SELECT max(TRAFFIC), last(R_SYN_up) FROM nectar_window");
    let row = &v["results"][0]["series"][0]["values"][0];
    assert!(row[1].as_f64().unwrap() > 10_000.0, "{v}");
    assert!(row[2].as_f64().is_some(), "{v}");
    drop(server);
}
