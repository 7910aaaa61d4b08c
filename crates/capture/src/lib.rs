//! What the honeypots keep of a session besides its events, and how it is read back:
//!
//! - [`asciicast`]: session recordings in asciicast v2 (what `asciinema play`
//!   plays), written with a size bound, and read back for `nectar replay` and the UI;
//! - [`uploads`]: uploaded files stored once by SHA-256, bounded per file and in total;
//! - [`jsonl`]: logs of lines rotated by size (the event log, the Cowrie log),
//!   which can be rewound to a saved point so that a line is written once;
//! - [`seal`]: age encryption of what is captured (to a public key) and its reading back;
//! - [`config`]: `[event_log]`, the configuration of the JSON-lines event log;
//! - [`terminal`]: a filter that keeps the colours and cursor movement of a
//!   recorded terminal but drops the escape sequences an attacker could use against
//!   the analyst's own terminal (clipboard, title, device reports);
//!
//! It is a crate of its own, with plain blocking file I/O and no async runtime, so
//! that the honeypots (which write), the binary (`replay`, `decrypt`) and the web UI
//! (which reads) share one definition of the formats without depending on each other.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod asciicast;
pub mod config;
pub mod file;
pub mod jsonl;
pub mod seal;
pub mod terminal;
pub mod uploads;
