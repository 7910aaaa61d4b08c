//! DSPOT, the drift-aware variant from the paper: SPOT on the residual
//! `x − M`, where `M` is the mean of the last `depth` values that were not
//! anomalies.
//!
//! This module owns the moving average and the rule that anomalies stay out
//! of it (otherwise a burst of attack traffic would drag the baseline along
//! and hide itself). The tail logic is whatever [`Detector`] it wraps: a
//! [`Spot`] for one tail, a [`BiSpot`] for both.

use crate::bispot::{BiSpot, BiStatus};
use crate::error::SpotError;
use crate::spot::{Spot, Status};

/// Largest accepted moving-average depth.
pub const MAX_DEPTH: usize = 1 << 20;

/// A model DSPOT can run on the residuals: [`Spot`] or [`BiSpot`].
pub trait Detector {
    /// What one step returns.
    type Status: Copy;
    /// Fit on a batch (all or nothing).
    fn fit(&mut self, data: &[f64]) -> Result<(), SpotError>;
    /// Process one value (all or nothing).
    fn step(&mut self, x: f64) -> Result<Self::Status, SpotError>;
    /// Whether the status flags an anomaly (kept out of the moving average).
    fn is_anomaly(status: &Self::Status) -> bool;
    /// Whether `step(x)` would be accepted, without changing anything.
    fn check(&self, x: f64) -> Result<(), SpotError>;
}

impl Detector for Spot {
    type Status = Status;
    fn fit(&mut self, data: &[f64]) -> Result<(), SpotError> {
        Spot::fit(self, data)
    }
    fn step(&mut self, x: f64) -> Result<Status, SpotError> {
        Spot::step(self, x)
    }
    fn is_anomaly(status: &Status) -> bool {
        *status == Status::Anomaly
    }
    fn check(&self, x: f64) -> Result<(), SpotError> {
        Spot::check(self, x).map(|_| ())
    }
}

impl Detector for BiSpot {
    type Status = BiStatus;
    fn fit(&mut self, data: &[f64]) -> Result<(), SpotError> {
        BiSpot::fit(self, data)
    }
    fn step(&mut self, x: f64) -> Result<BiStatus, SpotError> {
        BiSpot::step(self, x)
    }
    fn is_anomaly(status: &BiStatus) -> bool {
        status.is_anomaly()
    }
    fn check(&self, x: f64) -> Result<(), SpotError> {
        BiSpot::check(self, x)
    }
}

/// A detector run on the residuals of a moving average (DSPOT).
///
/// [`fit`](DSpot::fit) uses its first `depth` values to fill the moving
/// average, then fits the detector on the residuals of the rest (each value
/// then enters the average). [`step`](DSpot::step) feeds `x − M` to the
/// detector and adds `x` to the average unless it was an anomaly.
/// Thresholds in the stream's own units are `M +` the detector's.
#[derive(Debug, Clone, PartialEq)]
pub struct DSpot<D = Spot> {
    inner: D,
    depth: usize,
    /// Last `depth` accepted values, ring order; empty until fitted.
    window: Vec<f64>,
    /// Slot of the oldest value in `window`.
    cursor: usize,
    /// Σ window, updated incrementally.
    sum: f64,
    /// Pushes since `sum` was last recomputed from scratch.
    since_exact: usize,
}

impl<D: Detector> DSpot<D> {
    /// Wrap an unfitted detector; `depth` is the moving-average length.
    pub fn new(inner: D, depth: usize) -> Result<Self, SpotError> {
        if depth == 0 || depth > MAX_DEPTH {
            return Err(SpotError::DepthOutOfRange { depth });
        }
        Ok(DSpot {
            inner,
            depth,
            window: Vec::new(),
            cursor: 0,
            sum: 0.0,
            since_exact: 0,
        })
    }

    /// Fit on a batch: the first `depth` values fill the moving average, the
    /// detector is fitted on the residuals of the others (at least 5 more).
    /// On error nothing is changed.
    pub fn fit(&mut self, data: &[f64]) -> Result<(), SpotError> {
        if let Some((index, &value)) = data.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(SpotError::NonFiniteTraining { index, value });
        }
        let need = self.depth + 5;
        if data.len() < need {
            return Err(SpotError::NotEnoughData {
                got: data.len(),
                need,
            });
        }
        let mut window = data[..self.depth].to_vec();
        let mut sum: f64 = window.iter().sum();
        let mut cursor = 0;
        let mut since_exact = 0;
        let mut residuals = Vec::with_capacity(data.len() - self.depth);
        for (i, &x) in data.iter().enumerate().skip(self.depth) {
            let r = x - sum / self.depth as f64;
            if !(r.is_finite() && sum.is_finite()) {
                return Err(SpotError::NonFiniteTraining { index: i, value: x });
            }
            residuals.push(r);
            push_window(&mut window, &mut cursor, &mut sum, &mut since_exact, x);
        }
        self.inner.fit(&residuals)?;
        self.window = window;
        self.cursor = cursor;
        self.sum = sum;
        self.since_exact = since_exact;
        Ok(())
    }

    /// Process one value; on error nothing is changed.
    pub fn step(&mut self, x: f64) -> Result<D::Status, SpotError> {
        if !x.is_finite() {
            return Err(SpotError::NonFiniteValue { value: x });
        }
        if self.window.is_empty() {
            return Err(SpotError::NotFitted);
        }
        let r = x - self.moving_average();
        // The average must stay finite once x enters it; refuse up front so
        // that an error leaves the detector untouched too.
        let next_sum = self.sum + (x - self.window[self.cursor]);
        if !r.is_finite() || !next_sum.is_finite() {
            return Err(SpotError::ValueOutOfRange { value: x });
        }
        self.inner.check(r)?;
        let status = self.inner.step(r)?;
        if !D::is_anomaly(&status) {
            push_window(
                &mut self.window,
                &mut self.cursor,
                &mut self.sum,
                &mut self.since_exact,
                x,
            );
        }
        Ok(status)
    }

    /// Current moving average M (NaN before fitting).
    pub fn moving_average(&self) -> f64 {
        if self.window.is_empty() {
            f64::NAN
        } else {
            self.sum / self.depth as f64
        }
    }

    /// Moving-average depth.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The detector running on the residuals.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    #[cfg(feature = "serde")]
    pub(crate) fn parts(&self) -> (&D, usize, &[f64], usize, f64, usize) {
        (
            &self.inner,
            self.depth,
            &self.window,
            self.cursor,
            self.sum,
            self.since_exact,
        )
    }

    /// Rebuild from validated saved parts (see `persist`).
    #[cfg(feature = "serde")]
    pub(crate) fn from_parts(
        inner: D,
        depth: usize,
        window: Vec<f64>,
        cursor: usize,
        sum: f64,
        since_exact: usize,
    ) -> Self {
        DSpot {
            inner,
            depth,
            window,
            cursor,
            sum,
            since_exact,
        }
    }
}

impl DSpot<Spot> {
    /// Build a one-tailed DSPOT.
    pub fn spot(config: crate::SpotConfig, depth: usize) -> Result<Self, SpotError> {
        DSpot::new(Spot::new(config)?, depth)
    }

    /// Anomaly threshold in the stream's units: M + z.
    pub fn anomaly_threshold(&self) -> f64 {
        self.moving_average() + self.inner.anomaly_threshold()
    }

    /// Excess threshold in the stream's units: M + t.
    pub fn excess_threshold(&self) -> f64 {
        self.moving_average() + self.inner.excess_threshold()
    }
}

impl DSpot<BiSpot> {
    /// Build a two-tailed DSPOT (biDSPOT).
    pub fn bispot(config: crate::SpotConfig, depth: usize) -> Result<Self, SpotError> {
        DSpot::new(BiSpot::new(config)?, depth)
    }

    /// Anomaly thresholds `(lower, upper)` in the stream's units.
    pub fn anomaly_thresholds(&self) -> (f64, f64) {
        let m = self.moving_average();
        let (lo, up) = self.inner.anomaly_thresholds();
        (m + lo, m + up)
    }
}

/// Replace the oldest window value by `x`. The incremental sum is rebuilt
/// from scratch once per window length so rounding drift stays bounded.
fn push_window(window: &mut [f64], cursor: &mut usize, sum: &mut f64, since: &mut usize, x: f64) {
    let depth = window.len();
    *sum += x - window[*cursor];
    window[*cursor] = x;
    *cursor = if *cursor + 1 == depth { 0 } else { *cursor + 1 };
    *since += 1;
    if *since >= depth {
        *sum = window.iter().sum();
        *since = 0;
    }
}
