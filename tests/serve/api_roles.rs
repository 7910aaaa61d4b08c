//! Every API route tried by every role: below the route's role the answer is 403 and
//! nothing changes; a browser's session cookie may read but never change anything
//! (no CSRF token travels with API calls, so a cookie alone must not suffice).

use reqwest::Method;
use serde_json::{Value, json};

use crate::util::{Server, all_events, client, token, token_for};
use crate::web::login;

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Role {
    Viewer,
    Analyst,
    Admin,
}

/// What the store holds that a refused request might have changed.
fn state(url: &str, admin: &str) -> Value {
    let get = |path: &str| -> Value {
        client()
            .get(format!("{url}{path}"))
            .bearer_auth(admin)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let mut tokens = get("/api/v1/tokens");
    for t in tokens["tokens"].as_array_mut().unwrap() {
        t.as_object_mut().unwrap().remove("last_used");
    }
    json!({
        "users": get("/api/v1/users"),
        "tokens": tokens,
        "events": all_events(url, admin, "").len(),
    })
}

#[test]
fn each_api_route_by_each_role_and_by_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let tokens = [
        (Role::Viewer, token(&data, "v", "viewer")),
        // Its events join the admin token's session `s1`: the same sensor.
        (
            Role::Analyst,
            token_for(&data, "a", "analyst", "root-token"),
        ),
        (Role::Admin, token(&data, "root-token", "admin")),
    ];
    let admin = tokens[2].1.clone();
    let server = Server::start(&data, None);
    let url = server.url.as_str();
    let http = client();
    let post_event = json!([{"kind": "http.request", "summary": "x", "data": {"session": "s1"}}]);
    let r = http
        .post(format!("{url}/api/v1/events"))
        .bearer_auth(&admin)
        .json(&post_event)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = all_events(url, &admin, "")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin_password = std::fs::read_to_string(data.join("initial-admin-password")).unwrap();
    let cookie = login(&http, url, "admin", admin_password.trim());

    // (method, path, body, least role, status for that role)
    let routes: Vec<(Method, String, Option<Value>, Role, u16)> = vec![
        (Method::GET, "/api/v1/me".into(), None, Role::Viewer, 200),
        (
            Method::GET,
            "/api/v1/events".into(),
            None,
            Role::Viewer,
            200,
        ),
        (
            Method::GET,
            format!("/api/v1/events/{id}"),
            None,
            Role::Viewer,
            200,
        ),
        (
            Method::GET,
            "/api/v1/summary".into(),
            None,
            Role::Viewer,
            200,
        ),
        (
            Method::GET,
            "/api/v1/sessions".into(),
            None,
            Role::Viewer,
            200,
        ),
        (
            Method::GET,
            "/api/v1/sessions/s1".into(),
            None,
            Role::Viewer,
            200,
        ),
        (Method::GET, "/api/v1/users".into(), None, Role::Viewer, 200),
        (
            Method::GET,
            "/api/v1/devices".into(),
            None,
            Role::Viewer,
            200,
        ),
        (
            Method::POST,
            "/api/v1/events".into(),
            Some(post_event.clone()),
            Role::Analyst,
            200,
        ),
        (
            Method::POST,
            "/api/v1/detect/start".into(),
            None,
            Role::Analyst,
            404,
        ),
        (
            Method::POST,
            "/api/v1/detect/stop".into(),
            None,
            Role::Analyst,
            404,
        ),
        (Method::GET, "/api/v1/tokens".into(), None, Role::Admin, 200),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(json!({"name": "new-user"})),
            Role::Admin,
            201,
        ),
        (
            Method::POST,
            "/api/v1/users/admin/password".into(),
            Some(json!({"password": "a-brand-new-password"})),
            Role::Admin,
            200,
        ),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            Some(json!({"name": "new-token"})),
            Role::Admin,
            201,
        ),
        (
            Method::DELETE,
            "/api/v1/tokens/v".into(),
            None,
            Role::Admin,
            200,
        ),
        // Evidence: samples and bundles are for analysts (#25 item 5).
        (
            Method::GET,
            "/api/v1/sessions/s1/bundle".into(),
            None,
            Role::Analyst,
            200,
        ),
    ];
    for (method, path, body, least, _) in &routes {
        for (role, secret) in &tokens {
            if role >= least {
                continue;
            }
            let before = state(url, &admin);
            let mut request = http
                .request(method.clone(), format!("{url}{path}"))
                .bearer_auth(secret);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().unwrap();
            assert_eq!(response.status(), 403, "{method} {path} by a lower role");
            assert_eq!(
                state(url, &admin),
                before,
                "{method} {path} changed something"
            );
        }
        // The session cookie: reads work, changes are refused as unauthenticated.
        let before = state(url, &admin);
        let mut request = http
            .request(method.clone(), format!("{url}{path}"))
            .header("cookie", &cookie);
        if let Some(body) = body {
            request = request.json(body);
        }
        let status = request.send().unwrap().status().as_u16();
        if *method == Method::GET {
            assert_eq!(status, 200, "{method} {path} with the admin's cookie");
        } else {
            assert_eq!(status, 401, "{method} {path} with only a cookie");
            assert_eq!(
                state(url, &admin),
                before,
                "{method} {path} by cookie changed something"
            );
        }
    }
    // And the least role that may: allowed (last, as these change things).
    for (method, path, body, least, allowed) in &routes {
        let secret = &tokens.iter().find(|(r, _)| r == least).unwrap().1;
        let mut request = http
            .request(method.clone(), format!("{url}{path}"))
            .bearer_auth(secret);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().unwrap();
        assert_eq!(
            response.status().as_u16(),
            *allowed,
            "{method} {path}: {:?}",
            response.text()
        );
    }
    // The revoked viewer token no longer works; the new user exists.
    let r = http
        .get(format!("{url}/api/v1/me"))
        .bearer_auth(&tokens[0].1)
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(state(url, &admin)["users"].to_string().contains("new-user"));
}
