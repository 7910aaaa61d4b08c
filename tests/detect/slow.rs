//! Slow attacks that no single short window shows: an nmap TCP scan at
//! `-T2` (one probe every 0.4 s), an nmap UDP scan against a victim that
//! rate-limits its ICMP answers (Linux's default), and hydra guessing SSH
//! passwords with four tasks against a real OpenSSH server — each hidden in
//! benign traffic (curl, ping and SSH polling from another address, learnt
//! first as the baseline). `nectar analyze --baseline` must raise an alarm
//! inside each attack that names the attacker and says what it looks like,
//! and none that names the benign client. First of all, a scan spread over
//! six sources, six ports each, that no per-source view can see: the
//! per-destination view must name the victim and one of the sources.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::netns::{B_IP, Netns, ip, now_ns, start_captures};
use crate::util::{events, nectar, require, rfc3339_ns};

const ATTACKER: &str = crate::netns::A_IP;
/// The benign client: a second address of the attacker's namespace.
const CLIENT: &str = "192.0.2.3";
/// The sources of the distributed scan (more addresses of the attacker's
/// namespace).
const SPREAD: [&str; 6] = [
    "192.0.2.11",
    "192.0.2.12",
    "192.0.2.13",
    "192.0.2.14",
    "192.0.2.15",
    "192.0.2.16",
];

/// The distributed scan: each source of SPREAD connects to six closed ports
/// of the victim (its own slice of 2000..2036), one probe every 150 ms in
/// turn, ~5.5 s in all.
const SPREAD_SCAN: &str = r#"
import socket, sys, time
victim, sources = sys.argv[1], sys.argv[2:]
for j in range(6):
    for k, src in enumerate(sources):
        s = socket.socket()
        s.settimeout(0.3)
        s.bind((src, 0))
        try:
            s.connect((victim, 2000 + 6 * k + j))
        except OSError:
            pass
        s.close()
        time.sleep(0.15)
"#;

/// Benign traffic from CLIENT until `stop`: a curl every 250 ms, a ping every
/// 500 ms, and an SSH connection (refused key login) every 3 s.
fn benign(ns: &Netns, stop: &AtomicBool) {
    let url = format!("http://{B_IP}:8080/");
    let mut ping = Netns::cmd(&ns.a, "ping", &["-q", "-I", CLIENT, "-i", "0.5", B_IP])
        .spawn()
        .expect("ping");
    let mut last_ssh = Instant::now() - Duration::from_secs(10);
    let mut ssh = Vec::new();
    // Bounded: the caller sets `stop`; 300 s is a backstop.
    let end = Instant::now() + Duration::from_secs(300);
    while !stop.load(Ordering::Relaxed) && Instant::now() < end {
        let _ = Netns::cmd(
            &ns.a,
            "curl",
            &[
                "-s",
                "-m",
                "1",
                "--interface",
                CLIENT,
                "-o",
                "/dev/null",
                &url,
            ],
        )
        .status();
        if last_ssh.elapsed() >= Duration::from_secs(3) {
            last_ssh = Instant::now();
            let target = format!("nobody@{B_IP}");
            if let Ok(c) = Netns::cmd(
                &ns.a,
                "ssh",
                &[
                    "-b",
                    CLIENT,
                    "-o",
                    "BatchMode=yes",
                    "-o",
                    "StrictHostKeyChecking=no",
                    "-o",
                    "UserKnownHostsFile=/dev/null",
                    "-o",
                    "ConnectTimeout=2",
                    &target,
                    "true",
                ],
            )
            .spawn()
            {
                ssh.push(c);
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let _ = ping.kill();
    let _ = ping.wait();
    for mut c in ssh {
        let deadline = Instant::now() + Duration::from_secs(3);
        while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// Runs `f` with benign traffic going on around it.
fn with_benign<T>(ns: &Netns, f: impl FnOnce() -> T) -> T {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| benign(ns, &stop));
        let out = f();
        stop.store(true, Ordering::Relaxed);
        out
    })
}

#[test]
fn slow_scans_and_password_guessing_raise_alarms_naming_the_attacker() {
    let tools = [
        "ip",
        "tcpdump",
        "nmap",
        "hydra",
        "curl",
        "ping",
        "python3",
        "ssh",
        "ssh-keygen",
        "sshd",
    ];
    if !require("slow-attack detection test", &tools, true) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut ns = Netns::new();
    let (a, b) = (ns.a.clone(), ns.b.clone());
    let va = ns.a.replace("nda", "va");
    for addr in std::iter::once(CLIENT).chain(SPREAD) {
        ip(&["-n", &a, "addr", "add", &format!("{addr}/24"), "dev", &va]);
    }
    // The victim: a web server and OpenSSH (its own key and configuration;
    // ICMP rate limit left at the kernel's default).
    ns.spawn(
        &b,
        "python3",
        &["-m", "http.server", "8080", "--bind", B_IP],
    );
    let key = dir.path().join("host_key");
    let st = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen");
    assert!(st.success());
    let sshd_config = dir.path().join("sshd_config");
    std::fs::write(
        &sshd_config,
        format!(
            "Port 22\nListenAddress {B_IP}\nHostKey {}\nPidFile {}\nUsePAM no\nPasswordAuthentication yes\nMaxStartups 100\n",
            key.display(),
            dir.path().join("sshd.pid").display()
        ),
    )
    .unwrap();
    // OpenSSH's privilege-separation directory.
    std::fs::create_dir_all("/run/sshd").unwrap();
    let sshd = ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
        .unwrap_or("sshd");
    ns.spawn(&b, sshd, &["-D", "-f", sshd_config.to_str().unwrap()]);
    std::thread::sleep(Duration::from_millis(800));

    // Baseline: 25 s of benign traffic.
    start_captures(&mut ns, dir.path(), "baseline");
    with_benign(&ns, || std::thread::sleep(Duration::from_secs(25)));
    std::thread::sleep(Duration::from_millis(500));
    // Stop the baseline capture (the last child), keep the servers.
    let mut capture = ns.children.pop().unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-INT", &capture.id().to_string()])
        .status();
    let _ = capture.wait();

    // Attack capture: SYN scan at -T2 (30 ports, ~12 s), UDP scan, hydra.
    let pcap = dir.path().join("slow.pcap");
    ns.spawn(
        &b,
        "tcpdump",
        &[
            "-i",
            &ns.vb(),
            "-U",
            "-s",
            "262144",
            "-Z",
            "root",
            "-w",
            pcap.to_str().unwrap(),
        ],
    );
    std::thread::sleep(Duration::from_millis(1500));
    let passwords = dir.path().join("passwords");
    let list: String = (0..80).map(|i| format!("guess{i}\n")).collect();
    std::fs::write(&passwords, list).unwrap();
    let periods = with_benign(&ns, || {
        let mut periods: Vec<(&str, i128, i128)> = Vec::new();
        let mut attack = |name, program, args: &[&str], limit: Duration| {
            std::thread::sleep(Duration::from_secs(5));
            let s = now_ns();
            // In the temporary directory: hydra writes its restore file there.
            let mut child = Netns::cmd(&a, program, args)
                .current_dir(dir.path())
                .spawn()
                .expect("spawn");
            let deadline = Instant::now() + limit;
            while child.try_wait().expect("wait").is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("{program} {args:?} ran longer than {limit:?}");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            periods.push((name, s, now_ns()));
        };
        let mut spread_args = vec!["-c", SPREAD_SCAN, B_IP];
        spread_args.extend(SPREAD);
        attack(
            "distributed scan",
            "python3",
            &spread_args,
            Duration::from_secs(30),
        );
        attack(
            "tcp scan -T2",
            "nmap",
            &["-sS", "-T2", "-n", "-Pn", "-p", "1-30", B_IP],
            Duration::from_secs(40),
        );
        attack(
            "udp scan",
            "nmap",
            &[
                "-sU",
                "-n",
                "-Pn",
                "--top-ports",
                "40",
                "--max-retries",
                "1",
                "--host-timeout",
                "20s",
                B_IP,
            ],
            Duration::from_secs(40),
        );
        // hydra stops itself after the list; `timeout` bounds it. `-w 2`:
        // with its default 32 s wait, hydra stalls after OpenSSH cuts each
        // connection at MaxAuthTries (6) and makes only 4 connections every
        // 32 s; with it, ~2 short connections a second, 80 guesses in ~10 s.
        attack(
            "hydra ssh",
            "timeout",
            &[
                "20",
                "hydra",
                "-t",
                "4",
                "-w",
                "2",
                "-I",
                "-l",
                "admin",
                "-P",
                passwords.to_str().unwrap(),
                &format!("ssh://{B_IP}"),
            ],
            Duration::from_secs(30),
        );
        std::thread::sleep(Duration::from_secs(5));
        periods
    });
    drop(ns);

    let baseline = dir.path().join("baseline.pcap");
    let windows = dir.path().join("windows.jsonl");
    let out = nectar(
        &data,
        &[
            "analyze",
            "--baseline",
            baseline.to_str().unwrap(),
            "--window",
            "200ms",
            "--json",
            "--windows",
            windows.to_str().unwrap(),
            pcap.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let alarms = events(&out.stdout);
    let lines = std::fs::read_to_string(&windows).unwrap();
    assert!(lines.lines().count() > 100, "one line per window");
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(first["stats"]["SRC_PORTS_X100"]["scale"], 100);
    let report = format!(
        "periods: {periods:?}\n{stderr}\n{}",
        alarms
            .iter()
            .map(|e| format!("{} {}", e["data"]["window_start"], e["summary"]))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let window = |e: &serde_json::Value| {
        (
            rfc3339_ns(e["data"]["window_start"].as_str().unwrap()),
            rfc3339_ns(e["data"]["window_end"].as_str().unwrap()),
        )
    };
    let names_attacker =
        |e: &serde_json::Value| e["src_ip"] == ATTACKER || e["data"]["culprit"]["src"] == ATTACKER;
    // The distributed scan: the victim named, with one of the sources.
    let names_victim = |e: &serde_json::Value| {
        let c = &e["data"]["culprit"];
        c["view"] == "destination" && c["dst"] == B_IP && SPREAD.iter().any(|s| c["src"] == *s)
    };
    let (before, after) = (300_000_000i128, 700_000_000i128);
    for (name, s, e) in &periods {
        let hits: Vec<&serde_json::Value> = alarms
            .iter()
            .filter(|ev| {
                let (ws, we) = window(ev);
                let named = if name.contains("distributed") {
                    names_victim(ev)
                } else {
                    names_attacker(ev)
                };
                we > s - before && ws < e + after && named
            })
            .collect();
        assert!(
            !hits.is_empty(),
            "no alarm naming the attacker during the {name}\n{report}"
        );
        let want = if name.contains("hydra") {
            "brute_force"
        } else {
            "port_scan"
        };
        assert!(
            hits.iter().any(|e| e["data"]["class"] == want),
            "the {name} is not called {want}\n{report}"
        );
    }
    for ev in &alarms {
        assert_ne!(
            ev["src_ip"], CLIENT,
            "alarm names the benign client: {ev}\n{report}"
        );
        assert_ne!(ev["data"]["culprit"]["src"], CLIENT, "{ev}\n{report}");
        // Outside an attack only a longer scale may still see it (its
        // horizon covers the attack), and the aftermath of the hydra burst.
        let (ws, we) = window(ev);
        let reach = (ev["data"]["scale_seconds"].as_f64().unwrap_or(0.2) * 1e9) as i128;
        let in_attack = periods
            .iter()
            .any(|(_, s, e)| we > s - before && ws < e + reach + 3_500_000_000);
        assert!(in_attack, "alarm outside the attacks: {ev}\n{report}");
    }
    // What was seen, for the log of a passing run too.
    eprintln!("{report}");
}
