//! Spool writes: events per second appended (encoded, compressed, committed
//! with `synchronous = FULL`) in batches of `BATCH` (default 1,000), `EVENTS`
//! in all (default 200,000); median of five runs, each into a fresh spool.
//!
//! Run: `cargo bench -p nectar-spool --bench spool`.

use std::time::Instant;

/// The allocator of the `nectar` binary, so the figure is the sensor's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use nectar_event::{Event, Kind, Severity};
use nectar_spool::{Spool, SpoolConfig};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let events = env("EVENTS", 200_000);
    let batch = env("BATCH", 1_000).max(1);
    let all: Vec<Event> = (0..events)
        .map(|i| {
            let mut e = Event::new(
                "sensor-1",
                Kind::SshLoginFailed,
                Severity::Low,
                "failed login",
            )
            .with("username", ["root", "admin", "pi"][i % 3])
            .with("password", format!("word{}", i % 5_000))
            .with("session", format!("s{}", i / 8));
            e.src_ip = Some(std::net::IpAddr::from([203, 0, 113, (i % 250) as u8]));
            e
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut rates = Vec::new();
    for _ in 0..5 {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let rate = runtime.block_on(async {
            let spool = Spool::open(&dir.path().join("spool.db"), SpoolConfig::default())
                .await
                .expect("the spool opens");
            let start = Instant::now();
            for chunk in all.chunks(batch) {
                spool.append(chunk).await.expect("append");
            }
            let rate = events as f64 / start.elapsed().as_secs_f64();
            let stats = spool.stats().await.expect("stats");
            eprintln!(
                "  run: {rate:.0} events/s, {} batches, {} bytes ({:.0} bytes/event)",
                stats.batches,
                stats.bytes,
                stats.bytes as f64 / events as f64
            );
            spool.close().await;
            rate
        });
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "spool: {events} events in batches of {batch}: median {:.0} events/s",
        rates[rates.len() / 2]
    );
}
