//! What sessions leave on disk: recordings played by the real `asciinema`, with
//! real OpenSSH and paramiko clients.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nectar_capture::asciicast::{self, Frame, Header};
use nectar_event::{Event, Kind};
use nectar_honeypot::capture::RecordingsConfig;
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
