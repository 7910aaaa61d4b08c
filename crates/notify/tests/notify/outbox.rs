//! The outbox under failure: a receiver that is down, one that asks to wait
//! (429 `Retry-After`), one that keeps failing or refuses for good, and a
//! notifier restarted over the same store.

use std::collections::HashMap;
use std::time::Duration;

use nectar_event::Severity;
use nectar_event::config::Sensitive;
use nectar_notify::{ChannelConfig, ChannelType, NotifyConfig, RouteConfig};
use nectar_store::DeliveryStatus;
use serde_json::Value;

use crate::util::*;

fn webhook_config(port: u16) -> NotifyConfig {
    let mut c = ChannelConfig::new("hook", ChannelType::Webhook);
    c.url = Sensitive::new(format!("http://127.0.0.1:{port}/"));
    c.secret = Sensitive::new(SECRET);
    NotifyConfig {
        channels: vec![c],
        routes: vec![RouteConfig::to(&["hook"])],
        ..NotifyConfig::default()
    }
}

/// Accepted requests per webhook-id (a receiver that dedupes would keep one).
fn accepted(entries: &[Value]) -> HashMap<String, usize> {
    let mut by_id = HashMap::new();
    for e in entries.iter().filter(|e| e["status"] == 200) {
        assert_eq!(e["verified"], true, "{e}");
        *by_id
            .entry(e["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    by_id
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_every_message_once_when_it_is_back() {
    if !require("webhook receiver", None) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let store = store(dir.path()).await;
    let notifier = start(&store, &webhook_config(port), 20).await;
    for i in 0..5 {
        raise(
            &store,
            &alert("ssh-brute", &format!("198.51.100.{i}"), Severity::High),
        )
        .await;
    }
    let status = notifier.status();
    wait_status(&status, "failed attempts", |s| s.retried >= 5).await;
    assert_eq!(status.snapshot().delivered, 0);

    let receiver = Receiver::start(
        "webhook.py",
        dir.path(),
        &["--port", &port.to_string(), "--secret", SECRET],
    );
    receiver.wait_for(5).await;
    wait_status(&status, "5 delivered", |s| s.delivered == 5).await;
    // Nothing more arrives: no retry of a delivered message.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let entries = receiver.entries();
    let by_id = accepted(&entries);
    assert_eq!(entries.len(), 5, "{entries:?}");
    assert_eq!(by_id.len(), 5);
    let s = status.snapshot();
    assert_eq!((s.delivered, s.dead, s.pending), (5, 0, 0));
    notifier.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    if !require("webhook receiver", None) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(
        "webhook.py",
        dir.path(),
        &["--secret", SECRET, "--script", "429:1"],
    );
    let store = store(dir.path()).await;
    let notifier = start(&store, &webhook_config(receiver.port), 10).await;
    let a = alert("ssh-brute", "198.51.100.9", Severity::High);
    raise(&store, &a).await;
    let entries = receiver.wait_for(2).await;
    assert_eq!(entries[0]["status"], 429);
    assert_eq!(entries[1]["status"], 200);
    // The same webhook-id on the retry, after the second asked (the schedule
    // alone would have retried after about 100 ms).
    assert_eq!(entries[0]["id"], entries[1]["id"]);
    let waited = entries[1]["time"].as_f64().unwrap() - entries[0]["time"].as_f64().unwrap();
    assert!(waited >= 0.95, "retried after {waited} s");
    let status = notifier.status();
    wait_status(&status, "delivered", |s| s.delivered == 1).await;
    let d = store.notify_deliveries_of(a.id).await.unwrap();
    assert_eq!((d[0].status, d[0].attempts), (DeliveryStatus::Delivered, 2));
    notifier.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn after_the_bound_a_delivery_is_dead_listed_and_can_be_retried() {
    if !require("webhook receiver", None) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Three failures use up the three attempts; the retry by hand succeeds.
    let receiver = Receiver::start(
        "webhook.py",
        dir.path(),
        &["--secret", SECRET, "--script", "500,503,500"],
    );
    let store = store(dir.path()).await;
    let notifier = start(&store, &webhook_config(receiver.port), 3).await;
    let a = alert("ssh-brute", "198.51.100.20", Severity::Critical);
    raise(&store, &a).await;
    let status = notifier.status();
    wait_status(&status, "dead", |s| s.dead == 1).await;
    let dead = store.notify_dead(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].alert_id, dead[0].attempts), (a.id, 3));
    let error = dead[0].last_error.as_deref().unwrap();
    assert!(
        error.contains("HTTP 500") && error.contains("gave up after 3 attempts"),
        "{error}"
    );
    assert_eq!(status.snapshot().channels[0].dead, 1);

    store.notify_retry(dead[0].id).await.unwrap();
    notifier.wake();
    wait_status(&status, "delivered", |s| s.delivered == 1).await;
    assert!(store.notify_dead(10).await.unwrap().is_empty());
    assert!(
        store.notify_retry(dead[0].id).await.is_err(),
        "only a dead delivery can be retried"
    );
    let entries = receiver.entries();
    assert_eq!(entries.len(), 4);
    assert_eq!(accepted(&entries).len(), 1);
    notifier.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_refusal_for_good_is_dead_at_once() {
    if !require("webhook receiver", None) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(
        "webhook.py",
        dir.path(),
        &["--secret", SECRET, "--script", "410"],
    );
    let store = store(dir.path()).await;
    let notifier = start(&store, &webhook_config(receiver.port), 10).await;
    raise(&store, &alert("ssh-brute", "198.51.100.30", Severity::High)).await;
    let status = notifier.status();
    wait_status(&status, "dead", |s| s.dead == 1).await;
    let dead = store.notify_dead(10).await.unwrap();
    assert_eq!(dead[0].attempts, 1);
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("refused: HTTP 410")
    );
    notifier.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn an_alert_raised_before_the_first_start_is_announced() {
    if !require("webhook receiver", None) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start("webhook.py", dir.path(), &["--secret", SECRET]);
    let store = store(dir.path()).await;
    let early = alert("ssh-brute", "192.0.2.99", Severity::High);
    raise(&store, &early).await;
    let notifier = start(&store, &webhook_config(receiver.port), 10).await;
    let entries = receiver.wait_for(1).await;
    assert_eq!(entries[0]["body"]["data"]["id"], early.id.to_string());
    notifier.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_restarted_notifier_resumes_without_loss_or_duplicates() {
    if !require("webhook receiver", None) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = webhook_config(port);
    let store = store(dir.path()).await;

    // First life: five alerts queued, none delivered (the receiver is down).
    let first = start(&store, &config, 20).await;
    let mut alerts = Vec::new();
    for i in 0..5 {
        let a = alert("ssh-brute", &format!("192.0.2.{i}"), Severity::High);
        raise(&store, &a).await;
        alerts.push(a);
    }
    let status = first.status();
    wait_status(&status, "5 queued", |s| s.queued == 5).await;
    first.stop(Duration::from_secs(5)).await;

    // While it is stopped, five more are raised.
    for i in 5..10 {
        let a = alert("ssh-brute", &format!("192.0.2.{i}"), Severity::High);
        raise(&store, &a).await;
        alerts.push(a);
    }
    let receiver = Receiver::start(
        "webhook.py",
        dir.path(),
        &["--port", &port.to_string(), "--secret", SECRET],
    );
    let second = start(&store, &config, 20).await;
    receiver.wait_for(10).await;
    let status = second.status();
    wait_status(&status, "10 delivered", |s| s.delivered == 10).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let entries = receiver.entries();
    assert_eq!(entries.len(), 10, "{entries:?}");
    let by_alert: HashMap<String, usize> = entries.iter().fold(HashMap::new(), |mut m, e| {
        *m.entry(e["body"]["data"]["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
        m
    });
    for a in &alerts {
        assert_eq!(by_alert.get(&a.id.to_string()), Some(&1), "alert {}", a.id);
        let d = store.notify_deliveries_of(a.id).await.unwrap();
        assert_eq!(d.len(), 1, "one outbox row per alert and channel");
    }
    assert_eq!(
        store.notify_offset().await.unwrap(),
        store.last_alert_notice().await.unwrap().into()
    );
    second.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_digest_gathers_alerts_into_one_message_across_a_restart() {
    if !require("webhook receiver", None) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start("webhook.py", dir.path(), &["--secret", SECRET]);
    let mut config = webhook_config(receiver.port);
    config.routes[0].digest = 2;
    let store = store(dir.path()).await;
    let first = start(&store, &config, 10).await;
    let mut alerts = Vec::new();
    for i in 0..3 {
        let a = alert("ssh-brute", &format!("192.0.2.{i}"), Severity::Medium);
        raise(&store, &a).await;
        alerts.push(a);
    }
    let status = first.status();
    wait_status(&status, "3 gathered", |s| s.gathered == 3).await;
    first.stop(Duration::from_secs(5)).await;
    assert!(
        receiver.entries().is_empty(),
        "sent before the digest was due"
    );

    let second = start(&store, &config, 10).await;
    let entries = receiver.wait_for(1).await;
    let body = &entries[0]["body"];
    assert_eq!(body["type"], "alert.digest");
    assert_eq!(body["data"]["count"], 3);
    assert_eq!(body["data"]["alerts"].as_array().unwrap().len(), 3);
    for a in &alerts {
        let d = store.notify_deliveries_of(a.id).await.unwrap();
        assert_eq!(d.len(), 1);
        assert!(d[0].digest);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.entries().len(), 1);
    second.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn over_the_rate_limit_alerts_arrive_as_one_summary() {
    if !require("webhook receiver", None) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start("webhook.py", dir.path(), &["--secret", SECRET]);
    let mut config = webhook_config(receiver.port);
    config.routes[0].rate_limit = 2;
    let store = store(dir.path()).await;
    let notifier = start(&store, &config, 10).await;
    let mut alerts = Vec::new();
    for i in 0..5 {
        let a = alert("ssh-brute", &format!("192.0.2.{i}"), Severity::High);
        raise(&store, &a).await;
        alerts.push(a);
    }
    // Two messages in the window (the test's window is a second), then one
    // summary of the other three when it ends.
    let entries = receiver.wait_for(3).await;
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["body"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["alert.raised", "alert.raised", "alert.digest"]);
    let summary = &entries[2]["body"]["data"];
    assert_eq!(
        (summary["reason"].as_str(), summary["count"].as_u64()),
        (Some("overflow"), Some(3))
    );
    let status = notifier.status();
    wait_status(&status, "3 delivered", |s| s.delivered == 3).await;
    assert_eq!(status.snapshot().gathered, 3);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.entries().len(), 3);
    for a in &alerts {
        assert_eq!(store.notify_deliveries_of(a.id).await.unwrap().len(), 1);
    }
    notifier.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_receiver_that_never_answers_holds_back_only_its_own_channel() {
    if !require("webhook receiver", None) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Connections complete in the kernel's backlog, requests are never read.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let fast = Receiver::start("webhook.py", dir.path(), &["--secret", SECRET]);
    let mut config = webhook_config(fast.port);
    let mut slow = ChannelConfig::new("slow", ChannelType::Slack);
    slow.url = Sensitive::new(format!("http://{}/", silent.local_addr().unwrap()));
    slow.timeout_seconds = 10;
    config.channels.push(slow);
    config.routes = vec![RouteConfig::to(&["slow", "hook"])];
    let store = store(dir.path()).await;
    let notifier = start(&store, &config, 20).await;
    for i in 0..6 {
        raise(
            &store,
            &alert("ssh-brute", &format!("192.0.2.{i}"), Severity::High),
        )
        .await;
    }
    fast.wait_for(6).await;
    // The receiver has the sixth request a moment before the notifier has
    // recorded its answer: wait for the record (bounded), then look.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while notifier.status().snapshot().channels[0].delivered < 6
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Every message reached the other receiver while no attempt at the
    // silent one had even ended (each waits out its 10 s timeout), and the
    // silent channel holds only its share of the attempts.
    let s = notifier.status().snapshot();
    assert_eq!(s.queued, 12);
    let slow = &s.channels[1];
    assert_eq!(
        (slow.failed, slow.delivered, slow.pending),
        (0, 0, 6),
        "{s:?}"
    );
    assert_eq!(s.in_flight, 2, "{s:?}");
    let stopping = std::time::Instant::now();
    notifier.stop(Duration::from_millis(100)).await;
    // Stopping does not wait for the hung attempts beyond its grace.
    assert!(stopping.elapsed() < Duration::from_secs(5));
    drop(silent);
}

#[tokio::test]
async fn an_unreadable_notice_is_stepped_over() {
    if !require("webhook receiver", Some("sqlite3")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start("webhook.py", dir.path(), &["--secret", SECRET]);
    let store = store(dir.path()).await;
    let notifier = start(&store, &webhook_config(receiver.port), 10).await;
    let before = alert("ssh-brute", "192.0.2.1", Severity::High);
    raise(&store, &before).await;
    // A row the notifier cannot parse, written by another program.
    let inserted = std::process::Command::new(python())
        .args([
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=10); \
             c.execute(\"INSERT INTO alert_notices (alert_id, kind, at_us, alert) \
             VALUES (x'00', 'raised', 0, 'not json')\"); c.commit()",
        ])
        .arg(dir.path().join("nectar.db"))
        .status()
        .unwrap();
    assert!(inserted.success());
    let after = alert("ssh-brute", "192.0.2.2", Severity::High);
    raise(&store, &after).await;
    let entries = receiver.wait_for(2).await;
    let mut ids: Vec<&str> = entries
        .iter()
        .map(|e| e["body"]["data"]["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, [before.id.to_string(), after.id.to_string()]);
    let status = notifier.status();
    wait_status(&status, "one dropped", |s| s.dropped == 1).await;
    notifier.stop(Duration::from_secs(5)).await;
}
