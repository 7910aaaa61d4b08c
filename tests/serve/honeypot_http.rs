//! The HTTP honeypot inside `nectar serve`: its requests reach the store through
//! the bus, and a honeytoken read from its bait and tried as an SSH or Telnet
//! password is a `credential.reuse` event. Real curl and OpenSSH, loopback only.

use std::process::Command;
use std::time::Duration;

use crate::util::{Server, all_events, token};

fn have(tool: &str, package: &str) -> bool {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{tool} is needed by this test (apt-get install {package})");
    }
    if !ok {
        eprintln!("skipping: {tool} not installed");
    }
    ok
}

/// Waits until `query` returns at least `n` events (the writer batches).
fn wait_events(url: &str, token: &str, query: &str, n: usize) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let events = all_events(url, token, query);
        if events.len() >= n || std::time::Instant::now() > deadline {
            return events;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn honeytoken_from_http_bait_used_over_ssh_and_telnet_is_credential_reuse() {
    if !have("curl", "curl") || !have("sshpass", "sshpass") || !have("ssh", "openssh-client") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, None);
    let http = server
        .printed_after("HTTP honeypot listening on ")
        .expect("serve prints the HTTP honeypot's address");
    let ssh_port = server
        .printed_after("SSH honeypot listening on ")
        .and_then(|a| a.rsplit(':').next().map(str::to_owned))
        .expect("serve prints the SSH honeypot's address");
    assert!(http.starts_with("127.0.0.1:"), "{http}");
    // An attacker reads the exposed .env ...
    let env = Command::new("timeout")
        .args(["20", "curl", "-s", &format!("http://{http}/.env")])
        .output()
        .unwrap();
    let env = String::from_utf8_lossy(&env.stdout).into_owned();
    let password = env
        .lines()
        .find_map(|l| l.strip_prefix("DB_PASSWORD="))
        .expect("the bait holds DB_PASSWORD")
        .to_owned();
    assert!(password.len() >= 16);
    // ... and tries the password on SSH.
    let out = Command::new("timeout")
        .args(["30", "sshpass", "-p", &password, "ssh"])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args(["-o", "LogLevel=ERROR", "-o", "PubkeyAuthentication=no"])
        .args([
            "-o",
            "PreferredAuthentications=password",
            "-o",
            "NumberOfPasswordPrompts=1",
        ])
        .args(["-p", &ssh_port, "root@127.0.0.1", "id"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the honeytoken must not log in");
    // ... and on Telnet, the way raw-TCP bots do (no option negotiation).
    let telnet = server
        .telnet
        .expect("serve prints the Telnet honeypot's address");
    {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(telnet).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(format!("admin\r\n{password}\r\n").as_bytes())
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
    }
    let token = token(&data, "reader", "viewer");
    let reuse = wait_events(&server.url, &token, "kind=credential.reuse", 2);
    assert_eq!(reuse.len(), 2, "{reuse:#?}");
    let by = |protocol: &str| {
        reuse
            .iter()
            .find(|e| e["data"]["protocol"] == protocol)
            .unwrap_or_else(|| panic!("no {protocol} reuse in {reuse:#?}"))
            .clone()
    };
    let ssh = by("ssh");
    assert_eq!(ssh["data"]["token"], "db_password");
    assert_eq!(ssh["data"]["username"], "root");
    assert_eq!(ssh["severity"], "high");
    let telnet = by("telnet");
    assert_eq!(telnet["data"]["token"], "db_password");
    assert_eq!(telnet["data"]["username"], "admin");
    let requests = wait_events(&server.url, &token, "kind=http.request", 1);
    let bait = requests
        .iter()
        .find(|e| e["data"]["path"] == "/.env")
        .expect("the .env request is stored");
    assert_eq!(bait["data"]["persona"], "exposed_files");
    assert_eq!(bait["data"]["status"], 200);
    assert!(
        bait["data"]["classes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "cve-probe")
    );
}

/// What `hostname` answers in the SSH honeypot's shell (OpenSSH, `root:123456`).
fn ssh_hostname(port: &str) -> String {
    let out = Command::new("timeout")
        .args(["30", "sshpass", "-p", "123456", "ssh"])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args(["-o", "LogLevel=ERROR", "-o", "PubkeyAuthentication=no"])
        .args(["-o", "PreferredAuthentications=password"])
        .args(["-p", port, "root@127.0.0.1", "hostname"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The Telnet login prompt (`NAME login: `), read until it is complete.
fn telnet_prompt(addr: std::net::SocketAddr) -> String {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    while !String::from_utf8_lossy(&seen).contains("login: ") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// One machine behind every honeypot: the host name of the SSH shell is the one
/// the Telnet login and the HTTP bait pages (`/phpinfo.php`, `/server-status`)
/// show, whether `[honeypot.ssh] hostname` names it or it is generated, and a
/// generated one survives a restart.
#[test]
fn every_honeypot_shows_the_ssh_host_name() {
    if !have("curl", "curl") || !have("sshpass", "sshpass") || !have("ssh", "openssh-client") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nectar.toml");
    std::fs::write(&config, "[honeypot.ssh]\nhostname = \"web01\"\n").unwrap();
    let mut generated = None;
    for (run, config) in [(1, None), (2, Some(config.as_path())), (3, None)] {
        let data = dir.path().join("data");
        let server = Server::start(&data, config);
        let http = server
            .printed_after("HTTP honeypot listening on ")
            .expect("serve prints the HTTP honeypot's address");
        let ssh_port = server
            .ssh_addr
            .as_deref()
            .and_then(|a| a.rsplit(':').next())
            .expect("serve prints the SSH honeypot's address")
            .to_owned();
        let name = ssh_hostname(&ssh_port);
        match (run, &generated) {
            (1, _) => generated = Some(name.clone()),
            (2, _) => assert_eq!(name, "web01", "the configured name"),
            (_, Some(first)) => assert_eq!(&name, first, "the generated name is kept"),
            _ => unreachable!(),
        }
        assert!(
            !name.is_empty() && !name.contains(char::is_whitespace),
            "{name:?}"
        );
        let page = |path: &str| {
            let out = Command::new("timeout")
                .args(["20", "curl", "-s", &format!("http://{http}{path}")])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let phpinfo = page("/phpinfo.php");
        assert!(
            phpinfo.contains(&format!("Linux {name} 6.1")),
            "run {run}: {name} not in phpinfo"
        );
        let status = page("/server-status");
        assert!(
            status.contains(&format!("Apache Server Status for {name} ")),
            "run {run}: {name} not in server-status:\n{status}"
        );
        let telnet = server
            .telnet
            .expect("serve prints the Telnet honeypot's address");
        let prompt = telnet_prompt(telnet);
        assert!(
            prompt.contains(&format!("{name} login: ")),
            "run {run}: {prompt:?}"
        );
        drop(server);
    }
}

/// sqlmap, in its default batch mode, against the webapp persona of `nectar
/// serve`: it reports `/news.php?id=` injectable, and every request it sent is
/// stored as an `http.request` (counted through the API), each payload
/// classified `sqli`.
#[test]
fn sqlmap_finds_the_webapp_injectable_and_every_probe_is_stored_as_sqli() {
    if !have("sqlmap", "sqlmap") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("nectar.toml");
    // sqlmap is fast from one address: no per-address rate limit, so every
    // probe is answered and counted.
    std::fs::write(
        &config,
        "[honeypot.http]\nmax_requests_per_ip_per_second = 0\nmax_sleep_seconds = 10\n",
    )
    .unwrap();
    let server = Server::start(&data, Some(&config));
    let http = server
        .printed_after("HTTP honeypot listening on ")
        .expect("serve prints the HTTP honeypot's address");
    let home = dir.path().join("sqlmap-home");
    let traffic = dir.path().join("traffic.txt");
    let out = Command::new("timeout")
        .args(["150", "sqlmap", "-u"])
        .arg(format!("http://{http}/news.php?id=2"))
        .args(["--batch", "--flush-session", "--output-dir"])
        .arg(&home)
        .arg("-t")
        .arg(&traffic)
        .env("HOME", &home)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("GET parameter 'id' is vulnerable")
            || stdout.contains("Parameter: id (GET)"),
        "{stdout}"
    );
    assert!(stdout.contains("back-end DBMS: MySQL"), "{stdout}");
    let sent = std::fs::read_to_string(&traffic)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("HTTP request [#"))
        .count();
    assert!(sent > 20, "{sent} requests in sqlmap's log");
    let token = token(&data, "reader", "viewer");
    let stored: Vec<serde_json::Value> =
        wait_events(&server.url, &token, "kind=http.request", sent)
            .into_iter()
            .filter(|e| e["data"]["path"] == "/news.php")
            .collect();
    assert_eq!(stored.len(), sent, "every request sqlmap sent is stored");
    // Requests with only a plain value (`id=2`, sqlmap's `id=4821` dynamism
    // check) are the baseline; every other one is classified sqli.
    let payloads: Vec<&serde_json::Value> = stored
        .iter()
        .filter(|e| {
            let q = e["data"]["query"].as_str().unwrap_or("");
            !q.split('&').all(|p| {
                p.split_once('=')
                    .is_some_and(|(_, v)| v.bytes().all(|b| b.is_ascii_alphanumeric()))
            })
        })
        .collect();
    // (sqlmap repeats the plain request for its time statistics.)
    assert!(
        payloads.len() * 2 > sent,
        "{} payloads of {sent}",
        payloads.len()
    );
    for e in &payloads {
        let classes = e["data"]["classes"].as_array().unwrap();
        assert!(
            classes.iter().any(|c| c == "sqli"),
            "not classified sqli: {}",
            e["data"]["query"]
        );
        assert_eq!(e["data"]["persona"], "webapp");
    }
}
