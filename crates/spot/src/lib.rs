//! Streaming anomaly detection with extreme value theory: SPOT, its
//! two-tailed form and its drift-aware variant DSPOT (Siffer, Fouque,
//! Termier, Largouët, "Anomaly Detection in Streams with Extreme Value
//! Theory", KDD 2017).
//!
//! SPOT learns the tail of a stream's distribution instead of assuming a
//! distribution: values beyond a high quantile `t` of a training batch are
//! *excesses*, a generalized Pareto distribution is fitted to them, and the
//! *anomaly threshold* `z` is the value exceeded with the chosen risk `q`.
//! Each new excess refits the tail, so `z` follows the stream.
//!
//! * [`Spot`] — one tail (upper, or lower with [`SpotConfig::low`]), with the
//!   semantics of libspot 3.1.0: same status at every step and the same
//!   thresholds (bit for bit in every test, 1e-6 relative guaranteed) on the
//!   same input, two to four times faster than the C library.
//! * [`BiSpot`] — the upper and the lower tail of one stream at once.
//! * [`DSpot`] — SPOT (or BiSpot) on the residual of a moving average, for
//!   streams that drift; anomalies do not enter the average.
//!
//! On top of libspot the models refuse non-finite input and out-of-range
//! parameters with a [`SpotError`] and no state change, refuse training data
//! without a tail instead of producing NaN thresholds, and cannot lock
//! themselves into flagging everything (see [`Spot`]). With the `serde`
//! feature every model can be saved and restored, so a restarted sensor keeps
//! what it learnt; use a format that round-trips `f64` exactly (e.g.
//! `serde_json` with its `float_roundtrip` feature) for bit-identical
//! continuation.
//!
//! ```
//! use nectar_spot::{SpotConfig, Status};
//!
//! let mut spot = SpotConfig { q: 1e-3, level: 0.98, ..SpotConfig::default() }.build()?;
//! // A deterministic, roughly uniform training batch.
//! let train: Vec<f64> = (0..2000u64).map(|i| ((i * 7919) % 1000) as f64 / 1000.0).collect();
//! spot.fit(&train)?;
//! assert_eq!(spot.step(0.5)?, Status::Normal);
//! assert_eq!(spot.step(50.0)?, Status::Anomaly);
//! # Ok::<(), nectar_spot::SpotError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bispot;
mod brent;
mod dspot;
mod error;
mod gpd;
mod p2;
mod peaks;
#[cfg(feature = "serde")]
mod persist;
mod spot;

pub use bispot::{BiSpot, BiStatus};
pub use dspot::{DSpot, Detector, MAX_DEPTH};
pub use error::SpotError;
pub use spot::{MAX_DISTANCE, MAX_EXCESS_LIMIT, Spot, SpotConfig, Status};

#[doc(hidden)]
pub mod __private {
    //! Test hooks, not part of the API: the plain libspot procedure, kept as
    //! an oracle for the integration tests.
    use crate::{Spot, SpotError, Status};

    /// Step with the unabridged libspot tail fit (Brent on both sides, no
    /// caches or shortcuts) instead of the fast one.
    pub fn step_reference(spot: &mut Spot, x: f64) -> Result<Status, SpotError> {
        spot.step_with(x, true)
    }
}
