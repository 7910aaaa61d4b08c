//! Streaming reader for pcap and pcapng capture files (or standard input).
//!
//! It owns the file-format side of the packet path: probing the format,
//! keeping per-interface link types and timestamp resolutions for pcapng,
//! turning every timestamp into nanoseconds since the epoch, and reporting a
//! truncated or corrupted file as a typed [`FileError`] that says how many
//! packets were read before it. Records are parsed by `pcap-parser` from a
//! fixed-size buffer refilled from the input, so memory does not grow with the
//! file; [`FileReader::next_packet`] lends each packet from that buffer.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError, create_reader};

use crate::decode::{PacketView, decode};
use crate::linktype::LinkType;

/// Initial read buffer: large enough that refills are rare and the per-record
/// cost is parsing, not system calls.
const BUFFER_SIZE: usize = 1 << 20;
/// The buffer grows for a record larger than itself, up to this bound; a
/// larger record is a corrupt length field, not a packet (the largest snaplen
/// any tool writes is 256 KiB).
const MAX_BUFFER_SIZE: usize = 16 << 20;
/// Interfaces kept per pcapng section; more is a crafted file.
const MAX_INTERFACES: usize = 4096;

/// Why a capture file could not be read (further).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The path does not exist or is not readable.
    #[error("cannot open capture file {path}: {source}")]
    Open {
        /// The path given.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// The input is empty.
    #[error("{name}: empty input, expected a pcap or pcapng capture")]
    Empty {
        /// The input's name.
        name: String,
    },
    /// The first bytes are neither a pcap nor a pcapng header.
    #[error("{name}: not a pcap or pcapng capture (unrecognised file header)")]
    NotACapture {
        /// The input's name.
        name: String,
    },
    /// The input ends in the middle of a record: a capture that was cut off
    /// (copied while still being written, or a disk that filled up).
    #[error(
        "{name}: capture is truncated: it ends inside a record after {packets} packets ({offset} bytes read)"
    )]
    Truncated {
        /// The input's name.
        name: String,
        /// Packets returned before the error.
        packets: u64,
        /// Bytes of the input consumed before the broken record.
        offset: u64,
    },
    /// A record is malformed (bad block type or length, unknown interface,
    /// impossible timestamp resolution): the file is corrupted.
    #[error("{name}: capture is corrupt at byte {offset}, after {packets} packets: {reason}")]
    Corrupt {
        /// The input's name.
        name: String,
        /// Packets returned before the error.
        packets: u64,
        /// Bytes of the input consumed before the broken record.
        offset: u64,
        /// What is wrong, in words.
        reason: String,
    },
    /// Reading the input failed (I/O error from the disk or pipe).
    #[error("{name}: read error after {packets} packets ({offset} bytes read): {source}")]
    Read {
        /// The input's name.
        name: String,
        /// Packets returned before the error.
        packets: u64,
        /// Bytes consumed before the error.
        offset: u64,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
}

impl FileError {
    /// Packets successfully returned before this error (0 for open errors).
    pub fn packets_read(&self) -> u64 {
        match self {
            FileError::Truncated { packets, .. }
            | FileError::Corrupt { packets, .. }
            | FileError::Read { packets, .. } => *packets,
            _ => 0,
        }
    }
}

/// Which container the input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap (libpcap), microsecond timestamps.
    Pcap,
    /// Classic pcap with nanosecond timestamps (magic `a1b23c4d`).
    PcapNs,
    /// pcapng.
    PcapNg,
}

/// One packet as stored in the file, borrowing the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct RawPacket<'a> {
    /// Capture timestamp, nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// Length on the wire.
    pub wire_len: u32,
    /// Framing of `data`.
    pub link: LinkType,
    /// pcapng interface id (0 for pcap).
    pub interface: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

impl<'a> RawPacket<'a> {
    /// Decodes the packet (see [`decode()`]).
    #[inline]
    pub fn decode(&self) -> PacketView<'a> {
        decode(self.link, self.data, self.ts_ns, self.wire_len)
    }
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    /// Timestamp units per second.
    resolution: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    offset_s: i64,
    snaplen: u32,
}

/// Where the packet bytes of the current record sit in the reader's buffer.
struct Pending {
    consume: usize,
    start: usize,
    len: usize,
    ts_ns: u64,
    wire_len: u32,
    link: LinkType,
    interface: u32,
}

/// Streaming reader over a pcap or pcapng input.
pub struct FileReader {
    name: String,
    inner: Box<dyn PcapReaderIterator + Send>,
    io_error: Arc<Mutex<Option<io::Error>>>,
    format: Format,
    /// pcap: the single interface; pcapng: interfaces of the current section.
    interfaces: Vec<Interface>,
    /// Bytes to consume before parsing the next record (the record lent last).
    to_consume: usize,
    packets: u64,
    last_ts_ns: u64,
    finished: bool,
}

impl std::fmt::Debug for FileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileReader")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("packets", &self.packets)
            .finish_non_exhaustive()
    }
}

/// Forwards reads, filling the caller's buffer as far as the input allows
/// (pcap-parser treats a short first read as a bad header), retrying
/// `Interrupted`, and keeping the last I/O error, which pcap-parser replaces
/// by a bare `ReadError`.
struct FullRead<R> {
    inner: R,
    error: Arc<Mutex<Option<io::Error>>>,
}

impl<R: Read> Read for FullRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        // Bounded: every iteration either fills bytes, ends at EOF, or returns.
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if filled > 0 {
                        break;
                    }
                    let kind = e.kind();
                    if let Ok(mut slot) = self.error.lock() {
                        *slot = Some(e);
                    }
                    return Err(io::Error::from(kind));
                }
            }
        }
        Ok(filled)
    }
}

impl FileReader {
    /// Opens a capture file; `-` reads standard input.
    pub fn open(path: impl AsRef<Path>) -> Result<FileReader, FileError> {
        let path = path.as_ref();
        if path == Path::new("-") {
            return FileReader::from_reader(io::stdin(), "<stdin>");
        }
        let file = File::open(path).map_err(|source| FileError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        FileReader::from_reader(file, path.display().to_string())
    }

    /// Reads a capture from any byte stream; `name` appears in errors.
    pub fn from_reader<R: Read + Send + 'static>(
        reader: R,
        name: impl Into<String>,
    ) -> Result<FileReader, FileError> {
        let name = name.into();
        let io_error = Arc::new(Mutex::new(None));
        let wrapped = FullRead {
            inner: reader,
            error: Arc::clone(&io_error),
        };
        let inner = match create_reader(BUFFER_SIZE, wrapped) {
            Ok(r) => r,
            Err(PcapError::Eof) => return Err(FileError::Empty { name }),
            Err(PcapError::ReadError) => {
                let source = take_io_error(&io_error);
                return Err(FileError::Read {
                    name,
                    packets: 0,
                    offset: 0,
                    source,
                });
            }
            Err(PcapError::Incomplete(_)) | Err(PcapError::UnexpectedEof) => {
                return Err(FileError::Truncated {
                    name,
                    packets: 0,
                    offset: 0,
                });
            }
            Err(_) => return Err(FileError::NotACapture { name }),
        };
        let mut reader = FileReader {
            name,
            inner,
            io_error,
            format: Format::Pcap,
            interfaces: Vec::new(),
            to_consume: 0,
            packets: 0,
            last_ts_ns: 0,
            finished: false,
        };
        reader.read_preamble()?;
        Ok(reader)
    }

    /// Reads the pcap file header, or the first pcapng section header, so
    /// that [`FileReader::format`] is known before the first packet.
    fn read_preamble(&mut self) -> Result<(), FileError> {
        for _ in 0..4 {
            let outcome = match self.inner.next() {
                Ok((off, PcapBlockOwned::LegacyHeader(h))) => {
                    let nanos = h.is_nanosecond_precision();
                    self.format = if nanos { Format::PcapNs } else { Format::Pcap };
                    self.interfaces.push(Interface {
                        link: LinkType::from_linktype(h.network.0 as u32),
                        resolution: if nanos { 1_000_000_000 } else { 1_000_000 },
                        offset_s: 0,
                        snaplen: h.snaplen,
                    });
                    Preamble::Consume(off)
                }
                // Leave the section header for next_packet, which resets the
                // interface table on every section.
                Ok((_, PcapBlockOwned::NG(_))) => Preamble::PcapNg,
                Ok((_, PcapBlockOwned::Legacy(_))) => Preamble::Fail(None),
                Err(PcapError::Incomplete(_)) => Preamble::Refill,
                Err(e) => Preamble::Fail(Some(e_owned(&e))),
            };
            match outcome {
                Preamble::Consume(off) => {
                    self.inner.consume(off);
                    return Ok(());
                }
                Preamble::PcapNg => {
                    self.format = Format::PcapNg;
                    return Ok(());
                }
                Preamble::Refill => self.refill()?,
                Preamble::Fail(Some(e)) => return Err(self.map_error(e)),
                Preamble::Fail(None) => {
                    return Err(self.corrupt("pcap record before the file header".into()));
                }
            }
        }
        Err(self.corrupt("cannot read the file header".into()))
    }

    /// The input's name as used in errors.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// pcap, pcap with nanosecond timestamps, or pcapng.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Packets returned so far.
    pub fn packets_read(&self) -> u64 {
        self.packets
    }

    /// Bytes of the input consumed so far (for progress bars).
    pub fn bytes_read(&self) -> u64 {
        (self.inner.consumed() + self.to_consume) as u64
    }

    /// The link type of the classic pcap file, or of the first interface of
    /// the current pcapng section (None before a pcapng IDB was read).
    pub fn link_type(&self) -> Option<LinkType> {
        self.interfaces.first().map(|i| i.link)
    }

    /// The next packet, `Ok(None)` at the clean end of the input.
    ///
    /// After an error the reader is finished: further calls return `Ok(None)`.
    pub fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, FileError> {
        if self.finished {
            return Ok(None);
        }
        match self.advance() {
            Ok(Some(p)) => {
                self.to_consume = p.consume;
                self.packets += 1;
                self.last_ts_ns = p.ts_ns;
                let data = self
                    .inner
                    .data()
                    .get(p.start..p.start + p.len)
                    .unwrap_or(&[]);
                Ok(Some(RawPacket {
                    ts_ns: p.ts_ns,
                    wire_len: p.wire_len,
                    link: p.link,
                    interface: p.interface,
                    data,
                }))
            }
            Ok(None) => {
                self.finished = true;
                Ok(None)
            }
            Err(e) => {
                self.finished = true;
                Err(e)
            }
        }
    }

    /// Parses records until one holds a packet; returns where its bytes are.
    ///
    /// The packet is located by offsets rather than returned as a borrow so
    /// that the loop can keep calling `&mut` methods (consume, refill) for the
    /// records it skips.
    fn advance(&mut self) -> Result<Option<Pending>, FileError> {
        if self.to_consume > 0 {
            self.inner.consume(self.to_consume);
            self.to_consume = 0;
        }
        // Each iteration consumes a record, refills, or grows the buffer; the
        // input is finite and growth is capped, so the loop ends.
        loop {
            let base = self.inner.data().as_ptr() as usize;
            let step = match self.inner.next() {
                Ok((off, block)) => {
                    classify(&mut self.interfaces, self.last_ts_ns, off, block, base)
                }
                Err(PcapError::Eof) => return Ok(None),
                Err(PcapError::Incomplete(_)) => Step::Refill,
                Err(PcapError::BufferTooSmall) => Step::Grow,
                Err(e) => Step::Fail(e_owned(&e)),
            };
            match step {
                Step::Packet(p) => return Ok(Some(p)),
                Step::Skip(off) => self.inner.consume(off),
                Step::Refill => self.refill()?,
                Step::Grow => {
                    let size = self.inner.data().len().max(BUFFER_SIZE) * 2;
                    if size > MAX_BUFFER_SIZE || !self.inner.grow(size) {
                        return Err(
                            self.corrupt(format!("record larger than {MAX_BUFFER_SIZE} bytes"))
                        );
                    }
                    self.refill()?;
                }
                Step::Corrupt(reason) => return Err(self.corrupt(reason)),
                Step::Fail(e) => return Err(self.map_error(e)),
            }
        }
    }
}

/// Turns one parsed record into what the reader must do with it. A free
/// function so that it can borrow the interface table while the record
/// borrows the parser's buffer.
fn classify(
    interfaces: &mut Vec<Interface>,
    last_ts_ns: u64,
    off: usize,
    block: PcapBlockOwned<'_>,
    base: usize,
) -> Step {
    let at = |data: &[u8]| (data.as_ptr() as usize).wrapping_sub(base);
    match block {
        PcapBlockOwned::Legacy(b) => {
            let Some(iface) = interfaces.first() else {
                return Step::Corrupt("pcap record without a file header".into());
            };
            // Some writers put more than caplen... in caplen; never trust it
            // beyond the record itself.
            let frac = u64::from(b.ts_usec);
            let ts_ns = u64::from(b.ts_sec)
                .saturating_mul(1_000_000_000)
                .saturating_add(if iface.resolution == 1_000_000 {
                    frac.saturating_mul(1000)
                } else {
                    frac
                });
            Step::Packet(Pending {
                consume: off,
                start: at(b.data),
                len: b.data.len(),
                ts_ns,
                wire_len: b.origlen,
                link: iface.link,
                interface: 0,
            })
        }
        PcapBlockOwned::LegacyHeader(_) => Step::Skip(off),
        PcapBlockOwned::NG(Block::SectionHeader(_)) => {
            interfaces.clear();
            Step::Skip(off)
        }
        PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
            if interfaces.len() >= MAX_INTERFACES {
                return Step::Corrupt(format!("more than {MAX_INTERFACES} interfaces"));
            }
            let Some(resolution) = idb.ts_resolution().filter(|r| *r > 0) else {
                return Step::Corrupt(format!(
                    "interface {} has an invalid timestamp resolution ({:#x})",
                    interfaces.len(),
                    idb.if_tsresol
                ));
            };
            interfaces.push(Interface {
                link: LinkType::from_linktype(idb.linktype.0 as u32),
                resolution,
                offset_s: idb.ts_offset(),
                snaplen: idb.snaplen,
            });
            Step::Skip(off)
        }
        PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
            let Some(iface) = interfaces.get(epb.if_id as usize) else {
                return Step::Corrupt(format!(
                    "packet refers to interface {} but only {} are described",
                    epb.if_id,
                    interfaces.len()
                ));
            };
            let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
            let ts_ns = ticks_to_ns(raw, iface.resolution, iface.offset_s);
            // pcap-parser keeps the 32-bit padding in `data`; caplen says
            // how much of it is the packet.
            let len = (epb.caplen as usize).min(epb.data.len());
            Step::Packet(Pending {
                consume: off,
                start: at(epb.data),
                len,
                ts_ns,
                wire_len: epb.origlen,
                link: iface.link,
                interface: epb.if_id,
            })
        }
        PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
            let Some(iface) = interfaces.first() else {
                return Step::Corrupt("simple packet block before any interface".into());
            };
            // An SPB has no captured length: it is min(original length,
            // snaplen), the rest of the data is padding.
            let mut len = (spb.origlen as usize).min(spb.data.len());
            if iface.snaplen > 0 {
                len = len.min(iface.snaplen as usize);
            }
            // ... and no timestamp: reuse the previous packet's, so the
            // packet lands in the current window.
            Step::Packet(Pending {
                consume: off,
                start: at(spb.data),
                len,
                ts_ns: last_ts_ns,
                wire_len: spb.origlen,
                link: iface.link,
                interface: 0,
            })
        }
        PcapBlockOwned::NG(_) => Step::Skip(off),
    }
}

impl FileReader {
    fn refill(&mut self) -> Result<(), FileError> {
        match self.inner.refill() {
            Ok(()) => Ok(()),
            Err(e) => {
                let e = e_owned(&e);
                Err(self.map_error(e))
            }
        }
    }

    fn offset(&self) -> u64 {
        self.inner.consumed() as u64
    }

    fn corrupt(&self, reason: String) -> FileError {
        FileError::Corrupt {
            name: self.name.clone(),
            packets: self.packets,
            offset: self.offset(),
            reason,
        }
    }

    fn map_error(&self, e: PcapError<&'static [u8]>) -> FileError {
        let name = self.name.clone();
        let packets = self.packets;
        let offset = self.offset();
        match e {
            PcapError::Eof | PcapError::UnexpectedEof | PcapError::Incomplete(_) => {
                FileError::Truncated {
                    name,
                    packets,
                    offset,
                }
            }
            PcapError::ReadError => FileError::Read {
                name,
                packets,
                offset,
                source: take_io_error(&self.io_error),
            },
            PcapError::HeaderNotRecognized => self.corrupt("unrecognised header".into()),
            PcapError::BufferTooSmall => {
                self.corrupt(format!("record larger than {MAX_BUFFER_SIZE} bytes"))
            }
            PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
                self.corrupt(format!("malformed record ({kind:?})"))
            }
        }
    }
}

enum Preamble {
    Consume(usize),
    PcapNg,
    Refill,
    Fail(Option<PcapError<&'static [u8]>>),
}

enum Step {
    Packet(Pending),
    Skip(usize),
    Refill,
    Grow,
    Corrupt(String),
    Fail(PcapError<&'static [u8]>),
}

/// Drops the borrowed input from a parser error (we report offsets instead).
fn e_owned(e: &PcapError<&[u8]>) -> PcapError<&'static [u8]> {
    match e {
        PcapError::Eof => PcapError::Eof,
        PcapError::BufferTooSmall => PcapError::BufferTooSmall,
        PcapError::UnexpectedEof => PcapError::UnexpectedEof,
        PcapError::ReadError => PcapError::ReadError,
        PcapError::Incomplete(n) => PcapError::Incomplete(*n),
        PcapError::HeaderNotRecognized => PcapError::HeaderNotRecognized,
        PcapError::NomError(_, k) | PcapError::OwnedNomError(_, k) => PcapError::NomError(&[], *k),
    }
}

fn take_io_error(slot: &Mutex<Option<io::Error>>) -> io::Error {
    slot.lock()
        .ok()
        .and_then(|mut s| s.take())
        .unwrap_or_else(|| io::Error::other("read failed"))
}

/// Converts pcapng timestamp ticks to nanoseconds, saturating instead of
/// overflowing on hostile resolutions or offsets.
fn ticks_to_ns(ticks: u64, resolution: u64, offset_s: i64) -> u64 {
    let ns = if resolution == 1_000_000_000 {
        u128::from(ticks)
    } else {
        u128::from(ticks) * 1_000_000_000 / u128::from(resolution.max(1))
    };
    let ns = i128::try_from(ns).unwrap_or(i128::MAX) + i128::from(offset_s) * 1_000_000_000;
    u64::try_from(ns.max(0)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_conversion() {
        assert_eq!(ticks_to_ns(1_500_000, 1_000_000, 0), 1_500_000_000);
        assert_eq!(ticks_to_ns(3, 1_000_000_000, 1), 1_000_000_003);
        assert_eq!(ticks_to_ns(1, 2, 0), 500_000_000);
        assert_eq!(ticks_to_ns(u64::MAX, 1, i64::MAX), u64::MAX);
        assert_eq!(ticks_to_ns(0, 1, i64::MIN), 0);
    }
}
