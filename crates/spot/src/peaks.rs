//! The excesses kept to fit the tail: a fixed-capacity ring buffer plus the
//! running sums (Σy, Σy², min, max) that the estimators read.
//!
//! It is separate because its bookkeeping defines the floating-point state
//! that every later fit sees: values are stored in physical slot order, sums
//! are updated incrementally and recomputed from scratch, in slot order, only
//! when the value leaving the buffer was the minimum or the maximum — exactly
//! as libspot 3.1.0 does, so that sums (and therefore thresholds) agree to the
//! last bit.

/// Ring buffer of excesses with running statistics.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Peaks {
    /// Slots in physical order; grows until `capacity`, then is overwritten
    /// at `cursor`.
    pub(crate) data: Vec<f64>,
    pub(crate) capacity: usize,
    /// Next slot to write once the buffer is full (0 while filling, since
    /// the next slot is then `data.len()`).
    pub(crate) cursor: usize,
    /// Σy over the stored values.
    pub(crate) e: f64,
    /// Σy² over the stored values.
    pub(crate) e2: f64,
    /// Smallest stored value (NaN when empty).
    pub(crate) min: f64,
    /// Largest stored value (NaN when empty).
    pub(crate) max: f64,
}

/// What a push did to the buffer, so that callers keeping per-slot caches
/// know which slot changed and whether the extremes moved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pushed {
    /// Slot that received the value.
    pub(crate) slot: usize,
}

impl Peaks {
    pub(crate) fn new(capacity: usize) -> Self {
        Peaks {
            data: Vec::new(),
            capacity,
            cursor: 0,
            e: 0.0,
            e2: 0.0,
            min: f64::NAN,
            max: f64::NAN,
        }
    }

    /// Number of stored excesses.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    /// Mean of the stored excesses (NaN when empty).
    #[inline]
    pub(crate) fn mean(&self) -> f64 {
        self.e / self.len() as f64
    }

    /// Population variance from the running sums (NaN when empty).
    #[inline]
    pub(crate) fn var(&self) -> f64 {
        let n = self.len() as f64;
        let mean = self.e / n;
        self.e2 / n - mean * mean
    }

    /// Store `x`, overwriting the oldest value once full, and update the sums.
    pub(crate) fn push(&mut self, x: f64) -> Pushed {
        let (slot, erased) = if self.data.len() < self.capacity {
            self.data.push(x);
            // libspot wraps its cursor as soon as the last slot is written.
            if self.data.len() == self.capacity {
                self.cursor = 0;
            }
            (self.data.len() - 1, None)
        } else {
            let slot = self.cursor;
            let old = std::mem::replace(&mut self.data[slot], x);
            self.cursor = if slot + 1 == self.capacity {
                0
            } else {
                slot + 1
            };
            (slot, Some(old))
        };

        self.e += x;
        self.e2 += x * x;
        let size = self.data.len();
        if size == 1 || x < self.min {
            self.min = x;
        }
        if size == 1 || x > self.max {
            self.max = x;
        }
        if let Some(old) = erased {
            self.e -= old;
            self.e2 -= old * old;
            // The leaving value may have been an extreme: rescan. The rescan
            // also refreshes the sums, bounding the drift of the incremental
            // updates.
            if old <= self.min || old >= self.max {
                self.recompute();
            }
        }
        Pushed { slot }
    }

    /// Recompute every statistic from the stored values, in slot order.
    pub(crate) fn recompute(&mut self) {
        let mut e = 0.0;
        let mut e2 = 0.0;
        let mut min = f64::NAN;
        let mut max = f64::NAN;
        for &y in &self.data {
            e += y;
            e2 += y * y;
            if min.is_nan() || y < min {
                min = y;
            }
            if max.is_nan() || y > max {
                max = y;
            }
        }
        self.e = e;
        self.e2 = e2;
        self.min = min;
        self.max = max;
    }
}

#[cfg(test)]
mod tests {
    use super::Peaks;

    #[test]
    fn ring_buffer_overwrites_oldest_and_tracks_extremes() {
        let mut p = Peaks::new(3);
        for x in [1.0, 5.0, 3.0] {
            p.push(x);
        }
        assert_eq!((p.len(), p.min, p.max, p.e), (3, 1.0, 5.0, 9.0));
        // Overwrites the 1.0 (the minimum): rescan.
        let pushed = p.push(4.0);
        assert_eq!(pushed.slot, 0);
        assert_eq!(p.data, vec![4.0, 5.0, 3.0]);
        assert_eq!((p.min, p.max, p.e, p.e2), (3.0, 5.0, 12.0, 50.0));
        // Overwrites the 5.0 (the maximum).
        p.push(2.0);
        assert_eq!((p.min, p.max, p.e), (2.0, 4.0, 9.0));
        assert!((p.mean() - 3.0).abs() < 1e-15);
        assert!((p.var() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn capacity_one_always_holds_the_last_value() {
        let mut p = Peaks::new(1);
        p.push(2.0);
        p.push(7.0);
        assert_eq!(
            (p.data.clone(), p.min, p.max, p.e),
            (vec![7.0], 7.0, 7.0, 7.0)
        );
    }
}
