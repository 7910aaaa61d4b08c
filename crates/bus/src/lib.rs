//! The event bus: how events travel from whoever makes them to whoever reads them,
//! without either knowing the other.
//!
//! - Producers (honeypots, detectors, `POST /api/v1/events`) hold an
//!   [`EventSender`]. One forwarding task ([`spawn_bus`]) checks every event
//!   against the same [`Limits`](nectar_event::Limits), gathers loose events into
//!   bursts, and hands them to an [`Ingest`]: the store's writer today, a remote
//!   sensor's shipper tomorrow. A batch sent with [`EventSender::submit`] is
//!   answered only once its destination has committed it.
//! - After each commit the destination publishes the new events, numbered by a
//!   commit sequence, on a [`stream::Fanout`]. Every consumer (the JSON-lines log,
//!   the Cowrie log, InfluxDB, later rules and enrichment) reads that one stream
//!   through [`stream::spawn_consumer`], with a bounded queue and a durable offset:
//!   one that falls behind catches up from the store instead of slowing ingest or
//!   missing an event.
//!
//! This crate knows nothing of SQL: the store implements [`Ingest`] and
//! [`stream::CommittedLog`], so honeypots and detectors build without a database.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod forward;
mod ingest;
mod sender;
pub mod stream;

pub use forward::{BUS_LINGER, BusConfig, spawn_bus};
pub use ingest::{Ack, Ingest, IngestError, IngestOutcome};
pub use sender::{BusCounts, BusStats, EventReceiver, EventSender};
