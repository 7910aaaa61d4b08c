//! The P² quantile estimator (Jain & Chlamtac, 1985), used once per fit to
//! place the excess threshold `t`.
//!
//! It is separate because it is the only place where the training batch is
//! read value by value, and because its floating-point expressions must be
//! evaluated in exactly the order libspot 3.1.0 uses: `t` decides which
//! values are excesses, so a last-bit difference here would change every
//! status downstream.
//!
//! Five markers track the minimum, the `p/2`, `p`, `(1+p)/2` quantiles and
//! the maximum. Marker positions are 0-based (`0..=4`), desired positions
//! start at `[0, 2p, 4p, 2+2p, 4]` and move by `[0, p/2, p, (1+p)/2, 1]` per
//! value; an interior marker that lags its desired position by one or more
//! moves by one, to the piecewise-parabolic prediction, or to the linear one
//! when the parabola would leave the bracket of its neighbours.

/// Estimate the `p` quantile of `data` with P².
///
/// Returns `None` when `p` is not in (0, 1), when there are fewer than 5
/// values, or when a value is NaN (callers reject non-finite data earlier;
/// this keeps the function total).
pub(crate) fn quantile(p: f64, data: &[f64]) -> Option<f64> {
    if !(p > 0.0 && p < 1.0) || data.len() < 5 || data.iter().any(|x| x.is_nan()) {
        return None;
    }
    // Heights (marker values), actual positions, desired positions and their
    // increments.
    let mut q = [data[0], data[1], data[2], data[3], data[4]];
    // Any correct ascending sort gives the same five values; an insertion sort
    // with `<` keeps equal values in input order, which cannot matter here.
    for i in 1..5 {
        let mut j = i;
        while j > 0 && q[j] < q[j - 1] {
            q.swap(j, j - 1);
            j -= 1;
        }
    }
    let mut n = [0.0, 1.0, 2.0, 3.0, 4.0];
    let mut np = [0.0, 2.0 * p, 4.0 * p, 2.0 + 2.0 * p, 4.0];
    let dn = [0.0, p / 2.0, p, (p + 1.0) / 2.0, 1.0];

    for &x in &data[5..] {
        // Cell k such that q[k] < x <= q[k+1]; a new extreme replaces the
        // end marker itself.
        let k = if x <= q[0] {
            q[0] = x;
            0
        } else if x > q[4] {
            q[4] = x;
            3
        } else {
            // q[0] < x <= q[4] here, so the scan stops at index 1..=4.
            let mut k = 1;
            while x > q[k] {
                k += 1;
            }
            k - 1
        };
        for ni in n.iter_mut().skip(k + 1) {
            *ni += 1.0;
        }
        for (npi, dni) in np.iter_mut().zip(dn.iter()) {
            *npi += dni;
        }
        for i in 1..4 {
            let d = np[i] - n[i];
            if (d >= 1.0 && n[i + 1] - n[i] > 1.0) || (d <= -1.0 && n[i - 1] - n[i] < -1.0) {
                let step: isize = if d > 0.0 { 1 } else { -1 };
                let mut qp = parabolic(&q, &n, i, step);
                if !(q[i - 1] < qp && qp < q[i + 1]) {
                    qp = linear(&q, &n, i, step);
                }
                q[i] = qp;
                n[i] += step as f64;
            }
        }
    }
    Some(q[2])
}

/// Piecewise-parabolic prediction of marker `i` moved by `d` (±1).
fn parabolic(q: &[f64; 5], n: &[f64; 5], i: usize, d: isize) -> f64 {
    let df = d as f64;
    q[i] + (df / (n[i + 1] - n[i - 1]))
        * ((n[i] - n[i - 1] + df) * (q[i + 1] - q[i]) / (n[i + 1] - n[i])
            + (n[i + 1] - n[i] - df) * (q[i] - q[i - 1]) / (n[i] - n[i - 1]))
}

/// Linear prediction of marker `i` moved towards neighbour `i + d`.
fn linear(q: &[f64; 5], n: &[f64; 5], i: usize, d: isize) -> f64 {
    let j = i.wrapping_add_signed(d);
    q[i] + d as f64 * (q[j] - q[i]) / (n[j] - n[i])
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn rejects_short_or_bad_input() {
        assert_eq!(quantile(0.5, &[1.0, 2.0, 3.0, 4.0]), None);
        assert_eq!(quantile(0.0, &[1.0; 10]), None);
        assert_eq!(quantile(1.0, &[1.0; 10]), None);
        assert_eq!(quantile(0.5, &[1.0, 2.0, f64::NAN, 4.0, 5.0, 6.0]), None);
    }

    #[test]
    fn five_values_give_the_median_marker() {
        assert_eq!(quantile(0.9, &[5.0, 1.0, 4.0, 2.0, 3.0]), Some(3.0));
    }

    #[test]
    fn close_to_the_exact_quantile_on_a_ramp() {
        // 0, 1, ..., 9999 in a scrambled order: the 0.98 quantile is ~9800.
        let data: Vec<f64> = (0..10_000u64)
            .map(|i| ((i * 7919) % 10_000) as f64)
            .collect();
        let t = quantile(0.98, &data).unwrap_or(f64::NAN);
        assert!((t - 9800.0).abs() < 50.0, "{t}");
    }

    #[test]
    fn constant_data_gives_the_constant() {
        assert_eq!(quantile(0.98, &[3.5; 100]), Some(3.5));
    }
}
