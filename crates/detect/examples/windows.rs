//! Prints one line per window for a capture: `windows FILE [WIDTH_MS]`.
//!
//! A quick look at what the detectors see, and a one-shot throughput figure
//! (packets/s) on stderr.
use std::time::{Duration, Instant};

use nectar_detect::{Class, Dim, Stat, WindowConfig, WindowReport, Windower, run_file};
use nectar_packet::{DecodeErrors, FileReader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: windows FILE [WIDTH_MS] [--quiet]")?;
    let width: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let quiet = args.next().as_deref() == Some("--quiet");
    let mut reader = FileReader::open(&path)?;
    let mut w = Windower::new(&WindowConfig {
        width: Duration::from_millis(width),
        ..WindowConfig::default()
    })?;
    let mut errors = DecodeErrors::default();
    let mut emit = |r: &WindowReport| {
        if quiet {
            return;
        }
        let stats: Vec<String> = r
            .stats
            .iter()
            .filter(|(s, _)| *s != Stat::Perf)
            .map(|(s, v)| format!("{}={v:.3}", s.name()))
            .collect();
        let top: Vec<String> = r
            .top(Class::Ip, Dim::Src)
            .iter()
            .take(3)
            .map(|c| format!("{}:{:.2}", c.key, c.share))
            .collect();
        println!(
            "{} {} pkts={} {} top_src=[{}]",
            r.index,
            r.start_ns,
            r.counts[nectar_detect::Counter::Pkts],
            stats.join(" "),
            top.join(",")
        );
    };
    let t = Instant::now();
    let result = run_file(&mut reader, &mut w, &mut errors, &mut emit);
    w.finish(&mut emit);
    let secs = t.elapsed().as_secs_f64();
    let n = reader.packets_read();
    eprintln!(
        "{n} packets, {} bytes in {secs:.3} s: {:.2} Mpkt/s, {:.0} MB/s; {} windows; decode errors {}",
        reader.bytes_read(),
        n as f64 / secs / 1e6,
        reader.bytes_read() as f64 / secs / 1e6,
        w.stats().windows,
        errors.total()
    );
    result?;
    Ok(())
}
