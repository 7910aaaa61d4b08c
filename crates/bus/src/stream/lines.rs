//! A consumer that writes each committed event as lines of a rotated file (the
//! JSON-lines event log, the Cowrie log), exactly once across crashes: its
//! checkpoint is the file's [`LogPoint`], and on start the file is put back to the
//! point saved with the offset before the events after it are written again.
//!
//! It lives here, not in the pipeline, because both the store's ingest benchmark
//! and the honeypot crate's Cowrie log need it, and neither may depend on the
//! pipeline.

use std::fs::File;
use std::path::PathBuf;

use nectar_capture::jsonl::{JsonlConfig, LineLog, LogPoint, Rewound};
use nectar_event::Event;
use tracing::warn;

use super::{Consumer, ConsumerError, StartAt};

/// Turns an event into the lines of a log (none, one or several, each ending in `\n`).
pub trait RenderLines: Send + 'static {
    /// Appends `event`'s lines to `out`.
    fn render(&mut self, event: &Event, out: &mut Vec<u8>);
}

/// Nectar's own JSON lines: the event as the API shows it, one per line.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonLines;

impl RenderLines for JsonLines {
    fn render(&mut self, event: &Event, out: &mut Vec<u8>) {
        // Serialising a typed event into memory cannot fail.
        let _ = serde_json::to_writer(&mut *out, event);
        out.push(b'\n');
    }
}

/// The log-file consumer.
pub struct LineFile<R> {
    name: String,
    log: LineLog,
    render: R,
    lines: Vec<u8>,
    start_at: StartAt,
    /// Held while open: a second process (`nectar analyze --store` beside a
    /// running `serve`) must not write the same file.
    _lock: File,
}

impl<R: RenderLines> LineFile<R> {
    /// Opens the log for consumer `name`. Fails if another process holds it.
    pub fn open(
        name: impl Into<String>,
        config: JsonlConfig,
        render: R,
        start_at: StartAt,
    ) -> Result<LineFile<R>, ConsumerError> {
        let lock_path = {
            let mut p = config.path.as_os_str().to_owned();
            p.push(".lock");
            PathBuf::from(p)
        };
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| ConsumerError(format!("{}: {e}", dir.display())))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let lock = options
            .open(&lock_path)
            .map_err(|e| ConsumerError(format!("{}: {e}", lock_path.display())))?;
        if let Err(e) = lock.try_lock() {
            return Err(ConsumerError(format!(
                "{} is written by another process ({e})",
                config.path.display()
            )));
        }
        let log = LineLog::open(config).map_err(ConsumerError::from_display)?;
        Ok(LineFile {
            name: name.into(),
            log,
            render,
            lines: Vec::new(),
            start_at,
            _lock: lock,
        })
    }
}

impl<R: RenderLines> Consumer for LineFile<R> {
    fn name(&self) -> &str {
        &self.name
    }

    fn start_at(&self) -> StartAt {
        self.start_at
    }

    fn resume(&mut self, checkpoint: &str) -> Result<(), ConsumerError> {
        let Some(point) = LogPoint::decode(checkpoint) else {
            return Ok(());
        };
        match self
            .log
            .rewind(point)
            .map_err(ConsumerError::from_display)?
        {
            Rewound::Exact => {}
            Rewound::FileGone => warn!(
                path = %self.log.path().display(),
                "The file of the saved point is gone; lines after it may be written twice."
            ),
        }
        Ok(())
    }

    fn deliver(&mut self, _first_seq: u64, events: &[Event]) -> Result<(), ConsumerError> {
        self.lines.clear();
        for event in events {
            self.render.render(event, &mut self.lines);
        }
        if self.lines.is_empty() {
            return Ok(());
        }
        self.log
            .append(&self.lines)
            .map_err(ConsumerError::from_display)
    }

    fn checkpoint(&mut self) -> Result<String, ConsumerError> {
        self.log.sync().map_err(ConsumerError::from_display)?;
        Ok(self.log.point().encode())
    }
}
