//! The single batched writer: every event reaches the database through here.
//!
//! The bus ([`nectar_bus::spawn_bus`]) hands it batches through [`Ingest`] into a
//! bounded queue; the writer task drains whatever is queued, up to
//! `max_batch_events`, commits it in one transaction, numbering each new event
//! with the next commit sequence number (the `seq` column), and only then answers
//! each batch's [`Ack`] and publishes the new events on its [`Fanout`], which every
//! consumer (the JSON-lines log, the Cowrie log, ...) reads. So an acknowledged
//! event is committed, a full queue slows producers down instead of growing
//! memory, and a consumer never sees an event that is not stored.
//!
//! While one transaction commits, the next requests queue up and go into the next one
//! together (group commit): batches grow with load without a timer adding latency
//! when the server is idle.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nectar_bus::stream::{Committed, Fanout};
use nectar_bus::{Ack, Ingest, IngestError, IngestOutcome};
use nectar_event::Event;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{error, warn};

use crate::db::Tx;
use crate::ranked::RankedValues;
use crate::rollup::RollupBatch;
use crate::search_text;
use crate::sessions::SessionBatch;
use crate::{Store, StoreError};

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
    /// The last commit sequence number given out.
    pub last_seq: AtomicU64,
}

/// The writer's counters at one moment, for status pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WriterCounts {
    /// Transactions committed.
    pub commits: u64,
    /// Events stored.
    pub events: u64,
    /// Events skipped as already stored.
    pub duplicates: u64,
    /// Requests that failed.
    pub failed_requests: u64,
    /// The last commit sequence number given out.
    pub last_seq: u64,
    /// Requests waiting in the queue now.
    pub queued: u64,
    /// The queue's capacity in requests.
    pub capacity: u64,
}

struct Request {
    events: Vec<Event>,
    ack: Ack,
}

/// A producer's end of the writer. Cheap to clone; the writer stops when every
/// handle is dropped and the queue is drained.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Request>,
    stats: Arc<WriterStats>,
    fanout: Arc<Fanout>,
}

impl WriterHandle {
    /// Starts the writer task on the current Tokio runtime. Its committed events
    /// are published on [`WriterHandle::fanout`].
    pub fn spawn(store: Store, config: WriterConfig) -> (WriterHandle, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(config.queue_requests.max(1));
        let stats = Arc::new(WriterStats::default());
        let fanout = Fanout::new();
        let writer = Writer {
            store,
            config,
            stats: stats.clone(),
            fanout: fanout.clone(),
            rows: Default::default(),
            ranked: RankedValues::default(),
            last_values_flush: Instant::now(),
        };
        let task = tokio::spawn(writer.run(rx));
        (WriterHandle { tx, stats, fanout }, task)
    }

    /// Stores `events` atomically (all or none) and returns once they are
    /// committed. (Producers go through the bus; this is for tools and tests that
    /// own a writer.)
    pub async fn submit(&self, events: Vec<Event>) -> Result<IngestOutcome, IngestError> {
        if events.is_empty() {
            return Ok(IngestOutcome::default());
        }
        let (ack, answer) = Ack::channel();
        self.enqueue(events, ack).await;
        answer.await.map_err(|_| IngestError::Closed)?
    }

    /// Where committed events are published (consumers subscribe here).
    pub fn fanout(&self) -> &Arc<Fanout> {
        &self.fanout
    }

    /// The writer's counters.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Requests waiting in the queue right now.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// The counters and the queue's fill now.
    pub fn counts(&self) -> WriterCounts {
        let s = &self.stats;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WriterCounts {
            commits: get(&s.commits),
            events: get(&s.events),
            duplicates: get(&s.duplicates),
            failed_requests: get(&s.failed_requests),
            last_seq: get(&s.last_seq),
            queued: self.queued() as u64,
            capacity: self.tx.max_capacity() as u64,
        }
    }
}

impl Ingest for WriterHandle {
    async fn enqueue(&self, events: Vec<Event>, ack: Ack) {
        // A writer that has stopped drops the request, and with it the ack, which
        // then answers `Closed`.
        let _ = self.tx.send(Request { events, ack }).await;
    }
}

struct Writer {
    store: Store,
    config: WriterConfig,
    stats: Arc<WriterStats>,
    fanout: Arc<Fanout>,
    /// Two, so that the next chunk is rendered while SQLite inserts the current one.
    rows: [RowBuffer; 2],
    /// The dashboard's top lists, summed in memory (see `RankedValues`).
    ranked: RankedValues,
    last_values_flush: Instant,
}

/// How often changed ranked values are written (the dashboard's top lists lag by
/// about this much).
const VALUES_EVERY: Duration = Duration::from_secs(1);

/// Which events of a transaction's requests were new: all of them, or per
/// request and event.
enum Fresh {
    All,
    Some(Vec<Vec<bool>>),
}

/// What a committed transaction did.
struct Done {
    outcomes: Vec<IngestOutcome>,
    fresh: Fresh,
    /// The sequence number of its first new event.
    first_seq: u64,
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
        // The consumers drain, catch up with the store and stop.
        self.fanout.close();
    }

    /// Commits the requests together; if that fails, each alone, so one bad request
    /// (or a transient error) does not fail the others.
    async fn commit(&mut self, batch: &mut Vec<Request>) {
        match self.transaction(batch).await {
            Ok(done) => self.finish(std::mem::take(batch), done),
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
                        Ok(done) => self.finish(vec![request], done),
                        Err(err) => self.fail(request, err),
                    }
                }
            }
        }
    }

    /// Answers each committed request and publishes its new events, moved (not
    /// copied) out of the requests.
    fn finish(&self, requests: Vec<Request>, done: Done) {
        let mut events = Vec::with_capacity(done.outcomes.iter().map(|o| o.stored).sum());
        for (i, (request, outcome)) in requests.into_iter().zip(done.outcomes).enumerate() {
            request.ack.complete(Ok(outcome));
            match &done.fresh {
                Fresh::All => events.extend(request.events),
                Fresh::Some(flags) => events.extend(
                    request
                        .events
                        .into_iter()
                        .zip(&flags[i])
                        .filter(|(_, fresh)| **fresh)
                        .map(|(event, _)| event),
                ),
            }
        }
        self.fanout.publish(Committed {
            first_seq: done.first_seq,
            events,
        });
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
        request
            .ack
            .complete(Err(IngestError::Failed(err.to_string())));
    }

    /// One transaction over `requests`, numbering new events from the highest
    /// sequence number stored plus one.
    ///
    /// First in multi-row statements with nothing to roll back to: without a
    /// savepoint (or a statement that may abort half-way) SQLite keeps no copy of
    /// each page it changes, which is most of a savepoint's cost on this
    /// write-heavy path. If an event turns out to be stored already (a resent
    /// batch), that attempt is given up and the transaction redone row by row, to
    /// learn which events are new.
    ///
    /// `BEGIN IMMEDIATE` takes the write lock before the highest number is read,
    /// so another process writing the same file (`nectar analyze --store` beside
    /// `serve`) cannot hand out the same numbers.
    ///
    /// On PostgreSQL a transaction-scoped advisory lock plays `BEGIN IMMEDIATE`'s
    /// part: writers of every `serve` process on one database take turns, so
    /// sequence numbers follow commit order with no gaps there too.
    async fn transaction(&mut self, requests: &[Request]) -> Result<Done, StoreError> {
        let mut tx = self.begin_numbering().await?;
        let last: i64 = crate::db::query("SELECT COALESCE(MAX(seq), 0) FROM events")
            .scalar(tx.exec())
            .await?;
        let first_seq = last + 1;
        let mut rollup = RollupBatch::default();
        let mut sessions = SessionBatch::default();
        let (outcomes, fresh) = if insert_all(
            &mut self.rows,
            &mut tx,
            requests,
            first_seq,
            (&mut rollup, &mut sessions),
        )
        .await?
        {
            let outcomes = requests
                .iter()
                .map(|request| IngestOutcome {
                    stored: request.events.len(),
                    duplicates: 0,
                })
                .collect();
            (outcomes, Fresh::All)
        } else {
            tx.rollback().await?;
            tx = self.begin_numbering().await?;
            rollup = RollupBatch::default();
            sessions = SessionBatch::default();
            self.insert_each(&mut tx, requests, first_seq, (&mut rollup, &mut sessions))
                .await?
        };
        if !rollup.is_empty() {
            rollup.flush(&mut tx).await?;
        }
        sessions.flush(&mut tx).await?;
        tx.commit().await?;
        // Only now, after the commit: a failed transaction must not be counted.
        rollup.move_values(&mut self.ranked);

        let stored: usize = outcomes.iter().map(|o: &IngestOutcome| o.stored).sum();
        let duplicates: usize = outcomes.iter().map(|o| o.duplicates).sum();
        self.stats.commits.fetch_add(1, Ordering::Relaxed);
        self.stats
            .events
            .fetch_add(stored as u64, Ordering::Relaxed);
        self.stats
            .duplicates
            .fetch_add(duplicates as u64, Ordering::Relaxed);
        if stored > 0 {
            self.stats
                .last_seq
                .store(last as u64 + stored as u64, Ordering::Relaxed);
        }
        Ok(Done {
            outcomes,
            fresh,
            first_seq: first_seq as u64,
        })
    }

    /// A transaction that holds the right to number events.
    async fn begin_numbering(&self) -> Result<Tx, StoreError> {
        let mut tx = self.store.db.begin().await?;
        if let Tx::Postgres(_) = tx {
            crate::db::query("SELECT pg_advisory_xact_lock(?)")
                .bind(NUMBERING_LOCK)
                .execute(tx.exec())
                .await?;
        }
        Ok(tx)
    }

    /// Each request's events row by row, counting which were new; only new events
    /// take a sequence number.
    async fn insert_each<'a>(
        &mut self,
        conn: &mut Tx,
        requests: &'a [Request],
        first_seq: i64,
        (rollup, sessions): (&mut RollupBatch<'a>, &mut SessionBatch<'a>),
    ) -> Result<(Vec<IngestOutcome>, Fresh), StoreError> {
        let mut outcomes = Vec::with_capacity(requests.len());
        let mut flags = Vec::with_capacity(requests.len());
        let mut next_seq = first_seq;
        for request in requests {
            let mut outcome = IngestOutcome::default();
            let mut fresh_of_request = Vec::with_capacity(request.events.len());
            for chunk in request.events.chunks(ROWS_PER_STATEMENT) {
                let fresh = self.rows[0].insert_each(conn, chunk, &mut next_seq).await?;
                for (event, is_new) in chunk.iter().zip(fresh) {
                    if is_new {
                        outcome.stored += 1;
                        rollup.add(event);
                        sessions.add(event);
                    } else {
                        outcome.duplicates += 1;
                    }
                    fresh_of_request.push(is_new);
                }
            }
            outcomes.push(outcome);
            flags.push(fresh_of_request);
        }
        Ok((outcomes, Fresh::Some(flags)))
    }
}

/// The PostgreSQL advisory lock the writers of every process take while they
/// number and insert events (an arbitrary constant: "nectar events" in ASCII).
const NUMBERING_LOCK: i64 = 0x6e65_6374_6172_6576;

/// Rows per INSERT statement: 13 parameters a row stays under SQLite's 32,766.
const ROWS_PER_STATEMENT: usize = 1_000;
const COLUMNS: usize = 13;

/// Every request's events in multi-row statements. False (the caller gives up
/// the attempt) as soon as a statement stored fewer rows than it had,
/// because some ids were stored before.
///
/// A pipeline, because SQLite runs each statement on sqlx's worker thread: while it
/// inserts chunk k, this task renders chunk k+1 into the other buffer, writes chunk
/// k to the rollups, so the worker never waits for them. Events are numbered from
/// `first_seq` in order.
async fn insert_all<'a>(
    rows: &mut [RowBuffer; 2],
    conn: &mut Tx,
    requests: &'a [Request],
    first_seq: i64,
    (rollup, sessions): (&mut RollupBatch<'a>, &mut SessionBatch<'a>),
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
    let postgres = matches!(conn, Tx::Postgres(_));
    if let Some(chunk) = chunks.peek() {
        current.prepare(chunk, postgres);
    }
    let mut chunk_seq = first_seq;
    while let Some(chunk) = chunks.next() {
        let execute = current.insert(conn, chunk, 0..chunk.len(), chunk_seq);
        chunk_seq += chunk.len() as i64;
        let following = chunks.peek().copied();
        let side_work = async {
            if let Some(following) = following {
                next.prepare(following, postgres);
            }
            for event in chunk {
                rollup.add(event);
                sessions.add(event);
            }
        };
        let (done, ()) = tokio::join!(biased; execute, side_work);
        if done? as usize != chunk.len() {
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
    /// SQLite: the full-text insert for `text_statement_rows` rows.
    text_statement: String,
    text_statement_rows: usize,
}

struct RowText {
    src_ip: Option<Range<usize>>,
    dst_ip: Option<Range<usize>>,
    data: Range<usize>,
    /// What the full-text index takes: SQLite's body
    /// ([`search_text::push_sqlite_body`]), PostgreSQL's words
    /// ([`search_text::push_event_words`]).
    search: Range<usize>,
}

impl RowBuffer {
    /// Renders the chunk and makes the statement text fit its row count
    /// (PostgreSQL's statement takes arrays, so one text fits every count).
    fn prepare(&mut self, chunk: &[Event], postgres: bool) {
        self.render(chunk, postgres);
        if postgres {
            if self.statement_rows != usize::MAX {
                self.statement = PG_INSERT.to_owned();
                self.statement_rows = usize::MAX;
            }
        } else if self.statement_rows != chunk.len() {
            self.statement = insert_statement(chunk.len());
            self.statement_rows = chunk.len();
        }
        if !postgres && self.text_statement_rows != chunk.len() {
            self.text_statement = text_statement(chunk.len());
            self.text_statement_rows = chunk.len();
        }
    }

    /// Inserts rows `rows` of the prepared chunk, numbered from `first_seq`;
    /// how many were new.
    async fn insert(
        &self,
        conn: &mut Tx,
        chunk: &[Event],
        rows: Range<usize>,
        first_seq: i64,
    ) -> Result<u64, StoreError> {
        Ok(match conn {
            Tx::Sqlite(tx) => {
                let new = self
                    .bind(&self.statement, chunk, rows.clone(), first_seq)?
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                // Every row new (else the caller gives this attempt up, or, row
                // by row, the one row was a resend): their text into the
                // full-text index in the same transaction, so a committed event
                // is searchable. (PostgreSQL's insert fills its index itself.)
                if new as usize == rows.len() {
                    self.bind_text(rows, first_seq)?.execute(&mut **tx).await?;
                }
                new
            }
            Tx::Postgres(tx) => self
                .bind_arrays(chunk, rows, first_seq)?
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    /// Inserts a chunk row by row; which rows were new. A new row takes
    /// `next_seq`, which then moves on.
    async fn insert_each(
        &mut self,
        conn: &mut Tx,
        chunk: &[Event],
        next_seq: &mut i64,
    ) -> Result<Vec<bool>, StoreError> {
        let postgres = matches!(conn, Tx::Postgres(_));
        self.render(chunk, postgres);
        self.statement = if postgres {
            PG_INSERT.to_owned()
        } else {
            insert_statement(1)
        };
        self.statement_rows = if postgres { usize::MAX } else { 1 };
        if !postgres {
            self.text_statement = text_statement(1);
            self.text_statement_rows = 1;
        }
        let mut fresh = Vec::with_capacity(chunk.len());
        for i in 0..chunk.len() {
            let done = self.insert(conn, chunk, i..i + 1, *next_seq).await?;
            let is_new = done == 1;
            if is_new {
                *next_seq += 1;
            }
            fresh.push(is_new);
        }
        Ok(fresh)
    }

    fn render(&mut self, chunk: &[Event], postgres: bool) {
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
            let start = text.len();
            if postgres {
                search_text::push_event_words(text, event);
            } else {
                search_text::push_sqlite_body(text, event);
            }
            let search = start..text.len();
            self.rows.push(RowText {
                src_ip,
                dst_ip,
                data,
                search,
            });
        }
    }

    fn bind<'q>(
        &'q self,
        sql: &'q str,
        chunk: &'q [Event],
        rows: Range<usize>,
        first_seq: i64,
    ) -> Result<sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>, StoreError>
    {
        let text = |range: &Range<usize>| -> Result<&'q str, StoreError> {
            std::str::from_utf8(&self.text[range.clone()]).map_err(|e| StoreError::CorruptRow {
                id: String::new(),
                reason: e.to_string(),
            })
        };
        let mut query = sqlx::query(sql);
        let start = rows.start;
        for i in rows {
            let (event, row) = (&chunk[i], &self.rows[i]);
            query = query
                .bind(first_seq + (i - start) as i64)
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
                .bind(text(&row.data)?)
                .bind(session_of(event));
        }
        Ok(query)
    }

    /// SQLite: the full-text rows of `rows`, numbered from `first_seq`.
    fn bind_text(
        &self,
        rows: Range<usize>,
        first_seq: i64,
    ) -> Result<sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'_>>, StoreError>
    {
        let mut query = sqlx::query(&self.text_statement);
        let start = rows.start;
        for i in rows {
            let body =
                std::str::from_utf8(&self.text[self.rows[i].search.clone()]).map_err(|e| {
                    StoreError::CorruptRow {
                        id: String::new(),
                        reason: e.to_string(),
                    }
                })?;
            query = query.bind(first_seq + (i - start) as i64).bind(body);
        }
        Ok(query)
    }

    /// PostgreSQL: the rows as one array per column.
    fn bind_arrays<'q>(
        &'q self,
        chunk: &'q [Event],
        rows: Range<usize>,
        first_seq: i64,
    ) -> Result<sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>, StoreError>
    {
        let n = rows.len();
        let mut seq = Vec::with_capacity(n);
        let mut id = Vec::with_capacity(n);
        let mut time = Vec::with_capacity(n);
        let mut sensor = Vec::with_capacity(n);
        let mut kind = Vec::with_capacity(n);
        let mut severity = Vec::with_capacity(n);
        let mut src_ip = Vec::with_capacity(n);
        let mut src_port = Vec::with_capacity(n);
        let mut dst_ip = Vec::with_capacity(n);
        let mut dst_port = Vec::with_capacity(n);
        let mut summary = Vec::with_capacity(n);
        let mut data = Vec::with_capacity(n);
        let mut session = Vec::with_capacity(n);
        let mut words = Vec::with_capacity(n);
        let start = rows.start;
        for i in rows {
            let (event, row) = (&chunk[i], &self.rows[i]);
            seq.push(first_seq + (i - start) as i64);
            id.push(event.id.as_bytes().as_slice());
            time.push(event.time.as_micros());
            sensor.push(event.sensor.as_str());
            kind.push(event.kind.as_str());
            severity.push(i64::from(event.severity.rank()));
            src_ip.push(row.src_ip.clone().map(|r| &self.text[r]));
            src_port.push(event.src_port.map(i32::from));
            dst_ip.push(row.dst_ip.clone().map(|r| &self.text[r]));
            dst_port.push(event.dst_port.map(i32::from));
            summary.push(event.summary.as_str());
            session.push(session_of(event));
            words.push(std::str::from_utf8(&self.text[row.search.clone()]).unwrap_or_default());
            data.push(
                std::str::from_utf8(&self.text[row.data.clone()]).map_err(|e| {
                    StoreError::CorruptRow {
                        id: String::new(),
                        reason: e.to_string(),
                    }
                })?,
            );
        }
        Ok(sqlx::query(&self.statement)
            .bind(seq)
            .bind(id)
            .bind(time)
            .bind(sensor)
            .bind(kind)
            .bind(severity)
            .bind(src_ip)
            .bind(src_port)
            .bind(dst_ip)
            .bind(dst_port)
            .bind(summary)
            .bind(data)
            .bind(session)
            .bind(words))
    }
}

/// The honeypot session an event belongs to (`data.session`), for its column.
fn session_of(event: &Event) -> Option<&str> {
    event
        .data
        .get(nectar_event::field::SESSION)
        .and_then(serde_json::Value::as_str)
}

/// PostgreSQL's insert: one array per column, so the statement is prepared once
/// for every chunk size and a chunk is 12 parameters, not 12,000 (the server
/// parses and plans a multi-row VALUES list per distinct row count). Ids already
/// stored are skipped (`ON CONFLICT DO NOTHING`), which makes resending harmless.
///
/// The same statement fills the full-text index for the events it stored, from
/// words the writer extracted (cheaper than PostgreSQL walking each JSONB value
/// with `jsonb_path_query` and a regular expression: measured 2.3 s → 0.9 s of
/// server time per 50,000 events). Its row count is that of the new events.
const PG_INSERT: &str = "WITH r AS (SELECT * FROM UNNEST($1::int8[], $2::bytea[], $3::int8[], \
     $4::text[], $5::text[], $6::int8[], $7::bytea[], $8::int4[], $9::bytea[], $10::int4[], \
     $11::text[], $12::text[], $13::text[], $14::text[]) AS r(seq, id, time_us, sensor, kind, \
     severity, src_ip, src_port, dst_ip, dst_port, summary, data, session, words)), \
     stored AS (INSERT INTO events (seq, id, time_us, sensor, kind, severity, src_ip, \
     src_port, dst_ip, dst_port, summary, data, session) \
     SELECT seq, id, time_us, sensor, kind, severity, src_ip, src_port, dst_ip, dst_port, \
     summary, data::jsonb, session FROM r ON CONFLICT DO NOTHING RETURNING seq) \
     INSERT INTO event_text (rowid, body) \
     SELECT r.seq, to_tsvector('simple', r.words) FROM r JOIN stored ON stored.seq = r.seq";

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
        "INSERT OR IGNORE INTO events (seq, id, time_us, sensor, kind, severity, src_ip, \
         src_port, dst_ip, dst_port, summary, data, session) VALUES ",
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

/// SQLite: `INSERT INTO event_text (rowid, body) VALUES (?, ?), ...` for `rows`
/// rows.
fn text_statement(rows: usize) -> String {
    let mut sql = String::with_capacity(50 + rows * 7);
    sql.push_str("INSERT INTO event_text (rowid, body) VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?)");
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_numbers_parameters_in_order() {
        let sql = insert_statement(2);
        assert!(sql.contains("VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?),(?,?,?,?,?,?,?,?,?,?,?,?,?)"));
        assert_eq!(sql.matches('?').count(), 26);
    }
}
