//! Posted events cannot forge evidence (#26 item 4): an analyst token's event
//! claiming sensor `nectar` and a real honeypot session's id does not appear in
//! that session; recordings, backdating and far-future times are refused; the
//! posting token is recorded and shown.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{Server, client, token, token_for, web_login};

/// Logs in to the Telnet honeypot and runs a command: one session.
fn telnet_session(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"root\r\n123456\r\nuname -a\r\nexit\r\n")
        .unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
}

#[test]
fn a_posted_event_cannot_join_a_honeypot_session() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let analyst = token(&data, "analyst-1", "analyst");
    // A token whose sensor is the server's own name may not post at all.
    let impostor = token_for(&data, "impostor", "analyst", "nectar");
    let server = Server::start(&data, None);
    telnet_session(server.telnet.expect("the Telnet honeypot runs"));

    let c = client();
    let deadline = Instant::now() + Duration::from_secs(30);
    let session = loop {
        let body: Value = c
            .get(format!("{}/api/v1/sessions?range=1h", server.url))
            .bearer_auth(&analyst)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if let Some(s) = body["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["commands"].as_i64() >= Some(1))
        {
            break s["session"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "no honeypot session: {body}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let transcript = |c: &reqwest::blocking::Client| -> Vec<Value> {
        let body: Value = c
            .get(format!("{}/api/v1/sessions/{session}", server.url))
            .bearer_auth(&analyst)
            .send()
            .unwrap()
            .json()
            .unwrap();
        body["events"].as_array().unwrap().clone()
    };
    let before = transcript(&c);

    let post = |token: &str, event: Value| {
        let answer = c
            .post(format!("{}/api/v1/events", server.url))
            .bearer_auth(token)
            .json(&json!([event]))
            .send()
            .unwrap();
        let status = answer.status().as_u16();
        let body: Value = answer.json().unwrap();
        (
            status,
            body["error"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let forged = json!({"kind": "ssh.command", "severity": "critical", "src_ip": "203.0.113.9",
        "summary": "forged", "data": {"input": "forged command", "session": session}});
    // As sensor `nectar`, into the session: refused, naming the sensor.
    let mut as_nectar = forged.clone();
    as_nectar["sensor"] = json!("nectar");
    let (status, error) = post(&analyst, as_nectar);
    assert_eq!(status, 422, "{error}");
    assert!(error.contains("field `sensor`"), "{error}");
    // As its own sensor, into another sensor's session: refused, naming it.
    let (status, error) = post(&analyst, forged.clone());
    assert_eq!(status, 422, "{error}");
    assert!(error.contains("field `data.session`"), "{error}");
    // Through a token whose sensor is the server's own name: refused outright.
    let (status, error) = post(&impostor, forged);
    assert_eq!(status, 403, "{error}");
    // A recording, an old time and a far-future time: refused, naming the field.
    for (event, field) in [
        (
            json!({"kind": "session.close", "summary": "x",
                   "data": {"recording": "recordings/x.cast"}}),
            "field `data.recording`",
        ),
        (
            json!({"kind": "credential.reuse", "severity": "critical", "summary": "x",
                   "time": "2020-01-01T00:00:00Z"}),
            "field `time`",
        ),
        (
            json!({"kind": "http.request", "summary": "x", "time": "2099-01-01T00:00:00Z"}),
            "field `time`",
        ),
    ] {
        let (status, error) = post(&analyst, event);
        assert_eq!(status, 422, "{error}");
        assert!(error.contains(field), "{error}");
    }
    let after = transcript(&c);
    assert_eq!(before.len(), after.len());
    assert!(after.iter().all(|e| e["summary"] != "forged"), "{after:?}");

    // A legitimate post: its sensor is the token's, and the token is recorded
    // and shown on the event page.
    let answer = c
        .post(format!("{}/api/v1/events", server.url))
        .bearer_auth(&analyst)
        .json(&json!([{"kind": "http.request", "summary": "posted by a script"}]))
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200);
    let list: Value = c
        .get(format!("{}/api/v1/events?q=posted+by+a+script", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let event = &list["events"][0];
    assert_eq!(event["sensor"], "analyst-1");
    assert_eq!(event["data"]["submitted_by"], "analyst-1");
    let cookie = web_login(&server, &data);
    let page = c
        .get(format!(
            "{}/events/{}",
            server.url,
            event["id"].as_str().unwrap()
        ))
        .header("cookie", cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        page.contains("Posted by") && page.contains("<code>analyst-1</code>"),
        "{page}"
    );
}
