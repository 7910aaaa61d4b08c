//! One source address at a glance, for the attacker page (`/ips/{addr}`):
//! first and last seen, how many events, which sensors saw it, and its
//! activity per time bucket. Plain SQL over the `events (src_ip, time_us)`
//! index (and `session_summaries (src_ip, ...)`), kept in a file of its own so
//! that a second backend only needs these few statements again.

use std::net::IpAddr;

use nectar_event::Timestamp;

use crate::db;
use crate::query::ip_bytes;
use crate::{Store, StoreError};

/// Most recent events read to name the sensors that saw an address (besides
/// every sensor of its sessions): bounds the page's cost for an address with
/// millions of events.
pub const SENSOR_SAMPLE: i64 = 10_000;

/// What the store knows of one source address.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AttackerSummary {
    /// Its first event.
    pub first_seen: Option<Timestamp>,
    /// Its last event.
    pub last_seen: Option<Timestamp>,
    /// Its events.
    pub events: i64,
    /// Sensors that saw it (from its sessions and its latest
    /// [`SENSOR_SAMPLE`] events), by name.
    pub sensors: Vec<String>,
    /// Its honeypot sessions.
    pub sessions: i64,
}

/// The stored form of `ip` (IPv4-mapped IPv6 as IPv4, as the writer keeps it).
fn key(ip: IpAddr) -> Vec<u8> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    ip_bytes(ip)
}

impl Store {
    /// First and last seen, counts and sensors of source address `ip`.
    pub async fn attacker_summary(&self, ip: IpAddr) -> Result<AttackerSummary, StoreError> {
        let k = key(ip);
        let row =
            db::query("SELECT MIN(time_us), MAX(time_us), COUNT(*) FROM events WHERE src_ip = ?")
                .bind(&k)
                .fetch_one(self.db.read())
                .await?;
        let first: Option<i64> = row.get(0)?;
        let last: Option<i64> = row.get(1)?;
        let events: i64 = row.get(2)?;
        let mut sensors: Vec<String> = db::query_scalar(
            "SELECT DISTINCT sensor FROM (SELECT sensor FROM events WHERE src_ip = ? \
             ORDER BY time_us DESC LIMIT ?) AS recent \
             UNION SELECT DISTINCT sensor FROM session_summaries WHERE src_ip = ?",
        )
        .bind(&k)
        .bind(SENSOR_SAMPLE)
        .bind(&k)
        .fetch_all(self.db.read())
        .await?;
        sensors.sort();
        sensors.dedup();
        let sessions: i64 =
            db::query_scalar("SELECT COUNT(*) FROM session_summaries WHERE src_ip = ?")
                .bind(&k)
                .fetch_one(self.db.read())
                .await?;
        Ok(AttackerSummary {
            first_seen: first.and_then(Timestamp::from_micros),
            last_seen: last.and_then(Timestamp::from_micros),
            events,
            sensors,
            sessions,
        })
    }

    /// Events of source address `ip` per bucket of `bucket_us` microseconds in
    /// `[since, until)`: (bucket start, count), oldest first; empty buckets
    /// left out.
    pub async fn attacker_activity(
        &self,
        ip: IpAddr,
        since: Timestamp,
        until: Timestamp,
        bucket_us: i64,
    ) -> Result<Vec<(Timestamp, i64)>, StoreError> {
        let bucket_us = bucket_us.max(1);
        let rows = db::query(
            "SELECT (time_us - ?) / ? AS b, COUNT(*) FROM events \
             WHERE src_ip = ? AND time_us >= ? AND time_us < ? GROUP BY b ORDER BY b",
        )
        .bind(since.as_micros())
        .bind(bucket_us)
        .bind(key(ip))
        .bind(since.as_micros())
        .bind(until.as_micros())
        .fetch_all(self.db.read())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let b: i64 = row.get(0)?;
            let n: i64 = row.get(1)?;
            if let Some(t) = Timestamp::from_micros(
                since
                    .as_micros()
                    .saturating_add(b.saturating_mul(bucket_us)),
            ) {
                out.push((t, n));
            }
        }
        Ok(out)
    }
}
