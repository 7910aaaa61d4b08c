//! Failures visible (#25 item 9): a honeypot that could not start (its port
//! taken) is on the dashboard, in `/api/v1/status` and a `sensor.status` event,
//! not only in the log; the rest of Nectar runs.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Server, client, token, web_login};

#[test]
fn a_honeypot_whose_port_is_taken_is_shown_not_only_logged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let viewer = token(&data, "viewer-1", "viewer");
    // Another program holds the port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let server = Server::start_listening(
        &data,
        None,
        &[],
        &[("--honeypot-telnet-listen", port.as_str())],
    );
    assert!(
        server.telnet.is_none(),
        "the Telnet honeypot cannot be running"
    );
    assert!(server.ssh_addr.is_some(), "the others run");

    let c = client();
    let status: Value = c
        .get(format!("{}/api/v1/status", server.url))
        .bearer_auth(&viewer)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let failures = status["failures"].as_array().expect("failures");
    assert_eq!(failures.len(), 1, "{status}");
    assert_eq!(failures[0]["component"], "telnet honeypot");
    assert_eq!(
        failures[0]["setting"],
        format!("honeypot.telnet.listen = {port}")
    );
    assert!(
        failures[0]["error"].as_str().unwrap().contains("in use"),
        "{status}"
    );

    let cookie = web_login(&server, &data);
    let page = c
        .get(format!("{}/", server.url))
        .header("cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("Not running"), "{page}");
    assert!(page.contains("telnet honeypot"));
    assert!(page.contains(&format!("honeypot.telnet.listen = {port}")));

    // And an event, for search and notifications.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body: Value = c
            .get(format!(
                "{}/api/v1/events?kind=sensor.status&limit=50",
                server.url
            ))
            .bearer_auth(&viewer)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if body["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["data"]["component"] == "telnet honeypot" && e["severity"] == "high")
        {
            break;
        }
        assert!(Instant::now() < deadline, "no sensor.status event: {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(taken);
}

#[test]
fn a_capture_that_cannot_start_is_shown_while_it_lasts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("nectar.toml");
    std::fs::write(&config, "[capture]\ninterface = \"nectarnone0\"\n").unwrap();
    let viewer = token(&data, "viewer-1", "viewer");
    let server = Server::start(&data, Some(&config));
    let c = client();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status: Value = c
            .get(format!("{}/api/v1/status", server.url))
            .bearer_auth(&viewer)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let failures = status["failures"].as_array().expect("failures");
        if let Some(capture) = failures.iter().find(|f| f["component"] == "capture") {
            assert!(
                capture["setting"].as_str().unwrap().contains("nectarnone0"),
                "{capture}"
            );
            assert!(!capture["error"].as_str().unwrap().is_empty());
            break;
        }
        assert!(Instant::now() < deadline, "no capture failure: {status}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
