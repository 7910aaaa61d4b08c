//! Session recordings in asciicast v2, the format `asciinema play` reads: a JSON
//! header line (`{"version": 2, "width": .., "height": ..}`), then one JSON array
//! per line, `[seconds, "o", text]` for output, `"i"` for input and `"r"` for a
//! window resize (`"COLSxROWS"`).
//!
//! [`Recorder`] writes one session, bounded in bytes: past `max_bytes` it stops
//! and says so once, so a session that prints forever costs a fixed amount of disk.
//! Bytes are turned into text incrementally (a UTF-8 character split across two
//! reads is kept whole; invalid bytes become U+FFFD), because asciicast holds text.
//! [`read`] parses a recording back, for `nectar replay` and the UI.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::file::CaptureFile;

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always 2.
    pub version: u32,
    /// Terminal columns (from the client's pty request; 80 without one).
    pub width: u32,
    /// Terminal rows (24 without a pty request).
    pub height: u32,
    /// Start of the session, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// A short description (protocol, session, source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `TERM` as the client announced it, and `SHELL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Header {
    /// A header for a terminal of `width` x `height` (clamped to 1..=1000; zero,
    /// as a client without a pty sends, becomes 80x24).
    pub fn new(width: u32, height: u32) -> Header {
        let clamp = |v: u32, default: u32| if v == 0 { default } else { v.min(1000) };
        Header {
            version: 2,
            width: clamp(width, 80),
            height: clamp(height, 24),
            timestamp: None,
            title: None,
            env: None,
        }
    }
}

/// What the recorder did with the last call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Written (or nothing to write).
    Recorded,
    /// This call crossed `max_bytes`: the recording stops here (said once).
    LimitReached,
    /// Writing failed (disk full, ...): the recording stops here (said once).
    Failed,
    /// The recording had already stopped.
    Stopped,
}

/// Where a finished recording is and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The file.
    pub path: PathBuf,
    /// Bytes written (of the asciicast text).
    pub bytes: u64,
    /// It stopped early, at `max_bytes` or on a write error.
    pub truncated: bool,
}

/// Turns a byte stream into text across read boundaries.
#[derive(Debug, Default)]
struct Utf8Stream {
    tail: Vec<u8>,
}

impl Utf8Stream {
    /// Appends the text of `data` (with what was left over before) to `out`; an
    /// incomplete character at the end waits for the next call.
    fn decode(&mut self, data: &[u8], out: &mut String) {
        let joined;
        let mut bytes = if self.tail.is_empty() {
            data
        } else {
            let mut t = std::mem::take(&mut self.tail);
            t.extend_from_slice(data);
            joined = t;
            &joined[..]
        };
        loop {
            match std::str::from_utf8(bytes) {
                Ok(text) => {
                    out.push_str(text);
                    return;
                }
                Err(e) => {
                    let (good, rest) = bytes.split_at(e.valid_up_to());
                    // Checked by from_utf8 just above.
                    out.push_str(std::str::from_utf8(good).unwrap_or_default());
                    match e.error_len() {
                        Some(bad) => {
                            out.push('\u{fffd}');
                            bytes = &rest[bad..];
                        }
                        None => {
                            self.tail = rest.to_vec();
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// Writes one session's recording.
pub struct Recorder {
    file: CaptureFile,
    started: Instant,
    written: u64,
    max_bytes: u64,
    stopped: bool,
    truncated: bool,
    output: Utf8Stream,
    input: Utf8Stream,
    /// Reused for each line, so recording allocates nothing per event once warm.
    text: String,
    line: Vec<u8>,
}

impl Recorder {
    /// Starts a recording in a new file `path` (parents created), or `path.age`
    /// encrypted to `sealer`; at most `max_bytes` of it are written (counted
    /// before encryption).
    pub fn create(
        path: &Path,
        header: &Header,
        max_bytes: u64,
        sealer: Option<&crate::seal::Sealer>,
    ) -> std::io::Result<Recorder> {
        let mut file = CaptureFile::create(path, sealer)?;
        let mut line = serde_json::to_vec(header).map_err(std::io::Error::other)?;
        line.push(b'\n');
        file.write_all(&line)?;
        Ok(Recorder {
            file,
            started: Instant::now(),
            written: line.len() as u64,
            max_bytes,
            stopped: false,
            truncated: false,
            output: Utf8Stream::default(),
            input: Utf8Stream::default(),
            text: String::new(),
            line,
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Bytes of asciicast text written so far (before any encryption).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Records bytes sent to the client's terminal.
    pub fn output(&mut self, data: &[u8]) -> Step {
        self.bytes("o", data)
    }

    /// Records bytes the client typed or sent.
    pub fn input(&mut self, data: &[u8]) -> Step {
        self.bytes("i", data)
    }

    /// Records a window size change.
    pub fn resize(&mut self, width: u32, height: u32) -> Step {
        if self.stopped {
            return Step::Stopped;
        }
        let header = Header::new(width, height);
        self.text.clear();
        self.text
            .push_str(&format!("{}x{}", header.width, header.height));
        self.emit("r")
    }

    fn bytes(&mut self, code: &str, data: &[u8]) -> Step {
        if self.stopped {
            return Step::Stopped;
        }
        self.text.clear();
        let stream = if code == "o" {
            &mut self.output
        } else {
            &mut self.input
        };
        stream.decode(data, &mut self.text);
        if self.text.is_empty() {
            return Step::Recorded;
        }
        self.emit(code)
    }

    /// Writes `[time, code, self.text]`.
    fn emit(&mut self, code: &str) -> Step {
        use std::io::Write;
        let seconds = self.started.elapsed().as_secs_f64();
        self.line.clear();
        let _ = write!(self.line, "[{seconds:.6}, \"{code}\", ");
        if serde_json::to_writer(&mut self.line, &self.text).is_err() {
            return Step::Recorded;
        }
        self.line.extend_from_slice(b"]\n");
        if self.written + self.line.len() as u64 > self.max_bytes {
            self.stop(true);
            return Step::LimitReached;
        }
        if self.file.write_all(&self.line).is_err() {
            self.stop(true);
            return Step::Failed;
        }
        self.written += self.line.len() as u64;
        Step::Recorded
    }

    fn stop(&mut self, truncated: bool) {
        self.stopped = true;
        self.truncated |= truncated;
        let _ = self.file.finish();
    }

    /// Ends the recording and says where it is.
    pub fn finish(mut self) -> std::io::Result<Summary> {
        self.stopped = true;
        self.file.finish()?;
        Ok(Summary {
            path: self.file.path().to_owned(),
            bytes: self.written,
            truncated: self.truncated,
        })
    }
}

/// Where the recording of `session` started at `now` goes, relative to the data
/// directory: `recordings/YYYY/MM/DD/SESSION.cast`. `None` if `session` is not a
/// plain name (letters, digits, `-`, `_`; at most 64), so it can never name a path.
pub fn relative_path(session: &str, now: std::time::SystemTime) -> Option<String> {
    if session.is_empty()
        || session.len() > 64
        || !session
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let date = time::OffsetDateTime::from(now);
    Some(format!(
        "recordings/{:04}/{:02}/{:02}/{session}.cast",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
}

/// Finds the recording of `session` under `data_dir/recordings/YYYY/MM/DD/`
/// (plain `.cast` or encrypted `.cast.age`); `None` if there is none or `session`
/// is not a plain name.
pub fn find(data_dir: &Path, session: &str) -> Option<PathBuf> {
    relative_path(session, std::time::UNIX_EPOCH)?;
    let names = [format!("{session}.cast"), format!("{session}.cast.age")];
    let mut best: Option<PathBuf> = None;
    let root = data_dir.join("recordings");
    for year in sorted_dirs(&root) {
        for month in sorted_dirs(&year) {
            for day in sorted_dirs(&month) {
                for name in &names {
                    let path = day.join(name);
                    if path.is_file() {
                        best = Some(path);
                    }
                }
            }
        }
    }
    best
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// One line of a recording after the header.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Seconds since the start.
    pub time: f64,
    /// `o` (output), `i` (input), `r` (resize), `m` (marker).
    pub code: String,
    /// The text.
    pub data: String,
}

/// Why a recording could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The first line is not an asciicast v2 header.
    #[error("not an asciicast v2 recording (bad header: {0})")]
    Header(String),
    /// A later line is not `[time, code, text]`.
    #[error("line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Reads a whole recording: the header, then each frame in order. A recording
/// cut by a crash mid-line ends at its last whole line.
pub fn read(input: impl BufRead) -> Result<(Header, Vec<Frame>), ReadError> {
    let mut lines = input.lines();
    let first = lines
        .next()
        .ok_or_else(|| ReadError::Header("empty file".into()))??;
    let header: Header =
        serde_json::from_str(&first).map_err(|e| ReadError::Header(e.to_string()))?;
    if header.version != 2 {
        return Err(ReadError::Header(format!("version {}", header.version)));
    }
    let mut frames = Vec::new();
    let mut pending_error = None;
    for (i, line) in lines.enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        if let Some(e) = pending_error.take() {
            return Err(e);
        }
        match serde_json::from_str::<(f64, String, String)>(&line) {
            Ok((time, code, data)) => frames.push(Frame { time, code, data }),
            Err(e) => {
                pending_error = Some(ReadError::Line {
                    line: i + 2,
                    reason: e.to_string(),
                })
            }
        }
    }
    Ok((header, frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_dated_and_refuse_anything_but_a_plain_name() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000);
        assert_eq!(
            relative_path("0123abcd-2", t).unwrap(),
            "recordings/2026/11/18/0123abcd-2.cast"
        );
        for bad in ["", "../x", "a/b", "a.b", &"x".repeat(65)] {
            assert_eq!(relative_path(bad, t), None, "{bad}");
        }
    }

    #[test]
    fn utf8_split_across_reads_stays_whole_and_bad_bytes_become_replacement() {
        let mut s = Utf8Stream::default();
        let mut out = String::new();
        let e = "é".as_bytes();
        s.decode(&[b'a', e[0]], &mut out);
        assert_eq!(out, "a");
        s.decode(&[e[1], 0xff, b'b'], &mut out);
        assert_eq!(out, "aé\u{fffd}b");
    }

    #[test]
    fn records_reads_back_and_stops_at_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/s.cast");
        let mut header = Header::new(0, 0);
        header.title = Some("t".into());
        let mut rec = Recorder::create(&path, &header, 200, None).unwrap();
        assert_eq!(rec.output(b"hello \x1b[31mred\r\n"), Step::Recorded);
        assert_eq!(rec.input(b"ls\r"), Step::Recorded);
        assert_eq!(rec.resize(100, 40), Step::Recorded);
        assert_eq!(rec.output(&[b'x'; 300]), Step::LimitReached);
        assert_eq!(rec.output(b"more"), Step::Stopped);
        let summary = rec.finish().unwrap();
        assert!(summary.truncated);
        assert!(summary.bytes <= 200);
        let file = std::fs::File::open(&path).unwrap();
        let (h, frames) = read(std::io::BufReader::new(file)).unwrap();
        assert_eq!((h.width, h.height, h.version), (80, 24, 2));
        let codes: Vec<&str> = frames.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["o", "i", "r"]);
        assert_eq!(frames[0].data, "hello \x1b[31mred\r\n");
        assert_eq!(frames[2].data, "100x40");
        // A second recording with the same name is refused, never overwritten.
        assert!(Recorder::create(&path, &header, 200, None).is_err());
    }

    #[test]
    fn a_cut_last_line_is_ignored_but_a_bad_middle_line_is_an_error() {
        let cut =
            "{\"version\":2,\"width\":80,\"height\":24}\n[0.1, \"o\", \"a\"]\n[0.2, \"o\", \"b";
        let (_, frames) = read(cut.as_bytes()).unwrap();
        assert_eq!(frames.len(), 1);
        let bad = "{\"version\":2,\"width\":80,\"height\":24}\nnope\n[0.2, \"o\", \"b\"]\n";
        assert!(matches!(
            read(bad.as_bytes()),
            Err(ReadError::Line { line: 2, .. })
        ));
        assert!(matches!(read(&b"junk"[..]), Err(ReadError::Header(_))));
    }
}
