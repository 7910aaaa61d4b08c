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

/// mimalloc's `mi_option_purge_delay` and `mi_option_allow_thp` (their
/// numbers in the v3 header the `mimalloc` crate builds by default).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// For a process that should stay small (`nectar sensor`): no transparent
/// huge pages, and memory freed goes back to the system at once.
///
/// mimalloc asks for huge pages on its arenas (`madvise(MADV_HUGEPAGE)`); with
/// the common `madvise` THP setting each touched 2 MiB of an arena is then
/// resident whole, and it purges freed memory only after a delay. Measured on
/// a loaded sensor (BENCHMARKS.md, "A sensor's memory, where it went"): the
/// heap's share of RSS went from 31 to 8 MiB idle and from 89 to 30 MiB at
/// peak (with [`restart_small`], which sets them from the start). Costs
/// some speed (more page faults and `madvise` calls), which a sensor can
/// spare; `serve` keeps the defaults.
pub fn keep_small() {
    // SAFETY: `prctl(PR_SET_THP_DISABLE)` takes no pointers and only sets a
    // flag of this process (huge pages for mappings faulted from now on);
    // `mi_option_set` takes an option number and a value, and mimalloc
    // documents it as callable at any time.
    unsafe {
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
}

/// [`keep_small`] from the process's first allocation: mimalloc reads its
/// options from the environment when it starts (before `main`), and by then
/// it has already asked for huge pages on its first arena. So `nectar
/// sensor` runs itself again (the same process id, arguments and
/// descriptors: `execve`) with `MIMALLOC_ALLOW_THP=0` and
/// `MIMALLOC_PURGE_DELAY=0`, unless those are set (by this or by the user).
/// Returns only if that could not be done; [`keep_small`] then does what it
/// can.
pub fn restart_small() {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        const ALLOW_THP: &str = "MIMALLOC_ALLOW_THP";
        if std::env::var_os(ALLOW_THP).is_some() {
            return;
        }
        let mut args = std::env::args_os();
        let arg0 = args.next().unwrap_or_default();
        let mut command = std::process::Command::new("/proc/self/exe");
        command.arg0(arg0).args(args).env(ALLOW_THP, "0");
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            command.env("MIMALLOC_PURGE_DELAY", "0");
        }
        let error = command.exec();
        tracing::debug!(%error, "Could not restart with a smaller allocator footprint.");
    }
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
