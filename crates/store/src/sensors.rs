//! Remote sensors (#20): their enrolment (one-time secrets exchanged for a
//! credential that may only post events under the sensor's own name), what
//! each sensor's batches tell of it (spool depth, drops, clock offset), and
//! how its batches arrived (in order, resent, or after a gap).

use crate::db::{self, Row};
use nectar_event::Timestamp;

use crate::{Role, Store, StoreError};

/// The prefix of a sensor credential's token name: `sensor:NAME`.
pub const SENSOR_TOKEN_PREFIX: &str = "sensor:";

/// Seconds over which a sensor's event rate is averaged (decayed).
const RATE_SECONDS: f64 = 60.0;

/// A sensor as the server knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorRecord {
    /// Its name (the `sensor` of its events).
    pub name: String,
    /// When its first enrolment secret was made.
    pub created: Timestamp,
    /// When it last enrolled.
    pub enrolled: Option<Timestamp>,
    /// When it was revoked (it cannot post since).
    pub revoked: Option<Timestamp>,
    /// The version it reported.
    pub version: Option<String>,
    /// The address its last batch came from.
    pub address: Option<String>,
    /// When its last batch arrived.
    pub last_seen: Option<Timestamp>,
    /// The highest batch sequence number received.
    pub last_batch_seq: u64,
    /// Batches received (resends included).
    pub batches: u64,
    /// Of those, resends of a batch already received.
    pub resent_batches: u64,
    /// Batch numbers never received (skipped over by a later batch).
    pub missing_batches: u64,
    /// Events received (duplicates included).
    pub events: u64,
    /// Events per second, averaged over the last minute or so.
    pub events_per_second: f64,
    /// Events waiting in its spool when it sent its last batch.
    pub spool_events: u64,
    /// When the oldest of those was spooled.
    pub oldest_unsent: Option<Timestamp>,
    /// Events its spool dropped when full (since the spool was made).
    pub dropped: u64,
    /// Batches it set aside as rejected.
    pub dead_letters: u64,
    /// Its clock minus the server's when its last batch arrived, in ms.
    pub clock_offset_ms: Option<i64>,
    /// Whether that offset is past the server's bound.
    pub clock_drifting: bool,
}

/// What a sensor's batch says of it (request headers), and when it arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// The batch's sequence number (0: the sender gave none).
    pub seq: u64,
    /// Events in the batch.
    pub events: u64,
    /// Events waiting in its spool as it sent this one.
    pub spool_events: u64,
    /// When the oldest of those was spooled (µs).
    pub oldest_unsent_us: Option<i64>,
    /// Events its spool has dropped.
    pub dropped: u64,
    /// Batches it has set aside.
    pub dead_letters: u64,
    /// Its clock minus ours, in ms, if it said what its clock read.
    pub clock_offset_ms: Option<i64>,
    /// The version it runs.
    pub version: Option<String>,
    /// Where the batch came from.
    pub address: String,
    /// When it arrived (µs).
    pub received_us: i64,
}

/// How a batch arrived, from its sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// The next one, or the first, or one without a number.
    InOrder,
    /// One already received (a resend after a lost answer): harmless, its
    /// events are stored once by their ids.
    Resent,
    /// Batches `from..=to` never arrived before this one.
    AfterGap {
        /// The first missing number.
        from: u64,
        /// The last missing number.
        to: u64,
    },
}

/// What recording a batch found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchVerdict {
    /// How it arrived.
    pub arrival: Arrival,
    /// The sensor's clock went past the bound with this batch (offset in ms).
    pub drift_started: Option<i64>,
    /// The sensor's clock came back within the bound with this batch.
    pub drift_ended: bool,
}

/// Why an enrolment secret was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnrolRefusal {
    /// No such secret.
    #[error("unknown enrolment secret")]
    Unknown,
    /// Already exchanged once.
    #[error("this enrolment secret was already used")]
    Used,
    /// Past its expiry.
    #[error("this enrolment secret has expired")]
    Expired,
}

impl Store {
    /// Records a one-time enrolment secret for sensor `name` (its SHA-256),
    /// valid until `expires`, and the sensor itself if new. A live enrolled
    /// sensor of that name is refused ([`StoreError::Exists`]): revoke it first.
    pub async fn create_sensor_enrolment(
        &self,
        name: &str,
        secret_sha256: &str,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now().as_micros();
        let mut tx = self.db.begin().await?;
        let live: Option<(Option<i64>, Option<i64>)> =
            db::query_as("SELECT enrolled_us, revoked_us FROM sensors WHERE name = $1")
                .bind(name)
                .fetch_optional(tx.exec())
                .await?;
        if let Some((Some(_), None)) = live {
            return Err(StoreError::Exists {
                what: "enrolled sensor (revoke it first to enrol it again)",
                name: name.to_owned(),
            });
        }
        db::query(
            "INSERT INTO sensors (name, created_us) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(now)
        .execute(tx.exec())
        .await?;
        db::query(
            "INSERT INTO sensor_enrolments (secret_sha256, sensor, created_us, expires_us) VALUES ($1, $2, $3, $4)",
        )
        .bind(secret_sha256)
        .bind(name)
        .bind(now)
        .bind(expires.as_micros())
        .execute(tx.exec())
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Exchanges an enrolment secret (its SHA-256) for a sensor credential
    /// (the SHA-256 of the token the caller made): once, before it expires.
    /// The sensor's earlier credential, if any, stops working. The sensor's
    /// name, or why the secret is refused.
    pub async fn redeem_sensor_enrolment(
        &self,
        secret_sha256: &str,
        token_sha256: &str,
    ) -> Result<Result<String, EnrolRefusal>, StoreError> {
        let now = Timestamp::now().as_micros();
        let mut tx = self.db.begin().await?;
        let row: Option<(String, i64, Option<i64>)> = db::query_as(
            "SELECT sensor, expires_us, used_us FROM sensor_enrolments WHERE secret_sha256 = $1",
        )
        .bind(secret_sha256)
        .fetch_optional(tx.exec())
        .await?;
        let Some((name, expires_us, used_us)) = row else {
            return Ok(Err(EnrolRefusal::Unknown));
        };
        if used_us.is_some() {
            return Ok(Err(EnrolRefusal::Used));
        }
        if expires_us <= now {
            return Ok(Err(EnrolRefusal::Expired));
        }
        db::query("UPDATE sensor_enrolments SET used_us = $1 WHERE secret_sha256 = $2")
            .bind(now)
            .bind(secret_sha256)
            .execute(tx.exec())
            .await?;
        let token_name = format!("{SENSOR_TOKEN_PREFIX}{name}");
        // One credential per sensor: enrolling again replaces the old one.
        db::query("DELETE FROM api_tokens WHERE name = $1")
            .bind(&token_name)
            .execute(tx.exec())
            .await?;
        db::query(
            "INSERT INTO api_tokens (name, token_sha256, role, created_us, sensor) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&token_name)
        .bind(token_sha256)
        .bind(Role::Sensor.as_str())
        .bind(now)
        .bind(&name)
        .execute(tx.exec())
        .await?;
        db::query("UPDATE sensors SET enrolled_us = $1, revoked_us = NULL WHERE name = $2")
            .bind(now)
            .bind(&name)
            .execute(tx.exec())
            .await?;
        tx.commit().await?;
        Ok(Ok(name))
    }

    /// Revokes sensor `name`: its credential fails from the next request on.
    pub async fn revoke_sensor(&self, name: &str) -> Result<(), StoreError> {
        let now = Timestamp::now().as_micros();
        let mut tx = self.db.begin().await?;
        let done =
            db::query("UPDATE sensors SET revoked_us = $1 WHERE name = $2 AND revoked_us IS NULL")
                .bind(now)
                .bind(name)
                .execute(tx.exec())
                .await?;
        if done == 0 {
            return Err(StoreError::NotFound {
                what: "live sensor",
                name: name.to_owned(),
            });
        }
        db::query("UPDATE api_tokens SET revoked_us = $1 WHERE name = $2 AND revoked_us IS NULL")
            .bind(now)
            .bind(format!("{SENSOR_TOKEN_PREFIX}{name}"))
            .execute(tx.exec())
            .await?;
        // Secrets not yet used die with it.
        db::query(
            "UPDATE sensor_enrolments SET expires_us = $1 WHERE sensor = $2 AND used_us IS NULL AND expires_us > $1",
        )
        .bind(now)
        .bind(name)
        .execute(tx.exec())
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every sensor, by name.
    pub async fn list_sensors(&self) -> Result<Vec<SensorRecord>, StoreError> {
        let rows = db::query(&format!("{SELECT_SENSOR} ORDER BY name"))
            .fetch_all(self.db.read())
            .await?;
        rows.iter().map(sensor_from_row).collect()
    }

    /// One sensor.
    pub async fn sensor(&self, name: &str) -> Result<Option<SensorRecord>, StoreError> {
        let row = db::query(&format!("{SELECT_SENSOR} WHERE name = $1"))
            .bind(name)
            .fetch_optional(self.db.read())
            .await?;
        row.as_ref().map(sensor_from_row).transpose()
    }

    /// Records a batch from sensor `name` (after its events were committed):
    /// how it arrived and whether its clock crossed `drift_bound_ms`.
    pub async fn record_sensor_batch(
        &self,
        name: &str,
        report: &BatchReport,
        drift_bound_ms: i64,
    ) -> Result<BatchVerdict, StoreError> {
        let mut tx = self.db.begin().await?;
        let before: Option<(i64, Option<i64>, f64, i64)> = db::query_as(
            "SELECT last_batch_seq, last_seen_us, events_per_second, clock_drifting FROM sensors WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(tx.exec())
        .await?;
        let (last_seq, last_seen, rate, drifting) = match before {
            Some((seq, seen, rate, drifting)) => (seq.max(0) as u64, seen, rate, drifting != 0),
            None => {
                // A token made by hand (`nectar token create --role sensor`)
                // posts without having enrolled: it is still a sensor.
                db::query("INSERT INTO sensors (name, created_us) VALUES ($1, $2)")
                    .bind(name)
                    .bind(report.received_us)
                    .execute(tx.exec())
                    .await?;
                (0, None, 0.0, false)
            }
        };
        let arrival = if report.seq == 0 || report.seq == last_seq + 1 || last_seq == 0 {
            Arrival::InOrder
        } else if report.seq <= last_seq {
            Arrival::Resent
        } else {
            Arrival::AfterGap {
                from: last_seq + 1,
                to: report.seq - 1,
            }
        };
        let missing = match arrival {
            Arrival::AfterGap { from, to } => to - from + 1,
            _ => 0,
        };
        let elapsed = last_seen.map_or(RATE_SECONDS, |seen| {
            ((report.received_us - seen).max(0) as f64) / 1e6
        });
        let rate = rate * (-elapsed / RATE_SECONDS).exp() + report.events as f64 / RATE_SECONDS;
        let drifting_now = report
            .clock_offset_ms
            .is_some_and(|offset| offset.unsigned_abs() > drift_bound_ms.unsigned_abs());
        db::query(
            "UPDATE sensors SET version = COALESCE($2, version), address = $3, last_seen_us = $4,
                last_batch_seq = MAX(last_batch_seq, $5), batches = batches + 1,
                resent_batches = resent_batches + $6, missing_batches = missing_batches + $7,
                events = events + $8, events_per_second = $9, spool_events = $10,
                oldest_unsent_us = $11, dropped = $12, dead_letters = $13,
                clock_offset_ms = COALESCE($14, clock_offset_ms), clock_drifting = $15
             WHERE name = $1",
        )
        .bind(name)
        .bind(report.version.as_deref())
        .bind(&report.address)
        .bind(report.received_us)
        .bind(report.seq as i64)
        .bind(i64::from(arrival == Arrival::Resent))
        .bind(missing as i64)
        .bind(report.events as i64)
        .bind(rate)
        .bind(report.spool_events as i64)
        .bind(report.oldest_unsent_us)
        .bind(report.dropped as i64)
        .bind(report.dead_letters as i64)
        .bind(report.clock_offset_ms)
        .bind(i64::from(drifting_now))
        .execute(tx.exec())
        .await?;
        tx.commit().await?;
        Ok(BatchVerdict {
            arrival,
            drift_started: if drifting_now && !drifting {
                report.clock_offset_ms
            } else {
                None
            },
            drift_ended: drifting && !drifting_now && report.clock_offset_ms.is_some(),
        })
    }
}

const SELECT_SENSOR: &str = "SELECT name, created_us, enrolled_us, revoked_us, version, address,
    last_seen_us, last_batch_seq, batches, resent_batches, missing_batches, events,
    events_per_second, spool_events, oldest_unsent_us, dropped, dead_letters,
    clock_offset_ms, clock_drifting FROM sensors";

fn ts(micros: i64) -> Timestamp {
    Timestamp::from_micros(micros).unwrap_or_else(Timestamp::now)
}

fn count(row: &Row, column: &str) -> Result<u64, StoreError> {
    Ok(row.get::<i64, _>(column)?.max(0) as u64)
}

fn sensor_from_row(row: &Row) -> Result<SensorRecord, StoreError> {
    let when = |column: &str| -> Result<Option<Timestamp>, StoreError> {
        Ok(row.get::<Option<i64>, _>(column)?.map(ts))
    };
    Ok(SensorRecord {
        name: row.get("name")?,
        created: ts(row.get("created_us")?),
        enrolled: when("enrolled_us")?,
        revoked: when("revoked_us")?,
        version: row.get("version")?,
        address: row.get("address")?,
        last_seen: when("last_seen_us")?,
        last_batch_seq: count(row, "last_batch_seq")?,
        batches: count(row, "batches")?,
        resent_batches: count(row, "resent_batches")?,
        missing_batches: count(row, "missing_batches")?,
        events: count(row, "events")?,
        // Decayed to now: a sensor that stopped sending shows its rate fall.
        events_per_second: row.get::<f64, _>("events_per_second")?
            * row
                .get::<Option<i64>, _>("last_seen_us")?
                .map_or(0.0, |seen| {
                    let idle = (Timestamp::now().as_micros() - seen).max(0) as f64 / 1e6;
                    (-idle / RATE_SECONDS).exp()
                }),
        spool_events: count(row, "spool_events")?,
        oldest_unsent: when("oldest_unsent_us")?,
        dropped: count(row, "dropped")?,
        dead_letters: count(row, "dead_letters")?,
        clock_offset_ms: row.get("clock_offset_ms")?,
        clock_drifting: row.get::<i64, _>("clock_drifting")? != 0,
    })
}
