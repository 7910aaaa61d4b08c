//! Real traffic: two network namespaces joined by a veth pair (addresses in
//! the documentation range 192.0.2.0/24, inside the namespaces only), a web
//! server in one, benign curl and ping from the other, then a SYN flood and an ICMP flood
//! (hping3, bounded --count), a SYN scan and a UDP scan (nmap) and a masscan
//! SYN scan, captured by tcpdump (pcap), dumpcap (pcapng) and tcpdump on
//! `any` (SLL2) at once.
//! `nectar analyze --baseline` must alarm inside every attack and nowhere in
//! the benign periods. The namespaces are deleted by a guard, also on failure.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::util::{events, nectar, require, rfc3339_ns};

pub(crate) const A_IP: &str = "192.0.2.1";
pub(crate) const B_IP: &str = "192.0.2.2";

/// Two namespaces and the processes started in them; deleted on drop.
pub(crate) struct Netns {
    pub(crate) a: String,
    pub(crate) b: String,
    pub(crate) children: Vec<Child>,
}

pub(crate) fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Netns {
    pub(crate) fn new() -> Netns {
        static N: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "{}{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let ns = Netns {
            a: format!("nda{id}"),
            b: format!("ndb{id}"),
            children: Vec::new(),
        };
        // From here on, drop deletes whatever was created.
        ip(&["netns", "add", &ns.a]);
        ip(&["netns", "add", &ns.b]);
        let (va, vb) = (format!("va{id}"), format!("vb{id}"));
        ip(&[
            "link", "add", &va, "netns", &ns.a, "type", "veth", "peer", "name", &vb, "netns", &ns.b,
        ]);
        ip(&[
            "-n",
            &ns.a,
            "addr",
            "add",
            &format!("{A_IP}/24"),
            "dev",
            &va,
        ]);
        ip(&[
            "-n",
            &ns.b,
            "addr",
            "add",
            &format!("{B_IP}/24"),
            "dev",
            &vb,
        ]);
        for (n, dev) in [(&ns.a, &va), (&ns.b, &vb)] {
            ip(&["-n", n, "link", "set", dev, "up"]);
            ip(&["-n", n, "link", "set", "lo", "up"]);
        }
        ns
    }

    pub(crate) fn vb(&self) -> String {
        self.b.replace("ndb", "vb")
    }

    /// A command inside namespace `ns`.
    pub(crate) fn cmd(ns: &str, program: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, program]).args(args);
        // No tool reads from the test harness's input (masscan polls it
        // for key presses).
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    pub(crate) fn spawn(&mut self, ns: &str, program: &str, args: &[&str]) {
        let child = Netns::cmd(ns, program, args).spawn().expect("spawn");
        self.children.push(child);
    }

    /// Runs to completion (bounded by the tool's own limits and `limit`).
    pub(crate) fn run(ns: &str, program: &str, args: &[&str], limit: Duration) {
        let mut child = Netns::cmd(ns, program, args).spawn().expect("spawn");
        let deadline = Instant::now() + limit;
        while child.try_wait().expect("wait").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{program} {args:?} ran longer than {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Benign traffic for `secs`: ping every 500 ms and a curl every 250 ms.
    /// The ping interval is not the window length on purpose: a ping every
    /// 200 ms in 200 ms windows puts two echo pairs in one window whenever
    /// its phase sits on a window edge, and a curl plus two pairs (15
    /// packets) is a benign window the baseline may never have seen (CI
    /// once alarmed on one at 75 pkt/s against a 74.2 threshold).
    pub(crate) fn benign(&self, secs: u64) {
        let secs_s = secs.to_string();
        let mut ping = Netns::cmd(&self.a, "ping", &["-q", "-i", "0.5", "-w", &secs_s, B_IP])
            .spawn()
            .expect("ping");
        let end = Instant::now() + Duration::from_secs(secs);
        let url = format!("http://{B_IP}:8080/");
        while Instant::now() < end {
            let _ =
                Netns::cmd(&self.a, "curl", &["-s", "-m", "1", "-o", "/dev/null", &url]).status();
            std::thread::sleep(Duration::from_millis(250));
        }
        let _ = ping.wait();
    }

    /// Stops the capture processes politely (SIGINT: tcpdump and dumpcap
    /// finish their files), then everything else.
    pub(crate) fn stop_children(&mut self) {
        for c in &self.children {
            let _ = Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status();
        }
        for c in &mut self.children {
            let deadline = Instant::now() + Duration::from_secs(5);
            while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        self.children.clear();
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        self.stop_children();
        for ns in [&self.a, &self.b] {
            // Anything still running inside (tools of a failed step).
            if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-KILL", pid]).status();
                }
            }
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

pub(crate) fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

/// Starts the three captures in namespace B.
pub(crate) fn start_captures(ns: &mut Netns, dir: &Path, tag: &str) {
    let vb = ns.vb();
    let b = ns.b.clone();
    let pcap = dir.join(format!("{tag}.pcap"));
    ns.spawn(
        &b,
        "tcpdump",
        &[
            "-i",
            &vb,
            "-U",
            "-s",
            "262144",
            "-Z",
            "root",
            "-w",
            pcap.to_str().unwrap(),
        ],
    );
    if tag == "attack" {
        let ng = dir.join(format!("{tag}.pcapng"));
        ns.spawn(
            &b,
            "dumpcap",
            &["-q", "-i", &vb, "-w", ng.to_str().unwrap()],
        );
        let any = dir.join(format!("{tag}-any.pcap"));
        ns.spawn(
            &b,
            "tcpdump",
            &[
                "-i",
                "any",
                "-U",
                "-s",
                "262144",
                "-Z",
                "root",
                "-w",
                any.to_str().unwrap(),
            ],
        );
    }
    // Let the captures open their sockets.
    std::thread::sleep(Duration::from_millis(1500));
}

#[test]
fn attacks_in_namespaces_raise_alarms_and_benign_traffic_does_not() {
    let tools = [
        "ip", "tcpdump", "dumpcap", "nmap", "hping3", "curl", "ping", "python3", "masscan",
    ];
    if !require("real-traffic detection test", &tools, true) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut ns = Netns::new();
    let b = ns.b.clone();
    let a = ns.a.clone();
    // Port scans of a closed port answer at once instead of being rate-limited.
    Netns::run(
        &b,
        "sysctl",
        &["-qw", "net.ipv4.icmp_ratelimit=0"],
        Duration::from_secs(10),
    );
    ns.spawn(
        &b,
        "python3",
        &["-m", "http.server", "8080", "--bind", B_IP],
    );
    std::thread::sleep(Duration::from_millis(800));

    // Baseline: one minute of benign traffic.
    start_captures(&mut ns, dir.path(), "baseline");
    ns.benign(60);
    std::thread::sleep(Duration::from_millis(500));
    let web = ns.children.remove(0);
    ns.stop_children();
    ns.children.push(web);

    // Attack capture: benign background with four attacks in it.
    start_captures(&mut ns, dir.path(), "attack");
    let mut periods: Vec<(&str, i128, i128)> = Vec::new();
    let mut benign_periods: Vec<(i128, i128)> = Vec::new();
    let mut mark_benign = |ns: &Netns, secs| {
        let s = now_ns();
        ns.benign(secs);
        benign_periods.push((s, now_ns()));
    };
    mark_benign(&ns, 10);
    let flood = |name: &'static str, args: &[&str]| {
        let s = now_ns();
        let mut h = Netns::cmd(&a, "hping3", args).spawn().expect("hping3");
        // Benign traffic goes on during the flood.
        let deadline = Instant::now() + Duration::from_secs(30);
        std::thread::sleep(Duration::from_secs(2));
        while h.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "hping3 did not finish");
            std::thread::sleep(Duration::from_millis(20));
        }
        (name, s, now_ns())
    };
    periods.push(flood(
        "syn flood",
        &[
            "--syn", "-p", "8080", "-i", "u200", "--count", "10000", "-q", B_IP,
        ],
    ));
    mark_benign(&ns, 10);
    periods.push(flood(
        "icmp flood",
        &["--icmp", "-i", "u200", "--count", "10000", "-q", B_IP],
    ));
    mark_benign(&ns, 10);
    let s = now_ns();
    Netns::run(
        &a,
        "nmap",
        &[
            "-sS",
            "-T4",
            "-n",
            "-Pn",
            "--max-retries",
            "1",
            "-p",
            "1-2000",
            B_IP,
        ],
        Duration::from_secs(120),
    );
    periods.push(("syn scan", s, now_ns()));
    mark_benign(&ns, 10);
    let s = now_ns();
    Netns::run(
        &a,
        "nmap",
        &[
            "-sU",
            "-T4",
            "-n",
            "-Pn",
            "--max-retries",
            "0",
            "-p",
            "1-300",
            B_IP,
        ],
        Duration::from_secs(120),
    );
    periods.push(("udp scan", s, now_ns()));
    mark_benign(&ns, 10);
    // masscan: its own TCP stack on raw packets, 1,500 ports at 1,000
    // packets/s. It sends to the "router" MAC it is given (the victim's:
    // the namespaces have no router) and is bounded by its rate.
    let link = std::process::Command::new("ip")
        .args(["-n", &b, "-o", "link", "show", &ns.vb()])
        .output()
        .expect("ip link");
    let link = String::from_utf8_lossy(&link.stdout).into_owned();
    let victim_mac = link
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .expect("the victim's MAC")
        .to_owned();
    let va = ns.a.replace("nda", "va");
    let s = now_ns();
    Netns::run(
        &a,
        "masscan",
        &[
            B_IP,
            "-p",
            "1-1500",
            "--rate",
            "1000",
            "--wait",
            "1",
            "-e",
            &va,
            "--adapter-ip",
            A_IP,
            "--router-mac",
            &victim_mac,
        ],
        Duration::from_secs(30),
    );
    periods.push(("masscan", s, now_ns()));
    mark_benign(&ns, 10);
    std::thread::sleep(Duration::from_millis(500));
    drop(ns);

    let baseline = dir.path().join("baseline.pcap");
    for file in ["attack.pcap", "attack.pcapng", "attack-any.pcap"] {
        let path = dir.path().join(file);
        let out = nectar(
            &data,
            &[
                "analyze",
                "--baseline",
                baseline.to_str().unwrap(),
                "--window",
                "200ms",
                "--json",
                path.to_str().unwrap(),
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{file}: {stderr}");
        assert!(stderr.contains("Decode errors: none"), "{file}: {stderr}");
        let alarms = events(&out.stdout);
        // Margins: windows are 200 ms; a tool's first and last packets are
        // a little after / before our marks.
        let (before, after) = (300_000_000i128, 700_000_000i128);
        // A flood has an aftermath that is still the attack's: the victim
        // retransmits SYN-ACKs to half-open connections 1 and 3 s later.
        // Benign-only periods start 3.5 s after an attack.
        let aftermath = 3_500_000_000i128;
        let window = |e: &serde_json::Value| {
            (
                rfc3339_ns(e["data"]["window_start"].as_str().unwrap()),
                rfc3339_ns(e["data"]["window_end"].as_str().unwrap()),
            )
        };
        for (name, s, e) in &periods {
            let hits: Vec<&serde_json::Value> = alarms
                .iter()
                .filter(|ev| {
                    let (ws, we) = window(ev);
                    we > s - before && ws < e + after
                })
                .collect();
            assert!(
                !hits.is_empty(),
                "{file}: no alarm during the {name}\n{stderr}\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        for ev in &alarms {
            let (ws, we) = window(ev);
            let in_attack = periods
                .iter()
                .any(|(_, s, e)| we > s - before && ws < e + aftermath);
            assert!(
                in_attack,
                "{file}: alarm outside the attacks: {ev}\nattacks: {periods:?}\nbenign: {benign_periods:?}"
            );
            assert_eq!(ev["kind"], "net.alarm");
            for key in [
                "stat",
                "value",
                "threshold",
                "direction",
                "probability",
                "top_src",
                "top_dst",
                "top_dst_port",
            ] {
                assert!(ev["data"].get(key).is_some(), "{key} missing in {ev}");
            }
        }
        // The floods name their source.
        assert!(
            alarms
                .iter()
                .any(|e| e["data"]["top_src"][0]["key"] == A_IP || e["src_ip"] == A_IP),
            "{file}: no alarm names the attacker"
        );
    }
}
