//! Equality with libspot 3.1.0: the recorded reference streams
//! (`tests/data/*.csv`, from libspot's Python module) and fresh streams run
//! through the C library in the same process.

use nectar_spot::{Spot, SpotConfig, Status};

use crate::common::{Rng, reference_streams, rel_diff, run_c};

/// Tolerance on the anomaly threshold, relative.
const TOL: f64 = 1e-6;

fn code(s: Status) -> i32 {
    s.code() as i32
}

#[test]
fn every_reference_stream_matches_libspot() {
    let streams = reference_streams();
    assert!(streams.len() >= 3, "tests/data holds the reference CSVs");
    let mut report = String::new();
    for s in &streams {
        let mut spot = Spot::new(s.config).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        spot.fit(&s.fit)
            .unwrap_or_else(|e| panic!("{}: fit: {e}", s.name));
        let mut worst = 0.0_f64;
        for (k, &(x, status, z)) in s.steps.iter().enumerate() {
            let got = spot
                .step(x)
                .unwrap_or_else(|e| panic!("{} step {k}: {e}", s.name));
            assert_eq!(
                got.code(),
                status,
                "{}: status differs at step {k} (x = {x}, z = {z}, ours {})",
                s.name,
                spot.anomaly_threshold()
            );
            let d = rel_diff(spot.anomaly_threshold(), z);
            assert!(
                d <= TOL,
                "{}: threshold differs at step {k}: {} vs {z} (rel {d:e})",
                s.name,
                spot.anomaly_threshold()
            );
            worst = worst.max(d);
        }
        report.push_str(&format!(
            "{}: {} steps, max rel diff {worst:e}\n",
            s.name,
            s.steps.len()
        ));
    }
    eprint!("{report}");
}

#[test]
fn reference_procedure_matches_recorded_streams_bit_for_bit() {
    // The unabridged libspot procedure (kept as the oracle of the fast fit)
    // reproduces the recorded thresholds exactly.
    for s in reference_streams() {
        let mut spot = Spot::new(s.config).expect("valid");
        spot.fit(&s.fit).expect("fit");
        for (k, &(x, status, z)) in s.steps.iter().enumerate() {
            let got = nectar_spot::__private::step_reference(&mut spot, x).expect("step");
            assert_eq!(got.code(), status, "{} step {k}", s.name);
            assert_eq!(
                spot.anomaly_threshold().to_bits(),
                z.to_bits(),
                "{} step {k}: {} vs {z}",
                s.name,
                spot.anomaly_threshold()
            );
        }
    }
}

/// A generated stream and the parameters to run it with.
struct Case {
    name: &'static str,
    config: SpotConfig,
    fit: Vec<f64>,
    stream: Vec<f64>,
}

fn cases() -> Vec<Case> {
    let base = SpotConfig::default();
    let mut out = Vec::new();
    let mut gen_case = |name, seed, config, n_fit, n_stream, f: &dyn Fn(&mut Rng, usize) -> f64| {
        let mut rng = Rng(seed);
        let fit = (0..n_fit).map(|i| f(&mut rng, i)).collect();
        let stream = (0..n_stream).map(|i| f(&mut rng, n_fit + i)).collect();
        out.push(Case {
            name,
            config,
            fit,
            stream,
        });
    };
    gen_case(
        "gauss 0.99/200",
        11,
        SpotConfig {
            q: 1e-4,
            level: 0.99,
            max_excess: 200,
            ..base
        },
        20_000,
        200_000,
        &|r, _| r.gauss(),
    );
    gen_case(
        "gauss 0.98/500",
        12,
        SpotConfig {
            q: 1e-4,
            level: 0.98,
            max_excess: 500,
            ..base
        },
        20_000,
        100_000,
        &|r, _| r.gauss(),
    );
    gen_case(
        "gauss low keep",
        13,
        SpotConfig {
            q: 1e-3,
            level: 0.97,
            max_excess: 100,
            low: true,
            discard_anomalies: false,
        },
        5_000,
        50_000,
        &|r, _| r.gauss(),
    );
    gen_case(
        "exponential",
        14,
        SpotConfig {
            q: 1e-3,
            level: 0.98,
            max_excess: 150,
            ..base
        },
        5_000,
        60_000,
        &|r, _| r.exponential(),
    );
    gen_case(
        "pareto 2.5",
        15,
        SpotConfig {
            q: 1e-4,
            level: 0.98,
            max_excess: 300,
            ..base
        },
        5_000,
        60_000,
        &|r, _| r.pareto(2.5),
    );
    gen_case(
        "uniform low",
        16,
        SpotConfig {
            q: 1e-4,
            level: 0.99,
            max_excess: 64,
            low: true,
            ..base
        },
        5_000,
        60_000,
        &|r, _| r.uniform(),
    );
    gen_case(
        "drift spikes",
        17,
        SpotConfig {
            q: 1e-3,
            level: 0.98,
            max_excess: 80,
            ..base
        },
        3_000,
        40_000,
        &|r, i| {
            let base = 10.0 + 3.0 * (i as f64 / 160.0).sin() + 0.0002 * i as f64 + r.gauss();
            if r.uniform() < 0.004 {
                base + 4.0 + 4.0 * r.uniform()
            } else {
                base
            }
        },
    );
    gen_case(
        "small buffer",
        18,
        SpotConfig {
            q: 5e-3,
            level: 0.95,
            max_excess: 7,
            ..base
        },
        1_000,
        40_000,
        &|r, _| r.gauss() * r.gauss(),
    );
    out
}

#[test]
fn generated_streams_match_the_c_library() {
    let mut report = String::new();
    for case in cases() {
        let expected = run_c(&case.config, &case.fit, &case.stream);
        let mut spot = Spot::new(case.config).expect("valid");
        spot.fit(&case.fit).expect("fit");
        let mut worst = 0.0_f64;
        let mut counts = [0usize; 3];
        for (k, (&x, &(st, z))) in case.stream.iter().zip(&expected).enumerate() {
            let got = spot.step(x).expect("step");
            assert_eq!(
                code(got),
                st,
                "{}: status differs at step {k} (x = {x}, C z = {z}, ours {})",
                case.name,
                spot.anomaly_threshold()
            );
            let d = rel_diff(spot.anomaly_threshold(), z);
            assert!(
                d <= TOL,
                "{}: threshold differs at step {k}: {} vs {z}",
                case.name,
                spot.anomaly_threshold()
            );
            worst = worst.max(d);
            counts[got.code() as usize] += 1;
        }
        report.push_str(&format!(
            "{}: N/E/A {counts:?}, max rel diff {worst:e}\n",
            case.name
        ));
    }
    eprint!("{report}");
}
