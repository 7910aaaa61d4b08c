//! Helpers: start the real `nectar` binary on a free loopback port, run its
//! subcommands, talk HTTP to it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_nectar");

/// Runs `nectar --data-dir DIR ARGS...` to completion.
pub fn nectar(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(BIN);
    if let Some(url) = store_url(dir) {
        command.env("NECTAR_STORE_URL", url);
    }
    command
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("NECTAR_CONFIG")
        .output()
        .expect("run nectar")
}

/// Makes every `nectar` command and server run on data directory `data` use a
/// fresh PostgreSQL database (dropped with the returned guard), through
/// `NECTAR_STORE_URL`. `None` (the test is skipped) outside CI when no server is
/// named in `NECTAR_TEST_POSTGRES`.
pub fn on_postgres(data: &Path) -> Option<nectar_store::testing::TestDatabase> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(nectar_store::testing::database_on(
        nectar_store::Backend::Postgres,
        data,
    ))?;
    std::fs::write(store_url_file(data), db.url().unwrap()).unwrap();
    Some(db)
}

/// Makes data directory `to` use the database `on_postgres` chose for `from`:
/// two `serve` processes (each with its own data directory) on one database.
pub fn share_store(from: &Path, to: &Path) {
    std::fs::write(
        store_url_file(to),
        store_url(from).expect("on_postgres first"),
    )
    .unwrap();
}

fn store_url_file(data: &Path) -> std::path::PathBuf {
    data.with_extension("store-url")
}

/// The database `on_postgres` chose for `data`, if any.
fn store_url(data: &Path) -> Option<String> {
    std::fs::read_to_string(store_url_file(data)).ok()
}

/// A new token with `role`, from `nectar token create`.
pub fn token(dir: &Path, name: &str, role: &str) -> String {
    token_for(dir, name, role, name)
}

/// A new token with `role` whose events carry `sensor`.
pub fn token_for(dir: &Path, name: &str, role: &str, sensor: &str) -> String {
    let out = nectar(
        dir,
        &[
            "token", "create", "--name", name, "--role", role, "--sensor", sensor,
        ],
    );
    assert!(
        out.status.success(),
        "token create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    let token = token.trim().to_owned();
    assert!(token.starts_with("nct_") && !token.contains(char::is_whitespace));
    token
}

/// A running `nectar serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    /// Where the SSH honeypot listens (it prints this before the URL).
    pub ssh_addr: Option<String>,
    /// Where the Telnet honeypot listens (printed before the URL too).
    pub telnet: Option<std::net::SocketAddr>,
    /// Every line `serve` printed on stdout so far.
    pub printed: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `nectar serve` on 127.0.0.1 with a free port, data in `dir`, and an
    /// optional config file; waits until it prints its URL.
    pub fn start(dir: &Path, config: Option<&Path>) -> Server {
        Server::start_with_env(dir, config, &[])
    }

    /// [`Server::start`] with extra environment variables.
    pub fn start_with_env(dir: &Path, config: Option<&Path>, env: &[(&str, &str)]) -> Server {
        Server::start_listening(dir, config, env, &[])
    }

    /// [`Server::start_with_env`] with some listen flags given other values
    /// (`("--honeypot-telnet-listen", "127.0.0.1:PORT")`).
    pub fn start_listening(
        dir: &Path,
        config: Option<&Path>,
        env: &[(&str, &str)],
        listen: &[(&str, &str)],
    ) -> Server {
        let flag = |name: &str| {
            listen
                .iter()
                .find(|(f, _)| *f == name)
                .map_or("127.0.0.1:0".to_owned(), |(_, v)| (*v).to_owned())
        };
        let mut command = Command::new(BIN);
        if let Some(url) = store_url(dir) {
            command.env("NECTAR_STORE_URL", url);
        }
        command.envs(env.iter().copied());
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.with_extension("stderr.log"))
            .unwrap();
        let mut child = command
            .arg("--data-dir")
            .arg(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            // Tests run concurrently: never the default 0.0.0.0:2222.
            .args(["--honeypot-ssh-listen", &flag("--honeypot-ssh-listen")])
            .args([
                "--honeypot-telnet-listen",
                &flag("--honeypot-telnet-listen"),
            ])
            .args(["--honeypot-http-listen", &flag("--honeypot-http-listen")])
            .env("RUST_LOG", "info")
            .env_remove("NECTAR_CONFIG")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn nectar serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let printed = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = printed.clone();
        std::thread::spawn(move || {
            let (mut ssh, mut telnet) = (None, None);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("SSH honeypot listening on ") {
                    ssh = Some(rest.trim().to_owned());
                }
                if let Some(rest) = line.strip_prefix("Telnet honeypot listening on ") {
                    telnet = rest.parse().ok();
                }
                lines.lock().unwrap().push(line.clone());
                if let Some(rest) = line.strip_prefix("Nectar is listening on ") {
                    let _ = tx.send((rest.trim_end_matches('/').to_owned(), ssh.clone(), telnet));
                }
            }
        });
        let (url, ssh_addr, telnet) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("nectar serve did not print its URL within 60 s");
        Server {
            child,
            url,
            ssh_addr,
            telnet,
            printed,
        }
    }

    /// The rest of the line `serve` printed starting with `prefix` (e.g. "HTTP
    /// honeypot listening on "); the honeypots print before the URL.
    pub fn printed_after(&self, prefix: &str) -> Option<String> {
        self.printed
            .lock()
            .unwrap()
            .iter()
            .find_map(|l| l.strip_prefix(prefix).map(str::to_owned))
    }

    pub fn sigterm(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        wait_with_timeout(&mut self.child, Duration::from_secs(60))
    }

    pub fn kill9(&mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-KILL", &pid]).status().unwrap();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn wait_with_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "process did not exit in time"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Every event matching `query` (e.g. `kind=ssh.*`), following cursors.
pub fn all_events(url: &str, token: &str, query: &str) -> Vec<serde_json::Value> {
    let client = client();
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let mut full = format!("{url}/api/v1/events?limit=1000&{query}");
        if let Some(c) = &cursor {
            full.push_str("&cursor=");
            full.push_str(c);
        }
        let response = client.get(&full).bearer_auth(token).send().unwrap();
        assert_eq!(response.status(), 200, "{full}");
        let body: serde_json::Value = response.json().unwrap();
        events.extend(body["events"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return events,
        }
    }
    panic!("pagination did not end");
}

/// Logs into the web UI of `server` as the first admin (its password is in the
/// data directory `data`); returns the `cookie` header value for later pages.
pub fn web_login(server: &Server, data: &Path) -> String {
    web_login_with(server, data, &client(), "/").0
}

/// [`web_login`] through `client` (e.g. bound to another loopback address) with
/// `next`; also returns where the answer redirects.
pub fn web_login_with(
    server: &Server,
    data: &Path,
    client: &reqwest::blocking::Client,
    next: &str,
) -> (String, String) {
    let password = std::fs::read_to_string(data.join("initial-admin-password"))
        .expect("the initial admin password")
        .trim()
        .to_owned();
    let form = client
        .get(format!("{}/login", server.url))
        .send()
        .expect("GET /login");
    let csrf_cookie = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("nectar_login_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("the login CSRF cookie")
        .to_owned();
    let answer = client
        .post(format!("{}/login", server.url))
        .header("cookie", format!("nectar_login_csrf={csrf_cookie}"))
        .form(&[
            ("username", "admin"),
            ("password", password.as_str()),
            ("csrf", csrf_cookie.as_str()),
            ("next", next),
        ])
        .send()
        .expect("POST /login");
    let location = answer
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let session = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("nectar_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie after login")
        .to_owned();
    (format!("nectar_session={session}"), location)
}

/// `s` percent-encoded for a URL query value (every byte but letters, digits
/// and `-._~`).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
