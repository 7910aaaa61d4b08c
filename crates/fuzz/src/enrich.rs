//! Enrichment's parsers: a downloaded reputation list is a third party's bytes
//! (a hostile or broken feed must not crash or mislead us), and so is an MMDB
//! file.

use std::net::IpAddr;
use std::path::Path;

use nectar_enrich::geo::MmdbFile;
use nectar_enrich::lists::{Format, ListTable, parse};

/// Every format over the same text: no panic, and every range a parse returns is
/// found again through the lookup table.
pub fn reputation_list(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for format in [
        Format::Auto,
        Format::Plain,
        Format::SpamhausJson,
        Format::FeodoCsv,
        Format::ThreatfoxCsv,
        Format::UrlhausCsv,
    ] {
        let Ok(parsed) = parse(&text, format, 10_000) else {
            continue;
        };
        let table = ListTable::build(&[&parsed.prefixes]);
        for &(s, e) in &parsed.prefixes.v4 {
            assert!(s <= e);
            assert_eq!(table.lookup(IpAddr::from(std::net::Ipv4Addr::from(s))), 1);
            assert_eq!(table.lookup(IpAddr::from(std::net::Ipv4Addr::from(e))), 1);
        }
        for &(s, e) in &parsed.prefixes.v6 {
            assert!(s <= e);
            let a = std::net::Ipv6Addr::from(s);
            if a.to_ipv4_mapped().is_none() {
                assert_eq!(table.lookup(IpAddr::from(a)), 1);
            }
        }
    }
}

/// Any bytes as an MMDB file: an error or a reader whose lookups never panic.
pub fn mmdb_file(data: &[u8]) {
    let Ok(file) = MmdbFile::from_bytes(data.to_vec(), Path::new("fuzz.mmdb")) else {
        return;
    };
    for ip in [
        "198.51.100.20",
        "1.128.0.1",
        "::1",
        "2001:db8::1",
        "0.0.0.0",
        "255.255.255.255",
    ] {
        let ip: IpAddr = ip.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let _ = file.geo(ip);
        let _ = file.asn(ip);
    }
}
