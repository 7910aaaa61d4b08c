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
//! Matching libspot means matching its Brent run step for step, not just
//! finding the same roots: the sign of w at ±ε (and at the first Brent steps
//! next to them) is decided by rounding noise whenever the tail is close to
//! exponential, and those signs decide whether a side "has a root" and which
//! one Brent returns (often a spurious one next to ±ε rather than the
//! maximum-likelihood root). So w is always evaluated with libspot's
//! expressions, summation order and the platform `ln`, and Brent runs as in
//! libspot. The speed comes from not repeating work (see [`Fitter`]): exact
//! terms are cached per slot for the abscissas that recur from one refit to
//! the next, a bound skips an evaluation whose sign is certain, and the
//! log-likelihoods (only ever compared) are computed fast with an error
//! bound, exactly only when a comparison is too close to call.
//! [`fit_reference`] keeps the plain libspot procedure as the oracle the
//! tests compare against, bit for bit.

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

/// Columns of cached exact terms kept by a [`Fitter`].
const MAX_COLUMNS: usize = 8;
/// Recent slot writes remembered for incremental column updates.
const WRITE_LOG: usize = 64;
/// Recently evaluated abscissas remembered for column admission.
const SEEN: usize = 16;

/// Exact terms 1/(1 + x·yᵢ) and ln(1 + x·yᵢ) for one abscissa x, per slot,
/// with their running (prefix) sums in slot order: after a write to slot k
/// only the sums from k on are redone, and they are redone in libspot's
/// order, so the totals are bit-identical to a fresh in-order sum.
#[derive(Debug, Clone, Default)]
struct Column {
    x_bits: u64,
    terms: Vec<(f64, f64)>,
    /// `prefix[i]` = sums of `terms[..i]`; correct up to index `valid`.
    prefix: Vec<(f64, f64)>,
    valid: usize,
    /// Write epoch the column is up to date with.
    epoch: u64,
    /// Last use, for least-recently-used eviction.
    used: u64,
}

impl Column {
    #[inline]
    fn term(x: f64, y: f64) -> (f64, f64) {
        let s = 1.0 + x * y;
        (1.0 / s, s.ln())
    }

    fn rebuild(&mut self, data: &[f64]) {
        let x = f64::from_bits(self.x_bits);
        self.terms.clear();
        self.terms.extend(data.iter().map(|&y| Column::term(x, y)));
        self.valid = 0;
    }

    /// Bring the column up to date with `data`, replaying the writes since
    /// its epoch when they are still in the log.
    fn sync(&mut self, data: &[f64], epoch: u64, log: &[usize]) {
        let behind = epoch - self.epoch;
        if behind == 0 && self.terms.len() == data.len() {
            return;
        }
        let x = f64::from_bits(self.x_bits);
        if behind as usize <= log.len() {
            for e in self.epoch + 1..=epoch {
                let slot = log[(e % WRITE_LOG as u64) as usize];
                let Some(&y) = data.get(slot) else { break };
                if slot < self.terms.len() {
                    self.terms[slot] = Column::term(x, y);
                    self.valid = self.valid.min(slot);
                } else if slot == self.terms.len() {
                    self.terms.push(Column::term(x, y));
                }
            }
        }
        if self.terms.len() != data.len() || behind as usize > log.len() {
            self.rebuild(data);
        }
        self.epoch = epoch;
    }

    /// Σ 1/(1 + x·yᵢ) and Σ ln(1 + x·yᵢ), in slot order as libspot sums them.
    fn sums(&mut self) -> (f64, f64) {
        let n = self.terms.len();
        self.prefix.resize(n + 1, (0.0, 0.0));
        let (mut u, mut v) = self.prefix[self.valid];
        for i in self.valid..n {
            let (a, b) = self.terms[i];
            u += a;
            v += b;
            self.prefix[i + 1] = (u, v);
        }
        self.valid = n;
        (u, v)
    }
}

/// A log-likelihood known exactly (as libspot computes it) or within `err`.
#[derive(Debug, Clone, Copy)]
struct Ll {
    value: f64,
    err: f64,
    gpd: Gpd,
}

impl Ll {
    fn exact(peaks: &Peaks, gpd: Gpd) -> Self {
        Ll {
            value: log_likelihood(peaks, gpd.gamma, gpd.sigma),
            err: 0.0,
            gpd,
        }
    }

    fn make_exact(&mut self, peaks: &Peaks) {
        if self.err != 0.0 {
            *self = Ll::exact(peaks, self.gpd);
        }
    }
}

/// `a > b` as libspot would decide it on exact values: approximations are
/// used when their error bounds cannot change the answer, and replaced by
/// exact values otherwise.
fn greater(peaks: &Peaks, a: &mut Ll, b: &mut Ll) -> bool {
    let decided = (a.value - b.value).abs() > a.err + b.err;
    if (a.err != 0.0 || b.err != 0.0) && !decided {
        a.make_exact(peaks);
        b.make_exact(peaks);
    }
    a.value > b.value
}

/// Relative error allowance of a fast sum of `n` logarithms against
/// libspot's term-by-term sum: a worst-case bound (n·ε per sum, a few ulp
/// per logarithm) with a factor 8 of safety.
fn ll_rel_err(n: usize) -> f64 {
    8.0 * (n as f64 + 8.0) * f64::EPSILON
}

/// Reusable tail fitter. Same result as [`fit_reference`], bit for bit,
/// for a fraction of the work:
///
/// * Brent is run exactly as libspot runs it (same points, same decisions),
///   but w at an abscissa seen in an earlier refit is read from a column of
///   cached exact terms, of which only the slot just written is recomputed.
///   The end points ±ε, the first Brent steps next to them and −1/max + ε
///   recur from one refit to the next, so most evaluations become two
///   in-order sums (kept as prefix sums: only the part after the written
///   slot is re-added).
/// * w at the right bracket's far end, which moves every refit, is skipped
///   when a bound from the running statistics proves its sign and that sign
///   already decides that the side has no root.
/// * Σ ln(1 + x·y) at a root comes from the evaluation that found it.
/// * Log-likelihoods are only compared, so they are computed with an inlined
///   logarithm (or, for Grimshaw's roots, from the sums above) together with
///   an error bound, and recomputed exactly only when the bound leaves the
///   comparison undecided.
///
/// Holds caches only: a fresh `Fitter` gives the same fits.
#[derive(Debug, Clone)]
pub(crate) struct Fitter {
    columns: Vec<Column>,
    seen: [u64; SEEN],
    seen_next: usize,
    /// Number of slot writes so far, and the last `WRITE_LOG` slots written.
    epoch: u64,
    log: Vec<usize>,
    clock: u64,
    /// (x, Σ 1/(1+x·y), Σ ln(1+x·y)) of every evaluation in the current fit.
    evals: Vec<(f64, f64, f64)>,
}

impl Default for Fitter {
    fn default() -> Self {
        Fitter {
            columns: Vec::new(),
            // NaN bits as "empty". A NaN abscissa is only looked up in
            // degenerate fits (a zero excess makes a bracket end infinite),
            // where a column of NaN terms gives the same NaN as a direct
            // evaluation.
            seen: [f64::NAN.to_bits(); SEEN],
            seen_next: 0,
            epoch: 0,
            log: vec![0; WRITE_LOG],
            clock: 0,
            evals: Vec::new(),
        }
    }
}

impl Fitter {
    /// Note that `slot` of the excess buffer was just written.
    pub(crate) fn slot_written(&mut self, slot: usize) {
        self.epoch += 1;
        self.log[(self.epoch % WRITE_LOG as u64) as usize] = slot;
    }

    /// w at `x`, reusing an evaluation made earlier in this fit.
    fn eval_memo(&mut self, data: &[f64], x: f64) -> f64 {
        let bits = x.to_bits();
        match self.evals.iter().rev().find(|e| e.0.to_bits() == bits) {
            Some(&(_, u, v)) => {
                let n = data.len() as f64;
                (u / n) * (1.0 + v / n) - 1.0
            }
            None => self.eval(data, x),
        }
    }

    /// Grimshaw's w(x), exactly as libspot computes it; records the sums.
    fn eval(&mut self, data: &[f64], x: f64) -> f64 {
        let bits = x.to_bits();
        self.clock += 1;
        let (u, v) = if let Some(col) = self.columns.iter_mut().find(|c| c.x_bits == bits) {
            col.sync(data, self.epoch, &self.log);
            col.used = self.clock;
            col.sums()
        } else if self.seen.contains(&bits) {
            // Second sighting: this abscissa recurs, give it a column.
            let col = if self.columns.len() < MAX_COLUMNS {
                self.columns.push(Column::default());
                self.columns.len() - 1
            } else {
                let mut lru = 0;
                for (i, c) in self.columns.iter().enumerate() {
                    if c.used < self.columns[lru].used {
                        lru = i;
                    }
                }
                lru
            };
            let c = &mut self.columns[col];
            c.x_bits = bits;
            c.epoch = self.epoch;
            c.used = self.clock;
            c.rebuild(data);
            c.sums()
        } else {
            self.seen[self.seen_next] = bits;
            self.seen_next = (self.seen_next + 1) % SEEN;
            let mut u = 0.0;
            let mut v = 0.0;
            for &y in data {
                let s = 1.0 + x * y;
                u += 1.0 / s;
                v += s.ln();
            }
            (u, v)
        };
        self.evals.push((x, u, v));
        let n = data.len() as f64;
        (u / n) * (1.0 + v / n) - 1.0
    }

    /// Fit the tail to the stored excesses (same result as
    /// [`fit_reference`]).
    pub(crate) fn fit(&mut self, peaks: &Peaks) -> Gpd {
        let data = &peaks.data;
        let n = data.len();
        let nf = n as f64;

        // Method of moments, with a fast log-likelihood.
        let (mean, var) = (peaks.mean(), peaks.var());
        let r = mean * mean / var;
        let mom = Gpd {
            gamma: 0.5 * (1.0 - r),
            sigma: 0.5 * mean * (1.0 + r),
        };
        let mut ll_mom = fast_log_likelihood(peaks, mom);

        // Grimshaw: libspot's Brent on both sides.
        self.evals.clear();
        let br = brackets(peaks);
        let left = brent(br.left.0, br.left.1, BRENT_EPSILON, |x| self.eval(data, x));
        let (x1, x2) = br.right;
        // The far end of the right bracket moves with the mean, so w there
        // is never cached; but Jensen's inequality often proves it negative
        // at O(1) cost, and then the side has a root iff w(ε) is positive:
        // Brent needs the value of w(x2) only in that case.
        let right = if right_end_is_negative(peaks, x2) && self.eval(data, x1) < 0.0 {
            None
        } else {
            brent(x1, x2, BRENT_EPSILON, |x| self.eval_memo(data, x))
        };

        let mut best = Ll::exact(
            peaks,
            Gpd {
                gamma: 0.0,
                sigma: mean,
            },
        );
        for x in [left, right].into_iter().flatten() {
            let (u, v) = match self
                .evals
                .iter()
                .rev()
                .find(|e| e.0.to_bits() == x.to_bits())
            {
                Some(&(_, u, v)) => (u, v),
                None => {
                    self.eval(data, x);
                    let e = self.evals[self.evals.len() - 1];
                    (e.1, e.2)
                }
            };
            let g = candidate(peaks, x, v);
            // libspot sums ln(1 + (γ/σ)·y); γ/σ is x to within a few ulp,
            // so Σ ln(1 + x·y) stands in for it, with the error bounded via
            // Σ y/(1 + x·y) = (N − Σ 1/(1 + x·y))/x.
            let head = -nf * g.sigma.ln();
            let c = 1.0 + 1.0 / g.gamma;
            let value = head + -c * v;
            let err = ll_rel_err(n) * (head.abs() + (c * v).abs())
                + 16.0 * f64::EPSILON * (c * (nf - u)).abs();
            let mut cand = Ll { value, err, gpd: g };
            if !(value.is_finite() && err.is_finite()) || g.gamma == 0.0 {
                cand.make_exact(peaks);
            }
            if greater(peaks, &mut cand, &mut best) {
                best = cand;
            }
        }

        if ll_mom.value.is_nan() {
            ll_mom.make_exact(peaks);
        }
        if ll_mom.value.is_nan() || greater(peaks, &mut best, &mut ll_mom) {
            best.gpd
        } else {
            mom
        }
    }
}

/// Whether w(x) < 0 is certain for x > 0 from the running statistics alone:
/// with yᵢ ≥ min, Σ 1/(1 + x·yᵢ)/N ≤ 1/(1 + x·min), and by concavity (Jensen)
/// Σ ln(1 + x·yᵢ)/N ≤ ln(1 + x·mean), so
/// w(x) ≤ (1 + ln(1 + x·mean))/(1 + x·min) − 1. The margin dwarfs rounding
/// (in libspot's sums and in the running mean).
fn right_end_is_negative(peaks: &Peaks, x: f64) -> bool {
    let (mini, mean) = (peaks.min, peaks.mean());
    if !(x > 0.0 && mini >= 0.0 && x.is_finite()) {
        return false;
    }
    let bound = (1.0 + (1.0 + x * mean * (1.0 + 1e-9)).ln()) / (1.0 + x * mini) - 1.0;
    bound < -1e-6
}

/// Log-likelihood with an inlined logarithm and an error bound; exact
/// (libspot's own loop) when the fast path does not apply.
fn fast_log_likelihood(peaks: &Peaks, g: Gpd) -> Ll {
    let data = &peaks.data;
    let n = data.len();
    if g.gamma == 0.0 || n == 0 {
        return Ll::exact(peaks, g);
    }
    let head = -(n as f64) * g.sigma.ln();
    let c = 1.0 + 1.0 / g.gamma;
    let x = g.gamma / g.sigma;
    let (sum, ok) = sum_ln_1p(data, x);
    let value = head + -c * sum;
    // For a given x every ln(1 + x·y) has the sign of x, so |Σ| = Σ|·|.
    let err = ll_rel_err(n) * (head.abs() + (c * sum).abs());
    if !ok || !value.is_finite() || !err.is_finite() {
        return Ll::exact(peaks, g);
    }
    Ll { value, err, gpd: g }
}

/// Σ ln(1 + x·yᵢ) with four accumulators and an inlined logarithm, so the
/// loop pipelines; `false` when some 1 + x·yᵢ is outside the normal
/// positive range (the caller then takes the exact path).
fn sum_ln_1p(data: &[f64], x: f64) -> (f64, bool) {
    let mut acc = [0.0; 4];
    let mut ok = true;
    let mut chunks = data.chunks_exact(4);
    for ch in &mut chunks {
        for j in 0..4 {
            let s = 1.0 + x * ch[j];
            ok &= (f64::MIN_POSITIVE..=f64::MAX).contains(&s);
            acc[j] += ln_normal(s);
        }
    }
    for &y in chunks.remainder() {
        let s = 1.0 + x * y;
        ok &= (f64::MIN_POSITIVE..=f64::MAX).contains(&s);
        acc[0] += ln_normal(s);
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3]), ok)
}

/// Natural logarithm of a positive normal finite `s`, within one ulp
/// (the classic fdlibm reduction: s = 2^k·m with m in [√2/2, √2),
/// ln m = 2·atanh(f/(2 + f)) by a minimax polynomial). No branches and no
/// call, unlike the platform `ln`; garbage (not UB) outside its domain.
#[inline(always)]
fn ln_normal(s: f64) -> f64 {
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    const LG1: f64 = f64::from_bits(0x3fe5_5555_5555_5593);
    const LG2: f64 = f64::from_bits(0x3fd9_9999_9997_fa04);
    const LG3: f64 = f64::from_bits(0x3fd2_4924_9422_9359);
    const LG4: f64 = f64::from_bits(0x3fcc_71c5_1d8e_78af);
    const LG5: f64 = f64::from_bits(0x3fc7_4664_96cb_03de);
    const LG6: f64 = f64::from_bits(0x3fc3_9a09_d078_c69f);
    const LG7: f64 = f64::from_bits(0x3fc2_f112_df3e_5244);
    // fdlibm's constants, as bit patterns (ln 2 split in two; minimax
    // coefficients of the atanh series).
    // Bits of √2/2: shifting by them puts the mantissa in [√2/2, √2).
    const OFF: u64 = 0x3fe6_a09e_667f_3bcd;
    let ix = s.to_bits().wrapping_add(0x3ff0_0000_0000_0000 - OFF);
    // Exponent as a float without an int-to-float conversion (vectorises).
    let k = f64::from_bits(0x4330_0000_0000_0000 | (ix >> 52)) - (4_503_599_627_370_496.0 + 1023.0);
    let m = f64::from_bits((ix & 0x000f_ffff_ffff_ffff) + OFF);
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let t = f / (2.0 + f);
    let z = t * t;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    t * (hfsq + r) + k * LN2_LO - hfsq + f + k * LN2_HI
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn rng(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (((z ^ (z >> 31)) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
    }

    #[test]
    fn fast_ln_is_within_one_ulp() {
        let mut u = rng(1);
        for i in 0..200_000 {
            let s = match i % 4 {
                0 => u() * 2.0,
                1 => 1.0 + (u() - 0.5) * 1e-6,
                2 => (u() * 1400.0 - 700.0).exp(),
                _ => 1.0 - u() * 0.999_999,
            };
            if s.is_nan() || s < f64::MIN_POSITIVE {
                continue;
            }
            let (a, b) = (ln_normal(s), s.ln());
            let ulp = (b.abs() * f64::EPSILON).max(f64::MIN_POSITIVE);
            assert!((a - b).abs() <= ulp, "ln({s}) = {b}, fast {a}");
        }
        assert_eq!(ln_normal(1.0), 0.0);
    }

    #[test]
    fn fitter_equals_reference_bit_for_bit() {
        // Gaussian-like and Pareto-like excesses through small buffers, so
        // that columns are replayed, rebuilt and evicted.
        for (cap, heavy) in [(7usize, false), (60, false), (60, true), (200, true)] {
            let mut u = rng(cap as u64);
            let mut peaks = Peaks::new(cap);
            let mut fitter = Fitter::default();
            for i in 0..4000 {
                let y = if heavy {
                    u().powf(-0.4) - 1.0
                } else {
                    let (a, b) = (u(), u());
                    ((-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()).abs() * 0.3
                };
                let p = peaks.push(y);
                fitter.slot_written(p.slot);
                if i % 3 == 0 {
                    // Also exercise a fresh fitter (no caches).
                    let fresh = Fitter::default().fit(&peaks);
                    assert_eq!(fresh, fit_reference(&peaks));
                }
                let a = fitter.fit(&peaks);
                let b = fit_reference(&peaks);
                assert!(
                    a.gamma.to_bits() == b.gamma.to_bits()
                        && a.sigma.to_bits() == b.sigma.to_bits(),
                    "cap {cap} push {i}: {a:?} vs {b:?}"
                );
            }
        }
    }
}

#[cfg(test)]
mod stress {
    use super::*;

    /// Long randomized comparison of the fast fitter with the reference, on
    /// awkward excess sets (ties, zeros, huge and tiny scales, outliers).
    /// `cargo test --release -p nectar-spot -- --ignored stress`
    #[test]
    #[ignore]
    fn fitter_equals_reference_on_awkward_data() {
        let mut fits = 0u64;
        for seed in 0..400u64 {
            let mut u = tests::rng(seed);
            let cap = [1usize, 2, 5, 17, 64, 200, 500, 1000][(seed % 8) as usize];
            let scale = [1.0, 1e-100, 1e100, 1e-8, 3e7][(seed / 8 % 5) as usize];
            let kind = seed / 40 % 10;
            let mut peaks = Peaks::new(cap);
            let mut fitter = Fitter::default();
            for i in 0..3000 {
                let y = match kind {
                    0 => -u().ln(),
                    1 => u().powf(-0.7) - 1.0,
                    2 => u(),
                    3 => (u() * 4.0).floor(),
                    4 => 1.0,
                    5 => {
                        if u() < 0.05 {
                            0.0
                        } else {
                            -u().ln()
                        }
                    }
                    6 => {
                        if u() < 0.01 {
                            1e6 * u()
                        } else {
                            u()
                        }
                    }
                    7 => (1.0 - u()).powf(4.0),
                    8 => (i % 7) as f64 * 0.25,
                    _ => u().powf(-2.5) - 1.0,
                } * scale;
                let p = peaks.push(y);
                fitter.slot_written(p.slot);
                let a = fitter.fit(&peaks);
                let b = fit_reference(&peaks);
                fits += 1;
                assert!(
                    a.gamma.to_bits() == b.gamma.to_bits()
                        && a.sigma.to_bits() == b.sigma.to_bits()
                        || (a.gamma.is_nan() && b.gamma.is_nan()),
                    "seed {seed} push {i}: {a:?} vs {b:?}"
                );
            }
        }
        eprintln!("{fits} fits identical");
    }
}
