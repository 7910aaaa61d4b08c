//! The Telnet honeypot against a real socket client (`bot_client.py`, python3
//! stdlib only) that logs in with and without option negotiation and runs bot
//! command scripts (`bots/`), and against hostile byte streams: IAC floods,
//! endless subnegotiation, a 1 MB line, binary garbage, half-open connections.
//! Only 127.0.0.1, bounded counts and time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use nectar_bus::EventReceiver;
use nectar_bus::EventSender;
use nectar_event::{Event, Kind};
use nectar_honeypot::capture::{Capture, RecordingsConfig, UploadsConfig};
use nectar_honeypot::telnet::{TelnetHoneypot, TelnetHoneypotConfig};
use nectar_honeypot::{HoneypotContext, Machine};
use serde_json::Value;

use super::{have, of};

mod device;

struct Pot {
    honeypot: Option<TelnetHoneypot>,
    events: EventReceiver,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

async fn start(config: TelnetHoneypotConfig) -> Pot {
    let dir = tempfile::tempdir().unwrap();
    let (bus, events) = EventSender::channel(100_000);
    let config = TelnetHoneypotConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        hostname: "cam-3".into(),
        ..config
    };
    let capture = Capture::new(
        dir.path(),
        RecordingsConfig::default(),
        UploadsConfig::default(),
    )
    .unwrap();
    let machine = Machine::decide(&config.hostname, dir.path()).unwrap();
    let mut cx = HoneypotContext::new(dir.path(), "test", bus, machine);
    cx.capture = capture;
    let honeypot = TelnetHoneypot::start(config, &cx).await.unwrap();
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
    async fn finish(self) -> Vec<Event> {
        self.finish_keeping_files().await.0
    }

    /// The same, and the data directory (recordings) for the caller to read.
    async fn finish_keeping_files(mut self) -> (Vec<Event>, tempfile::TempDir) {
        if let Some(h) = self.honeypot.take() {
            h.stop(Duration::from_secs(10)).await;
        }
        let mut out = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            out.push(e);
        }
        (out, self.dir)
    }
}

fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/telnet")
}

/// Runs `bot_client.py PORT MODE USER PASSWORD [SCRIPT]` and parses its JSON.
fn bot(addr: SocketAddr, mode: &str, user: &str, password: &str, script: Option<&str>) -> Value {
    let mut cmd = Command::new("timeout");
    cmd.args(["120", "python3"])
        .arg(here().join("bot_client.py"))
        .arg(addr.port().to_string())
        .args([mode, user, password]);
    if let Some(script) = script {
        cmd.arg(here().join("bots").join(script));
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "bot_client.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

const SCRIPTS: &[&str] = &[
    "mirai_loader.txt",
    "gafgyt_dropper.txt",
    "echo_loader.txt",
    "recon.txt",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_with_and_without_negotiation_log_in_and_run_their_scripts() {
    if !have("python3", &["-V"]) {
        return;
    }
    let pot = start(TelnetHoneypotConfig::default()).await;
    let addr = pot.addr;
    let runs = tokio::task::spawn_blocking(move || {
        let mut runs = Vec::new();
        for (i, script) in SCRIPTS.iter().enumerate() {
            let mode = ["negotiate", "raw", "burst"][i % 3];
            runs.push((
                mode,
                *script,
                bot(addr, mode, "root", "123456", Some(script)),
            ));
        }
        // Every mode with every script would be 12 runs; the other modes run the
        // Mirai script too.
        for mode in ["raw", "burst"] {
            runs.push((
                mode,
                "mirai_loader.txt",
                bot(addr, mode, "admin", "admin", Some("mirai_loader.txt")),
            ));
        }
        runs
    })
    .await
    .unwrap();

    let mut not_found = Vec::new();
    let mut commands = 0;
    for (mode, script, run) in &runs {
        assert_eq!(run["login"], "ok", "{mode} {script}: {run}");
        for r in run["results"].as_array().unwrap() {
            commands += 1;
            let out = r["out"].as_str().unwrap();
            // A bot's made-up applet is meant to be "not found": that is the
            // answer it checks for. Anything else is a miss of the emulation.
            let without_sentinels = out.replace(": applet not found", "");
            if without_sentinels.contains("not found") {
                not_found.push(format!("{mode} {script}: {} -> {out}", r["cmd"]));
            }
            if mode != &"burst" {
                assert_eq!(r["prompt"], true, "{mode} {script}: no prompt after {r}");
            }
        }
    }
    assert!(commands >= 60, "{commands}");
    assert!(not_found.len() <= 2, "{not_found:#?}");

    // What Mirai checks for: its applet answer, the ELF header of /bin/echo, and
    // the BusyBox banner.
    let mirai = &runs[0].2;
    assert!(
        mirai["banner"].as_str().unwrap().contains("BusyBox v1."),
        "{mirai}"
    );
    let answer = |cmd: &str| -> String {
        mirai["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["cmd"] == cmd)
            .map(|r| r["out"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{cmd} not run: {mirai}"))
    };
    assert_eq!(answer("/bin/busybox MIRAI"), "MIRAI: applet not found");
    assert!(answer("/bin/busybox cat /bin/echo").starts_with("\x7fELF"));
    assert!(answer("/bin/busybox cat /proc/mounts; /bin/busybox ECCHI").contains(" / "));
    assert_eq!(
        answer(
            "/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69/tmp' > /tmp/.nippon; /bin/busybox cat /tmp/.nippon; /bin/busybox rm /tmp/.nippon"
        ),
        "kami/tmp"
    );
    let probe = answer("/bin/busybox wget; /bin/busybox tftp; /bin/busybox ECCHI");
    assert!(
        probe.contains("Usage: wget") && probe.contains("Usage: tftp"),
        "{probe}"
    );

    let (events, dir) = pot.finish_keeping_files().await;
    let data_dir = dir.path();
    let ok = of(&events, Kind::TelnetLoginSuccess);
    assert_eq!(ok.len(), runs.len());
    // Every shell was recorded in asciicast v2, named by its close event.
    for close in of(&events, Kind::SessionClose) {
        let file = close.data["recording"].as_str().expect("a recording");
        let cast = std::fs::read_to_string(data_dir.join(file)).unwrap();
        assert!(cast.starts_with("{\"version\":2"), "{cast}");
        assert!(cast.contains("built-in shell (ash)"), "{file}: {cast}");
        assert!(cast.contains(", \"i\", \""), "{file}: {cast}");
    }
    assert!(
        ok.iter()
            .any(|e| e.data["username"] == "admin" && e.data["password"] == "admin")
    );
    assert!(ok.iter().all(|e| e.data["protocol"] == "telnet"));
    // The negotiating client told its window size.
    assert!(
        ok.iter()
            .any(|e| e.data["width"] == 80 && e.data["height"] == 24)
    );
    let typed = of(&events, Kind::TelnetCommand);
    assert!(typed.len() >= commands, "{} < {commands}", typed.len());
    assert!(
        typed
            .iter()
            .any(|e| e.data["input"] == "/bin/busybox ECCHI")
    );
    let urls: Vec<&str> = of(&events, Kind::TelnetDownload)
        .iter()
        .map(|e| e.data["url"].as_str().unwrap())
        .collect();
    for url in [
        "http://198.51.100.23:80/bins/mirai.x86",
        "http://198.51.100.7/bins.sh",
        "tftp://198.51.100.7/tftp1.sh",
        "tftp://198.51.100.7/tftp2.sh",
        "tftp://198.51.100.9/mips",
    ] {
        assert!(urls.contains(&url), "{url} not in {urls:?}");
    }
    // Each connection: connect, close, and every event with its session id.
    assert_eq!(of(&events, Kind::SessionConnect).len(), runs.len());
    let closes = of(&events, Kind::SessionClose);
    assert_eq!(closes.len(), runs.len());
    assert!(closes.iter().any(|e| e.data["negotiated"] == true));
    assert!(closes.iter().any(|e| e.data["negotiated"] == false));
    for e in &events {
        if e.kind != Kind::SensorStatus {
            assert_eq!(e.data["session"].as_str().map(str::len), Some(12), "{e:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_events_with_username_and_password() {
    if !have("python3", &["-V"]) {
        return;
    }
    let pot = start(TelnetHoneypotConfig::default()).await;
    let addr = pot.addr;
    let runs = tokio::task::spawn_blocking(move || {
        ["negotiate", "raw", "burst"]
            .iter()
            .map(|mode| bot(addr, mode, "root", &format!("vizxv-{mode}"), None))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for run in &runs {
        assert_eq!(run["login"], "refused", "{run}");
    }
    // Three refusals on one connection: `login` gives up, like BusyBox's.
    let transcript = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"root\r\nxc3511\r\nadmin\r\n\r\nsupport\r\nsupport\r\n")
            .unwrap();
        let mut all = Vec::new();
        let _ = s.read_to_end(&mut all);
        String::from_utf8_lossy(&all).into_owned()
    })
    .await
    .unwrap();
    assert_eq!(
        transcript.matches("Login incorrect").count(),
        3,
        "{transcript}"
    );
    assert!(transcript.contains("cam-3 login: "), "{transcript}");
    // The password is never echoed.
    assert!(!transcript.contains("xc3511"), "{transcript}");

    let events = pot.finish().await;
    let failed = of(&events, Kind::TelnetLoginFailed);
    assert_eq!(failed.len(), 6, "{failed:?}");
    for mode in ["negotiate", "raw", "burst"] {
        assert!(
            failed
                .iter()
                .any(|e| e.data["username"] == "root"
                    && e.data["password"] == format!("vizxv-{mode}")),
            "{mode}: {failed:?}"
        );
    }
    assert!(
        failed
            .iter()
            .any(|e| e.data["username"] == "admin" && e.data["password"] == "")
    );
    assert!(
        failed
            .iter()
            .any(|e| e.summary == "support/support refused")
    );
    assert!(
        of(&events, Kind::SensorStatus)
            .iter()
            .any(|e| e.data["limit"] == "max_auth_attempts")
    );
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Sends `chunks` (a generator of up to `total` bytes) and reads whatever comes
/// back until the server closes; returns the bytes received.
fn blast(addr: SocketAddr, total: usize, chunk: impl Fn(usize) -> Vec<u8>) -> usize {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let reader = {
        let mut r = s.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut n = 0;
            let mut buf = [0u8; 65536];
            while let Ok(k) = r.read(&mut buf) {
                if k == 0 {
                    break;
                }
                n += k;
            }
            n
        })
    };
    let mut sent = 0;
    let mut i = 0;
    while sent < total {
        let c = chunk(i);
        i += 1;
        if s.write_all(&c).is_err() {
            break; // closed by the server at its limit
        }
        sent += c.len();
    }
    let _ = s.shutdown(std::net::Shutdown::Write);
    reader.join().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_streams_end_at_limits_without_growing_memory() {
    let config = TelnetHoneypotConfig {
        max_session_bytes: 2 * 1024 * 1024,
        idle_timeout_seconds: 2,
        login_grace_seconds: 3,
        ..Default::default()
    };
    let pot = start(config).await;
    let addr = pot.addr;
    let before = rss_kib();
    let (received, half_open) = tokio::task::spawn_blocking(move || {
        let mut received = Vec::new();
        // 1. IAC flood: every option requested and refused, over and over.
        received.push(blast(addr, 4 << 20, |i| {
            (0..4096)
                .flat_map(|j| [255, [251, 252, 253, 254][(i + j) % 4], (j % 256) as u8])
                .collect()
        }));
        // 2. A subnegotiation that never ends.
        received.push(blast(addr, 4 << 20, |i| {
            let mut c = if i == 0 {
                vec![255, 250, 24, 0]
            } else {
                Vec::new()
            };
            c.extend(std::iter::repeat_n(b'A', 65536));
            c
        }));
        // 3. Binary garbage (xorshift bytes, IACs included).
        received.push(blast(addr, 4 << 20, |i| {
            let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ i as u64;
            (0..65536)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect()
        }));
        // 4. A 1 MB line as the user name, and 1 MB lines in the shell.
        received.push(blast(addr, 1 << 20, |_| vec![b'u'; 65536]));
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"root\r\n123456\r\n").unwrap();
        let mut line = vec![b'x'; 1 << 20];
        line.extend_from_slice(b"\r\necho still-here\r\n");
        s.write_all(&line).unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 65536];
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
            // The echo of pipelined input comes first, as a tty echoes input as
            // it arrives; the command's answer is followed by the prompt.
            if String::from_utf8_lossy(&seen).contains(" # still-here\r\n~ # ") {
                break;
            }
        }
        assert!(
            String::from_utf8_lossy(&seen).contains(" # still-here\r\n~ # "),
            "the shell stopped answering after a long line: {:?}",
            String::from_utf8_lossy(&seen[seen.len().saturating_sub(300)..])
        );
        drop(s);
        // 5. Half-open: connected, silent, then connected with our side shut.
        let silent = TcpStream::connect(addr).unwrap();
        let shut = TcpStream::connect(addr).unwrap();
        shut.shutdown(std::net::Shutdown::Write).unwrap();
        let started = Instant::now();
        let mut closed = 0;
        for mut s in [silent, shut] {
            s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
            let mut sink = Vec::new();
            if s.read_to_end(&mut sink).is_ok() {
                closed += 1;
            }
        }
        (received, (closed, started.elapsed()))
    })
    .await
    .unwrap();
    let after = rss_kib();
    // Each blast got a prompt at least, and the server ended it.
    assert!(received.iter().all(|&n| n > 0), "{received:?}");
    assert_eq!(half_open.0, 2, "half-open connections were not closed");
    assert!(half_open.1 < Duration::from_secs(12), "{:?}", half_open.1);
    // 17 MB went through; the process must not have kept it.
    assert!(
        after < before + 48 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
    // Still serving after all that.
    let ok = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"root\r\n123456\r\nexit\r\n").unwrap();
        let mut all = Vec::new();
        let _ = s.read_to_end(&mut all);
        String::from_utf8_lossy(&all).contains("BusyBox")
    })
    .await
    .unwrap();
    assert!(ok);

    let events = pot.finish().await;
    let reasons: Vec<&str> = of(&events, Kind::SessionClose)
        .iter()
        .map(|e| e.data["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .filter(|r| **r == "max_session_bytes")
            .count()
            >= 2,
        "{reasons:?}"
    );
    assert!(reasons.contains(&"login_grace_seconds") || reasons.contains(&"idle_timeout_seconds"));
    let limits: Vec<&str> = of(&events, Kind::SensorStatus)
        .iter()
        .filter_map(|e| e.data["limit"].as_str())
        .collect();
    assert!(limits.contains(&"max_line_bytes"), "{limits:?}");
    assert!(limits.contains(&"max_session_bytes"), "{limits:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_echoed_into_a_file_is_an_upload_stored_by_sha256() {
    if !have("python3", &["-V"]) {
        return;
    }
    let pot = start(TelnetHoneypotConfig::default()).await;
    let addr = pot.addr;
    let run = tokio::task::spawn_blocking(move || {
        bot(addr, "raw", "root", "123456", Some("echo_loader.txt"))
    })
    .await
    .unwrap();
    assert_eq!(run["login"], "ok", "{run}");
    let (events, dir) = pot.finish_keeping_files().await;
    let uploads = of(&events, Kind::TelnetUpload);
    // `echo -ne ... > .s` then `>> .s`: one event per command line, the file as
    // it stands after the line.
    let last = uploads.last().expect("a telnet.upload event");
    let content = b"\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00";
    use sha2::Digest;
    let sha = nectar_capture::uploads::hex(&sha2::Sha256::digest(content));
    assert_eq!(last.data["path"], "/var/tmp/.s");
    assert_eq!(last.data["via"], "shell");
    assert_eq!(last.data["sha256"], sha.as_str());
    let stored = std::fs::read(dir.path().join(last.data["file"].as_str().unwrap())).unwrap();
    assert_eq!(stored, content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_telnet_client_negotiates_and_runs_a_debian_shell() {
    if !have("telnet", &["--version"]) {
        return;
    }
    let pot = start(TelnetHoneypotConfig {
        profile: nectar_honeypot::telnet::TelnetProfile::Debian,
        ..Default::default()
    })
    .await;
    let addr = pot.addr;
    let transcript = tokio::task::spawn_blocking(move || {
        let mut child = Command::new("timeout")
            .args(["30", "telnet", "127.0.0.1", &addr.port().to_string()])
            .env("TERM", "vt100")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // Typed at a person's pace, each line after the previous answer.
        for line in [
            "root",
            "123456",
            "uname -a",
            "cat /bin/echo",
            "nosuchcmd",
            "exit",
        ] {
            std::thread::sleep(Duration::from_millis(700));
            stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        }
        std::thread::sleep(Duration::from_millis(700));
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
    .await
    .unwrap();
    assert!(
        transcript.contains("Debian GNU/Linux 12\r\n"),
        "{transcript}"
    );
    assert!(transcript.contains("cam-3 login: root"), "{transcript}");
    assert!(
        !transcript.contains("123456"),
        "password echoed: {transcript}"
    );
    assert!(
        transcript.contains("root@cam-3:~# uname -a\r\nLinux cam-3 "),
        "{transcript}"
    );
    // The Debian VM's binaries are x86-64 (ELFCLASS64, e_machine 0x3e).
    assert!(transcript.contains("x86_64 GNU/Linux\r\n"), "{transcript}");
    assert!(
        transcript.contains("\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0"),
        "{transcript}"
    );
    assert!(
        transcript.contains("-bash: nosuchcmd: command not found"),
        "{transcript}"
    );
    let events = pot.finish().await;
    let ok = of(&events, Kind::TelnetLoginSuccess);
    assert_eq!(ok.len(), 1);
    // The client answered our DO TTYPE and the SEND that followed.
    assert_eq!(
        ok[0].data["term"]
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("vt100"),
        "{:?}",
        ok[0].data
    );
    let typed = of(&events, Kind::TelnetCommand);
    let nosuch = typed
        .iter()
        .find(|e| e.data["input"] == "nosuchcmd")
        .unwrap();
    assert_eq!(nosuch.data["unknown"], serde_json::json!(["nosuchcmd"]));
    assert_eq!(of(&events, Kind::SessionClose)[0].data["negotiated"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_caps_refuse_and_report() {
    let pot = start(TelnetHoneypotConfig {
        max_connections: 3,
        max_connections_per_ip: 2,
        ..Default::default()
    })
    .await;
    let addr = pot.addr;
    let third_closed = tokio::task::spawn_blocking(move || {
        let mut held: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
        // Both got their prompt: they are sessions, not queued connections.
        for s in &mut held {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = [0u8; 256];
            assert!(s.read(&mut buf).unwrap() > 0);
        }
        let mut third = TcpStream::connect(addr).unwrap();
        third
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut all = Vec::new();
        let _ = third.read_to_end(&mut all);
        all.is_empty()
    })
    .await
    .unwrap();
    assert!(
        third_closed,
        "a third connection from one address is closed unanswered"
    );
    let events = pot.finish().await;
    let refusal = of(&events, Kind::SensorStatus)
        .into_iter()
        .find(|e| e.data["limit"] == "max_connections_per_ip")
        .expect("a refusal event");
    assert_eq!(refusal.data["protocol"], "telnet");
    assert_eq!(refusal.data["refused_max_connections_per_ip"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scanner_probes_are_probes_not_user_names() {
    let config = TelnetHoneypotConfig {
        failure_delay_ms: 0,
        ..Default::default()
    };
    let pot = start(config).await;
    let addr = pot.addr;
    // nmap's own probes (nmap-service-probes), sent as nmap sends them, and a
    // TLS ClientHello; then a bot that logs in for real.
    tokio::task::spawn_blocking(move || {
        let probes: [&[u8]; 4] = [
            b"GET / HTTP/1.0\r\n\r\n",
            b"OPTIONS sip:nm SIP/2.0\r\nVia: SIP/2.0/TCP nm;branch=foo\r\nFrom: <sip:nm@nm>;tag=root\r\nTo: <sip:nm2@nm2>\r\nCall-ID: 50000\r\nCSeq: 42 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\nContact: <sip:nm@nm>\r\nAccept: application/sdp\r\n\r\n",
            b"\x16\x03\x00\x00S\x01\x00\x00O\x03\x00?G\xd7\xf7\xba,\xee\xea\xb2`~\xf3\x00\xfd\x82{\xb9\xd5\x96\xc8w\x9b\xe6\xc4\xdb<=\xdbo\xef\x10n\x00\x00(\x00\x16\x00\x13\x00\n\x00f\x00\x05\x00\x04\x00e\x00d\x00c\x00b\x00a\x00`\x00\x15\x00\x12\x00\t\x00\x14\x00\x11\x00\x08\x00\x06\x00\x03\x01\x00",
            b"root\r\nadmin\r\n",
        ];
        for probe in probes {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(probe).unwrap();
            let _ = s.shutdown(std::net::Shutdown::Write);
            let mut all = Vec::new();
            let _ = s.read_to_end(&mut all);
        }
    })
    .await
    .unwrap();
    // And nmap itself, when installed (CI installs it).
    let nmap = super::have("nmap", &["--version"]);
    if nmap {
        let port = addr.port().to_string();
        let out = tokio::task::spawn_blocking(move || {
            Command::new("timeout")
                .args(["180", "nmap", "-sV", "-Pn", "-n", "-p", &port, "127.0.0.1"])
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
    }
    let events = pot.finish().await;
    let probes = of(&events, Kind::TelnetProbe);
    let named = |name: &str| probes.iter().any(|e| e.data["probe"] == name);
    assert!(named("http") && named("sip") && named("tls"), "{probes:?}");
    assert!(
        probes.iter().any(|e| e.data["line"] == "GET / HTTP/1.0"),
        "{probes:?}"
    );
    let logins: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind.category().is_login())
        .collect();
    // Only the bot's attempt is a login; no probe line became a credential.
    for login in &logins {
        assert_eq!(login.data["username"], "root", "{login:?}");
        assert_eq!(login.data["password"], "admin", "{login:?}");
    }
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert!(
        of(&events, Kind::SessionClose)
            .iter()
            .any(|e| e.data["probe"] == "sip" && e.data["probe_lines"].as_u64() > Some(2))
    );
    if nmap {
        assert!(probes.len() >= 4, "{probes:?}");
    }
}
