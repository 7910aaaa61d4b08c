//! `SpotConfig::unbounded`: a tail that the fit says ends (uniform data:
//! shape γ < 0) is taken as exponential instead, so the threshold is not
//! glued to the largest value seen; with the flag off the fit is libspot's.

use nectar_spot::{Spot, SpotConfig, Status};

fn uniform(n: usize) -> Vec<f64> {
    // Deterministic, evenly spread in [0, 1000).
    (0..n).map(|i| ((i * 7919) % n) as f64 * 1000.0 / n as f64).collect()
}

#[test]
fn an_unbounded_quantity_keeps_a_threshold_beyond_the_largest_value_seen() {
    let data = uniform(2000);
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
    assert!(bounded.gamma() < 0.0, "uniform data fits a tail that ends");
    assert_eq!(open.gamma(), 0.0);
    assert!(
        bounded.anomaly_threshold() <= max + 1.0,
        "libspot's fit: the threshold sits at the end of the data ({} vs max {max})",
        bounded.anomaly_threshold()
    );
    assert!(
        open.anomaly_threshold() > max + 20.0,
        "exponential tail: room beyond the largest value ({} vs max {max})",
        open.anomaly_threshold()
    );
    // A value a little beyond everything learnt is an anomaly for the
    // bounded fit only.
    let mut bounded = bounded;
    let mut open = open;
    let x = max + 5.0;
    assert_eq!(bounded.step(x).unwrap(), Status::Anomaly);
    assert_ne!(open.step(x).unwrap(), Status::Anomaly);
    // Far beyond: both.
    assert_eq!(open.step(max * 3.0).unwrap(), Status::Anomaly);
}
