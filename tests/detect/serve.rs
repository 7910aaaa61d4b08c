//! Live detection in `nectar serve`: `[capture] file` replayed through the
//! pipeline with models learnt by `nectar analyze --save-model`, the
//! detector API with its roles, alarms on the bus, windows in JSON lines;
//! and `serve` without `[capture]`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::analyze::capture;
use crate::serve_util::{Server, client, token};
use crate::util::nectar;

/// Learns models for 500 ms windows on a benign capture, saved where
/// `serve` looks for them.
pub fn learn(data: &Path, dir: &Path) {
    let base = dir.join("base.pcap");
    capture(&base, 240, 7, false);
    std::fs::create_dir_all(data).unwrap();
    let models = data.join("detect-models.json");
    let out = nectar(
        data,
        &[
            "analyze",
            "--window",
            "500ms",
            "--baseline",
            base.to_str().unwrap(),
            "--save-model",
            models.to_str().unwrap(),
            base.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Polls the detector until the replay is over.
pub fn wait_done(url: &str, token: &str) -> Value {
    let c = client();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st: Value = c
            .get(format!("{url}/api/v1/detect/stats"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if st["running"] == false && st["windows"].as_u64().unwrap_or(0) > 0 {
            return st;
        }
        assert!(Instant::now() < deadline, "replay did not finish: {st}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn serve_replays_a_capture_and_reports_alarms() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    learn(&data, dir.path());
    let attack = dir.path().join("attack.pcap");
    capture(&attack, 90, 8, true);
    let windows = dir.path().join("windows.jsonl");
    let config = dir.path().join("nectar.toml");
    std::fs::write(
        &config,
        format!(
            "[detect]\nwindow = \"500ms\"\n[capture]\nfile = {:?}\nhistory = 50\n[sinks]\nwindows_jsonl = {:?}\n[honeypot.ssh]\nenabled = false\n[honeypot.http]\nenabled = false\n",
            attack.to_str().unwrap(),
            windows.to_str().unwrap()
        ),
    )
    .unwrap();
    let viewer = token(&data, "viewer-1", "viewer");
    let analyst = token(&data, "analyst-1", "analyst");
    let server = Server::start(&data, Some(&config));
    let c = client();

    let st = wait_done(&server.url, &viewer);
    assert_eq!(st["source"], format!("file {}", attack.display()));
    assert_eq!(st["error"], Value::Null, "{st}");
    assert!(st["alarms"].as_u64().unwrap() >= 2, "{st}");
    assert_eq!(st["decode_errors"], 0);
    let stats = st["stats"].as_array().unwrap();
    let syn = stats.iter().find(|s| s["stat"] == "R_SYN").unwrap();
    assert_eq!(syn["state"], "monitoring", "{syn}");
    assert!(syn["threshold_up"].is_f64(), "{syn}");
    assert_eq!(syn["history"].as_array().unwrap().len(), 50);
    assert!(syn["alarms"].as_u64().unwrap() >= 1, "{syn}");

    // The Detection page charts every statistic with its thresholds and alarms.
    let page = detection_page(&server.url, &data);
    assert!(
        page.contains("R_SYN") && page.contains("monitoring"),
        "{page}"
    );
    assert!(page.matches("<svg class=\"chart series\"").count() >= 9);
    assert!(page.contains("class=\"threshold\""), "{page}");

    // The alarms went through the bus into the store.
    let deadline = Instant::now() + Duration::from_secs(20);
    let events = loop {
        let body: Value = c
            .get(format!(
                "{}/api/v1/events?kind=net.alarm&limit=1000",
                server.url
            ))
            .bearer_auth(&viewer)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let events = body["events"].as_array().unwrap().clone();
        if events.len() as u64 == st["alarms"].as_u64().unwrap() || Instant::now() > deadline {
            break events;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(events.len() as u64, st["alarms"].as_u64().unwrap());
    assert!(
        events
            .iter()
            .any(|e| e["data"]["stat"] == "R_SYN"
                && e["data"]["top_src"][0]["key"] == "198.51.100.66"),
        "{events:?}"
    );
    // One JSON line per window.
    let lines = std::fs::read_to_string(&windows).unwrap();
    assert_eq!(
        lines.lines().count() as u64,
        st["windows"].as_u64().unwrap()
    );
    let first: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert!(first["stats"]["TRAFFIC"]["value"].is_f64(), "{first}");

    // Control: viewers may read, not control; analysts may.
    let post = |path: &str, t: Option<&str>| {
        let mut r = c.post(format!("{}/api/v1/detect/{path}", server.url));
        if let Some(t) = t {
            r = r.bearer_auth(t);
        }
        r.send().unwrap()
    };
    assert_eq!(post("start", None).status(), 401);
    assert_eq!(post("start", Some(&viewer)).status(), 403);
    let r = post("start", Some(&analyst));
    assert_eq!(r.status(), 200);
    // The replay runs again; models continue (no relearning).
    let st2 = wait_done(&server.url, &viewer);
    assert!(st2["windows"].as_u64().unwrap() > st["windows"].as_u64().unwrap());
    assert_eq!(post("stop", Some(&analyst)).status(), 200);
    assert_eq!(post("stop", Some(&analyst)).status(), 409);
    drop(server);
    // Models were saved at stop.
    assert!(data.join("detect-models.json").is_file());
}

#[test]
fn serve_without_capture_has_no_detector() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let viewer = token(&data, "v", "viewer");
    let config = dir.path().join("nectar.toml");
    std::fs::write(
        &config,
        "[honeypot.ssh]\nenabled = false\n[honeypot.http]\nenabled = false\n",
    )
    .unwrap();
    let server = Server::start(&data, Some(&config));
    let r = client()
        .get(format!("{}/api/v1/detect/stats", server.url))
        .bearer_auth(&viewer)
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().unwrap().contains("[capture]"));
}

/// Logs in as the first-start admin and returns the Detection page's HTML.
fn detection_page(url: &str, data: &std::path::Path) -> String {
    let c = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = c.get(format!("{url}/login")).send().unwrap();
    let set = form.headers()["set-cookie"].to_str().unwrap().to_owned();
    let login_cookie = set.split(';').next().unwrap().to_owned();
    let html = form.text().unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = html[start..].split('"').next().unwrap().to_owned();
    let password = std::fs::read_to_string(data.join("initial-admin-password")).unwrap();
    let response = c
        .post(format!("{url}/login"))
        .header("cookie", login_cookie)
        .form(&[
            ("username", "admin"),
            ("password", password.trim()),
            ("csrf", &csrf),
        ])
        .send()
        .unwrap();
    assert_eq!(response.status(), 303);
    let session = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("nectar_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = c
        .get(format!("{url}/detection"))
        .header("cookie", session)
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    page.text().unwrap()
}

#[test]
fn serve_captures_live_on_loopback() {
    if !crate::util::require("live capture test", &[], true) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = dir.path().join("nectar.toml");
    std::fs::write(
        &config,
        "[detect]\nwindow = \"100ms\"\nn_init = 20\ndepth = 5\n[capture]\ninterface = \"lo\"\npromiscuous = false\nsnaplen = 256\nsave_seconds = 1\n[honeypot.ssh]\nenabled = false\n[honeypot.http]\nenabled = false\n",
    )
    .unwrap();
    let viewer = token(&data, "v", "viewer");
    let analyst = token(&data, "a", "analyst");
    let server = Server::start(&data, Some(&config));
    let c = client();
    let stats = || -> Value {
        c.get(format!("{}/api/v1/detect/stats", server.url))
            .bearer_auth(&viewer)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    // Our own requests are loopback traffic; quiet periods still close
    // windows on time.
    let deadline = Instant::now() + Duration::from_secs(30);
    let st = loop {
        let st = stats();
        let syn = st["stats"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stat"] == "TRAFFIC")
            .cloned()
            .unwrap();
        if st["windows"].as_u64().unwrap() >= 30 && syn["state"] == "monitoring" {
            break st;
        }
        assert!(Instant::now() < deadline, "live windows did not come: {st}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(st["running"], true, "{st}");
    assert_eq!(st["source"], "interface lo");
    assert!(st["packets"].as_u64().unwrap() > 0, "{st}");
    let r = c
        .post(format!("{}/api/v1/detect/stop", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(stats()["running"], false);
    // Models of a live run are saved too.
    let saved = std::fs::read_to_string(data.join("detect-models.json")).unwrap();
    assert!(saved.contains("\"TRAFFIC\""), "{saved}");
    let r = c
        .post(format!("{}/api/v1/detect/start", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(stats()["running"], true);
}

#[test]
fn serve_starts_when_the_capture_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = dir.path().join("nectar.toml");
    std::fs::write(
        &config,
        "[capture]\ninterface = \"nope0\"\n[honeypot.ssh]\nenabled = false\n[honeypot.http]\nenabled = false\n",
    )
    .unwrap();
    let viewer = token(&data, "v", "viewer");
    let analyst = token(&data, "a", "analyst");
    let server = Server::start(&data, Some(&config));
    let c = client();
    let st: Value = c
        .get(format!("{}/api/v1/detect/stats", server.url))
        .bearer_auth(&viewer)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(st["running"], false, "{st}");
    let error = st["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("capture.interface") && error.contains("nope0"),
        "{st}"
    );
    let r = c
        .post(format!("{}/api/v1/detect/start", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().unwrap().contains("nope0"));
}
