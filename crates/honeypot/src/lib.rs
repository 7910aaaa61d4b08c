//! Nectar's honeypots. [`http`] is a web server that looks like Apache (or nginx)
//! on Debian, serves bait pages with [`honeytoken`]s and classifies every request.
//! [`ssh`] is an SSH server (russh) that looks like Debian 12's
//! OpenSSH, records every login attempt, and hands accepted logins to [`shell`], a
//! fake bash over a fake filesystem that never runs anything on the real machine.
//! [`telnet`] is a Telnet login (BusyBox or Debian telnetd) in front of the same
//! shell; both accept the same [`credentials`]. All of them start from one
//! [`context::HoneypotContext`], so they impersonate one [`context::Machine`].
//!
//! Honeypots only produce events: they send them on the event bus
//! ([`nectar_bus::EventSender`]) and never wait for a commit or touch the
//! database. What the SSH fingerprint still differs from OpenSSH 9.2p1 in is
//! listed in [`ssh::profile`] and in `BENCHMARKS.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
pub mod config;
pub mod context;
pub mod cowrie;
pub mod credentials;
pub mod honeytoken;
pub mod http;
mod listener;
mod session_settings;
pub mod shell;
pub mod ssh;
pub mod telnet;

use std::path::PathBuf;

pub use context::{HoneypotContext, Machine};

/// Why a honeypot could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listen address is taken or not ours (another program on the port, or a
    /// port below 1024 without CAP_NET_BIND_SERVICE).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The system's reason.
        source: std::io::Error,
    },
    /// A host key file could not be read, parsed or written.
    #[error("host key {path}: {reason}")]
    HostKey {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A state file of the honeypots (honeytokens, host name, install date, TLS
    /// certificate) could not be read, parsed or written.
    #[error("{path}: {reason}")]
    State {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A configuration value is unusable (the message names the key).
    #[error("{0}")]
    Config(String),
    /// A setting is unusable; the error names its key within the section given.
    #[error(transparent)]
    Setting(#[from] nectar_event::config::ConfigError),
}
