//! Ranked values for the dashboard's top lists (source addresses, user names,
//! passwords, commands): a bounded heavy-hitter summary per field and bucket (hour
//! and day), kept in memory by the writer and written whole, about once a second.
//!
//! Why not upsert every value into the table: a brute force makes nearly every
//! password new, so the table grew by a row per event, the dashboard summed them
//! all (a week took 0.5 s), and pruning the tail afterwards deleted rows the next
//! flush re-inserted. A summary holds at most `2 × KEEP_IN_MEMORY` values; only its
//! `KEEP_VALUES_PER_BUCKET` heaviest reach the table, so what the dashboard reads is
//! bounded by the number of buckets in its range, whatever the traffic.
//!
//! The lists are approximate the way every bounded top-k is: a value evicted while
//! rare and frequent later undercounts by at most the count it had when evicted
//! (the summary's `floor`). They are not transactional with the events either: up
//! to a second of them is lost in a crash. The counts by kind, severity and time
//! (`rollup.rs`) are exact and transactional.

use crate::db::{self};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::{Store, StoreError};

/// Values of each field and bucket kept in the table (and shown at most).
pub const KEEP_VALUES_PER_BUCKET: usize = 200;
/// Values a summary keeps in memory after compaction; it compacts at twice this.
/// Five times what is stored, so a value just below the stored cut is not lost.
const KEEP_IN_MEMORY: usize = 1_000;
/// Summaries kept in memory at most (each up to `2 × KEEP_IN_MEMORY` values);
/// beyond, the least recently used written ones are dropped (and read back from
/// the table if their bucket gets values again).
const MAX_SUMMARIES: usize = 256;
/// Summaries written per flush at most, oldest change first: loading a week of
/// history dirties hundreds of buckets at once, and rewriting them all every
/// second would starve ingest. The current buckets are written every flush.
const MAX_WRITES_PER_FLUSH: usize = 32;
/// A written summary untouched this long leaves memory.
const IDLE_EVICT: Duration = Duration::from_secs(300);

/// Bucket widths of the ranked values, by their resolution code in the table.
pub(crate) const HOUR: (i16, i64) = (2, 3_600_000_000);
pub(crate) const DAY: (i16, i64) = (3, 86_400_000_000);

/// A summary's identity: resolution, field code, bucket start (µs).
type SummaryKey = (i16, i16, i64);

/// The heaviest values of one field in one bucket.
#[derive(Default)]
struct Summary {
    counts: HashMap<String, i64>,
    /// Highest count evicted so far: any value's count may be low by up to this.
    floor: i64,
    /// Merged with the rows already in the table (which may come from before a
    /// restart or an eviction) before its first write.
    loaded: bool,
    dirty_since: Option<Instant>,
    touched: Option<Instant>,
}

impl Summary {
    fn add(&mut self, value: &str, n: i64, now: Instant) {
        match self.counts.get_mut(value) {
            Some(count) => *count += n,
            None => {
                self.counts.insert(value.to_owned(), n);
                if self.counts.len() >= 2 * KEEP_IN_MEMORY {
                    self.compact(KEEP_IN_MEMORY);
                }
            }
        }
        self.dirty_since.get_or_insert(now);
        self.touched = Some(now);
    }

    /// Keeps the `keep` heaviest values (ties broken by value, so results repeat).
    fn compact(&mut self, keep: usize) {
        if self.counts.len() <= keep {
            return;
        }
        let mut all: Vec<(String, i64)> = self.counts.drain().collect();
        all.select_nth_unstable_by(keep, |a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        for (_, n) in &all[keep..] {
            self.floor = self.floor.max(*n);
        }
        all.truncate(keep);
        self.counts.extend(all);
    }

    /// The heaviest `KEEP_VALUES_PER_BUCKET` values, heaviest first.
    fn top(&self) -> Vec<(&str, i64)> {
        let mut top: Vec<(&str, i64)> = self.counts.iter().map(|(v, n)| (v.as_str(), *n)).collect();
        top.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        top.truncate(KEEP_VALUES_PER_BUCKET);
        top
    }
}

/// Every summary the writer keeps, and when they were last written.
#[derive(Default)]
pub(crate) struct RankedValues {
    summaries: HashMap<SummaryKey, Summary>,
    /// Reused to format addresses without allocating per event.
    scratch: String,
}

impl RankedValues {
    /// Counts `n` occurrences of `value` of `field` at `time_us` (µs), in its hour
    /// and its day.
    pub(crate) fn add(&mut self, field: i16, time_us: i64, value: &str, n: i64, now: Instant) {
        for (resolution, width) in [HOUR, DAY] {
            let bucket = time_us.div_euclid(width) * width;
            self.summaries
                .entry((resolution, field, bucket))
                .or_default()
                .add(value, n, now);
        }
    }

    /// [`RankedValues::add`] for a source address (field 1).
    pub(crate) fn add_source(&mut self, time_us: i64, ip: IpAddr, n: i64, now: Instant) {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        let _ = write!(text, "{ip}");
        self.add(1, time_us, &text, n, now);
        self.scratch = text;
    }

    /// Whether some summary has values not yet written.
    pub(crate) fn is_dirty(&self) -> bool {
        self.summaries.values().any(|s| s.dirty_since.is_some())
    }

    /// Writes the changed summaries (all of them at `shutdown`, otherwise the
    /// `MAX_WRITES_PER_FLUSH` changed longest ago) in one transaction, each as its
    /// heaviest values replacing the bucket's rows. Then drops idle written ones.
    pub(crate) async fn flush(&mut self, store: &Store, shutdown: bool) -> Result<(), StoreError> {
        let mut due: Vec<(Instant, SummaryKey)> = self
            .summaries
            .iter()
            .filter_map(|(key, s)| s.dirty_since.map(|t| (t, *key)))
            .collect();
        if !shutdown && due.len() > MAX_WRITES_PER_FLUSH {
            due.select_nth_unstable(MAX_WRITES_PER_FLUSH);
            due.truncate(MAX_WRITES_PER_FLUSH);
        }
        let mut tx = store.db.begin().await?;
        for (_, key) in &due {
            let (resolution, field, bucket) = *key;
            let Some(summary) = self.summaries.get_mut(key) else {
                continue;
            };
            if !summary.loaded {
                // Rows written before this summary existed (an earlier run, or an
                // eviction): their counts continue here.
                let rows = db::query(
                    "SELECT value, n FROM rollup_values WHERE resolution = ? AND field = ? AND bucket_us = ?",
                )
                .bind(resolution)
                .bind(field)
                .bind(bucket)
                .fetch_all(tx.exec())
                .await?;
                for row in &rows {
                    let value: String = row.get(0)?;
                    let n: i64 = row.get(1)?;
                    *summary.counts.entry(value).or_default() += n;
                }
                summary.loaded = true;
                summary.compact(KEEP_IN_MEMORY);
            }
            db::query(
                "DELETE FROM rollup_values WHERE resolution = ? AND field = ? AND bucket_us = ?",
            )
            .bind(resolution)
            .bind(field)
            .bind(bucket)
            .execute(tx.exec())
            .await?;
            let top = summary.top();
            if !top.is_empty() {
                let mut query = db::builder(
                    "INSERT INTO rollup_values (resolution, field, bucket_us, value, n) ",
                );
                query.push_values(&top, |mut row, (value, n)| {
                    row.push_bind(resolution)
                        .push_bind(field)
                        .push_bind(bucket)
                        .push_bind(*value)
                        .push_bind(*n);
                });
                query.execute(tx.exec()).await?;
            }
        }
        tx.commit().await?;
        for (_, key) in &due {
            if let Some(summary) = self.summaries.get_mut(key) {
                summary.dirty_since = None;
            }
        }
        self.evict();
        Ok(())
    }

    /// Drops written summaries idle for `IDLE_EVICT`, and the least recently used
    /// written ones while there are more than `MAX_SUMMARIES`.
    fn evict(&mut self) {
        let now = Instant::now();
        self.summaries.retain(|_, s| {
            s.dirty_since.is_some() || s.touched.is_none_or(|t| now.duration_since(t) < IDLE_EVICT)
        });
        if self.summaries.len() <= MAX_SUMMARIES {
            return;
        }
        let mut clean: Vec<(Option<Instant>, SummaryKey)> = self
            .summaries
            .iter()
            .filter(|(_, s)| s.dirty_since.is_none())
            .map(|(key, s)| (s.touched, *key))
            .collect();
        clean.sort_unstable();
        let excess = self.summaries.len() - MAX_SUMMARIES;
        for (_, key) in clean.into_iter().take(excess) {
            self.summaries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_keeps_the_heavy_hitters_among_many_one_offs() {
        let now = Instant::now();
        let mut summary = Summary::default();
        for i in 0..100_000 {
            summary.add(&format!("once{i}"), 1, now);
            if i % 10 == 0 {
                summary.add("123456", 1, now);
            }
            if i % 20 == 0 {
                summary.add("password", 1, now);
            }
        }
        assert!(summary.counts.len() < 2 * KEEP_IN_MEMORY);
        let top = summary.top();
        assert_eq!(top.len(), KEEP_VALUES_PER_BUCKET);
        assert_eq!(top[0], ("123456", 10_000));
        assert_eq!(top[1], ("password", 5_000));
        assert_eq!(summary.floor, 1);
    }

    #[test]
    fn values_count_in_their_hour_and_day() {
        let now = Instant::now();
        let mut ranked = RankedValues::default();
        let t = 3 * DAY.1 + 5 * HOUR.1 + 17;
        ranked.add(2, t, "root", 2, now);
        ranked.add_source(t, IpAddr::from([192, 0, 2, 1]), 1, now);
        let hour = &ranked.summaries[&(HOUR.0, 2, 3 * DAY.1 + 5 * HOUR.1)];
        let day = &ranked.summaries[&(DAY.0, 2, 3 * DAY.1)];
        assert_eq!(hour.counts["root"], 2);
        assert_eq!(day.counts["root"], 2);
        assert_eq!(
            ranked.summaries[&(DAY.0, 1, 3 * DAY.1)].counts["192.0.2.1"],
            1
        );
        assert!(ranked.is_dirty());
    }
}
