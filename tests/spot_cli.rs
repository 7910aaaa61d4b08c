//! `nectar spot` end to end: the real binary on files of values. Output must
//! match the library step for step, bad input must exit 2 and name the line.
//!
//! With `NECTAR_LIBSPOT_PYTHON` pointing to a Python that has `libspot`
//! 3.1.0 installed, the flags are also compared with libspot's own module.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use nectar_spot::{Spot, SpotConfig};

const BIN: &str = env!("CARGO_BIN_EXE_nectar");

/// Deterministic N(0, 1) values (splitmix64 + Box–Muller) with a few spikes.
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    let mut uniform = move || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (((z ^ (z >> 31)) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n)
        .map(|i| {
            let (a, b) = (uniform(), uniform());
            let x = (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos();
            if i > 2000 && i % 401 == 0 { x + 9.0 } else { x }
        })
        .collect()
}

fn write_values(path: &Path, xs: &[f64]) {
    let text: String = xs.iter().map(|x| format!("{x:?}\n")).collect();
    std::fs::write(path, text).expect("write values");
}

fn nectar(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("spot")
        .args(args)
        .output()
        .expect("run nectar")
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn output_matches_the_library_step_for_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("values.txt");
    let xs = values(5000, 1);
    write_values(&file, &xs);

    let out = nectar(&[
        "--fit",
        "2000",
        "--q",
        "1e-3",
        "--max-excess",
        "60",
        file.to_str().expect("utf-8 path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = stdout_lines(&out);
    assert_eq!(lines[0], "index,value,status,threshold");
    assert_eq!(lines.len(), 1 + 3000);

    let mut spot = Spot::new(SpotConfig {
        q: 1e-3,
        max_excess: 60,
        ..SpotConfig::default()
    })
    .expect("valid");
    spot.fit(&xs[..2000]).expect("fit");
    let mut anomalies = 0;
    for (k, line) in lines[1..].iter().enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 4, "{line}");
        let status = spot.step(xs[2000 + k]).expect("step");
        assert_eq!(f[0], (2000 + k).to_string());
        assert_eq!(f[1].parse::<f64>().ok(), Some(xs[2000 + k]));
        assert_eq!(f[2], status.as_str(), "index {}", 2000 + k);
        let z: f64 = f[3].parse().expect("threshold");
        assert_eq!(z.to_bits(), spot.anomaly_threshold().to_bits());
        anomalies += usize::from(f[2] == "anomaly");
    }
    // The spikes (every 401st value, +9 sigma) are flagged.
    assert!(anomalies >= 7, "{anomalies}");
}

#[test]
fn a_bad_number_exits_2_and_names_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("values.txt");
    let mut text: String = values(3000, 2).iter().map(|x| format!("{x}\n")).collect();
    // Line 2501 (1-based) is garbage, after the training part.
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2500, "12.5.3");
    text = lines.join("\n");
    std::fs::write(&file, text).expect("write");

    let out = nectar(&["--fit", "2000", file.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2501") && err.contains("12.5.3"), "{err}");

    // In the training part too, and for non-finite values.
    std::fs::write(&file, "1\n2\nNaN\n4\n").expect("write");
    let out = nectar(&["--fit", "3", file.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3"));
}

#[test]
fn bad_parameters_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("values.txt");
    write_values(&file, &values(3000, 3));
    let path = file.to_str().expect("utf-8 path");
    for (args, needle) in [
        (vec!["--level", "1.5"], "--level"),
        (vec!["--q", "0.5"], "--q"),
        (vec!["--q", "-1"], "--q"),
        (vec!["--max-excess", "0"], "--max-excess"),
        (vec!["--q", "abc"], "--q"),
        (vec!["--fit", "5000"], "--fit"),
        (vec!["--fit", "2"], "--fit"),
        (vec!["--column", "0"], "--column"),
    ] {
        let mut all = args.clone();
        all.push(path);
        let out = nectar(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let out = nectar(&["/nonexistent/values.txt"]);
    assert_eq!(out.status.code(), Some(2));
    // Constant data cannot be fitted: a clear message, exit 2.
    std::fs::write(&file, "3\n".repeat(3000)).expect("write");
    let out = nectar(&[path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("constant"));
}

#[test]
fn csv_column_by_name_stdin_and_json_lines() {
    let xs = values(3000, 4);
    let mut csv = String::from("time,rate,other\n");
    for (i, x) in xs.iter().enumerate() {
        csv.push_str(&format!("{i},{x:?},zz\n"));
    }
    let mut child = Command::new(BIN)
        .args([
            "spot", "--column", "rate", "--fit", "1000", "--json", "--depth", "20", "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(csv.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 2000);
    for (k, line) in lines.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        assert_eq!(v["index"], 1000 + k);
        // serde_json's default float parser may be off by an ulp.
        let value = v["value"].as_f64().unwrap_or(f64::NAN);
        assert!((value - xs[1000 + k]).abs() <= 1e-15 * xs[1000 + k].abs().max(1.0));
        assert!(["normal", "excess", "anomaly"].contains(&v["status"].as_str().unwrap_or("")));
        assert!(v["threshold"].as_f64().is_some_and(f64::is_finite));
    }

    // Column by number, header skipped; a missing column names the line.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("v.csv");
    std::fs::write(&file, &csv).expect("write");
    let out = nectar(&[
        "--column",
        "2",
        "--fit",
        "1000",
        file.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success());
    assert_eq!(stdout_lines(&out).len(), 2001);
    let out = nectar(&[
        "--column",
        "7",
        "--fit",
        "1000",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
}

#[test]
fn same_flags_as_libspot_python_module() {
    let Ok(python) = std::env::var("NECTAR_LIBSPOT_PYTHON") else {
        eprintln!("NECTAR_LIBSPOT_PYTHON not set: skipping the comparison with libspot");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("values.txt");
    let xs = values(8000, 5);
    write_values(&file, &xs);
    let path = file.to_str().expect("utf-8 path");
    for (low, discard) in [(false, true), (true, true), (false, false)] {
        let mut args = vec![
            "--fit",
            "3000",
            "--q",
            "1e-3",
            "--level",
            "0.97",
            "--max-excess",
            "80",
        ];
        if low {
            args.push("--low");
        }
        if !discard {
            args.push("--no-discard");
        }
        args.push(path);
        let ours = nectar(&args);
        assert!(ours.status.success());
        let script = format!(
            "import libspot\n\
             xs = [float(l) for l in open({path:?})]\n\
             s = libspot.Spot(1e-3, low={}, discard_anomalies={}, level=0.97, max_excess=80)\n\
             s.fit(xs[:3000])\n\
             print('\\n'.join(str(s.step(x)) for x in xs[3000:]))\n",
            if low { "True" } else { "False" },
            if discard { "True" } else { "False" },
        );
        let theirs = Command::new(&python)
            .args(["-c", &script])
            .output()
            .expect("run python");
        assert!(
            theirs.status.success(),
            "{}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        let codes: Vec<String> = String::from_utf8_lossy(&theirs.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        let ours: Vec<String> = stdout_lines(&ours)[1..]
            .iter()
            .map(|l| match l.split(',').nth(2) {
                Some("normal") => "0".to_string(),
                Some("excess") => "1".to_string(),
                Some("anomaly") => "2".to_string(),
                other => panic!("bad status {other:?}"),
            })
            .collect();
        assert_eq!(ours, codes, "low={low} discard={discard}");
    }
}
