//! Brent's bracketing root finder, in the Numerical Recipes `zbrent` form
//! with the constants libspot 3.1.0 uses (tolerance 2e-8, 200 iterations).
//!
//! It lives apart from the tail fit because its exact sequence of
//! evaluation points is part of libspot's behaviour (see `gpd`): the fit
//! reproduces it, so it must stay a faithful transcription of the algorithm,
//! constants and expression order included.

/// Tolerance and machine-epsilon stand-in used by libspot's Brent.
pub(crate) const BRENT_EPSILON: f64 = 2.0e-8;
/// Iteration cap used by libspot's Brent.
pub(crate) const BRENT_ITMAX: usize = 200;

/// Find a root of `f` in `[x1, x2]`.
///
/// Returns `None` when `f(x1)` and `f(x2)` have the same strict sign, or
/// when the iteration cap is reached.
pub(crate) fn brent(x1: f64, x2: f64, tol: f64, mut f: impl FnMut(f64) -> f64) -> Option<f64> {
    let mut a = x1;
    let mut b = x2;
    let mut c = x2;
    let mut d = 0.0_f64;
    let mut e = 0.0_f64;
    let mut fa = f(a);
    let mut fb = f(b);
    if (fa > 0.0 && fb > 0.0) || (fa < 0.0 && fb < 0.0) {
        return None;
    }
    let mut fc = fb;
    for _ in 0..BRENT_ITMAX {
        if (fb > 0.0 && fc > 0.0) || (fb < 0.0 && fc < 0.0) {
            // b and c on the same side: the bracket is [a, b].
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            // Keep the best estimate in b.
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol1 = 2.0 * BRENT_EPSILON * b.abs() + 0.5 * tol;
        let xm = 0.5 * (c - b);
        if xm.abs() <= tol1 || fb == 0.0 {
            return Some(b);
        }
        if e.abs() >= tol1 && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                // Secant.
                p = 2.0 * xm * s;
                q = 1.0 - s;
            } else {
                // Inverse quadratic interpolation.
                let qq = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * xm * qq * (qq - r) - (b - a) * (r - 1.0));
                q = (qq - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            }
            p = p.abs();
            let min1 = 3.0 * xm * q - (tol1 * q).abs();
            let min2 = (e * q).abs();
            // A ternary, not f64::min, so that a NaN behaves as in libspot.
            let bound = if min1 < min2 { min1 } else { min2 };
            if 2.0 * p < bound {
                e = d;
                d = p / q;
            } else {
                d = xm;
                e = d;
            }
        } else {
            d = xm;
            e = d;
        }
        a = b;
        fa = fb;
        if d.abs() > tol1 {
            b += d;
        } else {
            b += if xm >= 0.0 { tol1.abs() } else { -tol1.abs() };
        }
        fb = f(b);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{BRENT_EPSILON, brent};

    #[test]
    fn finds_a_simple_root() {
        let r = brent(0.0, 3.0, BRENT_EPSILON, |x| x * x - 2.0);
        let r = r.unwrap_or(f64::NAN);
        assert!((r - 2f64.sqrt()).abs() < 1e-7, "{r}");
    }

    #[test]
    fn no_sign_change_is_not_found() {
        assert_eq!(brent(0.0, 1.0, BRENT_EPSILON, |x| x + 1.0), None);
    }
}
