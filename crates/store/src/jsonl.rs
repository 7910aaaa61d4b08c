//! The JSON-lines event log: every stored event, one JSON object per line, in a file
//! that other tools (jq, Filebeat, Splunk forwarders) can follow.
//!
//! The file is rotated by size: `events.jsonl` becomes `events.jsonl.1`, `.1`
//! becomes `.2`, and so on up to `keep` old files; the oldest is deleted.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::StoreError;

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

/// An open JSON-lines log.
#[derive(Debug)]
pub struct JsonlLog {
    config: JsonlConfig,
    file: File,
    size: u64,
}

impl JsonlLog {
    /// Opens the log for appending, creating it (and its directory) if needed.
    pub fn open(config: JsonlConfig) -> Result<JsonlLog, StoreError> {
        if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| io_error(dir, source))?;
        }
        let file = open_append(&config.path)?;
        let size = file
            .metadata()
            .map_err(|source| io_error(&config.path, source))?
            .len();
        Ok(JsonlLog { config, file, size })
    }

    /// The live file.
    pub fn path(&self) -> &Path {
        &self.config.path
    }

    /// Appends whole lines (each ending in `\n`), rotating first if they would not fit.
    /// The bytes are handed to the OS before this returns.
    pub fn append(&mut self, lines: &[u8]) -> Result<(), StoreError> {
        let len = lines.len() as u64;
        if self.config.max_bytes > 0 && self.size > 0 && self.size + len > self.config.max_bytes {
            self.rotate()?;
        }
        self.file
            .write_all(lines)
            .map_err(|source| io_error(&self.config.path, source))?;
        self.size += len;
        Ok(())
    }

    fn rotate(&mut self) -> Result<(), StoreError> {
        let base = &self.config.path;
        let numbered = |n: u32| {
            let mut name = base.as_os_str().to_owned();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        if self.config.keep == 0 {
            std::fs::remove_file(base).map_err(|source| io_error(base, source))?;
        } else {
            let oldest = numbered(self.config.keep);
            if oldest.exists() {
                std::fs::remove_file(&oldest).map_err(|source| io_error(&oldest, source))?;
            }
            for n in (1..self.config.keep).rev() {
                let from = numbered(n);
                if from.exists() {
                    std::fs::rename(&from, numbered(n + 1))
                        .map_err(|source| io_error(&from, source))?;
                }
            }
            std::fs::rename(base, numbered(1)).map_err(|source| io_error(base, source))?;
        }
        self.file = open_append(base)?;
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| io_error(path, source))
}

fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut log = JsonlLog::open(JsonlConfig {
            path: path.clone(),
            max_bytes: 25,
            keep: 2,
        })
        .unwrap();
        for i in 0..7 {
            log.append(format!("{{\"n\":{i}}}\n").as_bytes()).unwrap(); // 8 bytes each
        }
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
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
        let mut log = JsonlLog::open(JsonlConfig {
            path: path.clone(),
            max_bytes: 25,
            keep: 2,
        })
        .unwrap();
        log.append(b"{\"n\":7}\n").unwrap();
        assert_eq!(read(&path), "{\"n\":6}\n{\"n\":7}\n");
    }
}
