//! The store's side of the committed-event stream: reading events back by commit
//! sequence number for a consumer that fell behind, and keeping each consumer's
//! durable offset (the `consumer_offsets` table).

use crate::db::{self};
use nectar_bus::stream::{Claim, CommittedLog, LogError, Offset, Sequenced};

use crate::query::{EventColumns, event_at};
use crate::{Store, StoreError};

impl From<StoreError> for LogError {
    fn from(error: StoreError) -> LogError {
        LogError(error.to_string())
    }
}

impl Store {
    /// The highest commit sequence number stored (0 when nothing is).
    pub async fn last_seq(&self) -> Result<u64, StoreError> {
        let (last,): (i64,) = db::query_as("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(self.db.read())
            .await?;
        Ok(last.max(0) as u64)
    }

    /// Up to `limit` events with sequence numbers above `after`, in commit order.
    pub async fn events_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Sequenced>, StoreError> {
        if let Some(catch_up) = &self.catch_up {
            return catch_up.events_after(after, limit).await;
        }
        let rows = db::query(
            "SELECT seq, id, time_us, sensor, kind, severity, src_ip, src_port, dst_ip, dst_port, \
             summary, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after as i64)
        .bind(limit.clamp(1, 100_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        let columns = EventColumns::of(first)?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.get(0)?;
                Ok(Sequenced {
                    seq: seq as u64,
                    event: event_at(row, &columns)?,
                })
            })
            .collect()
    }

    /// The saved offset of consumer `name`.
    pub async fn consumer_offset(&self, name: &str) -> Result<Option<Offset>, StoreError> {
        let row: Option<(i64, String)> =
            db::query_as("SELECT seq, checkpoint FROM consumer_offsets WHERE name = ?")
                .bind(name)
                .fetch_optional(self.db.read())
                .await?;
        Ok(row.map(|(seq, checkpoint)| Offset {
            seq: seq.max(0) as u64,
            checkpoint,
        }))
    }

    /// Saves consumer `name`'s offset.
    pub async fn save_consumer_offset(
        &self,
        name: &str,
        offset: &Offset,
    ) -> Result<(), StoreError> {
        db::query(
            "INSERT INTO consumer_offsets (name, seq, checkpoint, updated_us) VALUES (?, ?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, \
             checkpoint = excluded.checkpoint, updated_us = excluded.updated_us",
        )
        .bind(name)
        .bind(offset.seq as i64)
        .bind(&offset.checkpoint)
        .bind(nectar_event::Timestamp::now().as_micros())
        .execute(self.db.write())
        .await?;
        Ok(())
    }
}

impl CommittedLog for Store {
    async fn last_seq(&self) -> Result<u64, LogError> {
        Ok(Store::last_seq(self).await?)
    }

    async fn read_after(&self, after: u64, limit: usize) -> Result<Vec<Sequenced>, LogError> {
        Ok(self.events_after(after, limit).await?)
    }

    async fn load_offset(&self, name: &str) -> Result<Option<Offset>, LogError> {
        Ok(self.consumer_offset(name).await?)
    }

    async fn save_offset(&self, name: &str, offset: &Offset) -> Result<(), LogError> {
        Ok(self.save_consumer_offset(name, offset).await?)
    }

    /// A consumer runs in one process of those sharing the database: the one
    /// holding its lease (see `lease`).
    async fn claim(&self, name: &str) -> Result<Option<Claim>, LogError> {
        Ok(self
            .try_lease(name)
            .await?
            .map(|lease| Claim::new(lease.held_flag(), Box::new(lease))))
    }
}
