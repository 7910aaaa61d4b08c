//! Remote sensors (#20), with real processes: `nectar serve` with HTTPS, the
//! enrolment line it prints, `nectar sensor enrol` and `nectar sensor` with its
//! honeypots, real clients (ssh, HTTP) against the sensor's honeypots, and
//! `kill -9` of either side. Events are counted on the server by a unique
//! path each: every one must arrive exactly once.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{BIN, Server, all_events, client, nectar, token};

/// A free loopback port (bound, then released for the server to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server config with HTTPS on `tls_port` and no honeypots of its own.
pub fn server_config(dir: &Path, tls_port: u16, extra: &str) -> PathBuf {
    let path = dir.with_extension("server.toml");
    std::fs::write(
        &path,
        format!(
            "[server.tls]\nlisten = \"127.0.0.1:{tls_port}\"\n{extra}\n[honeypot.ssh]\nenabled = false\n[honeypot.telnet]\nenabled = false\n[honeypot.http]\nenabled = false\n"
        ),
    )
    .unwrap();
    path
}

/// `nectar sensor-token create NAME`: the enrolment line's URL, secret and pin.
pub fn enrolment(dir: &Path, config: &Path, name: &str, tls_port: u16) -> (String, String, String) {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(dir)
        .args(["sensor-token", "create", name])
        .args(["--url", &format!("https://127.0.0.1:{tls_port}")])
        .env_remove("NECTAR_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sensor-token create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout.lines().last().unwrap().to_owned();
    let words: Vec<&str> = last.split_whitespace().collect();
    // nectar sensor enrol URL SECRET --pin PIN --data-dir D
    assert_eq!(&words[..3], &["nectar", "sensor", "enrol"], "{last}");
    assert_eq!(words[4 + 1], "--pin", "{last}");
    (
        words[3].to_owned(),
        words[4].to_owned(),
        words[6].to_owned(),
    )
}

/// `nectar sensor enrol URL SECRET --pin PIN --data-dir DIR`.
pub fn enrol(dir: &Path, url: &str, secret: &str, pin: &str) -> std::process::Output {
    nectar(dir, &["sensor", "enrol", url, secret, "--pin", pin])
}

/// A running `nectar sensor`, killed when dropped.
pub struct Sensor {
    pub child: Child,
    pub http: String,
    pub ssh: String,
    pub stderr: PathBuf,
}

impl Sensor {
    pub fn start(dir: &Path, extra_config: &str) -> Sensor {
        let config = dir.with_extension("sensor.toml");
        std::fs::write(&config, format!(
                // Probes come fast from one address: no per-address rate limit.
                "[honeypot.telnet]\nenabled = false\n[honeypot.http]\nmax_requests_per_ip_per_second = 0\n{extra_config}\n"
            )).unwrap();
        let stderr = dir.with_extension("sensor.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr)
            .unwrap();
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir)
            .arg("sensor")
            .args(["--honeypot-ssh-listen", "127.0.0.1:0"])
            .args(["--honeypot-http-listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .env_remove("NECTAR_CONFIG")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (mut http, mut ssh) = (None, None);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("HTTP honeypot listening on ") {
                    http = Some(rest.trim().to_owned());
                }
                if let Some(rest) = line.strip_prefix("SSH honeypot listening on ") {
                    ssh = Some(rest.trim().to_owned());
                }
                if line.starts_with("Nectar sensor ") {
                    let _ = tx.send((http.clone(), ssh.clone()));
                }
            }
        });
        let (http, ssh) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("nectar sensor did not start within 60 s");
        Sensor {
            child,
            http: http.expect("the sensor's HTTP honeypot"),
            ssh: ssh.expect("the sensor's SSH honeypot"),
            stderr,
        }
    }

    pub fn kill9(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Sensor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GETs `/probe/{tag}-{i}` on the sensor's HTTP honeypot for each i in `range`.
pub fn probe(http: &str, tag: &str, range: std::ops::Range<usize>) {
    let client = client();
    for i in range {
        let response = client
            .get(format!("http://{http}/probe/{tag}-{i}"))
            .send()
            .unwrap();
        // The honeypot answers as a web server would (often 404).
        assert!(response.status().as_u16() < 600);
    }
}

/// How many times each `/probe/{tag}-*` path arrived at the server.
pub fn arrived(url: &str, token: &str, tag: &str) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for e in all_events(url, token, "kind=http.request&sensor=edge-1") {
        if let Some(path) = e["data"]["path"].as_str()
            && path.starts_with(&format!("/probe/{tag}-"))
        {
            *seen.entry(path.to_owned()).or_insert(0) += 1;
        }
    }
    seen
}

/// Waits until all `n` probes of `tag` arrived (or the time is up); the counts.
pub fn wait_arrived(
    url: &str,
    token: &str,
    tag: &str,
    n: usize,
    limit: Duration,
) -> HashMap<String, usize> {
    let deadline = Instant::now() + limit;
    loop {
        let seen = arrived(url, token, tag);
        if seen.len() >= n || Instant::now() > deadline {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Events waiting in the sensor's spool now (read with Python's sqlite3, a
/// second reader of the WAL file, as an operator would).
pub fn spooled(sensor_dir: &Path) -> u64 {
    let out = Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys; c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True); print(c.execute(\"select value from counters where name='events'\").fetchone()[0])")
        .arg(sensor_dir.join("spool.db"))
        .output()
        .expect("python3");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// Waits until `done()` holds (at most `limit`).
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

pub fn assert_exactly_once(seen: &HashMap<String, usize>, tag: &str, n: usize) {
    let missing: Vec<usize> = (0..n)
        .filter(|i| !seen.contains_key(&format!("/probe/{tag}-{i}")))
        .collect();
    assert!(missing.is_empty(), "{tag}: never arrived: {missing:?}");
    let doubled: Vec<_> = seen.iter().filter(|(_, c)| **c != 1).collect();
    assert!(
        doubled.is_empty(),
        "{tag}: arrived more than once: {doubled:?}"
    );
    assert_eq!(seen.len(), n);
}

#[test]
fn a_sensor_enrols_once_ships_and_is_confined_to_its_own_name() {
    let root = tempfile::tempdir().unwrap();
    let server_dir = root.path().join("server");
    let sensor_dir = root.path().join("sensor");
    let tls_port = free_port();
    let config = server_config(&server_dir, tls_port, "");
    std::fs::create_dir_all(&server_dir).unwrap();
    let server = Server::start(&server_dir, Some(&config));
    assert!(
        server
            .printed_after("HTTPS listening on ")
            .is_some_and(|l| l.contains(&format!("127.0.0.1:{tls_port}"))),
        "serve did not say where HTTPS listens"
    );
    let (url, secret, pin) = enrolment(&server_dir, &config, "edge-1", tls_port);
    assert_eq!(pin.len(), 64);

    // A wrong pin (a man in the middle) is refused before anything is sent:
    // the secret is still unused afterwards.
    let wrong_pin = "ab".repeat(32);
    let refused = enrol(&sensor_dir, &url, &secret, &wrong_pin);
    assert!(!refused.status.success());
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(text.contains("does not match the pinned SHA-256"), "{text}");
    assert!(!sensor_dir.join("sensor.toml").exists());

    let ok = enrol(&sensor_dir, &url, &secret, &pin);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // Reused: refused.
    let again = enrol(&root.path().join("other"), &url, &secret, &pin);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already used"));
    // Unknown: refused.
    let unknown = enrol(&root.path().join("other"), &url, "nse_0000", &pin);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown enrolment secret"));

    // The sensor's honeypots, driven by real clients; its events reach the server.
    let sensor = Sensor::start(&sensor_dir, "");
    probe(&sensor.http, "a", 0..20);
    let analyst = token(&server_dir, "analyst", "analyst");
    let seen = wait_arrived(&server.url, &analyst, "a", 20, Duration::from_secs(30));
    assert_exactly_once(&seen, "a", 20);

    // A real OpenSSH client logs in to the sensor's SSH honeypot.
    crate::capture::openssh_shell(&sensor.ssh, "root", "123456", b"id\nexit\n");
    assert!(
        wait_until(Duration::from_secs(30), || {
            !all_events(
                &server.url,
                &analyst,
                "kind=ssh.login.success&sensor=edge-1",
            )
            .is_empty()
        }),
        "the SSH login on the sensor never reached the server"
    );

    // The sensor's token reads nothing and posts under its own name only.
    let credential = std::fs::read_to_string(sensor_dir.join("sensor.toml")).unwrap();
    let sensor_token = credential
        .lines()
        .find_map(|l| l.strip_prefix("token = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_owned();
    let http = client();
    for path in [
        "/api/v1/events",
        "/api/v1/sensors",
        "/api/v1/alerts",
        "/api/v1/status",
    ] {
        let status = http
            .get(format!("{}{path}", server.url))
            .bearer_auth(&sensor_token)
            .send()
            .unwrap()
            .status();
        assert_eq!(status, 403, "{path}");
    }
    let forged = http
        .post(format!("{}/api/v1/events", server.url))
        .bearer_auth(&sensor_token)
        .body(r#"[{"kind":"net.alarm","summary":"forged","sensor":"edge-2"}]"#)
        .send()
        .unwrap();
    assert_eq!(forged.status(), 422);

    // The Sensors API shows it.
    let list: Value = http
        .get(format!("{}/api/v1/sensors", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let edge = &list["sensors"][0];
    assert_eq!(edge["name"], "edge-1");
    assert_eq!(edge["status"], "ok");
    assert!(edge["last_seen"].is_string());
    assert!(edge["clock_offset_ms"].as_i64().unwrap().abs() < 5_000);
    assert_eq!(edge["dropped"], 0);
    assert!(edge["spool_events"].is_u64());

    // Revoked: the sensor stops at once and says why.
    let admin = token(&server_dir, "admin-token", "admin");
    let revoked = http
        .post(format!("{}/api/v1/sensors/edge-1/revoke", server.url))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let mut sensor = sensor;
    probe(&sensor.http, "after-revoke", 0..1);
    let status = crate::util::wait_with_timeout(&mut sensor.child, Duration::from_secs(30));
    assert!(!status.success());
    assert!(sensor.log().contains("revoked"), "{}", sensor.log());
    let status = http
        .get(format!("{}/api/v1/events", server.url))
        .bearer_auth(&sensor_token)
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 401);
}

#[test]
fn an_expired_enrolment_secret_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let server_dir = root.path().join("server");
    std::fs::create_dir_all(&server_dir).unwrap();
    let tls_port = free_port();
    let config = server_config(&server_dir, tls_port, "");
    let _server = Server::start(&server_dir, Some(&config));
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&server_dir)
        .args(["sensor-token", "create", "edge-9", "--expires", "10s"])
        .args(["--url", &format!("https://127.0.0.1:{tls_port}")])
        .output()
        .unwrap();
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    std::thread::sleep(Duration::from_secs(11));
    let late = enrol(&root.path().join("sensor"), words[3], words[4], words[6]);
    assert!(!late.status.success());
    assert!(String::from_utf8_lossy(&late.stderr).contains("expired"));
    // Bad flags get exit code 2 and name the flag.
    let bad = nectar(
        &server_dir,
        &["sensor-token", "create", "x", "--expires", "soon"],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--expires"));
}

#[test]
fn nothing_is_lost_or_doubled_when_either_side_is_killed() {
    let root = tempfile::tempdir().unwrap();
    let server_dir = root.path().join("server");
    let sensor_dir = root.path().join("sensor");
    std::fs::create_dir_all(&server_dir).unwrap();
    let tls_port = free_port();
    let config = server_config(&server_dir, tls_port, "");
    let mut server = Server::start(&server_dir, Some(&config));
    let (url, secret, pin) = enrolment(&server_dir, &config, "edge-1", tls_port);
    assert!(enrol(&sensor_dir, &url, &secret, &pin).status.success());
    let analyst = token(&server_dir, "analyst", "analyst");
    let mut sensor = Sensor::start(&sensor_dir, "");

    // The server killed in the middle of a run, then back.
    probe(&sensor.http, "k", 0..100);
    server.kill9();
    probe(&sensor.http, "k", 100..200);
    // The sensor killed while the server is down: its events are spooled,
    // not sent. (What a honeypot made but the spool did not yet hold dies with
    // a kill -9, as in `serve`: wait until the spool has it.)
    assert!(
        wait_until(Duration::from_secs(30), || spooled(&sensor_dir) >= 100),
        "the sensor did not spool its events"
    );
    sensor.kill9();
    let mut sensor = Sensor::start(&sensor_dir, "");
    probe(&sensor.http, "k", 200..250);
    std::thread::sleep(Duration::from_secs(2));
    let server = Server::start(&server_dir, Some(&config));
    let seen = wait_arrived(&server.url, &analyst, "k", 250, Duration::from_secs(60));
    assert_exactly_once(&seen, "k", 250);

    // The sensor killed right after its honeypot answered (between spooling
    // and sending), while the server is up.
    // The sensor killed while it sends (events spooled, some sent, some
    // not, one batch maybe committed but not yet acknowledged).
    probe(&sensor.http, "j", 0..50);
    assert!(wait_until(Duration::from_secs(30), || {
        spooled(&sensor_dir) as usize + arrived(&server.url, &analyst, "j").len() >= 50
    }));
    sensor.kill9();
    let sensor = Sensor::start(&sensor_dir, "");
    probe(&sensor.http, "j", 50..60);
    let seen = wait_arrived(&server.url, &analyst, "j", 60, Duration::from_secs(60));
    assert_exactly_once(&seen, "j", 60);
    drop(sensor);
}

/// What a sensor's batches tell the server: a resend is counted, a skipped
/// sequence number raises `batch_gap`, a clock past the bound `clock_drift`
/// (and `clock_ok` when it is back); the sensor's own event times are kept.
#[test]
fn the_server_names_gaps_resends_and_clock_drift() {
    let root = tempfile::tempdir().unwrap();
    let server_dir = root.path().join("server");
    let sensor_dir = root.path().join("sensor");
    std::fs::create_dir_all(&server_dir).unwrap();
    let tls_port = free_port();
    let config = server_config(
        &server_dir,
        tls_port,
        "[server]\nsensor_clock_bound_ms = 2000\n",
    );
    let server = Server::start(&server_dir, Some(&config));
    let (url, secret, pin) = enrolment(&server_dir, &config, "edge-1", tls_port);
    assert!(enrol(&sensor_dir, &url, &secret, &pin).status.success());
    let credential = std::fs::read_to_string(sensor_dir.join("sensor.toml")).unwrap();
    let sensor_token = credential
        .lines()
        .find_map(|l| l.strip_prefix("token = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_owned();
    let analyst = token(&server_dir, "analyst", "analyst");
    let http = client();
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    };
    // The sensor's own time for its events: two days ago (a sensor that was
    // cut off), within `server.max_event_age_days`.
    let event_time = (time::OffsetDateTime::now_utc() - time::Duration::days(2))
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let post = |seq: u64, clock_ms: i64, id: &str| {
        let body = format!(
            r#"{{"id":"{id}","time":"{event_time}","kind":"http.request","summary":"GET /{seq}","data":{{"path":"/seq/{seq}"}}}}"#
        );
        http.post(format!("{}/api/v1/events", server.url))
            .bearer_auth(&sensor_token)
            .header("x-nectar-batch-seq", seq.to_string())
            .header("x-nectar-sensor-time", clock_ms.to_string())
            .header("x-nectar-spool-events", "7")
            .header("x-nectar-dropped", "0")
            .body(body)
            .send()
            .unwrap()
            .status()
    };
    let ids: Vec<String> = (0..4).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    assert_eq!(post(1, now_ms(), &ids[0]), 200);
    assert_eq!(post(1, now_ms(), &ids[0]), 200); // resent: stored once
    assert_eq!(post(4, now_ms() + 3_600_000, &ids[1]), 200); // 2 and 3 missing, clock an hour ahead
    assert_eq!(post(5, now_ms(), &ids[2]), 200); // clock back
    let count =
        |all: &[Value], status: &str| all.iter().filter(|e| e["data"]["status"] == status).count();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut statuses = all_events(&server.url, &analyst, "kind=sensor.status&sensor=edge-1");
    while (count(&statuses, "batch_gap") == 0 || count(&statuses, "clock_ok") == 0)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(200));
        statuses = all_events(&server.url, &analyst, "kind=sensor.status&sensor=edge-1");
    }
    let named = |status: &str| -> Vec<&Value> {
        statuses
            .iter()
            .filter(|e| e["data"]["status"] == status)
            .collect()
    };
    let gap = named("batch_gap");
    assert_eq!(gap.len(), 1, "{statuses:?}");
    assert_eq!(
        (
            gap[0]["data"]["from"].as_u64(),
            gap[0]["data"]["to"].as_u64()
        ),
        (Some(2), Some(3))
    );
    let drift = named("clock_drift");
    assert_eq!(drift.len(), 1, "{statuses:?}");
    assert!(drift[0]["data"]["clock_offset_ms"].as_i64().unwrap() > 3_000_000);
    assert_eq!(named("clock_ok").len(), 1, "{statuses:?}");
    let sensor: Value = http
        .get(format!("{}/api/v1/sensors/edge-1", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(sensor["resent_batches"], 1);
    assert_eq!(sensor["missing_batches"], 2);
    assert_eq!(sensor["last_batch_seq"], 5);
    assert_eq!(sensor["spool_events"], 7);
    assert_eq!(sensor["clock_drifting"], false);
    // The sensor's event time is kept.
    let stored = all_events(&server.url, &analyst, "kind=http.request&sensor=edge-1");
    let day = &event_time[..10];
    assert!(
        stored
            .iter()
            .any(|e| e["time"].as_str().unwrap().starts_with(day)),
        "{stored:?}"
    );
    assert_eq!(
        stored.iter().filter(|e| e["id"] == ids[0].as_str()).count(),
        1
    );
}
