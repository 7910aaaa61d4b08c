//! A transparent wrapper around the client's socket that reads what russh does not
//! expose before authentication: the client's identification line and its KEXINIT
//! (both travel in clear). It also answers a non-SSH first line the way OpenSSH does
//! and counts the bytes a client sends, so one connection cannot feed us forever.
//!
//! Capture is bounded (one line, one packet of at most 35,000 bytes) and its buffer
//! is freed as soon as the KEXINIT is parsed.

use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::ssh::parser::{Ident, KexInit, MAX_PACKET};

/// Longest first line we wait for before judging it (OpenSSH's limit is 8 KiB; a
/// real client's line is well under 255 bytes).
const MAX_LINE: usize = 1024;

/// What the tap learned about the client, shared with the session's handler.
#[derive(Debug, Default)]
pub struct Hello {
    /// The client's identification line, without CR LF.
    pub ident: OnceLock<String>,
    /// The client's HASSH, once a complete KEXINIT arrived.
    pub hassh: OnceLock<String>,
    /// The client's KEXINIT itself, until the session has logged (or skipped)
    /// its algorithm lists: about 2 KiB a connection that an idle session need
    /// not keep.
    pub kex: Mutex<Option<KexInit>>,
    /// The client sent more than `max_session_bytes`.
    pub over_limit: AtomicBool,
    /// The first line was not SSH (and was answered like OpenSSH).
    pub refused_ident: OnceLock<String>,
    /// The terminal of the connection's first pty request (for the close event).
    pub terminal: OnceLock<crate::capture::Terminal>,
}

enum Phase {
    Line(Vec<u8>),
    Packet(Vec<u8>),
    Done,
}

/// The wrapped socket handed to russh.
pub struct Tap {
    inner: TcpStream,
    hello: Arc<Hello>,
    phase: Phase,
    received: u64,
    max_bytes: u64,
    /// Bytes read from the socket that russh has not asked for yet. russh reads
    /// a packet in two exact reads (its first block, then the rest), which would
    /// be two `recvfrom` calls a packet; one read into a stack buffer serves
    /// both. Empty (no allocation) whenever russh has caught up, so an idle
    /// session keeps nothing here.
    ahead: Vec<u8>,
    ahead_at: usize,
}

/// Reads smaller than this go through a stack buffer of this size, the rest
/// straight into russh's buffer.
const READ_AHEAD: usize = 4096;

impl Tap {
    /// Wraps `inner`; at most `max_bytes` are read from it.
    pub fn new(inner: TcpStream, hello: Arc<Hello>, max_bytes: u64) -> Tap {
        Tap {
            inner,
            hello,
            phase: Phase::Line(Vec::new()),
            received: 0,
            max_bytes,
            ahead: Vec::new(),
            ahead_at: 0,
        }
    }

    /// Looks at newly read bytes; returns false if the connection must end now.
    fn observe(&mut self, mut data: &[u8]) -> bool {
        loop {
            match &mut self.phase {
                Phase::Done => return true,
                Phase::Line(line) => {
                    let room = MAX_LINE + 1 - line.len();
                    let (taken, newline) = match data.iter().position(|&b| b == b'\n') {
                        Some(i) if i < room => (i + 1, true),
                        _ => (data.len().min(room), false),
                    };
                    line.extend_from_slice(&data[..taken]);
                    data = &data[taken..];
                    if !newline && line.len() <= MAX_LINE {
                        return true;
                    }
                    let body = line.strip_suffix(b"\n").unwrap_or(line);
                    match Ident::judge(body) {
                        Ident::Ok(text) => {
                            let _ = self.hello.ident.set(text);
                            self.phase = Phase::Packet(Vec::new());
                        }
                        refused => {
                            if let Some(reply) = refused.error_reply() {
                                // Best effort, like OpenSSH: a few bytes into an
                                // empty send buffer; never wait for a hostile peer.
                                let _ = self.inner.try_write(reply);
                            }
                            if let Ident::WrongVersion(t) | Ident::Invalid(t) = refused {
                                let _ = self.hello.refused_ident.set(t);
                            }
                            self.phase = Phase::Done;
                            return false;
                        }
                    }
                }
                Phase::Packet(packet) => {
                    let want = match packet.get(..4) {
                        Some(len) => {
                            (u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize)
                                .min(MAX_PACKET)
                                + 4
                        }
                        None => 4,
                    };
                    let take = (want - packet.len()).min(data.len());
                    packet.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    match KexInit::parse_packet(packet) {
                        Ok(None) if take > 0 && !data.is_empty() => continue,
                        Ok(None) => return true,
                        Ok(Some(kex)) => {
                            let _ = self.hello.hassh.set(kex.hassh());
                            *self.hello.kex.lock().unwrap_or_else(|p| p.into_inner()) = Some(kex);
                            self.phase = Phase::Done;
                        }
                        // Not ours to judge: russh refuses bad packets itself.
                        Err(_) => self.phase = Phase::Done,
                    }
                }
            }
        }
    }
}

impl Tap {
    /// Counts and observes bytes just read from the socket; false if the
    /// connection must end here (over `max_bytes`, or not an SSH client).
    fn admit(&mut self, data: &[u8]) -> bool {
        self.received = self.received.saturating_add(data.len() as u64);
        if self.received > self.max_bytes {
            self.hello.over_limit.store(true, Ordering::Relaxed);
            return false;
        }
        matches!(self.phase, Phase::Done) || self.observe(data)
    }
}

impl AsyncRead for Tap {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if this.ahead_at < this.ahead.len() {
            let rest = &this.ahead[this.ahead_at..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.ahead_at += n;
            if this.ahead_at == this.ahead.len() {
                this.ahead = Vec::new();
                this.ahead_at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        if buf.remaining() >= READ_AHEAD {
            let before = buf.filled().len();
            match Pin::new(&mut this.inner).poll_read(cx, buf) {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
            let ok = this.admit(&buf.filled()[before..]);
            if !ok {
                buf.set_filled(before); // end of stream for russh
            }
            return Poll::Ready(Ok(()));
        }
        let mut chunk = [0u8; READ_AHEAD];
        let mut read = ReadBuf::new(&mut chunk);
        match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        let data = read.filled();
        if !this.admit(data) {
            return Poll::Ready(Ok(())); // end of stream for russh
        }
        let n = data.len().min(buf.remaining());
        buf.put_slice(&data[..n]);
        if n < data.len() {
            this.ahead = data[n..].to_vec();
            this.ahead_at = 0;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Tap {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
