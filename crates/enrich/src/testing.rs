//! For tests (this crate's and the end-to-end ones): a real DNS server,
//! dnsmasq, on a free loopback port, serving the test names of the
//! documentation range 203.0.113.0/24: `scanner.example.net` for
//! 203.0.113.7 (A and PTR: forward-confirmed) and a PTR
//! `spoofed.example.org` for 203.0.113.8 that does not resolve back;
//! authoritative for the range, so other addresses have no name.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running dnsmasq, stopped when dropped.
pub struct Dnsmasq {
    child: Child,
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dnsmasq {
    /// Starts one; `None` (with a note) when dnsmasq is not installed,
    /// a panic when it is missing under `CI=true` (`.ci/run` installs it).
    pub fn start() -> Option<Dnsmasq> {
        let found = Command::new("dnsmasq")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "dnsmasq is missing (Debian package dnsmasq-base; .ci/run installs it)"
            );
            eprintln!("skipped: dnsmasq is not installed");
            return None;
        }
        // A free port, released just before dnsmasq binds it: another test
        // may take it in between (a parallel test binding 127.0.0.1:0), and
        // dnsmasq then exits; so a few tries, each on a new port.
        for _ in 0..5 {
            let port = std::net::UdpSocket::bind("127.0.0.1:0")
                .and_then(|s| s.local_addr())
                .map(|a| a.port())
                .expect("a free port");
            let child = Command::new("dnsmasq")
                .args([
                    "--no-daemon",
                    &format!("--port={port}"),
                    "--listen-address=127.0.0.1",
                    "--bind-interfaces",
                    "--no-resolv",
                    "--no-hosts",
                    "--conf-file=/dev/null",
                    "--user=root",
                    "--pid-file",
                    // Authoritative for the test names: unknown ones are NXDOMAIN.
                    "--local=/113.0.203.in-addr.arpa/",
                    "--local=/example.net/",
                    "--local=/example.org/",
                    "--host-record=scanner.example.net,203.0.113.7",
                    "--ptr-record=8.113.0.203.in-addr.arpa,spoofed.example.org",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("dnsmasq");
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let mut dns = Dnsmasq { child, addr };
            // Ready when it answers on TCP (it serves both); gone if it
            // could not bind.
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if std::net::TcpStream::connect(addr).is_ok() {
                    return Some(dns);
                }
                if dns.child.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("dnsmasq did not start on any of 5 ports");
    }
}
