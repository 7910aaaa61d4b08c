//! What honeypot sessions leave on disk, end to end: a real OpenSSH session against
//! `nectar serve`, then `nectar replay` of its recording.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::{Server, nectar};

/// Whether `tool` runs; panics under CI when it does not.
pub fn have(tool: &str, probe: &[&str]) -> bool {
    let ok = Command::new(tool)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{tool} is needed by this test (see .ci/run)");
    }
    if !ok {
        eprintln!("skipping: {tool} not installed");
    }
    ok
}

/// An interactive OpenSSH session with a terminal, `input` typed after login.
pub fn openssh_shell(addr: &str, user: &str, password: &str, input: &[u8]) -> String {
    let (host, port) = addr.rsplit_once(':').unwrap();
    let mut child = Command::new("timeout")
        .args(["30", "sshpass", "-p", password, "ssh", "-tt"])
        .args(["-o", "StrictHostKeyChecking=no"])
        .args(["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"])
        .args(["-o", "PubkeyAuthentication=no", "-p", port])
        .arg(format!("{user}@{host}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    stdin.write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every event of the data directory's JSON-lines log.
pub fn logged_events(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn replay_plays_a_recorded_session_without_its_dangerous_escapes() {
    if !have("sshpass", &["-V"]) || !have("ssh", &["-V"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start(&data, None);
    let ssh = server.ssh_addr.clone().expect("the SSH honeypot runs");
    let typed = b"printf '\\e]0;owned\\a\\e]52;c;ZXZpbA==\\a\\e[31mRED\\e[0m\\n'\nexit\n";
    let shown = openssh_shell(&ssh, "root", "123456", typed);
    assert!(shown.contains("\x1b[31mRED"), "{shown}");
    assert!(server.sigterm().success());

    let events = logged_events(&data);
    let close = events
        .iter()
        .find(|e| e["kind"] == "session.close" && e["data"]["recording"].is_string())
        .expect("a session.close event naming its recording");
    let session = close["data"]["session"].as_str().unwrap();
    let relative = close["data"]["recording"].as_str().unwrap();
    assert!(data.join(relative).is_file());

    let out = nectar(&data, &["replay", "--speed", "1000", session]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let played = String::from_utf8_lossy(&out.stdout);
    assert!(played.contains("\x1b[31mRED\x1b[0m"), "{played:?}");
    // The typed command is echoed, but no OSC (title, clipboard) reaches stdout.
    assert!(!played.contains("\x1b]"), "{played:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--raw"));

    // By path, raw: byte for byte, title sequence included.
    let path = data.join(relative);
    let out = nectar(
        &data,
        &["replay", "--raw", "--max-idle", "0", path.to_str().unwrap()],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("\x1b]0;owned\x07"));

    // Mistakes: exit 2 and a message naming what to fix.
    for (args, word) in [
        (&["replay", "nosuchsession"][..], "nosuchsession"),
        (&["replay", "--speed", "0", session], "--speed"),
        (&["replay", "../../etc/passwd.cast"], "no such recording"),
    ] {
        let out = nectar(&data, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(word),
            "{args:?}"
        );
    }
}
