//! Files attackers upload (SCP, SFTP, or written through the fake shell), kept by
//! the SHA-256 of their content: `uploads/AB/ABCDEF...` (the first two hex digits
//! shard the directory). The same content uploaded twice is stored once.
//!
//! Every byte is bounded: a file larger than `max_file_bytes` is refused (before
//! its data when the protocol announces the size, as SCP does; as soon as it
//! crosses the bound otherwise), and so is one that would take the directory past
//! `quota_bytes`. An upload in progress is written to `uploads/.partial/` and
//! renamed into place once its hash is known, so a reader never sees half a file
//! under a hash name and memory stays constant whatever the size.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::file::CaptureFile;
use crate::seal::Sealer;

/// Why an upload was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Uploads are switched off.
    Disabled,
    /// Larger than `max_file_bytes`.
    TooLarge,
    /// The directory would exceed `quota_bytes`.
    Quota,
    /// The disk said no (full, permissions).
    WriteError,
}

impl Refusal {
    /// The name events use (`data.reason`): the configuration key that refused it.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Disabled => "disabled",
            Refusal::TooLarge => "max_file_bytes",
            Refusal::Quota => "quota_bytes",
            Refusal::WriteError => "write_error",
        }
    }
}

/// What happened to an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Kept (or already there).
    Stored {
        /// Hex SHA-256 of the content.
        sha256: String,
        /// Bytes of content.
        size: u64,
        /// Where it is, relative to the data directory.
        path: String,
        /// The same content was already stored.
        duplicate: bool,
    },
    /// Not kept.
    Refused {
        /// Why.
        reason: Refusal,
        /// Bytes received or announced.
        size: u64,
        /// Hex SHA-256, when the whole content was seen.
        sha256: Option<String>,
    },
}

/// The content-addressed upload directory.
#[derive(Debug)]
pub struct UploadStore {
    data_dir: PathBuf,
    max_file_bytes: u64,
    quota_bytes: u64,
    /// Bytes stored under `uploads/` (counted at open, then kept up to date).
    used: AtomicU64,
    /// Files are encrypted to this key (named `SHA256.age`; the hash is of the
    /// plaintext, computed before encryption).
    sealer: Option<Sealer>,
}

const DIR: &str = "uploads";
const PARTIAL: &str = ".partial";

impl UploadStore {
    /// Opens `data_dir/uploads` (created if missing), counts what it holds and
    /// removes partial files a crash left behind.
    pub fn open(
        data_dir: &Path,
        max_file_bytes: u64,
        quota_bytes: u64,
        sealer: Option<Sealer>,
    ) -> std::io::Result<Arc<Self>> {
        let root = data_dir.join(DIR);
        std::fs::create_dir_all(root.join(PARTIAL))?;
        let mut used = 0;
        for shard in std::fs::read_dir(&root)? {
            let shard = shard?;
            if shard.file_name() == PARTIAL {
                for stale in std::fs::read_dir(shard.path())? {
                    let _ = std::fs::remove_file(stale?.path());
                }
                continue;
            }
            if shard.file_type()?.is_dir() {
                for file in std::fs::read_dir(shard.path())? {
                    used += file?.metadata()?.len();
                }
            }
        }
        Ok(Arc::new(UploadStore {
            data_dir: data_dir.to_owned(),
            max_file_bytes,
            quota_bytes,
            used: AtomicU64::new(used),
            sealer,
        }))
    }

    /// Bytes stored now.
    pub fn used_bytes(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Stores content held in memory (a file written through the shell).
    pub fn store(self: &Arc<Self>, data: &[u8]) -> Verdict {
        match self.begin(Some(data.len() as u64)) {
            Ok(mut upload) => match upload.write(data) {
                Ok(()) => upload.finish(),
                Err(reason) => reason,
            },
            Err(reason) => reason,
        }
    }

    /// Starts a streamed upload; `announced` is its size when the protocol says it
    /// up front (a larger one is refused before any data).
    pub fn begin(self: &Arc<Self>, announced: Option<u64>) -> Result<Upload, Verdict> {
        if let Some(size) = announced {
            self.check(size).map_err(|reason| Verdict::Refused {
                reason,
                size,
                sha256: None,
            })?;
        }
        let name = format!(
            "{}-{}",
            std::process::id(),
            NEXT_PARTIAL.fetch_add(1, Ordering::Relaxed)
        );
        let path = self.data_dir.join(DIR).join(PARTIAL).join(name);
        let file =
            CaptureFile::create(&path, self.sealer.as_ref()).map_err(|_| Verdict::Refused {
                reason: Refusal::WriteError,
                size: announced.unwrap_or(0),
                sha256: None,
            })?;
        let partial = file.path().to_owned();
        Ok(Upload {
            store: self.clone(),
            file: Some(file),
            partial,
            hasher: Sha256::new(),
            size: 0,
        })
    }

    fn check(&self, size: u64) -> Result<(), Refusal> {
        if size > self.max_file_bytes {
            return Err(Refusal::TooLarge);
        }
        if self.used_bytes().saturating_add(size) > self.quota_bytes {
            return Err(Refusal::Quota);
        }
        Ok(())
    }
}

static NEXT_PARTIAL: AtomicU64 = AtomicU64::new(0);

/// An upload being received.
pub struct Upload {
    store: Arc<UploadStore>,
    file: Option<CaptureFile>,
    partial: PathBuf,
    hasher: Sha256,
    size: u64,
}

impl Upload {
    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends data; past a bound the upload is refused (and its partial file
    /// removed), and the returned verdict says why.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Verdict> {
        let size = self.size.saturating_add(data.len() as u64);
        if let Err(reason) = self.store.check(size) {
            return Err(self.refuse(reason, size));
        }
        let written = match self.file.as_mut() {
            Some(file) => file.write_all(data),
            None => Err(std::io::Error::other("finished")),
        };
        if written.is_err() {
            return Err(self.refuse(Refusal::WriteError, size));
        }
        self.hasher.update(data);
        self.size = size;
        Ok(())
    }

    fn refuse(&mut self, reason: Refusal, size: u64) -> Verdict {
        self.discard();
        Verdict::Refused {
            reason,
            size,
            sha256: None,
        }
    }

    fn discard(&mut self) {
        if let Some(mut file) = self.file.take() {
            let _ = file.finish();
            let _ = std::fs::remove_file(&self.partial);
        }
    }

    /// Ends the upload: moves it under its hash, or drops it if that content is
    /// already stored.
    pub fn finish(mut self) -> Verdict {
        let Some(mut file) = self.file.take() else {
            return Verdict::Refused {
                reason: Refusal::WriteError,
                size: self.size,
                sha256: None,
            };
        };
        let sha256 = hex(&std::mem::take(&mut self.hasher).finalize());
        let size = self.size;
        let refused = |reason| Verdict::Refused {
            reason,
            size,
            sha256: Some(sha256.clone()),
        };
        if file.finish().is_err() {
            let _ = std::fs::remove_file(&self.partial);
            return refused(Refusal::WriteError);
        }
        let suffix = if self.store.sealer.is_some() {
            ".age"
        } else {
            ""
        };
        let relative = format!("{DIR}/{}/{sha256}{suffix}", &sha256[..2]);
        let target = self.store.data_dir.join(&relative);
        if target.exists() {
            let _ = std::fs::remove_file(&self.partial);
            return Verdict::Stored {
                sha256,
                size,
                path: relative,
                duplicate: true,
            };
        }
        let on_disk = std::fs::metadata(&self.partial).map_or(size, |m| m.len());
        // Reserve the room first, so two uploads at once cannot both pass the quota.
        let before = self.store.used.fetch_add(on_disk, Ordering::Relaxed);
        if before.saturating_add(on_disk) > self.store.quota_bytes {
            self.store.used.fetch_sub(on_disk, Ordering::Relaxed);
            let _ = std::fs::remove_file(&self.partial);
            return refused(Refusal::Quota);
        }
        let moved = target
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::rename(&self.partial, &target));
        if moved.is_err() {
            self.store.used.fetch_sub(on_disk, Ordering::Relaxed);
            let _ = std::fs::remove_file(&self.partial);
            return refused(Refusal::WriteError);
        }
        Verdict::Stored {
            sha256,
            size,
            path: relative,
            duplicate: false,
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // An upload abandoned midway (connection lost) leaves nothing behind.
        self.discard();
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(data: &[u8]) -> String {
        hex(&Sha256::digest(data))
    }

    #[test]
    fn stores_once_by_hash() {
        let dir = tempfile::tempdir().unwrap();
        let store = UploadStore::open(dir.path(), 100, 1000, None).unwrap();
        let first = store.store(b"#!/bin/sh\necho hi\n");
        let Verdict::Stored {
            sha256,
            path,
            duplicate: false,
            size: 18,
        } = first
        else {
            panic!("{first:?}")
        };
        assert_eq!(sha256, sha(b"#!/bin/sh\necho hi\n"));
        assert_eq!(path, format!("uploads/{}/{sha256}", &sha256[..2]));
        assert_eq!(
            std::fs::read(dir.path().join(&path)).unwrap(),
            b"#!/bin/sh\necho hi\n"
        );
        assert!(matches!(
            store.store(b"#!/bin/sh\necho hi\n"),
            Verdict::Stored {
                duplicate: true,
                ..
            }
        ));
        assert_eq!(store.used_bytes(), 18);
        // Reopening counts what is there.
        assert_eq!(
            UploadStore::open(dir.path(), 100, 1000, None)
                .unwrap()
                .used_bytes(),
            18
        );
    }

    #[test]
    fn refuses_past_the_file_bound_and_the_quota_leaving_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = UploadStore::open(dir.path(), 10, 15, None).unwrap();
        assert!(matches!(
            store.begin(Some(11)),
            Err(Verdict::Refused {
                reason: Refusal::TooLarge,
                size: 11,
                ..
            })
        ));
        let mut up = store.begin(None).unwrap();
        up.write(b"12345").unwrap();
        let refused = up.write(b"678901").unwrap_err();
        assert!(matches!(
            refused,
            Verdict::Refused {
                reason: Refusal::TooLarge,
                size: 11,
                ..
            }
        ));
        drop(up);
        assert!(matches!(store.store(b"0123456789"), Verdict::Stored { .. }));
        assert!(matches!(
            store.store(b"abcdefghi"),
            Verdict::Refused {
                reason: Refusal::Quota,
                ..
            }
        ));
        let partial = dir.path().join("uploads/.partial");
        assert_eq!(std::fs::read_dir(partial).unwrap().count(), 0);
    }

    #[test]
    fn sealed_uploads_are_named_by_the_plaintext_hash_and_read_back_with_the_identity() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let (identity, public) = crate::seal::generate();
        let sealer = Sealer::new(&public).unwrap();
        let store = UploadStore::open(dir.path(), 1000, 100_000, Some(sealer)).unwrap();
        let Verdict::Stored { sha256, path, .. } = store.store(b"secret payload") else {
            panic!()
        };
        assert_eq!(sha256, sha(b"secret payload"));
        assert!(path.ends_with(".age"));
        let on_disk = std::fs::read(dir.path().join(&path)).unwrap();
        assert!(crate::seal::is_age(&on_disk));
        assert!(!on_disk.windows(6).any(|w| w == b"secret"));
        let opener = crate::seal::Opener::parse(&identity).unwrap();
        let mut back = Vec::new();
        opener
            .open(&on_disk[..])
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, b"secret payload");
        assert!(matches!(
            store.store(b"secret payload"),
            Verdict::Stored {
                duplicate: true,
                ..
            }
        ));
    }
}
