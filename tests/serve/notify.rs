//! Notifications in `nectar serve`: an alert notice in the store reaches a
//! local webhook receiver (Python, verifying the Standard Webhooks signature),
//! the notifier's counters appear in `/api/v1/status` and on the Settings
//! page, whose dead-letter list queues a refused message again; a route
//! naming a channel that does not exist stops `serve` with exit code 2.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nectar_event::{Alert, AlertRule, AlertStatus, Severity, Timestamp};
use serde_json::Value;

use crate::util::*;

const SECRET: &str = "whsec_dGVzdC1zZWNyZXQtdGVzdC1zZWNyZXQtdGVzdC0zMg==";
const RECEIVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crates/notify/tests/notify/receivers/webhook.py"
);

fn python_available() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || std::env::var("CI").as_deref() != Ok("true"),
        "python3 is needed (the webhook receiver)"
    );
    ok
}

/// Runs `python3 -c CODE DB ARGS...` against the running server's database.
fn sqlite(db: &Path, code: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .args(["-c", code])
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn alert() -> Alert {
    let at = Timestamp::now();
    Alert {
        id: uuid::Uuid::now_v7(),
        rule: AlertRule {
            id: "ssh-brute-force".into(),
            title: "SSH brute force".into(),
            level: Severity::High,
            techniques: vec!["T1110.001".into()],
        },
        title: "SSH brute force from 203.0.113.7".into(),
        severity: Severity::High,
        status: AlertStatus::New,
        resolution: None,
        assignee: None,
        group: BTreeMap::from([("src_ip".to_owned(), "203.0.113.7".to_owned())]),
        fingerprint: "ssh-brute-force|203.0.113.7".into(),
        count: 10,
        silenced: 0,
        first_seen: at,
        last_seen: at,
        first_event: uuid::Uuid::now_v7(),
        last_event: uuid::Uuid::now_v7(),
        observables: Vec::new(),
        previous: None,
        incident: None,
    }
}

#[test]
fn an_alert_notice_reaches_a_webhook_and_the_status_counts_it() {
    if !python_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let (mut receiver, port, log) = start_receiver(dir.path(), "webhook", &["--secret", SECRET]);
    // A chat receiver that refuses the first message for good (410 Gone).
    let (mut pager, pager_port, pager_log) =
        start_receiver(dir.path(), "pager", &["--script", "410"]);
    let config = dir.path().join("nectar.toml");
    std::fs::write(
        &config,
        format!(
            "[[notify.channels]]\nname = \"soc\"\ntype = \"webhook\"\n\
             url = \"http://127.0.0.1:{port}/nectar\"\nsecret = \"{SECRET}\"\n\
             [[notify.channels]]\nname = \"pager\"\ntype = \"slack\"\n\
             url = \"http://127.0.0.1:{pager_port}/hook\"\n\
             [[notify.routes]]\nchannels = [\"soc\", \"pager\"]\nmin_severity = \"high\"\n"
        ),
    )
    .unwrap();
    let token = token(&data, "reader", "viewer");
    let mut server = Server::start(&data, Some(&config));
    let db = data.join("nectar.db");

    // The rules stage writes notices; here a test writes one.
    let alert = alert();
    sqlite(
        &db,
        "import sqlite3, sys, uuid; c = sqlite3.connect(sys.argv[1], timeout=10); \
         c.execute(\"INSERT INTO alert_notices (alert_id, kind, at_us, alert) VALUES (?, 'raised', ?, ?)\", \
         (uuid.UUID(sys.argv[2]).bytes, int(sys.argv[3]), sys.argv[4])); c.commit()",
        &[
            &alert.id.to_string(),
            &Timestamp::now().as_micros().to_string(),
            &serde_json::to_string(&alert).unwrap(),
        ],
    );

    let entries = wait_entries(&log, 1);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["verified"], true, "{}", entries[0]);
    assert_eq!(entries[0]["body"]["data"]["id"], alert.id.to_string());
    assert_eq!(entries[0]["body"]["sensor"], "nectar");

    let deadline = Instant::now() + Duration::from_secs(20);
    let notify = loop {
        let status: Value = client()
            .get(format!("{}/api/v1/status", server.url))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if status["notify"]["delivered"] == 1 && status["notify"]["dead"] == 1 {
            break status["notify"].clone();
        }
        assert!(Instant::now() < deadline, "status: {status}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(notify["channels"][0]["name"], "soc");
    assert_eq!(notify["channels"][0]["type"], "webhook");
    assert_eq!(notify["pending"], 0);
    assert_eq!(notify["channels"][1]["dead"], 1);

    // The Settings page shows the channels and the dead-letter list, from
    // which a dead message is queued again.
    let cookie = web_login(&server, &data);
    let settings = || {
        client()
            .get(format!("{}/settings", server.url))
            .header("cookie", &cookie)
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    let page = settings();
    assert!(page.contains("id=\"notify-channels\""), "{page}");
    assert!(
        page.contains("<td>soc</td><td>webhook</td><td>1</td>"),
        "{page}"
    );
    let dead = page.split("id=\"notify-dead\"").nth(1).unwrap();
    assert!(
        dead.contains("<td>pager</td>") && dead.contains("refused: HTTP 410"),
        "{dead}"
    );
    let value = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = dead.find(&marker).unwrap() + marker.len();
        dead[start..].split('"').next().unwrap().to_owned()
    };
    let answer = client()
        .post(format!("{}/settings/notify/retry", server.url))
        .header("cookie", &cookie)
        .form(&[("csrf", value("csrf")), ("id", value("id"))])
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(answer.text().unwrap().contains("queued again"));
    let again = wait_entries(&pager_log, 2);
    assert_eq!(
        (&again[0]["status"], &again[1]["status"]),
        (&410.into(), &200.into())
    );
    assert!(settings().contains("No notification was given up."));

    assert!(server.sigterm().success());
    for child in [&mut receiver, &mut pager] {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Starts the webhook receiver script logging to `DIR/NAME.jsonl`; returns the
/// process, its port and its log.
fn start_receiver(dir: &Path, name: &str, args: &[&str]) -> (Child, u16, PathBuf) {
    let log = dir.join(format!("{name}.jsonl"));
    let mut child = Command::new("python3")
        .arg(RECEIVER)
        .arg(&log)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().strip_prefix("PORT ").unwrap().parse().unwrap();
    (child, port, log)
}

/// Waits until `log` has at least `n` entries; returns them.
fn wait_entries(log: &Path, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let entries: Vec<Value> = std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if entries.len() >= n {
            return entries;
        }
        assert!(
            Instant::now() < deadline,
            "{} has {} entries",
            log.display(),
            entries.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_route_to_an_unknown_channel_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nectar.toml");
    std::fs::write(
        &config,
        "[[notify.channels]]\nname = \"siem\"\ntype = \"syslog\"\naddress = \"127.0.0.1:514\"\n\
         [[notify.routes]]\nchannels = [\"sime\"]\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("NECTAR_CONFIG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("key `notify.routes[0].channels[0]`: no channel is called \"sime\""),
        "{stderr}"
    );
}

/// The whole flow: failed logins posted to the API become a brute-force alert
/// (rules stage), its notice reaches a webhook that verifies the signature, and
/// the alert's page shows the delivery; a silenced source raises nothing and
/// notifies nobody.
#[test]
fn events_to_alert_to_webhook_and_a_silenced_source_notifies_nobody() {
    if !python_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let (mut receiver, port, log) = start_receiver(dir.path(), "webhook", &["--secret", SECRET]);
    let config = dir.path().join("nectar.toml");
    std::fs::write(
        &config,
        format!(
            "[[notify.channels]]\nname = \"soc\"\ntype = \"webhook\"\n\
             url = \"http://127.0.0.1:{port}/nectar\"\nsecret = \"{SECRET}\"\n\
             [[notify.routes]]\nchannels = [\"soc\"]\nmin_severity = \"high\"\n"
        ),
    )
    .unwrap();
    let analyst = token(&data, "soc-analyst", "analyst");
    let mut server = Server::start(&data, Some(&config));
    let silence = client()
        .post(format!("{}/api/v1/silences", server.url))
        .bearer_auth(&analyst)
        .json(&serde_json::json!({"cidr": "198.51.100.0/24", "reason": "our scanner"}))
        .send()
        .unwrap();
    assert_eq!(silence.status(), 200);
    // The rules stage reads silences every 2 s.
    std::thread::sleep(Duration::from_millis(2_500));
    let post = |src: &str| {
        let events: Vec<Value> = (0..10)
            .map(|i| {
                serde_json::json!({"kind": "ssh.login.failed", "summary": format!("f{i}"),
                                        "src_ip": src, "data": {"username": "root"}})
            })
            .collect();
        let answer = client()
            .post(format!("{}/api/v1/events", server.url))
            .bearer_auth(&analyst)
            .json(&events)
            .send()
            .unwrap();
        assert!(answer.status().is_success());
    };
    post("198.51.100.7");
    post("203.0.113.77");
    let entries = wait_entries(&log, 1);
    assert_eq!(entries[0]["verified"], true, "{}", entries[0]);
    assert_eq!(
        entries[0]["body"]["data"]["group"]["src_ip"], "203.0.113.77",
        "{}",
        entries[0]
    );
    let id = entries[0]["body"]["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Nothing more arrives: the silenced source raised no alert.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(wait_entries(&log, 1).len(), 1);
    let cookie = web_login(&server, &data);
    let page = client()
        .get(format!("{}/alerts/{id}", server.url))
        .header("cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let notifications = page.split("<h2>Notifications</h2>").nth(1).unwrap();
    assert!(
        notifications.contains("<td>soc</td>") && notifications.contains("delivered"),
        "{notifications}"
    );
    assert!(server.sigterm().success());
    let _ = receiver.kill();
    let _ = receiver.wait();
}
