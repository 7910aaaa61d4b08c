//! nectar-spot against the C libspot 3.1.0 (crates.io `libspot`, FFI), in
//! the same run, on the same 10-million-value Gaussian stream.
//!
//! Both use the platform libm (the C library is switched to it, as libspot's
//! Python module does). Before timing, every status of both implementations
//! is compared and the run aborts on the first difference; the largest
//! relative difference of the anomaly thresholds is printed.
//!
//! A 10 M-step iteration takes seconds, so each benchmark takes the minimum
//! criterion allows: 10 samples of one iteration each.
//!
//! `cargo bench -p nectar-spot --bench spot`; set `SPOT_BENCH_STEPS` to use a
//! shorter stream while iterating.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use nectar_spot::{Spot, SpotConfig};

const FIT: usize = 20_000;

unsafe extern "C" {
    fn log(x: f64) -> f64;
    fn exp(x: f64) -> f64;
    fn pow(x: f64, y: f64) -> f64;
}

/// splitmix64 + Box–Muller: N(0, 1) values, deterministic.
fn gaussian(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    let mut next = move || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (((z ^ (z >> 31)) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let (u1, u2) = (next(), next());
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        })
        .collect()
}

fn ours(config: SpotConfig, fit: &[f64]) -> Spot {
    let mut s = Spot::new(config).expect("valid config");
    s.fit(fit).expect("fit");
    s
}

fn c_lib(config: SpotConfig, fit: &[f64]) -> libspot::SpotDetector {
    let mut c = libspot::SpotDetector::new(libspot::SpotConfig {
        q: config.q,
        low_tail: config.low,
        discard_anomalies: config.discard_anomalies,
        level: config.level,
        max_excess: config.max_excess,
    })
    .expect("valid config");
    c.fit(fit).expect("fit");
    c
}

/// Compare both implementations step by step; panics on a status mismatch.
fn check_identical(name: &str, config: SpotConfig, fit: &[f64], stream: &[f64]) {
    let mut a = ours(config, fit);
    let mut b = c_lib(config, fit);
    let mut counts = [0u64; 3];
    let mut worst = 0.0_f64;
    for (k, &x) in stream.iter().enumerate() {
        let sa = a.step(x).expect("step").code() as i32;
        let sb = b.step(x).expect("step") as i32;
        assert_eq!(sa, sb, "{name}: status differs at step {k} (x = {x})");
        let (za, zb) = (a.anomaly_threshold(), b.anomaly_threshold());
        if za != zb {
            worst = worst.max((za - zb).abs() / zb.abs());
        }
        counts[sa as usize] += 1;
    }
    assert!(
        worst <= 1e-6,
        "{name}: thresholds differ by {worst:e} relative"
    );
    eprintln!(
        "{name}: statuses identical on {} steps (N/E/A {counts:?}), max threshold rel diff {worst:e}",
        stream.len()
    );
}

fn bench(c: &mut Criterion) {
    // SAFETY: plain libm functions with the signatures libspot expects, set
    // before any detector exists.
    unsafe { libspot::set_math_functions(Some(log), Some(exp), Some(pow)) };

    let steps: usize = std::env::var("SPOT_BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let data = gaussian(FIT + steps, 20_170_813);
    let (fit, stream) = data.split_at(FIT);

    for (level, max_excess) in [(0.99, 200), (0.98, 500)] {
        let config = SpotConfig {
            q: 1e-4,
            level,
            max_excess,
            low: false,
            discard_anomalies: true,
            unbounded: false,
        };
        let name = format!("gaussian q=1e-4 level={level} max_excess={max_excess}");
        check_identical(&name, config, fit, stream);

        let mut group = c.benchmark_group(name);
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(Duration::from_secs(1))
            .throughput(Throughput::Elements(stream.len() as u64));
        group.bench_function("nectar-spot", |b| {
            b.iter_batched_ref(
                || ours(config, fit),
                |s| {
                    for &x in stream {
                        black_box(s.step(x).ok());
                    }
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function("libspot-c", |b| {
            b.iter_batched_ref(
                || c_lib(config, fit),
                |s| {
                    for &x in stream {
                        black_box(s.step(x).ok());
                    }
                },
                BatchSize::PerIteration,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
