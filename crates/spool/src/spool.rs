//! The spool itself: batches in a SQLite file, with their counters.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nectar_event::Event;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqliteConnection, SqlitePool};
use tokio::sync::Notify;

use crate::{SpoolError, encode};

/// What to do when a batch does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Wait until acknowledged batches free room (nothing is lost; whoever
    /// appends waits).
    Block,
    /// Delete the oldest batches, counting their events.
    DropOldest,
}

/// A spool's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolConfig {
    /// Most bytes of (compressed) payload held.
    pub max_bytes: u64,
    /// What a full spool does.
    pub when_full: WhenFull,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        SpoolConfig {
            max_bytes: 512 * 1024 * 1024,
            when_full: WhenFull::DropOldest,
        }
    }
}

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The batch's sequence number.
    pub seq: u64,
    /// Events of older batches dropped to make room.
    pub dropped_events: u64,
}

/// A batch waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Its sequence number (the sensor's, never reused).
    pub seq: u64,
    /// Its events.
    pub events: u64,
    /// When it was spooled (µs since the epoch).
    pub created_us: i64,
    /// The gzip'd NDJSON.
    pub payload: Vec<u8>,
}

/// What a spool holds and has done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpoolStats {
    /// Batches waiting.
    pub batches: u64,
    /// Their events.
    pub events: u64,
    /// Their payload bytes.
    pub bytes: u64,
    /// When the oldest waiting batch was spooled (µs), if any waits.
    pub oldest_us: Option<i64>,
    /// Events dropped to make room (since the spool was made).
    pub dropped: u64,
    /// Of those, how many a drop report already told of.
    pub dropped_reported: u64,
    /// Batches set aside (rejected by the server, or changed on disk).
    pub dead: u64,
    /// The next batch's sequence number.
    pub next_seq: u64,
}

/// A sensor's spool (cheap to clone: one database, shared).
#[derive(Clone)]
pub struct Spool {
    pool: SqlitePool,
    config: SpoolConfig,
    /// Woken when acknowledged or set-aside batches free room.
    freed: Arc<Notify>,
    /// Woken when a batch is spooled (one waiter: the shipper; a wake-up with
    /// nobody waiting is kept for the next wait).
    appended: Arc<Notify>,
    /// What the last run left cut off (found when it was opened).
    torn: Option<crate::TornWrite>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS batches (
    seq        INTEGER PRIMARY KEY,
    created_us INTEGER NOT NULL,
    events     INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,
    crc        INTEGER NOT NULL,
    payload    BLOB    NOT NULL
);
CREATE TABLE IF NOT EXISTS dead (
    seq        INTEGER PRIMARY KEY,
    created_us INTEGER NOT NULL,
    events     INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    payload    BLOB    NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO counters (name, value) VALUES
    ('next_seq', 1), ('bytes', 0), ('events', 0), ('dropped', 0),
    ('dropped_reported', 0), ('dead', 0);
";

/// Longest reason kept for a dead letter.
const MAX_REASON: usize = 1_024;

impl Spool {
    /// Opens (making it if needed) the spool in the file `path`.
    pub async fn open(path: &Path, config: SpoolConfig) -> Result<Spool, SpoolError> {
        // Before SQLite replays (and then reuses) the log: was the last write
        // cut off? SQLite rolls it back; this says so.
        let torn = crate::torn::check(path);
        if let Some(t) = torn {
            tracing::warn!(
                discarded_bytes = t.discarded_bytes,
                cut_frame = t.cut_frame,
                "The spool's last write was cut off (a power cut or a crash while it wrote): that unfinished batch is discarded; the batches before it are kept and sent."
            );
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A committed append survives a power cut: it is the only copy.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        // One connection: appends and acks are serialised anyway, and one
        // writer keeps the counters simple.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        Ok(Spool {
            pool,
            config,
            freed: Arc::new(Notify::new()),
            appended: Arc::new(Notify::new()),
            torn,
        })
    }

    /// The write that the previous run left cut off, if any (found when the
    /// spool was opened; SQLite discarded it).
    pub fn torn_write(&self) -> Option<crate::TornWrite> {
        self.torn
    }

    /// Spools `events` as one batch.
    pub async fn append(&self, events: &[Event]) -> Result<Appended, SpoolError> {
        let payload = encode(events)?;
        self.append_payload(events.len() as u64, payload).await
    }

    /// Spools an encoded batch of `events` events. With [`WhenFull::Block`]
    /// this waits while it does not fit.
    pub async fn append_payload(
        &self,
        events: u64,
        payload: Vec<u8>,
    ) -> Result<Appended, SpoolError> {
        let bytes = payload.len() as u64;
        if bytes > self.config.max_bytes {
            return Err(SpoolError::TooLarge {
                bytes,
                max_bytes: self.config.max_bytes,
            });
        }
        let crc = crc32fast::hash(&payload);
        loop {
            // Registered before looking, so an ack in between is not missed.
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            let mut tx = self.pool.begin().await?;
            let held = counter(&mut tx, "bytes").await?;
            let mut dropped_events = 0;
            if held + bytes > self.config.max_bytes {
                match self.config.when_full {
                    WhenFull::Block => {
                        // Handed back before waiting: the ack that frees
                        // room needs the (one) connection.
                        tx.rollback().await?;
                        freed.await;
                        continue;
                    }
                    WhenFull::DropOldest => {
                        dropped_events =
                            drop_oldest(&mut tx, held + bytes - self.config.max_bytes).await?;
                    }
                }
            }
            let seq = insert_batch(&mut tx, events, &payload, crc).await?;
            tx.commit().await?;
            self.appended.notify_one();
            if dropped_events > 0 {
                tracing::warn!(
                    dropped_events,
                    "The spool is full: its oldest batches were dropped."
                );
            }
            return Ok(Appended {
                seq,
                dropped_events,
            });
        }
    }

    /// Up to `limit` batches after sequence number `after`, oldest first. A
    /// batch whose payload no longer matches its checksum is set aside as
    /// dead (and logged), not returned.
    pub async fn next(&self, after: u64, limit: usize) -> Result<Vec<Batch>, SpoolError> {
        let rows = sqlx::query(
            "SELECT seq, created_us, events, crc, payload FROM batches WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after.min(i64::MAX as u64) as i64)
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let seq: i64 = row.try_get("seq")?;
            let crc: i64 = row.try_get("crc")?;
            let payload: Vec<u8> = row.try_get("payload")?;
            if i64::from(crc32fast::hash(&payload)) != crc {
                tracing::error!(seq, "A spooled batch changed on disk: set aside, not sent.");
                self.reject(
                    seq as u64,
                    "payload does not match its checksum (changed on disk)",
                )
                .await?;
                continue;
            }
            out.push(Batch {
                seq: seq as u64,
                events: row.try_get::<i64, _>("events")?.max(0) as u64,
                created_us: row.try_get("created_us")?,
                payload,
            });
        }
        Ok(out)
    }

    /// Returns once a batch was spooled since the last call returned (or
    /// at once if one was). For the one task that sends the batches.
    pub async fn appended(&self) {
        self.appended.notified().await;
    }

    /// The server committed batch `seq`: it is deleted. False if it was not
    /// (or no longer) spooled.
    pub async fn ack(&self, seq: u64) -> Result<bool, SpoolError> {
        let mut tx = self.pool.begin().await?;
        let Some((events, bytes)) = take(&mut tx, seq).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        add(&mut tx, "bytes", -bytes).await?;
        add(&mut tx, "events", -events).await?;
        tx.commit().await?;
        self.freed.notify_waiters();
        Ok(true)
    }

    /// Sets batch `seq` aside as a dead letter (the server refused it as
    /// malformed, or it changed on disk); the batches after it go on.
    pub async fn reject(&self, seq: u64, reason: &str) -> Result<bool, SpoolError> {
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(
            "INSERT OR IGNORE INTO dead (seq, created_us, events, reason, payload) \
             SELECT seq, created_us, events, ?, payload FROM batches WHERE seq = ?",
        )
        .bind(cut(reason))
        .bind(seq.min(i64::MAX as u64) as i64)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let Some((events, bytes)) = take(&mut tx, seq).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        add(&mut tx, "bytes", -bytes).await?;
        add(&mut tx, "events", -events).await?;
        add(&mut tx, "dead", moved as i64).await?;
        tx.commit().await?;
        self.freed.notify_waiters();
        Ok(true)
    }

    /// When events were dropped since the last report: spools `event_of(n)`
    /// (an event telling of the `n` dropped events) and marks them reported,
    /// in one transaction, so each drop is told of exactly once.
    pub async fn report_drops(
        &self,
        event_of: impl FnOnce(u64) -> Event,
    ) -> Result<Option<u64>, SpoolError> {
        let mut tx = self.pool.begin().await?;
        let dropped = counter(&mut tx, "dropped").await?;
        let reported = counter(&mut tx, "dropped_reported").await?;
        if dropped <= reported {
            tx.rollback().await?;
            return Ok(None);
        }
        let n = dropped - reported;
        let payload = encode(&[event_of(n)])?;
        insert_batch(&mut tx, 1, &payload, crc32fast::hash(&payload)).await?;
        add(&mut tx, "dropped_reported", n as i64).await?;
        tx.commit().await?;
        self.appended.notify_one();
        Ok(Some(n))
    }

    /// What the spool holds and has done.
    pub async fn stats(&self) -> Result<SpoolStats, SpoolError> {
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT name, value FROM counters")
            .fetch_all(&mut *conn)
            .await?;
        let get = |name: &str| {
            rows.iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, v)| (*v).max(0) as u64)
        };
        let (batches, oldest): (i64, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), MIN(created_us) FROM batches")
                .fetch_one(&mut *conn)
                .await?;
        Ok(SpoolStats {
            batches: batches.max(0) as u64,
            events: get("events"),
            bytes: get("bytes"),
            oldest_us: oldest,
            dropped: get("dropped"),
            dropped_reported: get("dropped_reported"),
            dead: get("dead"),
            next_seq: get("next_seq"),
        })
    }

    /// Closes the database (what is committed stays).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Stores a batch under the next sequence number, with its counters; the
/// number.
async fn insert_batch(
    conn: &mut SqliteConnection,
    events: u64,
    payload: &[u8],
    crc: u32,
) -> Result<u64, SpoolError> {
    let seq = counter(conn, "next_seq").await?;
    sqlx::query(
        "INSERT INTO batches (seq, created_us, events, bytes, crc, payload) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(seq as i64)
    .bind(now_us())
    .bind(events as i64)
    .bind(payload.len() as i64)
    .bind(i64::from(crc))
    .bind(payload)
    .execute(&mut *conn)
    .await?;
    add(conn, "next_seq", 1).await?;
    add(conn, "bytes", payload.len() as i64).await?;
    add(conn, "events", events as i64).await?;
    Ok(seq)
}

async fn counter(conn: &mut SqliteConnection, name: &str) -> Result<u64, SpoolError> {
    let (value,): (i64,) = sqlx::query_as("SELECT value FROM counters WHERE name = ?")
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
    Ok(value.max(0) as u64)
}

async fn add(conn: &mut SqliteConnection, name: &str, by: i64) -> Result<(), SpoolError> {
    sqlx::query("UPDATE counters SET value = value + ? WHERE name = ?")
        .bind(by)
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes batch `seq`; its events and bytes.
async fn take(conn: &mut SqliteConnection, seq: u64) -> Result<Option<(i64, i64)>, SpoolError> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("DELETE FROM batches WHERE seq = ? RETURNING events, bytes")
            .bind(seq.min(i64::MAX as u64) as i64)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row)
}

/// Deletes the oldest batches until `need` bytes are free; their events.
async fn drop_oldest(conn: &mut SqliteConnection, need: u64) -> Result<u64, SpoolError> {
    let mut freed = 0u64;
    let mut events = 0u64;
    while freed < need {
        let oldest: Option<(i64, i64, i64)> =
            sqlx::query_as("DELETE FROM batches WHERE seq = (SELECT MIN(seq) FROM batches) RETURNING seq, events, bytes")
                .fetch_optional(&mut *conn)
                .await?;
        let Some((_, n, bytes)) = oldest else { break };
        freed += bytes.max(0) as u64;
        events += n.max(0) as u64;
    }
    add(conn, "bytes", -(freed as i64)).await?;
    add(conn, "events", -(events as i64)).await?;
    add(conn, "dropped", events as i64).await?;
    Ok(events)
}

fn now_us() -> i64 {
    nectar_event::Timestamp::now().as_micros()
}

fn cut(reason: &str) -> &str {
    if reason.len() <= MAX_REASON {
        return reason;
    }
    let mut end = MAX_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}
