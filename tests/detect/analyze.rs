//! `nectar analyze` on generated captures: a SYN flood in stationary mixed
//! traffic, models saved and reused, short baselines, `--store`, and the
//! refusals (exit 2 naming the flag).

use std::io::Write;
use std::net::IpAddr;
use std::path::Path;

use nectar_packet::LinkType;
use nectar_packet::synth::{Framing, Layer4, Mix, MixConfig, PcapWriter, build};

use crate::util::{events, nectar, rfc3339_ns};

const START: u64 = 1_800_000_000_000_000_000;
const FLOOD: (u64, u64) = (START + 40_000_000_000, START + 45_000_000_000);

/// `secs` of mixed traffic at 2,000 packets/s; with `flood`, a SYN flood of
/// 20,000 packets/s from 198.51.100.66 to port 80 during [`FLOOD`].
pub fn capture(path: &Path, secs: u64, seed: u64, flood: bool) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = PcapWriter::new(
        std::io::BufWriter::new(file),
        LinkType::Ethernet,
        65535,
        true,
        false,
    )
    .unwrap();
    let mut mix = Mix::new(MixConfig {
        packets: secs * 2_000,
        start_ns: START,
        rate_pps: 2_000,
        sources: 300,
        destinations: 50,
        seed,
        ..MixConfig::default()
    });
    let mut buf = Vec::new();
    let mut next_flood = FLOOD.0;
    let attacker: IpAddr = "198.51.100.66".parse().unwrap();
    let victim: IpAddr = "10.0.0.80".parse().unwrap();
    let mut sport = 1024u16;
    while let Some((ts, frame)) = mix.next_packet() {
        let frame = frame.to_vec();
        while flood && next_flood < FLOOD.1 && next_flood <= ts {
            sport = sport.wrapping_add(1).max(1024);
            let n = build(
                &mut buf,
                Framing::Ethernet,
                attacker,
                victim,
                Layer4::Tcp {
                    sport,
                    dport: 80,
                    flags: 0x02,
                },
                0,
            );
            w.write_packet(next_flood, &buf[..n], n as u32).unwrap();
            next_flood += 50_000;
        }
        w.write_packet(ts, &frame, frame.len() as u32).unwrap();
    }
    w.finish().unwrap().flush().unwrap();
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn syn_flood_in_generated_traffic_models_and_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let base = dir.path().join("base.pcap");
    let attack = dir.path().join("attack.pcap");
    capture(&base, 240, 7, false);
    capture(&attack, 90, 8, true);
    let model = dir.path().join("model.json");

    let out = nectar(
        &data,
        &[
            "analyze",
            "--baseline",
            s(&base),
            "--window",
            "500ms",
            "--json",
            "--save-model",
            s(&model),
            s(&attack),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // 480 windows of baseline: fewer than depth 50 + n_init 1000, said and adapted.
    assert!(
        stderr.contains("fewer than depth 50 + n_init 1000"),
        "{stderr}"
    );
    assert!(stderr.contains("Decode errors: none"), "{stderr}");
    let alarms = events(&out.stdout);
    // An alarm covers [window_start, window_end): one window, or 10 or 100 of
    // them for the longer scales. It is inside when that span meets the flood.
    let inside = |e: &serde_json::Value| {
        let ws = rfc3339_ns(e["data"]["window_start"].as_str().unwrap());
        let we = rfc3339_ns(e["data"]["window_end"].as_str().unwrap());
        we > FLOOD.0 as i128 - 500_000_000 && ws < FLOOD.1 as i128
    };
    let (hits, outside): (Vec<_>, Vec<_>) = alarms.iter().partition(|e| inside(e));
    assert!(
        hits.iter().any(|e| e["data"]["stat"] == "R_SYN"),
        "{stderr}"
    );
    assert!(
        hits.iter().any(|e| e["data"]["stat"] == "TRAFFIC"),
        "{stderr}"
    );
    // The generator's traffic is scan-shaped at the longest scale: each
    // source touches ~63 hosts and ~30 ports, each destination hears from
    // hundreds of sources on ~30 ports, and 240 s of baseline hold barely
    // five independent 50 s spans. One long-scale alarm per view and
    // measure family at p ~ 1e-5 is the floor here (SRC_PORTS/SRC_LOGINS
    // and DST_PORTS/DST_LOGINS at x100); none at the base scale.
    assert!(outside.len() <= 4, "alarms outside the flood: {outside:?}");
    assert!(
        outside.iter().all(|e| e["data"]["scale"] == 100),
        "alarms outside the flood: {outside:?}"
    );
    let syn = hits.iter().find(|e| e["data"]["stat"] == "R_SYN").unwrap();
    assert_eq!(syn["data"]["top_src"][0]["key"], "198.51.100.66");
    assert_eq!(syn["data"]["top_dst_port"][0]["key"], 80);
    assert_eq!(syn["src_ip"], "198.51.100.66");
    assert_eq!(syn["data"]["direction"], "up");
    let p = syn["data"]["probability"].as_f64().unwrap();
    assert!((0.0..1e-4).contains(&p), "{p}");

    // The saved model gives the same alarms without the baseline.
    let again = nectar(
        &data,
        &["analyze", "--model", s(&model), "--json", s(&attack)],
    );
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // Alarms of the longer scales (10 and 100 windows) depend on the windows
    // before the attack capture (their sums, and "one alarm per run beyond
    // the threshold"), which the model does not keep: it keeps thresholds,
    // not the baseline's last 100 windows. Every alarm of the base window
    // must be the same. (Saving the per-source sliding state with the model
    // is open in issue #23.)
    let own = |e: &&serde_json::Value| e["data"]["scale"].as_u64().unwrap_or(1) == 1;
    let mut a: Vec<_> = alarms.iter().filter(own).map(|e| e["id"].clone()).collect();
    // `--store` below runs with the model: it stores what this run found.
    let model_alarms = events(&again.stdout).len();
    let mut b: Vec<_> = events(&again.stdout)
        .iter()
        .filter(own)
        .map(|e| e["id"].clone())
        .collect();
    assert!(!a.is_empty());
    a.sort_by_key(|v| v.to_string());
    b.sort_by_key(|v| v.to_string());
    assert_eq!(a, b);
    // A different window than the model's is refused.
    let out = nectar(
        &data,
        &[
            "analyze",
            "--model",
            s(&model),
            "--window",
            "1s",
            s(&attack),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--window"));

    // --store: the alarms become events, once.
    for round in 0..2 {
        let out = nectar(
            &data,
            &["analyze", "--model", s(&model), "--store", s(&attack)],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("R_SYN") && stdout.contains("198.51.100.66"),
            "{stdout}"
        );
        let expect = if round == 0 {
            format!("Stored {model_alarms} alarm event(s) (0 already there)")
        } else {
            format!("Stored 0 alarm event(s) ({model_alarms} already there)")
        };
        assert!(stderr.contains(&expect), "{stderr}");
    }
    let log = std::fs::read_to_string(data.join("events.jsonl")).unwrap();
    assert_eq!(
        log.lines().filter(|l| l.contains("net.alarm")).count(),
        model_alarms
    );
}

#[test]
fn without_baseline_says_it_is_still_learning() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("c.pcap");
    capture(&cap, 20, 3, false);
    let out = nectar(dir.path(), &["analyze", "--window", "1s", s(&cap)]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("R_SYN: still learning ("), "{stdout}");
    assert!(stdout.contains(" of 1050 windows"), "{stdout}");
    assert!(stdout.contains("Windows: 21 of 1s"), "{stdout}");
}

#[test]
fn bad_input_exits_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("c.pcap");
    capture(&cap, 5, 3, false);
    let cases: [(&[&str], &str); 5] = [
        (&["analyze", "--window", "fast", s(&cap)], "--window"),
        (&["analyze", "--stat", "R_SIN", s(&cap)], "--stat"),
        (&["analyze", "nope.pcap"], "nope.pcap"),
        (&["analyze", "--model", "nope.json", s(&cap)], "--model"),
        (&["analyze", "--window", "0ms", s(&cap)], "--window"),
    ];
    for (args, flag) in cases {
        let out = nectar(dir.path(), args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
    // A truncated file: what was read is reported, then the error.
    let bytes = std::fs::read(&cap).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 30]).unwrap();
    let out = nectar(dir.path(), &["analyze", s(&cut)]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("Packets: "), "{stdout}");
    assert!(
        stderr.contains("packets before it were analysed"),
        "{stderr}"
    );
    // A file that is not a capture.
    let junk = dir.path().join("junk.pcap");
    std::fs::write(&junk, b"hello world, not a capture at all").unwrap();
    let out = nectar(dir.path(), &["analyze", s(&junk)]);
    assert_eq!(out.status.code(), Some(2));
}
