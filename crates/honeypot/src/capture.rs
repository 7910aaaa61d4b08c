//! What a honeypot session leaves on disk besides its events, behind one small API
//! that the SSH and Telnet sessions share: [`Capture`] is built once by `serve`
//! (data directory, settings) and handed to every honeypot; a session asks it for a
//! [`SessionRecording`] and feeds it the bytes its fake shell exchanges with the
//! client.
//!
//! Uploads (SCP, SFTP, files written through the shell) go through the same
//! object: [`Capture::store_upload`] for content in memory, [`Capture::begin_upload`]
//! for a stream, [`Capture::begin_stream`] for a stream whose length nobody
//! announced (the stdin of an `exec`: `ssh host 'cat > f' < file`), and
//! [`upload_event`] gives every protocol the same event fields.
//!
//! The formats and file handling live in `nectar-capture`; this module owns the
//! settings (`[honeypot.recordings]`, `[honeypot.uploads]`), where files go, and the
//! mapping of a stopped recording or a refused upload to what an event says.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use nectar_capture::asciicast::{self, Header, Recorder, Step};
use nectar_capture::seal::Sealer;
use nectar_capture::uploads::{Refusal, Upload, UploadStore, Verdict};
use nectar_event::Event;
use nectar_event::config::{ConfigError, WithinSection};
use nectar_event::field;
use nectar_event::text::{bound, clip};

use crate::shell::LineNotes;
use crate::shell::activity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::warn;

/// `[honeypot.recordings]`: session recordings (asciicast v2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RecordingsConfig {
    /// Record every interactive session (SSH shell, Telnet) in asciicast v2, one
    /// file per session in `DATA_DIR/recordings/YYYY/MM/DD/SESSION.cast`; the
    /// session's close event names it (`data.recording`). Play one with
    /// `nectar replay SESSION`.
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
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_bytes < 1024 {
            return Err(ConfigError::new("max_bytes", "at least 1024"));
        }
        Ok(())
    }
}

/// `[honeypot.uploads]`: files attackers upload or write, kept by SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct UploadsConfig {
    /// Keep uploaded files (SCP, SFTP, the input of an exec'd `cat > f`, and files
    /// written through the fake shell) in `DATA_DIR/uploads/`, named by their
    /// SHA-256; each is an `ssh.upload` event. Stored files are whole; the
    /// session's fake filesystem keeps only the first 64 KiB of each
    /// (`KEPT_FILE_BYTES`), and reports the real size and hash.
    pub enabled: bool,
    /// Largest file kept, in bytes; a larger one is refused (and logged). An SSH
    /// connection also ends at `honeypot.ssh.max_session_bytes`.
    pub max_file_bytes: u64,
    /// Most bytes the upload directory may hold; past it uploads are refused.
    pub quota_bytes: u64,
}

impl Default for UploadsConfig {
    fn default() -> Self {
        UploadsConfig {
            enabled: true,
            max_file_bytes: 4 * 1024 * 1024,
            quota_bytes: 1024 * 1024 * 1024,
        }
    }
}

impl UploadsConfig {
    /// Checks values; errors name the key relative to the section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_file_bytes == 0 {
            return Err(ConfigError::new("max_file_bytes", "must be greater than 0"));
        }
        if self.quota_bytes < self.max_file_bytes {
            return Err(ConfigError::new(
                "quota_bytes",
                "must be at least max_file_bytes",
            ));
        }
        Ok(())
    }
}

/// Where and how sessions are captured; shared by every honeypot.
#[derive(Debug)]
pub struct Capture {
    data_dir: PathBuf,
    recordings: RecordingsConfig,
    uploads: Option<Arc<UploadStore>>,
    /// `[honeypot] encrypt_to`: passwords, recordings and uploads are encrypted
    /// to this age public key.
    sealer: Option<Sealer>,
}

impl Capture {
    /// Captures into `data_dir` with these settings (opens the upload directory).
    pub fn new(
        data_dir: &Path,
        recordings: RecordingsConfig,
        uploads: UploadsConfig,
    ) -> Result<Arc<Capture>, crate::Error> {
        Capture::with_encryption(data_dir, recordings, uploads, "")
    }

    /// The same, encrypting what is captured to the age public key `encrypt_to`
    /// (`[honeypot] encrypt_to`; empty: no encryption).
    pub fn with_encryption(
        data_dir: &Path,
        recordings: RecordingsConfig,
        uploads: UploadsConfig,
        encrypt_to: &str,
    ) -> Result<Arc<Capture>, crate::Error> {
        let sealer = if encrypt_to.trim().is_empty() {
            None
        } else {
            Some(
                Sealer::new(encrypt_to)
                    .map_err(|e| ConfigError::new("encrypt_to", e.to_string()))?,
            )
        };
        recordings.validate().within("recordings")?;
        uploads.validate().within("uploads")?;
        let store = if uploads.enabled {
            let opened = UploadStore::open(
                data_dir,
                uploads.max_file_bytes,
                uploads.quota_bytes,
                sealer.clone(),
            )
            .map_err(|e| {
                crate::Error::Config(format!(
                    "cannot open the upload directory {}: {e}",
                    data_dir.join("uploads").display()
                ))
            })?;
            Some(opened)
        } else {
            None
        };
        Ok(Arc::new(Capture {
            data_dir: data_dir.to_owned(),
            recordings,
            uploads: store,
            sealer,
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
            uploads: None,
            sealer: None,
        })
    }

    /// Whether captures are encrypted (`encrypt_to` is set).
    pub fn encrypts(&self) -> bool {
        self.sealer.is_some()
    }

    /// Adds a captured secret (a password) to an event: as `key`, or, when
    /// captures are encrypted, only as `key_enc` (age, base64), never in clear.
    pub fn secret(&self, event: Event, key: &str, value: &str) -> Event {
        match &self.sealer {
            Some(sealer) => event.with(&format!("{key}_enc"), sealer.seal_text(value)),
            None => event.with(key, value.to_owned()),
        }
    }

    /// A secret as a summary may show it: itself (clipped), or "(encrypted)".
    pub fn shown_secret(&self, value: &str) -> String {
        self.shown(value, 64)
    }

    /// A secret as a summary may show it, clipped to `max` characters.
    fn shown(&self, value: &str, max: usize) -> String {
        if self.sealer.is_some() {
            "(encrypted)".into()
        } else {
            clip(value, max)
        }
    }

    /// Fills a command event (`ssh.command`, `ssh.exec`, `telnet.command`): the
    /// line typed (`input`), the bytes typed for it when line editing changed
    /// them (`raw`, escaped: control characters and escape sequences are
    /// evidence), the names in it the shell did not have (`unknown`), and the
    /// summary `WHO: LINE`. With `encrypt_to` the line, its raw bytes and the
    /// names are sealed like passwords (`input_enc`, `raw_enc`, `unknown_enc`, a
    /// JSON array), as commands carry secrets (`echo root:pw | chpasswd`, `mysql
    /// -pPW`), and the summary says "(encrypted)".
    ///
    /// The severity follows what the line does ([`activity::classify`], named in
    /// `data.activity`): `exit` is info, a dropper or an `authorized_keys` line
    /// high.
    pub fn command(&self, mut event: Event, who: &str, input: &str, notes: LineNotes) -> Event {
        event.summary = format!("{who}: {}", self.shown(input, 200));
        let activity = activity::classify(bound(input, MAX_VALUE_BYTES));
        event.severity = activity.severity();
        event = event.with(field::ACTIVITY, activity.as_str());
        let mut event = self.secret(event, field::INPUT, bound(input, MAX_VALUE_BYTES));
        if let Some(raw) = &notes.raw {
            event = self.secret(event, field::RAW, bound(raw, MAX_VALUE_BYTES));
        }
        // One record per simple command it ran, for process-creation rules;
        // they repeat the command line, so they are left out when it is sealed.
        if self.sealer.is_none() && !notes.processes.is_empty() {
            let processes: Vec<serde_json::Value> = notes
                .processes
                .iter()
                .map(|(image, line, parent)| {
                    serde_json::json!({
                        "image": image,
                        "command_line": line,
                        "parent_image": parent,
                    })
                })
                .collect();
            event = event.with(field::PROCESSES, processes);
        }
        let unknown = notes.unknown;
        if unknown.is_empty() {
            return event;
        }
        match &self.sealer {
            Some(sealer) => {
                let names = serde_json::to_string(&unknown).unwrap_or_default();
                event.with(field::UNKNOWN_SEALED, sealer.seal_text(&names))
            }
            None => event.with(field::UNKNOWN, unknown),
        }
    }

    /// Fills a download event (`ssh.download`, `telnet.download`): `url`
    /// (sealed as `url_enc` with `encrypt_to`: URLs carry credentials and
    /// tokens), `tool`, `outfile`, and the summary `TOOL URL`.
    pub fn download(&self, mut event: Event, tool: &str, url: &str, outfile: String) -> Event {
        event.summary = format!("{tool} {}", self.shown(url, 200));
        self.secret(event, field::URL, bound(url, MAX_VALUE_BYTES))
            .with("tool", tool.to_owned())
            .with(field::OUTFILE, outfile)
            .with("fetched", false)
    }

    /// Keeps a file whose content is in memory (written through the shell).
    pub fn store_upload(&self, data: &[u8]) -> Verdict {
        match &self.uploads {
            Some(store) => store.store(data),
            None => disabled(data.len() as u64),
        }
    }

    /// Starts receiving a file (SCP, SFTP); `announced` is its size if known.
    pub fn begin_upload(&self, announced: Option<u64>) -> Result<Upload, Verdict> {
        match &self.uploads {
            Some(store) => store.begin(announced),
            None => Err(disabled(announced.unwrap_or(0))),
        }
    }

    /// Starts receiving a stream of unknown length (the stdin of an `exec`) as
    /// an upload: the whole of it, up to `max_file_bytes`, to the upload store.
    pub fn begin_stream(&self) -> IncomingFile {
        let (upload, refused) = match self.begin_upload(None) {
            Ok(upload) => (Some(upload), None),
            Err(verdict) => (None, Some(verdict)),
        };
        IncomingFile {
            upload,
            refused,
            head: Vec::new(),
            size: 0,
            hasher: Sha256::new(),
        }
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
        env.insert("SHELL".into(), terminal.shell.into());
        if !terminal.term.is_empty() {
            env.insert("TERM".into(), terminal.term.clone().into());
        }
        header.env = Some(env);
        let path = self.data_dir.join(&relative);
        let relative = match &self.sealer {
            Some(_) => format!("{relative}.age"),
            None => relative,
        };
        match Recorder::create(
            &path,
            &header,
            self.recordings.max_bytes,
            self.sealer.as_ref(),
        ) {
            Ok(recorder) => Some(SessionRecording {
                log: Arc::new(RecordingLog {
                    relative,
                    state: Mutex::new((recorder.written(), Sha256::new())),
                }),
                recorder,
            }),
            Err(e) => {
                warn!(path = %path.display(), error = %e, "Cannot start a session recording.");
                None
            }
        }
    }
}

/// A file arriving as a stream (the stdin of an `exec`): written whole to the
/// upload store as it comes (memory stays at its first
/// [`KEPT_FILE_BYTES`](crate::shell::fs::KEPT_FILE_BYTES), kept for the fake
/// filesystem), refused once past `max_file_bytes` but still counted and
/// hashed, so the event gives the size and SHA-256 of what was sent.
pub struct IncomingFile {
    upload: Option<Upload>,
    refused: Option<Verdict>,
    head: Vec<u8>,
    size: u64,
    hasher: Sha256,
}

/// An [`IncomingFile`] at its end.
#[derive(Debug)]
pub struct StreamEnd {
    /// What the upload store did (a refusal carries the whole size and hash).
    pub verdict: Verdict,
    /// The beginning, for the fake filesystem.
    pub head: Vec<u8>,
    /// The whole stream's size and hash.
    pub full: crate::shell::fs::FullFile,
}

impl IncomingFile {
    /// Takes the next bytes.
    pub fn feed(&mut self, data: &[u8]) {
        let room = crate::shell::fs::KEPT_FILE_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&data[..data.len().min(room)]);
        self.size = self.size.saturating_add(data.len() as u64);
        self.hasher.update(data);
        if let Some(upload) = self.upload.as_mut()
            && let Err(verdict) = upload.write(data)
        {
            self.upload = None;
            self.refused = Some(verdict);
        }
    }

    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Ends the stream: stores it under its hash, or says why not.
    pub fn finish(self) -> StreamEnd {
        let sha256: [u8; 32] = self.hasher.finalize().into();
        let verdict = match (self.upload, self.refused) {
            (Some(upload), None) => upload.finish(),
            (_, Some(Verdict::Refused { reason, .. })) => Verdict::Refused {
                reason,
                size: self.size,
                sha256: Some(nectar_capture::uploads::hex(&sha256)),
            },
            (_, Some(other)) => other,
            (None, None) => disabled(self.size),
        };
        StreamEnd {
            verdict,
            head: self.head,
            full: crate::shell::fs::FullFile {
                size: self.size,
                sha256,
            },
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
    /// The login shell of the machine the session is on (the recording's
    /// `SHELL`).
    pub shell: &'static str,
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
            shell: "/bin/bash",
        }
    }

    /// The same terminal on a machine whose login shell is `shell`.
    pub fn with_shell(self, shell: &'static str) -> Terminal {
        Terminal { shell, ..self }
    }
}

/// One session's recording in progress.
pub struct SessionRecording {
    recorder: Recorder,
    log: Arc<RecordingLog>,
}

/// What the close event says of a recording (Cowrie's `cowrie.log.closed`):
/// where it is, its size, and the SHA-256 of the client's input alone (which
/// is the same for every replay of one bot script, so it groups them). Shared
/// with the connection, which outlives the recording.
#[derive(Debug)]
pub struct RecordingLog {
    relative: String,
    /// Bytes written, and the hash of the input so far.
    state: Mutex<(u64, Sha256)>,
}

impl RecordingLog {
    /// The file, relative to the data directory.
    pub fn relative_path(&self) -> &str {
        &self.relative
    }

    /// Adds `recording_bytes` (the asciicast text written, before any
    /// encryption) and `recording_input_sha256` to a close event.
    pub fn describe(&self, event: Event) -> Event {
        let (bytes, hasher) = {
            let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            (state.0, state.1.clone())
        };
        let sha256: [u8; 32] = hasher.finalize().into();
        event.with("recording_bytes", bytes).with(
            "recording_input_sha256",
            nectar_capture::uploads::hex(&sha256),
        )
    }
}

impl SessionRecording {
    /// The file, relative to the data directory (what events reference).
    pub fn relative_path(&self) -> &str {
        &self.log.relative
    }

    /// What the close event says of this recording.
    pub fn log(&self) -> Arc<RecordingLog> {
        self.log.clone()
    }

    /// Records terminal output; returns the limit to report when it stops here.
    pub fn output(&mut self, data: &[u8]) -> Option<&'static str> {
        let step = self.recorder.output(data);
        self.note(None);
        stopped(step)
    }

    /// Records client input; returns the limit to report when it stops here.
    pub fn input(&mut self, data: &[u8]) -> Option<&'static str> {
        let step = self.recorder.input(data);
        self.note(Some(data));
        stopped(step)
    }

    /// Records a window size change.
    pub fn resize(&mut self, width: u32, height: u32) -> Option<&'static str> {
        let step = self.recorder.resize(width, height);
        self.note(None);
        stopped(step)
    }

    fn note(&self, input: Option<&[u8]>) {
        let mut state = self.log.state.lock().unwrap_or_else(|p| p.into_inner());
        state.0 = self.recorder.written();
        if let Some(data) = input {
            state.1.update(data);
        }
    }
}

fn disabled(size: u64) -> Verdict {
    Verdict::Refused {
        reason: Refusal::Disabled,
        size,
        sha256: None,
    }
}

/// The size and hash of a stored upload, for the fake filesystem that keeps
/// only its beginning.
pub fn full_file(verdict: &Verdict) -> Option<crate::shell::fs::FullFile> {
    match verdict {
        Verdict::Stored { sha256, size, .. } => crate::shell::fs::FullFile::from_hex(*size, sha256),
        Verdict::Refused { .. } => None,
    }
}

/// Fills an upload event (`ssh.upload`, or the Telnet equivalent): `via` (`scp`,
/// `sftp`, `shell`), `filename` as the client sent it (attacker data, never used
/// as a path here), `path` where it went in the fake filesystem, `size`, `sha256`,
/// `stored`, and `file` (where it is, relative to the data directory) or `reason`.
/// Sets the summary and severity too.
pub fn upload_event(
    mut event: Event,
    via: &str,
    filename: &str,
    path: &str,
    verdict: &Verdict,
) -> Event {
    let shown = clip(path, 120);
    event = event
        .with(field::VIA, via.to_owned())
        .with(field::FILENAME, bound(filename, MAX_VALUE_BYTES))
        .with(field::PATH, bound(path, MAX_VALUE_BYTES));
    match verdict {
        Verdict::Stored {
            sha256,
            size,
            path: file,
            duplicate,
        } => {
            event.summary = format!(
                "{via} upload {shown} ({size} bytes, sha256 {}) stored",
                &sha256[..16]
            );
            event.severity = nectar_event::Severity::High;
            event
                .with("size", *size)
                .with(field::SHA256, sha256.clone())
                .with(field::STORED, true)
                .with(field::DUPLICATE, *duplicate)
                .with(field::FILE, file.clone())
        }
        Verdict::Refused {
            reason,
            size,
            sha256,
        } => {
            event.summary = format!(
                "{via} upload {shown} ({size} bytes) refused: {}",
                reason.as_str()
            );
            event.severity = nectar_event::Severity::Medium;
            let mut event = event
                .with("size", *size)
                .with(field::STORED, false)
                .with("reason", reason.as_str());
            if let Some(sha256) = sha256 {
                event = event.with(field::SHA256, sha256.clone());
            }
            event
        }
    }
}

/// Most bytes of an attacker string a capture event keeps (command lines, URLs,
/// upload names and paths).
const MAX_VALUE_BYTES: usize = 4096;

/// The key an event names when a recording stops early.
fn stopped(step: Step) -> Option<&'static str> {
    match step {
        Step::LimitReached => Some("max_recording_bytes"),
        Step::Failed => Some("recording_write_error"),
        Step::Recorded | Step::Stopped => None,
    }
}
