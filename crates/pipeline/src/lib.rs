//! Nectar's runtime that is not CLI: the live network detector of `nectar
//! serve` ([`detector`]: capture → windows → SPOT → alarm events, with a
//! typed status for the API) and the sinks it feeds besides the event bus
//! ([`sinks`]: windows as JSON lines, windows and alarms to InfluxDB), with
//! the configuration sections they own ([`config`]: `[capture]`, `[sinks]`).
//!
//! The binary only wires it: it builds a [`detector::Detector`] from the
//! configuration and hands it to the web crate as a
//! [`nectar_detect::DetectControl`]. The packet loop itself is
//! [`nectar_detect::Driver`], shared with `nectar analyze`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod detector;
pub mod sinks;

pub use config::{CaptureConfig, InfluxConfig, SinksConfig};
pub use detector::{Detector, DetectorConfig, DetectorError, MODELS_FILE};
