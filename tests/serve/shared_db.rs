//! Two `nectar serve` processes on one PostgreSQL database: both ingest, but
//! each consumer of the committed stream (the rules, the event log, ...) runs
//! in one of them. Alerts are not doubled, the event log holds every event
//! once, and after `kill -9` of the process running them the other takes over
//! from the saved offsets: nothing lost, nothing doubled.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::stream::{consumer, status};
use crate::util::{Server, client, on_postgres, share_store, token};

const SOURCE: &str = "198.51.100.23";

/// Posts `n` failed logins numbered from `from`; returns their ids.
fn post_failures(url: &str, token: &str, from: usize, n: usize) {
    let events: Vec<Value> = (from..from + n)
        .map(|i| {
            json!({"kind": "ssh.login.failed", "summary": format!("root failed {i}"),
                   "src_ip": SOURCE, "data": {"username": "root", "password": format!("pw{i}")}})
        })
        .collect();
    let response = client()
        .post(format!("{url}/api/v1/events"))
        .bearer_auth(token)
        .json(&events)
        .send()
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().unwrap()
    );
}

fn leases(url: &str, token: &str) -> Vec<String> {
    status(url, token)["leases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The summaries in an event log file, with how often each is there.
fn logged(data: &Path) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    let text = std::fs::read_to_string(data.join("events.jsonl")).unwrap_or_default();
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        *seen
            .entry(event["summary"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    seen
}

fn brute_force_count(url: &str, token: &str) -> Option<u64> {
    let body: Value = client()
        .get(format!("{url}/api/v1/alerts?rule=nectar.ssh-brute-force"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let alerts = body["alerts"].as_array().cloned().unwrap_or_default();
    assert!(alerts.len() <= 1, "one alert, not several: {alerts:?}");
    alerts.first().and_then(|a| a["count"].as_u64())
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn two_servers_run_each_consumer_once_and_take_over_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (data_a, data_b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&data_a).unwrap();
    std::fs::create_dir_all(&data_b).unwrap();
    let Some(_db) = on_postgres(&data_a) else {
        return;
    };
    share_store(&data_a, &data_b);
    let analyst = token(&data_a, "loader", "analyst");

    // A starts first and takes every role; B, started once A holds them, waits.
    let mut a = Server::start(&data_a, None);
    let roles = ["event-log", "inventory", "notify", "rules"];
    wait_until("A holds every role", || {
        let held = leases(&a.url, &analyst);
        roles.iter().all(|r| held.iter().any(|h| h == r))
    });
    let mut b = Server::start(&data_b, None);
    let b_status = status(&b.url, &analyst);
    for name in ["rules", "event-log", "inventory"] {
        assert_eq!(consumer(&b_status, name)["active"], false, "{b_status}");
        assert_eq!(consumer(&status(&a.url, &analyst), name)["active"], true);
    }
    assert!(
        leases(&b.url, &analyst)
            .iter()
            .all(|l| !roles.contains(&l.as_str())),
        "{b_status}"
    );

    // Both ingest; the rules fold all 20 into one alert once, and A's event
    // log has each event once while B's has none.
    for round in 0..4 {
        let server = if round % 2 == 0 { &a } else { &b };
        post_failures(&server.url, &analyst, round * 5, 5);
    }
    wait_until("the alert counts 20", || {
        brute_force_count(&b.url, &analyst) == Some(20)
    });
    wait_until("A's event log holds 20 lines", || {
        logged(&data_a).values().sum::<usize>() == 20
    });
    // Whatever a second rules stage or log would have done, it would have
    // done by now (every consumer polls the store every 2 s).
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(brute_force_count(&a.url, &analyst), Some(20));
    let log_a = logged(&data_a);
    assert_eq!(log_a.len(), 20, "{log_a:?}");
    assert!(log_a.values().all(|n| *n == 1), "{log_a:?}");
    assert!(logged(&data_b).is_empty());

    // A's offsets are saved (a consumer at rest saves within 250 ms): then
    // A dies hard, and B takes each role over from where A saved it.
    wait_until("A's offsets are saved", || {
        let now = status(&a.url, &analyst);
        ["rules", "event-log"].iter().all(|n| {
            let c = consumer(&now, n);
            c["saved_offset"] == c["offset"] && c["offset"] == 20
        })
    });
    a.kill9();
    wait_until("B holds every role", || {
        let held = leases(&b.url, &analyst);
        roles.iter().all(|r| held.iter().any(|h| h == r))
    });
    post_failures(&b.url, &analyst, 20, 10);
    wait_until("the alert counts 30", || {
        brute_force_count(&b.url, &analyst) == Some(30)
    });
    wait_until("B's event log holds the 10 new lines", || {
        logged(&data_b).values().sum::<usize>() == 10
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(brute_force_count(&b.url, &analyst), Some(30));
    let log_b = logged(&data_b);
    let mut all = log_a.clone();
    for (summary, n) in &log_b {
        *all.entry(summary.clone()).or_default() += n;
    }
    assert_eq!(all.len(), 30, "every event logged: {all:?}");
    assert!(all.values().all(|n| *n == 1), "none twice: {all:?}");
    let now = status(&b.url, &analyst);
    for name in ["rules", "event-log"] {
        assert_eq!(consumer(&now, name)["active"], true, "{now}");
        assert_eq!(consumer(&now, name)["offset"], 30, "{now}");
    }
    assert!(b.sigterm().success());
}

/// On SQLite one `serve` runs per database file: a second one says why and
/// stops, before it listens or consumes anything.
#[test]
fn a_second_serve_on_one_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = Server::start(&data, None);
    let out = std::process::Command::new(crate::util::BIN)
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--honeypot-ssh-listen", "127.0.0.1:0"])
        .args(["--honeypot-telnet-listen", "127.0.0.1:0"])
        .args(["--honeypot-http-listen", "127.0.0.1:0"])
        .env_remove("NECTAR_CONFIG")
        .env_remove("NECTAR_STORE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("another `nectar serve` uses the database"),
        "{stderr}"
    );
    drop(first);
}
