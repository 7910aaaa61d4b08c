//! Helpers: real receivers (Python scripts under `receivers/`, independent of
//! Nectar's code) on loopback, a store with alert notices, a notifier with
//! test timing, and waiting for conditions.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nectar_event::{
    Alert, AlertRule, AlertStatus, Observable, ObservableKind, Severity, Timestamp,
};
use nectar_notify::backoff::Backoff;
use nectar_notify::{Notifier, NotifierHandle, NotifyConfig, StatusHandle, Timing};
use nectar_store::{NoticeKind, Store, StoreConfig};
use serde_json::Value;
use uuid::Uuid;

/// A Standard Webhooks secret (32 bytes).
pub const SECRET: &str = "whsec_dGVzdC1zZWNyZXQtdGVzdC1zZWNyZXQtdGVzdC0zMg==";

/// The Python to run receivers with: one that has aiosmtpd if any does
/// (Debian's, where CI installs python3-aiosmtpd, may not be first on the
/// PATH), else the first python3.
pub fn python() -> &'static str {
    static PYTHON: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    PYTHON.get_or_init(|| {
        let imports = |python: &str, module: &str| {
            Command::new(python)
                .args(["-c", &format!("import {module}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        ["python3", "/usr/bin/python3"]
            .into_iter()
            .find(|p| imports(p, "aiosmtpd"))
            .unwrap_or("python3")
    })
}

/// True when the test can run: python3 (and `module`, if given) importable.
/// Missing: skip locally, fail under `CI=true` (.ci/run installs them).
pub fn require(what: &str, module: Option<&str>) -> bool {
    let import = module.map_or("import json".to_owned(), |m| format!("import {m}"));
    let ok = Command::new(python())
        .args(["-c", &import])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    let message = format!(
        "{what}: needs python3{}",
        module.map_or(String::new(), |m| format!(" with {m}"))
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message} (CI=true: .ci/run installs it)");
    }
    eprintln!("skipped: {message}");
    false
}

/// A receiver process; killed on drop.
pub struct Receiver {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    /// Its JSON-lines log.
    pub log: PathBuf,
}

impl Receiver {
    /// Starts `receivers/<script>` with the log path and `args`.
    pub fn start(script: &str, dir: &Path, args: &[&str]) -> Receiver {
        let log = dir.join(format!("{script}-{}.jsonl", Uuid::now_v7().simple()));
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/notify/receivers")
            .join(script);
        let mut child = Command::new(python())
            .arg(path)
            .arg(&log)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{script} did not start: {line:?}"));
        Receiver { child, port, log }
    }

    /// Every logged entry so far.
    pub fn entries(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits until at least `n` entries are logged.
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        wait_until(&format!("{} entries in {}", n, self.log.display()), || {
            self.entries().len() >= n
        })
        .await;
        self.entries()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on (bound and released: a receiver that
/// is down, and may come up on it later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `done` every 20 ms for up to 20 s.
pub async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A store in `dir`.
pub async fn store(dir: &Path) -> Store {
    Store::open(&StoreConfig::new(dir.join("nectar.db")))
        .await
        .unwrap()
}

/// An alert of rule `rule` from `src`.
pub fn alert(rule: &str, src: &str, severity: Severity) -> Alert {
    let at = Timestamp::now();
    Alert {
        id: Uuid::now_v7(),
        rule: AlertRule {
            id: rule.into(),
            title: "SSH brute force".into(),
            level: severity,
            techniques: vec!["T1110.001".into()],
        },
        title: format!("SSH brute force from {src} <script>|x\n"),
        severity,
        status: AlertStatus::New,
        resolution: None,
        assignee: None,
        group: BTreeMap::from([("src_ip".to_owned(), src.to_owned())]),
        fingerprint: format!("{rule}|{src}"),
        count: 5,
        silenced: 0,
        first_seen: at,
        last_seen: at,
        first_event: Uuid::now_v7(),
        last_event: Uuid::now_v7(),
        observables: vec![Observable {
            kind: ObservableKind::Username,
            value: "root\r\n<!channel>".into(),
            ioc: false,
        }],
        previous: None,
        incident: None,
    }
}

/// Raises `alert` through the notice feed, as the rules stage does.
pub async fn raise(store: &Store, alert: &Alert) {
    store
        .push_alert_notice_for_test(NoticeKind::Raised, Timestamp::now(), alert)
        .await
        .unwrap();
}

/// Test timing: look every 20 ms, retry after 100 ms growing to 1 s, rate
/// limits per second instead of per minute.
pub fn timing(max_attempts: u32) -> Timing {
    Timing {
        poll: Duration::from_millis(20),
        backoff: Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            max_attempts,
            max_age: Duration::from_secs(3600),
        },
        rate_window: Duration::from_secs(1),
    }
}

/// Starts a notifier over `store` (its offset comes with the store).
pub async fn start(store: &Store, config: &NotifyConfig, max_attempts: u32) -> NotifierHandle {
    Notifier::new(store.clone(), config, "test-sensor")
        .unwrap()
        .with_timing(timing(max_attempts))
        .spawn(&tokio::runtime::Handle::current())
}

/// Waits until `check` holds for the notifier's counters.
pub async fn wait_status(
    status: &StatusHandle,
    what: &str,
    check: impl Fn(&nectar_notify::NotifyStatus) -> bool,
) {
    wait_until(what, || check(&status.snapshot())).await;
}
