//! The single batched writer: every event reaches the database through here.
//!
//! Producers (the API, honeypots, detectors) send batches into a bounded queue and
//! wait for the answer; the writer task drains whatever is queued, up to
//! `max_batch_events`, commits it in one transaction, appends the new events to the
//! JSON-lines log, and only then answers each producer. So an acknowledged event is
//! committed, and a full queue slows producers down instead of growing memory.
//!
//! While one transaction commits, the next requests queue up and go into the next one
//! together (group commit): batches grow with load without a timer adding latency
//! when the server is idle.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nectar_event::Event;
use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{error, warn};

use crate::ranked::RankedValues;
use crate::rollup::RollupBatch;
use crate::{JsonlLog, Store, StoreError};

/// Batching and queueing limits of the writer.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Most events committed in one transaction (a single request is never split).
    pub max_batch_events: usize,
    /// How long to wait for more requests once one has arrived (0: group commit only).
    pub max_delay: Duration,
    /// Requests that may wait in the queue before producers are made to wait.
    pub queue_requests: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            max_batch_events: 5_000,
            max_delay: Duration::ZERO,
            queue_requests: 1_024,
        }
    }
}

/// What became of a submitted batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IngestOutcome {
    /// Events newly stored.
    pub stored: usize,
    /// Events whose id was already stored (a resent batch); kept once.
    pub duplicates: usize,
}

/// Counters of the writer's work since start, for health pages and metrics.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Events stored.
    pub events: AtomicU64,
    /// Events skipped as already stored.
    pub duplicates: AtomicU64,
    /// Requests that failed (their producers got an error).
    pub failed_requests: AtomicU64,
    /// Batches that could not be appended to the JSON-lines log.
    pub jsonl_errors: AtomicU64,
}

struct Request {
    events: Vec<Event>,
    reply: oneshot::Sender<Result<IngestOutcome, StoreError>>,
}

/// A producer's end of the writer. Cheap to clone; the writer stops when every
/// handle is dropped and the queue is drained.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Request>,
    stats: Arc<WriterStats>,
}

impl WriterHandle {
    /// Starts the writer task on the current Tokio runtime.
    pub fn spawn(
        store: Store,
        log: Option<JsonlLog>,
        config: WriterConfig,
    ) -> (WriterHandle, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(config.queue_requests.max(1));
        let stats = Arc::new(WriterStats::default());
        let writer = Writer {
            store,
            log,
            config,
            stats: stats.clone(),
            rows: Default::default(),
            lines: Vec::new(),
            ranked: RankedValues::default(),
            last_values_flush: Instant::now(),
        };
        let task = tokio::spawn(writer.run(rx));
        (WriterHandle { tx, stats }, task)
    }

    /// Stores `events` atomically (all or none) and returns once they are committed.
    pub async fn submit(&self, events: Vec<Event>) -> Result<IngestOutcome, StoreError> {
        if events.is_empty() {
            return Ok(IngestOutcome::default());
        }
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request { events, reply })
            .await
            .map_err(|_| StoreError::WriterClosed)?;
        answer.await.map_err(|_| StoreError::WriterClosed)?
    }

    /// The writer's counters.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Requests waiting in the queue right now.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }
}

struct Writer {
    store: Store,
    log: Option<JsonlLog>,
    config: WriterConfig,
    stats: Arc<WriterStats>,
    /// Two, so that the next chunk is rendered while SQLite inserts the current one.
    rows: [RowBuffer; 2],
    /// The JSON lines of the new events of the current transaction.
    lines: Vec<u8>,
    /// The dashboard's top lists, summed in memory (see `RankedValues`).
    ranked: RankedValues,
    last_values_flush: Instant,
}

/// How often changed ranked values are written (the dashboard's top lists lag by
/// about this much).
const VALUES_EVERY: Duration = Duration::from_secs(1);

/// Appends `event` to `lines` as one JSON line.
fn append_line(lines: &mut Vec<u8>, event: &Event) {
    // Serialising a typed Event into memory cannot fail.
    let _ = serde_json::to_writer(&mut *lines, event);
    lines.push(b'\n');
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        let mut batch: Vec<Request> = Vec::new();
        loop {
            // While rollups wait to be written, wake up for them even when no events
            // come; otherwise sleep until the next request.
            let waiting = self.ranked.is_dirty();
            let first = if waiting {
                match tokio::time::timeout(VALUES_EVERY, rx.recv()).await {
                    Ok(request) => request,
                    Err(_) => {
                        self.maintain_rollups(false).await;
                        continue;
                    }
                }
            } else {
                rx.recv().await
            };
            let Some(first) = first else { break };
            let mut events = first.events.len();
            batch.push(first);
            let deadline = tokio::time::Instant::now() + self.config.max_delay;
            while events < self.config.max_batch_events {
                let next = match rx.try_recv() {
                    Ok(request) => request,
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                    Err(mpsc::error::TryRecvError::Empty) if self.config.max_delay.is_zero() => {
                        break;
                    }
                    Err(mpsc::error::TryRecvError::Empty) => {
                        match tokio::time::timeout_at(deadline, rx.recv()).await {
                            Ok(Some(request)) => request,
                            _ => break,
                        }
                    }
                };
                events += next.events.len();
                batch.push(next);
            }
            self.commit(&mut batch).await;
            self.maintain_rollups(false).await;
        }
        self.maintain_rollups(true).await;
        if let Some(log) = self.log.take() {
            drop(log);
        }
    }

    /// Commits the requests together; if that fails, each alone, so one bad request
    /// (or a transient error) does not fail the others.
    async fn commit(&mut self, batch: &mut Vec<Request>) {
        let together = self.transaction(batch).await;
        match together {
            Ok(outcomes) => {
                for (request, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = request.reply.send(Ok(outcome));
                }
            }
            Err(err) if batch.len() == 1 => {
                if let Some(request) = batch.pop() {
                    self.fail(request, err);
                }
            }
            Err(err) => {
                warn!(error = %err, requests = batch.len(), "Batch commit failed; retrying each request alone.");
                for request in batch.drain(..) {
                    let single = std::slice::from_ref(&request);
                    match self.transaction(single).await {
                        Ok(outcomes) => {
                            let _ = request.reply.send(Ok(outcomes[0]));
                        }
                        Err(err) => self.fail(request, err),
                    }
                }
            }
        }
    }

    /// Writes the changed ranked values every `VALUES_EVERY`, and all of them at
    /// shutdown.
    async fn maintain_rollups(&mut self, shutdown: bool) {
        if (shutdown || self.last_values_flush.elapsed() >= VALUES_EVERY) && self.ranked.is_dirty()
        {
            self.last_values_flush = Instant::now();
            if let Err(err) = self.ranked.flush(&self.store, shutdown).await {
                // The dashboard's top lists miss these; the events themselves are stored.
                warn!(error = %err, "Could not write the dashboard's ranked values.");
            }
        }
    }

    fn fail(&self, request: Request, err: StoreError) {
        error!(error = %err, events = request.events.len(), "Events could not be stored.");
        self.stats.failed_requests.fetch_add(1, Ordering::Relaxed);
        let _ = request.reply.send(Err(err));
    }

    /// One transaction over `requests`; returns each request's outcome after commit
    /// and after the new events are in the JSON-lines log.
    ///
    /// First in multi-row statements with nothing to roll back to: without a
    /// savepoint (or a statement that may abort half-way) SQLite keeps no copy of
    /// each page it changes, which is most of a savepoint's cost on this
    /// write-heavy path. If an event turns out to be stored already (a resent
    /// batch), that attempt is given up and the transaction redone row by row, to
    /// learn which events are new.
    async fn transaction(
        &mut self,
        requests: &[Request],
    ) -> Result<Vec<IngestOutcome>, StoreError> {
        let mut conn = self.store.writer.acquire().await?;
        let mut tx = conn.begin().await?;
        self.lines.clear();
        let mut rollup = RollupBatch::default();
        let log = self.log.is_some().then_some(&mut self.lines);
        let outcomes = if insert_all(&mut self.rows, &mut tx, requests, log, &mut rollup).await? {
            requests
                .iter()
                .map(|request| IngestOutcome {
                    stored: request.events.len(),
                    duplicates: 0,
                })
                .collect()
        } else {
            tx.rollback().await?;
            tx = conn.begin().await?;
            self.lines.clear();
            rollup = RollupBatch::default();
            self.insert_each(&mut tx, requests, &mut rollup).await?
        };
        if !rollup.is_empty() {
            rollup.flush(&mut tx).await?;
        }
        tx.commit().await?;
        drop(conn);
        // Only now, after the commit: a failed transaction must not be counted.
        rollup.move_values(&mut self.ranked);

        let stored: usize = outcomes.iter().map(|o| o.stored).sum();
        let duplicates: usize = outcomes.iter().map(|o| o.duplicates).sum();
        self.stats.commits.fetch_add(1, Ordering::Relaxed);
        self.stats
            .events
            .fetch_add(stored as u64, Ordering::Relaxed);
        self.stats
            .duplicates
            .fetch_add(duplicates as u64, Ordering::Relaxed);
        self.append_log().await;
        Ok(outcomes)
    }

    /// Each request's events row by row, counting which were new.
    async fn insert_each<'a>(
        &mut self,
        conn: &mut SqliteConnection,
        requests: &'a [Request],
        rollup: &mut RollupBatch<'a>,
    ) -> Result<Vec<IngestOutcome>, StoreError> {
        let mut outcomes = Vec::with_capacity(requests.len());
        for request in requests {
            let mut outcome = IngestOutcome::default();
            for chunk in request.events.chunks(ROWS_PER_STATEMENT) {
                let fresh = self.rows[0].insert_each(conn, chunk).await?;
                for (event, is_new) in chunk.iter().zip(fresh) {
                    if is_new {
                        outcome.stored += 1;
                        rollup.add(event);
                        if self.log.is_some() {
                            append_line(&mut self.lines, event);
                        }
                    } else {
                        outcome.duplicates += 1;
                    }
                }
            }
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Appends the committed events to the JSON-lines log, off the async threads.
    /// A failure is logged and counted but does not undo the commit: the database is
    /// the record, the log a copy.
    async fn append_log(&mut self) {
        if self.lines.is_empty() {
            return;
        }
        let Some(mut log) = self.log.take() else {
            return;
        };
        let lines = std::mem::take(&mut self.lines);
        let joined = tokio::task::spawn_blocking(move || {
            let result = log.append(&lines);
            (log, lines, result)
        })
        .await;
        match joined {
            Ok((log, lines, result)) => {
                self.log = Some(log);
                self.lines = lines;
                if let Err(err) = result {
                    self.stats.jsonl_errors.fetch_add(1, Ordering::Relaxed);
                    error!(error = %err, "Could not append to the JSON-lines event log.");
                }
            }
            Err(err) => {
                self.stats.jsonl_errors.fetch_add(1, Ordering::Relaxed);
                error!(error = %err, "The JSON-lines writer panicked; the log is off until restart.");
            }
        }
    }
}

/// Rows per INSERT statement: 11 parameters a row stays under SQLite's 32,766.
const ROWS_PER_STATEMENT: usize = 1_000;
const COLUMNS: usize = 11;

/// Every request's events in multi-row statements. False (the caller gives up
/// the attempt) as soon as a statement stored fewer rows than it had,
/// because some ids were stored before.
///
/// A pipeline, because SQLite runs each statement on sqlx's worker thread: while it
/// inserts chunk k, this task renders chunk k+1 into the other buffer, writes chunk
/// k's JSON lines and adds it to the rollups, so the worker never waits for them.
async fn insert_all<'a>(
    rows: &mut [RowBuffer; 2],
    conn: &mut SqliteConnection,
    requests: &'a [Request],
    mut lines: Option<&mut Vec<u8>>,
    rollup: &mut RollupBatch<'a>,
) -> Result<bool, StoreError> {
    // Collected (a few slices a transaction): an iterator adaptor with a closure held
    // across the awaits below trips the compiler's Send check of the spawned task.
    let mut all: Vec<&'a [Event]> = Vec::new();
    for request in requests {
        all.extend(request.events.chunks(ROWS_PER_STATEMENT));
    }
    let mut chunks = all.into_iter().peekable();
    let [first, second] = rows;
    let (mut current, mut next) = (first, second);
    if let Some(chunk) = chunks.peek() {
        current.prepare(chunk);
    }
    while let Some(chunk) = chunks.next() {
        let execute = current
            .bind(&current.statement, chunk, 0..chunk.len())?
            .execute(&mut *conn);
        let following = chunks.peek().copied();
        let side_work = async {
            if let Some(following) = following {
                next.prepare(following);
            }
            if let Some(lines) = lines.as_deref_mut() {
                for event in chunk {
                    append_line(lines, event);
                }
            }
            for event in chunk {
                rollup.add(event);
            }
        };
        let (done, ()) = tokio::join!(biased; execute, side_work);
        if done?.rows_affected() as usize != chunk.len() {
            return Ok(false);
        }
        std::mem::swap(&mut current, &mut next);
    }
    Ok(true)
}

/// Text columns of a chunk, rendered into one reused buffer so that binding a row
/// allocates nothing: parameters borrow slices of it.
#[derive(Default)]
struct RowBuffer {
    text: Vec<u8>,
    rows: Vec<RowText>,
    statement: String,
    statement_rows: usize,
}

struct RowText {
    src_ip: Option<Range<usize>>,
    dst_ip: Option<Range<usize>>,
    data: Range<usize>,
}

impl RowBuffer {
    /// Renders the chunk and makes the statement text fit its row count.
    fn prepare(&mut self, chunk: &[Event]) {
        self.render(chunk);
        if self.statement_rows != chunk.len() {
            self.statement = insert_statement(chunk.len());
            self.statement_rows = chunk.len();
        }
    }

    /// Inserts a chunk row by row; which rows were new.
    async fn insert_each(
        &mut self,
        conn: &mut SqliteConnection,
        chunk: &[Event],
    ) -> Result<Vec<bool>, StoreError> {
        self.render(chunk);
        let single = insert_statement(1);
        let mut fresh = Vec::with_capacity(chunk.len());
        for i in 0..chunk.len() {
            let done = self
                .bind(&single, chunk, i..i + 1)?
                .execute(&mut *conn)
                .await?;
            fresh.push(done.rows_affected() == 1);
        }
        Ok(fresh)
    }

    fn render(&mut self, chunk: &[Event]) {
        self.text.clear();
        self.rows.clear();
        for event in chunk {
            // Writes into a Vec cannot fail.
            let text = &mut self.text;
            // Addresses are stored as their 4 or 16 bytes (see the schema).
            let mut ip_span = |ip: Option<std::net::IpAddr>| {
                ip.map(|ip| {
                    let start = text.len();
                    match ip {
                        std::net::IpAddr::V4(v4) => text.extend_from_slice(&v4.octets()),
                        std::net::IpAddr::V6(v6) => text.extend_from_slice(&v6.octets()),
                    }
                    start..text.len()
                })
            };
            let src_ip = ip_span(event.src_ip);
            let dst_ip = ip_span(event.dst_ip);
            let start = text.len();
            let _ = serde_json::to_writer(&mut *text, &event.data);
            let data = start..text.len();
            self.rows.push(RowText {
                src_ip,
                dst_ip,
                data,
            });
        }
    }

    fn bind<'q>(
        &'q self,
        sql: &'q str,
        chunk: &'q [Event],
        rows: Range<usize>,
    ) -> Result<sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>, StoreError>
    {
        let text = |range: &Range<usize>| -> Result<&'q str, StoreError> {
            std::str::from_utf8(&self.text[range.clone()]).map_err(|e| StoreError::CorruptRow {
                id: String::new(),
                reason: e.to_string(),
            })
        };
        let mut query = sqlx::query(sql);
        for i in rows {
            let (event, row) = (&chunk[i], &self.rows[i]);
            query = query
                .bind(event.id.as_bytes().as_slice())
                .bind(event.time.as_micros())
                .bind(event.sensor.as_str())
                .bind(event.kind.as_str())
                .bind(event.severity.rank())
                .bind(row.src_ip.clone().map(|r| &self.text[r]))
                .bind(event.src_port.map(i32::from))
                .bind(row.dst_ip.clone().map(|r| &self.text[r]))
                .bind(event.dst_port.map(i32::from))
                .bind(event.summary.as_str())
                .bind(text(&row.data)?);
        }
        Ok(query)
    }
}

/// `INSERT OR IGNORE ... VALUES (?, ..), (?, ..), ...` for `rows` rows; ids already
/// stored are skipped, which makes resending a batch harmless.
///
/// `OR IGNORE` rather than `ON CONFLICT DO NOTHING`: with an upsert clause the other
/// constraints (NOT NULL) keep their default ABORT, so SQLite must be able to undo a
/// half-done multi-row statement and journals every page it touches first. The
/// writer's rows never violate NOT NULL (they come from typed events), so ignoring
/// is the same result without that copy. (PostgreSQL will use `ON CONFLICT DO
/// NOTHING`, which costs it nothing.)
///
/// Anonymous `?` placeholders, not `$n`: for every numbered parameter sqlx asks SQLite
/// for its name, a linear scan, which made a 1,000-row statement quadratic
/// (measured: 88% of ingest time, 7,000 events/s). PostgreSQL will use its own
/// `$n` or UNNEST form.
fn insert_statement(rows: usize) -> String {
    let mut sql = String::with_capacity(120 + rows * 60);
    sql.push_str(
        "INSERT OR IGNORE INTO events (id, time_us, sensor, kind, severity, src_ip, src_port, \
         dst_ip, dst_port, summary, data) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push('(');
        for col in 0..COLUMNS {
            if col > 0 {
                sql.push(',');
            }
            sql.push('?');
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_numbers_parameters_in_order() {
        let sql = insert_statement(2);
        assert!(sql.contains("VALUES (?,?,?,?,?,?,?,?,?,?,?),(?,?,?,?,?,?,?,?,?,?,?)"));
        assert_eq!(sql.matches('?').count(), 22);
    }
}
