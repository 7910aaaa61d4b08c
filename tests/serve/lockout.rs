//! Wrong passwords from a stranger do not lock the owner out (#26 item 3), and the
//! login's `next` never leaves the server (item 5).

use std::net::IpAddr;

use serde_json::json;

use crate::util::{Server, client, token, web_login_with};

fn client_from(address: &str) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(address.parse::<IpAddr>().ok())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

#[test]
fn a_viewers_wrong_passwords_naming_the_admin_do_not_lock_the_admin_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let viewer = token(&data, "viewer-1", "viewer");
    // A token bearing the admin's name, the only one that may try its password.
    let admins = token(&data, "admin", "viewer");
    let server = Server::start(&data, None);
    let c = client();
    // Another token naming the admin is refused before any password is tried.
    let answer = c
        .post(format!("{}/api/v1/password", server.url))
        .bearer_auth(&viewer)
        .json(&json!({"username": "admin", "current": "guess", "new": "a-new-password-1"}))
        .send()
        .unwrap();
    assert_eq!(answer.status(), 403);
    assert!(answer.text().unwrap().contains("field `username`"));
    let mut statuses = Vec::new();
    for i in 0..12 {
        let status = c
            .post(format!("{}/api/v1/password", server.url))
            .bearer_auth(&admins)
            .json(&json!({"username": "admin", "current": format!("guess-{i}"), "new": "a-new-password-1"}))
            .send()
            .unwrap()
            .status()
            .as_u16();
        statuses.push(status);
    }
    // Refused, then throttled for this address and name, which is an event.
    assert_eq!(statuses[0], 403);
    assert_eq!(*statuses.last().unwrap(), 429, "{statuses:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let lockouts = loop {
        let found = crate::util::all_events(&server.url, &viewer, "kind=auth.lockout");
        if !found.is_empty() || std::time::Instant::now() > deadline {
            break found;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(lockouts.len(), 1, "{lockouts:?}");
    assert_eq!(lockouts[0]["data"]["username"], "admin");
    assert_eq!(lockouts[0]["data"]["scope"], "name");
    assert_eq!(lockouts[0]["src_ip"], "127.0.0.1");
    // The admin, from another address, logs in at once; `next=/%09/evil.example`
    // (a tab once decoded, which browsers drop, leaving //evil.example) goes home.
    let (cookie, location) = web_login_with(
        &server,
        &data,
        &client_from("127.0.0.2"),
        "/\t/evil.example",
    );
    assert!(cookie.starts_with("nectar_session="));
    assert_eq!(location, "/");
}

#[test]
fn the_first_admin_password_is_never_printed_and_its_file_goes_once_changed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let admin = token(&data, "admin-1", "admin");
    let server = Server::start(&data, None);
    let file = data.join("initial-admin-password");
    let password = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    let printed = server.printed.lock().unwrap().join("\n");
    assert!(!printed.contains(&password), "{printed}");
    assert!(printed.contains("initial-admin-password"), "{printed}");
    let status = client()
        .post(format!("{}/api/v1/users/admin/password", server.url))
        .bearer_auth(&admin)
        .json(&json!({}))
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 200);
    assert!(!file.exists(), "the old password's file is still there");
}
