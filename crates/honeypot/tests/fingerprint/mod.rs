//! The SSH honeypot against Debian 12's own `sshd`, started on 127.0.0.1 in the
//! same run with a throwaway configuration and host keys (RSA 3072, ECDSA
//! P-256, Ed25519, as Debian generates them): the same KEXINIT (HASSHServer),
//! the same EXT_INFO, the same MaxAuthTries disconnect, the same `ssh-audit`
//! and `nmap` reports but for keys, fingerprints and ports; and OpenSSH's `ssh`
//! logs in with its defaults and with every key exchange and MAC forced.
//! Every tool is needed under `CI=true` (`.ci/run` installs them).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nectar_honeypot::ssh::SshHoneypotConfig;
use nectar_honeypot::ssh::parser::KexInit;
use nectar_honeypot::ssh::profile::{self, openssh_9_2};

use super::{have, start};

/// `sshpass ssh -v` logging in to `addr` with these `-o` options, running `command`.
fn ssh_verbose(addr: SocketAddr, options: &[String], command: &str) -> std::process::Output {
    let port = addr.port().to_string();
    let mut cmd = Command::new("timeout");
    // Generous: with group exchange the client asks for an 8192-bit group,
    // which the debug build's big-integer code takes tens of seconds over on a
    // loaded machine.
    cmd.args(["180", "sshpass", "-p", "123456", "ssh", "-v", "-p", &port])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args([
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "PreferredAuthentications=password",
        ]);
    for o in options {
        cmd.args(["-o", o]);
    }
    cmd.arg("root@127.0.0.1").arg(command).stdin(Stdio::null());
    cmd.output().unwrap()
}

/// Debian 12's `sshd` on a free loopback port; killed on drop.
struct Sshd {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sshd_path() -> Option<PathBuf> {
    ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// Whether the tools of these tests are here; panics under CI when one is not.
fn tools(names: &[&str]) -> bool {
    for name in names {
        let ok = match *name {
            "sshd" => sshd_path().is_some(),
            other => Command::new("sh")
                .args(["-c", &format!("command -v {other}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
        };
        if !ok {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{name} is needed by this test (.ci/run installs it)");
            }
            eprintln!("skipping: {name} not installed");
            return false;
        }
    }
    true
}

fn keygen(dir: &Path, kind: &str, bits: &str) -> PathBuf {
    let path = dir.join(format!("ssh_host_{kind}_key"));
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", kind, "-b", bits, "-N", "", "-f"])
        .arg(&path)
        .status()
        .expect("ssh-keygen");
    assert!(st.success());
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_sshd() -> Sshd {
    let dir = tempfile::tempdir().unwrap();
    let keys = [
        keygen(dir.path(), "rsa", "3072"),
        keygen(dir.path(), "ecdsa", "256"),
        keygen(dir.path(), "ed25519", "256"),
    ];
    let port = free_port();
    let mut config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nPidFile {}\nUsePAM no\nPasswordAuthentication yes\nMaxStartups 100\n",
        dir.path().join("sshd.pid").display()
    );
    for key in &keys {
        config.push_str(&format!("HostKey {}\n", key.display()));
    }
    let path = dir.path().join("sshd_config");
    std::fs::write(&path, config).unwrap();
    // OpenSSH's privilege-separation directory.
    std::fs::create_dir_all("/run/sshd").unwrap();
    let child = Command::new(sshd_path().expect("sshd"))
        .args(["-D", "-e", "-f"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sshd");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "sshd did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Sshd {
        child,
        addr,
        _dir: dir,
    }
}

/// The server's identification line and KEXINIT, read over a raw socket.
fn server_kexinit(addr: SocketAddr) -> (String, KexInit) {
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
}

fn lists(k: &KexInit) -> [&str; 5] {
    [&k.kex, &k.host_key, &k.enc_s2c, &k.mac_s2c, &k.comp_s2c]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hassh_server_is_debian_sshds_in_the_same_run() {
    if !tools(&["sshd", "ssh-keygen"]) {
        return;
    }
    let pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let (ours, theirs) = tokio::task::spawn_blocking(move || {
        let sshd = start_sshd();
        (server_kexinit(addr), server_kexinit(sshd.addr))
    })
    .await
    .unwrap();
    let ((our_banner, ours), (their_banner, theirs)) = (ours, theirs);
    assert_eq!(our_banner, profile::DEBIAN_12_BANNER);
    assert_eq!(our_banner, their_banner);
    assert_eq!(lists(&ours), lists(&theirs));
    assert_eq!(ours.enc_c2s, theirs.enc_c2s);
    assert_eq!(ours.mac_c2s, theirs.mac_c2s);
    assert_eq!(ours.comp_c2s, theirs.comp_c2s);
    assert_eq!(ours.hassh_server(), theirs.hassh_server());
    assert_eq!(ours.hassh_server(), openssh_9_2::HASSH_SERVER);
    pot.finish().await;
}

/// `ssh -vv` with these options against `addr` (no login: a wrong password,
/// batch mode off so that it tries), its standard error.
fn ssh_debug(addr: SocketAddr, user: &str, options: &[&str], askpass: &Path) -> String {
    let port = addr.port().to_string();
    let mut cmd = Command::new("timeout");
    cmd.args(["60", "ssh", "-vv", "-p", &port])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args([
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "PreferredAuthentications=password",
        ])
        .args(["-o", "NumberOfPasswordPrompts=10"]);
    for o in options {
        cmd.args(["-o", o]);
    }
    cmd.arg(format!("{user}@127.0.0.1"))
        .arg("true")
        .env("SSH_ASKPASS", askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", ":0")
        .stdin(Stdio::null());
    let out = cmd.output().unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn askpass(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("askpass");
    std::fs::write(&path, "#!/bin/sh\necho wrong-password-42\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The lines of `ssh -vv` a client sees of the server's EXT_INFO and of the
/// end of a password guessing run, with ports taken out.
fn transcript(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            l.contains("kex_input_ext_info")
                || l.contains("Authentications that can continue")
                || l.contains("Received disconnect")
                || l.contains("Disconnected from")
                || l.contains("kex: algorithm:")
                || l.contains("kex: host key algorithm:")
                || l.contains("kex: server->client")
                || l.contains("kex: client->server")
        })
        .map(|l| {
            // "... from 127.0.0.1 port 41234:2: ..." → without the port.
            let l = l.trim_end_matches('\r');
            match l.find(" port ") {
                Some(i) => {
                    let rest = &l[i + 6..];
                    let end = rest
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(rest.len());
                    format!("{} port N{}", &l[..i], &rest[end..])
                }
                None => l.to_owned(),
            }
        })
        .collect()
}

/// EXT_INFO (`server-sig-algs`, `publickey-hostbound@openssh.com`), the
/// negotiated algorithms and MaxAuthTries as an OpenSSH client sees them are
/// sshd's: five refusals, then "Too many authentication failures" with reason
/// 2 and no sixth refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ext_info_and_max_auth_tries_are_sshds() {
    if !tools(&["sshd", "ssh-keygen", "ssh"]) {
        return;
    }
    let pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let (ours, theirs) = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let pass = askpass(dir.path());
        let sshd = start_sshd();
        (
            ssh_debug(addr, "root", &[], &pass),
            ssh_debug(sshd.addr, "root", &[], &pass),
        )
    })
    .await
    .unwrap();
    let (t_ours, t_theirs) = (transcript(&ours), transcript(&theirs));
    assert!(
        t_theirs.iter().any(|l| l.contains("server-sig-algs=")),
        "{theirs}"
    );
    assert!(
        t_theirs
            .iter()
            .any(|l| l.contains(":2: Too many authentication failures")),
        "{theirs}"
    );
    assert!(
        t_theirs
            .iter()
            .any(|l| l.contains("sntrup761x25519-sha512")),
        "{theirs}"
    );
    assert_eq!(t_ours, t_theirs, "ours:\n{ours}\n\nsshd:\n{theirs}");
    pot.finish().await;
}

/// OpenSSH logs in with its defaults (and picks sntrup761x25519-sha512), and
/// with each key exchange and each MAC of the profile forced (MACs with
/// aes128-ctr, as the AEAD ciphers have their own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssh_logs_in_with_every_kex_and_mac() {
    if !have("sshpass", &["-V"]) || !have("ssh", &["-V"]) {
        return;
    }
    let pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let mut runs: Vec<(String, Vec<String>)> = vec![("defaults".into(), vec![])];
    for kex in openssh_9_2::KEX
        .split(',')
        .filter(|k| !k.starts_with("kex-strict"))
    {
        runs.push((kex.into(), vec![format!("KexAlgorithms={kex}")]));
    }
    for mac in openssh_9_2::MACS.split(',') {
        runs.push((
            mac.into(),
            vec![format!("MACs={mac}"), "Ciphers=aes128-ctr".into()],
        ));
    }
    let count = runs.len();
    for (name, options) in runs {
        let out =
            tokio::task::spawn_blocking(move || ssh_verbose(addr, &options, "echo logged-in-ok"))
                .await
                .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("logged-in-ok"),
            "{name}: {:?} {stderr}",
            out.status
        );
        if name == "defaults" {
            assert!(
                stderr.contains("kex: algorithm: sntrup761x25519-sha512"),
                "{stderr}"
            );
            assert!(stderr.contains("MAC: <implicit>"), "{stderr}");
        } else if name.starts_with("umac") || name.starts_with("hmac") {
            assert!(stderr.contains(&format!("MAC: {name}")), "{name}: {stderr}");
        } else {
            assert!(
                stderr.contains(&format!("kex: algorithm: {name}")),
                "{name}: {stderr}"
            );
        }
    }
    let events = pot.finish().await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == nectar_event::Kind::SshLoginSuccess)
            .count(),
        count
    );
}

/// Removes terminal colours.
fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters final-byte
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Replaces every run of at least 16 characters of a fingerprint alphabet
/// (hex with colons, base64) by `FP`, and the port by `PORT`.
fn without_keys(line: &str, port: u16) -> String {
    let line = line.replace(&port.to_string(), "PORT");
    let mut out = String::new();
    for word in line.split(' ') {
        let fp = word.len() >= 16
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '+' | '/' | '='));
        let fp = fp && word.chars().any(|c| c.is_ascii_digit());
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(if fp { "FP" } else { word });
    }
    out
}

/// `ssh-audit` of `addr`: its report without colours, fingerprints and port.
fn ssh_audit(addr: SocketAddr) -> Vec<String> {
    let out = Command::new("timeout")
        .args([
            "120",
            "ssh-audit",
            "-p",
            &addr.port().to_string(),
            "127.0.0.1",
        ])
        .output()
        .expect("ssh-audit");
    plain(&String::from_utf8_lossy(&out.stdout))
        .lines()
        .map(|l| without_keys(l.trim_end(), addr.port()))
        .collect()
}

/// `nmap -sV --script ssh2-enum-algos,ssh-hostkey` of `addr`: its report
/// without the lines that carry times, and without fingerprints and port.
fn nmap(addr: SocketAddr) -> Vec<String> {
    let port = addr.port().to_string();
    let out = Command::new("timeout")
        .args(["180", "nmap", "-Pn", "-n", "-sV", "-p", &port])
        .args(["--script", "ssh2-enum-algos,ssh-hostkey", "127.0.0.1"])
        .output()
        .expect("nmap");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            !(l.starts_with("Starting Nmap")
                || l.starts_with("Nmap done")
                || l.starts_with("Host is up")
                || l.starts_with("Service detection performed"))
        })
        .map(|l| without_keys(l.trim_end(), addr.port()))
        .collect()
}

/// What differs between two reports, for the failure message.
fn diff(ours: &[String], theirs: &[String]) -> String {
    let mut out = String::new();
    for i in 0..ours.len().max(theirs.len()) {
        let (a, b) = (ours.get(i), theirs.get(i));
        if a != b {
            out.push_str(&format!("line {i}:\n  nectar: {a:?}\n  sshd:   {b:?}\n"));
        }
    }
    out
}

/// nmap's report with each script's block (`| name:` ... `|_...`) in name
/// order, where the first block stood; other lines as they were.
fn scripts_sorted(lines: Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut blocks: Vec<Vec<String>> = Vec::new();
    let mut at = None;
    for line in lines {
        // A script's header line, or a one-line script (`|_name: ...`) after a
        // block that has ended.
        let previous_ended = blocks
            .last()
            .is_none_or(|b| b.last().is_some_and(|l| l.starts_with("|_")));
        let starts_block = line.starts_with("| ") && !line.starts_with("|  ")
            || line.starts_with("|_") && previous_ended;
        if line.starts_with('|') {
            at.get_or_insert(out.len());
            if starts_block || blocks.is_empty() {
                blocks.push(Vec::new());
            }
            if let Some(block) = blocks.last_mut() {
                block.push(line);
            }
        } else {
            out.push(line);
        }
    }
    blocks.sort();
    let at = at.unwrap_or(out.len());
    out.splice(at..at, blocks.into_iter().flatten());
    out
}

/// `ssh-audit` reports the same for the honeypot as for Debian 12's sshd:
/// software guess, algorithms with their notes (key sizes, the group
/// exchange's modulus), recommendations; only fingerprints differ.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_audit_sees_debians_sshd() {
    if !tools(&["sshd", "ssh-keygen", "ssh-audit"]) {
        return;
    }
    let pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    let (ours, theirs) = tokio::task::spawn_blocking(move || {
        let sshd = start_sshd();
        (ssh_audit(addr), ssh_audit(sshd.addr))
    })
    .await
    .unwrap();
    assert!(
        theirs
            .iter()
            .any(|l| l.contains("(gen) software: OpenSSH 9.2p1")),
        "{theirs:#?}"
    );
    assert!(ours == theirs, "{}", diff(&ours, &theirs));
    pot.finish().await;
}

/// `nmap -sV --script ssh2-enum-algos,ssh-hostkey` reports the same for the
/// honeypot as for Debian 12's sshd: version, algorithms, host-key types and
/// sizes; only fingerprints and the port differ.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nmap_ssh_scripts_see_debians_sshd() {
    if !tools(&["sshd", "ssh-keygen", "nmap"]) {
        return;
    }
    let pot = start(SshHoneypotConfig::default()).await;
    let addr = pot.addr;
    // nmap prints its scripts' results in the order they finish, and under
    // load ssh-hostkey can miss a key type on either side (one connection
    // per type): up to three rounds, a real difference shows in every one.
    let (ours, theirs) = tokio::task::spawn_blocking(move || {
        let sshd = start_sshd();
        let round = || (scripts_sorted(nmap(addr)), scripts_sorted(nmap(sshd.addr)));
        let mut last = round();
        for _ in 0..2 {
            if last.0 == last.1 {
                break;
            }
            last = round();
        }
        last
    })
    .await
    .unwrap();
    assert!(
        theirs
            .iter()
            .any(|l| l.contains("OpenSSH 9.2p1 Debian 2+deb12u10")),
        "{theirs:#?}"
    );
    assert!(
        theirs.iter().any(|l| l.contains("sntrup761x25519-sha512")),
        "{theirs:#?}"
    );
    assert!(ours == theirs, "{}", diff(&ours, &theirs));
    pot.finish().await;
}
