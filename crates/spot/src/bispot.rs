//! Both tails of one stream: an upper and a lower [`Spot`] fed the same
//! values, as NetSpot's `up`/`down` detectors.
//!
//! Separate from `spot` because its only job is to keep the two models in
//! lock step: a value refused by either tail is refused by both, so they
//! never disagree about what they have seen.

use crate::error::SpotError;
use crate::spot::{Spot, SpotConfig, Status};

/// Status of one value for each tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BiStatus {
    /// What the upper-tail model made of the value.
    pub upper: Status,
    /// What the lower-tail model made of the value.
    pub lower: Status,
}

impl BiStatus {
    /// True when either tail flagged the value as an anomaly.
    pub fn is_anomaly(&self) -> bool {
        self.upper == Status::Anomaly || self.lower == Status::Anomaly
    }
}

/// Upper and lower SPOT over the same stream.
#[derive(Debug, Clone, PartialEq)]
pub struct BiSpot {
    upper: Spot,
    lower: Spot,
}

impl BiSpot {
    /// Build both tails from one configuration (its `low` flag is ignored).
    pub fn new(config: SpotConfig) -> Result<Self, SpotError> {
        Ok(BiSpot {
            upper: Spot::new(SpotConfig {
                low: false,
                ..config
            })?,
            // A lower tail ends (at zero at the latest): `unbounded` is
            // about the upper one.
            lower: Spot::new(SpotConfig {
                low: true,
                unbounded: false,
                ..config
            })?,
        })
    }

    /// Build from two separately configured models (e.g. different `q` per
    /// tail). `upper` must watch the upper tail and `lower` the lower one.
    pub fn from_parts(upper: Spot, lower: Spot) -> Result<Self, SpotError> {
        if upper.config().low || !lower.config().low {
            return Err(SpotError::InvalidState {
                reason: "BiSpot needs an upper-tail and a lower-tail model, in that order",
            });
        }
        Ok(BiSpot { upper, lower })
    }

    /// Fit both tails on the same batch; on error neither is changed.
    pub fn fit(&mut self, data: &[f64]) -> Result<(), SpotError> {
        let mut upper = self.upper.clone();
        upper.fit(data)?;
        self.lower.fit(data)?;
        self.upper = upper;
        Ok(())
    }

    /// Process one value in both tails; on error neither is changed.
    pub fn step(&mut self, x: f64) -> Result<BiStatus, SpotError> {
        self.upper.check(x)?;
        self.lower.check(x)?;
        // Both checks passed, so neither step can fail.
        let upper = self.upper.step(x)?;
        let lower = self.lower.step(x)?;
        Ok(BiStatus { upper, lower })
    }

    /// The upper-tail model.
    pub fn upper(&self) -> &Spot {
        &self.upper
    }

    /// The lower-tail model.
    pub fn lower(&self) -> &Spot {
        &self.lower
    }

    /// Anomaly thresholds `(lower, upper)`: values outside are anomalies.
    pub fn anomaly_thresholds(&self) -> (f64, f64) {
        (
            self.lower.anomaly_threshold(),
            self.upper.anomaly_threshold(),
        )
    }

    pub(crate) fn check(&self, x: f64) -> Result<(), SpotError> {
        self.upper.check(x)?;
        self.lower.check(x)?;
        Ok(())
    }
}
