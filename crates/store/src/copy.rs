//! `nectar db copy`: every table of one store into another, SQLite to
//! PostgreSQL or back (or SQLite to SQLite), keeping ids, the events' commit
//! sequence numbers and the consumers' offsets, so that the destination answers
//! as the source did and its consumers resume where they were.
//!
//! Tables are copied in dependency order (users before their web sessions,
//! hosts before their services), each in batches read in key order (keyset
//! pagination: each batch starts after the last key read, so a large table is
//! not rescanned) and inserted with multi-row statements, one transaction per
//! batch. Columns are matched by name and converted by type (SQLite's 0/1 to
//! PostgreSQL's booleans, JSON text to JSONB, and back). The full-text index is
//! not copied (SQLite's FTS5 table keeps no text to read back): the destination
//! indexes each batch of events as its writer would. At the end the row count
//! of every table is compared.

use crate::db::{self, Backend, Row, Value};
use crate::{Store, StoreError};

/// Every table, parents before the tables that refer to them. (`event_text`, the
/// full-text index, is rebuilt rather than copied.)
pub const TABLES: &[&str] = &[
    "users",
    "api_tokens",
    "web_sessions",
    "sensors",
    "sensor_enrolments",
    "events",
    "event_sessions",
    "session_summaries",
    "rollup_counts",
    "rollup_values",
    "consumer_offsets",
    "alerts",
    "alert_events",
    "alert_history",
    "alert_notices",
    "silences",
    "rule_progress",
    "rule_hits",
    "notify_deliveries",
    "notify_delivery_alerts",
    "notify_batches",
    "incidents",
    "incident_alerts",
    "incident_observables",
    "incident_tasks",
    "incident_comments",
    "incident_timeline",
    "attachment_blobs",
    "incident_attachments",
    "incident_history",
    "inv_hosts",
    "inv_services",
    "inv_history",
    "inv_progress",
    "scans",
    "device_models",
];

/// The table a new store already has rows in (its consumers' starting
/// offsets): not counted as data, and replaced by the source's rows.
const SEEDED: &str = "consumer_offsets";

/// Why a copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The destination holds data and `force` was not given.
    #[error(
        "the destination is not empty (table {table} has {rows} rows); \
         copy into an empty database, or pass --force to empty it first"
    )]
    NotEmpty {
        /// The first table found with rows.
        table: String,
        /// Its rows.
        rows: u64,
    },
    /// A table's columns differ in a way the copy cannot bridge.
    #[error("table {table}: {reason}")]
    Schema {
        /// The table.
        table: String,
        /// What differs.
        reason: String,
    },
    /// The counts at the end differ.
    #[error(
        "verification failed: table {table} has {source_rows} rows at the source and \
         {destination_rows} at the destination"
    )]
    Mismatch {
        /// The table.
        table: String,
        /// Rows at the source.
        source_rows: u64,
        /// Rows at the destination.
        destination_rows: u64,
    },
    /// The events' checksums differ (see [`Store::events_checksum`]).
    #[error(
        "verification failed: the events' checksum is {source_sum:016x} at the source and \
         {destination_sum:016x} at the destination"
    )]
    Checksum {
        /// At the source.
        source_sum: u64,
        /// At the destination.
        destination_sum: u64,
    },
    /// A database error.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a column's values are read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// 64-bit integers.
    Int,
    /// PostgreSQL's 32-bit `INTEGER` (read as such; written as 64 bits).
    Int4,
    Real,
    Bool,
    Text,
    Bytes,
    /// PostgreSQL's JSONB (text on SQLite).
    Json,
}

impl Kind {
    /// From a declared type: PostgreSQL's `data_type` or SQLite's declaration.
    fn of(declared: &str, backend: Backend) -> Kind {
        let t = declared.to_ascii_uppercase();
        match backend {
            Backend::Postgres => match t.as_str() {
                "BIGINT" => Kind::Int,
                "INTEGER" | "SMALLINT" => Kind::Int4,
                "BOOLEAN" => Kind::Bool,
                "BYTEA" => Kind::Bytes,
                "JSONB" | "JSON" => Kind::Json,
                "DOUBLE PRECISION" | "REAL" | "NUMERIC" => Kind::Real,
                _ => Kind::Text,
            },
            // SQLite's affinity rules.
            Backend::Sqlite if t.contains("INT") => Kind::Int,
            Backend::Sqlite if t.contains("BOOL") => Kind::Bool,
            Backend::Sqlite if t.contains("CHAR") || t.contains("TEXT") || t.contains("CLOB") => {
                Kind::Text
            }
            Backend::Sqlite if t.contains("BLOB") || t.is_empty() => Kind::Bytes,
            Backend::Sqlite if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") => {
                Kind::Real
            }
            Backend::Sqlite if t.contains("JSON") => Kind::Json,
            Backend::Sqlite => Kind::Int,
        }
    }
}

/// One column as both stores see it.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    from: Kind,
    to: Kind,
}

/// A table's columns and primary key, as one store declares them.
struct Shape {
    columns: Vec<(String, String)>,
    key: Vec<String>,
}

/// The columns [`Store::events_checksum`] reads: seq, id, time, sensor, kind,
/// severity, summary.
type ChecksumRow = (i64, Vec<u8>, i64, String, String, i64, String);

/// What the destination of a copy may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// Nothing (a new store): refused otherwise.
    Empty,
    /// Anything: every table is emptied first.
    Clear,
    /// What an interrupted copy of the same, unchanged source left: each table
    /// goes on after the rows it has (in the source's key order; each batch was
    /// committed whole), and tables already complete are skipped.
    Resume,
}

/// Rows copied per table, in copy order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// `(table, rows at the destination)`.
    pub tables: Vec<(String, u64)>,
    /// The events' checksum, the same at both ends ([`Store::events_checksum`]).
    pub events_checksum: u64,
}

impl Store {
    /// Rows in `table` (one of [`TABLES`]).
    pub async fn count_rows(&self, table: &str) -> Result<u64, StoreError> {
        let n: i64 = db::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\""))
            .fetch_one(self.db.read())
            .await?;
        Ok(n.max(0) as u64)
    }

    /// Empties every table of this store (for `db copy --force`).
    pub async fn clear_all(&self) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        match self.backend() {
            Backend::Postgres => {
                let list: Vec<String> = TABLES
                    .iter()
                    .chain(&["event_text"])
                    .map(|t| format!("\"{t}\""))
                    .collect();
                db::query(&format!("TRUNCATE {} RESTART IDENTITY", list.join(", ")))
                    .execute(tx.exec())
                    .await?;
            }
            Backend::Sqlite => {
                for table in TABLES.iter().rev() {
                    db::query(&format!("DELETE FROM \"{table}\""))
                        .execute(tx.exec())
                        .await?;
                }
                // A contentless FTS5 table is emptied by its own command.
                db::query("INSERT INTO event_text (event_text) VALUES ('delete-all')")
                    .execute(tx.exec())
                    .await?;
            }
        }
        tx.commit().await
    }

    async fn shape(&self, table: &str) -> Result<Shape, StoreError> {
        match self.backend() {
            Backend::Postgres => {
                let columns: Vec<(String, String)> = db::query_as(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = ? \
                     ORDER BY ordinal_position",
                )
                .bind(table)
                .fetch_all(self.db.read())
                .await?;
                let key: Vec<String> = db::query_scalar(
                    "SELECT k.column_name::text FROM information_schema.table_constraints c \
                     JOIN information_schema.key_column_usage k \
                       ON k.constraint_name = c.constraint_name \
                      AND k.table_schema = c.table_schema AND k.table_name = c.table_name \
                     WHERE c.constraint_type = 'PRIMARY KEY' \
                       AND c.table_schema = current_schema() AND c.table_name = ? \
                     ORDER BY k.ordinal_position",
                )
                .bind(table)
                .fetch_all(self.db.read())
                .await?;
                Ok(Shape { columns, key })
            }
            Backend::Sqlite => {
                let rows: Vec<(String, String, i64)> =
                    db::query_as("SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid")
                        .bind(table)
                        .fetch_all(self.db.read())
                        .await?;
                let mut key: Vec<(i64, String)> = rows
                    .iter()
                    .filter(|(_, _, pk)| *pk > 0)
                    .map(|(n, _, pk)| (*pk, n.clone()))
                    .collect();
                key.sort();
                Ok(Shape {
                    columns: rows.into_iter().map(|(n, t, _)| (n, t)).collect(),
                    key: key.into_iter().map(|(_, n)| n).collect(),
                })
            }
        }
    }

    /// Copies every table of this store into `to`, `batch` rows at a time;
    /// `progress` is told each table's rows at the destination as it is done.
    /// `into` says what may be there already. Verifies the counts at the end.
    pub async fn copy_to(
        &self,
        to: &Store,
        into: Destination,
        batch: usize,
        mut progress: impl FnMut(&str, u64),
    ) -> Result<CopyReport, CopyError> {
        let batch = batch.clamp(1, 100_000);
        let mut holds_data = false;
        for table in TABLES {
            if *table == SEEDED {
                continue;
            }
            let rows = to.count_rows(table).await?;
            if rows > 0 {
                holds_data = true;
                match into {
                    Destination::Empty => {
                        return Err(CopyError::NotEmpty {
                            table: (*table).to_owned(),
                            rows,
                        });
                    }
                    Destination::Clear => {
                        to.clear_all().await?;
                        holds_data = false;
                    }
                    Destination::Resume => {}
                }
                break;
            }
        }
        if !holds_data {
            // A new store's starting offsets give way to the source's.
            db::query(&format!("DELETE FROM \"{SEEDED}\""))
                .execute(to.db.write())
                .await?;
        }
        let mut report = CopyReport::default();
        for table in TABLES {
            let rows = self.copy_table(to, table, batch).await?;
            progress(table, rows);
            report.tables.push(((*table).to_owned(), rows));
        }
        to.after_copy().await?;
        for (table, copied) in &report.tables {
            let (source_rows, destination_rows) =
                (self.count_rows(table).await?, to.count_rows(table).await?);
            if source_rows != destination_rows || destination_rows != *copied {
                return Err(CopyError::Mismatch {
                    table: table.clone(),
                    source_rows,
                    destination_rows,
                });
            }
        }
        let (source_sum, destination_sum) =
            (self.events_checksum().await?, to.events_checksum().await?);
        if source_sum != destination_sum {
            return Err(CopyError::Checksum {
                source_sum,
                destination_sum,
            });
        }
        report.events_checksum = destination_sum;
        Ok(report)
    }

    /// A checksum of the events in commit order: each one's number, id, time,
    /// sensor, kind, severity and summary (the columns both engines store
    /// byte for byte; PostgreSQL's JSONB rewrites `data`), FNV-1a, 64 bits.
    pub async fn events_checksum(&self) -> Result<u64, StoreError> {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes.iter().chain(&[0xff]) {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        };
        let mut after = 0i64;
        loop {
            let rows: Vec<ChecksumRow> = db::query_as(
                "SELECT seq, id, time_us, sensor, kind, severity, summary FROM events \
                 WHERE seq > ? ORDER BY seq LIMIT 10000",
            )
            .bind(after)
            .fetch_all(self.db.read())
            .await?;
            let Some(last) = rows.last().map(|r| r.0) else {
                break;
            };
            for (seq, id, time_us, sensor, kind, severity, summary) in &rows {
                eat(&seq.to_le_bytes());
                eat(id);
                eat(&time_us.to_le_bytes());
                eat(sensor.as_bytes());
                eat(kind.as_bytes());
                eat(&severity.to_le_bytes());
                eat(summary.as_bytes());
            }
            after = last;
        }
        Ok(hash)
    }

    /// Tests only: leaves this store as a copy interrupted in `table` would,
    /// with its first `keep` rows (by key) and the later tables empty.
    /// (`events` only on PostgreSQL, whose text index rows can be deleted.)
    #[doc(hidden)]
    pub async fn interrupt_copy_for_tests(&self, table: &str, keep: u64) -> Result<(), StoreError> {
        let at = TABLES
            .iter()
            .position(|t| *t == table)
            .unwrap_or(TABLES.len());
        let mut tx = self.db.begin().await?;
        for later in TABLES[at + 1..].iter().rev() {
            db::query(&format!("DELETE FROM \"{later}\""))
                .execute(tx.exec())
                .await?;
        }
        let shape = self.shape(table).await?;
        let key = if table == "events" {
            "seq".to_owned()
        } else {
            shape
                .key
                .iter()
                .map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        db::query(&format!(
            "DELETE FROM \"{table}\" WHERE ({key}) > \
             (SELECT {key} FROM \"{table}\" ORDER BY {key} LIMIT 1 OFFSET {})",
            keep.saturating_sub(1)
        ))
        .execute(tx.exec())
        .await?;
        if table == "events" {
            db::query("DELETE FROM event_text WHERE rowid NOT IN (SELECT seq FROM events)")
                .execute(tx.exec())
                .await?;
        }
        tx.commit().await
    }

    /// PostgreSQL's identity columns continue after the copied ids.
    async fn after_copy(&self) -> Result<(), StoreError> {
        if self.backend() != Backend::Postgres {
            return Ok(());
        }
        for table in TABLES {
            let shape = self.shape(table).await?;
            if !shape
                .columns
                .iter()
                .any(|(n, t)| n == "id" && t.eq_ignore_ascii_case("bigint"))
            {
                continue;
            }
            // NULL (nothing done) where `id` is not an identity column.
            db::query(&format!(
                "SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), \
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM \"{table}\"), false) \
                 WHERE pg_get_serial_sequence('\"{table}\"', 'id') IS NOT NULL"
            ))
            .execute(self.db.write())
            .await?;
        }
        Ok(())
    }

    async fn copy_table(&self, to: &Store, table: &str, batch: usize) -> Result<u64, CopyError> {
        let (from_shape, to_shape) = (self.shape(table).await?, to.shape(table).await?);
        let schema = |reason: String| CopyError::Schema {
            table: table.to_owned(),
            reason,
        };
        if from_shape.columns.is_empty() || to_shape.columns.is_empty() {
            return Err(schema("missing at the source or the destination".into()));
        }
        let mut columns = Vec::new();
        for (name, declared) in &to_shape.columns {
            let Some((_, source)) = from_shape.columns.iter().find(|(n, _)| n == name) else {
                return Err(schema(format!(
                    "column {name} is missing at the source (are both stores of the same \
                     Nectar version?)"
                )));
            };
            columns.push(Column {
                name: name.clone(),
                from: Kind::of(source, self.backend()),
                to: Kind::of(declared, to.backend()),
            });
        }
        // Events in commit order; other tables by their key (the source's).
        let key: Vec<String> = if table == "events" {
            vec!["seq".to_owned()]
        } else {
            from_shape.key.clone()
        };
        let key_at: Vec<usize> = key
            .iter()
            .filter_map(|k| columns.iter().position(|c| &c.name == k))
            .collect();
        let keyset = !key.is_empty() && key_at.len() == key.len();
        let list = columns
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect::<Vec<_>>()
            .join(", ");
        let order = if keyset {
            key.iter()
                .map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            list.clone()
        };
        // Resuming: the rows already there are the source's first ones in key
        // order (batches were read in that order and committed whole).
        let already = to.count_rows(table).await?;
        let total = self.count_rows(table).await?;
        if already >= total {
            return Ok(already);
        }
        let mut copied = already;
        let mut after: Option<Vec<Value<'static>>> = None;
        if already > 0 && keyset {
            let keys: Vec<Column> = key_at.iter().map(|&i| columns[i].clone()).collect();
            let names = keys
                .iter()
                .map(|c| format!("\"{}\"", c.name))
                .collect::<Vec<_>>()
                .join(", ");
            let last = self
                .db
                .builder(format!(
                    "SELECT {names} FROM \"{table}\" ORDER BY {order} LIMIT 1 OFFSET {}",
                    already - 1
                ))
                .fetch_one(self.db.read())
                .await?;
            after = Some(
                read_row(&last, &keys)?
                    .into_iter()
                    .zip(&keys)
                    .map(|(v, c)| to_source(v, c.from))
                    .collect(),
            );
        }
        loop {
            let mut read = self.db.builder(format!("SELECT {list} FROM \"{table}\""));
            if let Some(last) = &after {
                read.push(format!(" WHERE ({order}) > ("));
                let mut sep = read.separated(", ");
                for value in last {
                    sep.push_bind(value.clone());
                }
                read.push(")");
            }
            read.push(format!(" ORDER BY {order} LIMIT {batch}"));
            if !keyset {
                read.push(format!(" OFFSET {copied}"));
            }
            let rows = read.fetch_all(self.db.read()).await?;
            if rows.is_empty() {
                break;
            }
            let mut values = Vec::with_capacity(rows.len());
            for row in &rows {
                values.push(read_row(row, &columns)?);
            }
            if keyset && let Some(last) = values.last() {
                after = Some(
                    key_at
                        .iter()
                        .map(|&i| to_source(last[i].clone(), columns[i].from))
                        .collect(),
                );
            }
            to.insert_rows(table, &columns, &values).await?;
            copied += values.len() as u64;
            if rows.len() < batch {
                break;
            }
        }
        Ok(copied)
    }

    /// Inserts rows in one transaction (with their full-text index for events).
    async fn insert_rows(
        &self,
        table: &str,
        columns: &[Column],
        rows: &[Vec<Value<'static>>],
    ) -> Result<(), StoreError> {
        let postgres = self.backend() == Backend::Postgres;
        let list = columns
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect::<Vec<_>>()
            .join(", ");
        // Under both engines' limits on bound values per statement.
        let per_statement = (30_000 / columns.len().max(1)).max(1);
        let mut tx = self.db.begin().await?;
        for chunk in rows.chunks(per_statement) {
            let mut insert = self
                .db
                .builder(format!("INSERT INTO \"{table}\" ({list}) VALUES "));
            for (r, row) in chunk.iter().enumerate() {
                insert.push(if r == 0 { "(" } else { ", (" });
                for (i, (column, value)) in columns.iter().zip(row).enumerate() {
                    if i > 0 {
                        insert.push(", ");
                    }
                    if postgres && column.to == Kind::Json {
                        insert.push("CAST(");
                        insert.push_bind(value.clone());
                        insert.push(" AS JSONB)");
                    } else {
                        insert.push_bind(value.clone());
                    }
                }
                insert.push(")");
            }
            insert.execute(tx.exec()).await?;
        }
        if table == "events" {
            let seq_at = columns.iter().position(|c| c.name == "seq");
            let seqs = || {
                rows.iter()
                    .filter_map(move |r| match seq_at.map(|i| &r[i]) {
                        Some(Value::Int(Some(seq))) => Some(*seq),
                        _ => None,
                    })
            };
            if postgres {
                self.index_copied_text(&mut tx, columns, rows).await?;
            } else if let (Some(first), Some(last)) = (seqs().min(), seqs().max()) {
                crate::search_text::index_stored_text(&mut tx, first, last + 1).await?;
            }
        }
        tx.commit().await
    }

    /// PostgreSQL's full-text rows of copied events, from the words its writer
    /// would extract.
    async fn index_copied_text(
        &self,
        tx: &mut db::Tx,
        columns: &[Column],
        rows: &[Vec<Value<'static>>],
    ) -> Result<(), StoreError> {
        let at = |name: &str| columns.iter().position(|c| c.name == name);
        let (Some(seq_at), Some(summary_at), Some(data_at)) =
            (at("seq"), at("summary"), at("data"))
        else {
            return Ok(());
        };
        for chunk in rows.chunks(10_000) {
            let mut insert = self
                .db
                .builder("INSERT INTO event_text (rowid, body) VALUES ");
            let mut any = false;
            for row in chunk {
                let (Value::Int(Some(seq)), Value::Text(Some(summary)), Value::Text(Some(data))) =
                    (&row[seq_at], &row[summary_at], &row[data_at])
                else {
                    continue;
                };
                let data: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(data).unwrap_or_default();
                let mut words = Vec::new();
                crate::search_text::push_text_words(&mut words, summary, &data);
                insert.push(if any { ", (" } else { "(" });
                insert.push_bind(*seq);
                insert.push(", to_tsvector('simple', ");
                insert.push_bind(String::from_utf8_lossy(&words).into_owned());
                insert.push("))");
                any = true;
            }
            if any {
                insert.execute(tx.exec()).await?;
            }
        }
        Ok(())
    }
}

/// A row's values as the destination takes them.
fn read_row(row: &Row, columns: &[Column]) -> Result<Vec<Value<'static>>, StoreError> {
    let mut values = Vec::with_capacity(columns.len());
    for (i, column) in columns.iter().enumerate() {
        let value = match column.from {
            Kind::Int => Value::Int(row.get::<Option<i64>, _>(i)?),
            Kind::Int4 => Value::Int(row.get::<Option<i32>, _>(i)?.map(i64::from)),
            Kind::Real => Value::Real(row.get::<Option<f64>, _>(i)?),
            Kind::Bool => Value::Bool(row.get::<Option<bool>, _>(i)?),
            Kind::Text => Value::Text(row.get::<Option<String>, _>(i)?.map(Into::into)),
            Kind::Bytes => Value::Bytes(row.get::<Option<Vec<u8>>, _>(i)?.map(Into::into)),
            Kind::Json => Value::Text(Some(row.json_text(i)?.into())),
        };
        values.push(convert(value, column.to));
    }
    Ok(values)
}

/// A key value as the source compares it (the reverse of [`convert`]).
fn to_source(value: Value<'static>, from: Kind) -> Value<'static> {
    match (value, from) {
        (Value::Int(v), Kind::Bool) => Value::Bool(v.map(|n| n != 0)),
        (Value::Bool(v), Kind::Int | Kind::Int4) => Value::Int(v.map(i64::from)),
        (value, _) => value,
    }
}

/// A value converted to the destination column's kind where the engines differ
/// (SQLite keeps booleans as 0/1).
fn convert(value: Value<'static>, to: Kind) -> Value<'static> {
    match (value, to) {
        (Value::Int(v), Kind::Bool) => Value::Bool(v.map(|n| n != 0)),
        (Value::Bool(v), Kind::Int | Kind::Int4) => Value::Int(v.map(i64::from)),
        (value, _) => value,
    }
}
