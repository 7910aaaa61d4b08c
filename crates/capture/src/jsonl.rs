//! A log of lines in a file rotated by size (`events.jsonl`, `cowrie.json`): what
//! the event log and the Cowrie log write, and how such a file is put back to a
//! saved point after a crash so that no line is ever written twice.
//!
//! Rotation: `events.jsonl` becomes `events.jsonl.1`, `.1` becomes `.2`, and so on
//! up to `keep` old files; the oldest is deleted.
//!
//! Exactly once: a writer that also records, next to what it wrote, a
//! [`LogPoint`] (which file by its inode, and its length) can later call
//! [`LineLog::rewind`] with that point. Every line written after it is removed:
//! the live file is cut back to the length, and if the file rotated since, the
//! newer files are removed and the recorded one is renamed live again. The
//! writer then writes those lines again, once.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the log goes and when it rotates.
#[derive(Debug, Clone)]
pub struct JsonlConfig {
    /// The live file.
    pub path: PathBuf,
    /// Rotate when the live file would grow past this many bytes (0: never).
    pub max_bytes: u64,
    /// Rotated files kept (`path.1` .. `path.N`).
    pub keep: u32,
}

/// An error of the log, naming its file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct LogError {
    /// The file.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

/// A point in the log: the live file (its inode) and its length then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogPoint {
    /// The live file's inode (0 where the platform has none).
    pub file_id: u64,
    /// Bytes in that file.
    pub len: u64,
}

impl LogPoint {
    /// As text, for a database column: `inode:len`.
    pub fn encode(&self) -> String {
        format!("{}:{}", self.file_id, self.len)
    }

    /// The text of [`LogPoint::encode`]; `None` for anything else.
    pub fn decode(text: &str) -> Option<LogPoint> {
        let (id, len) = text.split_once(':')?;
        Some(LogPoint {
            file_id: id.parse().ok()?,
            len: len.parse().ok()?,
        })
    }
}

/// What [`LineLog::rewind`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewound {
    /// The log was at the point already, or was cut back to it.
    Exact,
    /// The file of the point is gone (rotated out of `keep`, or deleted by hand):
    /// nothing was changed, and lines after the point may be written again.
    /// (A writer saves its point several times a second and files rotate at
    /// hundreds of MiB, so this takes a hand in the data directory. An inode
    /// number reused by a newer file after the point's was deleted could match
    /// instead: the same hand.)
    FileGone,
}

/// An open log, appending whole lines.
#[derive(Debug)]
pub struct LineLog {
    config: JsonlConfig,
    file: File,
    size: u64,
    file_id: u64,
}

impl LineLog {
    /// Opens the log for appending, creating it (and its directory) if needed.
    pub fn open(config: JsonlConfig) -> Result<LineLog, LogError> {
        if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| io_error(dir, source))?;
        }
        let file = open_append(&config.path)?;
        let meta = file
            .metadata()
            .map_err(|source| io_error(&config.path, source))?;
        Ok(LineLog {
            size: meta.len(),
            file_id: file_id(&meta),
            config,
            file,
        })
    }

    /// The live file.
    pub fn path(&self) -> &Path {
        &self.config.path
    }

    /// Where the log is now.
    pub fn point(&self) -> LogPoint {
        LogPoint {
            file_id: self.file_id,
            len: self.size,
        }
    }

    /// Appends whole lines (each ending in `\n`), rotating first if they would not fit.
    /// The bytes are handed to the OS before this returns. If the write fails half
    /// way, the file is cut back to where it was, so it never holds half a batch.
    pub fn append(&mut self, lines: &[u8]) -> Result<(), LogError> {
        let len = lines.len() as u64;
        if self.config.max_bytes > 0 && self.size > 0 && self.size + len > self.config.max_bytes {
            self.rotate()?;
        }
        if let Err(source) = self.file.write_all(lines) {
            // Best effort: a disk that refused the write may refuse this too.
            let _ = self.file.set_len(self.size);
            return Err(io_error(&self.config.path, source));
        }
        self.size += len;
        Ok(())
    }

    /// Flushes the live file's data to the disk (for a point that must survive a
    /// power cut, not only the process).
    pub fn sync(&mut self) -> Result<(), LogError> {
        self.file
            .sync_data()
            .map_err(|source| io_error(&self.config.path, source))
    }

    /// Puts the log back to `point`, removing every line written after it.
    pub fn rewind(&mut self, point: LogPoint) -> Result<Rewound, LogError> {
        if point.file_id == self.file_id {
            if self.size > point.len {
                self.file
                    .set_len(point.len)
                    .map_err(|source| io_error(&self.config.path, source))?;
                self.size = point.len;
            }
            return Ok(Rewound::Exact);
        }
        // Rotated since: find the point's file among the rotated ones.
        let Some(k) = (1..=self.config.keep).find(|&n| {
            std::fs::metadata(self.numbered(n)).is_ok_and(|m| file_id(&m) == point.file_id)
        }) else {
            return Ok(Rewound::FileGone);
        };
        // Files newer than it hold only lines after the point.
        for n in 0..k {
            let newer = self.numbered(n);
            match std::fs::remove_file(&newer) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(io_error(&newer, source)),
            }
        }
        for n in k..=self.config.keep {
            let from = self.numbered(n);
            if from.exists() {
                let to = self.numbered(n - k);
                std::fs::rename(&from, &to).map_err(|source| io_error(&from, source))?;
            }
        }
        let reopened = LineLog::open(self.config.clone())?;
        *self = reopened;
        self.rewind(point)
    }

    /// `path` for 0, `path.n` otherwise.
    fn numbered(&self, n: u32) -> PathBuf {
        let base = &self.config.path;
        if n == 0 {
            return base.clone();
        }
        let mut name = base.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> Result<(), LogError> {
        let base = self.config.path.clone();
        if self.config.keep == 0 {
            std::fs::remove_file(&base).map_err(|source| io_error(&base, source))?;
        } else {
            let oldest = self.numbered(self.config.keep);
            if oldest.exists() {
                std::fs::remove_file(&oldest).map_err(|source| io_error(&oldest, source))?;
            }
            for n in (1..self.config.keep).rev() {
                let from = self.numbered(n);
                if from.exists() {
                    std::fs::rename(&from, self.numbered(n + 1))
                        .map_err(|source| io_error(&from, source))?;
                }
            }
            std::fs::rename(&base, self.numbered(1)).map_err(|source| io_error(&base, source))?;
        }
        self.file = open_append(&base)?;
        let meta = self
            .file
            .metadata()
            .map_err(|source| io_error(&base, source))?;
        self.file_id = file_id(&meta);
        self.size = 0;
        Ok(())
    }
}

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> u64 {
    0
}

fn open_append(path: &Path) -> Result<File, LogError> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        // Events hold captured credentials: the owner only, a file made by an
        // older version included.
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options
            .open(path)
            .map_err(|source| io_error(path, source))?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|source| io_error(path, source))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path).map_err(|source| io_error(path, source))
}

fn io_error(path: &Path, source: std::io::Error) -> LogError {
    LogError {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(path: &Path) -> JsonlConfig {
        JsonlConfig {
            path: path.to_owned(),
            max_bytes: 25,
            keep: 2,
        }
    }

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap_or_default()
    }

    #[test]
    fn rotates_by_size_and_keeps_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut log = LineLog::open(config(&path)).unwrap();
        for i in 0..7 {
            log.append(format!("{{\"n\":{i}}}\n").as_bytes()).unwrap(); // 8 bytes each
        }
        assert_eq!(read(&path), "{\"n\":6}\n");
        assert_eq!(
            read(&dir.path().join("events.jsonl.1")),
            "{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n"
        );
        assert_eq!(
            read(&dir.path().join("events.jsonl.2")),
            "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n"
        );
        assert!(!dir.path().join("events.jsonl.3").exists());
        // Reopening continues the live file where it was.
        drop(log);
        let mut log = LineLog::open(config(&path)).unwrap();
        log.append(b"{\"n\":7}\n").unwrap();
        assert_eq!(read(&path), "{\"n\":6}\n{\"n\":7}\n");
    }

    #[test]
    fn rewind_in_the_same_file_cuts_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut log = LineLog::open(config(&path)).unwrap();
        log.append(b"{\"n\":0}\n").unwrap();
        let point = log.point();
        log.append(b"{\"n\":1}\n").unwrap();
        drop(log);
        let mut log = LineLog::open(config(&path)).unwrap();
        assert_eq!(log.rewind(point).unwrap(), Rewound::Exact);
        log.append(b"{\"n\":1}\n").unwrap();
        assert_eq!(read(&path), "{\"n\":0}\n{\"n\":1}\n");
    }

    #[test]
    fn rewind_across_a_rotation_restores_the_files_of_the_point() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut log = LineLog::open(config(&path)).unwrap();
        for i in 0..4 {
            log.append(format!("{{\"n\":{i}}}\n").as_bytes()).unwrap();
        }
        // Live: n3; .1: n0 n1 n2.
        let point = log.point();
        let before: Vec<String> = ["", ".1", ".2"]
            .iter()
            .map(|s| read(&dir.path().join(format!("events.jsonl{s}"))))
            .collect();
        for i in 4..9 {
            log.append(format!("{{\"n\":{i}}}\n").as_bytes()).unwrap();
        }
        // Two rotations later the point's file is .1.
        drop(log);
        let mut log = LineLog::open(config(&path)).unwrap();
        assert_eq!(log.rewind(point).unwrap(), Rewound::Exact);
        let after: Vec<String> = ["", ".1", ".2"]
            .iter()
            .map(|s| read(&dir.path().join(format!("events.jsonl{s}"))))
            .collect();
        assert_eq!(after, before);
        assert_eq!(log.point(), point);
    }

    #[test]
    fn points_round_trip_as_text() {
        let p = LogPoint {
            file_id: 12345,
            len: 678,
        };
        assert_eq!(LogPoint::decode(&p.encode()), Some(p));
        assert_eq!(LogPoint::decode("x"), None);
    }
}
