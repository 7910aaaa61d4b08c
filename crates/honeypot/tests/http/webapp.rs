//! The "webapp" persona against real attack tools: sqlmap in its default batch
//! mode finds the injectable parameters (and every request it sent is recorded
//! and classified), Wapiti runs its modules to the end, and a flood of SLEEP()
//! probes holds no more connections than configured.

use std::process::Command;
use std::time::Instant;

use nectar_event::{Event, Kind};
use nectar_honeypot::http::HttpHoneypotConfig;

use super::{classes, need, of, start};

/// Runs sqlmap with its defaults (`--batch`) against `url`; its stdout, and the
/// number of HTTP requests its traffic log shows.
fn sqlmap(url: &str, dir: &std::path::Path, extra: &[&str]) -> (String, usize) {
    let home = dir.join("sqlmap-home");
    let traffic = dir.join("traffic.txt");
    let out = Command::new("timeout")
        .args(["150", "sqlmap", "-u", url, "--batch", "--flush-session"])
        .args(extra)
        .args(["--output-dir", &home.display().to_string()])
        .args(["-t", &traffic.display().to_string()])
        .env("HOME", &home)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let log = std::fs::read_to_string(&traffic).unwrap_or_default();
    let sent = log
        .lines()
        .filter(|l| l.starts_with("HTTP request [#"))
        .count();
    (stdout, sent)
}

/// The query string of every `http.request` to `path`.
fn requests_to<'a>(events: &'a [Event], path: &str) -> Vec<&'a Event> {
    of(events, Kind::HttpRequest)
        .into_iter()
        .filter(|e| e.data["path"] == path)
        .collect()
}

/// Whether a request to the app carried nothing but a plain value (sqlmap's
/// baseline and "is it dynamic" requests): `id=1`, `id=4821`, `q=drill`.
fn plain(e: &Event) -> bool {
    let query = e.data["query"].as_str().unwrap_or("");
    query.split('&').all(|pair| {
        pair.split_once('=')
            .is_some_and(|(_, v)| v.bytes().all(|b| b.is_ascii_alphanumeric()))
    })
}

async fn sqlmap_finds(path_and_query: &str, param: &str, dbms_line: &str) {
    if !need("sqlmap", "sqlmap") {
        return;
    }
    let pot = start(HttpHoneypotConfig {
        max_requests_per_ip_per_second: 0,
        max_sleep_seconds: 10,
        ..Default::default()
    })
    .await;
    let url = format!("http://127.0.0.1:{}{path_and_query}", pot.port());
    let dir = pot.dir.path().to_owned();
    let started = Instant::now();
    let (stdout, sent) = tokio::task::spawn_blocking(move || sqlmap(&url, &dir, &[]))
        .await
        .unwrap();
    eprintln!("sqlmap took {:?}, {sent} requests", started.elapsed());
    assert!(
        stdout.contains(&format!("GET parameter '{param}' is vulnerable"))
            || stdout.contains(&format!("Parameter: {param} (GET)")),
        "sqlmap did not find {param} injectable:\n{stdout}"
    );
    assert!(stdout.contains(dbms_line), "{stdout}");
    let path = path_and_query.split('?').next().unwrap();
    let events = pot.finish().await;
    let requests = requests_to(&events, path);
    // Every request sqlmap sent is recorded ...
    assert!(sent > 20, "{sent} requests in sqlmap's traffic log");
    assert_eq!(
        requests.len(),
        sent,
        "every request sqlmap sent is an event"
    );
    // ... and every one carrying a payload is classified sqli.
    let unclassified: Vec<&str> = requests
        .iter()
        .filter(|e| !plain(e) && !classes(e).contains(&"sqli"))
        .map(|e| e.data["query"].as_str().unwrap_or(""))
        .collect();
    assert!(
        unclassified.is_empty(),
        "{} of {} payloads not classified sqli: {unclassified:#?}",
        unclassified.len(),
        requests.len()
    );
    assert!(requests.iter().all(|e| e.data["persona"] == "webapp"));
    // Its SLEEP() probes were answered late (and said so in the event).
    assert!(
        requests.iter().any(|e| e
            .data
            .get("delay_ms")
            .and_then(|d| d.as_u64())
            .is_some_and(|d| d >= 1000)),
        "no request was delayed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlmap_finds_the_product_id_injectable() {
    sqlmap_finds("/index.php?id=1", "id", "back-end DBMS: MySQL").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlmap_finds_the_search_injectable() {
    sqlmap_finds("/search.php?q=drill", "q", "back-end DBMS: MySQL").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wapiti_runs_its_modules_to_the_end() {
    if !need("wapiti", "wapiti") {
        return;
    }
    let pot = start(HttpHoneypotConfig {
        max_requests_per_ip_per_second: 0,
        max_sleep_seconds: 10,
        ..Default::default()
    })
    .await;
    let url = format!("http://127.0.0.1:{}/index.php", pot.port());
    let dir = pot.dir.path().to_owned();
    let started = Instant::now();
    let (out, report) = tokio::task::spawn_blocking(move || {
        let report = dir.join("wapiti.json");
        // Loopback only: the modules that ask Wapiti's server (ssrf) are left
        // out, and a local (empty) Wappalyzer database keeps it from
        // downloading one.
        let config = dir.join("wapiti-config");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(config.join("apps.json"), "{}").unwrap();
        let out = Command::new("timeout")
            .args(["170", "wapiti", "-u", &url, "--scope", "domain"])
            .args(["-m", "common,-ssrf", "--flush-session", "-f", "json", "-o"])
            .arg(&report)
            .arg("--store-config")
            .arg(&config)
            .args([
                "-t",
                "4",
                "--max-scan-time",
                "150",
                "--no-bugreport",
                "-v",
                "1",
            ])
            .env("HOME", &dir)
            .output()
            .unwrap();
        (out, std::fs::read_to_string(&report).unwrap_or_default())
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!(
        "wapiti took {:?}\n{stdout}\n{}",
        started.elapsed(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "wapiti failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for module in ["sql", "blindsql", "exec", "file", "xss"] {
        assert!(
            stdout.contains(&format!("Launching module {module}")),
            "module {module} did not run: {stdout}"
        );
    }
    let report: serde_json::Value = serde_json::from_str(&report).expect("a JSON report");
    let found = |name: &str| {
        report["vulnerabilities"][name]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    };
    assert!(found("SQL Injection"), "{report:#}");
    assert!(found("Path Traversal"), "{report:#}");
    assert!(found("Command execution"), "{report:#}");
    let events = pot.finish().await;
    let requests = of(&events, Kind::HttpRequest);
    let classified = |class: &str| {
        requests
            .iter()
            .filter(|e| classes(e).contains(&class))
            .count()
    };
    assert!(classified("sqli") > 10 && classified("traversal") + classified("lfi") > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sleep_probes_are_capped_in_time_and_in_connections() {
    let pot = start(HttpHoneypotConfig {
        max_requests_per_ip_per_second: 0,
        max_sleep_seconds: 2,
        max_sleeping_connections: 2,
        ..Default::default()
    })
    .await;
    let addr = pot.addr;
    // Six SLEEP(5) probes at once: two wait (2 s, the cap), four are answered
    // at once.
    let answers = tokio::task::spawn_blocking(move || {
        let threads: Vec<_> = (0..6)
            .map(|i| {
                std::thread::spawn(move || {
                    let request = format!(
                        "GET /product.php?id=1+AND+SLEEP(5)--+{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    );
                    super::raw(addr, request.as_bytes(), std::time::Duration::from_secs(20))
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for a in &answers {
        let text = String::from_utf8_lossy(a);
        // SLEEP() returns 0, so the AND is false: no product, as on MariaDB.
        assert!(
            text.starts_with("HTTP/1.1 200 OK") && text.contains("Product not found"),
            "{text}"
        );
    }
    let events = pot.finish().await;
    let requests = of(&events, Kind::HttpRequest);
    assert_eq!(requests.len(), 6);
    let delays: Vec<u64> = requests
        .iter()
        .filter_map(|e| e.data.get("delay_ms").and_then(|d| d.as_u64()))
        .collect();
    assert_eq!(delays, vec![2000, 2000], "two waited, for the cap");
    assert!(requests.iter().all(|e| classes(e).contains(&"sqli")));
}
