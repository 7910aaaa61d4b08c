//! A remote sensor's spool: every batch of events it produces is written here
//! before it leaves the process, and deleted only when the server answers that
//! the batch is committed; what the server rejects as malformed is set aside
//! (the dead letters) without holding back the batches after it.
//!
//! Why SQLite (the engine Nectar already ships) and not a segment format of
//! our own: its WAL gives atomic, checksummed appends and a torn last write is
//! rolled back on open (a power cut loses at most the batch being written, and
//! the spool opens), with `synchronous = FULL` a committed append survives a
//! power cut, and the bookkeeping (sequence numbers, counters, dead letters)
//! commits with the batch it concerns. One row per batch keeps it cheap: a
//! batch of 1,000 events is one insert.
//!
//! Bounded by bytes (`max_bytes`, the compressed payloads): when a batch does
//! not fit, `WhenFull::Block` makes [`Spool::append`] wait until acknowledged
//! batches free room, `WhenFull::DropOldest` deletes the oldest batches and
//! counts their events, which [`Spool::report_drops`] turns into an event of
//! its own exactly once. Every batch takes the next **batch sequence number**,
//! never reused, so the server can tell a resent batch from a gap.

mod batch;
mod error;
mod spool;
pub mod torn;

pub use batch::{decode, encode};
pub use error::SpoolError;
pub use spool::{Appended, Batch, Spool, SpoolConfig, SpoolStats, WhenFull};
pub use torn::TornWrite;
