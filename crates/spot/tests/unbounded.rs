//! `SpotConfig::unbounded`: a tail that the fit says ends (data pressed
//! against a ceiling: shape γ < 0) is taken as exponential instead, so the threshold is not
//! glued to the largest value seen; with the flag off the fit is libspot's.

use nectar_spot::{Spot, SpotConfig, Status};

/// A quantity pressed against a ceiling it never passes (a link's top
/// rate): 1000·(1 − (1 − u)³), u evenly spread in (0, 1), scrambled.
fn capped(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let u = ((i * 7919) % n) as f64 / n as f64 + 0.5 / n as f64;
            1000.0 * (1.0 - (1.0 - u).powi(3))
        })
        .collect()
}

#[test]
fn an_unbounded_quantity_keeps_a_threshold_beyond_the_largest_value_seen() {
    let data = capped(2000);
    let max = data.iter().cloned().fold(f64::MIN, f64::max);
    let fit = |unbounded| {
        let mut s = Spot::new(SpotConfig {
            unbounded,
            ..SpotConfig::default()
        })
        .unwrap();
        s.fit(&data).unwrap();
        s
    };
    let bounded = fit(false);
    let open = fit(true);
    assert!(
        bounded.gamma() < 0.0,
        "data against a ceiling fits a tail that ends: γ {} σ {} z {} t {}",
        bounded.gamma(),
        bounded.sigma(),
        bounded.anomaly_threshold(),
        bounded.excess_threshold()
    );
    assert_eq!(open.gamma(), 0.0);
    let (zb, zo) = (bounded.anomaly_threshold(), open.anomaly_threshold());
    assert!(
        zb - max < 1e-3,
        "libspot's fit: the threshold sits at the end of the data ({zb} vs max {max})"
    );
    assert!(
        zo > zb && zo > max,
        "exponential tail: room beyond the largest value ({zo} vs {zb}, max {max})"
    );
    // A value a little beyond everything learnt is an anomaly for the
    // bounded fit only; one far beyond, for both.
    let (mut bounded, mut open) = (bounded, open);
    let x = (zb.max(max) + zo) / 2.0;
    assert_eq!(bounded.step(x).unwrap(), Status::Anomaly);
    assert_ne!(open.step(x).unwrap(), Status::Anomaly);
    assert_eq!(open.step(max + 10.0 * (zo - max)).unwrap(), Status::Anomaly);
}
