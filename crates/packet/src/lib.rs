//! Nectar's packet sources and decoder.
//!
//! Sources yield [`RawPacket`]s borrowed from their buffers: [`FileReader`]
//! streams pcap and pcapng files (or standard input), [`LiveCapture`] reads a
//! Linux interface through a `TPACKET_V3` ring. [`decode()`] turns a frame into
//! a [`PacketView`] whose [`PacketMeta`] holds what detectors count, without
//! allocating; what could not be decoded is classified by [`DecodeError`] and
//! counted in [`DecodeErrors`]. [`synth`] writes synthetic captures for tests
//! and benchmarks.
//!
//! The crate denies `unsafe` everywhere and forbids it in every module but
//! `live`, the kernel ring boundary, which documents its invariants.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod decode;
mod error;
pub mod file;
mod linktype;
#[cfg(target_os = "linux")]
mod live;
pub mod source;
pub mod synth;

pub use decode::{
    DecodeError, DecodeErrors, Network, PacketMeta, PacketView, TcpFlags, Transport, decode,
};
pub use error::CaptureError;
pub use file::{FileError, FileReader, Format, RawPacket};
pub use linktype::LinkType;
#[cfg(target_os = "linux")]
pub use live::{CaptureStats, LiveCapture, LiveConfig};
pub use source::{PacketSource, SourceError};
