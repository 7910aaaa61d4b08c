//! Lookup throughput: 20 reputation lists of 1,000,000 IPv4 prefixes each
//! (random, /16 to /32), alone and with GeoIP + ASN from MaxMind's test MMDB
//! files, on one core, for random addresses (no cache: every lookup walks the
//! table and the MMDB tree). Run: `cargo bench -p nectar-enrich --bench lookup`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Instant;

use nectar_enrich::{EnrichConfig, Enricher, ListTable, Prefixes};

const LISTS: usize = 20;
const PREFIXES: usize = 1_000_000;
const LOOKUPS: usize = 5_000_000;

fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let mut r = rng(0x9e37_79b9_7f4a_7c15);
    let t = Instant::now();
    let lists: Vec<Prefixes> = (0..LISTS)
        .map(|_| {
            let v4 = (0..PREFIXES)
                .map(|_| {
                    let a = r() as u32;
                    let len = 16 + (r() % 17) as u32;
                    let host = u32::MAX.checked_shr(len).unwrap_or(0);
                    (a & !host, (a & !host) | host)
                })
                .collect();
            Prefixes::from_ranges(v4, Vec::new())
        })
        .collect();
    let refs: Vec<&Prefixes> = lists.iter().collect();
    let table = ListTable::build(&refs);
    println!(
        "built {LISTS} lists x {PREFIXES} prefixes: {} segments in {:.1} s",
        table.segments(),
        t.elapsed().as_secs_f64()
    );
    let addrs: Vec<IpAddr> = (0..LOOKUPS)
        .map(|_| IpAddr::V4(Ipv4Addr::from(r() as u32)))
        .collect();

    let mut runs = Vec::new();
    let mut hits = 0u64;
    for _ in 0..5 {
        let t = Instant::now();
        for a in &addrs {
            hits += u64::from(black_box(table.lookup(black_box(*a))) != 0);
        }
        runs.push(LOOKUPS as f64 / t.elapsed().as_secs_f64());
    }
    println!(
        "lists only: median {:.2} M lookups/s (uncached, random addresses; {} hits)",
        median(runs) / 1e6,
        hits / 5
    );

    // With GeoIP + ASN (MaxMind's test databases) on top: Tables::lookup.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/maxmind");
    let config = EnrichConfig {
        city: Some(data.join("GeoLite2-City-Test.mmdb")),
        asn: Some(data.join("GeoLite2-ASN-Test.mmdb")),
        ..EnrichConfig::default()
    };
    let enricher = Enricher::load(config).expect("test databases");
    let geo = enricher.tables();
    let mut runs = Vec::new();
    let mut found = 0u64;
    for _ in 0..5 {
        let t = Instant::now();
        for a in &addrs {
            let e = geo.lookup(black_box(*a));
            found += u64::from(e.geo.is_some());
            found += u64::from(black_box(table.lookup(*a)) != 0);
        }
        runs.push(LOOKUPS as f64 / t.elapsed().as_secs_f64());
    }
    println!(
        "MMDB city + ASN + 20 lists: median {:.2} M lookups/s (uncached, random addresses; {} found)",
        median(runs) / 1e6,
        found / 5
    );
    // Addresses the test databases know (every lookup decodes a record).
    let known: Vec<IpAddr> = [
        "81.2.69.142",
        "1.128.0.1",
        "2.125.160.216",
        "89.160.20.128",
        "216.160.83.56",
        "12.81.92.1",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .cycle()
    .take(1_000_000)
    .collect();
    let mut runs = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        for a in &known {
            let e = geo.lookup(black_box(*a));
            black_box((e.geo, e.asn));
            black_box(table.lookup(*a));
        }
        runs.push(known.len() as f64 / t.elapsed().as_secs_f64());
    }
    println!(
        "MMDB city + ASN + 20 lists, addresses with records (decoded): median {:.2} M lookups/s",
        median(runs) / 1e6
    );
}
