//! Alerts end to end: a correlation rule "at least N failed logins from one
//! source within T" over events posted to a real `nectar serve`: N−1 raise
//! nothing, N raise one alert, N+1 fold into it, and events straddling a
//! restart still add up. Viewers read alerts and cannot change them; analysts
//! close them with a resolution, and the change is in the alert's history.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::stream::wait_for_lag_zero;
use crate::util::{Server, client, token, web_login};

const SOURCE: &str = "203.0.113.7";

fn post_failures(url: &str, token: &str, n: usize) {
    let events: Vec<Value> = (0..n)
        .map(|i| {
            json!({"kind": "ssh.login.failed", "summary": format!("root failed {i}"),
                   "src_ip": SOURCE, "data": {"username": "root", "password": format!("pw{i}")}})
        })
        .collect();
    let response = client()
        .post(format!("{url}/api/v1/events"))
        .bearer_auth(token)
        .json(&events)
        .send()
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().unwrap()
    );
}

fn alerts(url: &str, token: &str, query: &str) -> Vec<Value> {
    let body: Value = client()
        .get(format!("{url}/api/v1/alerts?{query}"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    body["alerts"].as_array().cloned().unwrap_or_default()
}

/// The brute-force alerts once the rules stage has read everything.
fn brute_force(url: &str, token: &str) -> Vec<Value> {
    wait_for_lag_zero(url, token, &["rules"]);
    alerts(url, token, "rule=nectar.ssh-brute-force")
}

fn wait_for_count(url: &str, token: &str, count: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = brute_force(url, token);
        if found.len() == 1 && found[0]["count"] == count {
            return found[0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no alert with count {count}: {found:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn failed_logins_add_up_to_one_alert_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let analyst = token(&data, "sensor-a", "analyst");
    let viewer = token(&data, "viewer-a", "viewer");
    let mut server = Server::start(&data, None);
    post_failures(&server.url, &analyst, 5);
    assert!(brute_force(&server.url, &analyst).is_empty());
    // The saved correlation state carries the five across the restart.
    assert!(server.sigterm().success());
    let server = Server::start(&data, None);
    post_failures(&server.url, &analyst, 4);
    assert!(
        brute_force(&server.url, &analyst).is_empty(),
        "9 failures must raise nothing"
    );
    post_failures(&server.url, &analyst, 1);
    let alert = wait_for_count(&server.url, &analyst, 10);
    assert_eq!(alert["status"], "new");
    assert_eq!(alert["severity"], "high");
    assert_eq!(alert["group"], json!({"src_ip": SOURCE}));
    assert_eq!(alert["rule"]["techniques"], json!(["T1110.001"]));
    assert!(
        alert["observables"]
            .as_array()
            .unwrap()
            .contains(&json!({"type": "ip", "value": SOURCE, "ioc": true})),
        "{alert}"
    );
    post_failures(&server.url, &analyst, 1);
    let alert = wait_for_count(&server.url, &analyst, 11);
    let id = alert["id"].as_str().unwrap().to_owned();

    // The alert page of the API links its events.
    let detail: Value = client()
        .get(format!("{}/api/v1/alerts/{id}", server.url))
        .bearer_auth(&viewer)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(detail["linked_events"], 11, "{detail}");

    // A viewer cannot change it; closing needs a reason; an analyst closes it.
    let patch = |token: &str, body: Value| {
        client()
            .patch(format!("{}/api/v1/alerts/{id}", server.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap()
    };
    assert_eq!(
        patch(&viewer, json!({"status": "acknowledged"})).status(),
        403
    );
    assert_eq!(patch(&analyst, json!({"status": "closed"})).status(), 422);
    let closed = patch(
        &analyst,
        json!({"status": "closed", "resolution": "true_positive", "assignee": "ana"}),
    );
    assert_eq!(closed.status(), 200);
    let closed: Value = closed.json().unwrap();
    assert_eq!(
        (
            &closed["status"],
            &closed["resolution"],
            &closed["assignee"]
        ),
        (&json!("closed"), &json!("true_positive"), &json!("ana"))
    );
    let detail: Value = client()
        .get(format!("{}/api/v1/alerts/{id}", server.url))
        .bearer_auth(&viewer)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let history = detail["history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["actor"], "sensor-a", "{detail}");
    assert_eq!(
        history.last().unwrap()["change"]["status"],
        json!(["new", "closed"])
    );

    // The rule fires again: a new alert that names the closed one.
    post_failures(&server.url, &analyst, 1);
    wait_for_lag_zero(&server.url, &analyst, &["rules"]);
    let open = alerts(
        &server.url,
        &analyst,
        "rule=nectar.ssh-brute-force&status=new",
    );
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["previous"], json!(id));
}

#[test]
fn a_silenced_source_raises_nothing_but_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let analyst = token(&data, "sensor-b", "analyst");
    let server = Server::start(&data, None);
    let made = client()
        .post(format!("{}/api/v1/silences", server.url))
        .bearer_auth(&analyst)
        .json(&json!({"cidr": "203.0.113.0/24", "reason": "our own scanner", "hours": 1}))
        .send()
        .unwrap();
    assert_eq!(made.status(), 200);
    // The stage reads silences every 2 s.
    std::thread::sleep(Duration::from_millis(2_500));
    post_failures(&server.url, &analyst, 12);
    assert!(brute_force(&server.url, &analyst).is_empty());
    let listed: Value = client()
        .get(format!("{}/api/v1/silences", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        listed["silences"][0]["hits"].as_u64().unwrap() >= 3,
        "{listed}"
    );
    let bad = client()
        .post(format!("{}/api/v1/silences", server.url))
        .bearer_auth(&analyst)
        .json(&json!({"reason": "everything"}))
        .send()
        .unwrap();
    assert_eq!(bad.status(), 400);
    let rules: Value = client()
        .get(format!("{}/api/v1/rules", server.url))
        .bearer_auth(&analyst)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(rules["errors"], json!([]));
    assert!(rules["rules"].as_array().unwrap().len() >= 20);
}

/// A silence is changed, not only made and ended: through the API (a new
/// network: the source it held back raises its alert again) and through the
/// UI's form (a new reason and expiry, with the form's CSRF token); who changed
/// it is recorded. Viewers may not change it. The dead-letter list is in the
/// API too.
#[test]
fn a_silence_is_changed_by_api_and_form_and_dead_letters_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let analyst = token(&data, "sensor-c", "analyst");
    let viewer = token(&data, "reader", "viewer");
    let server = Server::start(&data, None);
    let url = &server.url;
    let made: Value = client()
        .post(format!("{url}/api/v1/silences"))
        .bearer_auth(&analyst)
        .json(&json!({"cidr": "203.0.113.0/24", "reason": "scanner", "hours": 1}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = made["id"].as_str().unwrap().to_owned();
    let change = json!({"cidr": "198.51.100.0/24", "reason": "the scanner moved", "hours": 2});
    let refused = client()
        .put(format!("{url}/api/v1/silences/{id}"))
        .bearer_auth(&viewer)
        .json(&change)
        .send()
        .unwrap();
    assert_eq!(refused.status(), 403);
    let bad = client()
        .put(format!("{url}/api/v1/silences/{id}"))
        .bearer_auth(&analyst)
        .json(&json!({"cidr": "not a network", "reason": "x"}))
        .send()
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().unwrap().contains("cidr"));
    let changed: Value = client()
        .put(format!("{url}/api/v1/silences/{id}"))
        .bearer_auth(&analyst)
        .json(&change)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(changed["cidr"], "198.51.100.0/24");
    assert_eq!(changed["updated_by"], "sensor-c");
    assert_eq!(changed["created_by"], "sensor-c");
    // The stage reads silences every 2 s; 203.0.113.7 is no longer held back.
    std::thread::sleep(Duration::from_millis(2_500));
    post_failures(url, &analyst, 12);
    assert_eq!(brute_force(url, &analyst).len(), 1);

    // The UI's change form: refused without its CSRF token, then applied.
    let cookie = web_login(&server, &data);
    let form = [("reason", "<b>still</b> the scanner"), ("hours", "5")];
    let no_token = client()
        .post(format!("{url}/silences/{id}"))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .unwrap();
    assert_eq!(no_token.status(), 403);
    let page = client()
        .get(format!("{url}/silences"))
        .header("cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let saved = client()
        .post(format!("{url}/silences/{id}"))
        .header("cookie", &cookie)
        .form(&[form[0], form[1], ("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(saved.status(), 303);
    let now: Value = client()
        .get(format!("{url}/api/v1/silences/{id}"))
        .bearer_auth(&viewer)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(now["reason"], "<b>still</b> the scanner");
    assert_eq!(now["updated_by"], "admin");
    assert_eq!(
        now["cidr"], "198.51.100.0/24",
        "the form keeps what it holds back"
    );
    let page = client()
        .get(format!("{url}/silences"))
        .header("cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(!page.contains("<b>still</b>"), "the reason is text");
    assert!(page.contains("changed by admin"));

    // Dead letters: listed for viewers, retried by analysts.
    let dead: Value = client()
        .get(format!("{url}/api/v1/notify/dead-letters"))
        .bearer_auth(&viewer)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(dead, json!({"deliveries": []}));
    let unknown = "0190b2a4-0000-7000-8000-000000000000";
    let retry = |token: &str| {
        client()
            .post(format!("{url}/api/v1/notify/dead-letters/{unknown}/retry"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(retry(&viewer), 403);
    assert_eq!(retry(&analyst), 409);
}

/// What an attacker typed reaches the alert pages as text (user names and
/// passwords become the alert's observables), and a viewer logged in to the
/// UI sees alerts and silences without their forms and is refused every
/// change, even with a valid CSRF token.
#[test]
fn attacker_text_in_observables_is_escaped_and_viewers_cannot_change_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let analyst = token(&data, "sensor-d", "analyst");
    let server = Server::start(&data, None);
    let url = &server.url;
    let events: Vec<Value> = (0..12)
        .map(|i| {
            json!({"kind": "ssh.login.failed", "summary": "failed", "src_ip": SOURCE,
                   "data": {"username": "<img src=x onerror=alert(1)>",
                            "password": format!("\"><script>alert({i})</script>")}})
        })
        .collect();
    let posted = client()
        .post(format!("{url}/api/v1/events"))
        .bearer_auth(&analyst)
        .json(&events)
        .send()
        .unwrap();
    assert!(posted.status().is_success());
    let alert = brute_force(url, &analyst)
        .pop()
        .expect("a brute-force alert");
    let id = alert["id"].as_str().unwrap().to_owned();
    let observables = alert["observables"].to_string();
    assert!(observables.contains("onerror"), "{observables}");

    let password = "viewer-password-456";
    let mut add = std::process::Command::new(crate::util::BIN)
        .arg("--data-dir")
        .arg(&data)
        .args(["user", "add", "vic", "--role", "viewer", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        add.stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
    }
    assert!(add.wait().unwrap().success());
    let http = client();
    let viewer = crate::web::login(&http, url, "vic", password);
    let admin = web_login(&server, &data);
    let page = |cookie: &str, path: &str| {
        http.get(format!("{url}{path}"))
            .header("cookie", cookie)
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    for cookie in [&viewer, &admin] {
        for path in ["/alerts".to_owned(), format!("/alerts/{id}")] {
            let html = page(cookie, &path);
            assert!(!html.contains("<img src=x"), "{path}: {html}");
            assert!(!html.contains("<script>alert("), "{path}");
        }
    }
    let alert_page = page(&viewer, &format!("/alerts/{id}"));
    assert!(
        !alert_page.contains("name=\"action\""),
        "no change form for a viewer"
    );
    assert!(!page(&viewer, "/silences").contains("action=\"/silences\""));
    // A viewer's own session token does not make a change allowed.
    let csrf = alert_page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned();
    assert!(
        !csrf.is_empty(),
        "the viewer's page carries its session's token"
    );
    for (path, form) in [
        (format!("/alerts/{id}"), vec![("action", "ack")]),
        (
            "/alerts/bulk".to_owned(),
            vec![
                ("action", "ack"),
                ("scope", "selected"),
                ("id", id.as_str()),
            ],
        ),
        (
            "/silences".to_owned(),
            vec![("cidr", "203.0.113.0/24"), ("reason", "x"), ("hours", "1")],
        ),
    ] {
        let mut form = form;
        form.push(("csrf", csrf.as_str()));
        let refused = http
            .post(format!("{url}{path}"))
            .header("cookie", &viewer)
            .form(&form)
            .send()
            .unwrap();
        assert_eq!(refused.status(), 403, "{path}");
    }
    let unchanged: Value = client()
        .get(format!("{url}/api/v1/alerts/{id}"))
        .bearer_auth(&analyst)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(unchanged["status"], "new");
}
