//! Giving memory back after a burst. mimalloc keeps pages that a burst (a large
//! ingest, an export, many sessions at once) freed, for reuse; without a nudge
//! the server's RSS stays at the burst's peak. `serve` asks it every few seconds
//! to return what it holds free (`mi_collect`), which costs little when there is
//! nothing to return.
#![allow(unsafe_code)]

use std::time::Duration;

/// How often `serve` asks the allocator to give free memory back.
pub const COLLECT_EVERY: Duration = Duration::from_secs(5);

/// Returns the memory the allocator holds free to the operating system.
pub fn collect() {
    // SAFETY: `mi_collect` takes no pointers and no locks the caller holds; the
    // allocator documents it as callable from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// Calls [`collect`] every [`COLLECT_EVERY`] on a blocking thread, until the
/// runtime stops.
pub fn spawn_collector() -> tokio::task::JoinHandle<()> {
    tokio::spawn(async {
        let mut tick = tokio::time::interval(COLLECT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if tokio::task::spawn_blocking(collect).await.is_err() {
                return;
            }
        }
    })
}
