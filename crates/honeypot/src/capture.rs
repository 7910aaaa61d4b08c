//! What a honeypot session leaves on disk besides its events, behind one small API
//! that the SSH and Telnet sessions share: [`Capture`] is built once by `serve`
//! (data directory, settings) and handed to every honeypot; a session asks it for a
//! [`SessionRecording`] and feeds it the bytes its fake shell exchanges with the
//! client.
//!
//! The formats and file handling live in `nectar-capture`; this module owns the
//! settings (`[honeypot.recordings]`), where files go, and the mapping of a stopped
//! recording to the limit an event should name.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use nectar_capture::asciicast::{self, Header, Recorder, Step};
use serde::{Deserialize, Serialize};
use tracing::warn;

/// `[honeypot.recordings]`: session recordings (asciicast v2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordingsConfig {
    /// Record every interactive session (SSH shell, Telnet) in
    /// `DATA_DIR/recordings/YYYY/MM/DD/SESSION.cast`.
    pub enabled: bool,
    /// Largest recording, in bytes; past it the recording stops (the session goes
    /// on) and a `sensor.status` event names `max_recording_bytes`.
    pub max_bytes: u64,
}

impl Default for RecordingsConfig {
    fn default() -> Self {
        RecordingsConfig {
            enabled: true,
            max_bytes: 1024 * 1024,
        }
    }
}

impl RecordingsConfig {
    /// Checks values; errors name the key relative to the section.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_bytes < 1024 {
            return Err("key `max_bytes`: at least 1024".into());
        }
        Ok(())
    }
}

/// Where and how sessions are captured; shared by every honeypot.
#[derive(Debug)]
pub struct Capture {
    data_dir: PathBuf,
    recordings: RecordingsConfig,
}

impl Capture {
    /// Captures into `data_dir` with these settings.
    pub fn new(
        data_dir: &Path,
        recordings: RecordingsConfig,
    ) -> Result<Arc<Capture>, crate::Error> {
        recordings
            .validate()
            .map_err(|e| crate::Error::Config(e.replacen("key `", "key `recordings.", 1)))?;
        Ok(Arc::new(Capture {
            data_dir: data_dir.to_owned(),
            recordings,
        }))
    }

    /// Captures nothing (for tests and embedders that want events only).
    pub fn disabled() -> Arc<Capture> {
        Arc::new(Capture {
            data_dir: PathBuf::new(),
            recordings: RecordingsConfig {
                enabled: false,
                ..RecordingsConfig::default()
            },
        })
    }

    /// The data directory files are written under.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Starts recording an interactive session; `None` when recordings are off or
    /// the file cannot be created (logged: a full disk must not stop the honeypot).
    /// `name` is unique per recording (the session id, with a suffix for a second
    /// shell on one connection).
    pub fn record(
        &self,
        name: &str,
        terminal: &Terminal,
        title: String,
    ) -> Option<SessionRecording> {
        if !self.recordings.enabled {
            return None;
        }
        let relative = asciicast::relative_path(name, SystemTime::now())?;
        let mut header = Header::new(terminal.width, terminal.height);
        header.timestamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs());
        header.title = Some(title);
        let mut env = serde_json::Map::new();
        env.insert("SHELL".into(), "/bin/bash".into());
        if !terminal.term.is_empty() {
            env.insert("TERM".into(), terminal.term.clone().into());
        }
        header.env = Some(env);
        let path = self.data_dir.join(&relative);
        match Recorder::create(&path, &header, self.recordings.max_bytes) {
            Ok(recorder) => Some(SessionRecording { recorder, relative }),
            Err(e) => {
                warn!(path = %path.display(), error = %e, "Cannot start a session recording.");
                None
            }
        }
    }
}

/// The client's terminal, as its pty request described it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terminal {
    /// `TERM` (at most 64 printable characters kept).
    pub term: String,
    /// Columns (0: unknown).
    pub width: u32,
    /// Rows (0: unknown).
    pub height: u32,
}

impl Terminal {
    /// A terminal from a client's (hostile) pty request.
    pub fn new(term: &str, width: u32, height: u32) -> Terminal {
        Terminal {
            term: term
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(64)
                .collect(),
            width,
            height,
        }
    }
}

/// One session's recording in progress.
pub struct SessionRecording {
    recorder: Recorder,
    relative: String,
}

impl SessionRecording {
    /// The file, relative to the data directory (what events reference).
    pub fn relative_path(&self) -> &str {
        &self.relative
    }

    /// Records terminal output; returns the limit to report when it stops here.
    pub fn output(&mut self, data: &[u8]) -> Option<&'static str> {
        stopped(self.recorder.output(data))
    }

    /// Records client input; returns the limit to report when it stops here.
    pub fn input(&mut self, data: &[u8]) -> Option<&'static str> {
        stopped(self.recorder.input(data))
    }

    /// Records a window size change.
    pub fn resize(&mut self, width: u32, height: u32) -> Option<&'static str> {
        stopped(self.recorder.resize(width, height))
    }
}

/// The key an event names when a recording stops early.
fn stopped(step: Step) -> Option<&'static str> {
    match step {
        Step::LimitReached => Some("max_recording_bytes"),
        Step::Failed => Some("recording_write_error"),
        Step::Recorded | Step::Stopped => None,
    }
}
