//! Running one consumer: its thread, its queue, catching up, saving its offset.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::runtime::Handle;
use tracing::{info, warn};

use super::{CommittedLog, Consumer, ConsumerState, Fanout, Offset, Sequenced, StartAt};

/// How a consumer is run.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Committed batches its queue holds before new ones are skipped (and read
    /// back from the store later).
    pub queue_batches: usize,
    /// Events read back from the store at a time when catching up.
    pub catch_up_chunk: usize,
    /// How often, at most, its offset is saved.
    pub save_every: Duration,
    /// How often an idle consumer asks the store whether another process (or a
    /// batch it skipped) committed events it has not seen.
    pub idle_poll: Duration,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            queue_batches: 256,
            catch_up_chunk: 5_000,
            save_every: Duration::from_millis(250),
            idle_poll: Duration::from_secs(2),
        }
    }
}

/// One consumer's state for `/api/v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsumerStatus {
    /// Its name.
    pub name: String,
    /// The last sequence number it handled.
    pub offset: u64,
    /// The last one saved in the store (where it restarts after a crash).
    pub saved_offset: u64,
    /// Committed events it has not handled yet.
    pub lag: u64,
    /// Events handled since start.
    pub delivered: u64,
    /// Of those, events read back from the store (it had fallen behind).
    pub caught_up: u64,
    /// Events whose batch found its queue full (read back later, not lost).
    pub skipped_full: u64,
    /// Failed attempts to handle events (they are retried).
    pub failures: u64,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// Whether its thread is running.
    pub running: bool,
    /// Whether it runs in this process: false while another `serve` process on
    /// the same database holds it (this one takes over if that one stops).
    pub active: bool,
}

/// A view of a running consumer's counters, for status pages. Cheap to clone.
#[derive(Clone)]
pub struct ConsumerProbe {
    name: String,
    state: Arc<ConsumerState>,
    fanout: Arc<Fanout>,
    done: tokio::sync::watch::Receiver<bool>,
}

impl ConsumerProbe {
    /// Its state now.
    pub fn status(&self) -> ConsumerStatus {
        let s = &self.state;
        let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        let offset = get(&s.offset);
        let active = s.active.load(Ordering::Relaxed);
        ConsumerStatus {
            name: self.name.clone(),
            offset,
            saved_offset: get(&s.saved_offset),
            // A consumer another process runs is that process's to report.
            lag: if active {
                self.fanout.head().saturating_sub(offset)
            } else {
                0
            },
            delivered: get(&s.delivered),
            caught_up: get(&s.caught_up),
            skipped_full: get(&s.skipped_full),
            failures: get(&s.failures),
            last_error: super::lock(&s.last_error).clone(),
            running: !*self.done.borrow(),
            active,
        }
    }
}

/// A running consumer.
pub struct ConsumerHandle {
    probe: ConsumerProbe,
    abort: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ConsumerHandle {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.probe.name
    }

    /// A view of its counters for status pages, usable after the handle is gone.
    pub fn probe(&self) -> ConsumerProbe {
        self.probe.clone()
    }

    /// Its state now.
    pub fn status(&self) -> ConsumerStatus {
        self.probe.status()
    }

    /// Waits until the consumer has handled everything committed (after the
    /// destination closed the fanout) and saved its offset; after `grace` (at
    /// once while the destination still runs, with zero) it is told to stop, saves
    /// what it handled, and the rest waits in the store for its next start.
    pub async fn stop(mut self, grace: Duration) {
        let mut done = self.probe.done.clone();
        // Only whether it finished: the watch's guard must not live across the
        // join below (it is not `Send`).
        let finished = tokio::time::timeout(grace, done.wait_for(|d| *d))
            .await
            .is_ok_and(|seen| seen.is_ok());
        if !finished {
            warn!(consumer = %self.probe.name, lag = self.status().lag,
                "A consumer did not finish in time; it resumes from its saved offset at next start.");
            self.abort.store(true, Ordering::Relaxed);
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// Starts `consumer` on a thread of its own, reading `fanout` and catching up
/// from `log`. Call from inside the Tokio runtime (the log is read on it).
pub fn spawn_consumer<C: Consumer, L: CommittedLog>(
    consumer: C,
    log: L,
    fanout: &Arc<Fanout>,
    config: ConsumerConfig,
) -> std::io::Result<ConsumerHandle> {
    let name = consumer.name().to_owned();
    let state = Arc::new(ConsumerState::default());
    let queue = fanout.subscribe(config.queue_batches, state.clone());
    let abort = Arc::new(AtomicBool::new(false));
    let (done_tx, done) = tokio::sync::watch::channel(false);
    let runner = Runner {
        consumer,
        log,
        handle: Handle::current(),
        state: state.clone(),
        fanout: fanout.clone(),
        abort: abort.clone(),
        config,
        offset: 0,
        last_save: Instant::now(),
        held: None,
        claim: None,
    };
    let thread = std::thread::Builder::new()
        .name(format!("consumer-{name}"))
        .spawn(move || {
            runner.run(queue);
            let _ = done_tx.send(true);
        })?;
    Ok(ConsumerHandle {
        probe: ConsumerProbe {
            name,
            state,
            fanout: fanout.clone(),
            done,
        },
        abort,
        thread: Some(thread),
    })
}

struct Runner<C, L> {
    consumer: C,
    log: L,
    handle: Handle,
    state: Arc<ConsumerState>,
    fanout: Arc<Fanout>,
    abort: Arc<AtomicBool>,
    config: ConsumerConfig,
    offset: u64,
    last_save: Instant,
    /// A batch read from the queue past a gap, handled on the next turn.
    held: Option<Arc<super::Committed>>,
    /// The right to run the consumer, while this process has it.
    claim: Option<super::Claim>,
}

/// Stopped on purpose (the grace period ran out), or the claim was lost.
struct Aborted;

/// How serving a claimed consumer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Served {
    /// Told to stop, or the stream ended.
    Stopped,
    /// The claim was lost: claim again.
    Lost,
}

impl<C: Consumer, L: CommittedLog> Runner<C, L> {
    fn run(mut self, queue: std::sync::mpsc::Receiver<Arc<super::Committed>>) {
        loop {
            let Some(claim) = self.claim(&queue) else {
                return;
            };
            self.claim = Some(claim);
            self.state.active.store(true, Ordering::Relaxed);
            let served = match self.start() {
                Ok(()) => self.serve(&queue),
                Err(Aborted) => Served::Stopped,
            };
            if served == Served::Stopped && self.holds() {
                return;
            }
            // The claim was lost (its database connection broke): another
            // process may run the consumer now. Handled events past the saved
            // offset are handled again by whoever resumes from it.
            warn!(consumer = %self.consumer.name(), offset = self.offset,
                "A consumer lost its claim (the database connection holding it broke); it stops here and claims again.");
            self.claim = None;
            self.held = None;
            self.state.active.store(false, Ordering::Relaxed);
            if served == Served::Stopped && self.abort.load(Ordering::Relaxed) {
                return;
            }
        }
    }

    /// Whether this process still holds the right to run the consumer.
    fn holds(&self) -> bool {
        self.claim.as_ref().is_some_and(super::Claim::is_held)
    }

    /// Waits until this process may run the consumer: at once unless several
    /// processes read one log, else when the process that runs it stops. What
    /// is published meanwhile is dropped (the holder handles it; this one
    /// resumes from the saved offset). `None` when told to stop first.
    fn claim(
        &mut self,
        queue: &std::sync::mpsc::Receiver<Arc<super::Committed>>,
    ) -> Option<super::Claim> {
        let name = self.consumer.name().to_owned();
        let mut waiting = false;
        loop {
            if self.abort.load(Ordering::Relaxed) {
                return None;
            }
            match self.handle.block_on(self.log.claim(&name)) {
                Ok(Some(claim)) => {
                    if waiting {
                        info!(consumer = %name, "The consumer's turn came: it runs in this process now.");
                    }
                    return Some(claim);
                }
                Ok(None) if !waiting => {
                    info!(consumer = %name, "Another process runs this consumer; this one takes over if it stops.");
                    waiting = true;
                }
                Ok(None) => {}
                Err(e) => self.failed("claim its turn", &e.0),
            }
            let until = Instant::now() + self.config.idle_poll;
            loop {
                match queue.recv_timeout(until.saturating_duration_since(Instant::now())) {
                    Ok(_) => {}
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return None,
                }
            }
        }
    }

    /// Runs the claimed consumer until it is told to stop, its stream ends or
    /// the claim is lost.
    fn serve(&mut self, queue: &std::sync::mpsc::Receiver<Arc<super::Committed>>) -> Served {
        // The first turn reads the store at once: a consumer started behind (a
        // restart, a new consumer from the beginning) catches up now, not after
        // the first idle poll.
        let mut first_turn = true;
        loop {
            if self.abort.load(Ordering::Relaxed) {
                self.save(true);
                return Served::Stopped;
            }
            if !self.holds() {
                return Served::Lost;
            }
            let received = match self.held.take() {
                Some(batch) => Ok(batch),
                None if first_turn => Err(RecvTimeoutError::Timeout),
                None => queue.recv_timeout(self.config.idle_poll),
            };
            first_turn = false;
            let step = match received {
                Ok(batch) => {
                    let batch = self.merge_queued(batch, queue);
                    self.take(&batch)
                }
                Err(RecvTimeoutError::Timeout) => self.poll_store(),
                Err(RecvTimeoutError::Disconnected) => {
                    // The destination stopped: what it committed last may have
                    // been skipped; read it back, then save and stop.
                    if self.poll_store().is_ok() {
                        self.save(true);
                    }
                    return Served::Stopped;
                }
            };
            if step.is_err() {
                if !self.holds() {
                    return Served::Lost;
                }
                // Told to stop: keep what was handled for the next start.
                self.save(true);
                return Served::Stopped;
            }
            self.save(false);
        }
    }

    /// Loads the offset and lets the consumer put its output back to it.
    fn start(&mut self) -> Result<(), Aborted> {
        let name = self.consumer.name().to_owned();
        let saved = self.retry("read its offset", |r| {
            r.handle.block_on(r.log.load_offset(&name)).map_err(|e| e.0)
        })?;
        let offset = match saved {
            Some(offset) => offset,
            None => {
                let seq = match self.consumer.start_at() {
                    StartAt::Beginning => 0,
                    StartAt::Latest => self.retry("read the last sequence number", |r| {
                        r.handle.block_on(r.log.last_seq()).map_err(|e| e.0)
                    })?,
                };
                Offset {
                    seq,
                    checkpoint: String::new(),
                }
            }
        };
        self.retry("resume", |r| {
            r.consumer.resume(&offset.checkpoint).map_err(|e| e.0)
        })?;
        self.offset = offset.seq;
        self.state.offset.store(offset.seq, Ordering::Relaxed);
        self.state.saved_offset.store(offset.seq, Ordering::Relaxed);
        if let Ok(last) = self.handle.block_on(self.log.last_seq()) {
            self.fanout.note_head(last);
        }
        info!(consumer = %name, offset = offset.seq, "Consumer started.");
        self.save(true);
        Ok(())
    }

    /// `first` and the batches queued behind it that follow on without a gap, as
    /// one (up to a catch-up chunk): a consumer that fell behind pays its cost per
    /// delivery (a write, a request) once for many small commits.
    fn merge_queued(
        &mut self,
        first: Arc<super::Committed>,
        queue: &std::sync::mpsc::Receiver<Arc<super::Committed>>,
    ) -> Arc<super::Committed> {
        let mut merged: Option<super::Committed> = None;
        let mut last = first.last_seq();
        let mut size = first.events.len();
        while size < self.config.catch_up_chunk {
            let Ok(next) = queue.try_recv() else { break };
            if next.first_seq != last + 1 {
                // A gap (skipped batches): deliver what is merged; `next` waits
                // for the next turn, after the catch-up.
                self.held = Some(next);
                return merged.map_or(first, Arc::new);
            }
            let m = merged.get_or_insert_with(|| super::Committed {
                first_seq: first.first_seq,
                events: first.events.clone(),
            });
            m.events.extend(next.events.iter().cloned());
            last = next.last_seq();
            size += next.events.len();
        }
        merged.map_or(first, Arc::new)
    }

    /// A batch from the queue: the part not handled yet, after any gap before it.
    fn take(&mut self, batch: &super::Committed) -> Result<(), Aborted> {
        let last = batch.last_seq();
        if last <= self.offset {
            return Ok(());
        }
        if batch.first_seq > self.offset + 1 {
            self.catch_up(batch.first_seq - 1)?;
        }
        if last <= self.offset {
            return Ok(());
        }
        let skip = (self.offset + 1).saturating_sub(batch.first_seq) as usize;
        self.deliver(&batch.events[skip..], last)?;
        Ok(())
    }

    /// Catches up with whatever the store holds beyond the offset.
    fn poll_store(&mut self) -> Result<(), Aborted> {
        let last = self.retry("read the last sequence number", |r| {
            r.handle.block_on(r.log.last_seq()).map_err(|e| e.0)
        })?;
        self.fanout.note_head(last);
        if last > self.offset {
            self.catch_up(last)?;
        }
        Ok(())
    }

    /// Reads events back from the store until `until` is handled.
    fn catch_up(&mut self, until: u64) -> Result<(), Aborted> {
        // The next chunk is read on the runtime while this thread hands the
        // current one to the consumer: reading back (SQLite's thread) and
        // handling (this one) overlap on two cores.
        let mut next = Some(self.prefetch(self.offset));
        while self.offset < until {
            if self.abort.load(Ordering::Relaxed) || !self.holds() {
                return Err(Aborted);
            }
            let after = self.offset;
            let prefetched = next
                .take()
                .and_then(|task| self.handle.block_on(task).ok())
                .and_then(Result::ok);
            let read: Vec<Sequenced> = match prefetched {
                Some(read) => read,
                None => {
                    let chunk = self.config.catch_up_chunk;
                    self.retry("read events back", |r| {
                        r.handle
                            .block_on(r.log.read_after(after, chunk))
                            .map_err(|e| e.0)
                    })?
                }
            };
            let Some(last) = read.last().map(|s| s.seq) else {
                // Nothing beyond the offset (events deleted by retention).
                self.offset = until;
                self.state.offset.store(until, Ordering::Relaxed);
                return Ok(());
            };
            if last < until {
                next = Some(self.prefetch(last));
            }
            let events: Vec<nectar_event::Event> = read.into_iter().map(|s| s.event).collect();
            self.state
                .caught_up
                .fetch_add(events.len() as u64, Ordering::Relaxed);
            self.deliver(&events, last)?;
            self.save(false);
        }
        Ok(())
    }

    /// Starts reading the chunk after `after` on the runtime.
    fn prefetch(
        &self,
        after: u64,
    ) -> tokio::task::JoinHandle<Result<Vec<Sequenced>, super::LogError>> {
        let (log, chunk) = (self.log.clone(), self.config.catch_up_chunk);
        self.handle
            .spawn(async move { log.read_after(after, chunk).await })
    }

    fn deliver(&mut self, events: &[nectar_event::Event], last: u64) -> Result<(), Aborted> {
        self.retry("handle events", |r| {
            r.consumer
                .deliver(last + 1 - events.len() as u64, events)
                .map_err(|e| e.0)
        })?;
        self.offset = last;
        self.state.offset.store(last, Ordering::Relaxed);
        self.state
            .delivered
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Saves the offset (with the consumer's checkpoint) if it moved and it is
    /// time (or `now`). A failure is logged; the next save tries again.
    fn save(&mut self, now: bool) {
        if !self.holds() {
            // Another process may run the consumer now: its offset is not ours to move.
            return;
        }
        let saved = self.state.saved_offset.load(Ordering::Relaxed);
        if !now && (self.offset == saved || self.last_save.elapsed() < self.config.save_every) {
            return;
        }
        self.last_save = Instant::now();
        let checkpoint = match self.consumer.checkpoint() {
            Ok(checkpoint) => checkpoint,
            Err(e) => {
                self.failed("save its checkpoint", &e.0);
                return;
            }
        };
        let offset = Offset {
            seq: self.offset,
            checkpoint,
        };
        match self
            .handle
            .block_on(self.log.save_offset(self.consumer.name(), &offset))
        {
            Ok(()) => self.state.saved_offset.store(offset.seq, Ordering::Relaxed),
            Err(e) => self.failed("save its offset", &e.0),
        }
    }

    fn failed(&self, what: &str, error: &str) {
        self.state.failures.fetch_add(1, Ordering::Relaxed);
        *super::lock(&self.state.last_error) = Some(format!("{what}: {error}"));
        warn!(consumer = %self.consumer.name(), %error, "A consumer could not {what}; retrying.");
    }

    /// Runs `attempt` until it succeeds, backing off from 100 ms to 5 s between
    /// tries; gives up only when told to stop.
    fn retry<T>(
        &mut self,
        what: &str,
        mut attempt: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<T, Aborted> {
        let mut pause = Duration::from_millis(100);
        loop {
            match attempt(self) {
                Ok(value) => return Ok(value),
                Err(error) => self.failed(what, &error),
            }
            if self.abort.load(Ordering::Relaxed) || !self.holds() {
                return Err(Aborted);
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }
}
