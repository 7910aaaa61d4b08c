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
/// The lease a pass holds (see `nectar_store::Store::try_lease`).
const RETENTION: &str = "retention";
/// How often a pass runs (the first a minute after start).
const EVERY: Duration = Duration::from_secs(3_600);
const FIRST: Duration = Duration::from_secs(60);

/// Starts the task when anything is to be kept for a limited time or size.
pub fn spawn(
    store: Store,
    section: &nectar_store::StoreSection,
    data_dir: &std::path::Path,
) -> Option<tokio::task::JoinHandle<()>> {
    let days = section.retention_days;
    let files = [
        (
            data_dir.join("recordings"),
            section.recordings_days,
            section.recordings_max_bytes,
        ),
        (
            data_dir.join("uploads"),
            section.uploads_days,
            section.uploads_max_bytes,
        ),
    ];
    if days == 0 && files.iter().all(|(_, d, b)| *d == 0 && *b == 0) {
        return None;
    }
    Some(tokio::spawn(async move {
        tokio::time::sleep(FIRST).await;
        loop {
            for (dir, days, max_bytes) in files.clone() {
                let walked = dir.clone();
                let removed =
                    tokio::task::spawn_blocking(move || prune_files(&walked, days, max_bytes))
                        .await
                        .unwrap_or_default();
                if removed.files > 0 {
                    info!(
                        dir = %dir.display(),
                        files = removed.files,
                        bytes = removed.bytes,
                        "Retention removed old files."
                    );
                }
            }
            if days == 0 {
                tokio::time::sleep(EVERY).await;
                continue;
            }
            // Several `serve` processes on one database: the one holding the
            // `retention` lease prunes events this hour (files are each
            // process's own, above).
            let lease = match store.try_lease(RETENTION).await {
                Ok(Some(lease)) => lease,
                Ok(None) => {
                    tokio::time::sleep(EVERY).await;
                    continue;
                }
                Err(err) => {
                    warn!(error = %err, "Retention could not claim its lease.");
                    tokio::time::sleep(EVERY).await;
                    continue;
                }
            };
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
            drop(lease);
            tokio::time::sleep(EVERY).await;
        }
    }))
}

/// What a pass over a directory of files removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FilesRemoved {
    pub files: u64,
    pub bytes: u64,
}

/// Most files looked at in one pass (a bound on the walk's memory and time).
const MAX_FILES: usize = 1_000_000;

/// Removes the files under `dir` last modified more than `days` ago (0: none
/// for age), then the oldest until the rest hold at most `max_bytes` (0: no
/// limit). Empty directories left behind (a day's recordings) are removed too.
pub fn prune_files(dir: &std::path::Path, days: u32, max_bytes: u64) -> FilesRemoved {
    let mut removed = FilesRemoved::default();
    if days == 0 && max_bytes == 0 {
        return removed;
    }
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    walk(dir, &mut files, &mut dirs);
    // Oldest first.
    files.sort_by_key(|(_, modified, _)| *modified);
    let cutoff = (days > 0).then(|| {
        std::time::SystemTime::now()
            .checked_sub(Duration::from_secs(u64::from(days) * 86_400))
            .unwrap_or(std::time::UNIX_EPOCH)
    });
    let mut total: u64 = files.iter().map(|(_, _, len)| len).sum();
    for (path, modified, len) in &files {
        let too_old = cutoff.is_some_and(|c| *modified < c);
        let too_much = max_bytes > 0 && total > max_bytes;
        if !(too_old || too_much) {
            // Sorted oldest first: nothing later is older, and the total fits.
            break;
        }
        if std::fs::remove_file(path).is_ok() {
            removed.files += 1;
            removed.bytes += len;
            total -= len;
        }
    }
    // Deepest first; a directory that still holds files stays (remove_dir fails).
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for d in dirs {
        let _ = std::fs::remove_dir(d);
    }
    removed
}

fn walk(
    dir: &std::path::Path,
    files: &mut Vec<(std::path::PathBuf, std::time::SystemTime, u64)>,
    dirs: &mut Vec<std::path::PathBuf>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if files.len() >= MAX_FILES {
            return;
        }
        // Symbolic links are neither followed nor removed.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            walk(&path, files, dirs);
            dirs.push(path);
        } else if kind.is_file()
            && let Ok(meta) = entry.metadata()
        {
            let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
            files.push((path, modified, meta.len()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &std::path::Path, bytes: usize, age_days: u64) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, vec![b'x'; bytes]).unwrap();
        let when = std::time::SystemTime::now() - Duration::from_secs(age_days * 86_400 + 60);
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(when).unwrap();
    }

    #[test]
    fn old_files_go_then_the_oldest_until_the_rest_fit() {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().join("recordings");
        file(&rec.join("2026/01/01/a.cast"), 100, 40);
        file(&rec.join("2026/11/01/b.cast"), 100, 20);
        file(&rec.join("2026/11/20/c.cast"), 100, 10);
        file(&rec.join("2026/12/06/d.cast"), 100, 1);
        // Nothing asked: nothing removed.
        assert_eq!(prune_files(&rec, 0, 0), FilesRemoved::default());
        // Older than 30 days: a.cast, and its emptied day directories.
        assert_eq!(
            prune_files(&rec, 30, 0),
            FilesRemoved {
                files: 1,
                bytes: 100
            }
        );
        assert!(!rec.join("2026/01").exists());
        // At most 150 bytes: b and c go, the newest stays.
        assert_eq!(
            prune_files(&rec, 30, 150),
            FilesRemoved {
                files: 2,
                bytes: 200
            }
        );
        assert!(rec.join("2026/12/06/d.cast").exists());
        assert!(!rec.join("2026/11").exists());
        // A missing directory is nothing to do.
        assert_eq!(
            prune_files(&dir.path().join("none"), 1, 1),
            FilesRemoved::default()
        );
    }
}
