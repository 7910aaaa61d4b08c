//! Hosts and scans end to end (issue #17): real traffic in two network
//! namespaces (addresses of 192.0.2.0/24, inside the namespaces only; a lab of
//! servers on 22/tcp, 80/tcp and 53/udp, clients, a DHCP request) captured by
//! tcpdump, `nectar analyze --store`, then `nectar serve`'s inventory and API;
//! real nmap scans of the lab through the API; imports of nmap XML. The
//! namespaces and everything in them are removed by a guard, also on failure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::capture::have;
use crate::util::{Server, all_events, client, nectar, token, web_login};

const CLIENT: &str = "192.0.2.1";
const SERVER: &str = "192.0.2.2";
const NEWCOMER: &str = "192.0.2.3";
const SERVER_MAC: &str = "00:16:3e:00:00:02";
const LAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/serve/data/lab.py");

/// Two namespaces joined by a veth pair: `a` (clients) and `b` (the lab).
struct Lab {
    a: String,
    b: String,
    vb: String,
    servers: Option<Child>,
    children: Vec<Child>,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Lab {
    fn new() -> Lab {
        static N: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "{}{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let lab = Lab {
            a: format!("nha{id}"),
            b: format!("nhb{id}"),
            vb: format!("hb{id}"),
            servers: None,
            children: Vec::new(),
        };
        let va = format!("ha{id}");
        ip(&["netns", "add", &lab.a]);
        ip(&["netns", "add", &lab.b]);
        ip(&[
            "link", "add", &va, "netns", &lab.a, "type", "veth", "peer", "name", &lab.vb, "netns",
            &lab.b,
        ]);
        ip(&["-n", &lab.b, "link", "set", &lab.vb, "address", SERVER_MAC]);
        ip(&[
            "-n",
            &lab.a,
            "addr",
            "add",
            &format!("{CLIENT}/24"),
            "dev",
            &va,
        ]);
        ip(&[
            "-n",
            &lab.b,
            "addr",
            "add",
            &format!("{SERVER}/24"),
            "dev",
            &lab.vb,
        ]);
        for (n, dev) in [(&lab.a, &va), (&lab.b, &lab.vb)] {
            ip(&["-n", n, "link", "set", dev, "up"]);
            ip(&["-n", n, "link", "set", "lo", "up"]);
        }
        lab
    }

    fn cmd(ns: &str, program: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, program]).args(args);
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c
    }

    /// (Re)starts the lab's servers on `ports`, and waits until they answer.
    fn serve(&mut self, ports: &[&str]) {
        if let Some(mut old) = self.servers.take() {
            let _ = old.kill();
            let _ = old.wait();
        }
        let mut args = vec![LAB, SERVER];
        args.extend_from_slice(ports);
        self.servers = Some(Lab::cmd(&self.b, "python3", &args).spawn().expect("lab"));
        let deadline = Instant::now() + Duration::from_secs(20);
        let probe = if ports.contains(&"80") {
            "80"
        } else {
            ports[0]
        };
        loop {
            let ok = Lab::cmd(
                &self.a,
                "python3",
                &[
                    "-c",
                    &format!("import socket; socket.create_connection(('{SERVER}', {probe}), 1)"),
                ],
            )
            .status()
            .is_ok_and(|s| s.success());
            if ok {
                break;
            }
            assert!(Instant::now() < deadline, "the lab did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs a Python snippet in namespace `a` to completion.
    fn client(&self, code: &str) {
        let out = Lab::cmd(&self.a, "timeout", &["20", "python3", "-c", code])
            .stderr(Stdio::piped())
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "{code}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn capture(&mut self, file: &Path) {
        let child = Lab::cmd(
            &self.b,
            "tcpdump",
            &[
                "-i",
                &self.vb,
                "-U",
                "-s",
                "262144",
                "-Z",
                "root",
                "-w",
                file.to_str().unwrap(),
            ],
        )
        .spawn()
        .expect("tcpdump");
        self.children.push(child);
        // tcpdump writes its file header once its socket is open.
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::fs::metadata(file).map_or(0, |m| m.len()) < 24 {
            assert!(Instant::now() < deadline, "tcpdump did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(500));
    }

    /// Stops the captures politely (SIGINT: tcpdump finishes its file).
    fn stop_captures(&mut self) {
        for c in &self.children {
            let _ = Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status();
        }
        for c in &mut self.children {
            let _ = c.wait();
        }
        self.children.clear();
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in self.children.iter_mut().chain(self.servers.as_mut()) {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in [&self.a, &self.b] {
            if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-KILL", pid]).status();
                }
            }
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn tools() -> bool {
    ["ip", "tcpdump", "python3", "nmap"]
        .iter()
        .all(|t| have(t, &["-V"]))
}

/// A TCP connection that reads the banner; a UDP DNS query and its answer;
/// an HTTP GET; a connection to a closed port.
const TRAFFIC: &str = r#"
import socket
s = socket.create_connection(("192.0.2.2", 22), 5); s.recv(100); s.close()
s = socket.create_connection(("192.0.2.2", 80), 5); s.sendall(b"GET / HTTP/1.0\r\n\r\n"); s.recv(1000); s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5)
u.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03lab\x00\x00\x01\x00\x01", ("192.0.2.2", 53)); u.recvfrom(512)
try:
    socket.create_connection(("192.0.2.2", 443), 5)
except OSError:
    pass
"#;

/// A DHCPREQUEST for 192.0.2.7 from 00:16:3e:00:00:07 with a hostile host name.
const DHCP: &str = r#"
import socket
p = bytearray(240)
p[0] = 1; p[1] = 1; p[2] = 6
p[28:34] = bytes([0, 0x16, 0x3e, 0, 0, 7])
p[236:240] = bytes([99, 130, 83, 99])
name = b"lab-printer<script>alert(1)</script>"
p += bytes([53, 1, 3, 50, 4, 192, 0, 2, 7, 12, len(name)]) + name + bytes([255])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 68))
s.sendto(bytes(p), ("192.0.2.255", 67))
"#;

fn write_config(dir: &Path, lab: &Lab, nmap_log: &Path) -> PathBuf {
    // nmap runs in the lab's client namespace through a wrapper that logs each start.
    let wrapper = dir.join("nmap-in-lab.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$@\" >> {}\nexec ip netns exec {} nmap \"$@\"\n",
            nmap_log.display(),
            lab.a
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let config = dir.join("nectar.toml");
    let mut f = std::fs::File::create(&config).unwrap();
    writeln!(
        f,
        r#"[server]
listen = "127.0.0.1:0"
[honeypot.ssh]
enabled = false
[honeypot.telnet]
enabled = false
[honeypot.http]
enabled = false
[inventory]
networks = ["192.0.2.0/24"]
scan_scope = ["192.0.2.0/25"]
gone_after = "1h"
nmap = ["{}"]
[[inventory.subnets]]
cidr = "192.0.2.0/26"
name = "lab <b>bold</b>"
owner = "ops"
[inventory.profiles.labports]
args = ["-Pn"]
ports = "22,53,80,443"
"#,
        wrapper.display()
    )
    .unwrap();
    config
}

fn get(url: &str, token: &str) -> Value {
    let r = client().get(url).bearer_auth(token).send().unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.json().unwrap()
}

/// Polls the host until `check` holds (the inventory stage folds as it catches up).
fn host_when(url: &str, token: &str, address: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = client()
            .get(format!("{url}/api/v1/hosts/{address}"))
            .bearer_auth(token)
            .send()
            .unwrap();
        if r.status() == 200 {
            let v: Value = r.json().unwrap();
            if check(&v) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "host {address} never matched: {v:#}"
            );
        } else {
            assert!(Instant::now() < deadline, "host {address}: {}", r.status());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn service<'a>(host: &'a Value, port: u64, proto: &str) -> Option<&'a Value> {
    host["services"]
        .as_array()?
        .iter()
        .find(|s| s["port"] == port && s["proto"] == proto)
}

fn scan_until_done(url: &str, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let v = get(&format!("{url}/api/v1/scans/{id}"), token);
        match v["status"].as_str() {
            Some("done") => return v,
            Some("failed") => panic!("scan failed: {v:#}"),
            _ => {}
        }
        assert!(Instant::now() < deadline, "scan never ended: {v:#}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn a_capture_fills_the_inventory_and_scans_check_it() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let nmap_log = dir.path().join("nmap-starts.log");
    let mut lab = Lab::new();
    let config = write_config(dir.path(), &lab, &nmap_log);
    let config_s = config.to_str().unwrap();
    lab.serve(&["22", "80", "53"]);

    // Phase 1: services answer, a DHCP client names itself.
    let pcap = dir.path().join("lab.pcap");
    lab.capture(&pcap);
    lab.client(TRAFFIC);
    lab.client(DHCP);
    // Phase 2: SSH stops answering; a new host appears.
    lab.serve(&["80", "53"]);
    lab.client(
        "import socket\ntry:\n    socket.create_connection(('192.0.2.2', 22), 5)\nexcept OSError:\n    pass\n",
    );
    ip(&[
        "-n",
        &lab.a,
        "addr",
        "add",
        &format!("{NEWCOMER}/24"),
        "dev",
        &lab.a.replace("nha", "ha"),
    ]);
    lab.client(&format!(
        "import socket\ns = socket.create_connection(('{SERVER}', 80), 5, source_address=('{NEWCOMER}', 0)); s.close()"
    ));
    std::thread::sleep(Duration::from_millis(1500));
    lab.stop_captures();

    let out = nectar(
        &data,
        &[
            "--config",
            config_s,
            "analyze",
            "--store",
            "--quiet",
            pcap.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "analyze: {stderr}");
    assert!(stderr.contains("Inventory: "), "{stderr}");

    let server = Server::start(&data, Some(&config));
    let viewer = token(&data, "viewer", "viewer");
    let analyst = token(&data, "analyst", "analyst");
    let url = server.url.clone();

    // The lab server: MAC, vendor, services as they were last seen.
    let host = host_when(&url, &viewer, SERVER, |h| {
        service(h, 22, "tcp").is_some_and(|s| s["state"] == "closed")
    });
    assert_eq!(host["mac"], SERVER_MAC);
    assert_eq!(host["vendor"], "Xensource, Inc.");
    assert_eq!(host["os"], "Linux");
    assert_eq!(service(&host, 80, "tcp").unwrap()["state"], "open");
    assert_eq!(service(&host, 53, "udp").unwrap()["state"], "open");
    assert!(service(&host, 443, "tcp").is_none(), "{host:#}");
    for s in host["services"].as_array().unwrap() {
        assert!(
            s["first_seen"].is_string() && s["last_seen"].is_string(),
            "{s}"
        );
    }
    // The client, the newcomer, the DHCP client with its (hostile) name.
    host_when(&url, &viewer, CLIENT, |h| {
        h["services"].as_array().is_some_and(Vec::is_empty)
    });
    host_when(&url, &viewer, NEWCOMER, |_| true);
    let printer = host_when(&url, &viewer, "192.0.2.7", |h| h["name"].is_string());
    assert_eq!(printer["name"], "lab-printer<script>alert(1)</script>");
    assert_eq!(printer["mac"], "00:16:3e:00:00:07");

    // The change events are in the committed stream.
    let closed = all_events(&url, &viewer, "kind=service.closed");
    assert!(
        closed
            .iter()
            .any(|e| e["data"]["address"] == SERVER && e["data"]["port"] == 22),
        "{closed:#?}"
    );
    let discovered = all_events(&url, &viewer, "kind=host.discovered");
    assert!(
        discovered.iter().any(|e| e["data"]["address"] == NEWCOMER),
        "{discovered:#?}"
    );

    // The list: search by prefix, port, text; cursor paging.
    let list = get(
        &format!("{url}/api/v1/hosts?q=192.0.2.0/30&limit=2"),
        &viewer,
    );
    let page: Vec<&str> = list["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["address"].as_str().unwrap())
        .collect();
    assert_eq!(page, [CLIENT, SERVER]);
    let next = list["next_cursor"].as_str().unwrap();
    let list = get(
        &format!("{url}/api/v1/hosts?q=192.0.2.0/30&limit=2&cursor={next}"),
        &viewer,
    );
    assert_eq!(list["hosts"][0]["address"], NEWCOMER);
    assert!(list["next_cursor"].is_null());
    let by_port = get(&format!("{url}/api/v1/hosts?port=53"), &viewer);
    assert_eq!(by_port["hosts"].as_array().unwrap().len(), 1);
    let by_text = get(&format!("{url}/api/v1/hosts?q=xensource"), &viewer);
    assert!(by_text["hosts"].as_array().unwrap().len() >= 2);
    let r = client()
        .get(format!("{url}/api/v1/hosts?port=http"))
        .bearer_auth(&viewer)
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);

    // Analysts edit; the history keeps it; viewers may not.
    let patch = json!({"owner": "Ops <team>", "tags": ["lab", "linux"]});
    let r = client()
        .patch(format!("{url}/api/v1/hosts/{SERVER}"))
        .bearer_auth(&viewer)
        .json(&patch)
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = client()
        .patch(format!("{url}/api/v1/hosts/{SERVER}"))
        .bearer_auth(&analyst)
        .json(&patch)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let host = get(&format!("{url}/api/v1/hosts/{SERVER}"), &viewer);
    assert_eq!(host["owner"], "Ops <team>");
    assert!(
        host["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["field"] == "owner" && h["actor"] == "analyst")
    );
    assert_eq!(
        get(&format!("{url}/api/v1/hosts?tag=lab"), &viewer)["hosts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let subnets = get(&format!("{url}/api/v1/subnets"), &viewer);
    assert!(
        subnets["subnets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "lab <b>bold</b>" && s["hosts"].as_u64() >= Some(4))
    );

    // Attacker text is escaped on the pages.
    let cookie = web_login(&server, &data);
    for page in [
        "/hosts",
        "/hosts?q=192.0.2.7",
        "/hosts/192.0.2.7",
        "/subnets",
    ] {
        let body = client()
            .get(format!("{url}{page}"))
            .header("cookie", &cookie)
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(
            !body.contains("<script>alert(1)")
                && !body.contains("<b>bold</b>")
                && !body.contains("Ops <team>"),
            "{page}: {body}"
        );
    }
    let body = client()
        .get(format!("{url}/hosts/192.0.2.7"))
        .header("cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        body.contains("lab-printer&#60;script&#62;") || body.contains("lab-printer&lt;script&gt;"),
        "{body}"
    );

    // A target outside scan_scope: 422 naming it, and nmap never started.
    let r = client()
        .post(format!("{url}/api/v1/scans"))
        .bearer_auth(&analyst)
        .json(&json!({"profile": "fast", "targets": [SERVER, "192.0.2.200"]}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 422);
    let err: Value = r.json().unwrap();
    assert!(
        err["error"].as_str().unwrap().contains("192.0.2.200"),
        "{err}"
    );
    let r = client()
        .post(format!("{url}/api/v1/scans"))
        .bearer_auth(&viewer)
        .json(&json!({"profile": "fast", "targets": [SERVER]}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(!nmap_log.exists(), "nmap was started for a refused scan");

    // A scan with the lab's profile finds what nmap finds (22 is down now).
    lab.serve(&["22", "80", "53"]);
    let r = client()
        .post(format!("{url}/api/v1/scans"))
        .bearer_auth(&analyst)
        .json(&json!({"profile": "labports", "targets": [SERVER]}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 202);
    let scan: Value = r.json().unwrap();
    assert!(
        matches!(scan["status"].as_str(), Some("queued" | "running")),
        "{scan}"
    );
    let done = scan_until_done(&url, &viewer, scan["id"].as_str().unwrap());
    let found = &done["hosts"][0];
    assert_eq!(found["address"], SERVER);
    let ports: Vec<u64> = found["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, [22, 80], "{done:#}");
    assert_eq!(
        std::fs::read_to_string(&nmap_log).unwrap().lines().count(),
        1
    );
    let host = host_when(&url, &viewer, SERVER, |h| {
        service(h, 22, "tcp").is_some_and(|s| s["state"] == "open" && s["source"] == "nmap")
    });
    assert_eq!(service(&host, 80, "tcp").unwrap()["service"], "http");

    // SSH stops; a rescan raises service.closed.
    lab.serve(&["80", "53"]);
    let r = client()
        .post(format!("{url}/api/v1/scans"))
        .bearer_auth(&analyst)
        .json(&json!({"profile": "labports", "targets": [SERVER]}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 202);
    let scan: Value = r.json().unwrap();
    scan_until_done(&url, &viewer, scan["id"].as_str().unwrap());
    host_when(&url, &viewer, SERVER, |h| {
        service(h, 22, "tcp").is_some_and(|s| s["state"] == "closed" && s["source"] == "nmap")
    });
    let closed = all_events(&url, &viewer, "kind=service.closed");
    assert!(
        closed
            .iter()
            .any(|e| e["data"]["source"] == "nmap" && e["data"]["port"] == 22),
        "{closed:#?}"
    );
}

/// Real `nmap -sV` output of the lab (crates/inventory/tests/data).
const SAMPLE: &str = include_str!("../../crates/inventory/tests/data/nmap-sv.xml");

#[test]
fn imported_nmap_xml_lands_and_hostile_xml_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("nectar.toml");
    std::fs::write(
        &config,
        "[honeypot.ssh]\nenabled = false\n[honeypot.telnet]\nenabled = false\n[honeypot.http]\nenabled = false\n",
    )
    .unwrap();
    let server = Server::start(&data, Some(&config));
    let analyst = token(&data, "analyst", "analyst");
    let url = server.url.clone();
    let post = |body: Vec<u8>| {
        client()
            .post(format!("{url}/api/v1/scans/import"))
            .bearer_auth(&analyst)
            .header("content-type", "application/xml")
            .body(body)
            .send()
            .unwrap()
    };
    let r = post(SAMPLE.as_bytes().to_vec());
    assert_eq!(r.status(), 201);
    let host = host_when(&url, &analyst, SERVER, |h| {
        h["services"].as_array().is_some_and(|s| s.len() == 2)
    });
    let ssh = service(&host, 22, "tcp").unwrap();
    assert_eq!(
        (ssh["service"].as_str(), ssh["source"].as_str()),
        (Some("ssh"), Some("import"))
    );
    assert!(
        ssh["version"].as_str().unwrap().contains("OpenSSH 9.2p1"),
        "{ssh}"
    );
    assert_eq!(host["mac"], "8a:01:a7:d8:45:b4");

    // Entity expansion, truncation, not nmap: 422, never a crash.
    let bomb = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE n [<!ENTITY a \"{}\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><nmaprun args=\"&b;\"></nmaprun>",
        "x".repeat(1000)
    );
    for body in [
        bomb.into_bytes(),
        SAMPLE.as_bytes()[..SAMPLE.len() / 2].to_vec(),
        b"<html/>".to_vec(),
    ] {
        let r = post(body);
        assert_eq!(r.status(), 422);
        let err: Value = r.json().unwrap();
        assert!(
            err["error"].as_str().unwrap().starts_with("nmap XML"),
            "{err}"
        );
    }
    // Larger than nmap XML may be (64 MiB): refused before it is read whole.
    let huge = vec![b' '; 65 * 1024 * 1024];
    assert_eq!(post(huge).status(), 413);
    // The server still answers.
    assert_eq!(
        get(&format!("{url}/api/v1/hosts"), &analyst)["hosts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // `nectar ctl`: hosts list and show, scans list and import.
    let ctl = |args: &[&str]| {
        let out = Command::new(crate::util::BIN)
            .arg("ctl")
            .args(["--url", &url, "--token", &analyst])
            .args(args)
            .env_remove("NECTAR_URL")
            .env_remove("NECTAR_TOKEN")
            .env_remove("NECTAR_CTL_CONFIG")
            .env_remove("NECTAR_CONFIG")
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = ctl(&["hosts", "list", "--port", "22"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains(SERVER) && stdout.contains("22/tcp 80/tcp"),
        "{stdout}"
    );
    let (code, stdout, _) = ctl(&["hosts", "show", SERVER]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("OpenSSH 9.2p1") && stdout.contains("discovered"),
        "{stdout}"
    );
    let file = dir.path().join("scan.xml");
    std::fs::write(&file, SAMPLE).unwrap();
    let (code, stdout, stderr) = ctl(&["scans", "import", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("import: done (1 host(s) up)"), "{stdout}");
    let (code, stdout, _) = ctl(&["scans", "list"]);
    assert_eq!(
        (code, stdout.matches("import").count()),
        (Some(0), 2),
        "{stdout}"
    );
    std::fs::write(&file, "<nmaprun>").unwrap();
    let (code, _, stderr) = ctl(&["scans", "import", file.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("truncated"), "{stderr}");
    let (code, _, stderr) = ctl(&["scans", "run", "fast", "198.51.100.1"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("198.51.100.1"), "{stderr}");

    // A CSV export of a search holds exactly the chosen columns and rows.
    let cookie = web_login(&server, &data);
    let csv = client()
        .get(format!(
            "{url}/hosts/export.csv?q=192.0.2.0%2F24&col=mac&col=address&col=ports"
        ))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(
        csv.text().unwrap(),
        format!("address,mac,ports\n{SERVER},8a:01:a7:d8:45:b4,22/tcp 80/tcp\n")
    );
    let csv = client()
        .get(format!(
            "{url}/hosts/export.csv?q=198.51.100.0%2F24&col=address"
        ))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(csv.text().unwrap(), "address\n");

    // Scans without a scope: refused, naming the target.
    let r = client()
        .post(format!("{url}/api/v1/scans"))
        .bearer_auth(&analyst)
        .json(&json!({"profile": "version", "targets": ["198.51.100.1"]}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("198.51.100.1"));
}
