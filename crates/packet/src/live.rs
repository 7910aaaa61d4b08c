//! Live capture from a Linux interface through an `AF_PACKET` socket and a
//! `TPACKET_V3` memory-mapped receive ring.
//!
//! This is the one module of the crate that talks to the kernel, hence the one
//! place with `unsafe`. The kernel fills blocks of a shared ring with packets
//! and hands each block to user space by setting `TP_STATUS_USER` in its
//! header; we read the block's packets straight from the ring (no copy, no
//! system call per packet) and give the block back with `TP_STATUS_KERNEL`.
//! No libpcap, so `cargo build` needs nothing beyond the Rust toolchain.
//!
//! Invariants the `unsafe` blocks rely on:
//! 1. `Ring` owns a successful `mmap` of exactly `block_size * block_nr` bytes
//!    of the socket's ring, unmapped only in its `Drop` (after which nothing
//!    can borrow it: borrows of the ring are tied to `&mut LiveCapture`).
//! 2. A block is read as a `&[u8]` only after an acquire load saw
//!    `TP_STATUS_USER` in its status word; from then until we store
//!    `TP_STATUS_KERNEL` (release), the kernel does not write to it.
//! 3. The status word is the first `u32` of the block's `hdr.bh1` (byte offset
//!    8 of the block, which is page-aligned, so 4-byte aligned) and is accessed
//!    only atomically.
//! 4. Every offset read from a block header is bounds-checked against the
//!    block before use; the packet walk itself is safe code over the slice.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::error::CaptureError;
use crate::file::RawPacket;
use crate::linktype::LinkType;

// Kernel ABI constants (include/uapi/linux/if_packet.h, filter.h), stable
// across architectures; defined here so the crate does not depend on which
// libc release exports them.
const PACKET_ADD_MEMBERSHIP: libc::c_int = 1;
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_STATISTICS: libc::c_int = 6;
const PACKET_VERSION: libc::c_int = 10;
const PACKET_MR_PROMISC: libc::c_ushort = 1;
const TPACKET_V3: libc::c_int = 2;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
const SO_ATTACH_FILTER: libc::c_int = 26;
const BPF_RET_K: u16 = 0x06;
/// Offset of `hdr.bh1.block_status` in `struct tpacket_block_desc`.
const BLOCK_STATUS_OFF: usize = 8;
/// Offset of `hdr.bh1.num_pkts`.
const BLOCK_NUM_PKTS_OFF: usize = 12;
/// Offset of `hdr.bh1.offset_to_first_pkt`.
const BLOCK_FIRST_OFF: usize = 16;
/// Size of the fixed part of `struct tpacket3_hdr` that we read.
const TPACKET3_HDR_LEN: usize = 28;
/// `TPACKET_ALIGN(sizeof(struct tpacket3_hdr))`: where `struct sockaddr_ll`
/// follows each packet header.
const SOCKADDR_LL_OFF: usize = 48;

#[repr(C)]
struct TpacketReq3 {
    tp_block_size: u32,
    tp_block_nr: u32,
    tp_frame_size: u32,
    tp_frame_nr: u32,
    tp_retire_blk_tov: u32,
    tp_sizeof_priv: u32,
    tp_feature_req_word: u32,
}

#[repr(C)]
#[derive(Default)]
struct TpacketStatsV3 {
    tp_packets: u32,
    tp_drops: u32,
    tp_freeze_q_cnt: u32,
}

#[repr(C)]
struct PacketMreq {
    mr_ifindex: libc::c_int,
    mr_type: libc::c_ushort,
    mr_alen: libc::c_ushort,
    mr_address: [libc::c_uchar; 8],
}

/// How to open a live capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConfig {
    /// Interface name (`eth0`, `lo`), or `any` for all interfaces (packets
    /// then start at the network header, see [`LinkType::Network`]).
    pub interface: String,
    /// Bytes kept of each packet (16..=262144); the rest is cut by a one-line
    /// kernel filter, so it never crosses into user space.
    pub snaplen: u32,
    /// Put the interface in promiscuous mode while the capture is open.
    pub promiscuous: bool,
    /// Size of one ring block in bytes (a power of two, at least a page).
    pub block_size: u32,
    /// Number of ring blocks; the ring is `block_size * block_count` bytes.
    pub block_count: u32,
    /// How long the kernel waits before handing over a partly filled block.
    pub block_timeout: Duration,
}

impl LiveConfig {
    /// Defaults for `interface`: full packets, promiscuous, 16 MiB ring.
    pub fn new(interface: impl Into<String>) -> LiveConfig {
        LiveConfig {
            interface: interface.into(),
            snaplen: 262_144,
            promiscuous: true,
            block_size: 1 << 20,
            block_count: 16,
            block_timeout: Duration::from_millis(10),
        }
    }

    fn validate(&self) -> Result<(), CaptureError> {
        let bad = |reason: String| Err(CaptureError::InvalidConfig { reason });
        if self.interface.is_empty() || self.interface.len() >= libc::IFNAMSIZ {
            return bad(format!(
                "interface name {:?} is empty or too long",
                self.interface
            ));
        }
        if !(16..=262_144).contains(&self.snaplen) {
            return bad(format!("snaplen {} is outside 16..=262144", self.snaplen));
        }
        if !self.block_size.is_power_of_two() || self.block_size < 4096 {
            return bad(format!(
                "block_size {} is not a power of two of at least 4096",
                self.block_size
            ));
        }
        if self.block_size < self.snaplen + 128 {
            return bad(format!(
                "block_size {} cannot hold a packet of snaplen {}",
                self.block_size, self.snaplen
            ));
        }
        if self.block_count == 0
            || u64::from(self.block_size) * u64::from(self.block_count) > 1 << 30
        {
            return bad(format!(
                "block_count {} gives an empty ring or one over 1 GiB",
                self.block_count
            ));
        }
        Ok(())
    }
}

/// Kernel counters of the socket since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packets the kernel passed the filter.
    pub received: u64,
    /// Packets dropped because the ring was full.
    pub dropped: u64,
}

/// The mapped ring; owns the mapping.
struct Ring {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value alone; moving it to
// another thread moves that ownership (invariant 1).
unsafe impl Send for Ring {}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: ptr/len are exactly what mmap returned (invariant 1), and no
        // borrow of the ring outlives `&mut LiveCapture`, which is being dropped.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// An open live capture.
pub struct LiveCapture {
    // Field order matters: the ring is unmapped before the socket closes.
    ring: Ring,
    fd: OwnedFd,
    interface: String,
    link: LinkType,
    cooked: bool,
    block_size: usize,
    block_count: usize,
    current: usize,
    /// Whether we own `current` (saw TP_STATUS_USER and have not returned it).
    held: bool,
    left_in_block: u32,
    next_offset: usize,
    stats: CaptureStats,
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture")
            .field("interface", &self.interface)
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

fn os_error(op: &'static str, interface: &str) -> CaptureError {
    let source = io::Error::last_os_error();
    match source.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => CaptureError::PermissionDenied {
            interface: interface.to_string(),
        },
        Some(libc::ENODEV) | Some(libc::ENXIO) => CaptureError::NoSuchInterface {
            interface: interface.to_string(),
        },
        _ => CaptureError::Os {
            op,
            interface: interface.to_string(),
            source,
        },
    }
}

fn setsockopt<T>(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
    op: &'static str,
    interface: &str,
) -> Result<(), CaptureError> {
    // SAFETY: `value` is a live, initialised T and we pass its exact size; the
    // kernel only reads it during the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(os_error(op, interface));
    }
    Ok(())
}

/// Reads `/sys/class/net/IF/type` (the `ARPHRD_*` number): no ioctl needed.
fn interface_link_type(interface: &str) -> Result<LinkType, CaptureError> {
    let path = format!("/sys/class/net/{interface}/type");
    let text = std::fs::read_to_string(&path).map_err(|_| CaptureError::NoSuchInterface {
        interface: interface.to_string(),
    })?;
    let arphrd: u32 = text.trim().parse().unwrap_or(u32::MAX);
    Ok(match arphrd {
        // ARPHRD_ETHER, ARPHRD_LOOPBACK (Linux gives lo a zeroed Ethernet header).
        1 | 772 => LinkType::Ethernet,
        // ARPHRD_NONE (tun), ARPHRD_RAWIP, ARPHRD_PPP: the frame is the IP packet.
        65534 | 519 | 512 => LinkType::RawIp,
        other => LinkType::Other(other),
    })
}

impl LiveCapture {
    /// Opens the capture. Needs `CAP_NET_RAW`; without it the error is
    /// [`CaptureError::PermissionDenied`], whose message names the fix.
    pub fn open(config: &LiveConfig) -> Result<LiveCapture, CaptureError> {
        config.validate()?;
        let iface = config.interface.as_str();
        let cooked = iface == "any";
        let (ifindex, link) = if cooked {
            (0, LinkType::Network(0))
        } else {
            let name = CString::new(iface).map_err(|_| CaptureError::InvalidConfig {
                reason: format!("interface name {iface:?} contains a NUL byte"),
            })?;
            // SAFETY: `name` is a valid NUL-terminated string for the call.
            let idx = unsafe { libc::if_nametoindex(name.as_ptr()) };
            if idx == 0 {
                return Err(CaptureError::NoSuchInterface {
                    interface: iface.to_string(),
                });
            }
            (idx as libc::c_int, interface_link_type(iface)?)
        };
        if let LinkType::Other(arphrd) = link {
            return Err(CaptureError::UnsupportedLinkType {
                interface: iface.to_string(),
                arphrd,
            });
        }

        // Protocol 0: the socket receives nothing until bind(), so no packet
        // slips in before the snaplen filter and the ring are in place.
        let kind = if cooked {
            libc::SOCK_DGRAM
        } else {
            libc::SOCK_RAW
        };
        // SAFETY: plain system call with constant arguments.
        let raw = unsafe { libc::socket(libc::AF_PACKET, kind | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(os_error("socket(AF_PACKET)", iface));
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        setsockopt(
            &fd,
            libc::SOL_PACKET,
            PACKET_VERSION,
            &TPACKET_V3,
            "PACKET_VERSION",
            iface,
        )?;

        // Snaplen: a one-instruction classic BPF program "accept, keep N
        // bytes", as libpcap does for TPACKET_V3.
        let mut filter = [libc::sock_filter {
            code: BPF_RET_K,
            jt: 0,
            jf: 0,
            k: config.snaplen,
        }];
        let prog = libc::sock_fprog {
            len: 1,
            filter: filter.as_mut_ptr(),
        };
        setsockopt(
            &fd,
            libc::SOL_SOCKET,
            SO_ATTACH_FILTER,
            &prog,
            "SO_ATTACH_FILTER",
            iface,
        )?;

        let frame_size: u32 = 2048;
        let req = TpacketReq3 {
            tp_block_size: config.block_size,
            tp_block_nr: config.block_count,
            tp_frame_size: frame_size,
            tp_frame_nr: config.block_size / frame_size * config.block_count,
            tp_retire_blk_tov: config.block_timeout.as_millis().clamp(1, 10_000) as u32,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        setsockopt(
            &fd,
            libc::SOL_PACKET,
            PACKET_RX_RING,
            &req,
            "PACKET_RX_RING",
            iface,
        )?;

        let len = config.block_size as usize * config.block_count as usize;
        // SAFETY: mapping the ring the kernel just allocated for this socket,
        // with the exact size requested; the result is checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(os_error("mmap(ring)", iface));
        }
        let Some(ptr) = NonNull::new(ptr.cast::<u8>()) else {
            return Err(os_error("mmap(ring)", iface));
        };
        let ring = Ring { ptr, len };

        if config.promiscuous && !cooked {
            let mreq = PacketMreq {
                mr_ifindex: ifindex,
                mr_type: PACKET_MR_PROMISC,
                mr_alen: 0,
                mr_address: [0; 8],
            };
            // The membership ends when the socket closes.
            setsockopt(
                &fd,
                libc::SOL_PACKET,
                PACKET_ADD_MEMBERSHIP,
                &mreq,
                "PACKET_ADD_MEMBERSHIP",
                iface,
            )?;
        }

        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        sll.sll_ifindex = ifindex;
        // SAFETY: `sll` is a valid sockaddr_ll and we pass its size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(os_error("bind", iface));
        }

        Ok(LiveCapture {
            ring,
            fd,
            interface: iface.to_string(),
            link,
            cooked,
            block_size: config.block_size as usize,
            block_count: config.block_count as usize,
            current: 0,
            held: false,
            left_in_block: 0,
            next_offset: 0,
            stats: CaptureStats::default(),
        })
    }

    /// The link type of the frames returned (per packet for `any`).
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// The interface name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    fn status_word(&self, block: usize) -> &AtomicU32 {
        debug_assert!(block < self.block_count);
        // SAFETY: block < block_count, so the word lies inside the mapping
        // (invariant 1), is 4-byte aligned and only accessed atomically
        // (invariant 3); the reference lives no longer than &self, and the
        // mapping lives as long as self.
        unsafe {
            AtomicU32::from_ptr(
                self.ring
                    .ptr
                    .as_ptr()
                    .add(block * self.block_size + BLOCK_STATUS_OFF)
                    .cast::<u32>(),
            )
        }
    }

    /// The current block as bytes; only while `held` (invariant 2).
    fn block(&self) -> &[u8] {
        debug_assert!(self.held);
        // SAFETY: `held` means an acquire load saw TP_STATUS_USER and we have
        // not handed the block back, so the kernel does not write it while this
        // borrow (tied to &self) lives; the range is inside the mapping.
        unsafe {
            std::slice::from_raw_parts(
                self.ring.ptr.as_ptr().add(self.current * self.block_size),
                self.block_size,
            )
        }
    }

    fn release(&mut self) {
        if self.held {
            self.status_word(self.current)
                .store(TP_STATUS_KERNEL, Ordering::Release);
            self.held = false;
            self.current = (self.current + 1) % self.block_count;
        }
    }

    fn wait(&self, timeout: Duration) -> Result<bool, CaptureError> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN | libc::POLLERR,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd, count 1.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(false);
            }
            return Err(CaptureError::Os {
                op: "poll",
                interface: self.interface.clone(),
                source: e,
            });
        }
        Ok(rc > 0)
    }

    /// The next packet, waiting at most `timeout`; `Ok(None)` on timeout, so
    /// the caller can check whether to stop.
    pub fn next_packet(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<RawPacket<'_>>, CaptureError> {
        // Bounded: at most one pass over the ring's blocks plus one wait.
        let mut waited = false;
        for _ in 0..=self.block_count * 2 {
            if self.held && self.left_in_block == 0 {
                self.release();
            }
            if !self.held {
                let status = self.status_word(self.current).load(Ordering::Acquire);
                if status & TP_STATUS_USER == 0 {
                    if waited || !self.wait(timeout)? {
                        return Ok(None);
                    }
                    waited = true;
                    continue;
                }
                self.held = true;
                let b = self.block();
                let (count, first) = (
                    read_u32(b, BLOCK_NUM_PKTS_OFF).unwrap_or(0),
                    read_u32(b, BLOCK_FIRST_OFF).unwrap_or(0) as usize,
                );
                self.left_in_block = count;
                self.next_offset = first;
                continue;
            }
            match self.parse_next() {
                Some(p) => {
                    self.left_in_block -= 1;
                    self.next_offset = p.next;
                    let block = self.block();
                    let data = block.get(p.start..p.start + p.len).unwrap_or(&[]);
                    return Ok(Some(RawPacket {
                        ts_ns: p.ts_ns,
                        wire_len: p.wire_len,
                        link: p.link,
                        interface: 0,
                        data,
                    }));
                }
                None => {
                    // Inconsistent block header: give the block back rather
                    // than read past it.
                    self.left_in_block = 0;
                }
            }
        }
        Ok(None)
    }

    fn parse_next(&self) -> Option<Slot> {
        let b = self.block();
        let off = self.next_offset;
        if off < BLOCK_FIRST_OFF + 4 || off + TPACKET3_HDR_LEN > b.len() {
            return None;
        }
        let h = &b[off..];
        let next_rel = read_u32(h, 0)? as usize;
        let sec = read_u32(h, 4)?;
        let nsec = read_u32(h, 8)?;
        let snaplen = read_u32(h, 12)? as usize;
        let wire_len = read_u32(h, 16)?;
        let mac = usize::from(u16::from_ne_bytes([*h.get(24)?, *h.get(25)?]));
        let start = off + mac;
        if start + snaplen > b.len() {
            return None;
        }
        let link = if self.cooked {
            // struct sockaddr_ll follows the header; sll_protocol (big
            // endian) is at offset 2.
            let proto =
                u16::from_be_bytes([*h.get(SOCKADDR_LL_OFF + 2)?, *h.get(SOCKADDR_LL_OFF + 3)?]);
            LinkType::Network(proto)
        } else {
            self.link
        };
        Some(Slot {
            start,
            len: snaplen,
            ts_ns: u64::from(sec) * 1_000_000_000 + u64::from(nsec),
            wire_len,
            link,
            next: off + next_rel,
        })
    }

    /// Kernel counters (received, dropped) since the capture was opened.
    pub fn stats(&mut self) -> Result<CaptureStats, CaptureError> {
        let mut s = TpacketStatsV3::default();
        let mut len = std::mem::size_of::<TpacketStatsV3>() as libc::socklen_t;
        // SAFETY: `s` is writable for `len` bytes; the kernel writes at most len.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                (&mut s as *mut TpacketStatsV3).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(os_error("PACKET_STATISTICS", &self.interface));
        }
        // The kernel resets its counters on every read: accumulate.
        self.stats.received += u64::from(s.tp_packets);
        self.stats.dropped += u64::from(s.tp_drops);
        Ok(self.stats)
    }
}

struct Slot {
    start: usize,
    len: usize,
    ts_ns: u64,
    wire_len: u32,
    link: LinkType,
    next: usize,
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_validation() {
        let mut c = LiveConfig::new("lo");
        assert!(c.validate().is_ok());
        c.snaplen = 1;
        assert!(matches!(
            c.validate(),
            Err(CaptureError::InvalidConfig { .. })
        ));
        let mut c = LiveConfig::new("lo");
        c.block_size = 5000;
        assert!(c.validate().is_err());
        let c = LiveConfig::new("");
        assert!(c.validate().is_err());
    }

    #[test]
    fn missing_interface() {
        let err = LiveCapture::open(&LiveConfig::new("nectar-nope0")).unwrap_err();
        assert!(matches!(err, CaptureError::NoSuchInterface { .. }), "{err}");
    }
}
