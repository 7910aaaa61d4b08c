//! Errors of live capture. File errors live beside the file reader
//! ([`crate::FileError`]); decode problems are not errors but counted reasons
//! ([`crate::DecodeError`]).
#![forbid(unsafe_code)]

use std::io;

/// Why a live capture could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The process lacks `CAP_NET_RAW`, which raw sockets need.
    #[error(
        "capturing on {interface} needs the CAP_NET_RAW capability: run as root, or grant it once with `sudo setcap cap_net_raw+ep /path/to/nectar`"
    )]
    PermissionDenied {
        /// The interface asked for.
        interface: String,
    },
    /// No interface has this name (check `ip link`).
    #[error("no network interface named {interface:?} (see `ip link` for the list)")]
    NoSuchInterface {
        /// The interface asked for.
        interface: String,
    },
    /// The interface's hardware type has no supported framing (e.g. Wi-Fi
    /// monitor mode, InfiniBand).
    #[error("interface {interface} has hardware type ARPHRD {arphrd}, which cannot be decoded")]
    UnsupportedLinkType {
        /// The interface asked for.
        interface: String,
        /// Its `ARPHRD_*` number.
        arphrd: u32,
    },
    /// A setting is out of range; the message names it.
    #[error("invalid capture settings: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// Live capture exists only on Linux.
    #[error("live capture is only supported on Linux")]
    Unsupported,
    /// A system call failed for another reason.
    #[error("{op} failed on {interface}: {source}")]
    Os {
        /// The call that failed.
        op: &'static str,
        /// The interface asked for.
        interface: String,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
}
