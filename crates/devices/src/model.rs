//! Per-device models of the window features: what a device normally does,
//! and how improbable a window is under it.
//!
//! Three parts, combined in [`crate::tracker`] into one calibrated decision:
//!
//! - **Per feature, a tail probability.** Counts are put on a
//!   variance-stabilised scale (Anscombe: `2·sqrt(x + 3/8)`, on which a
//!   Poisson count has variance 1), and the device's learnt mean and spread
//!   there give an upper-tail probability (and a lower one for `pkts_out`,
//!   where silence matters). The spread is never below the Poisson floor and
//!   is widened for short learning (`1 + 1/sqrt(n)`), so a device learnt on a
//!   handful of windows is not judged by a razor-thin range, and a naturally
//!   variable device (a laptop) gets the wide range its own history shows.
//!   With enough learning windows ([`SPOT_MIN`]), SPOT (`nectar-spot`) takes
//!   over the upper tail of the volume features, where a fitted generalised
//!   Pareto tail beats any distributional guess; its buffer is kept small
//!   ([`SPOT_MAX_EXCESS`]) for the memory budget.
//! - **Multivariate: Half-Space Trees** ([`Forest`]). Chosen over a
//!   Kitsune-style autoencoder ensemble and over RRCF/xStream because its
//!   per-device state is only integer mass counts (the random tree structure
//!   is shared by every device), a window costs `trees × depth` steps, it
//!   needs no training epochs (it learns from the learning windows
//!   themselves), and its windows of reference mass follow drift. It catches
//!   combinations no single feature shows; its score is turned into a
//!   probability by a log-normal fit of the device's own learning scores.
//! - **Novelty** ([`KnownSet`]): the destinations and server ports a device
//!   used while learning, kept exactly while few. Only a device whose set
//!   stayed small and stopped growing in the second half of learning
//!   (stable) reports new ones.

use nectar_spot::{Spot, SpotConfig, Status};

use crate::features::{Feature, FeatureVector, N_MODELLED};

/// Learning windows needed before SPOT replaces the moment model for the
/// upper tail of a volume feature.
pub const SPOT_MIN: usize = 48;
/// Learning values kept per feature (for SPOT's initial fit and the trees).
pub const LEARN_KEEP: usize = 48;
/// Excesses SPOT keeps per feature (memory: ~264 bytes each).
pub const SPOT_MAX_EXCESS: usize = 8;
/// The features SPOT models when there is enough learning.
pub const SPOT_FEATURES: [Feature; 3] = [Feature::PktsOut, Feature::BytesOut, Feature::DstAddrs];
/// Largest number of windows the moments average over (older windows fade).
const MOMENTS_CAP: f32 = 500.0;

/// Standard normal upper-tail probability, P(Z > z).
pub fn norm_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Complementary error function (Numerical Recipes' Chebyshev fit, relative
/// error below 1.2e-7 everywhere).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The z with `norm_sf(z) = p` (bisection; p in (0, 0.5)).
pub fn norm_isf(p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 40.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if norm_sf(mid) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// How a feature's values are put on a scale where a Gaussian tail is fair.
#[derive(Debug, Clone, Copy)]
struct Scale {
    /// Divide first (bytes in units of 128).
    unit: f64,
    /// Anscombe transform (counts) or identity (means).
    anscombe: bool,
    /// Smallest spread on the transformed scale.
    floor: f64,
}

fn scale(f: Feature) -> Scale {
    match f {
        Feature::BytesOut | Feature::BytesIn => Scale {
            unit: 128.0,
            anscombe: true,
            floor: 1.0,
        },
        Feature::DnsNameLen => Scale {
            unit: 1.0,
            anscombe: false,
            floor: 3.0,
        },
        Feature::DnsEntropy => Scale {
            unit: 1.0,
            anscombe: false,
            floor: 0.35,
        },
        _ => Scale {
            unit: 1.0,
            anscombe: true,
            floor: 1.0,
        },
    }
}

fn forward(s: Scale, x: f64) -> f64 {
    let x = x / s.unit;
    if s.anscombe {
        2.0 * (x.max(0.0) + 0.375).sqrt()
    } else {
        x
    }
}

fn inverse(s: Scale, y: f64) -> f64 {
    let x = if s.anscombe {
        let h = (y / 2.0).max(0.0);
        (h * h - 0.375).max(0.0)
    } else {
        y.max(0.0)
    };
    x * s.unit
}

/// Running mean and variance (Welford), fading after [`MOMENTS_CAP`] values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Moments {
    n: f32,
    mean: f32,
    m2: f32,
}

impl Moments {
    fn push(&mut self, y: f64) {
        let y = y as f32;
        self.n = (self.n + 1.0).min(MOMENTS_CAP);
        let d = y - self.mean;
        self.mean += d / self.n;
        self.m2 = (self.m2 + d * (y - self.mean)).max(0.0);
        if self.n >= MOMENTS_CAP {
            // Keep the variance estimate on the same footing as the mean.
            self.m2 *= (MOMENTS_CAP - 1.0) / MOMENTS_CAP;
        }
    }

    fn count(&self) -> f64 {
        f64::from(self.n)
    }

    /// `(n, mean, m2)`, for saving.
    pub(crate) fn parts(&self) -> [f32; 3] {
        [self.n, self.mean, self.m2]
    }

    /// From [`Moments::parts`]; `None` for values no run could have made.
    pub(crate) fn from_parts([n, mean, m2]: [f32; 3]) -> Option<Moments> {
        (n.is_finite()
            && (0.0..=MOMENTS_CAP).contains(&n)
            && mean.is_finite()
            && m2.is_finite()
            && m2 >= 0.0)
            .then_some(Moments { n, mean, m2 })
    }

    fn spread(&self, floor: f64) -> f64 {
        let n = self.count();
        let sd = if n > 1.0 {
            (f64::from(self.m2) / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        sd.max(floor) * (1.0 + 1.0 / n.max(1.0).sqrt())
    }
}

/// How one feature of one window compares with the device's model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    /// Upper-tail probability of a value at least this high (1 when the
    /// value is inside the expected range: not computed).
    pub p_high: f64,
    /// Lower-tail probability of a value at least this low (1 when the tail
    /// is not watched or the value is inside the range).
    pub p_low: f64,
    /// The expected range at the decision's level: values outside it alarm.
    pub low: f64,
    /// Upper end of the expected range (the upper threshold).
    pub high: f64,
    /// Whether SPOT judged the upper tail.
    pub spot: bool,
}

/// The model of one feature of one device.
#[derive(Debug, Clone, Default)]
pub struct FeatureModel {
    moments: Moments,
    spot: Option<Box<Spot>>,
}

impl FeatureModel {
    /// Learns one window's value.
    pub fn learn(&mut self, f: Feature, x: f64) {
        self.moments.push(forward(scale(f), x));
    }

    /// Windows learnt (capped).
    pub fn count(&self) -> f64 {
        self.moments.count()
    }

    /// Fits SPOT on the kept learning values when there are enough and the
    /// feature is one SPOT models; otherwise the moments stay the model.
    pub fn fit_spot(&mut self, f: Feature, values: &[f64], q: f64) {
        if values.len() < SPOT_MIN || !SPOT_FEATURES.contains(&f) {
            return;
        }
        let cfg = SpotConfig {
            q: q.min(0.05),
            level: 0.9,
            max_excess: SPOT_MAX_EXCESS,
            low: false,
            discard_anomalies: true,
            unbounded: false,
        };
        if let Ok(mut s) = cfg.build()
            && s.fit(values).is_ok()
            && s.anomaly_threshold().is_finite()
        {
            self.spot = Some(Box::new(s));
        }
    }

    /// Judges `x` with `z` the per-test threshold (standard normal units).
    /// `lower` watches the lower tail too. Does not change the model.
    pub fn judge(&self, f: Feature, x: f64, z: f64, q: f64, lower: bool) -> Judgement {
        let s = scale(f);
        let y = forward(s, x);
        let mean = f64::from(self.moments.mean);
        let sd = self.moments.spread(s.floor);
        let zx = (y - mean) / sd;
        // Inside the range no probability is needed (it would not be
        // reported): skip the tail function for the common case.
        let mut j = Judgement {
            p_high: if zx > z { norm_sf(zx) } else { 1.0 },
            p_low: if lower && -zx > z { norm_sf(-zx) } else { 1.0 },
            low: if lower {
                inverse(s, mean - z * sd)
            } else {
                0.0
            },
            high: inverse(s, mean + z * sd),
            spot: false,
        };
        if let Some(spot) = &self.spot {
            let thr = spot.anomaly_threshold();
            j.spot = true;
            j.high = thr;
            j.p_high = if x > spot.excess_threshold() {
                spot.probability(x).clamp(0.0, 1.0)
            } else {
                1.0
            };
            // SPOT's own decision at its threshold.
            if x > thr && j.p_high >= q {
                j.p_high = q * 0.999;
            }
        }
        j
    }

    /// Updates the model with a window judged normal (drift).
    pub fn update(&mut self, f: Feature, x: f64) {
        self.moments.push(forward(scale(f), x));
        if let Some(s) = &mut self.spot
            && let Ok(Status::Anomaly) = s.step(x)
        {
            // Not learnt by SPOT (discard_anomalies); nothing else to do.
        }
    }

    /// The moments and the SPOT model, for saving.
    pub(crate) fn parts(&self) -> ([f32; 3], Option<&Spot>) {
        (self.moments.parts(), self.spot.as_deref())
    }

    /// From [`FeatureModel::parts`] (checked).
    pub(crate) fn from_parts(moments: [f32; 3], spot: Option<Spot>) -> Option<FeatureModel> {
        Some(FeatureModel {
            moments: Moments::from_parts(moments)?,
            spot: spot.map(Box::new),
        })
    }

    /// Whether SPOT models the upper tail.
    pub fn has_spot(&self) -> bool {
        self.spot.is_some()
    }

    /// The learnt mean on the original scale (for summaries).
    pub fn typical(&self, f: Feature) -> f64 {
        inverse(scale(f), f64::from(self.moments.mean))
    }
}

/// Trees of the shared Half-Space forest.
pub const TREES: usize = 8;
/// Depth of each tree.
pub const DEPTH: usize = 4;
/// Nodes per tree (a complete binary tree of `DEPTH` levels below the root).
pub const NODES: usize = (1 << (DEPTH + 1)) - 1;
const INTERNAL: usize = (1 << DEPTH) - 1;
/// A node with less reference mass than this ends the descent.
const SIZE_LIMIT: u16 = 2;
/// Windows of reference mass before the latest mass replaces it.
pub const HST_WINDOW: u16 = 64;

/// The random structure of the Half-Space Trees, shared by every device: per
/// internal node, the feature it splits and where (in the device-normalised
/// `[0, 1]` space, see [`normalise`]).
#[derive(Debug, Clone)]
pub struct Forest {
    dim: [[u8; INTERNAL]; TREES],
    split: [[f32; INTERNAL]; TREES],
}

impl Forest {
    /// A forest from a seed (deterministic: a capture gives the same alarms
    /// on every run).
    pub fn new(seed: u64) -> Forest {
        let mut state = seed;
        let mut next = move || {
            // splitmix64
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let mut dim = [[0u8; INTERNAL]; TREES];
        let mut split = [[0f32; INTERNAL]; TREES];
        for (d, sp) in dim.iter_mut().zip(split.iter_mut()) {
            // The randomised work range of Tan et al.: around a random point,
            // twice the larger distance to the unit interval's ends.
            let mut lo = [0f64; N_MODELLED];
            let mut hi = [0f64; N_MODELLED];
            for (l, h) in lo.iter_mut().zip(hi.iter_mut()) {
                let s = (next() >> 11) as f64 / (1u64 << 53) as f64;
                let r = 2.0 * s.max(1.0 - s);
                *l = s - r;
                *h = s + r;
            }
            build(&mut next, d, sp, 0, &mut lo, &mut hi);
        }
        Forest { dim, split }
    }

    /// The leaf-ward path of `u` in tree `t`: calls `visit(node)` from the
    /// root down.
    #[inline]
    fn walk(&self, t: usize, u: &[f64; N_MODELLED], mut visit: impl FnMut(usize, usize) -> bool) {
        let mut node = 0usize;
        for depth in 0..=DEPTH {
            if !visit(node, depth) || depth == DEPTH {
                return;
            }
            let d = usize::from(self.dim[t][node]);
            node = if u[d] < f64::from(self.split[t][node]) {
                2 * node + 1
            } else {
                2 * node + 2
            };
        }
    }
}

fn build(
    next: &mut impl FnMut() -> u64,
    dim: &mut [u8; INTERNAL],
    split: &mut [f32; INTERNAL],
    node: usize,
    lo: &mut [f64; N_MODELLED],
    hi: &mut [f64; N_MODELLED],
) {
    if node >= INTERNAL {
        return;
    }
    let d = (next() % N_MODELLED as u64) as usize;
    let mid = 0.5 * (lo[d] + hi[d]);
    dim[node] = d as u8;
    split[node] = mid as f32;
    let saved_hi = hi[d];
    hi[d] = mid;
    build(next, dim, split, 2 * node + 1, lo, hi);
    hi[d] = saved_hi;
    let saved_lo = lo[d];
    lo[d] = mid;
    build(next, dim, split, 2 * node + 2, lo, hi);
    lo[d] = saved_lo;
}

/// One device's masses in the shared forest and the calibration of its
/// scores.
#[derive(Debug, Clone)]
pub struct Masses {
    reference: [[u16; NODES]; TREES],
    latest: [[u16; NODES]; TREES],
    latest_n: u16,
    scores: Moments,
}

impl Default for Masses {
    fn default() -> Self {
        Masses {
            reference: [[0; NODES]; TREES],
            latest: [[0; NODES]; TREES],
            latest_n: 0,
            scores: Moments::default(),
        }
    }
}

/// A device's feature vector in `[0, 1]`: each modelled feature's distance
/// from the device's mean in units of its spread, squashed (`0.5 + z/8`,
/// clamped), so one forest serves devices of any size.
pub fn normalise(models: &[FeatureModel; N_MODELLED], x: &FeatureVector) -> [f64; N_MODELLED] {
    let mut u = [0.5f64; N_MODELLED];
    for (i, f) in Feature::ALL.iter().take(N_MODELLED).enumerate() {
        let s = scale(*f);
        let m = &models[i].moments;
        let z = (forward(s, x[i]) - f64::from(m.mean)) / m.spread(s.floor);
        u[i] = (0.5 + z / 8.0).clamp(0.0, 1.0);
    }
    u
}

impl Masses {
    /// Adds a learning window to the reference mass.
    pub fn learn(&mut self, forest: &Forest, u: &[f64; N_MODELLED]) {
        for (t, r) in self.reference.iter_mut().enumerate() {
            forest.walk(t, u, |node, _| {
                r[node] = r[node].saturating_add(1);
                true
            });
        }
    }

    /// The mass score of `u` (low: few learnt windows look like it).
    pub fn score(&self, forest: &Forest, u: &[f64; N_MODELLED]) -> f64 {
        let mut total = 0.0;
        for (t, r) in self.reference.iter().enumerate() {
            forest.walk(t, u, |node, depth| {
                if depth == DEPTH || r[node] < SIZE_LIMIT {
                    total += f64::from(r[node]) * f64::from(1u32 << depth);
                    false
                } else {
                    true
                }
            });
        }
        total
    }

    /// Learns the calibration from a learning window's score.
    pub fn calibrate(&mut self, score: f64) {
        self.scores.push((score + 1.0).ln());
    }

    /// Lower-tail probability of `score` under the device's learnt scores
    /// (log-normal); 1 before [`Masses::usable`].
    pub fn probability(&self, score: f64) -> f64 {
        if !self.usable() {
            return 1.0;
        }
        let m = f64::from(self.scores.mean);
        let sd = self.scores.spread(0.3);
        norm_sf((m - (score + 1.0).ln()) / sd)
    }

    /// Reference and latest masses (flattened), latest count, score moments.
    pub(crate) fn parts(&self) -> (Vec<u16>, Vec<u16>, u16, [f32; 3]) {
        (
            self.reference.iter().flatten().copied().collect(),
            self.latest.iter().flatten().copied().collect(),
            self.latest_n,
            self.scores.parts(),
        )
    }

    /// From [`Masses::parts`] (checked: sizes and counts).
    pub(crate) fn from_parts(
        reference: &[u16],
        latest: &[u16],
        latest_n: u16,
        scores: [f32; 3],
    ) -> Option<Masses> {
        if reference.len() != TREES * NODES || latest.len() != TREES * NODES {
            return None;
        }
        if latest_n >= HST_WINDOW {
            return None;
        }
        let mut m = Masses {
            latest_n,
            scores: Moments::from_parts(scores)?,
            ..Masses::default()
        };
        for (t, (r, l)) in m.reference.iter_mut().zip(m.latest.iter_mut()).enumerate() {
            r.copy_from_slice(&reference[t * NODES..(t + 1) * NODES]);
            l.copy_from_slice(&latest[t * NODES..(t + 1) * NODES]);
        }
        Some(m)
    }

    /// Whether enough windows were learnt for the score to mean something.
    pub fn usable(&self) -> bool {
        self.scores.count() >= 8.0
    }

    /// Adds a normal monitoring window to the latest mass; after
    /// [`HST_WINDOW`] windows the latest mass becomes the reference.
    pub fn update(&mut self, forest: &Forest, u: &[f64; N_MODELLED], score: f64) {
        self.calibrate(score);
        for (t, l) in self.latest.iter_mut().enumerate() {
            forest.walk(t, u, |node, _| {
                l[node] = l[node].saturating_add(1);
                true
            });
        }
        self.latest_n += 1;
        if self.latest_n >= HST_WINDOW {
            self.reference = self.latest;
            self.latest = [[0; NODES]; TREES];
            self.latest_n = 0;
        }
    }
}

/// A small exact set of 32-bit keys (hashes of destinations, or
/// protocol·port), marked overflowed past its capacity.
#[derive(Debug, Clone)]
pub struct KnownSet<const N: usize> {
    keys: [u32; N],
    len: u16,
    overflowed: bool,
}

impl<const N: usize> Default for KnownSet<N> {
    fn default() -> Self {
        KnownSet {
            keys: [0; N],
            len: 0,
            overflowed: false,
        }
    }
}

impl<const N: usize> KnownSet<N> {
    /// Whether `k` is in the set.
    #[inline]
    pub fn contains(&self, k: u32) -> bool {
        self.keys[..usize::from(self.len)].contains(&k)
    }

    /// Adds `k`; true when it was new. Past the capacity the set is marked
    /// overflowed (unstable) and `k` is dropped.
    pub fn insert(&mut self, k: u32) -> bool {
        if self.contains(k) {
            return false;
        }
        let n = usize::from(self.len);
        if n >= N {
            self.overflowed = true;
            return true;
        }
        self.keys[n] = k;
        self.len += 1;
        true
    }

    /// The keys and whether it overflowed, for saving.
    pub(crate) fn parts(&self) -> (&[u32], bool) {
        (&self.keys[..usize::from(self.len)], self.overflowed)
    }

    /// From [`KnownSet::parts`]; `None` past the capacity.
    pub(crate) fn from_parts(keys: &[u32], overflowed: bool) -> Option<Self> {
        if keys.len() > N {
            return None;
        }
        let mut s = KnownSet {
            overflowed,
            ..KnownSet::default()
        };
        s.keys[..keys.len()].copy_from_slice(keys);
        s.len = u16::try_from(keys.len()).ok()?;
        Some(s)
    }

    /// Whether the set stayed within its capacity (a stable device).
    pub fn stable(&self) -> bool {
        !self.overflowed
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_tail_is_accurate() {
        assert!((norm_sf(0.0) - 0.5).abs() < 1e-7);
        assert!((norm_sf(1.96) - 0.025).abs() < 1e-4);
        assert!((norm_sf(-1.96) - 0.975).abs() < 1e-4);
        let z = norm_isf(1e-4);
        assert!((z - 3.719).abs() < 1e-3, "{z}");
    }

    #[test]
    fn a_variable_device_gets_a_wide_range_and_a_steady_one_a_narrow_one() {
        let mut steady = FeatureModel::default();
        let mut laptop = FeatureModel::default();
        for i in 0..30 {
            steady.learn(Feature::DstAddrs, 2.0);
            laptop.learn(Feature::DstAddrs, [3.0, 40.0, 10.0, 90.0, 1.0][i % 5]);
        }
        let z = norm_isf(1e-5);
        let s = steady.judge(Feature::DstAddrs, 60.0, z, 1e-5, false);
        let l = laptop.judge(Feature::DstAddrs, 60.0, z, 1e-5, false);
        assert!(s.p_high < 1e-10, "{s:?}");
        assert!(l.p_high > 0.01, "{l:?}");
        assert!(s.high < 20.0 && l.high > 150.0, "{} {}", s.high, l.high);
    }

    #[test]
    fn half_space_trees_score_outliers_low() {
        let forest = Forest::new(7);
        let mut models: [FeatureModel; N_MODELLED] = Default::default();
        let mut rng = 1u64;
        let mut windows = Vec::new();
        for _ in 0..60 {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut x = [0f64; crate::features::N_FEATURES];
            x[0] = 10.0 + (rng >> 60) as f64;
            x[1] = 10.0 + ((rng >> 56) & 7) as f64;
            x[4] = 1.0;
            windows.push(x);
            for (i, f) in Feature::ALL.iter().take(N_MODELLED).enumerate() {
                models[i].learn(*f, x[i]);
            }
        }
        let mut m = Masses::default();
        for x in &windows {
            m.learn(&forest, &normalise(&models, x));
        }
        for x in &windows {
            let s = m.score(&forest, &normalise(&models, x));
            m.calibrate(s);
        }
        let mut odd = windows[0];
        odd[4] = 200.0;
        odd[9] = 200.0;
        let s_norm = m.score(&forest, &normalise(&models, &windows[3]));
        let s_odd = m.score(&forest, &normalise(&models, &odd));
        assert!(s_odd < s_norm, "{s_odd} {s_norm}");
        assert!(m.probability(s_odd) < m.probability(s_norm));
    }

    #[test]
    fn known_sets_overflow_into_unstable() {
        let mut k = KnownSet::<4>::default();
        assert!(k.insert(1));
        assert!(!k.insert(1));
        for i in 2..=4 {
            k.insert(i);
        }
        assert!(k.stable());
        k.insert(9);
        assert!(!k.stable());
        assert!(k.contains(4) && !k.contains(9));
    }
}
