//! Saving and restoring models with serde (feature `serde`), so that a
//! restarted sensor keeps what it learnt.
//!
//! The saved form is an explicit, documented state (thresholds, counters,
//! tail parameters, the excess buffer in slot order and its running sums),
//! not the in-memory layout: restoring validates it, so a hand-edited or
//! truncated file is refused with [`SpotError::InvalidState`] instead of
//! producing a model that panics or misbehaves later. The fitter's caches
//! are not saved: they never change a result, so a restored model continues
//! bit for bit like the original.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::bispot::BiSpot;
use crate::dspot::{DSpot, Detector, MAX_DEPTH};
use crate::error::SpotError;
use crate::gpd::{Fitter, Gpd};
use crate::peaks::Peaks;
use crate::spot::{MAX_DISTANCE, Spot, SpotConfig};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpotState {
    config: SpotConfig,
    /// Absent for a model that was never fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fitted: Option<FittedState>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FittedState {
    excess_threshold: f64,
    anomaly_threshold: f64,
    nt: u64,
    n: u64,
    gamma: f64,
    sigma: f64,
    /// Stored excesses in slot order.
    excesses: Vec<f64>,
    /// Next slot to overwrite once the buffer is full.
    cursor: usize,
    /// Running Σy and Σy² (kept, not recomputed: they carry rounding that the
    /// next fits depend on).
    sum: f64,
    sum_sq: f64,
    min: f64,
    max: f64,
}

impl Serialize for Spot {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fitted = self.fitted.then(|| FittedState {
            excess_threshold: self.t,
            anomaly_threshold: self.z,
            nt: self.nt,
            n: self.n,
            gamma: self.tail.gamma,
            sigma: self.tail.sigma,
            excesses: self.peaks.data.clone(),
            cursor: self.peaks.cursor,
            sum: self.peaks.e,
            sum_sq: self.peaks.e2,
            min: self.peaks.min,
            max: self.peaks.max,
        });
        SpotState {
            config: self.config,
            fitted,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Spot {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let state = SpotState::deserialize(deserializer)?;
        restore_spot(state).map_err(D::Error::custom)
    }
}

fn invalid(reason: &'static str) -> SpotError {
    SpotError::InvalidState { reason }
}

fn restore_spot(state: SpotState) -> Result<Spot, SpotError> {
    let mut spot = Spot::new(state.config)?;
    let Some(f) = state.fitted else {
        return Ok(spot);
    };
    let cap = state.config.max_excess;
    let floats = [
        f.excess_threshold,
        f.anomaly_threshold,
        f.gamma,
        f.sigma,
        f.sum,
        f.sum_sq,
        f.min,
        f.max,
    ];
    if floats.iter().any(|x| !x.is_finite()) {
        return Err(invalid("a threshold, tail parameter or sum is not finite"));
    }
    if f.excesses.is_empty() || f.excesses.len() > cap {
        return Err(invalid("the number of excesses is not in [1, max_excess]"));
    }
    if f.cursor >= cap || (f.excesses.len() < cap && f.cursor != 0) {
        return Err(invalid("the excess cursor is out of range"));
    }
    if f.excesses
        .iter()
        .any(|y| !(*y >= 0.0 && *y <= MAX_DISTANCE))
    {
        return Err(invalid("an excess is negative, too large or not finite"));
    }
    let lo = f.excesses.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = f.excesses.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if lo != f.min || hi != f.max {
        return Err(invalid("min/max do not match the stored excesses"));
    }
    if f.n == 0 || f.nt > f.n || (f.nt as usize) < f.excesses.len() {
        return Err(invalid("the counters are inconsistent"));
    }
    spot.t = f.excess_threshold;
    spot.z = f.anomaly_threshold;
    spot.nt = f.nt;
    spot.n = f.n;
    spot.tail = Gpd {
        gamma: f.gamma,
        sigma: f.sigma,
    };
    spot.peaks = Peaks {
        data: f.excesses,
        capacity: cap,
        cursor: f.cursor,
        e: f.sum,
        e2: f.sum_sq,
        min: f.min,
        max: f.max,
    };
    spot.fitter = Fitter::default();
    spot.fitted = true;
    Ok(spot)
}

#[derive(Serialize)]
struct BiSpotRef<'a> {
    upper: &'a Spot,
    lower: &'a Spot,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BiSpotState {
    upper: Spot,
    lower: Spot,
}

impl Serialize for BiSpot {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        BiSpotRef {
            upper: self.upper(),
            lower: self.lower(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for BiSpot {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = BiSpotState::deserialize(deserializer)?;
        BiSpot::from_parts(s.upper, s.lower).map_err(D::Error::custom)
    }
}

#[derive(Serialize)]
struct DSpotRef<'a, D> {
    inner: &'a D,
    depth: usize,
    window: &'a [f64],
    cursor: usize,
    sum: f64,
    since_exact: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DSpotState<D> {
    inner: D,
    depth: usize,
    window: Vec<f64>,
    cursor: usize,
    sum: f64,
    since_exact: usize,
}

impl<D: Serialize + Detector> Serialize for DSpot<D> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let p = self.parts();
        DSpotRef {
            inner: p.0,
            depth: p.1,
            window: p.2,
            cursor: p.3,
            sum: p.4,
            since_exact: p.5,
        }
        .serialize(serializer)
    }
}

impl<'de, D: Deserialize<'de> + Detector> Deserialize<'de> for DSpot<D> {
    fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        let s = DSpotState::<D>::deserialize(deserializer)?;
        if s.depth == 0 || s.depth > MAX_DEPTH {
            return Err(De::Error::custom(SpotError::DepthOutOfRange {
                depth: s.depth,
            }));
        }
        let fitted = !s.window.is_empty();
        let ok = if fitted {
            s.window.len() == s.depth
                && s.cursor < s.depth
                && s.since_exact < s.depth
                && s.sum.is_finite()
                && s.window.iter().all(|x| x.is_finite())
        } else {
            s.cursor == 0 && s.since_exact == 0 && s.sum == 0.0
        };
        if !ok {
            return Err(De::Error::custom(invalid(
                "the moving-average window is inconsistent",
            )));
        }
        Ok(DSpot::from_parts(
            s.inner,
            s.depth,
            s.window,
            s.cursor,
            s.sum,
            s.since_exact,
        ))
    }
}
