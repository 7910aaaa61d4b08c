//! Save/restore (feature `serde`): a restored model steps exactly like the
//! one that was saved, and a damaged state is refused.

use nectar_spot::{BiSpot, DSpot, Spot, SpotConfig};

use crate::common::Rng;

fn stream(seed: u64, n: usize) -> Vec<f64> {
    let mut r = Rng(seed);
    (0..n)
        .map(|i| {
            let x = r.gauss();
            if i % 997 == 0 { x + 8.0 } else { x }
        })
        .collect()
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serialisable")
}

#[test]
fn restored_spot_steps_identically() {
    for config in [
        SpotConfig {
            q: 1e-3,
            max_excess: 50,
            ..SpotConfig::default()
        },
        SpotConfig {
            q: 1e-3,
            low: true,
            discard_anomalies: false,
            unbounded: false,
            ..SpotConfig::default()
        },
    ] {
        let mut a = Spot::new(config).expect("valid");
        a.fit(&stream(1, 3000)).expect("fit");
        // Run long enough for the excess buffer to wrap.
        for x in stream(2, 20_000) {
            a.step(x).expect("step");
        }
        let saved = json(&a);
        let mut b: Spot = serde_json::from_str(&saved).expect("restorable");
        assert_eq!(a, b);
        for x in stream(3, 30_000) {
            assert_eq!(a.step(x), b.step(x));
            assert_eq!(
                a.anomaly_threshold().to_bits(),
                b.anomaly_threshold().to_bits()
            );
        }
        assert_eq!(a, b);
    }
}

#[test]
fn unfitted_model_round_trips() {
    let a = Spot::new(SpotConfig::default()).expect("valid");
    let b: Spot = serde_json::from_str(&json(&a)).expect("restorable");
    assert_eq!(a, b);
    assert!(!b.is_fitted());
}

#[test]
fn bispot_and_dspot_round_trip() {
    let config = SpotConfig {
        q: 1e-3,
        max_excess: 40,
        ..SpotConfig::default()
    };
    let mut a = BiSpot::new(config).expect("valid");
    a.fit(&stream(4, 2000)).expect("fit");
    for x in stream(5, 5000) {
        a.step(x).expect("step");
    }
    let mut b: BiSpot = serde_json::from_str(&json(&a)).expect("restorable");
    for x in stream(6, 5000) {
        assert_eq!(a.step(x), b.step(x));
    }
    assert_eq!(a, b);

    let mut a = DSpot::bispot(config, 30).expect("valid");
    let drift: Vec<f64> = stream(7, 8000)
        .iter()
        .enumerate()
        .map(|(i, x)| x + i as f64 * 0.001)
        .collect();
    a.fit(&drift[..2000]).expect("fit");
    for &x in &drift[2000..5000] {
        a.step(x).expect("step");
    }
    let mut b: DSpot<BiSpot> = serde_json::from_str(&json(&a)).expect("restorable");
    for &x in &drift[5000..] {
        assert_eq!(a.step(x), b.step(x));
    }
    assert_eq!(a, b);
}

#[test]
fn damaged_states_are_refused() {
    let mut a = Spot::new(SpotConfig {
        max_excess: 30,
        ..SpotConfig::default()
    })
    .expect("valid");
    a.fit(&stream(8, 3000)).expect("fit");
    let v: serde_json::Value = serde_json::from_str(&json(&a)).expect("json");

    let mutate = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut w = v.clone();
        f(&mut w);
        serde_json::from_value::<Spot>(w)
    };
    assert!(mutate(&|_| {}).is_ok());
    assert!(mutate(&|w| w["fitted"]["cursor"] = 30.into()).is_err());
    assert!(mutate(&|w| w["fitted"]["excesses"][0] = (-1.0).into()).is_err());
    assert!(mutate(&|w| w["fitted"]["excesses"] = serde_json::json!([])).is_err());
    assert!(mutate(&|w| w["fitted"]["n"] = 0.into()).is_err());
    assert!(mutate(&|w| w["fitted"]["min"] = 1e9.into()).is_err());
    assert!(mutate(&|w| w["fitted"]["gamma"] = serde_json::Value::Null).is_err());
    assert!(mutate(&|w| w["config"]["q"] = 0.5.into()).is_err());
    assert!(mutate(&|w| w["config"]["max_excess"] = 10.into()).is_err());
    assert!(mutate(&|w| w["surprise"] = 1.into()).is_err());
    // A BiSpot whose tails are swapped is refused.
    let bi = BiSpot::new(SpotConfig::default()).expect("valid");
    let mut w: serde_json::Value = serde_json::from_str(&json(&bi)).expect("json");
    let up = w["upper"].clone();
    w["upper"] = w["lower"].clone();
    w["lower"] = up;
    assert!(serde_json::from_value::<BiSpot>(w).is_err());
}
