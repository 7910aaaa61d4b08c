//! `nectar rules` (check, list, test) and `nectar ctl alerts` against a real
//! server: errors name the file and line with exit 2; `test` replays a
//! JSON-lines file and shows what would have been raised; ctl lists, shows,
//! acknowledges, assigns and closes alerts.

use std::process::Command;

use serde_json::{Value, json};

use crate::stream::wait_for_lag_zero;
use crate::util::{BIN, Server, client, nectar, token};

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn rules_check_list_and_test() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("good.yml"),
        "title: root tried\nid: t-root\nlogsource: {product: nectar, service: ssh}\n\
         detection:\n  sel: {kind: ssh.login.failed, username: root}\n  condition: sel\nlevel: low\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("bad.yml"),
        "title: fine\nid: t-fine\nlogsource: {product: nectar}\ndetection:\n  sel: {kind: x}\n  condition: sel\n\
         ---\ntitle: broken\nid: t-broken\nlogsource: {product: nectar}\ndetection:\n  sel: {kind|nosuchmodifier: x}\n  condition: sel\n",
    )
    .unwrap();
    let out = nectar(
        &data,
        &["rules", "check", rules.join("good.yml").to_str().unwrap()],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let out = nectar(&data, &["rules", "check", rules.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{:?}", text(&out));
    let (_, err) = text(&out);
    let bad = rules.join("bad.yml");
    assert!(
        err.contains(&format!("{}:8:", bad.display())),
        "the error names file and line: {err}"
    );
    assert!(err.contains("nosuchmodifier"), "{err}");
    let out = nectar(&data, &["rules", "check", "/no/such/folder"]);
    assert_eq!(out.status.code(), Some(2));

    let out = nectar(&data, &["rules", "list"]);
    assert!(out.status.success());
    let (list, _) = text(&out);
    assert!(
        list.contains("nectar.ssh-brute-force") && list.contains("T1110.001"),
        "{list}"
    );

    // Twelve failed logins from one source, one from another, as JSON lines.
    let events = dir.path().join("events.jsonl");
    let mut lines = String::new();
    for i in 0..12 {
        lines.push_str(
            &json!({"kind": "ssh.login.failed", "summary": "x", "src_ip": "203.0.113.7",
                    "time": format!("2026-12-01T10:00:{i:02}Z"), "data": {"username": "root"}})
            .to_string(),
        );
        lines.push('\n');
    }
    lines.push_str(
        &json!({"kind": "ssh.login.failed", "summary": "x", "src_ip": "198.51.100.1",
                "time": "2026-12-01T10:01:00Z", "data": {"username": "admin"}})
        .to_string(),
    );
    lines.push('\n');
    std::fs::write(&events, lines).unwrap();
    let out = nectar(
        &data,
        &[
            "rules",
            "test",
            rules.join("good.yml").to_str().unwrap(),
            "--builtin",
            "--json",
            "--events",
            events.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let (stdout, _) = text(&out);
    let raised: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let brute: Vec<&Value> = raised
        .iter()
        .filter(|a| a["rule"] == "nectar.ssh-brute-force")
        .collect();
    assert_eq!(brute.len(), 1, "{raised:?}");
    assert_eq!(brute[0]["count"], 12);
    let root: Vec<&Value> = raised.iter().filter(|a| a["rule"] == "t-root").collect();
    assert_eq!(root.len(), 1);
    assert_eq!(root[0]["count"], 12);
    std::fs::write(&events, "{not json\n").unwrap();
    let out = nectar(
        &data,
        &["rules", "test", "--events", events.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("line 1"), "{:?}", text(&out));
}

#[test]
fn ctl_alerts_list_show_ack_assign_close() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let analyst = token(&data, "soc", "analyst");
    let server = Server::start(&data, None);
    let failures: Vec<Value> = (0..10)
        .map(|i| {
            json!({"kind": "ssh.login.failed", "summary": format!("f{i}"),
                        "src_ip": "203.0.113.50", "data": {"username": "root"}})
        })
        .collect();
    let posted = client()
        .post(format!("{}/api/v1/events", server.url))
        .bearer_auth(&analyst)
        .json(&failures)
        .send()
        .unwrap();
    assert!(posted.status().is_success());
    wait_for_lag_zero(&server.url, &analyst, &["rules"]);
    let ctl = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(["ctl", "--url", &server.url, "--token", &analyst])
            .args(args)
            .env_remove("NECTAR_URL")
            .env_remove("NECTAR_TOKEN")
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .output()
            .unwrap();
        text(&out).0 + &text(&out).1 + &format!("\nexit {:?}", out.status.code())
    };
    let list = ctl(&["alerts", "list", "--status", "new"]);
    assert!(list.contains("SSH brute force: 203.0.113.50"), "{list}");
    let body: Value = client()
        .get(format!("{}/api/v1/alerts", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = body["alerts"][0]["id"].as_str().unwrap().to_owned();
    let show = ctl(&["alerts", "show", &id]);
    assert!(
        show.contains("T1110.001") && show.contains("ssh.login.failed"),
        "{show}"
    );
    assert!(ctl(&["alerts", "ack", &id]).contains("1 alert(s) updated"));
    assert!(ctl(&["alerts", "assign", &id, "--to", "ana"]).contains("1 alert(s) updated"));
    let refused = ctl(&["alerts", "close", &id, "--resolution", "maybe"]);
    assert!(refused.contains("exit Some(2)"), "{refused}");
    assert!(ctl(&["alerts", "close", &id, "--resolution", "true_positive"]).contains("updated"));
    let show = ctl(&["--json", "alerts", "show", &id]);
    let json_part = show.lines().next().unwrap();
    let alert: Value = serde_json::from_str(json_part).unwrap();
    assert_eq!(
        (&alert["status"], &alert["assignee"], &alert["resolution"]),
        (&json!("closed"), &json!("ana"), &json!("true_positive"))
    );
}
