//! Incidents end to end on a real `nectar serve`: alerts raised from posted
//! failed logins are escalated into incidents through the API and, in headless
//! Chromium, through the alert queue's bulk form; the case is worked (comment,
//! task, observable, attachment, status, close) and every step is in the
//! history with the user's name. Hostile Markdown renders harmless, an
//! `x.html` attachment is downloaded and never rendered, the same address in
//! two incidents says so on both, a viewer gets 403 on every change, and a
//! form without its CSRF token is refused.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::stream::wait_for_lag_zero;
use crate::util::{Server, client, nectar, token, web_login};
use crate::webdriver::{Browser, chromium_available};

/// Ten failed logins from `source`: one brute-force alert.
fn raise_alert(url: &str, token: &str, source: &str) -> String {
    let events: Vec<Value> = (0..10)
        .map(|i| {
            json!({"kind": "ssh.login.failed", "summary": format!("root failed {i}"),
                   "src_ip": source, "data": {"username": "root", "password": format!("pw{i}")}})
        })
        .collect();
    let response = client()
        .post(format!("{url}/api/v1/events"))
        .bearer_auth(token)
        .json(&events)
        .send()
        .unwrap();
    assert!(response.status().is_success());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        wait_for_lag_zero(url, token, &["rules"]);
        let body: Value = client()
            .get(format!("{url}/api/v1/alerts?src_ip={source}"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if let Some(id) = body["alerts"][0]["id"].as_str() {
            return id.to_owned();
        }
        assert!(Instant::now() < deadline, "no alert from {source}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn get(url: &str, token: &str, path: &str) -> Value {
    let response = client()
        .get(format!("{url}{path}"))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().unwrap()
}

fn send(
    url: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> reqwest::blocking::Response {
    client()
        .request(method, format!("{url}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .unwrap()
}

fn upload(
    url: &str,
    token: &str,
    id: &str,
    name: &str,
    content: &[u8],
) -> reqwest::blocking::Response {
    // Written by hand: reqwest's multipart support is not built here.
    let boundary = "nectar-test-boundary-7f3a";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: text/html\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    client()
        .post(format!("{url}/api/v1/incidents/{id}/attachments"))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .unwrap()
}

const HOSTILE: &str = "Look: <script>alert('c')</script> and <img src=x onerror=alert(1)> \
    and [click me](javascript:alert(2)) and <b onclick=\"alert(3)\">raw</b> **bold**";

#[test]
fn incidents_through_the_api_roles_xss_attachments_and_shared_observables() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let analyst = token(&data, "ana", "analyst");
    let viewer = token(&data, "vic", "viewer");
    let admin = token(&data, "root-token", "admin");
    let server = Server::start(&data, None);
    let url = server.url.as_str();
    let first = raise_alert(url, &analyst, "203.0.113.21");
    let second = raise_alert(url, &analyst, "203.0.113.22");

    // Escalate both into a new incident.
    let made = send(
        url,
        &analyst,
        reqwest::Method::POST,
        "/api/v1/incidents",
        &json!({"title": "Brute force from two sources", "alerts": [first, second]}),
    );
    assert_eq!(made.status(), 201);
    let incident: Value = made.json().unwrap();
    let id = incident["id"].as_str().unwrap().to_owned();
    assert_eq!(incident["status"], "new");
    assert_eq!(incident["alerts"].as_array().unwrap().len(), 2);
    assert_eq!(incident["techniques"], json!(["T1110.001"]));
    let values: Vec<&str> = incident["observables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["value"].as_str())
        .collect();
    assert!(
        values.contains(&"203.0.113.21") && values.contains(&"203.0.113.22"),
        "{incident}"
    );
    // The alert names its incident; it cannot be escalated twice.
    let alert = get(url, &viewer, &format!("/api/v1/alerts/{first}"));
    assert_eq!(alert["incident"], json!(id));
    let twice = send(
        url,
        &analyst,
        reqwest::Method::POST,
        "/api/v1/incidents",
        &json!({"title": "again", "alerts": [first]}),
    );
    assert_eq!(twice.status(), 409);
    // The incident's events are the alerts' events.
    let timeline = get(url, &viewer, &format!("/api/v1/incidents/{id}/timeline"));
    let events = timeline["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "event")
        .count();
    assert_eq!(events, 20, "{timeline}");

    // Bad input names the field.
    let bad = send(
        url,
        &analyst,
        reqwest::Method::PATCH,
        &format!("/api/v1/incidents/{id}"),
        &json!({"tlp": "purple"}),
    );
    assert_eq!(bad.status(), 400);
    assert!(bad.text().unwrap().contains("tlp"));
    let unclosed = send(
        url,
        &analyst,
        reqwest::Method::PATCH,
        &format!("/api/v1/incidents/{id}"),
        &json!({"status": "closed"}),
    );
    assert_eq!(unclosed.status(), 422);

    // Hostile Markdown renders harmless.
    let comment = send(
        url,
        &analyst,
        reqwest::Method::POST,
        &format!("/api/v1/incidents/{id}/comments"),
        &json!({"body": HOSTILE}),
    );
    assert_eq!(comment.status(), 201);
    let comment: Value = comment.json().unwrap();
    let html = comment["html"].as_str().unwrap();
    // Every tag left is a plain one; the link lost its javascript: target.
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or_default();
        assert!(
            [
                "p",
                "/p",
                "strong",
                "/strong",
                "/a",
                "a rel=\"noopener noreferrer nofollow\""
            ]
            .contains(&tag),
            "<{tag}> in {html}"
        );
    }
    assert!(
        html.contains("<strong>bold</strong>") && html.contains("&lt;script&gt;"),
        "{html}"
    );

    // An x.html attachment is kept by SHA-256 and always downloaded.
    let page = b"<html><script>alert('attached')</script></html>";
    let attached = upload(url, &analyst, &id, "x.html", page);
    assert_eq!(attached.status(), 201);
    let attached: Value = attached.json().unwrap();
    let sha256 = attached["sha256"].as_str().unwrap().to_owned();
    assert_eq!(sha256.len(), 64);
    assert_eq!(attached["name"], "x.html");
    assert_eq!(attached["md5"].as_str().unwrap().len(), 32);
    let cookie = web_login(&server, &data);
    for (path, auth) in [
        (
            format!("/api/v1/incidents/{id}/attachments/{sha256}"),
            Some(&viewer),
        ),
        (format!("/incidents/{id}/attachments/{sha256}"), None),
    ] {
        let mut request = client().get(format!("{url}{path}"));
        request = match auth {
            Some(t) => request.bearer_auth(t),
            None => request.header("cookie", &cookie),
        };
        let download = request.send().unwrap();
        assert_eq!(download.status(), 200, "{path}");
        let headers = download.headers().clone();
        assert_eq!(
            headers["content-type"], "application/octet-stream",
            "{path}"
        );
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(
            disposition.starts_with("attachment;") && disposition.contains("x.html"),
            "{disposition}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(download.bytes().unwrap().as_ref(), page);
    }
    // Larger than the bound: 413 naming the setting.
    let huge = upload(
        url,
        &analyst,
        &id,
        "big.bin",
        &vec![0u8; 20 * 1024 * 1024 + 1],
    );
    assert_eq!(huge.status(), 413);
    assert!(huge.text().unwrap().contains("max_attachment_bytes"));

    // The same address in a second incident says so on both.
    let other = send(
        url,
        &analyst,
        reqwest::Method::POST,
        "/api/v1/incidents",
        &json!({"title": "Seen again", "template": "network-scan-from-outside"}),
    );
    assert_eq!(other.status(), 201);
    let other: Value = other.json().unwrap();
    let other_id = other["id"].as_str().unwrap().to_owned();
    assert_eq!(other["counts"]["tasks"], 3, "{other}");
    let added = send(
        url,
        &analyst,
        reqwest::Method::POST,
        &format!("/api/v1/incidents/{other_id}/observables"),
        &json!({"text": "203.0.113.21\ndomain:evil.example\n", "ioc": true}),
    );
    assert_eq!(added.status(), 200);
    assert_eq!(added.json::<Value>().unwrap()["added"], 2);
    let seen = |incident: &str| -> Value {
        let list = get(
            url,
            &viewer,
            &format!("/api/v1/incidents/{incident}/observables"),
        );
        list["observables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["value"] == "203.0.113.21")
            .cloned()
            .unwrap()
    };
    assert_eq!(seen(&id)["seen_incidents"], 1);
    assert_eq!(seen(&other_id)["seen_incidents"], 1);
    assert_eq!(seen(&other_id)["seen_alerts"], 1);
    for incident in [&id, &other_id] {
        let html = client()
            .get(format!("{url}/incidents/{incident}?tab=observables"))
            .header("cookie", &cookie)
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(
            html.contains("seen in 1 other incident"),
            "{incident}: {html}"
        );
    }

    // A viewer reads everything and changes nothing.
    get(url, &viewer, &format!("/api/v1/incidents/{id}"));
    get(url, &viewer, "/api/v1/incidents?status=open");
    let changes: Vec<(reqwest::Method, String, Value)> = vec![
        (
            reqwest::Method::POST,
            "/api/v1/incidents".into(),
            json!({"title": "x"}),
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/v1/incidents/{id}"),
            json!({"status": "in_progress"}),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/v1/incidents/{id}"),
            json!({}),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/incidents/{id}/comments"),
            json!({"body": "x"}),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/incidents/{id}/tasks"),
            json!({"title": "x"}),
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/v1/incidents/{id}/tasks/1"),
            json!({"done": true}),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/incidents/{id}/observables"),
            json!({"text": "192.0.2.1"}),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/incidents/{id}/timeline"),
            json!({"text": "x"}),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/incidents/{id}/alerts"),
            json!({"alerts": [second]}),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/incidents/{id}/merge"),
            json!({"into": other_id}),
        ),
    ];
    for (method, path, body) in &changes {
        let answer = send(url, &viewer, method.clone(), path, body);
        assert_eq!(answer.status(), 403, "{method} {path}");
    }
    assert_eq!(upload(url, &viewer, &id, "v.txt", b"v").status(), 403);
    // An analyst may not delete; an admin may, and the deletion is in the history.
    let delete = |t: &str| {
        send(
            url,
            t,
            reqwest::Method::DELETE,
            &format!("/api/v1/incidents/{other_id}"),
            &json!({}),
        )
    };
    assert_eq!(delete(&analyst).status(), 403);
    assert_eq!(delete(&admin).status(), 200);
    let history = get(
        url,
        &viewer,
        &format!("/api/v1/incidents/{other_id}/history"),
    );
    let last = history["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["action"].as_str(), last["actor"].as_str()),
        (Some("deleted"), Some("root-token"))
    );
    assert_eq!(
        client()
            .get(format!("{url}/api/v1/incidents/{other_id}"))
            .bearer_auth(&viewer)
            .send()
            .unwrap()
            .status(),
        404
    );

    // Close with a resolution; the history holds each step with its actor.
    let closed = send(
        url,
        &analyst,
        reqwest::Method::PATCH,
        &format!("/api/v1/incidents/{id}"),
        &json!({"status": "closed", "resolution": "true_positive_without_impact"}),
    );
    assert_eq!(closed.status(), 200);
    let history = get(url, &viewer, &format!("/api/v1/incidents/{id}/history"));
    let steps: Vec<(String, String)> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["actor"].as_str().unwrap().to_owned(),
                h["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("ana", "created"),
            ("ana", "comment_added"),
            ("ana", "attachment_added"),
            ("ana", "updated")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );

    // The pages: hostile Markdown is harmless there too, the printable page
    // and the JSON export carry the case.
    let page = |path: &str| {
        client()
            .get(format!("{url}{path}"))
            .header("cookie", &cookie)
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    for path in [
        format!("/incidents/{id}?tab=comments"),
        format!("/incidents/{id}/print"),
    ] {
        let html = page(&path);
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<img src=x"), "{path}");
        assert!(!html.contains("<b onclick"), "{path}");
        assert!(!html.contains("href=\"javascript"), "{path}");
        assert!(html.contains("<strong>bold</strong>"), "{path}");
    }
    let export: Value =
        serde_json::from_str(&page(&format!("/incidents/{id}/export.json"))).unwrap();
    assert_eq!(export["incident"]["status"], "closed");
    assert_eq!(export["alerts"].as_array().unwrap().len(), 2);
    assert_eq!(export["events"].as_array().unwrap().len(), 20);

    // A form without its CSRF token is refused, with one it is taken.
    let refused = client()
        .post(format!("{url}/incidents/{id}/comments"))
        .header("cookie", &cookie)
        .form(&[("body", "no token")])
        .send()
        .unwrap();
    assert_eq!(refused.status(), 403);
    let html = page(&format!("/incidents/{id}?tab=comments"));
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let taken = client()
        .post(format!("{url}/incidents/{id}/comments"))
        .header("cookie", &cookie)
        .form(&[("body", "with a token"), ("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(taken.status(), 303);

    // The answers match the OpenAPI document.
    let doc: Value = client()
        .get(format!("{url}/api/v1/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let check = |method: reqwest::Method, template: &str, path: &str, body: Option<Value>| {
        crate::openapi::call(&doc, url, &admin, method, template, path, body)
    };
    let t = "/api/v1/incidents/{id}";
    check(
        reqwest::Method::GET,
        "/api/v1/incidents",
        "/api/v1/incidents?status=closed",
        None,
    );
    check(
        reqwest::Method::GET,
        "/api/v1/incidents",
        "/api/v1/incidents?status=nope",
        None,
    );
    check(
        reqwest::Method::GET,
        t,
        &format!("/api/v1/incidents/{id}"),
        None,
    );
    check(
        reqwest::Method::GET,
        t,
        "/api/v1/incidents/0190f5e0-0000-7000-8000-000000000000",
        None,
    );
    check(
        reqwest::Method::PATCH,
        t,
        &format!("/api/v1/incidents/{id}"),
        Some(json!({"tags": ["ssh"]})),
    );
    for part in [
        "comments",
        "tasks",
        "observables",
        "timeline",
        "attachments",
        "history",
        "export",
    ] {
        check(
            reqwest::Method::GET,
            &format!("{t}/{part}"),
            &format!("/api/v1/incidents/{id}/{part}"),
            None,
        );
    }
    let task = check(
        reqwest::Method::POST,
        &format!("{t}/tasks"),
        &format!("/api/v1/incidents/{id}/tasks"),
        Some(json!({"title": "Report the sources", "assignee": "ana"})),
    );
    check(
        reqwest::Method::PATCH,
        &format!("{t}/tasks/{{task}}"),
        &format!("/api/v1/incidents/{id}/tasks/{}", task["id"]),
        Some(json!({"done": true})),
    );
    check(
        reqwest::Method::POST,
        &format!("{t}/timeline"),
        &format!("/api/v1/incidents/{id}/timeline"),
        Some(json!({"at": "2026-12-01T10:00:00Z", "text": "First probe seen"})),
    );
    check(
        reqwest::Method::GET,
        "/api/v1/incident-templates",
        "/api/v1/incident-templates",
        None,
    );
    // A third alert into the existing incident; then merge a fresh one into it.
    let third = raise_alert(url, &analyst, "203.0.113.23");
    let grown = check(
        reqwest::Method::POST,
        &format!("{t}/alerts"),
        &format!("/api/v1/incidents/{id}/alerts"),
        Some(json!({"alerts": [third]})),
    );
    assert_eq!(grown["alerts"].as_array().unwrap().len(), 3, "{grown}");
    let small = check(
        reqwest::Method::POST,
        "/api/v1/incidents",
        "/api/v1/incidents",
        Some(json!({"title": "Small", "tags": ["dup"]})),
    );
    let merged = check(
        reqwest::Method::POST,
        &format!("{t}/merge"),
        &format!("/api/v1/incidents/{}/merge", small["id"].as_str().unwrap()),
        Some(json!({"into": id})),
    );
    assert!(merged["tags"].as_array().unwrap().contains(&json!("dup")));
    let source = get(
        url,
        &viewer,
        &format!("/api/v1/incidents/{}", small["id"].as_str().unwrap()),
    );
    assert_eq!(
        (
            source["resolution"].as_str(),
            source["merged_into"].as_str()
        ),
        (Some("duplicate"), Some(id.as_str()))
    );

    // nectar ctl incidents: list, create, comment, close, show.
    let ctl = |args: &[&str]| {
        let mut all = vec!["ctl", "--url", url, "--token", analyst.as_str()];
        all.extend_from_slice(args);
        let out = nectar(&data, &all);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(ctl(&["incidents", "list", "--status", "closed"]).contains(&id));
    let made: Value = serde_json::from_str(
        ctl(&["--json", "incidents", "create", "--title", "From the CLI"]).trim(),
    )
    .unwrap();
    let cli_id = made["id"].as_str().unwrap();
    ctl(&["incidents", "comment", cli_id, "checked the logs"]);
    assert!(ctl(&["incidents", "close", cli_id, "--resolution", "benign"]).contains("benign"));
    let shown = ctl(&["incidents", "show", cli_id]);
    assert!(
        shown.contains("checked the logs") && shown.contains("closed"),
        "{shown}"
    );
}

/// Waits (at most 15 s) until the browser's URL satisfies `done`.
fn wait_for_url(browser: &Browser, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = browser.current_url();
        if done(&url) {
            return url;
        }
        assert!(
            Instant::now() < deadline,
            "browser stayed at {url}: {}",
            browser.find("body").text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (at most 15 s) until an element matching `css` contains `text`: a
/// form that answers with the page it came from leaves the URL as it was.
fn wait_for_text(browser: &Browser, css: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if browser
            .find_all(css)
            .iter()
            .any(|e| e.try_text().is_some_and(|t| t.contains(text)))
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {css} with {text:?} on {}: {}",
            browser.current_url(),
            browser.find("body").text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_analyst_works_an_incident_in_the_browser() {
    if !chromium_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let sensor = token(&data, "sensor", "analyst");
    let server = Server::start(&data, None);
    let url = server.url.clone();
    let a = raise_alert(&url, &sensor, "198.51.100.31");
    let b = raise_alert(&url, &sensor, "198.51.100.32");
    let password = std::fs::read_to_string(data.join("initial-admin-password"))
        .unwrap()
        .trim()
        .to_owned();

    let browser = Browser::start(1366, 900);
    browser.goto(&format!("{url}/alerts"));
    browser.find("input[name=username]").type_text("admin");
    browser.find("input[name=password]").type_text(&password);
    browser
        .find("form[action='/login'] button[type=submit]")
        .click();
    wait_for_url(&browser, |u| u.ends_with("/alerts"));

    // Select both alerts in the queue and escalate them to a new incident.
    browser
        .find(&format!("input[name=id][value='{a}']"))
        .click();
    browser
        .find(&format!("input[name=id][value='{b}']"))
        .click();
    browser
        .find("input[name=incident_title]")
        .type_text("Two brute-forcers");
    browser.find("button[value=escalate_new]").click();
    let at = wait_for_url(&browser, |u| u.contains("/incidents/"));
    let id = at
        .split("/incidents/")
        .nth(1)
        .unwrap()
        .split(['?', '#'])
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(browser.find("h1").text(), "Two brute-forcers");
    assert!(browser.find("nav.tabs").text().contains("Alerts (2)"));

    // A comment.
    browser.find("nav.tabs a[href$='tab=comments']").click();
    wait_for_url(&browser, |u| u.ends_with("tab=comments"));
    browser.find("textarea[name=body]").type_text(HOSTILE);
    browser.find("form[action$='/comments'] button").click();
    wait_for_text(&browser, "article.comment", "bold");
    let comment = browser.find("article.comment");
    assert!(
        comment.text().contains("<script>alert('c')</script>"),
        "{}",
        comment.text()
    );
    assert!(
        browser
            .find_all("article.comment script, article.comment img")
            .is_empty()
    );
    assert!(
        browser
            .find_all("article.comment a[href^='javascript']")
            .is_empty()
    );

    // A task, done.
    browser.find("nav.tabs a[href$='tab=tasks']").click();
    wait_for_url(&browser, |u| u.ends_with("tab=tasks"));
    browser
        .find("input[name=title]")
        .type_text("Block both sources");
    browser.find("form[action$='/tasks'] button").click();
    wait_for_text(&browser, "table.events", "Block both sources");
    browser.find("form[action*='/tasks/'] button").click();
    wait_for_text(&browser, "del", "Block both sources");

    // An observable.
    browser.find("nav.tabs a[href$='tab=observables']").click();
    wait_for_url(&browser, |u| u.ends_with("tab=observables"));
    browser
        .find("textarea[name=text]")
        .type_text("evil.example\n203.0.113.99");
    browser.find("form[action$='/observables'] button").click();
    wait_for_text(&browser, "table.events", "evil.example");
    assert!(browser.find("table.events").text().contains("203.0.113.99"));

    // An attachment.
    let file = dir.path().join("x.html");
    std::fs::write(&file, "<script>alert('file')</script>").unwrap();
    browser.find("nav.tabs a[href$='tab=attachments']").click();
    wait_for_url(&browser, |u| u.ends_with("tab=attachments"));
    browser
        .find("input[type=file]")
        .type_text(file.to_str().unwrap());
    browser.find("form[action$='/attachments'] button").click();
    wait_for_text(&browser, "table.events", "x.html");

    // Status in progress, then closed with a resolution.
    browser.find("nav.tabs a[href$='tab=summary']").click();
    wait_for_url(&browser, |u| u.ends_with("tab=summary"));
    browser
        .find("#status-form select[name=status] option[value=in_progress]")
        .click();
    browser.find("#status-form button").click();
    wait_for_text(&browser, "#status", "in_progress");
    browser
        .find("#status-form select[name=status] option[value=closed]")
        .click();
    browser
        .find("#status-form select[name=resolution] option[value=true_positive_without_impact]")
        .click();
    browser.find("#status-form button").click();
    wait_for_text(&browser, "#status", "closed (true_positive_without_impact)");

    // Every step is in the history with the user's name.
    browser.find("nav.tabs a[href$='tab=history']").click();
    wait_for_url(&browser, |u| u.ends_with("tab=history"));
    let rows: Vec<String> = browser
        .find_all("table.events tbody tr")
        .iter()
        .map(|r| r.text())
        .collect();
    for action in [
        "created",
        "comment_added",
        "task_added",
        "task_updated",
        "observables_added",
        "attachment_added",
        "updated",
    ] {
        assert!(
            rows.iter()
                .any(|r| r.contains(action) && r.contains("admin")),
            "{action} by admin not in {rows:?}"
        );
    }
    // The alert page names its incident.
    browser.goto(&format!("{url}/alerts/{a}"));
    assert!(
        browser
            .find(&format!("a[href='/incidents/{id}']"))
            .text()
            .contains(&id)
    );
}
