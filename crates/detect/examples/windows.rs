//! Prints one line per window for a capture: `windows FILE [WIDTH_MS]`.
//!
//! A quick look at what the detectors see, and a one-shot throughput figure
//! (packets/s) on stderr.
use std::time::{Duration, Instant};

use std::ops::ControlFlow;

use nectar_detect::{Class, Dim, Driver, Stat, WindowConfig, WindowReport, Windower};
use nectar_packet::{FileReader, PacketSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: windows FILE [WIDTH_MS] [--quiet]")?;
    let width: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let quiet = args.next().as_deref() == Some("--quiet");
    let mut source = PacketSource::File(FileReader::open(&path)?);
    let mut driver = Driver::new(Windower::new(&WindowConfig {
        width: Duration::from_millis(width),
        ..WindowConfig::default()
    })?);
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
    let mut bytes = 0;
    let result = driver.run(&mut source, &mut emit, &mut |p| {
        bytes = p.bytes_read;
        ControlFlow::Continue(())
    });
    driver.finish(&mut emit);
    let secs = t.elapsed().as_secs_f64();
    let n = driver.packets();
    if let PacketSource::File(reader) = &source {
        bytes = reader.bytes_read();
    }
    eprintln!(
        "{n} packets, {bytes} bytes in {secs:.3} s: {:.2} Mpkt/s, {:.0} MB/s; {} windows; decode errors {}",
        n as f64 / secs / 1e6,
        bytes as f64 / secs / 1e6,
        driver.windower().stats().windows,
        driver.errors().total()
    );
    result?;
    Ok(())
}
