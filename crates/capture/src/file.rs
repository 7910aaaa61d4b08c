//! A file the capture writes: created new (never over another), readable only by
//! its owner, buffered, and finished explicitly so a short write is an error the
//! caller sees rather than a silently cut file.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A capture file being written.
pub struct CaptureFile {
    path: PathBuf,
    out: Option<BufWriter<File>>,
}

impl CaptureFile {
    /// Creates `path` (and its parent directories); fails if it already exists.
    pub fn create(path: &Path) -> std::io::Result<CaptureFile> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path)?;
        Ok(CaptureFile {
            path: path.to_owned(),
            out: Some(BufWriter::with_capacity(8 * 1024, file)),
        })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends bytes.
    pub fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self.out.as_mut() {
            Some(out) => out.write_all(data),
            None => Err(std::io::Error::other("capture file already finished")),
        }
    }

    /// Writes what is buffered and closes the file. Idempotent.
    pub fn finish(&mut self) -> std::io::Result<()> {
        match self.out.take() {
            Some(mut out) => out.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for CaptureFile {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}
