//! BiSpot and DSpot against straightforward compositions of [`Spot`].

use nectar_spot::{BiSpot, DSpot, Spot, SpotConfig, Status};

use crate::common::Rng;

/// Seasonal series drifting by `drift` per step, with spikes and dips;
/// returns the values and the indices of the spikes and dips.
fn series(seed: u64, n: usize, drift: f64) -> (Vec<f64>, Vec<usize>) {
    let mut r = Rng(seed);
    let mut spikes = Vec::new();
    let values = (0..n)
        .map(|i| {
            let base = 10.0 + 3.0 * (i as f64 / 150.0).sin() + drift * i as f64 + r.gauss();
            match r.next_u64() % 500 {
                0 => {
                    spikes.push(i);
                    base + 8.0
                }
                1 => {
                    spikes.push(i);
                    base - 8.0
                }
                _ => base,
            }
        })
        .collect();
    (values, spikes)
}

fn drifting(seed: u64, n: usize) -> Vec<f64> {
    series(seed, n, 0.002).0
}

#[test]
fn bispot_is_an_upper_and_a_lower_spot() {
    let config = SpotConfig {
        q: 1e-3,
        level: 0.97,
        max_excess: 50,
        ..SpotConfig::default()
    };
    let (data, _) = series(1, 12_000, 0.0);
    let mut bi = BiSpot::new(config).expect("valid");
    let mut up = Spot::new(SpotConfig {
        low: false,
        ..config
    })
    .expect("valid");
    let mut down = Spot::new(SpotConfig {
        low: true,
        ..config
    })
    .expect("valid");
    bi.fit(&data[..2000]).expect("fit");
    up.fit(&data[..2000]).expect("fit");
    down.fit(&data[..2000]).expect("fit");
    let (mut ups, mut downs) = (0, 0);
    for &x in &data[2000..] {
        let s = bi.step(x).expect("step");
        assert_eq!(s.upper, up.step(x).expect("step"));
        assert_eq!(s.lower, down.step(x).expect("step"));
        ups += usize::from(s.upper == Status::Anomaly);
        downs += usize::from(s.lower == Status::Anomaly);
    }
    assert_eq!(bi.upper(), &up);
    assert_eq!(bi.lower(), &down);
    let (lo, hi) = bi.anomaly_thresholds();
    assert!(lo < hi);
    assert!(ups > 0 && downs > 0, "{ups} {downs}");
}

#[test]
fn dspot_is_spot_on_residuals_of_a_moving_average_without_anomalies() {
    let config = SpotConfig {
        q: 1e-3,
        level: 0.98,
        max_excess: 100,
        ..SpotConfig::default()
    };
    let depth = 30;
    let data = drifting(2, 20_000);
    let mut d = DSpot::spot(config, depth).expect("valid");
    d.fit(&data[..3000]).expect("fit");

    // The same by hand: window of the last `depth` accepted values.
    let mut window: Vec<f64> = data[..depth].to_vec();
    let mean = |w: &[f64]| w[w.len() - depth..].iter().sum::<f64>() / depth as f64;
    let mut residuals = Vec::new();
    for &x in &data[depth..3000] {
        residuals.push(x - mean(&window));
        window.push(x);
    }
    let mut spot = Spot::new(config).expect("valid");
    spot.fit(&residuals).expect("fit");
    let mut anomalies = 0;
    for &x in &data[3000..] {
        let m = mean(&window);
        assert!((d.moving_average() - m).abs() <= 1e-9 * m.abs());
        let expected = spot.step(x - m).expect("step");
        let got = d.step(x).expect("step");
        // Rounding of the two averages may differ in the last bits; a status
        // can then only differ for a value on a threshold, which these
        // continuous data never hit.
        assert_eq!(got, expected);
        if expected == Status::Anomaly {
            anomalies += 1;
        } else {
            window.push(x);
        }
        let z = d.anomaly_threshold();
        let z_hand = mean(&window) + spot.anomaly_threshold();
        assert!((z - z_hand).abs() <= 1e-9 * z.abs(), "{z} vs {z_hand}");
    }
    // The spikes and nothing much else: DSPOT follows the drift and the
    // season, so the thresholds stay close to the data.
    assert!((20..=80).contains(&anomalies), "{anomalies}");
}

#[test]
fn dspot_flags_spikes_that_plain_spot_misses_under_drift() {
    let config = SpotConfig {
        q: 1e-3,
        level: 0.98,
        max_excess: 100,
        ..SpotConfig::default()
    };
    let (data, spikes) = series(3, 20_000, 0.002);
    let mut d = DSpot::bispot(config, 20).expect("valid");
    d.fit(&data[..3000]).expect("fit");
    let mut s = BiSpot::new(config).expect("valid");
    s.fit(&data[..3000]).expect("fit");
    let (mut d_hits, mut s_hits) = (0, 0);
    for (i, &x) in data.iter().enumerate().skip(3000) {
        let a = d.step(x).expect("step").is_anomaly();
        let b = s.step(x).expect("step").is_anomaly();
        if spikes.contains(&i) {
            d_hits += usize::from(a);
            s_hits += usize::from(b);
        }
    }
    let total = spikes.iter().filter(|&&i| i >= 3000).count();
    assert!(
        d_hits > s_hits && 2 * d_hits > total,
        "DSPOT {d_hits} vs SPOT {s_hits} of {total}"
    );
}
