//! Nectar's runtime that is not CLI: the live network detector of `nectar
//! serve` ([`detector`]: capture → windows → SPOT → alarm events, with a
//! typed status for the API) and the sinks it feeds besides the event bus
//! ([`sinks`]: windows as JSON lines, windows and alarms to InfluxDB), with
//! the configuration sections they own ([`config`]: `[capture]`, `[sinks]`).
//!
//! [`topology`] holds what runs: every component (honeypots, the detector, the
//! bus, the writer, the consumers of the committed stream, sinks) with one way
//! to stop it, stopped in the order events flow, so that `serve` is a list of
//! components and a future `nectar sensor` the same list with a shipper where
//! the writer is.
//!
//! The binary only wires it: it builds a [`detector::Detector`] from the
//! configuration and hands it to the web crate as a
//! [`nectar_detect::DetectControl`]. The packet loop itself is
//! [`nectar_detect::Driver`], shared with `nectar analyze`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod detector;
pub mod fetcher;
pub mod sinks;
pub mod topology;

pub use config::{CaptureConfig, InfluxConfig, SinksConfig};
pub use detector::{
    DEVICE_MODELS_FILE, Detector, DetectorConfig, DetectorError, DeviceModelSaver, DevicesSetup,
    FileDeviceModels, MODELS_FILE,
};
pub use topology::{Component, Stage, Topology};
