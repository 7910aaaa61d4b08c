//! `nectar ctl` against a real `nectar serve`: settings from flags, environment and
//! config file; events (filters, paging, follow, get), sessions, users, tokens,
//! capture; errors and exit codes.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{BIN, Server, all_events, client, token, wait_with_timeout};

/// `nectar ctl ARGS` with a clean environment: no NECTAR_* variables, and a config
/// directory of the test's own (never the user's ~/.config).
fn ctl_command(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("ctl")
        .args(args)
        .env_remove("NECTAR_URL")
        .env_remove("NECTAR_TOKEN")
        .env_remove("NECTAR_CTL_CONFIG")
        .env_remove("NECTAR_CONFIG")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"));
    command
}

fn ctl_env(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = ctl_command(home, args);
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run nectar ctl")
}

/// Runs `nectar ctl --url URL --token TOKEN ARGS`.
fn ctl(home: &Path, url: &str, token: &str, args: &[&str]) -> Output {
    let mut all = vec!["--url", url, "--token", token];
    all.extend_from_slice(args);
    ctl_env(home, &[], &all)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// Exit code and stderr of a failing run.
#[track_caller]
fn fails(out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
    assert!(
        !stderr(out).contains("panicked") && !stderr(out).contains("RUST_BACKTRACE"),
        "{}",
        stderr(out)
    );
    stderr(out)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn post(url: &str, token: &str, events: &Value) {
    let r = client()
        .post(format!("{url}/api/v1/events"))
        .bearer_auth(token)
        .json(events)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

struct Setup {
    _dir: tempfile::TempDir,
    home: std::path::PathBuf,
    data: std::path::PathBuf,
    server: Server,
    admin: String,
    analyst: String,
    viewer: String,
}

fn setup(config: Option<&str>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let admin = token(&data, "ops", "admin");
    let analyst = token(&data, "sensor", "analyst");
    let viewer = token(&data, "reader", "viewer");
    let config_path = config.map(|text| {
        let path = dir.path().join("nectar.toml");
        std::fs::write(&path, text).unwrap();
        path
    });
    let server = Server::start(&data, config_path.as_deref());
    Setup {
        _dir: dir,
        home,
        data,
        server,
        admin,
        analyst,
        viewer,
    }
}

#[test]
fn ctl_status_events_and_sessions() {
    let s = setup(None);
    let (url, home) = (s.server.url.as_str(), s.home.as_path());
    let mut events = Vec::new();
    for i in 0..2_500 {
        events.push(
            json!({"kind": "http.request", "summary": format!("GET /page/{i}"),
            "src_ip": "192.0.2.10", "severity": "info"}),
        );
    }
    events.push(json!({"kind": "ssh.login.success", "severity": "high", "src_ip": "198.51.100.7",
        "summary": "root/toor accepted", "data": {"username": "root", "password": "toor", "session": "sess-1"}}));
    events.push(json!({"kind": "ssh.command", "severity": "critical", "src_ip": "198.51.100.7",
        "summary": "evil \u{1b}[31mred\u{1b}[0m", "data": {"input": "cat /etc/passwd \u{1b}[2J", "session": "sess-1"}}));
    post(url, &s.analyst, &Value::Array(events));

    // status: health, who, counts. The top lists follow the events within about a
    // second (the store writes them apart from the events).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let text = loop {
        let text = ok(&ctl(home, url, &s.viewer, &["status"]));
        if text.contains("192.0.2.10") || std::time::Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    for part in [
        "server",
        "ok",
        "version",
        "reader (viewer)",
        "2502",
        "ssh.command 1",
        "192.0.2.10",
        "event flow",
        "event-log lag",
    ] {
        assert!(text.contains(part), "status lacks {part:?}:\n{text}");
    }
    let status: Value =
        serde_json::from_str(&ok(&ctl(home, url, &s.viewer, &["status", "--json"]))).unwrap();
    assert_eq!(status["health"]["status"], "ok");
    assert_eq!(status["summary"]["total"], 2502);
    assert!(status["flow"]["writer"]["last_seq"].as_u64().unwrap() >= 2502);

    // The URL and token from the environment instead of flags.
    let env = [("NECTAR_URL", url), ("NECTAR_TOKEN", s.viewer.as_str())];
    let text = ok(&ctl_env(
        home,
        &env,
        &[
            "events",
            "list",
            "--kind",
            "ssh.*",
            "--min-severity",
            "high",
        ],
    ));
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows[0].starts_with("TIME") && rows[0].contains("SUMMARY"));
    // Columns line up under their headers.
    let at = rows[0].find("KIND").unwrap();
    assert!(rows[1][at..].starts_with("ssh.command"), "{text}");
    // The attacker's terminal escape is shown, never sent to the terminal.
    assert!(text.contains("evil \\x1b[31mred\\x1b[0m"), "{text}");
    assert!(!text.contains('\u{1b}'));

    // Every filter reaches the API.
    let count = |args: &[&str]| {
        let mut all = vec!["events", "list", "--json", "--all"];
        all.extend_from_slice(args);
        json_lines(&ok(&ctl_env(home, &env, &all))).len()
    };
    assert_eq!(count(&[]), 2502, "--all pages through every event");
    assert_eq!(count(&["--kind", "ssh.command"]), 1);
    assert_eq!(count(&["--severity", "high,critical"]), 2);
    assert_eq!(count(&["--src-ip", "198.51.100.7"]), 2);
    // /page/24, /page/240 to 249 and /page/2400 to 2499.
    assert_eq!(count(&["-q", "page/24*"]), 111);
    assert_eq!(count(&["--session", "sess-1"]), 2);
    assert_eq!(count(&["--sensor", "nobody"]), 0);
    assert_eq!(count(&["--since", "2999-01-01T00:00:00Z"]), 0);
    assert_eq!(count(&["--until", "2000-01-01T00:00:00Z"]), 0);
    let limited = json_lines(&ok(&ctl_env(
        home,
        &env,
        &["events", "list", "--json", "--limit", "1500"],
    )));
    assert_eq!(limited.len(), 1500, "--limit spans pages");
    let ids: std::collections::HashSet<_> = limited.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(ids.len(), 1500, "no event twice across pages");

    // One event.
    let event = &all_events(url, &s.viewer, "kind=ssh.command")[0];
    let id = event["id"].as_str().unwrap();
    let text = ok(&ctl_env(home, &env, &["events", "get", id]));
    assert!(text.contains("data.input"), "{text}");
    assert!(text.contains("cat /etc/passwd \\x1b[2J"), "{text}");
    let got: Value =
        serde_json::from_str(&ok(&ctl_env(home, &env, &["events", "get", id, "--json"]))).unwrap();
    assert_eq!(&got, event);

    // Sessions and one session's transcript.
    let text = ok(&ctl_env(home, &env, &["sessions", "list"]));
    assert!(
        text.contains("sess-1") && text.contains("root/toor"),
        "{text}"
    );
    let text = ok(&ctl_env(home, &env, &["sessions", "show", "sess-1"]));
    let login = text.find("ssh.login.success").unwrap();
    let command = text.find("cat /etc/passwd").unwrap();
    assert!(login < command, "oldest first:\n{text}");
    let shown: Value = serde_json::from_str(&ok(&ctl_env(
        home,
        &env,
        &["sessions", "show", "sess-1", "--json"],
    )))
    .unwrap();
    assert_eq!(shown["events"].as_array().unwrap().len(), 2);
    assert_eq!(shown["session"]["username"], "root");
    let err = fails(&ctl_env(home, &env, &["sessions", "show", "nope"]), 1);
    assert!(err.contains("404"), "{err}");

    // Closing the pipe early is not an error.
    let mut child = ctl_command(home, &["events", "list", "--all"])
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("TIME"));
    let status = wait_with_timeout(&mut child, Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
}

#[test]
fn ctl_settings_and_errors() {
    let s = setup(None);
    let (url, home) = (s.server.url.as_str(), s.home.as_path());

    // The config file: ~/.config/nectar/ctl.toml (here under XDG_CONFIG_HOME).
    let file = home.join("config").join("nectar").join("ctl.toml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, format!("url = {url:?}\ntoken = {:?}\n", s.viewer)).unwrap();
    let text = ok(&ctl_env(home, &[], &["status"]));
    assert!(text.contains("reader (viewer)"), "{text}");
    // Flags win over the file.
    let text = ok(&ctl_env(home, &[], &["--token", &s.admin, "status"]));
    assert!(text.contains("ops (admin)"), "{text}");
    // token_file, and NECTAR_CTL_CONFIG naming another file.
    let token_file = home.join("token");
    std::fs::write(&token_file, format!("{}\n", s.admin)).unwrap();
    let other = home.join("other.toml");
    std::fs::write(
        &other,
        format!("url = {url:?}\ntoken_file = {token_file:?}\n"),
    )
    .unwrap();
    let text = ok(&ctl_env(
        home,
        &[("NECTAR_CTL_CONFIG", other.to_str().unwrap())],
        &["status"],
    ));
    assert!(text.contains("ops (admin)"), "{text}");
    // A misspelt key is a usage error naming it.
    std::fs::write(&file, format!("url = {url:?}\ntokn = \"x\"\n")).unwrap();
    let err = fails(&ctl_env(home, &[], &["status"]), 2);
    assert!(err.contains("tokn") && err.contains("ctl.toml"), "{err}");
    std::fs::remove_file(&file).unwrap();

    // No token anywhere: usage error saying where to put one.
    let err = fails(&ctl_env(home, &[], &["--url", url, "events", "list"]), 2);
    assert!(err.contains("NECTAR_TOKEN"), "{err}");
    // A bad filter: the server's message, exit 2.
    let err = fails(
        &ctl(
            home,
            url,
            &s.viewer,
            &["events", "list", "--src-ip", "1.2.3"],
        ),
        2,
    );
    assert!(err.contains("src_ip"), "{err}");
    let err = fails(
        &ctl(
            home,
            url,
            &s.viewer,
            &["events", "list", "--since", "yesterday"],
        ),
        2,
    );
    assert!(err.contains("since"), "{err}");
    let err = fails(
        &ctl(
            home,
            url,
            &s.viewer,
            &["events", "list", "--kind", "nope.*"],
        ),
        2,
    );
    assert!(err.contains("kind"), "{err}");
    // Flags clap rejects: exit 2.
    fails(
        &ctl(home, url, &s.viewer, &["events", "list", "--limit", "0"]),
        2,
    );
    fails(
        &ctl(home, url, &s.viewer, &["events", "list", "--frobnicate"]),
        2,
    );
    fails(
        &ctl(home, url, &s.viewer, &["events", "get", "not-a-uuid"]),
        2,
    );
    let err = fails(&ctl(home, "https://127.0.0.1:1", &s.viewer, &["status"]), 2);
    assert!(err.contains("https"), "{err}");
    // A wrong token: 401, exit 1.
    let err = fails(&ctl(home, url, "nct_wrong", &["events", "list"]), 1);
    assert!(err.contains("401") && err.contains("--token"), "{err}");
    // A role too low: 403, exit 1.
    let err = fails(&ctl(home, url, &s.viewer, &["tokens", "list"]), 1);
    assert!(err.contains("403") && err.contains("admin"), "{err}");
    // Nobody listening: exit 1, saying so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let err = fails(&ctl(home, &dead, &s.viewer, &["status"]), 1);
    assert!(err.contains("cannot reach"), "{err}");
    // No live detection on this server: said clearly.
    let err = fails(&ctl(home, url, &s.viewer, &["detect", "stats"]), 1);
    assert!(err.contains("[capture]"), "{err}");
}

#[test]
fn ctl_follow_prints_new_events_once_and_exits_0_on_ctrl_c() {
    let s = setup(None);
    let (url, home) = (s.server.url.as_str(), s.home.as_path());
    post(
        url,
        &s.analyst,
        &json!([{"kind": "http.request", "summary": "old-1"}, {"kind": "http.request", "summary": "old-2"}]),
    );
    let mut child = ctl_command(
        home,
        &[
            "--url",
            url,
            "--token",
            &s.viewer,
            "events",
            "follow",
            "--json",
            "-n",
            "1",
            "--interval",
            "0.2",
            "--kind",
            "http.*",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let next = || -> Value {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("follow printed nothing within 20 s");
        serde_json::from_str(&line).unwrap()
    };
    assert_eq!(next()["summary"], "old-2", "the latest event first");
    let mut expected = Vec::new();
    for batch in 0..3 {
        let mut events = Vec::new();
        for i in 0..40 {
            let summary = format!("new-{batch}-{i}");
            events.push(json!({"kind": "http.request", "summary": summary}));
            expected.push(summary);
        }
        // Not followed: another kind.
        events.push(json!({"kind": "ssh.command", "summary": "other kind"}));
        post(url, &s.analyst, &Value::Array(events));
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut got = Vec::new();
    while got.len() < expected.len() {
        got.push(next()["summary"].as_str().unwrap().to_owned());
    }
    assert_eq!(got, expected, "each new event once, oldest first");
    std::thread::sleep(Duration::from_millis(600));
    assert!(rx.try_recv().is_err(), "nothing printed twice");

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "Ctrl-C ends follow with 0");
}

#[test]
fn ctl_users_and_tokens() {
    let s = setup(None);
    let (url, home) = (s.server.url.as_str(), s.home.as_path());
    let admin = |args: &[&str]| ctl(home, url, &s.admin, args);

    // A generated password is printed alone on stdout.
    let out = admin(&["users", "add", "alice", "--role", "viewer"]);
    let password = ok(&out).trim().to_owned();
    assert!(
        password.len() >= 20 && !password.contains(' '),
        "{password}"
    );
    assert!(stderr(&out).contains("alice"));
    let mut child = ctl_command(
        home,
        &[
            "--url",
            url,
            "--token",
            &s.admin,
            "users",
            "add",
            "bob",
            "--password-stdin",
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"bobs-long-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(ok(&out), "", "no password to print");
    let text = ok(&admin(&["users", "list"]));
    assert!(
        text.contains("alice") && text.contains("viewer") && text.contains("bob"),
        "{text}"
    );
    let err = fails(&admin(&["users", "add", "alice"]), 1);
    assert!(
        err.contains("409") && err.contains("already exists"),
        "{err}"
    );
    let err = fails(&admin(&["users", "add", "bad name"]), 2);
    assert!(err.contains("name"), "{err}");
    let err = fails(&admin(&["users", "add", "carol", "--role", "boss"]), 2);
    assert!(err.contains("role"), "{err}");
    let new_password = ok(&admin(&["users", "passwd", "alice"])).trim().to_owned();
    assert_ne!(new_password, password);
    let err = fails(&admin(&["users", "passwd", "nobody"]), 1);
    assert!(err.contains("404"), "{err}");

    // Her own password, through the API with a token of her name (another
    // token may not try): the current one must be right.
    let alices = token(&s.data, "alice", "viewer");
    let status = client()
        .post(format!("{url}/api/v1/password"))
        .bearer_auth(&s.viewer)
        .json(&json!({"username": "alice", "current": new_password, "new": "alices-new-password"}))
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 403);
    let change = |current: &str, new: &str| {
        client()
            .post(format!("{url}/api/v1/password"))
            .bearer_auth(&alices)
            .json(&json!({"username": "alice", "current": current, "new": new}))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        change(&password, "alices-new-password"),
        403,
        "old password"
    );
    assert_eq!(change(&new_password, "short"), 400);
    assert_eq!(change(&new_password, "alices-new-password"), 200);
    assert_eq!(change(&new_password, "another-password"), 403);

    // Tokens: create (shown once), use, list, revoke.
    let out = admin(&["tokens", "create", "--name", "script-1", "--role", "viewer"]);
    let secret = ok(&out).trim().to_owned();
    assert!(secret.starts_with("nct_"), "{secret}");
    ok(&ctl(home, url, &secret, &["events", "list"]));
    // Its last use is recorded in the background, just after the request.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = ok(&admin(&["tokens", "list"]));
        let row = text.lines().find(|l| l.starts_with("script-1")).unwrap();
        assert!(row.contains("viewer"), "{text}");
        assert!(!text.contains(&secret));
        if !row.contains("never") {
            break;
        }
        assert!(Instant::now() < deadline, "last use not recorded: {text}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let listed: Value = serde_json::from_str(&ok(&admin(&["tokens", "list", "--json"]))).unwrap();
    assert!(
        listed["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "script-1" && t["revoked"].is_null())
    );
    ok(&admin(&["tokens", "revoke", "script-1"]));
    let err = fails(&ctl(home, url, &secret, &["events", "list"]), 1);
    assert!(err.contains("401"), "{err}");
    let err = fails(&admin(&["tokens", "revoke", "nope"]), 1);
    assert!(err.contains("404"), "{err}");

    // Roles: an analyst may read users but change nothing; nothing is created.
    let analyst = |args: &[&str]| ctl(home, url, &s.analyst, args);
    ok(&analyst(&["users", "list"]));
    for args in [
        &["users", "add", "mallory"][..],
        &["users", "passwd", "alice"],
        &["tokens", "create", "--name", "t"],
        &["tokens", "revoke", "ops"],
        &["tokens", "list"],
    ] {
        let err = fails(&analyst(args), 1);
        assert!(err.contains("403"), "{args:?}: {err}");
    }
    assert!(!ok(&admin(&["users", "list"])).contains("mallory"));
    assert!(!ok(&admin(&["tokens", "list"])).contains("\nt "));
    let _ = &s.data;
}

#[test]
fn ctl_capture_start_stop_status() {
    // Live capture on loopback needs root (CAP_NET_RAW), as in CI.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs as root"
        );
        eprintln!("skipping: live capture needs root");
        return;
    }
    let s = setup(Some(
        "[detect]\nwindow = \"100ms\"\n[capture]\ninterface = \"lo\"\npromiscuous = false\nsnaplen = 128\n[honeypot.ssh]\nenabled = false\n",
    ));
    let (url, home) = (s.server.url.as_str(), s.home.as_path());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = ok(&ctl(home, url, &s.viewer, &["capture", "status"]));
        if text.contains("running") {
            assert!(text.contains("interface lo"), "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "capture did not start: {text}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let err = fails(&ctl(home, url, &s.viewer, &["capture", "stop"]), 1);
    assert!(err.contains("403"), "{err}");
    let text = ok(&ctl(home, url, &s.analyst, &["capture", "stop"]));
    assert!(text.contains("capture stopped"), "{text}");
    let text = ok(&ctl(home, url, &s.viewer, &["capture", "status"]));
    assert!(text.contains("stopped"), "{text}");
    let err = fails(&ctl(home, url, &s.analyst, &["capture", "stop"]), 1);
    assert!(err.contains("409"), "{err}");
    let text = ok(&ctl(home, url, &s.analyst, &["capture", "start"]));
    assert!(text.contains("capture running"), "{text}");
    let status: Value = serde_json::from_str(&ok(&ctl(
        home,
        url,
        &s.viewer,
        &["capture", "status", "--json"],
    )))
    .unwrap();
    assert_eq!(status["running"], true);
    // Detection statistics and one statistic's windows.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = ok(&ctl(home, url, &s.viewer, &["detect", "series", "TRAFFIC"]));
        if text.lines().count() >= 3 {
            assert!(text.starts_with("WINDOW START"), "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "no windows: {text}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let text = ok(&ctl(home, url, &s.viewer, &["detect", "stats"]));
    assert!(
        text.contains("TRAFFIC") && text.contains("learning"),
        "{text}"
    );
    let err = fails(&ctl(home, url, &s.viewer, &["detect", "series", "NOPE"]), 2);
    assert!(err.contains("TRAFFIC"), "{err}");
}

/// Every control, format and separator character (Unicode categories Cc, Cf, Zl,
/// Zp and the tag block, walked from the Unicode table) that an event carries is
/// printed by `nectar ctl` in its escaped form, never as itself.
#[test]
fn ctl_shows_every_invisible_character_escaped() {
    let hidden: Vec<char> = nectar_event::text::invisible_by_category().collect();
    for named in [
        '\u{61c}',
        '\u{2028}',
        '\u{2029}',
        '\u{ad}',
        '\u{2064}',
        '\u{fffb}',
        '\u{e0041}',
    ] {
        assert!(hidden.contains(&named), "U+{:04X}", named as u32);
    }
    // The escaped form, written out here so the test does not trust the code.
    let escaped = |c: char| match c {
        '\n' => "\\n".to_owned(),
        '\r' => "\\r".to_owned(),
        '\t' => "\\t".to_owned(),
        c if (c as u32) < 0x100 => format!("\\x{:02x}", c as u32),
        c => format!("\\u{{{:x}}}", c as u32),
    };
    let s = setup(None);
    let (url, home) = (s.server.url.as_str(), s.home.as_path());
    let chunks: Vec<String> = hidden
        .chunks(60)
        .map(|chunk| chunk.iter().flat_map(|&c| [c, 'x']).collect())
        .collect();
    let events: Vec<Value> = chunks
        .iter()
        .map(|text| {
            json!({"kind": "ssh.command", "severity": "low", "summary": text,
                   "data": {"input": text, "session": "hidden-chars"}})
        })
        .collect();
    post(url, &s.analyst, &Value::Array(events));

    let list = ok(&ctl(
        home,
        url,
        &s.viewer,
        &["events", "list", "--session", "hidden-chars"],
    ));
    assert_eq!(list.lines().count(), chunks.len() + 1, "{list}");
    for event in all_events(url, &s.viewer, "session=hidden-chars") {
        let id = event["id"].as_str().unwrap();
        let text = ok(&ctl(home, url, &s.viewer, &["events", "get", id]));
        let chunk = event["summary"].as_str().unwrap();
        for c in chunk.chars().filter(|&c| c != 'x') {
            if c != '\n' {
                assert!(!text.contains(c), "U+{:04X} printed as itself", c as u32);
                assert!(!list.contains(c), "U+{:04X} printed as itself", c as u32);
            }
            assert!(
                text.contains(&format!("{}x", escaped(c))),
                "U+{:04X}:\n{text}",
                c as u32
            );
        }
    }
}
