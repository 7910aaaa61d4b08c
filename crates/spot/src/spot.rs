//! SPOT itself: one tail (upper or lower) of one stream, with libspot 3.1.0's
//! fit and step semantics plus the guards libspot lacks.
//!
//! This module owns the model state (thresholds, counters, the fitted tail,
//! the excess buffer) and the decisions made on each value; the numerical
//! pieces it drives live in `p2` (initial threshold), `peaks` (excess
//! storage) and `gpd` (tail fit).

use crate::error::SpotError;
use crate::gpd::{Fitter, Gpd};
use crate::p2;
use crate::peaks::Peaks;

/// Largest accepted `max_excess`: a refit costs O(max_excess) per excess,
/// so larger buffers only make a detector slow (and a typo costly in memory).
pub const MAX_EXCESS_LIMIT: usize = 1 << 20;

/// Largest accepted distance between a value and the excess threshold: far
/// beyond any physical measurement, small enough that the sum of squares of
/// a full excess buffer stays finite.
pub const MAX_DISTANCE: f64 = 1e150;

/// Parameters of a [`Spot`] model. Field defaults are those of libspot's
/// Python module (`q` = 1e-4, which that module leaves to the caller).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
pub struct SpotConfig {
    /// Anomaly probability: a value is an anomaly when the fitted tail gives
    /// it a probability of being exceeded below `q`. Must be in
    /// (0, 1 − `level`). Default 1e-4.
    pub q: f64,
    /// Quantile of the training data used as the excess threshold `t`:
    /// values beyond `t` feed the tail model. Must be in (0, 1). Default 0.98.
    pub level: f64,
    /// Number of most recent excesses kept to fit the tail (older ones are
    /// forgotten). Must be in [1, [`MAX_EXCESS_LIMIT`]]. Default 500.
    pub max_excess: usize,
    /// Watch the lower tail (values far *below* the bulk) instead of the
    /// upper one. Default false.
    pub low: bool,
    /// Keep anomalies out of the model (they neither count nor refit the
    /// tail). With `false`, SPOT never returns [`Status::Anomaly`]: values
    /// beyond the anomaly threshold are learnt as excesses. Default true.
    pub discard_anomalies: bool,
    /// The quantity has no upper end (a rate or a count, not a share): a
    /// fitted shape γ < 0, which says the tail stops at a finite value
    /// close to the largest excess seen, is replaced by the exponential
    /// tail (γ = 0, σ = the mean excess), its maximum-likelihood fit. With
    /// a short learning period a bounded fit puts the threshold just above
    /// the largest value seen and gives every slightly larger one a
    /// probability of 0. Not in libspot; default false (libspot's fit).
    pub unbounded: bool,
}

impl Default for SpotConfig {
    fn default() -> Self {
        SpotConfig {
            q: 1e-4,
            level: 0.98,
            max_excess: 500,
            low: false,
            discard_anomalies: true,
            unbounded: false,
        }
    }
}

impl SpotConfig {
    /// Check every parameter; the error names the first one out of range.
    pub fn validate(&self) -> Result<(), SpotError> {
        let level = self.level;
        if !(level > 0.0 && level < 1.0) {
            return Err(SpotError::LevelOutOfRange { level });
        }
        if !(self.q > 0.0 && self.q < 1.0 - level) {
            return Err(SpotError::QOutOfRange { q: self.q, level });
        }
        if self.max_excess == 0 || self.max_excess > MAX_EXCESS_LIMIT {
            return Err(SpotError::MaxExcessOutOfRange {
                max_excess: self.max_excess,
            });
        }
        Ok(())
    }

    /// Validate and build an unfitted model.
    pub fn build(&self) -> Result<Spot, SpotError> {
        Spot::new(*self)
    }
}

/// What SPOT made of one value. The discriminants are libspot's return codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Status {
    /// Below the excess threshold: only counted.
    Normal = 0,
    /// Beyond the excess threshold but not anomalous: stored as an excess and
    /// the tail was refitted (the anomaly threshold moved).
    Excess = 1,
    /// Beyond the anomaly threshold.
    Anomaly = 2,
}

impl Status {
    /// libspot's code: 0 normal, 1 excess, 2 anomaly.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Lower-case name, as printed by `nectar spot`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Normal => "normal",
            Status::Excess => "excess",
            Status::Anomaly => "anomaly",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SPOT model watching one tail of one stream.
///
/// Fit it on a batch of typical values with [`fit`](Spot::fit), then feed it
/// values one at a time with [`step`](Spot::step).
///
/// # Semantics
/// Identical to libspot 3.1.0 with the platform libm (as its Python module
/// runs it) on any stream where libspot itself is well defined: the same
/// status at every step and, in every test so far, bit-identical thresholds
/// (the contract is 1e-6 relative). The differences are guards, each
/// documented where it applies:
/// * NaN and infinite values are refused with an error and change nothing
///   ([`step`](Spot::step), [`fit`](Spot::fit)); so are finite values farther
///   than [`MAX_DISTANCE`] from the excess threshold.
/// * Parameters out of range are refused when the model is built
///   ([`SpotConfig::validate`]); libspot accepts `level = 0` and
///   `max_excess = 0` and then fails or misbehaves.
/// * Training data without a usable tail (constant or nearly constant) makes
///   [`fit`](Spot::fit) fail with [`SpotError::DegenerateTraining`] and leaves
///   the model as it was; libspot "succeeds" with a NaN threshold.
/// * No lock-in: when too few excesses have been seen (Nt/n ≤ q), the
///   anomaly threshold falls to or below the excess threshold; libspot then
///   discards every value beyond it as an anomaly, so Nt never grows again and
///   it flags everything beyond that point forever. Here, while the anomaly
///   threshold is not beyond the excess threshold, values beyond the excess
///   threshold are still reported as [`Status::Anomaly`] but are learnt as
///   excesses (as if `discard_anomalies` were off), so Nt/n climbs back above
///   q and the threshold returns beyond `t`.
/// * A refit that would give a non-finite threshold (only possible with
///   pathological excesses, e.g. all equal) keeps the previous tail and
///   threshold; the new excess is still stored.
/// * [`step`](Spot::step) before [`fit`](Spot::fit) is an error (libspot
///   silently returns NORMAL); [`fit`](Spot::fit) on a fitted model starts
///   over (libspot keeps the old excesses).
///
/// # Cost
/// A step below the excess threshold costs a few nanoseconds; an excess
/// refits the tail in O(`max_excess`) (a few microseconds for 200). Memory
/// is the excess buffer plus refit caches, at most 264 bytes per
/// `max_excess` slot (about 130 KB at the default 500).
#[derive(Debug, Clone)]
pub struct Spot {
    pub(crate) config: SpotConfig,
    /// +1 for the upper tail, −1 for the lower one.
    pub(crate) up_down: f64,
    /// Excess threshold t (NaN until fitted).
    pub(crate) t: f64,
    /// Anomaly threshold z (NaN until fitted).
    pub(crate) z: f64,
    /// Number of excesses seen (not only those still stored).
    pub(crate) nt: u64,
    /// Number of values seen, anomalies excluded.
    pub(crate) n: u64,
    pub(crate) tail: Gpd,
    pub(crate) peaks: Peaks,
    pub(crate) fitted: bool,
    /// Caches only (they never change a result); not part of the model.
    pub(crate) fitter: Fitter,
}

impl PartialEq for Spot {
    fn eq(&self, other: &Self) -> bool {
        // The fitter holds only caches: two models are equal when their state
        // is, bit for bit (NaN thresholds of unfitted models included).
        self.config == other.config
            && self.t.to_bits() == other.t.to_bits()
            && self.z.to_bits() == other.z.to_bits()
            && self.nt == other.nt
            && self.n == other.n
            && self.tail.gamma.to_bits() == other.tail.gamma.to_bits()
            && self.tail.sigma.to_bits() == other.tail.sigma.to_bits()
            && self.fitted == other.fitted
            && peaks_bits_eq(&self.peaks, &other.peaks)
    }
}

fn peaks_bits_eq(a: &Peaks, b: &Peaks) -> bool {
    a.capacity == b.capacity
        && a.cursor == b.cursor
        && a.e.to_bits() == b.e.to_bits()
        && a.e2.to_bits() == b.e2.to_bits()
        && a.min.to_bits() == b.min.to_bits()
        && a.max.to_bits() == b.max.to_bits()
        && a.data.len() == b.data.len()
        && a.data
            .iter()
            .zip(&b.data)
            .all(|(x, y)| x.to_bits() == y.to_bits())
}

impl Spot {
    /// Build an unfitted model; fails if a parameter is out of range.
    pub fn new(config: SpotConfig) -> Result<Self, SpotError> {
        config.validate()?;
        Ok(Spot {
            config,
            up_down: if config.low { -1.0 } else { 1.0 },
            t: f64::NAN,
            z: f64::NAN,
            nt: 0,
            n: 0,
            tail: Gpd {
                gamma: f64::NAN,
                sigma: f64::NAN,
            },
            peaks: Peaks::new(config.max_excess),
            fitted: false,
            fitter: Fitter::default(),
        })
    }

    /// The parameters this model was built with.
    pub fn config(&self) -> &SpotConfig {
        &self.config
    }

    /// Fit the model on a batch of typical values (libspot: a few thousand,
    /// with `len · (1 − level)` at least a few dozen).
    ///
    /// The excess threshold `t` is the P² estimate of the `level` quantile
    /// (`1 − level` for the lower tail); values strictly beyond it are the
    /// initial excesses.
    ///
    /// # Errors
    /// Nothing is changed when this fails:
    /// * [`SpotError::NonFiniteTraining`] if a value is NaN or infinite;
    /// * [`SpotError::NotEnoughData`] with fewer than 5 values;
    /// * [`SpotError::DegenerateTraining`] when the batch has no usable tail
    ///   (constant data leaves no value beyond the excess threshold; nearly
    ///   constant data can give a non-finite fit or threshold).
    pub fn fit(&mut self, data: &[f64]) -> Result<(), SpotError> {
        if let Some((index, &value)) = data.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(SpotError::NonFiniteTraining { index, value });
        }
        if data.len() < 5 {
            return Err(SpotError::NotEnoughData {
                got: data.len(),
                need: 5,
            });
        }
        let p = if self.config.low {
            1.0 - self.config.level
        } else {
            self.config.level
        };
        let t = p2::quantile(p, data).ok_or(SpotError::NotEnoughData {
            got: data.len(),
            need: 5,
        })?;
        let mut peaks = Peaks::new(self.config.max_excess);
        let mut nt = 0u64;
        for &x in data {
            let ex = self.up_down * (x - t);
            if ex > 0.0 {
                nt += 1;
                peaks.push(ex);
            }
        }
        let degenerate = |reason| SpotError::DegenerateTraining {
            excesses: nt as usize,
            reason,
        };
        if peaks.max > MAX_DISTANCE {
            return Err(degenerate("a value is too far from the excess threshold"));
        }
        if peaks.len() == 0 {
            return Err(degenerate("no value beyond the excess threshold"));
        }
        let mut fitter = Fitter::default();
        let tail = self.bound(fitter.fit(&peaks), &peaks);
        let n = data.len() as u64;
        let z = t + self.up_down * tail.quantile(nt as f64 / n as f64, self.config.q);
        if !(tail.gamma.is_finite() && tail.sigma.is_finite()) {
            return Err(degenerate("the tail fit is not finite"));
        }
        if !z.is_finite() {
            return Err(degenerate("the anomaly threshold is not finite"));
        }
        self.t = t;
        self.z = z;
        self.nt = nt;
        self.n = n;
        self.tail = tail;
        self.peaks = peaks;
        self.fitter = fitter;
        self.fitted = true;
        Ok(())
    }

    /// Process one value.
    ///
    /// # Errors
    /// Nothing is changed when this fails:
    /// * [`SpotError::NonFiniteValue`] for NaN or ±∞ (libspot: −1005);
    /// * [`SpotError::ValueOutOfRange`] when `|x − t|` exceeds [`MAX_DISTANCE`];
    /// * [`SpotError::NotFitted`] before a successful [`fit`](Spot::fit).
    #[inline]
    pub fn step(&mut self, x: f64) -> Result<Status, SpotError> {
        self.step_with(x, false)
    }

    /// Check that [`step`](Spot::step) would accept `x`, without changing
    /// anything; returns the excess `x − t` in the tail's direction.
    #[inline]
    pub(crate) fn check(&self, x: f64) -> Result<f64, SpotError> {
        if !x.is_finite() {
            return Err(SpotError::NonFiniteValue { value: x });
        }
        if !self.fitted {
            return Err(SpotError::NotFitted);
        }
        let ex = self.up_down * (x - self.t);
        // Bounding |x − t| keeps Σy² finite even with a full buffer.
        if !ex.is_finite() || ex.abs() > MAX_DISTANCE {
            return Err(SpotError::ValueOutOfRange { value: x });
        }
        Ok(ex)
    }

    #[inline]
    pub(crate) fn step_with(&mut self, x: f64, reference: bool) -> Result<Status, SpotError> {
        let ex = self.check(x)?;
        let mut status_if_learnt = Status::Excess;
        if self.config.discard_anomalies && self.up_down * (x - self.z) > 0.0 {
            if self.up_down * (self.z - self.t) > 0.0 {
                return Ok(Status::Anomaly);
            }
            // Lock-in guard (see the type docs): the anomaly threshold is not
            // beyond the excess threshold, so the value is learnt instead of
            // discarded; below `t` it is an ordinary normal value.
            status_if_learnt = Status::Anomaly;
        }
        self.n += 1;
        if ex >= 0.0 {
            self.nt += 1;
            self.push_and_refit(ex, reference);
            return Ok(status_if_learnt);
        }
        Ok(Status::Normal)
    }

    /// Store one excess, refit the tail and move the anomaly threshold.
    fn push_and_refit(&mut self, ex: f64, reference: bool) {
        let pushed = self.peaks.push(ex);
        self.fitter.slot_written(pushed.slot);
        let tail = if reference {
            crate::gpd::fit_reference(&self.peaks)
        } else {
            self.fitter.fit(&self.peaks)
        };
        let tail = self.bound(tail, &self.peaks);
        let z = self.t + self.up_down * tail.quantile(self.s(), self.config.q);
        if z.is_finite() && tail.gamma.is_finite() && tail.sigma.is_finite() {
            self.tail = tail;
            self.z = z;
        }
    }

    /// The fitted tail, or its exponential fit when the quantity is
    /// [`SpotConfig::unbounded`] and the fit says it ends.
    #[inline]
    fn bound(&self, tail: Gpd, peaks: &Peaks) -> Gpd {
        if self.config.unbounded && tail.gamma < 0.0 && peaks.mean() > 0.0 {
            Gpd {
                gamma: 0.0,
                sigma: peaks.mean(),
            }
        } else {
            tail
        }
    }

    /// Nt / n, the estimated probability to exceed `t`.
    #[inline]
    fn s(&self) -> f64 {
        self.nt as f64 / self.n as f64
    }

    /// Whether [`fit`](Spot::fit) has succeeded.
    pub fn is_fitted(&self) -> bool {
        self.fitted
    }

    /// The anomaly threshold z (NaN before fitting). Values beyond it are
    /// anomalies.
    pub fn anomaly_threshold(&self) -> f64 {
        self.z
    }

    /// The excess threshold t (NaN before fitting). Values beyond it feed the
    /// tail model.
    pub fn excess_threshold(&self) -> f64 {
        self.t
    }

    /// The value exceeded with probability `q` according to the model (NaN
    /// before fitting). Meaningful for `q` below Nt/n, i.e. inside the tail.
    pub fn quantile(&self, q: f64) -> f64 {
        self.t + self.up_down * self.tail.quantile(self.s(), q)
    }

    /// Probability, according to the model, of a value at least as extreme
    /// as `x` (NaN before fitting). Meaningful for `x` beyond the excess
    /// threshold, i.e. inside the tail.
    pub fn probability(&self, x: f64) -> f64 {
        self.tail.probability(self.s(), self.up_down * (x - self.t))
    }

    /// GPD shape γ of the fitted tail (NaN before fitting).
    pub fn gamma(&self) -> f64 {
        self.tail.gamma
    }

    /// GPD scale σ of the fitted tail (NaN before fitting).
    pub fn sigma(&self) -> f64 {
        self.tail.sigma
    }

    /// Nt: number of excesses seen since the fit (training included), not
    /// only those still stored.
    pub fn nt(&self) -> u64 {
        self.nt
    }

    /// n: number of values seen since the fit (training included), anomalies
    /// excluded.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// The excesses currently stored, in buffer order (not time order).
    pub fn excesses(&self) -> &[f64] {
        &self.peaks.data
    }

    /// Forget everything learnt; the parameters are kept.
    pub fn reset(&mut self) {
        // new() cannot fail here: the config was validated when built.
        let config = self.config;
        self.up_down = if config.low { -1.0 } else { 1.0 };
        self.t = f64::NAN;
        self.z = f64::NAN;
        self.nt = 0;
        self.n = 0;
        self.tail = Gpd {
            gamma: f64::NAN,
            sigma: f64::NAN,
        };
        self.peaks = Peaks::new(config.max_excess);
        self.fitter = Fitter::default();
        self.fitted = false;
    }
}
