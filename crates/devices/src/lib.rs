//! Per-device behaviour: learn what each device of our networks normally does,
//! flag the one that changes.
//!
//! IoT devices (cameras, plugs, thermostats, printers) cannot run security
//! software, but they are predictable; an infected one starts scanning,
//! beaconing, flooding, tunnelling through DNS or uploading somewhere new.
//! This crate, fed every packet, keeps per device (a MAC sending from an
//! address of `[inventory] networks`) and per window of packet time the
//! features of [`features`] (IoTVigilant's six counts among them), learns a
//! model of each device ([`model`]: per-feature tails with SPOT, Half-Space
//! Trees over the vector, novelty of destinations, ports and protocols), and
//! turns improbable windows into `device.anomaly` events and a regular
//! device's silence into `device.silent` ([`tracker`]).
//!
//! It is a library with no I/O: `nectar analyze` feeds it capture files; the
//! live detector and the sensor can feed it the same way.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod features;
pub mod model;
pub mod synth;
pub mod tracker;

pub use config::{DevicesConfig, DevicesSection};
pub use features::{Feature, FeatureVector};
pub use tracker::{DeviceSummary, Phase, Tracker, TrackerStats};
