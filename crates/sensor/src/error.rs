//! What can go wrong on a sensor's side of the link.

use std::path::PathBuf;

/// A sensor's errors, each naming what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SensorError {
    /// A value the user gave is wrong (`field` names the flag or key).
    #[error("{field}: {reason}")]
    Usage {
        /// The flag or configuration key.
        field: &'static str,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The TLS configuration could not be built.
    #[error("TLS: {0}")]
    Tls(String),
    /// The server could not be reached or answered nonsense.
    #[error("{0}")]
    Link(String),
    /// The server refused the enrolment (the reason is the server's).
    #[error("the server refused the enrolment: {0}")]
    Refused(String),
    /// The credential file could not be read or written.
    #[error("{path}: {reason}")]
    Credential {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The spool failed.
    #[error(transparent)]
    Spool(#[from] nectar_spool::SpoolError),
}
