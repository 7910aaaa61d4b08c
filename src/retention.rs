//! `[store] retention_days`: the hourly task of `serve` that deletes older
//! events (see `nectar_store::retention`), and says what it removed.

use std::time::Duration;

use nectar_event::Timestamp;
use nectar_store::Store;
use tracing::{info, warn};

/// Events deleted per transaction: on SQLite ingest waits for at most one such
/// transaction (a few milliseconds).
const BATCH: usize = 5_000;
/// Rest between two batches, so that ingest keeps its pace during a large cleanup.
const PAUSE: Duration = Duration::from_millis(20);
/// How often a pass runs (the first a minute after start).
const EVERY: Duration = Duration::from_secs(3_600);
const FIRST: Duration = Duration::from_secs(60);

/// Starts the task when `days` is not 0.
pub fn spawn(store: Store, days: u32) -> Option<tokio::task::JoinHandle<()>> {
    if days == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        tokio::time::sleep(FIRST).await;
        loop {
            let now = Timestamp::now().as_micros();
            let cutoff = now.saturating_sub(i64::from(days) * 86_400_000_000);
            if let Some(before) = Timestamp::from_micros(cutoff) {
                match store.prune(before, BATCH, PAUSE).await {
                    Ok(report) if report.events > 0 || report.sessions > 0 => info!(
                        events = report.events,
                        sessions = report.sessions,
                        batches = report.batches,
                        before = %before,
                        "Retention removed old events."
                    ),
                    Ok(_) => {}
                    // Tried again at the next pass; nothing else depends on it.
                    Err(err) => warn!(error = %err, "Retention could not remove old events."),
                }
            }
            tokio::time::sleep(EVERY).await;
        }
    }))
}
