//! Event ingest through the batched writer into SQLite: events per second.
//!
//! Run: `cargo bench -p nectar-store --bench ingest` (EVENTS and BATCH env vars
//! override the defaults, MODES=1 runs only the first configuration, VERBOSE=1 prints
//! each run's transactions). Producers submit batches of `BATCH` events concurrently,
//! as sensors posting to the API do; each run starts from an empty database file and
//! ends when the writer has stopped (rollups flushed and pruned) and, with
//! `jsonl=true`, when the event log (a consumer of the committed stream, as in
//! `serve`) has written every event. Prints the median of five runs.
//!
//! `WRITERS=2` (with `BACKEND=postgres`) splits the events between two stores on
//! one database, each with its own pool and writer, as two `serve` processes.
//!
//! `CATCHUP=1` measures a consumer that is `EVENTS` behind instead: the event log
//! starts over a store that already holds them and catches up from it (events/s),
//! once alone and once while producers store `EVENTS` more (the ingest rate then,
//! against the same ingest with no consumer behind).

use std::time::Instant;

/// The allocator of the `nectar` binary, so the figure is the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use nectar_bus::stream::{
    ConsumerConfig, ConsumerHandle, JsonLines, LineFile, StartAt, spawn_consumer,
};
use nectar_capture::jsonl::JsonlConfig;
use nectar_event::{Event, Kind, Severity};
use nectar_store::{Durability, Store, StoreConfig, WriterConfig, WriterHandle};

fn backend() -> nectar_store::Backend {
    match std::env::var("BACKEND").as_deref() {
        Ok("postgres") => nectar_store::Backend::Postgres,
        _ => nectar_store::Backend::Sqlite,
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Failed SSH logins from 250 sources with credentials drawn like a honeypot sees
/// them: 20 user names, and passwords from a 5,000-word list where a few words are
/// far more common than the rest (u^3 skew). `DISTINCT_PASSWORDS=1` makes every
/// password different instead (the worst case for the dashboard rollups).
fn make_events(n: usize) -> Vec<Event> {
    const USERS: [&str; 20] = [
        "root", "admin", "user", "test", "ubuntu", "pi", "oracle", "postgres", "guest", "ftp",
        "git", "support", "operator", "debian", "centos", "ec2-user", "nagios", "mysql", "www",
        "deploy",
    ];
    let distinct = std::env::var_os("DISTINCT_PASSWORDS").is_some();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|i| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (seed >> 11) as f64 / (1u64 << 53) as f64;
            let password = if distinct {
                format!("pw{i}")
            } else {
                format!("word{}", (5_000.0 * u * u * u) as usize)
            };
            Event::new(
                "bench",
                Kind::SshLoginFailed,
                Severity::Low,
                format!("login {i} refused"),
            )
            .from_addr(
                std::net::IpAddr::from([203, 0, 113, (i % 250) as u8]),
                Some(40_000 + (i % 20_000) as u16),
            )
            .to_addr(std::net::IpAddr::from([127, 0, 0, 1]), Some(2222))
            .with("username", USERS[(seed >> 40) as usize % USERS.len()])
            .with("password", password)
            .with("session", format!("{:016x}", i / 8))
        })
        .collect()
}

/// The event log as `serve` runs it, over `dir/events.jsonl`.
fn event_log(
    dir: &std::path::Path,
    store: &Store,
    writer: &WriterHandle,
    start: StartAt,
) -> ConsumerHandle {
    let log = LineFile::open(
        "event-log",
        JsonlConfig {
            path: dir.join("events.jsonl"),
            max_bytes: 0,
            keep: 0,
        },
        JsonLines,
        start,
    )
    .expect("open log");
    spawn_consumer(
        log,
        store.clone(),
        writer.fanout(),
        ConsumerConfig::default(),
    )
    .expect("consumer")
}

/// Stores `all` from four concurrent producers, like several sensors posting at once.
async fn produce(writer: &WriterHandle, all: Vec<Event>, batch: usize) {
    let mut queues: Vec<Vec<Vec<Event>>> = vec![Vec::new(); 4];
    for (i, b) in all.chunks(batch).enumerate() {
        queues[i % 4].push(b.to_vec());
    }
    let mut producers = Vec::new();
    for queue in queues {
        let writer = writer.clone();
        producers.push(tokio::spawn(async move {
            for b in queue {
                writer.submit(b).await.expect("submit");
            }
        }));
    }
    for p in producers {
        p.await.expect("producer");
    }
}

async fn run(events: usize, batch: usize, durability: Durability, jsonl: bool) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    // BACKEND=postgres: a fresh database on the server NECTAR_TEST_POSTGRES names.
    let db = nectar_store::testing::database_on(backend(), dir.path())
        .await
        .expect("BACKEND=postgres needs NECTAR_TEST_POSTGRES");
    let mut config = db.config.clone();
    config.durability = durability;
    let store = Store::open(&config).await.expect("open store");
    let (writer, task) = WriterHandle::spawn(store.clone(), WriterConfig::default());
    let log = jsonl.then(|| event_log(dir.path(), &store, &writer, StartAt::Latest));
    let all = make_events(events);
    // WRITERS=N (PostgreSQL): N more stores on the same database, each with its
    // own pool and writer, as N `serve` processes sharing it; the events are
    // split among them, each fed by four producers.
    let writers = env_usize("WRITERS", 1).max(1);
    let mut others = Vec::new();
    for _ in 1..writers {
        let other = Store::open(&config).await.expect("open store");
        let (w, t) = WriterHandle::spawn(other.clone(), WriterConfig::default());
        others.push((other, w, t));
    }
    let share = events.div_ceil(writers);
    let mut parts = all.chunks(share).map(<[Event]>::to_vec);
    let mine = parts.next().unwrap_or_default();
    let start = Instant::now();
    let theirs: Vec<_> = others
        .iter()
        .zip(parts)
        .map(|((_, w, _), part)| {
            let w = w.clone();
            tokio::spawn(async move { produce(&w, part, batch).await })
        })
        .collect();
    produce(&writer, mine, batch).await;
    for t in theirs {
        t.await.expect("producers");
    }
    for (other, w, t) in others {
        drop(w);
        t.await.expect("writer");
        other.close().await;
    }
    // Stopping the writer flushes and prunes the dashboard rollups: timed too, so
    // no work is left out of the figure.
    let commits = writer
        .stats()
        .commits
        .load(std::sync::atomic::Ordering::Relaxed);
    drop(writer);
    task.await.expect("writer");
    if let Some(log) = log {
        log.stop(std::time::Duration::from_secs(600)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    if std::env::var_os("VERBOSE").is_some() {
        eprintln!(
            "{events} events in {commits} transactions ({:.0} a transaction), {elapsed:.2} s",
            events as f64 / commits.max(1) as f64
        );
    }
    assert_eq!(
        store
            .count_events(&Default::default())
            .await
            .expect("count"),
        events as i64
    );
    if jsonl {
        let lines = std::fs::read(dir.path().join("events.jsonl")).expect("log");
        assert_eq!(lines.iter().filter(|b| **b == b'\n').count(), events);
    }
    store.close().await;
    events as f64 / elapsed
}

/// A consumer `events` behind: (catch-up alone, catch-up while ingesting, ingest
/// rate meanwhile, ingest rate with no consumer behind), in events/s.
async fn catch_up(events: usize, batch: usize) -> (f64, f64, f64, f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&StoreConfig::new(dir.path().join("nectar.db")))
        .await
        .expect("open store");
    let (writer, task) = WriterHandle::spawn(store.clone(), WriterConfig::default());
    let all = make_events(events * 3);
    produce(&writer, all[..events].to_vec(), batch).await;
    // Ingest alone.
    let start = Instant::now();
    produce(&writer, all[events..events * 2].to_vec(), batch).await;
    let ingest_alone = events as f64 / start.elapsed().as_secs_f64();
    // A consumer 2 x EVENTS behind: first alone...
    let start = Instant::now();
    let log = event_log(dir.path(), &store, &writer, StartAt::Beginning);
    let probe = log.probe();
    let mut first_at = None;
    while probe.status().offset < events as u64 {
        if first_at.is_none() && probe.status().offset > 0 {
            first_at = Some(start.elapsed());
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let alone = events as f64 / start.elapsed().as_secs_f64();
    if std::env::var_os("VERBOSE").is_some() {
        eprintln!(
            "catch-up: first events handled after {first_at:?}, {events} after {:?}",
            start.elapsed()
        );
    }
    // ...then while producers store EVENTS more.
    let start = Instant::now();
    let ingest = produce(&writer, all[events * 2..].to_vec(), batch);
    let watch = async {
        while probe.status().offset < 2 * events as u64 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        start.elapsed().as_secs_f64()
    };
    let (ingest_secs, caught_secs) = tokio::join!(
        async {
            ingest.await;
            start.elapsed().as_secs_f64()
        },
        watch
    );
    drop(writer);
    task.await.expect("writer");
    log.stop(std::time::Duration::from_secs(600)).await;
    store.close().await;
    (
        alone,
        events as f64 / caught_secs,
        events as f64 / ingest_secs,
        ingest_alone,
    )
}

fn main() {
    let events = env_usize("EVENTS", 200_000);
    let batch = env_usize("BATCH", 1_000);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    if std::env::var_os("CATCHUP").is_some() {
        let mut runs: Vec<(f64, f64, f64, f64)> = (0..3)
            .map(|_| runtime.block_on(catch_up(events, batch)))
            .collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (alone, during, ingest_with, ingest_without) in runs {
            println!(
                "catch-up events={events}: alone {alone:.0} events/s, while ingesting {during:.0} events/s; ingest {ingest_with:.0} events/s with the consumer behind, {ingest_without:.0} without ({:+.1}%)",
                (ingest_with / ingest_without - 1.0) * 100.0
            );
        }
        return;
    }
    // MODES=1 runs only the first (normal durability, no JSON lines).
    let modes = env_usize("MODES", 3);
    for (durability, jsonl) in [
        (Durability::Normal, false),
        (Durability::Normal, true),
        (Durability::Full, true),
    ]
    .into_iter()
    .take(modes)
    {
        let mut rates: Vec<f64> = (0..5)
            .map(|_| runtime.block_on(run(events, batch, durability, jsonl)))
            .collect();
        rates.sort_by(f64::total_cmp);
        println!(
            "ingest backend={:?} writers={} durability={durability:?} jsonl={jsonl} events={events} batch={batch}: median {:.0} events/s (min {:.0}, max {:.0})",
            backend(),
            env_usize("WRITERS", 1),
            rates[2],
            rates[0],
            rates[4]
        );
    }
}
