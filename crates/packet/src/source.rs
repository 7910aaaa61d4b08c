//! One type over both packet sources, so a pipeline can be written once for
//! `nectar analyze FILE` and for a live `[capture] interface`.
#![forbid(unsafe_code)]

use std::time::Duration;

use crate::error::CaptureError;
use crate::file::{FileError, FileReader, RawPacket};
#[cfg(target_os = "linux")]
use crate::live::LiveCapture;

/// A capture file or a live interface.
#[derive(Debug)]
pub enum PacketSource {
    /// A pcap / pcapng file or standard input.
    File(FileReader),
    /// A live interface (Linux).
    #[cfg(target_os = "linux")]
    Live(LiveCapture),
}

/// An error from either source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Reading the file failed (see [`FileError`]).
    #[error(transparent)]
    File(#[from] FileError),
    /// Capturing failed (see [`CaptureError`]).
    #[error(transparent)]
    Capture(#[from] CaptureError),
}

impl PacketSource {
    /// The next packet. A file returns `Ok(None)` at its end; a live capture
    /// returns `Ok(None)` when `timeout` passed without a packet (check
    /// [`PacketSource::is_live`] to tell them apart), so the caller can look at
    /// a stop flag and flush windows by wall clock.
    pub fn next_packet(&mut self, timeout: Duration) -> Result<Option<RawPacket<'_>>, SourceError> {
        match self {
            PacketSource::File(f) => {
                let _ = timeout;
                Ok(f.next_packet()?)
            }
            #[cfg(target_os = "linux")]
            PacketSource::Live(l) => Ok(l.next_packet(timeout)?),
        }
    }

    /// Whether this is a live capture (no end).
    pub fn is_live(&self) -> bool {
        !matches!(self, PacketSource::File(_))
    }
}
