//! Learnt models on disk: [`Monitors::save_to`] writes them atomically and
//! [`Monitors::read_models`] reads them back, so `nectar analyze
//! --save-model`/`--model` and the live detector's periodic saves share one
//! file format and one way of writing it.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use crate::monitor::{ModelError, ModelFile, Monitors};

/// Why models could not be saved or read.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    /// Writing the file (or its temporary sibling) failed: a missing
    /// directory, no permission, a full disk.
    #[error("cannot write {path}")]
    Write {
        /// The file that could not be written.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// Reading the file failed: it does not exist or is not readable.
    #[error("cannot read {path}")]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a model file of this version (see [`ModelError`]).
    #[error(transparent)]
    Invalid(#[from] ModelError),
}

impl Monitors {
    /// Writes the models to `path` atomically: a temporary file beside it,
    /// then a rename, so a crash never leaves half a model file.
    pub fn save_to(&self, path: &Path) -> Result<(), ModelFileError> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.save_json()).map_err(|source| ModelFileError::Write {
            path: tmp.clone(),
            source,
        })?;
        std::fs::rename(&tmp, path).map_err(|source| ModelFileError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// Reads and checks a model file written by [`Monitors::save_to`].
    pub fn read_models(path: &Path) -> Result<ModelFile, ModelFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        Ok(Monitors::parse_models(&text)?)
    }
}

#[cfg(test)]
mod tests {
    use crate::{DetectConfig, Monitors};

    #[test]
    fn saved_models_read_back_and_leave_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("nectar-models-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("models.json");
        let monitors = Monitors::new(&DetectConfig::default()).unwrap();
        monitors.save_to(&path).unwrap();
        let file = Monitors::read_models(&path).unwrap();
        assert_eq!(file.window, DetectConfig::default().window);
        // Every statistic comes back, with the settings it was saved with.
        assert!(monitors.clone().restore(&file, true).is_empty());
        assert!(!path.with_extension("tmp").exists());
        std::fs::write(&path, "{").unwrap();
        assert!(matches!(
            Monitors::read_models(&path),
            Err(super::ModelFileError::Invalid(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
