//! The crate's error types: why the notifier could not start ([`NotifyError`])
//! and how one attempt failed ([`SendError`]), which decides between a retry
//! and the dead-letter list.

use std::time::Duration;

use nectar_event::config::ConfigError;

/// Why the notifier could not start (both are configuration errors: exit 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// `[notify]` has a value that cannot work; the key names it from the
    /// file's root (`notify.routes[0].channels[1]`).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A channel's client could not be built (the TLS roots, the SMTP host).
    #[error("notify: channel {channel:?}: {reason}")]
    Channel {
        /// The channel's name.
        channel: String,
        /// What failed.
        reason: String,
    },
}

/// How one attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again: the receiver is down, slow, overloaded or asked to
    /// wait (`after`, from its `Retry-After`).
    #[error("{reason}")]
    Retry {
        /// What happened.
        reason: String,
        /// How long the receiver asked us to wait.
        after: Option<Duration>,
    },
    /// Trying again will not help (the receiver refused the message or the
    /// address for good: 4xx, `410 Gone`, an SMTP 5xx): dead at once.
    #[error("{0}")]
    Permanent(String),
}

impl SendError {
    /// A failure worth retrying with no wait asked for.
    pub fn retry(reason: impl Into<String>) -> SendError {
        SendError::Retry {
            reason: reason.into(),
            after: None,
        }
    }
}
