//! Enrichment against real MMDB files: our own fixtures in each vendor's schema
//! (tests/data/make_fixtures.py, written with the PyPI mmdb-writer), MaxMind's
//! published test databases (from the PyPI maxminddb 3.2.0 sdist, Apache-2.0 OR
//! MIT, licences beside them), and corrupt files; lists reloaded from files
//! and from a local HTTP server.

use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use nectar_enrich::config::EnrichSection;
use nectar_enrich::geo::MmdbFile;
use nectar_enrich::{EnrichConfig, Enricher};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn config(text: &str) -> EnrichConfig {
    let section: EnrichSection = toml::from_str(text).unwrap();
    section.build(None).unwrap()
}

fn lit(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

#[test]
fn three_vendor_schemas_and_maxmind_test_dbs() {
    let city = MmdbFile::open(&data("GeoLite2-City-fixture.mmdb")).unwrap();
    let g = city.geo(ip("198.51.100.20"));
    assert_eq!(
        (g.country_code, g.country, g.city),
        (Some("NL"), Some("Netherlands"), Some("Amsterdam"))
    );
    assert_eq!(city.geo(ip("2001:db8:1::9")).city, Some("Berlin"));
    assert!(city.geo(ip("192.0.2.1")).is_empty());
    assert!(city.info.attribution.contains("MaxMind"));

    let asn = MmdbFile::open(&data("GeoLite2-ASN-fixture.mmdb")).unwrap();
    let a = asn.asn(ip("198.51.100.20"));
    assert_eq!(
        (a.number, a.organization),
        (Some(64500), Some("Example Transit B.V."))
    );
    assert_eq!(asn.asn(ip("2001:db8:1::1")).number, Some(64501));

    let dbip = MmdbFile::open(&data("dbip-city-lite-fixture.mmdb")).unwrap();
    let g = dbip.geo(ip("203.0.113.9"));
    assert_eq!((g.country_code, g.city), (Some("JP"), Some("Tokyo")));
    assert!(dbip.info.attribution.contains("DB-IP"));

    let ipinfo = MmdbFile::open(&data("ipinfo-lite-fixture.mmdb")).unwrap();
    let g = ipinfo.geo(ip("192.0.2.7"));
    assert_eq!(
        (g.country_code, g.country, g.city),
        (Some("FR"), Some("France"), None)
    );
    let a = ipinfo.asn(ip("192.0.2.7"));
    assert_eq!(
        (a.number, a.organization),
        (Some(64502), Some("Example Lite SAS"))
    );
    assert!(ipinfo.info.attribution.contains("IPinfo"));

    // MaxMind's own test databases.
    let mm = MmdbFile::open(&data("maxmind/GeoLite2-City-Test.mmdb")).unwrap();
    let g = mm.geo(ip("81.2.69.142"));
    assert_eq!((g.country_code, g.city), (Some("GB"), Some("London")));
    assert!(mm.info.build_epoch > 1_600_000_000);
    let mm = MmdbFile::open(&data("maxmind/GeoLite2-ASN-Test.mmdb")).unwrap();
    let a = mm.asn(ip("1.128.0.1"));
    assert_eq!(
        (a.number, a.organization),
        (Some(1221), Some("Telstra Pty Ltd"))
    );
}

#[test]
fn corrupt_databases_are_clear_errors() {
    for name in [
        "truncated.mmdb",
        "maxmind/cyclic-data-structure.mmdb",
        "maxmind/invalid-string-length.mmdb",
        "maxmind/libmaxminddb-corrupt-search-tree.mmdb",
        "make_fixtures.py",
        "no-such-file.mmdb",
    ] {
        let err = MmdbFile::open(&data(name)).unwrap_err().to_string();
        assert!(
            err.contains(name.rsplit('/').next().unwrap()),
            "{name}: {err}"
        );
        // And through the configuration: the key is named.
        let c = config(&format!("[geoip]\ncity = {}\n", lit(&data(name))));
        let err = Enricher::load(c).unwrap_err().to_string();
        assert!(err.starts_with("geoip.city: "), "{err}");
    }
}

#[test]
fn lookups_combine_geo_asn_and_lists() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("scanners.netset");
    std::fs::write(&list, "# FireHOL-style\n198.51.0.0/16\n2001:db8::/32\n").unwrap();
    let tsv = dir.path().join("ip2asn.tsv");
    std::fs::write(&tsv, "203.0.113.0\t203.0.113.255\t64510\tJP\tEXAMPLE-TSV\n").unwrap();
    let c = config(&format!(
        "[geoip]\ncity = {}\nasn_tsv = {}\n[[lists]]\nname = \"scan\"\ncategory = \"scanner\"\npath = {}\n",
        lit(&data("GeoLite2-City-fixture.mmdb")),
        lit(&tsv),
        lit(&list)
    ));
    let e = Enricher::load(c).unwrap();
    let t = e.snapshot();
    let r = t.lookup(ip("198.51.100.20"));
    assert_eq!(r.geo.unwrap().country_code, Some("NL"));
    assert_eq!(
        r.lists.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["scan"]
    );
    let r = t.lookup(ip("198.51.3.3"));
    assert!(r.geo.is_none());
    assert_eq!(r.lists.len(), 1, "every address of the /16");
    assert_eq!(t.lookup(ip("2001:db8:ffff::1")).lists.len(), 1, "v6 too");
    assert_eq!(t.lookup(ip("203.0.113.1")).asn.unwrap().number, Some(64510));
    assert!(t.lookup(ip("192.0.2.1")).lists.is_empty());
    let json = serde_json::to_value(t.lookup(ip("198.51.100.20"))).unwrap();
    assert_eq!(json["geo"]["city"], "Amsterdam");
    assert_eq!(json["lists"][0]["category"], "scanner");
    let status = e.status();
    assert_eq!(status.lists[0].entries, 2);
    assert!(status.lists[0].last_good.is_some());
}

#[test]
fn changed_files_reload_and_a_broken_one_keeps_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("l.txt");
    let city = dir.path().join("city.mmdb");
    std::fs::write(&list, "192.0.2.0/24\n").unwrap();
    std::fs::copy(data("GeoLite2-City-fixture.mmdb"), &city).unwrap();
    let c = config(&format!(
        "[geoip]\ncity = {}\n[[lists]]\nname = \"l\"\ncategory = \"known-attacker\"\npath = {}\n",
        lit(&city),
        lit(&list)
    ));
    let e = Enricher::load(c).unwrap();
    assert_eq!(e.snapshot().lookup(ip("192.0.2.1")).lists.len(), 1);
    assert!(!e.check(), "nothing changed");
    // Changed (different length, so the stamp differs even within one mtime tick).
    std::fs::write(&list, "203.0.113.0/24\n2001:db8::/32\n").unwrap();
    std::fs::copy(data("dbip-city-lite-fixture.mmdb"), &city).unwrap();
    assert!(e.check());
    let t = e.snapshot();
    assert!(t.lookup(ip("192.0.2.1")).lists.is_empty());
    assert_eq!(t.lookup(ip("203.0.113.1")).lists.len(), 1);
    assert_eq!(t.lookup(ip("203.0.113.1")).geo.unwrap().city, Some("Tokyo"));
    drop(t);
    // Broken: an HTML page and a truncated database. The old stay, and say so.
    std::fs::write(&list, "<html>\n<body>oops</body>\n</html>\n").unwrap();
    std::fs::write(&city, b"not an mmdb at all").unwrap();
    assert!(!e.check());
    let t = e.snapshot();
    assert_eq!(t.lookup(ip("203.0.113.1")).lists.len(), 1);
    assert_eq!(t.lookup(ip("203.0.113.1")).geo.unwrap().city, Some("Tokyo"));
    let s = e.status();
    assert!(
        s.lists[0].error.as_deref().unwrap().contains("not a list"),
        "{s:?}"
    );
    assert_eq!(s.lists[0].entries, 2);
    assert!(
        s.databases[0]
            .error
            .as_deref()
            .unwrap()
            .contains("not a valid MaxMind DB")
    );
}

/// A one-thread HTTP server on loopback answering each request with the
/// current (status, body); counts requests.
fn serve(reply: Arc<Mutex<(u16, String)>>, hits: Arc<AtomicUsize>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(1000) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            hits.fetch_add(1, Ordering::SeqCst);
            let (code, body) = reply.lock().unwrap().clone();
            let _ = write!(
                s,
                "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}/drop.txt")
}

#[test]
fn url_lists_refresh_and_a_failed_download_keeps_the_old() {
    let reply = Arc::new(Mutex::new((
        200u16,
        "; Spamhaus DROP\n198.51.100.0/24 ; SBL1\n".to_owned(),
    )));
    let hits = Arc::new(AtomicUsize::new(0));
    let url = serve(reply.clone(), hits.clone());
    let dir = tempfile::tempdir().unwrap();
    let section: EnrichSection = toml::from_str(&format!(
        "check_every = \"1s\"\n[[lists]]\nname = \"drop\"\ncategory = \"spam\"\nurl = \"{url}\"\nrefresh = \"1s\"\n"
    ))
    .unwrap();
    let e = Enricher::start(section.build(Some(dir.path().to_owned())).unwrap()).unwrap();
    let wait = |want: &dyn Fn() -> bool| {
        for _ in 0..100 {
            if want() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        false
    };
    assert!(wait(&|| e
        .snapshot()
        .lookup(ip("198.51.100.1"))
        .lists
        .len()
        == 1));
    assert!(dir.path().join("drop.list").exists(), "a good copy is kept");
    // The list changes upstream: taken without a restart.
    *reply.lock().unwrap() = (200, "203.0.113.0/24 ; SBL2\n".into());
    assert!(wait(
        &|| e.snapshot().lookup(ip("203.0.113.1")).lists.len() == 1
    ));
    assert!(e.snapshot().lookup(ip("198.51.100.1")).lists.is_empty());
    // The server fails: the old list stays, and the status says why.
    *reply.lock().unwrap() = (503, "busy".into());
    let before = hits.load(Ordering::SeqCst);
    assert!(wait(
        &|| hits.load(Ordering::SeqCst) > before + 1 && e.status().lists[0].error.is_some()
    ));
    assert_eq!(e.snapshot().lookup(ip("203.0.113.1")).lists.len(), 1);
    assert!(
        e.status().lists[0]
            .error
            .as_deref()
            .unwrap()
            .contains("503")
    );
    // A restart while the server is down uses the kept copy.
    let e2 = Enricher::load(section.build(Some(dir.path().to_owned())).unwrap()).unwrap();
    assert_eq!(e2.snapshot().lookup(ip("203.0.113.1")).lists.len(), 1);
}

#[test]
fn own_networks_on_a_list_are_reported_once_and_private_never() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("level1.netset");
    std::fs::write(&list, "10.0.0.0/8\n192.168.0.0/16\n198.51.100.64/26\n").unwrap();
    let c = config(&format!(
        "[[lists]]\nname = \"firehol_level1\"\ncategory = \"known-attacker\"\npath = {}\n",
        lit(&list)
    ));
    let e = Enricher::load(c).unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    e.watch_own_networks(
        &[
            "10.1.0.0/16".into(),
            "198.51.100.0/24".into(),
            "2001:db8::/48".into(),
        ],
        move |hits| sink.lock().unwrap().extend(hits),
    );
    {
        let hits = got.lock().unwrap();
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].range, "198.51.100.64-198.51.100.127");
        assert_eq!(hits[0].list.name, "firehol_level1");
    }
    // Reloaded with the same content: not reported again.
    std::fs::write(&list, "10.0.0.0/8\n198.51.100.64/26\n192.168.0.0/16\n# x\n").unwrap();
    e.check();
    assert_eq!(got.lock().unwrap().len(), 1);
    // Only private ranges of ours listed: nothing.
    std::fs::write(&list, "10.0.0.0/8\n").unwrap();
    e.check();
    assert_eq!(got.lock().unwrap().len(), 1);
}
