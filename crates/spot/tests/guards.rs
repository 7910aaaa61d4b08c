//! The guards libspot lacks: each misuse is a typed error that changes
//! nothing, and the Nt/n < q lock-in cannot happen.

use nectar_spot::{BiSpot, DSpot, MAX_EXCESS_LIMIT, Spot, SpotConfig, SpotError, Status};

use crate::common::{Rng, run_c};

fn gaussian(seed: u64, n: usize, scale: f64) -> Vec<f64> {
    let mut r = Rng(seed);
    (0..n).map(|_| r.gauss() * scale).collect()
}

fn fitted(config: SpotConfig) -> Spot {
    let mut s = Spot::new(config).expect("valid");
    s.fit(&gaussian(1, 5000, 1.0)).expect("fit");
    for x in gaussian(2, 2000, 1.0) {
        s.step(x).expect("step");
    }
    s
}

#[test]
fn out_of_range_parameters_are_refused_at_construction() {
    let ok = SpotConfig::default();
    type Expect = fn(&SpotError) -> bool;
    let cases: Vec<(SpotConfig, Expect)> = vec![
        (SpotConfig { level: 0.0, ..ok }, |e| {
            matches!(e, SpotError::LevelOutOfRange { .. })
        }),
        (SpotConfig { level: 1.0, ..ok }, |e| {
            matches!(e, SpotError::LevelOutOfRange { .. })
        }),
        (SpotConfig { level: -0.5, ..ok }, |e| {
            matches!(e, SpotError::LevelOutOfRange { .. })
        }),
        (
            SpotConfig {
                level: f64::NAN,
                ..ok
            },
            |e| matches!(e, SpotError::LevelOutOfRange { .. }),
        ),
        (SpotConfig { q: 0.0, ..ok }, |e| {
            matches!(e, SpotError::QOutOfRange { .. })
        }),
        (
            SpotConfig {
                q: 0.03,
                level: 0.98,
                ..ok
            },
            |e| matches!(e, SpotError::QOutOfRange { .. }),
        ),
        (SpotConfig { q: f64::NAN, ..ok }, |e| {
            matches!(e, SpotError::QOutOfRange { .. })
        }),
        (SpotConfig { q: -1e-4, ..ok }, |e| {
            matches!(e, SpotError::QOutOfRange { .. })
        }),
        (
            SpotConfig {
                max_excess: 0,
                ..ok
            },
            |e| matches!(e, SpotError::MaxExcessOutOfRange { .. }),
        ),
        (
            SpotConfig {
                max_excess: MAX_EXCESS_LIMIT + 1,
                ..ok
            },
            |e| matches!(e, SpotError::MaxExcessOutOfRange { .. }),
        ),
    ];
    for (config, expected) in cases {
        let err = Spot::new(config).expect_err("must be refused");
        assert!(expected(&err), "{config:?}: {err}");
        assert!(BiSpot::new(config).is_err());
        // The message names the parameter.
        let msg = err.to_string();
        assert!(
            ["level", "q ", "max_excess"]
                .iter()
                .any(|k| msg.contains(k)),
            "{msg}"
        );
    }
    assert!(matches!(
        DSpot::spot(ok, 0),
        Err(SpotError::DepthOutOfRange { depth: 0 })
    ));
}

#[test]
fn non_finite_values_are_refused_without_state_change() {
    let mut s = fitted(SpotConfig::default());
    let before = s.clone();
    for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(matches!(s.step(x), Err(SpotError::NonFiniteValue { .. })));
        assert_eq!(s, before);
    }
    // Finite but absurdly far from the threshold: refused too.
    assert!(matches!(
        s.step(1e300),
        Err(SpotError::ValueOutOfRange { .. })
    ));
    assert!(matches!(
        s.step(-f64::MAX),
        Err(SpotError::ValueOutOfRange { .. })
    ));
    assert_eq!(s, before);
    // And the model still works.
    assert_eq!(s.step(0.0), Ok(Status::Normal));

    let mut bi = BiSpot::new(SpotConfig::default()).expect("valid");
    bi.fit(&gaussian(3, 3000, 1.0)).expect("fit");
    let before = bi.clone();
    assert!(bi.step(f64::NAN).is_err());
    assert!(bi.step(1e300).is_err());
    assert_eq!(bi, before);

    let mut d = DSpot::spot(SpotConfig::default(), 20).expect("valid");
    d.fit(&gaussian(4, 3000, 1.0)).expect("fit");
    let before = d.clone();
    assert!(d.step(f64::INFINITY).is_err());
    assert!(d.step(f64::MAX).is_err());
    assert_eq!(d, before);
}

#[test]
fn non_finite_training_data_is_refused() {
    let mut s = Spot::new(SpotConfig::default()).expect("valid");
    let mut data = gaussian(5, 1000, 1.0);
    data[417] = f64::NAN;
    assert_eq!(
        s.fit(&data)
            .map_err(|e| matches!(e, SpotError::NonFiniteTraining { index: 417, .. })),
        Err(true)
    );
    assert!(!s.is_fitted());
    assert_eq!(s.step(1.0), Err(SpotError::NotFitted));
}

#[test]
fn too_little_training_data_is_refused() {
    let mut s = Spot::new(SpotConfig::default()).expect("valid");
    assert_eq!(
        s.fit(&[1.0, 2.0, 3.0]),
        Err(SpotError::NotEnoughData { got: 3, need: 5 })
    );
    let mut d = DSpot::spot(SpotConfig::default(), 50).expect("valid");
    assert!(matches!(
        d.fit(&gaussian(6, 40, 1.0)),
        Err(SpotError::NotEnoughData { got: 40, need: 55 })
    ));
}

#[test]
fn constant_training_data_is_a_clear_error_and_changes_nothing() {
    // libspot "fits" this with a NaN anomaly threshold.
    let mut s = Spot::new(SpotConfig::default()).expect("valid");
    let err = s.fit(&[0.25; 2000]).expect_err("constant data has no tail");
    assert!(matches!(
        err,
        SpotError::DegenerateTraining { excesses: 0, .. }
    ));
    assert!(err.to_string().contains("constant"), "{err}");
    assert!(!s.is_fitted());

    // A fitted model keeps its fit when a refit fails.
    let mut s = fitted(SpotConfig::default());
    let before = s.clone();
    assert!(s.fit(&[7.0; 3000]).is_err());
    assert_eq!(s, before);

    // Same for the lower tail, BiSpot and DSpot.
    let mut low = Spot::new(SpotConfig {
        low: true,
        ..SpotConfig::default()
    })
    .expect("valid");
    assert!(matches!(
        low.fit(&[-3.0; 500]),
        Err(SpotError::DegenerateTraining { .. })
    ));
    let mut bi = BiSpot::new(SpotConfig::default()).expect("valid");
    assert!(bi.fit(&[1.0; 500]).is_err());
    assert!(!bi.upper().is_fitted() && !bi.lower().is_fitted());
    let mut d = DSpot::spot(SpotConfig::default(), 10).expect("valid");
    assert!(d.fit(&[4.0; 500]).is_err());
    assert!(d.moving_average().is_nan());
}

#[test]
fn nearly_constant_training_data_never_gives_nan_thresholds() {
    // Mostly one value with a few others: either a finite model or an error.
    for (bulk, spikes) in [(0.0, 1usize), (0.0, 3), (5.0, 40), (1e-300, 2)] {
        let mut data = vec![bulk; 2000];
        for k in 0..spikes {
            data[k * 37 % 2000] = bulk + 1.0 + k as f64;
        }
        let mut s = Spot::new(SpotConfig {
            q: 1e-3,
            ..SpotConfig::default()
        })
        .expect("valid");
        match s.fit(&data) {
            Ok(()) => {
                assert!(s.anomaly_threshold().is_finite(), "{bulk} {spikes}");
                assert!(s.gamma().is_finite() && s.sigma().is_finite());
            }
            Err(e) => assert!(matches!(e, SpotError::DegenerateTraining { .. }), "{e}"),
        }
    }
}

#[test]
fn step_before_fit_is_an_error() {
    let mut s = Spot::new(SpotConfig::default()).expect("valid");
    assert_eq!(s.step(1.0), Err(SpotError::NotFitted));
    assert_eq!(s.n(), 0);
}

/// Fit on a wide distribution, then stream a narrower one: the stream (almost)
/// never exceeds t, so Nt/n decays below q and the anomaly threshold falls
/// below t. libspot then flags every value above the (falling) threshold.
#[test]
fn the_lock_in_cannot_happen() {
    let config = SpotConfig {
        q: 1e-2,
        level: 0.98,
        max_excess: 100,
        low: false,
        discard_anomalies: true,
        unbounded: false,
    };
    let fit = gaussian(7, 2000, 2.0);
    let stream = gaussian(8, 100_000, 1.0);

    let c = run_c(&config, &fit, &stream);
    let mut probe = Spot::new(config).expect("valid");
    probe.fit(&fit).expect("fit");
    let t0 = probe.excess_threshold();
    // The C library is locked: at its first excess Nt/n < q put z below t;
    // from then on every value above z is discarded, no excess is ever learnt
    // again, z never moves, and values that are not even excesses are
    // flagged, forever.
    let c_below_t = c
        .iter()
        .zip(&stream)
        .filter(|((st, _), x)| *st == 2 && **x < t0)
        .count();
    let (z_early, z_late) = (c[20_000].1, c[c.len() - 1].1);
    eprintln!("C: {c_below_t} anomalies below t = {t0}; z {z_early} -> {z_late}");
    assert!(c_below_t > 100 && z_late <= z_early && z_early < t0);

    let mut s = Spot::new(config).expect("valid");
    s.fit(&fit).expect("fit");
    let t = s.excess_threshold();
    let mut ours = 0;
    for &x in &stream {
        if s.step(x).expect("step") == Status::Anomaly {
            ours += 1;
            // Only values beyond the excess threshold can be anomalies.
            assert!(x >= t);
        }
    }
    let beyond_t = stream.iter().filter(|&&x| x >= t).count();
    eprintln!("ours: {ours} anomalies, {beyond_t} values beyond t = {t}");
    assert!(ours <= beyond_t, "{ours} anomalies");
    // The model is still in the regime where libspot locks (z below t)...
    assert!(s.anomaly_threshold() < t);
    // ...but keeps learning: when excesses arrive again (a wider stream)
    // they enter the tail, Nt grows and ordinary excesses are reported,
    // where the C library stays frozen.
    let nt = s.nt();
    let mut r = Rng(9);
    let mut statuses = Vec::new();
    for _ in 0..20_000 {
        statuses.push(s.step(r.gauss() * 3.0).expect("step"));
    }
    assert!(s.nt() > nt + 500, "Nt {} -> {}", nt, s.nt());
    assert!(statuses[10_000..].contains(&Status::Excess));
    assert!(s.anomaly_threshold() > z_late);
}

#[test]
fn without_discard_nothing_is_ever_an_anomaly() {
    let mut s = Spot::new(SpotConfig {
        discard_anomalies: false,
        unbounded: false,
        ..SpotConfig::default()
    })
    .expect("valid");
    s.fit(&gaussian(10, 3000, 1.0)).expect("fit");
    for x in [0.0, 3.0, 10.0, 100.0, 1e6] {
        assert_ne!(s.step(x), Ok(Status::Anomaly));
    }
}

#[test]
fn errors_display_and_implement_error() {
    let e: Box<dyn std::error::Error> = Box::new(SpotError::NotFitted);
    assert!(e.to_string().contains("fitted"));
    let e = SpotError::NonFiniteTraining {
        index: 3,
        value: f64::NAN,
    };
    assert!(e.to_string().contains("#3"));
}
