//! Nectar's network detectors, pure part: per-window counters (NetSpot's 17
//! and a few more), the ten NetSpot statistics, distinct counts and top
//! contributors with bounded memory, and windows cut by packet timestamps.
//!
//! Flow: [`nectar_packet::PacketMeta`] → [`Windower::push`] (hot path, no
//! allocation) → one [`WindowReport`] per window (times, [`Counts`],
//! [`StatValues`], top contributors per [`Class`] and [`Dim`]) →
//! [`Monitors::observe`] (SPOT on every watched statistic, settings from
//! [`DetectConfig`], the `[detect]` section of the configuration) → [`Alarm`]s,
//! which become `net.alarm` events ([`Alarm::to_event`]).
//!
//! [`Driver`] is the one packet loop (source → decode → windows) that
//! `nectar analyze`, the live detector, the tests and the benchmark share;
//! [`DetectorStatus`] and [`DetectControl`] are what the live detector shows
//! and how the API drives it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod counters;
pub mod distinct;
pub mod heavy;
pub mod models;
pub mod monitor;
pub mod pipeline;
pub mod sources;
pub mod stats;
pub mod status;
pub mod udp_flows;
pub mod window;

pub use config::{DetectConfig, SpotSettings, StatOverride, Width, parse_duration};
pub use counters::{Accumulator, Class, Counter, CounterKind, Counts, Dim};
pub use models::ModelFileError;
pub use monitor::{Alarm, Direction, ModelError, ModelFile, Monitors, StatStatus};
pub use pipeline::{DEFAULT_IDLE_POLL, DEFAULT_PROGRESS_EVERY, Driver, Ended, Progress};
pub use sources::{Culprit, Measure, SourceValues};
pub use stats::{Stat, StatInfo, StatValues};
pub use status::{DetectControl, DetectorStatus, HistoryPoint, SinkCounters, StatReport};
pub use window::{
    Contributor, ContributorKey, WindowConfig, WindowConfigError, WindowReport, Windower,
    WindowerStats,
};
