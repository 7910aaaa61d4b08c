//! `[capture]` and `[sinks]`, the live-detection sections of the
//! configuration file, are owned by `nectar-pipeline` (its `config` module);
//! `[detect]` by `nectar-detect`.

pub use nectar_pipeline::{CaptureConfig, SinksConfig};
