//! The receiving side of legacy SCP (`scp -O`, or any scp that runs `scp -t DIR`
//! on the server over `exec`): the protocol rcp defined and OpenSSH's scp still
//! speaks. There is no crate for it, and it is small: the client sends a header
//! line per file (`C0644 SIZE NAME`), per directory (`D0755 0 NAME` ... `E`) or
//! for times (`T...`); the server answers each with a zero byte, or with `\x01`
//! and a message to refuse one file (the client then skips its data).
//!
//! Every file goes to the upload store as it arrives (memory stays constant); a
//! file over `max_file_bytes` is refused from its header, before any data. Names
//! are attacker data: they only ever build paths in the fake filesystem.

use std::sync::Arc;

use nectar_capture::uploads::{Refusal, Upload, Verdict};

use crate::capture::Capture;

/// Longest header line accepted (OpenSSH's scp sends well under 300 bytes).
const MAX_HEADER: usize = 1024;
/// Deepest directory nesting of `scp -r`.
const MAX_DEPTH: usize = 16;
/// Bytes of each file kept in memory for the session's fake filesystem.
pub const HEAD_BYTES: usize = crate::shell::fs::KEPT_FILE_BYTES;

/// One file received (or refused).
#[derive(Debug)]
pub struct Received {
    /// The name as the client sent it.
    pub filename: String,
    /// Where it went in the fake filesystem.
    pub path: String,
    /// Permission bits from the header.
    pub mode: u32,
    /// What the upload store did.
    pub verdict: Verdict,
    /// The first bytes, for the fake filesystem (empty if refused).
    pub head: Vec<u8>,
}

enum State {
    /// Reading a header line.
    Header(Vec<u8>),
    /// Receiving a file's data.
    Data(Box<Incoming>),
    /// The zero byte after a file's data.
    Trailer(Box<Option<Received>>),
    /// The client broke the protocol or sent an error; nothing more is read.
    Done,
}

struct Incoming {
    remaining: u64,
    upload: Option<Upload>,
    refused: Option<Verdict>,
    received: Received,
}

/// The state of one `scp -t` channel.
pub struct ScpSink {
    capture: Arc<Capture>,
    /// The target: a directory (`-d`, `-r`, or an existing directory) or a file.
    target: String,
    target_is_dir: bool,
    dirs: Vec<String>,
    state: State,
    /// Whether any file was refused (the exit status is then 1, like scp's).
    pub failed: bool,
}

/// The scp command line's target and whether it must be a directory, if `command`
/// is `scp -t` (the sink); `None` for any other command.
pub fn sink_target(command: &str) -> Option<(String, bool)> {
    let mut words = command.split_whitespace();
    let program = words.next()?;
    if program != "scp" && !program.ends_with("/scp") {
        return None;
    }
    let mut sink = false;
    let mut dir = false;
    let mut target = None;
    let mut options = true;
    for word in words {
        if options && word == "--" {
            options = false;
        } else if options && word.starts_with('-') && word.len() > 1 {
            sink |= word.contains('t');
            dir |= word.contains('d') || word.contains('r');
            // `scp -f` is the source side (a download); not a sink.
            if word.contains('f') {
                return None;
            }
        } else {
            target = Some(word.to_owned());
        }
    }
    sink.then(|| (target.unwrap_or_else(|| ".".into()), dir))
}

impl ScpSink {
    /// A sink writing to `target` (an absolute path in the fake filesystem).
    pub fn new(capture: Arc<Capture>, target: String, target_is_dir: bool) -> ScpSink {
        ScpSink {
            capture,
            target,
            target_is_dir,
            dirs: Vec::new(),
            state: State::Header(Vec::new()),
            failed: false,
        }
    }

    /// What the sink sends first: "ready".
    pub fn greeting() -> &'static [u8] {
        b"\0"
    }

    /// Whether the client ended the protocol (an error or a bad line).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Feeds bytes from the client; answers go to `reply`, files that ended to
    /// `received`.
    pub fn feed(&mut self, mut data: &[u8], reply: &mut Vec<u8>, received: &mut Vec<Received>) {
        while !data.is_empty() {
            match &mut self.state {
                State::Done => return,
                State::Header(line) => match data.iter().position(|&b| b == b'\n') {
                    Some(end) => {
                        line.extend_from_slice(&data[..end]);
                        data = &data[end + 1..];
                        let line = std::mem::take(line);
                        self.header(&line, reply, received);
                    }
                    None => {
                        line.extend_from_slice(data);
                        data = &[];
                        if line.len() > MAX_HEADER {
                            self.protocol_error(reply, "header too long");
                        }
                    }
                },
                State::Data(incoming) => {
                    let take = incoming.remaining.min(data.len() as u64) as usize;
                    let (chunk, rest) = data.split_at(take);
                    data = rest;
                    incoming.take(chunk);
                    if incoming.remaining == 0 {
                        let incoming = std::mem::replace(&mut self.state, State::Done);
                        if let State::Data(incoming) = incoming {
                            self.state = State::Trailer(Box::new(Some(incoming.end())));
                        }
                    }
                }
                State::Trailer(file) => {
                    let ok = data[0] == 0;
                    data = &data[1..];
                    let file = file.take();
                    self.state = if ok {
                        State::Header(Vec::new())
                    } else {
                        self.failed = true;
                        State::Done
                    };
                    if let Some(file) = file {
                        self.answer(file, reply, received);
                    }
                }
            }
        }
    }

    /// Answers for a file that ended: zero if stored, else `\x01` and the reason.
    fn answer(&mut self, mut file: Received, reply: &mut Vec<u8>, received: &mut Vec<Received>) {
        match &file.verdict {
            Verdict::Refused { reason, .. } => {
                self.failed = true;
                let line = format!(
                    "\x01scp: {}: {}\n",
                    clean(&file.path),
                    refusal_text(reason.as_str())
                );
                reply.extend_from_slice(line.as_bytes());
                file.head = Vec::new();
            }
            Verdict::Stored { .. } => reply.push(0),
        }
        received.push(file);
    }

    fn header(&mut self, line: &[u8], reply: &mut Vec<u8>, received: &mut Vec<Received>) {
        let text = String::from_utf8_lossy(line);
        let Some(kind) = text.chars().next() else {
            return self.protocol_error(reply, "empty line");
        };
        match kind {
            'T' => reply.push(0),
            'E' => {
                self.dirs.pop();
                reply.push(0);
            }
            'D' | 'C' => {
                let mut parts = text[1..].splitn(3, ' ');
                let (Some(mode), Some(size), Some(name)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return self.protocol_error(reply, "bad header");
                };
                let (Ok(mode), Ok(size)) = (u32::from_str_radix(mode, 8), size.parse::<u64>())
                else {
                    return self.protocol_error(reply, "bad header");
                };
                if name.is_empty() || name.contains('/') || name == ".." {
                    return self.protocol_error(reply, "unexpected filename");
                }
                let base = self
                    .dirs
                    .last()
                    .cloned()
                    .unwrap_or_else(|| self.target.clone());
                let path = if !self.dirs.is_empty() || self.target_is_dir {
                    format!("{}/{name}", base.trim_end_matches('/'))
                } else {
                    base
                };
                if kind == 'D' {
                    if self.dirs.len() >= MAX_DEPTH {
                        return self.protocol_error(reply, "too deep");
                    }
                    self.dirs.push(path);
                    reply.push(0);
                    return;
                }
                let file = Received {
                    filename: name.to_owned(),
                    path,
                    mode,
                    verdict: Verdict::Refused {
                        reason: Refusal::WriteError,
                        size,
                        sha256: None,
                    },
                    head: Vec::new(),
                };
                match self.capture.begin_upload(Some(size)) {
                    Ok(upload) => {
                        reply.push(0);
                        let incoming = Box::new(Incoming {
                            remaining: size,
                            upload: Some(upload),
                            refused: None,
                            received: file,
                        });
                        self.state = if size == 0 {
                            State::Trailer(Box::new(Some(incoming.end())))
                        } else {
                            State::Data(incoming)
                        };
                    }
                    // Refused from the header: the client skips this file's data.
                    Err(verdict) => self.answer(Received { verdict, ..file }, reply, received),
                }
            }
            '\x01' | '\x02' => self.state = State::Done,
            _ => self.protocol_error(reply, "unexpected line"),
        }
    }

    fn protocol_error(&mut self, reply: &mut Vec<u8>, what: &str) {
        reply.extend_from_slice(format!("\x02scp: protocol error: {what}\n").as_bytes());
        self.failed = true;
        self.state = State::Done;
    }
}

impl Incoming {
    /// Takes a chunk of the file's data.
    fn take(&mut self, chunk: &[u8]) {
        self.remaining -= chunk.len() as u64;
        let room = HEAD_BYTES.saturating_sub(self.received.head.len());
        self.received
            .head
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
        if let Some(upload) = self.upload.as_mut()
            && let Err(verdict) = upload.write(chunk)
        {
            self.upload = None;
            self.refused = Some(verdict);
        }
    }

    /// The file once all its data arrived.
    fn end(self) -> Received {
        let mut received = self.received;
        received.verdict = match (self.upload, self.refused) {
            (_, Some(verdict)) => verdict,
            (Some(upload), None) => upload.finish(),
            (None, None) => received.verdict,
        };
        received
    }
}

/// What scp prints for a refused file, like the errors a full or small disk gives.
fn refusal_text(reason: &str) -> &'static str {
    match reason {
        "max_file_bytes" => "File too large",
        "quota_bytes" => "No space left on device",
        "disabled" => "Permission denied",
        _ => "Input/output error",
    }
}

/// A path for an error line: no control characters (they would end the line).
fn clean(path: &str) -> String {
    path.chars().filter(|c| !c.is_control()).take(256).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{RecordingsConfig, UploadsConfig};

    fn sink(dir: &std::path::Path, max: u64, target: &str, is_dir: bool) -> ScpSink {
        let uploads = UploadsConfig {
            max_file_bytes: max,
            ..UploadsConfig::default()
        };
        let capture = Capture::new(dir, RecordingsConfig::default(), uploads).unwrap();
        ScpSink::new(capture, target.into(), is_dir)
    }

    #[test]
    fn command_lines_that_are_sinks() {
        assert_eq!(sink_target("scp -t /tmp"), Some(("/tmp".into(), false)));
        assert_eq!(
            sink_target("scp -v -r -t -- /tmp/x"),
            Some(("/tmp/x".into(), true))
        );
        assert_eq!(
            sink_target("/usr/bin/scp -d -t ."),
            Some((".".into(), true))
        );
        assert_eq!(sink_target("scp -f /etc/passwd"), None);
        assert_eq!(sink_target("ls -t /tmp"), None);
        assert_eq!(sink_target("scp"), None);
    }

    #[test]
    fn files_directories_and_data_split_anywhere() {
        let dir = tempfile::tempdir().unwrap();
        let stream: &[u8] = b"T1 0 1 0\nD0755 0 d\nC0644 5 a b\nhello\0E\nC0600 0 empty\n\0";
        for split in 0..stream.len() {
            let mut s = sink(dir.path(), 100, "/tmp", true);
            let (mut reply, mut got) = (Vec::new(), Vec::new());
            s.feed(&stream[..split], &mut reply, &mut got);
            s.feed(&stream[split..], &mut reply, &mut got);
            assert_eq!(reply, b"\0\0\0\0\0\0\0", "split {split}");
            let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
            assert_eq!(paths, ["/tmp/d/a b", "/tmp/empty"]);
            assert_eq!(got[0].head, b"hello");
            assert_eq!(got[0].mode, 0o644);
            assert!(matches!(got[0].verdict, Verdict::Stored { size: 5, .. }));
            assert!(!s.failed);
        }
    }

    #[test]
    fn a_large_file_is_refused_from_its_header_and_bad_lines_end_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sink(dir.path(), 10, "/tmp/f", false);
        let (mut reply, mut got) = (Vec::new(), Vec::new());
        s.feed(b"C0644 11 big\n", &mut reply, &mut got);
        assert_eq!(reply, b"\x01scp: /tmp/f: File too large\n");
        assert!(s.failed && !s.is_done());
        assert_eq!(got[0].filename, "big");
        for bad in [
            &b"C0644 x y\n"[..],
            b"C0644 1 ../x\n",
            b"Q\n",
            &[b'C'; 2000][..],
        ] {
            let mut s = sink(dir.path(), 10, "/tmp", true);
            let mut reply = Vec::new();
            s.feed(bad, &mut reply, &mut got);
            assert!(s.is_done(), "{bad:?}");
            assert!(reply.starts_with(b"\x02scp: protocol error"));
        }
    }
}
