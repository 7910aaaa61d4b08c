//! Rollups: counts per minute and per hour (by kind and severity, and of the values a
//! dashboard ranks: source addresses, user names, passwords, commands), kept by the
//! writer inside each event transaction and read by the dashboard.
//!
//! A batch is first summed in memory, borrowing its strings from the events, then
//! written as a few multi-row upserts (`ON CONFLICT ... DO UPDATE SET n = n + ...`,
//! which SQLite and PostgreSQL both accept).

use crate::db::{self, Tx};
use std::collections::HashMap;
use std::net::IpAddr;

use nectar_event::{Event, Timestamp};

use crate::query::{DataField, KindCount, TopField, ValueCount};
use crate::ranked::{DAY, RankedValues};
use crate::{BucketCount, Store, StoreError};
use nectar_event::Severity;

/// The rollup resolutions: (code in the table, bucket width in µs).
const MINUTE: (i16, i64) = (1, 60_000_000);
use crate::ranked::HOUR;
const RESOLUTIONS: [(i16, i64); 2] = [MINUTE, HOUR];

/// Field codes of `rollup_values`.
fn field_code(field: TopField) -> Option<i16> {
    match field {
        TopField::SrcIp => Some(1),
        TopField::Data(DataField::Username) => Some(2),
        TopField::Data(DataField::Password) => Some(3),
        TopField::Data(DataField::Input) => Some(4),
        _ => None,
    }
}

/// Field codes of `rollup_values` counting values sealed with `encrypt_to` (each
/// under the empty value): they cannot be ranked, since only the identity reads
/// them, but the dashboard says how many there are rather than showing nothing.
fn sealed_field_code(field: DataField) -> Option<i16> {
    match field {
        DataField::Password => Some(13),
        DataField::Input => Some(14),
        _ => None,
    }
}

/// Longest value kept in a rollup; longer ones are cut (the events keep them whole).
const MAX_VALUE_BYTES: usize = 256;

fn cut(value: &str) -> &str {
    if value.len() <= MAX_VALUE_BYTES {
        return value;
    }
    let mut end = MAX_VALUE_BYTES;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// A batch's rollup, summed in memory.
#[derive(Default)]
pub(crate) struct RollupBatch<'a> {
    counts: HashMap<(i16, i64, &'static str, i16), i64>,
    sources: HashMap<(i16, i64, IpAddr), i64>,
    values: HashMap<(i16, i16, i64, &'a str), i64>,
}

impl<'a> RollupBatch<'a> {
    pub(crate) fn add(&mut self, event: &'a Event) {
        let time = event.time.as_micros();
        for (resolution, width) in RESOLUTIONS {
            let bucket = time.div_euclid(width) * width;
            let key = (
                resolution,
                bucket,
                event.kind.as_str(),
                event.severity.rank(),
            );
            *self.counts.entry(key).or_default() += 1;
        }
        // Ranked values per hour (and day, from the hours): top lists need no minutes.
        let (resolution, width) = HOUR;
        let bucket = time.div_euclid(width) * width;
        if let Some(ip) = event.src_ip {
            *self.sources.entry((resolution, bucket, ip)).or_default() += 1;
        }
        let data = &event.data;
        let mut count = |field: Option<i16>, value: &'a str| {
            if let Some(field) = field {
                *self
                    .values
                    .entry((resolution, field, bucket, cut(value)))
                    .or_default() += 1;
            }
        };
        let mut ranked = |field: DataField| {
            if let Some(text) = data.get(field.key()).and_then(|v| v.as_str()) {
                count(field_code(TopField::Data(field)), text);
            } else if field.sealed_key().is_some_and(|key| data.contains_key(key)) {
                count(sealed_field_code(field), "");
            }
        };
        ranked(DataField::Username);
        // Passwords are ranked from login attempts only (of every outcome).
        if event.kind.category().is_login() {
            ranked(DataField::Password);
        }
        ranked(DataField::Input);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Moves the batch's ranked values into the writer's summaries (each distinct
    /// value of the batch once, not each event).
    pub(crate) fn move_values(&mut self, ranked: &mut RankedValues) {
        let now = std::time::Instant::now();
        for ((_, bucket, ip), n) in self.sources.drain() {
            ranked.add_source(bucket, ip, n, now);
        }
        for ((_, field, bucket, value), n) in self.values.drain() {
            ranked.add(field, bucket, value, n, now);
        }
    }

    /// Writes the batch's counts (inside the caller's transaction) and empties them.
    pub(crate) async fn flush(&mut self, conn: &mut Tx) -> Result<(), StoreError> {
        let counts: Vec<_> = self.counts.drain().collect();
        for rows in counts.chunks(1_000) {
            let mut query = db::builder(
                "INSERT INTO rollup_counts (resolution, bucket_us, kind, severity, n) ",
            );
            query.push_values(
                rows,
                |mut row, ((resolution, bucket, kind, severity), n)| {
                    row.push_bind(*resolution)
                        .push_bind(*bucket)
                        .push_bind(*kind)
                        .push_bind(*severity)
                        .push_bind(*n);
                },
            );
            query.push(
                " ON CONFLICT (resolution, bucket_us, kind, severity) DO UPDATE SET n = rollup_counts.n + excluded.n",
            );
            query.execute(conn.exec()).await?;
        }
        Ok(())
    }
}

/// A time range read from the rollups: whole buckets of the chosen resolution.
#[derive(Debug, Clone, Copy)]
pub struct RollupRange {
    resolution: i16,
    from_us: i64,
    to_us: i64,
}

impl RollupRange {
    /// The buckets covering `since..until` (open ends: everything), per minute for
    /// ranges up to two days and per hour beyond. Whole buckets are counted: from
    /// the one holding `since` to the one holding `until`.
    pub fn new(since: Option<Timestamp>, until: Option<Timestamp>) -> RollupRange {
        let from_us = since.map_or(i64::MIN, Timestamp::as_micros);
        let to_us = until.map_or(i64::MAX, Timestamp::as_micros);
        // An open end is now: "the last hour" spans an hour, not to the end of
        // time (which made it one hourly bar, #25).
        let span = until
            .unwrap_or_else(Timestamp::now)
            .as_micros()
            .saturating_sub(from_us);
        let (resolution, width) = if since.is_some() && span <= 2 * 86_400_000_000 {
            MINUTE
        } else {
            HOUR
        };
        RollupRange {
            resolution,
            from_us: if from_us == i64::MIN {
                from_us
            } else {
                from_us.div_euclid(width) * width
            },
            to_us,
        }
    }

    /// Bucket width in µs.
    pub fn width_us(&self) -> i64 {
        if self.resolution == MINUTE.0 {
            MINUTE.1
        } else {
            HOUR.1
        }
    }
}

impl Store {
    /// Events per kind in the range, from the rollups; most frequent first.
    pub async fn rollup_by_kind(&self, range: RollupRange) -> Result<Vec<KindCount>, StoreError> {
        let rows = db::query(
            "SELECT kind, CAST(SUM(n) AS BIGINT) AS total FROM rollup_counts WHERE resolution = ? AND bucket_us >= ? AND bucket_us < ? \
             GROUP BY kind ORDER BY total DESC, kind",
        )
        .bind(range.resolution)
        .bind(range.from_us)
        .bind(range.to_us)
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(KindCount {
                    kind: row.get(0)?,
                    count: row.get(1)?,
                })
            })
            .collect()
    }

    /// Events per severity in the range (every severity, zeros included), from the rollups.
    pub async fn rollup_by_severity(
        &self,
        range: RollupRange,
    ) -> Result<Vec<(Severity, i64)>, StoreError> {
        let rows = db::query(
            "SELECT severity, CAST(SUM(n) AS BIGINT) FROM rollup_counts WHERE resolution = ? AND bucket_us >= ? AND bucket_us < ? \
             GROUP BY severity",
        )
        .bind(range.resolution)
        .bind(range.from_us)
        .bind(range.to_us)
        .fetch_all(self.db.read())
        .await?;
        let mut counts: Vec<(Severity, i64)> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
        for row in &rows {
            if let Some(severity) = Severity::from_rank(row.get(0)?) {
                counts[severity.rank() as usize].1 = row.get(1)?;
            }
        }
        Ok(counts)
    }

    /// Events per bucket of `bucket_us` (a multiple of the rollup width), oldest first.
    pub async fn rollup_by_bucket(
        &self,
        range: RollupRange,
        bucket_us: i64,
    ) -> Result<Vec<BucketCount>, StoreError> {
        let width = range.width_us();
        let bucket_us = (bucket_us.max(width) / width) * width;
        let rows = db::query(
            "SELECT (bucket_us / ?) * ? AS b, CAST(SUM(n) AS BIGINT) FROM rollup_counts WHERE resolution = ? AND bucket_us >= ? AND bucket_us < ? \
             GROUP BY b ORDER BY b",
        )
        .bind(bucket_us)
        .bind(bucket_us)
        .bind(range.resolution)
        .bind(range.from_us)
        .bind(range.to_us)
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .filter_map(|row| {
                let start: i64 = row.get(0).ok()?;
                let count: i64 = row.get(1).ok()?;
                Some(Ok(BucketCount {
                    start: Timestamp::from_micros(start)?,
                    count,
                }))
            })
            .collect()
    }

    /// The most frequent values of `field` in the range, from the ranked values per
    /// hour (ranges up to two days) or per day (longer ones): whole buckets, from
    /// the one holding `since`. Fields without a rollup give an empty list.
    pub async fn rollup_top(
        &self,
        range: RollupRange,
        field: TopField,
        limit: usize,
    ) -> Result<Vec<ValueCount>, StoreError> {
        match field_code(field) {
            Some(code) => self.ranked_values(range, code, limit).await,
            None => Ok(Vec::new()),
        }
    }

    /// How many values of `field` in the range were sealed with `encrypt_to` (and so
    /// are not in [`Store::rollup_top`]); 0 for fields that are never sealed.
    pub async fn rollup_sealed(
        &self,
        range: RollupRange,
        field: DataField,
    ) -> Result<i64, StoreError> {
        let Some(code) = sealed_field_code(field) else {
            return Ok(0);
        };
        let values = self.ranked_values(range, code, 1).await?;
        Ok(values.first().map_or(0, |v| v.count))
    }

    async fn ranked_values(
        &self,
        range: RollupRange,
        code: i16,
        limit: usize,
    ) -> Result<Vec<ValueCount>, StoreError> {
        let (resolution, width) = if range.resolution == MINUTE.0 {
            HOUR
        } else {
            DAY
        };
        let from_us = if range.from_us == i64::MIN {
            range.from_us
        } else {
            range.from_us.div_euclid(width) * width
        };
        let rows = db::query(
            "SELECT value, CAST(SUM(n) AS BIGINT) AS total FROM rollup_values WHERE resolution = ? AND field = ? AND bucket_us >= ? AND bucket_us < ? \
             GROUP BY value ORDER BY total DESC, value LIMIT ?",
        )
        .bind(resolution)
        .bind(code)
        .bind(from_us)
        .bind(range.to_us)
        .bind(limit.clamp(1, 1_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ValueCount {
                    value: row.get(0)?,
                    count: row.get(1)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An open-ended "last hour" is counted per minute (it was one hourly bar,
    /// #25 item 4); a month per hour.
    #[test]
    fn the_bucket_follows_the_range_also_when_it_ends_now() {
        let now = Timestamp::now().as_micros();
        let ago = |us: i64| Timestamp::from_micros(now - us);
        assert_eq!(
            RollupRange::new(ago(3_600_000_000), None).width_us(),
            60_000_000
        );
        assert_eq!(
            RollupRange::new(ago(30 * 86_400_000_000), None).width_us(),
            3_600_000_000
        );
        assert_eq!(RollupRange::new(None, None).width_us(), 3_600_000_000);
    }
}
