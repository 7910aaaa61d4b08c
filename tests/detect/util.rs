//! Helpers: the binary, tool checks (skip locally, fail under CI=true),
//! RFC 3339 parsing.

use std::path::Path;
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_nectar");

/// Runs `nectar --data-dir DIR ARGS...` to completion.
pub fn nectar(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("NECTAR_CONFIG")
        .output()
        .expect("run nectar")
}

/// Whether a program is on PATH (or in /usr/sbin, /sbin).
pub fn have(tool: &str) -> bool {
    let path = std::env::var("PATH").unwrap_or_default() + ":/usr/sbin:/sbin";
    path.split(':')
        .any(|d| !d.is_empty() && Path::new(d).join(tool).is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// True when the test can run. Missing root or tools: skip locally (false),
/// fail under `CI=true`.
pub fn require(what: &str, tools: &[&str], root: bool) -> bool {
    let mut missing: Vec<String> = tools
        .iter()
        .filter(|t| !have(t))
        .map(|t| t.to_string())
        .collect();
    if root && !is_root() {
        missing.push("root".into());
    }
    if missing.is_empty() {
        return true;
    }
    let message = format!("{what}: needs {}", missing.join(", "));
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message} (CI=true: .ci/run installs them)");
    }
    eprintln!("skipped: {message}");
    false
}

/// `2026-11-24T04:44:23.600000Z` → ns since the epoch.
pub fn rfc3339_ns(text: &str) -> i128 {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    t.unix_timestamp_nanos()
}

/// Parses the JSON lines of `nectar analyze --json`.
pub fn events(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}
