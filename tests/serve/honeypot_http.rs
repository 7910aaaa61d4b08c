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
