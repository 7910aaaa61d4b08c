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
            unbounded: false,
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

/// Random parameters and distributions against the C library, bit for bit.
/// The comparison of a stream stops where the C library enters its Nt/n < q
/// lock-in (anomaly threshold not beyond the excess threshold), where this
/// crate deliberately differs (see `guards::the_lock_in_cannot_happen`).
#[test]
fn random_parameters_match_the_c_library_bit_for_bit() {
    let mut total = 0usize;
    let mut compared_excesses = 0usize;
    for seed in 0..48u64 {
        let mut r = Rng(seed * 7919 + 1);
        let level = [0.9, 0.95, 0.97, 0.98, 0.99, 0.995][(r.next_u64() % 6) as usize];
        let q = (1.0 - level) * [0.5, 0.1, 0.05, 0.01][(r.next_u64() % 4) as usize];
        let max_excess = [1usize, 3, 10, 40, 100, 250][(r.next_u64() % 6) as usize];
        let config = SpotConfig {
            q,
            level,
            max_excess,
            low: r.next_u64().is_multiple_of(2),
            discard_anomalies: !r.next_u64().is_multiple_of(4),
            unbounded: false,
        };
        let dist = seed % 8;
        let draw = |r: &mut Rng| match dist {
            0 => r.gauss(),
            1 => r.exponential(),
            2 => r.pareto(1.5 + 3.0 * (seed as f64 / 48.0)),
            3 => r.uniform(),
            4 => (0.5 * r.gauss()).exp(),
            // Counts with many ties: excesses of exactly zero happen.
            5 => (r.exponential() * 2.0).floor(),
            6 => {
                if r.uniform() < 0.01 {
                    r.gauss() * 10.0
                } else {
                    r.gauss()
                }
            }
            _ => 1000.0 + r.gauss() * 1e-3,
        };
        let fit: Vec<f64> = (0..3000).map(|_| draw(&mut r)).collect();
        let stream: Vec<f64> = (0..20_000).map(|_| draw(&mut r)).collect();
        let mut spot = Spot::new(config).expect("valid");
        if let Err(e) = spot.fit(&fit) {
            eprintln!("seed {seed}: not fitted ({e})");
            continue;
        }
        let expected = run_c(&config, &fit, &stream);
        let up = if config.low { -1.0 } else { 1.0 };
        let t = spot.excess_threshold();
        for (k, (&x, &(st, z))) in stream.iter().zip(&expected).enumerate() {
            if config.discard_anomalies && up * (spot.anomaly_threshold() - t) <= 0.0 {
                eprintln!("seed {seed}: lock-in regime from step {k}, comparison stops");
                break;
            }
            let got = spot.step(x).expect("step");
            assert_eq!(
                code(got),
                st,
                "seed {seed} {config:?}: status differs at step {k} (x = {x})"
            );
            assert_eq!(
                spot.anomaly_threshold().to_bits(),
                z.to_bits(),
                "seed {seed} {config:?}: threshold differs at step {k}: {} vs {z}",
                spot.anomaly_threshold()
            );
            total += 1;
            compared_excesses += usize::from(got == Status::Excess);
        }
    }
    eprintln!("{total} steps compared, {compared_excesses} refits");
    assert!(total > 500_000, "{total}");
}
