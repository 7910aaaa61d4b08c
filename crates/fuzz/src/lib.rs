//! Fuzz target bodies: one function for each parser that attacker bytes reach — the
//! Telnet stream, the fake shell, the SSH identification line and KEXINIT, the HTTP
//! honeypot's request classifier and decoders, its webapp persona (pretend MariaDB,
//! includes, command injection), the terminal filter of replays,
//! asciicast recordings, packets and capture files.
//!
//! Each body feeds its input through the real code and checks what must hold for
//! any input, beyond "no panic": the same result however the stream is cut, output
//! that is bounded, escaping that leaves nothing a terminal or browser interprets.
//! `fuzz/` runs them under libFuzzer (`cargo +nightly fuzz run TARGET`); this
//! crate's tests run them on stable over seed inputs and random bytes, so CI keeps
//! every body compiling and exercised. A failing check panics, which is how both
//! harnesses report it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod enrich;
mod http;
mod packet;
mod recording;
mod shell;
mod ssh;
mod telnet;
mod webapp;

pub use enrich::{mmdb_file, reputation_list};
pub use http::http_request;
pub use packet::{capture_file, packet_frame};
pub use recording::{asciicast_file, terminal_replay};
pub use shell::shell_session;
pub use ssh::ssh_handshake;
pub use telnet::telnet_stream;
pub use webapp::webapp_request;

/// A fuzz target: takes any bytes, panics when a check fails.
pub type Target = fn(&[u8]);

/// Every target by name, for the harnesses.
pub const TARGETS: &[(&str, Target)] = &[
    ("telnet_stream", telnet_stream),
    ("shell_session", shell_session),
    ("ssh_handshake", ssh_handshake),
    ("http_request", http_request),
    ("webapp_request", webapp_request),
    ("terminal_replay", terminal_replay),
    ("asciicast_file", asciicast_file),
    ("packet_frame", packet_frame),
    ("capture_file", capture_file),
    ("reputation_list", reputation_list),
    ("mmdb_file", mmdb_file),
];

/// Splits `data` into pieces whose lengths come from the input itself (the first
/// byte seeds them), so a target sees the same bytes cut in many ways.
pub(crate) fn cuts(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut seed = data.first().copied().unwrap_or(1) as usize | 1;
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        seed = seed.wrapping_mul(31).wrapping_add(7) % 97;
        let n = (seed % 17 + 1).min(rest.len());
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        Some(piece)
    })
}
