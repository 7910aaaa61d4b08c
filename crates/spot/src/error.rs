//! The crate's one error type: every way a model refuses parameters, input or a
//! saved state.
//!
//! Written by hand (the crate is `std` only). Every variant carries what a
//! caller needs to say *which* value was wrong, so that a command line or a
//! configuration loader can name the offending key or line.

use std::fmt;

/// Why a SPOT model refused a parameter, a value or a saved state.
///
/// Errors never leave a model half-updated: the call that returned the error
/// changed nothing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SpotError {
    /// `level` must lie strictly between 0 and 1 (it is the quantile of the
    /// training data that becomes the excess threshold, e.g. 0.98).
    LevelOutOfRange {
        /// The rejected value.
        level: f64,
    },
    /// `q` must lie strictly between 0 and `1 - level`: it is the probability
    /// of an anomaly, smaller than the probability of an excess.
    QOutOfRange {
        /// The rejected value.
        q: f64,
        /// The level it was checked against.
        level: f64,
    },
    /// `max_excess` (the number of excesses kept to fit the tail) must be at
    /// least 1 and at most [`MAX_EXCESS_LIMIT`](crate::MAX_EXCESS_LIMIT).
    MaxExcessOutOfRange {
        /// The rejected value.
        max_excess: usize,
    },
    /// The DSPOT moving-average depth must be at least 1 and at most
    /// [`MAX_DEPTH`](crate::MAX_DEPTH).
    DepthOutOfRange {
        /// The rejected value.
        depth: usize,
    },
    /// A streamed value was NaN or infinite (the model was not changed).
    NonFiniteValue {
        /// The rejected value.
        value: f64,
    },
    /// A streamed value is finite but so far from the excess threshold that
    /// its distance to it overflows (the model was not changed).
    ValueOutOfRange {
        /// The rejected value.
        value: f64,
    },
    /// A training value was NaN or infinite (nothing was fitted).
    NonFiniteTraining {
        /// Position of the value in the training slice.
        index: usize,
        /// The rejected value.
        value: f64,
    },
    /// Too few training values: the quantile estimator needs at least
    /// `need` (for DSPOT: `depth` more, to fill the moving average first).
    NotEnoughData {
        /// Number of values given.
        got: usize,
        /// Minimum number required.
        need: usize,
    },
    /// The training data has no usable tail: it is constant or nearly so,
    /// so the tail cannot be fitted and no finite anomaly threshold exists.
    /// libspot returns a NaN threshold here; this crate refuses instead.
    DegenerateTraining {
        /// Number of training values strictly beyond the excess threshold.
        excesses: usize,
        /// Which quantity came out unusable.
        reason: &'static str,
    },
    /// `step` was called before a successful `fit`.
    NotFitted,
    /// A saved state failed validation on restore (it was edited by hand,
    /// truncated, or written by an incompatible version).
    InvalidState {
        /// What was inconsistent.
        reason: &'static str,
    },
}

impl fmt::Display for SpotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpotError::LevelOutOfRange { level } => {
                write!(f, "level must be in (0, 1), got {level}")
            }
            SpotError::QOutOfRange { q, level } => write!(
                f,
                "q must be in (0, 1 - level) = (0, {}), got {q}",
                1.0 - level
            ),
            SpotError::MaxExcessOutOfRange { max_excess } => write!(
                f,
                "max_excess must be in [1, {}], got {max_excess}",
                crate::MAX_EXCESS_LIMIT
            ),
            SpotError::DepthOutOfRange { depth } => {
                write!(f, "depth must be in [1, {}], got {depth}", crate::MAX_DEPTH)
            }
            SpotError::NonFiniteValue { value } => {
                write!(f, "value {value} is not finite")
            }
            SpotError::ValueOutOfRange { value } => write!(
                f,
                "value {value} is too far from the excess threshold to be represented"
            ),
            SpotError::NonFiniteTraining { index, value } => {
                write!(f, "training value #{index} ({value}) is not finite")
            }
            SpotError::NotEnoughData { got, need } => write!(
                f,
                "not enough training values: got {got}, need at least {need}"
            ),
            SpotError::DegenerateTraining { excesses, reason } => write!(
                f,
                "training data has no usable tail ({reason}; {excesses} values beyond \
                 the excess threshold): is it constant or nearly constant?"
            ),
            SpotError::NotFitted => write!(f, "the model must be fitted before streaming"),
            SpotError::InvalidState { reason } => write!(f, "invalid saved state: {reason}"),
        }
    }
}

impl std::error::Error for SpotError {}
