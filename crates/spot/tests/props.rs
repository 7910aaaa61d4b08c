//! Property tests: no input, finite or not, and no parameter set makes a
//! model panic; errors never change a model; anomalies are always beyond
//! the excess threshold.

use nectar_spot::{BiSpot, DSpot, Spot, SpotConfig, Status};
use proptest::prelude::*;

/// Any f64 at all, with the interesting ones over-represented.
fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -10.0..10.0f64,
        2 => any::<f64>(),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => Just(f64::MAX),
        1 => Just(f64::MIN_POSITIVE),
        1 => prop::sample::select(vec![1.0, 1.0 + f64::EPSILON, 5e-324, -1e200, 1e150]),
    ]
}

fn any_config() -> impl Strategy<Value = SpotConfig> {
    (
        prop_oneof![3 => 1e-6..0.2f64, 1 => any::<f64>()],
        prop_oneof![3 => 0.5..0.9999f64, 1 => any::<f64>()],
        prop_oneof![3 => 1usize..64, 1 => any::<usize>()],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(q, level, max_excess, low, discard_anomalies)| SpotConfig {
                q,
                level,
                max_excess,
                low,
                discard_anomalies,
                unbounded: false,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn spot_never_panics_and_errors_change_nothing(
        config in any_config(),
        fit in prop::collection::vec(any_value(), 0..300),
        stream in prop::collection::vec(any_value(), 0..300),
    ) {
        let Ok(mut s) = Spot::new(config) else { return Ok(()); };
        let before = s.clone();
        if s.fit(&fit).is_err() {
            prop_assert_eq!(&s, &before);
        } else {
            prop_assert!(s.anomaly_threshold().is_finite());
        }
        for &x in &stream {
            let before = s.clone();
            match s.step(x) {
                Err(_) => prop_assert_eq!(&s, &before),
                Ok(Status::Anomaly) => {
                    let beyond_t = if config.low {
                        x <= s.excess_threshold()
                    } else {
                        x >= s.excess_threshold()
                    };
                    prop_assert!(beyond_t);
                    prop_assert!(config.discard_anomalies);
                }
                Ok(_) => {}
            }
            let _ = (s.probability(x), s.quantile(config.q), s.gamma(), s.sigma());
        }
    }

    #[test]
    fn spot_on_realistic_data_keeps_finite_thresholds(
        seed in any::<u64>(),
        scale in 1e-6..1e6f64,
        offset in -1e6..1e6f64,
        max_excess in 1usize..80,
        low in any::<bool>(),
    ) {
        let mut r = crate::common::Rng(seed);
        let config = SpotConfig { q: 1e-3, level: 0.95, max_excess, low, discard_anomalies: true, unbounded: false };
        let mut s = Spot::new(config).expect("valid");
        let fit: Vec<f64> = (0..500).map(|_| offset + scale * r.gauss()).collect();
        s.fit(&fit).expect("continuous data fits");
        for _ in 0..2000 {
            s.step(offset + scale * r.gauss() * 1.5).expect("finite step");
            prop_assert!(s.anomaly_threshold().is_finite());
        }
    }

    #[test]
    fn bispot_and_dspot_never_panic(
        config in any_config(),
        depth in prop_oneof![1usize..20, any::<usize>()],
        fit in prop::collection::vec(any_value(), 0..200),
        stream in prop::collection::vec(any_value(), 0..200),
    ) {
        if let Ok(mut b) = BiSpot::new(config) {
            let _ = b.fit(&fit);
            for &x in &stream {
                let before = b.clone();
                if b.step(x).is_err() {
                    prop_assert_eq!(&b, &before);
                }
            }
            let _ = b.anomaly_thresholds();
        }
        if let Ok(mut d) = DSpot::spot(config, depth) {
            let _ = d.fit(&fit);
            for &x in &stream {
                let before = d.clone();
                if d.step(x).is_err() {
                    prop_assert_eq!(&d, &before);
                }
            }
            let _ = (d.anomaly_threshold(), d.excess_threshold(), d.moving_average());
        }
    }
}
