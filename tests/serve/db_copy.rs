//! `nectar db copy` end to end: a SQLite installation filled through the API
//! is copied to PostgreSQL, and `serve` on PostgreSQL answers the same (the
//! same events, the same token works); bad flags exit 2 naming the flag; a
//! non-empty destination is refused unless --force.

use serde_json::{Value, json};

use crate::util::{Server, all_events, client, nectar, on_postgres, token};

#[test]
fn a_sqlite_installation_copied_to_postgres_answers_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (data, data_pg) = (dir.path().join("data"), dir.path().join("pg"));
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&data_pg).unwrap();
    let Some(db) = on_postgres(&data_pg) else {
        return;
    };
    let url = db.url().unwrap();
    let analyst = token(&data, "loader", "analyst");
    let mut server = Server::start(&data, None);
    let events: Vec<Value> = (0..300)
        .map(|i| {
            json!({"kind": "ssh.login.failed", "summary": format!("root failed {i}"),
                   "src_ip": "203.0.113.9",
                   "data": {"username": "root", "password": format!("pw{i}"), "session": format!("c{}", i % 4)}})
        })
        .collect();
    let posted = client()
        .post(format!("{}/api/v1/events", server.url))
        .bearer_auth(&analyst)
        .json(&events)
        .send()
        .unwrap();
    assert!(posted.status().is_success());
    let before = all_events(&server.url, &analyst, "");
    let searched = all_events(&server.url, &analyst, "q=pw17");
    assert_eq!(before.len(), 300);
    assert!(server.sigterm().success());

    let db_file = data.join("nectar.db");
    let db_file = db_file.to_str().unwrap();
    // Bad input: exit 2, the flag named.
    for (args, flag) in [
        (
            vec!["--from", "/nonexistent/nectar.db", "--to", url.as_str()],
            "--from",
        ),
        (vec!["--from", db_file, "--to", "mysql://db/nectar"], "--to"),
        (vec!["--from", db_file, "--to", db_file], "--to"),
        (
            vec!["--from", db_file, "--to", url.as_str(), "--batch", "0"],
            "--batch",
        ),
    ] {
        let out = nectar(&data, &[&["db", "copy"][..], &args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }

    let out = nectar(
        &data,
        &[
            "db", "copy", "--from", db_file, "--to", &url, "--batch", "128",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["events", "300", "rows"]),
        "{stdout}"
    );
    assert!(stdout.contains("every table's count matches"), "{stdout}");
    assert!(
        !stdout.contains("nectar:nectar@"),
        "the password is not printed: {stdout}"
    );

    // Again: refused, naming --force; with it, done.
    let out = nectar(&data, &["db", "copy", "--from", db_file, "--to", &url]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    let out = nectar(
        &data,
        &["db", "copy", "--from", db_file, "--to", &url, "--force"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // `serve` on PostgreSQL: the same token, the same events, the same search.
    let server = Server::start(&data_pg, None);
    assert_eq!(all_events(&server.url, &analyst, ""), before);
    assert_eq!(all_events(&server.url, &analyst, "q=pw17"), searched);
    assert_eq!(searched.len(), 1);
}
