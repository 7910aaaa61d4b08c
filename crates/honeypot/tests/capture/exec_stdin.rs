//! The input of an `exec` (`ssh host 'cat > f' < file`, the dropper without scp):
//! kept whole as an upload, with OpenSSH and paramiko, and the fake filesystem
//! reports the real size of a file it keeps only the beginning of.

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use nectar_event::Kind;
use nectar_honeypot::ssh::SshHoneypotConfig;

use super::super::{have, of, python_with_paramiko, start};
use super::{keep_dir, sample, sha256_hex, start_with_file_limit, stored_files, uploads};

/// OpenSSH's `ssh` running `command` with `input` on its stdin.
fn ssh_with_stdin(addr: SocketAddr, command: &str, input: &[u8]) -> std::process::Output {
    let port = addr.port().to_string();
    let mut child = Command::new("timeout")
        .args(["30", "sshpass", "-p", "123456", "ssh"])
        .args(["-o", "StrictHostKeyChecking=no"])
        .args(["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"])
        .args(["-o", "PubkeyAuthentication=no", "-p", &port])
        .arg("root@127.0.0.1")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_stdin_is_an_upload_with_openssh_and_paramiko() {
    if !have("sshpass", &["-V"]) || !have("ssh", &["-V"]) {
        return;
    }
    let Some(py) = python_with_paramiko() else {
        return;
    };
    let mut pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let port = addr.port();
    let tmp = keep_dir(&mut pot);
    let dir = tmp.path().to_owned();
    let local = tempfile::tempdir().unwrap();
    // Larger than what the fake filesystem keeps of a file (64 KiB).
    let (_, bot) = sample(local.path(), "bot", 200_000, 7);
    let (_, other) = sample(local.path(), "other", 100_000, 8);
    let bot_sha = sha256_hex(&bot);
    let other_sha = sha256_hex(&other);
    let (dropper, script, decoder) = tokio::task::spawn_blocking(move || {
        (
            ssh_with_stdin(
                addr,
                "cat > /tmp/.x; chmod +x /tmp/.x; ls -l /tmp/.x; wc -c /tmp/.x",
                &bot,
            ),
            // A shell with no script reads its commands from the input.
            ssh_with_stdin(addr, "sh", b"echo from-script\nuname -s\n"),
            // Another command that copies its input: the input is an upload,
            // and so is the file it decodes to.
            ssh_with_stdin(
                addr,
                "base64 -d > /tmp/b; wc -c /tmp/b",
                b"IyEvYmluL3NoCmlkCg==\n",
            ),
        )
    })
    .await
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&decoder.stdout), "13 /tmp/b\n");
    let shown = String::from_utf8_lossy(&dropper.stdout);
    assert!(
        dropper.status.success(),
        "{shown} {}",
        String::from_utf8_lossy(&dropper.stderr)
    );
    assert!(
        shown.starts_with("-rwxr-xr-x 1 root root 200000 "),
        "{shown}"
    );
    assert!(shown.contains("\n200000 /tmp/.x\n"), "{shown}");
    let shown = String::from_utf8_lossy(&script.stdout);
    assert_eq!(shown, "from-script\nLinux\n");

    // paramiko: the input, then another command on the same connection sees the
    // file with its real size and hash.
    let code = format!(
        r#"
import paramiko, sys
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect("127.0.0.1", port={port}, username="root", password="123456", look_for_keys=False, allow_agent=False, timeout=10)
data = bytes((i * 2654435761 >> 24 & 0xff) ^ 8 for i in range(100000))
i, o, e = c.exec_command("cat > /tmp/p.bin")
i.write(data)
i.channel.shutdown_write()
print(o.channel.recv_exit_status())
_, o, _ = c.exec_command("ls -l /tmp/p.bin; sha256sum /tmp/p.bin; wc -c < /tmp/p.bin")
sys.stdout.write(o.read().decode())
c.close()
"#
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args(["30", py, "-c", &code])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with("0\n-rw-r--r-- 1 root root 100000 "),
        "{text}"
    );
    assert!(
        text.contains(&format!("{other_sha}  /tmp/p.bin\n")),
        "{text}"
    );

    let events = pot.finish().await;
    let ups = uploads(&events);
    assert_eq!(ups.len(), 4, "{ups:?}");
    let decoded = ups
        .iter()
        .find(|e| e.data["path"] == "/tmp/b")
        .expect("the decoded file");
    assert_eq!(decoded.data["via"], "shell");
    assert_eq!(decoded.data["sha256"], sha256_hex(b"#!/bin/sh\nid\n"));
    let encoded = ups
        .iter()
        .find(|e| e.data["via"] == "exec" && e.data["path"] == "")
        .expect("the input");
    assert_eq!(encoded.data["filename"], "-");
    assert_eq!(
        encoded.data["sha256"],
        sha256_hex(b"IyEvYmluL3NoCmlkCg==\n")
    );
    for (path, sha, size) in [
        ("/tmp/.x", &bot_sha, 200_000),
        ("/tmp/p.bin", &other_sha, 100_000),
    ] {
        let e = ups
            .iter()
            .find(|e| e.data["path"] == path)
            .unwrap_or_else(|| panic!("no upload of {path}: {ups:?}"));
        assert_eq!(e.data["via"], "exec");
        assert_eq!(e.data["filename"], path);
        assert_eq!(e.data["size"], size);
        assert_eq!(e.data["sha256"], **sha);
        assert_eq!(e.data["stored"], true);
        let stored = std::fs::read(dir.join(e.data["file"].as_str().unwrap())).unwrap();
        assert_eq!(stored.len(), size);
        assert_eq!(sha256_hex(&stored), **sha);
    }
    // The commands are events as well, the script's lines too.
    let commands: Vec<&str> = of(&events, Kind::SshExec)
        .iter()
        .chain(of(&events, Kind::SshCommand).iter())
        .filter_map(|e| e.data["input"].as_str())
        .collect();
    for want in ["cat > /tmp/p.bin", "sh", "echo from-script", "uname -s"] {
        assert!(commands.contains(&want), "{want}: {commands:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_stdin_over_the_size_limit_is_refused_and_logged() {
    if !have("sshpass", &["-V"]) || !have("ssh", &["-V"]) {
        return;
    }
    let (pot, tmp) = start_with_file_limit(10_000).await;
    let addr = pot.addr;
    let dir = tmp.path().to_owned();
    let local = tempfile::tempdir().unwrap();
    let (_, big) = sample(local.path(), "big", 50_000, 9);
    let big_sha = sha256_hex(&big);
    let out = tokio::task::spawn_blocking(move || ssh_with_stdin(addr, "cat > /tmp/big", &big))
        .await
        .unwrap();
    assert!(out.status.success());
    let events = pot.finish().await;
    let ups = uploads(&events);
    assert_eq!(ups.len(), 1, "{ups:?}");
    let e = ups[0];
    assert_eq!(e.data["stored"], false);
    assert_eq!(e.data["reason"], "max_file_bytes");
    assert_eq!(e.data["size"], 50_000);
    assert_eq!(e.data["sha256"], big_sha);
    assert_eq!(e.data["path"], "/tmp/big");
    assert!(stored_files(&dir).is_empty());
}
