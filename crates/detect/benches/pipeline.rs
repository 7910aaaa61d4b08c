//! File → decode → counters/windows throughput of the one packet driver
//! ([`nectar_detect::Driver`], what `analyze` and `serve` run) on a generated capture of
//! 5 M packets (written to the temp directory once, never to the repo).
//!
//! `NECTAR_BENCH_PCAP=/path/file.pcap` benchmarks another file instead.
use std::io::BufWriter;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nectar_detect::{Driver, Ended, WindowConfig, Windower};
use nectar_packet::synth::{MixConfig, write_mix_pcap};
use nectar_packet::{DecodeErrors, FileReader, PacketSource};

const PACKETS: u64 = 5_000_000;

fn capture() -> PathBuf {
    if let Ok(p) = std::env::var("NECTAR_BENCH_PCAP") {
        return PathBuf::from(p);
    }
    let path = std::env::temp_dir().join(format!("nectar-bench-{PACKETS}.pcap"));
    if !path.exists() {
        let tmp = path.with_extension("partial");
        let f = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).expect("create"));
        write_mix_pcap(
            f,
            MixConfig {
                packets: PACKETS,
                ..MixConfig::default()
            },
        )
        .expect("write capture");
        std::fs::rename(&tmp, &path).expect("rename");
    }
    path
}

fn count_packets(path: &PathBuf) -> u64 {
    let mut r = FileReader::open(path).expect("open");
    let mut n = 0;
    while r.next_packet().expect("read").is_some() {
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let path = capture();
    let packets = count_packets(&path);
    let bytes = std::fs::metadata(&path).expect("stat").len();
    eprintln!(
        "capture {}: {packets} packets, {bytes} bytes",
        path.display()
    );

    let mut g = c.benchmark_group("file_decode_counters");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(packets));
    for width_ms in [1000u64, 100] {
        g.bench_function(format!("pcap_window_{width_ms}ms"), |b| {
            b.iter(|| {
                let mut source = PacketSource::File(FileReader::open(&path).expect("open"));
                let mut driver = Driver::new(
                    Windower::new(&WindowConfig {
                        width: Duration::from_millis(width_ms),
                        ..WindowConfig::default()
                    })
                    .expect("config"),
                );
                let mut windows = 0u64;
                let mut emit = |_: &nectar_detect::WindowReport| windows += 1;
                let ended = driver
                    .run(&mut source, &mut emit, &mut |_| ControlFlow::Continue(()))
                    .expect("run");
                driver.finish(&mut emit);
                assert_eq!(ended, Ended::EndOfInput);
                assert_eq!(driver.packets(), packets);
                windows
            })
        });
    }
    g.bench_function("pcap_read_decode_only", |b| {
        b.iter(|| {
            let mut reader = FileReader::open(&path).expect("open");
            let mut errors = DecodeErrors::default();
            while let Some(p) = reader.next_packet().expect("read") {
                errors.record_meta(&p.decode().meta);
            }
            errors.total()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
