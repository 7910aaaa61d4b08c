//! Helpers shared by the test modules: reading the reference streams, a
//! deterministic random generator, and the C libspot oracle.

use std::path::{Path, PathBuf};
use std::sync::Once;

use nectar_spot::SpotConfig;

/// One reference stream (`tests/data/NAME.csv` + `NAME.json`).
pub struct RefStream {
    pub name: String,
    pub config: SpotConfig,
    pub fit: Vec<f64>,
    /// (value, status code, anomaly threshold after the step)
    pub steps: Vec<(f64, u8, f64)>,
}

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
}

/// Every `*.csv` in `tests/data`, with the parameters from its `.json`.
pub fn reference_streams() -> Vec<RefStream> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .expect("tests/data exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    paths.sort();
    paths.iter().map(|p| read_stream(p)).collect()
}

fn read_stream(csv: &Path) -> RefStream {
    let name = csv
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("utf-8 name")
        .to_string();
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(csv.with_extension("json"))
            .unwrap_or_else(|e| panic!("{name}.json next to {name}.csv: {e}")),
    )
    .expect("valid json");
    let p = &meta["params"];
    let config = SpotConfig {
        q: p["q"].as_f64().expect("q"),
        level: p["level"].as_f64().expect("level"),
        max_excess: p["max_excess"].as_u64().expect("max_excess") as usize,
        low: flag(&p["low"]).expect("low"),
        discard_anomalies: flag(&p["discard_anomalies"]).expect("discard_anomalies"),
        unbounded: false,
    };
    let text = std::fs::read_to_string(csv).expect("readable csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).expect(n);
    let (c_phase, c_value, c_status, c_z) = (col("phase"), col("value"), col("status"), col("z"));
    let mut fit = Vec::new();
    let mut steps = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let value: f64 = f[c_value].parse().expect("value");
        match f[c_phase] {
            "fit" => fit.push(value),
            "step" => steps.push((
                value,
                f[c_status].parse().expect("status"),
                f[c_z].parse().expect("z"),
            )),
            other => panic!("{name}: unknown phase {other}"),
        }
    }
    RefStream {
        name,
        config,
        fit,
        steps,
    }
}

/// A 0/1 or boolean JSON flag.
fn flag(v: &serde_json::Value) -> Option<bool> {
    v.as_bool().or_else(|| v.as_u64().map(|x| x != 0))
}

/// Relative difference, 0 when both are equal (including both NaN).
pub fn rel_diff(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        0.0
    } else {
        (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
    }
}

/// splitmix64: tiny, deterministic, good enough for test streams.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller, one of the pair).
    pub fn gauss(&mut self) -> f64 {
        let u1 = self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    pub fn exponential(&mut self) -> f64 {
        -self.uniform().ln()
    }

    /// Pareto with shape `alpha` (heavy tail, γ = 1/alpha).
    pub fn pareto(&mut self, alpha: f64) -> f64 {
        self.uniform().powf(-1.0 / alpha)
    }
}

unsafe extern "C" {
    // glibc's libm, as libspot's Python module installs them.
    fn log(x: f64) -> f64;
    fn exp(x: f64) -> f64;
    fn pow(x: f64, y: f64) -> f64;
}

static MATH: Once = Once::new();

/// Make the C library use the platform libm (as libspot's Python module
/// does, and as Rust's f64::ln/exp/powf do), once per process.
pub fn c_use_libm() {
    MATH.call_once(|| {
        // SAFETY: plain C functions with the signatures libspot expects; set
        // once before any model is used.
        unsafe { libspot::set_math_functions(Some(log), Some(exp), Some(pow)) }
    });
}

/// Run the C libspot on a stream; returns (status code, z) per step.
pub fn run_c(config: &SpotConfig, fit: &[f64], stream: &[f64]) -> Vec<(i32, f64)> {
    c_use_libm();
    let mut c = libspot::SpotDetector::new(libspot::SpotConfig {
        q: config.q,
        low_tail: config.low,
        discard_anomalies: config.discard_anomalies,
        level: config.level,
        max_excess: config.max_excess,
    })
    .expect("valid C config");
    c.fit(fit).expect("C fit");
    stream
        .iter()
        .map(|&x| {
            let st = c.step(x).expect("C step");
            (st as i32, c.anomaly_threshold())
        })
        .collect()
}
