//! Real captures from real tools (tcpdump, dumpcap) and live capture through
//! our own ring, all on the loopback interface with bounded traffic that the
//! test sends itself (UDP datagrams to a port it bound on 127.0.0.1).
//!
//! Without the tools or root, these tests skip with a message; with
//! `CI=true` they fail instead, so CI cannot silently lose them.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nectar_packet::{FileReader, Format, LinkType, Transport};

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The tool's path, or None (skip) — a failure under CI=true.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|c| c.is_file())
    });
    if found.is_none() {
        assert!(
            !ci(),
            "{name} is required when CI=true (apt-get install tcpdump tshark)"
        );
        eprintln!("SKIP: {name} not installed");
    }
    found
}

fn is_root() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    if !root {
        assert!(!ci(), "capture tests need root when CI=true");
        eprintln!("SKIP: capture needs root");
    }
    root
}

/// A bound UDP sink on 127.0.0.1 and its port.
fn sink() -> (UdpSocket, u16) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    (s, port)
}

/// Sends `n` datagrams of growing size to 127.0.0.1:port.
fn send(port: u16, n: usize, size: usize) {
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..n {
        tx.send_to(&vec![i as u8; size + i % 7], ("127.0.0.1", port))
            .unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Starts a capture tool and waits until its stderr says it is capturing.
fn start(cmd: &mut Command, ready_word: &str) -> Child {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let word = ready_word.to_string();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent && line.contains(&word) {
                let _ = tx.send(());
                sent = true;
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("capture tool did not start");
    // The tool prints before its socket is fully bound on some versions.
    std::thread::sleep(Duration::from_millis(300));
    child
}

/// Waits for the tool to exit (it stops by itself after `-c N`), killing it
/// after a deadline.
fn wait(mut child: Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("capture tool did not stop after its packet count");
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nectar-packet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Reads a capture and checks it holds `n` UDP datagrams to `port`.
fn check(path: &Path, format: Format, links: &[LinkType], n: usize, port: u16) {
    let mut r = FileReader::open(path).unwrap();
    assert_eq!(r.format(), format);
    let mut seen = 0;
    let mut last_ts = 0;
    while let Some(p) = r.next_packet().unwrap() {
        assert!(links.contains(&p.link), "unexpected link type {}", p.link);
        let m = p.decode().meta;
        assert_eq!(m.error, None);
        assert_eq!(m.transport, Transport::Udp);
        assert_eq!(m.dst_port, port);
        assert_eq!(m.src, Some("127.0.0.1".parse().unwrap()));
        assert!(m.ts_ns >= last_ts && m.ts_ns > 1_600_000_000_000_000_000);
        last_ts = m.ts_ns;
        seen += 1;
    }
    assert_eq!(seen, n);
}

fn tcpdump_case(iface: &str, nano: bool, name: &str, format: Format, links: &[LinkType]) {
    let (Some(tcpdump), true) = (tool("tcpdump"), is_root()) else {
        return;
    };
    let (_rx, port) = sink();
    let path = tmp(name);
    let mut cmd = Command::new(tcpdump);
    cmd.args(["-i", iface, "-n", "-U", "-c", "20", "-w"])
        .arg(&path);
    if nano {
        cmd.arg("--time-stamp-precision=nano");
    }
    cmd.args(["udp", "and", "dst", "port", &port.to_string()]);
    let child = start(&mut cmd, "listening on");
    send(port, 40, 100);
    wait(child);
    check(&path, format, links, 20, port);
}

#[test]
fn tcpdump_loopback_pcap() {
    tcpdump_case("lo", false, "lo.pcap", Format::Pcap, &[LinkType::Ethernet]);
}

#[test]
fn tcpdump_loopback_pcap_nanoseconds() {
    tcpdump_case(
        "lo",
        true,
        "lo-ns.pcap",
        Format::PcapNs,
        &[LinkType::Ethernet],
    );
}

#[test]
fn tcpdump_any_is_sll2() {
    tcpdump_case(
        "any",
        false,
        "any.pcap",
        Format::Pcap,
        &[LinkType::LinuxSll2],
    );
}

#[test]
fn dumpcap_pcapng_two_interfaces() {
    let (Some(dumpcap), true) = (tool("dumpcap"), is_root()) else {
        return;
    };
    let (_rx, port) = sink();
    let path = tmp("two.pcapng");
    let filter = format!("udp and dst port {port}");
    // Two interfaces with different link types: lo (Ethernet) and any (SLL2).
    let mut cmd = Command::new(dumpcap);
    cmd.args([
        "-q", "-i", "lo", "-f", &filter, "-i", "any", "-f", &filter, "-c", "20", "-w",
    ])
    .arg(&path);
    let child = start(&mut cmd, "Capturing on");
    send(port, 40, 200);
    wait(child);
    check(
        &path,
        Format::PcapNg,
        &[LinkType::Ethernet, LinkType::LinuxSll2, LinkType::LinuxSll],
        20,
        port,
    );
}

#[test]
fn tshark_rewrites_pcapng() {
    let (Some(tshark), true) = (tool("tshark"), is_root()) else {
        return;
    };
    // tshark writes pcapng from a pcap we made: a second pcapng writer.
    let src = tmp("src.pcap");
    let bytes = super::pcap_bytes(25, true, false, nectar_packet::synth::Framing::Vlan(9));
    std::fs::write(&src, bytes).unwrap();
    let out = tmp("tshark.pcapng");
    let status = Command::new(tshark)
        .args(["-r"])
        .arg(&src)
        .args(["-F", "pcapng", "-w"])
        .arg(&out)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let mut r = FileReader::open(&out).unwrap();
    assert_eq!(r.format(), Format::PcapNg);
    let mut n = 0;
    while let Some(p) = r.next_packet().unwrap() {
        let m = p.decode().meta;
        assert_eq!((m.vlan_tags, m.vlan_id), (1, 9));
        assert!(m.tcp_flags.syn());
        n += 1;
    }
    assert_eq!(n, 25);
}

#[cfg(target_os = "linux")]
mod live {
    use super::*;
    use nectar_packet::{CaptureError, LiveCapture, LiveConfig};

    /// Reads until `want` of our datagrams were seen or 10 s passed.
    fn collect(cap: &mut LiveCapture, port: u16, want: usize) -> Vec<nectar_packet::PacketMeta> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut ours = Vec::new();
        while ours.len() < want && Instant::now() < deadline {
            if let Some(p) = cap.next_packet(Duration::from_millis(100)).unwrap() {
                let m = p.decode().meta;
                if m.transport == Transport::Udp && m.dst_port == port {
                    ours.push(m);
                }
            }
        }
        ours
    }

    #[test]
    fn ring_capture_on_loopback_with_snaplen() {
        if !is_root() {
            return;
        }
        let mut cfg = LiveConfig::new("lo");
        cfg.snaplen = 64;
        cfg.promiscuous = false;
        let mut cap = LiveCapture::open(&cfg).unwrap();
        assert_eq!(cap.link_type(), LinkType::Ethernet);
        let (_rx, port) = sink();
        let sender = std::thread::spawn(move || send(port, 30, 500));
        let ours = collect(&mut cap, port, 30);
        sender.join().unwrap();
        assert_eq!(ours.len(), 30);
        for m in &ours {
            assert_eq!(m.cap_len, 64);
            assert!(m.wire_len >= 14 + 20 + 8 + 500);
            assert!(m.is_snapped());
            assert_eq!(m.src, Some("127.0.0.1".parse().unwrap()));
        }
        let stats = cap.stats().unwrap();
        assert!(stats.received >= 30);
    }

    #[test]
    fn ring_capture_on_any() {
        if !is_root() {
            return;
        }
        let mut cap = LiveCapture::open(&LiveConfig::new("any")).unwrap();
        let (_rx, port) = sink();
        let sender = std::thread::spawn(move || send(port, 10, 50));
        let ours = collect(&mut cap, port, 10);
        sender.join().unwrap();
        assert!(ours.len() >= 10);
        assert!(ours.iter().all(|m| m.link == LinkType::Network(0x0800)));
    }

    /// Re-runs the test binary without CAP_NET_RAW and expects the
    /// permission error that names the fix.
    #[test]
    fn without_cap_net_raw_the_error_names_the_fix() {
        if std::env::var_os("NECTAR_EXPECT_EPERM").is_some() {
            let err = LiveCapture::open(&LiveConfig::new("lo")).unwrap_err();
            assert!(
                matches!(err, CaptureError::PermissionDenied { .. }),
                "{err}"
            );
            let msg = err.to_string();
            assert!(msg.contains("CAP_NET_RAW") && msg.contains("setcap cap_net_raw+ep"));
            return;
        }
        let Some(setpriv) = tool("setpriv") else {
            return;
        };
        if !is_root() {
            // Already unprivileged: check directly.
            let err = LiveCapture::open(&LiveConfig::new("lo")).unwrap_err();
            assert!(
                matches!(err, CaptureError::PermissionDenied { .. }),
                "{err}"
            );
            return;
        }
        let exe = std::env::current_exe().unwrap();
        let out = Command::new(setpriv)
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
            ])
            .arg(exe)
            .args([
                "--exact",
                "tools::live::without_cap_net_raw_the_error_names_the_fix",
                "--nocapture",
            ])
            .env("NECTAR_EXPECT_EPERM", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("1 passed"), "{text}");
    }
}
