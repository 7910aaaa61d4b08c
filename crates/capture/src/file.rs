//! A file the capture writes: created new (never over another), readable only by
//! its owner, buffered, optionally encrypted whole with age (then its name ends
//! in `.age`), and finished explicitly so a short write is an error the caller
//! sees rather than a silently cut file.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::seal::Sealer;

enum Out {
    Plain(BufWriter<File>),
    Sealed(age::stream::StreamWriter<BufWriter<File>>),
}

/// Bytes buffered before a write to the file.
const FILE_BUFFER: usize = 1024;

/// A capture file being written.
pub struct CaptureFile {
    path: PathBuf,
    out: Option<Out>,
}

impl CaptureFile {
    /// Creates `path` (and its parent directories), or `path.age` encrypted to
    /// `sealer`; fails if it already exists.
    pub fn create(path: &Path, sealer: Option<&Sealer>) -> std::io::Result<CaptureFile> {
        let path = match sealer {
            Some(_) => {
                let mut name = path.as_os_str().to_owned();
                name.push(".age");
                PathBuf::from(name)
            }
            None => path.to_owned(),
        };
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
        // One of these is open per recorded session for as long as it lasts, so
        // the buffer is what an idle session costs: 1 KiB (a few dozen
        // keystroke lines per write) instead of std's 8 KiB.
        let file = BufWriter::with_capacity(FILE_BUFFER, options.open(&path)?);
        let out = match sealer {
            Some(sealer) => Out::Sealed(sealer.wrap(file)?),
            None => Out::Plain(file),
        };
        Ok(CaptureFile {
            path,
            out: Some(out),
        })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends bytes.
    pub fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self.out.as_mut() {
            Some(Out::Plain(out)) => out.write_all(data),
            Some(Out::Sealed(out)) => out.write_all(data),
            None => Err(std::io::Error::other("capture file already finished")),
        }
    }

    /// Writes what is buffered (and the last encrypted chunk) and closes the file.
    /// Idempotent.
    pub fn finish(&mut self) -> std::io::Result<()> {
        match self.out.take() {
            Some(Out::Plain(mut out)) => out.flush(),
            Some(Out::Sealed(out)) => out.finish()?.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for CaptureFile {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}
