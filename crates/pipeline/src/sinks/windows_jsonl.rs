//! `[sinks] windows_jsonl`: one JSON line per closed window with the packet
//! and byte counts and, per watched statistic, its value, thresholds and
//! state. Alarms are not written here: they are events, and the event log
//! has them.
//!
//! A failed write (full disk, removed directory) is counted as an error and
//! the window as dropped; it is logged once when writes start failing and
//! once when they work again, so a full disk neither floods the log nor
//! goes unnoticed.
#![forbid(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use nectar_detect::sources::SCALES;
use nectar_detect::{Counter, Stat, StatStatus, WindowReport};
use nectar_event::Timestamp;
use serde_json::{Map, Value, json};
use tracing::{info, warn};

use super::SinkStats;

/// The file could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("sinks.windows_jsonl {}: {source}", path.display())]
pub struct OpenError {
    /// The configured path.
    pub path: PathBuf,
    /// The operating system's reason.
    #[source]
    pub source: std::io::Error,
}

/// An open windows file, appended to.
#[derive(Debug)]
pub struct WindowsJsonl {
    file: BufWriter<File>,
    path: PathBuf,
    stats: Arc<SinkStats>,
    failing: bool,
}

impl WindowsJsonl {
    /// Opens (creates) `path` for appending.
    pub fn open(path: &Path) -> Result<WindowsJsonl, OpenError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| OpenError {
                path: path.to_owned(),
                source,
            })?;
        Ok(WindowsJsonl {
            file: BufWriter::new(file),
            path: path.to_owned(),
            stats: Arc::new(SinkStats::default()),
            failing: false,
        })
    }

    /// The counters.
    pub fn stats(&self) -> &Arc<SinkStats> {
        &self.stats
    }

    /// Appends the line of one window (flushed at once: a reader tailing the
    /// file sees each window as it closes).
    pub fn window(&mut self, r: &WindowReport, status: &[StatStatus]) {
        let line = window_line(r, status);
        let result = writeln!(self.file, "{line}").and_then(|()| self.file.flush());
        match result {
            Ok(()) => {
                self.stats.written.fetch_add(1, Ordering::Relaxed);
                if self.failing {
                    self.failing = false;
                    info!(path = %self.path.display(), "Windows JSON-lines writes work again.");
                }
            }
            Err(e) => {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                if !self.failing {
                    self.failing = true;
                    warn!(path = %self.path.display(), error = %e, "Cannot write the windows JSON-lines file; windows are dropped and counted.");
                }
            }
        }
    }
}

fn time(ns: u64) -> Option<String> {
    Timestamp::from_nanos(i128::from(ns)).map(|t| t.to_string())
}

/// `{"window_start", "window_end", "packets", "bytes", "stats": {NAME:
/// {value, up, down, state, scale}}}`; a per-source statistic also has
/// `src`, the source behind its value.
pub fn window_line(r: &WindowReport, status: &[StatStatus]) -> Value {
    let stats: Map<String, Value> = status
        .iter()
        .map(|s| {
            let info = Stat::from_name(s.stat).map(Stat::info);
            let mut v = json!({"value": s.value, "up": s.threshold_up, "down": s.threshold_down, "state": s.state, "scale": info.map_or(1, |i| i.scale)});
            let culprit = info.and_then(|i| {
                let m = i.measure?;
                let si = SCALES.iter().position(|&k| k == i.scale)?;
                r.sources.culprit[m as usize][si]
            });
            if let (Some(c), Some(o)) = (culprit, v.as_object_mut()) {
                o.insert("src".into(), Value::String(c.src.to_string()));
            }
            (s.stat.to_owned(), v)
        })
        .collect();
    json!({
        "window_start": time(r.start_ns),
        "window_end": time(r.end_ns),
        "packets": r.counts[Counter::Pkts],
        "bytes": r.counts[Counter::Bytes],
        "stats": stats,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use nectar_detect::{DetectConfig, Driver, Monitors, WindowConfig, Windower};
    use nectar_packet::synth::{Mix, MixConfig, PcapWriter};
    use nectar_packet::{FileReader, PacketSource};

    /// The windows of a generated capture of `packets` packets at 1,000/s.
    pub(crate) fn reports(packets: u64) -> Vec<WindowReport> {
        let mut mix = Mix::new(MixConfig {
            packets,
            rate_pps: 1_000,
            ..MixConfig::default()
        });
        let mut w = PcapWriter::new(Vec::new(), mix.link_type(), 65535, true, false).unwrap();
        while let Some((ts, f)) = mix.next_packet() {
            w.write_packet(ts, f, f.len() as u32).unwrap();
        }
        let bytes = w.finish().unwrap();
        let reader = FileReader::from_reader(std::io::Cursor::new(bytes), "t").unwrap();
        let mut driver = Driver::new(Windower::new(&WindowConfig::default()).unwrap());
        let mut out = Vec::new();
        let mut emit = |r: &WindowReport| out.push(r.clone());
        driver
            .run(&mut PacketSource::File(reader), &mut emit, &mut |_| {
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        driver.finish(&mut emit);
        out
    }

    #[test]
    fn writes_a_line_per_window_and_counts_failures() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("windows.jsonl");
        let mut sink = WindowsJsonl::open(&path).unwrap();
        let monitors = Monitors::new(&DetectConfig::default()).unwrap();
        let reports = reports(3_000);
        for r in &reports {
            sink.window(r, &monitors.status());
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), reports.len());
        assert!(lines.len() >= 3, "{}", lines.len());
        let packets: u64 = lines.iter().map(|l| l["packets"].as_u64().unwrap()).sum();
        assert_eq!(packets, 3_000);
        assert_eq!(
            lines[0]["window_start"],
            time(reports[0].start_ns).unwrap().as_str()
        );
        assert_eq!(lines[0]["stats"]["R_SYN"]["state"], "learning");
        assert_eq!(sink.stats().counters().written, reports.len() as u64);

        // /dev/full refuses every write: counted, not ignored.
        if let Ok(mut full) = WindowsJsonl::open(Path::new("/dev/full")) {
            full.window(&reports[0], &monitors.status());
            let c = full.stats().counters();
            assert_eq!((c.written, c.dropped, c.errors), (0, 1, 1));
        }
    }
}
