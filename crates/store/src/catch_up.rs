//! Reading committed events back in commit order on SQLite, for a consumer of
//! the committed stream that fell behind (its catch-up).
//!
//! Through rusqlite on a connection of its own, on a blocking thread, not
//! through sqlx: sqlx copies every column of every row (`sqlite3_value_dup`) on
//! its worker thread, passes the row over a channel and frees the copies on the
//! reading task. Freeing alone measured 6,200 instructions a row, copying about
//! as much, several times SQLite's own work (callgrind, `CATCHUP=1 cargo bench
//! -p nectar-store --bench ingest`). Here each column is read where SQLite
//! keeps it and turned into the event once.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use nectar_bus::stream::Sequenced;
use nectar_event::{Event, Severity, Timestamp};
use rusqlite::{Connection, OpenFlags};
use uuid::Uuid;

use crate::StoreError;
use crate::query::ip_from_bytes;

/// The columns in the order [`event_of`] reads them.
const EVENTS_AFTER: &str = "SELECT seq, id, time_us, sensor, kind, severity, src_ip, src_port, \
     dst_ip, dst_port, summary, data FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2";

/// Most events one read returns (a consumer's catch-up chunk is smaller).
pub(crate) const MAX_CHUNK: usize = 100_000;

/// A read-only connection to the SQLite file for catch-up reads, opened on
/// first use and closed with the store.
#[derive(Debug)]
pub(crate) struct SqliteCatchUp {
    path: PathBuf,
    conn: Mutex<Option<Connection>>,
}

impl SqliteCatchUp {
    pub(crate) fn new(path: &Path) -> Arc<SqliteCatchUp> {
        Arc::new(SqliteCatchUp {
            path: path.to_owned(),
            conn: Mutex::new(None),
        })
    }

    /// Up to `limit` events with sequence numbers above `after`, in commit order.
    pub(crate) async fn events_after(
        self: &Arc<Self>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Sequenced>, StoreError> {
        let reader = self.clone();
        tokio::task::spawn_blocking(move || reader.read(after, limit.clamp(1, MAX_CHUNK)))
            .await
            .map_err(|e| StoreError::CatchUp(e.to_string()))?
    }

    /// Closes the connection (a later read opens it again).
    pub(crate) fn close(&self) {
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn read(&self, after: u64, limit: usize) -> Result<Vec<Sequenced>, StoreError> {
        let failed = |e: rusqlite::Error| StoreError::CatchUp(e.to_string());
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let conn = match &mut *conn {
            Some(conn) => conn,
            empty => empty.insert(open(&self.path).map_err(failed)?),
        };
        let mut statement = conn.prepare_cached(EVENTS_AFTER).map_err(failed)?;
        let mut rows = statement
            .query((i64::try_from(after).unwrap_or(i64::MAX), limit as i64))
            .map_err(failed)?;
        let mut events = Vec::with_capacity(limit.min(10_000));
        while let Some(row) = rows.next().map_err(failed)? {
            events.push(event_of(row)?);
        }
        Ok(events)
    }
}

/// Read-only in effect (`query_only`), but opened read-write so that it may
/// share the WAL index with the writer like any reader.
fn open(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

/// The event of a row of [`EVENTS_AFTER`].
fn event_of(row: &rusqlite::Row<'_>) -> Result<Sequenced, StoreError> {
    use rusqlite::types::ValueRef;
    let bad = |reason: String| StoreError::CorruptRow {
        id: String::new(),
        reason,
    };
    let value = |i: usize| row.get_ref(i).map_err(|e| bad(e.to_string()));
    let int = |i: usize| -> Result<Option<i64>, StoreError> {
        match value(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(n) => Ok(Some(n)),
            other => Err(bad(format!("column {i} is {:?}", other.data_type()))),
        }
    };
    let bytes = |i: usize| -> Result<Option<&[u8]>, StoreError> {
        match value(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(Some(b)),
            other => Err(bad(format!("column {i} is {:?}", other.data_type()))),
        }
    };
    let text = |i: usize| -> Result<&str, StoreError> {
        let b = bytes(i)?.ok_or_else(|| bad(format!("column {i} is NULL")))?;
        std::str::from_utf8(b).map_err(|e| bad(e.to_string()))
    };
    let seq = int(0)?.ok_or_else(|| bad("seq is NULL".into()))?;
    let id_bytes = bytes(1)?.unwrap_or_default();
    let id = Uuid::from_slice(id_bytes).map_err(|e| bad(format!("id {id_bytes:02x?}: {e}")))?;
    let corrupt = |reason: String| StoreError::CorruptRow {
        id: id.to_string(),
        reason,
    };
    let ip = |i: usize| -> Result<Option<IpAddr>, StoreError> {
        bytes(i)?
            .map(|b| {
                ip_from_bytes(b).ok_or_else(|| corrupt(format!("address of {} bytes", b.len())))
            })
            .transpose()
    };
    let port = |i: usize| -> Result<Option<u16>, StoreError> {
        int(i)?
            .map(|n| u16::try_from(n).map_err(|_| corrupt(format!("port {n}"))))
            .transpose()
    };
    let time_us = int(2)?.ok_or_else(|| corrupt("time is NULL".into()))?;
    let severity = int(5)?.ok_or_else(|| corrupt("severity is NULL".into()))?;
    let event = Event {
        id,
        time: Timestamp::from_micros(time_us).ok_or_else(|| corrupt("time".into()))?,
        sensor: text(3)?.to_owned(),
        kind: text(4)?
            .parse()
            .map_err(|e: nectar_event::UnknownKind| corrupt(e.to_string()))?,
        severity: Severity::from_rank(severity).ok_or_else(|| corrupt("severity".into()))?,
        src_ip: ip(6)?,
        src_port: port(7)?,
        dst_ip: ip(8)?,
        dst_port: port(9)?,
        summary: text(10)?.to_owned(),
        data: serde_json::from_str(text(11)?).map_err(|e| corrupt(e.to_string()))?,
    };
    Ok(Sequenced {
        seq: seq.max(0) as u64,
        event,
    })
}
