//! The one packet driver: source → decode → decode-error counts → windows.
//!
//! `nectar analyze` (files), the live detector in `nectar serve` (an
//! interface or a replayed file), the tests and the benchmark all run
//! [`Driver::run`], so what is measured is what ships. The driver knows
//! nothing of monitors, sinks or threads: it hands each closed window to a
//! callback and, every few thousand packets (and on every idle poll of a
//! live source), reports [`Progress`] to a second callback, whose answer is
//! how a caller stops it (a stop flag, a deadline).
#![forbid(unsafe_code)]

use std::ops::ControlFlow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nectar_packet::{DecodeErrors, PacketSource, PacketView, SourceError};

use crate::window::{WindowReport, Windower};

/// Packets between two progress reports by default: rare enough to cost
/// nothing per packet, often enough for a stop flag to act within
/// milliseconds.
pub const DEFAULT_PROGRESS_EVERY: u64 = 4096;

/// How long a live source waits for a packet before the driver closes
/// windows by wall clock and reports progress.
pub const DEFAULT_IDLE_POLL: Duration = Duration::from_millis(100);

/// Where a run stands, as reported to the progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Packets read by this driver so far.
    pub packets: u64,
    /// Bytes of the input consumed so far (files; 0 for a live capture).
    pub bytes_read: u64,
    /// Packets that did not decode completely so far.
    pub decode_errors: u64,
}

/// Why [`Driver::run`] returned without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The file was read to its end.
    EndOfInput,
    /// The progress callback asked to stop.
    Stopped,
}

/// The packet loop's state: the windower, the decode-error counts and the
/// packet count, kept across runs so several files can continue one
/// timeline.
#[derive(Debug)]
pub struct Driver {
    windower: Windower,
    errors: DecodeErrors,
    packets: u64,
    progress_every: u64,
    idle_poll: Duration,
}

impl Driver {
    /// A driver over `windower` with the default progress interval and idle
    /// poll.
    pub fn new(windower: Windower) -> Driver {
        Driver {
            windower,
            errors: DecodeErrors::default(),
            packets: 0,
            progress_every: DEFAULT_PROGRESS_EVERY,
            idle_poll: DEFAULT_IDLE_POLL,
        }
    }

    /// Reports progress every `packets` packets instead (at least 1).
    pub fn progress_every(mut self, packets: u64) -> Driver {
        self.progress_every = packets.max(1);
        self
    }

    /// Waits at most `poll` for a live packet before a wall-clock tick.
    pub fn idle_poll(mut self, poll: Duration) -> Driver {
        self.idle_poll = poll;
        self
    }

    /// Reads `source` until a file ends, `on_progress` breaks, or the source
    /// fails: every packet is decoded, its decode errors counted and its
    /// metadata fed to the windower, which hands each closed window to
    /// `on_window`. A live source's idle polls close windows by wall clock.
    ///
    /// Does not flush the last window (call [`Driver::finish`]), so several
    /// files can continue one timeline and a stopped live capture can go on
    /// later. On an error the windows up to it have been emitted and the
    /// error says how many packets were read.
    pub fn run<W, P>(
        &mut self,
        source: &mut PacketSource,
        on_window: &mut W,
        on_progress: &mut P,
    ) -> Result<Ended, SourceError>
    where
        W: FnMut(&WindowReport),
        P: FnMut(&Progress) -> ControlFlow<()>,
    {
        self.run_observed(source, on_window, &mut |_| {}, on_progress)
    }

    /// [`Driver::run`], also handing every decoded packet to `on_packet`
    /// (passive inventory): it must not allocate per packet either.
    pub fn run_observed<W, P, O>(
        &mut self,
        source: &mut PacketSource,
        on_window: &mut W,
        on_packet: &mut O,
        on_progress: &mut P,
    ) -> Result<Ended, SourceError>
    where
        W: FnMut(&WindowReport),
        P: FnMut(&Progress) -> ControlFlow<()>,
        O: FnMut(&PacketView<'_>),
    {
        let live = source.is_live();
        let mut since_report = 0u64;
        loop {
            match source.next_packet(self.idle_poll) {
                Ok(Some(p)) => {
                    let view = p.decode();
                    self.errors.record_meta(&view.meta);
                    self.windower.push(&view.meta, on_window);
                    on_packet(&view);
                    self.packets += 1;
                    since_report += 1;
                    if since_report < self.progress_every {
                        continue;
                    }
                    since_report = 0;
                }
                Ok(None) if live => self.windower.tick(now_ns(), on_window),
                Ok(None) => return Ok(Ended::EndOfInput),
                Err(e) => return Err(e),
            }
            let progress = Progress {
                packets: self.packets,
                bytes_read: bytes_read(source),
                decode_errors: self.errors.total(),
            };
            if on_progress(&progress).is_break() {
                return Ok(Ended::Stopped);
            }
        }
    }

    /// Closes the last, partial window.
    pub fn finish<W: FnMut(&WindowReport)>(&mut self, on_window: &mut W) {
        self.windower.finish(on_window);
    }

    /// Packets read so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Decode errors so far.
    pub fn errors(&self) -> &DecodeErrors {
        &self.errors
    }

    /// The windower (its [`crate::WindowerStats`]).
    pub fn windower(&self) -> &Windower {
        &self.windower
    }
}

fn bytes_read(source: &PacketSource) -> u64 {
    match source {
        PacketSource::File(f) => f.bytes_read(),
        #[allow(unreachable_patterns)]
        _ => 0,
    }
}

/// Wall-clock time for closing live windows when no packet comes.
fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
