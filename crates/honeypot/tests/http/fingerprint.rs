//! Our answers against the real servers' (`tests/data`, captured from Debian 12's
//! Apache 2.4.71 and nginx 1.22.1), and against a live Apache when installed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use nectar_honeypot::http::{HttpHoneypotConfig, ServerProfile};

use super::{need, raw, start};

/// The requests of `scripts/capture_http_fingerprint.py`, by capture name.
fn request(name: &str) -> Vec<u8> {
    let many: String = (0..120).map(|i| format!("X-{i}: a\r\n")).collect();
    match name {
        "get_root_11" => b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: x\r\n\r\n".to_vec(),
        "get_404" => b"GET /nope.php HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
        "get_404_10" => b"GET /nope HTTP/1.0\r\n\r\n".to_vec(),
        "get_404_close" => {
            b"GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".to_vec()
        }
        "get_404_hostport" => b"GET /nope HTTP/1.1\r\nHost: example.com:8081\r\n\r\n".to_vec(),
        "head_404" => b"HEAD /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
        "get_403_htaccess" => b"GET /.htaccess HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
        "bad_garbage" => b"HELLO\r\n\r\n".to_vec(),
        "bad_header" => b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n".to_vec(),
        "bad_nohost" => b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        "long_uri" => {
            let mut r = b"GET /".to_vec();
            r.extend(std::iter::repeat_n(b'a', 9000));
            r.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            r
        }
        "long_header" => {
            let mut r = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ".to_vec();
            r.extend(std::iter::repeat_n(b'a', 9000));
            r.extend_from_slice(b"\r\n\r\n");
            r
        }
        "many_headers" => format!("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n{many}\r\n").into_bytes(),
        "options" => b"OPTIONS / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
        "propfind" => b"PROPFIND / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
        "unknown_method" => b"FOO / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
        "big_cl" => {
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\n\r\n".to_vec()
        }
        "trace" => b"TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
        other => panic!("no request {other}"),
    }
}

/// A response with what legitimately differs taken out: the Date value, file
/// dates and ETags, and the port in Apache's signature (Content-Length follows).
#[derive(Debug, PartialEq, Eq)]
struct Normalized {
    status: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn normalize(data: &[u8]) -> Normalized {
    let end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(data)));
    let head = String::from_utf8_lossy(&data[..end]).into_owned();
    let mut body = String::from_utf8_lossy(&data[end + 4..]).into_owned();
    if let Some(i) = body.find(" Port ")
        && let Some(j) = body[i..].find("</address>")
    {
        body.replace_range(i + 6..i + j, "PORT");
    }
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().to_owned();
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap_or((l, ""));
            let v = match k {
                "Date" | "Last-Modified" | "ETag" => "*".to_owned(),
                "Content-Length" => "N".to_owned(),
                // Apache lists allowed methods from a hash table whose order
                // changes from one start to the next.
                "Allow" => {
                    let mut methods: Vec<&str> = v.split(',').collect();
                    methods.sort_unstable();
                    methods.join(",")
                }
                _ => v.to_owned(),
            };
            (k.to_owned(), v)
        })
        .collect();
    Normalized {
        status,
        headers,
        body,
    }
}

fn data_dir(profile: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(profile)
}

const APACHE_CASES: &[&str] = &[
    "get_root_11",
    "get_404",
    "get_404_10",
    "get_404_close",
    "get_404_hostport",
    "head_404",
    "get_403_htaccess",
    "bad_garbage",
    "bad_header",
    "bad_nohost",
    "long_uri",
    "long_header",
    "many_headers",
    "options",
    "propfind",
    "unknown_method",
    "big_cl",
    "trace",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apache_profile_matches_captured_apache_byte_for_byte() {
    let pot = start(HttpHoneypotConfig::default()).await;
    let addr = pot.addr;
    let ours = tokio::task::spawn_blocking(move || {
        APACHE_CASES
            .iter()
            .map(|name| (*name, raw(addr, &request(name), Duration::from_secs(5))))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (name, answer) in &ours {
        let captured =
            std::fs::read(data_dir("apache-2.4.71").join(format!("{name}.http"))).unwrap();
        assert_eq!(normalize(answer), normalize(&captured), "{name}");
        // Content-Length itself is exact when the port has as many digits as 80.
        let port_digits = addr.port().to_string().len();
        if !String::from_utf8_lossy(answer).contains("</address>") || port_digits == 2 {
            assert_eq!(answer.len(), captured.len(), "{name}");
        }
    }
    pot.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_profile_matches_captured_nginx() {
    let pot = start(HttpHoneypotConfig {
        profile: ServerProfile::Nginx,
        ..Default::default()
    })
    .await;
    let addr = pot.addr;
    let cases = [
        "get_404",
        "get_404_10",
        "head_404",
        "bad_garbage",
        "long_uri",
        "long_header",
        "propfind",
        "unknown_method",
    ];
    let ours = tokio::task::spawn_blocking(move || {
        cases
            .iter()
            .map(|name| (*name, raw(addr, &request(name), Duration::from_secs(5))))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (name, answer) in &ours {
        let captured =
            std::fs::read(data_dir("nginx-1.22.1").join(format!("{name}.http"))).unwrap();
        assert_eq!(answer.len(), captured.len(), "{name}");
        assert_eq!(normalize(answer), normalize(&captured), "{name}");
    }
    pot.finish().await;
}

/// Debian's Apache, on a free loopback port, from a copy of /etc/apache2.
struct LiveApache {
    child: Child,
    port: u16,
    /// The copied configuration directory: on every worker's command line, so the
    /// workers can be found even if the parent exits before them.
    conf: String,
    _dir: tempfile::TempDir,
}

impl LiveApache {
    fn start() -> LiveApache {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("conf");
        let status = Command::new("cp")
            .arg("-r")
            .arg("/etc/apache2")
            .arg(&conf)
            .status()
            .unwrap();
        assert!(status.success());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        std::fs::write(
            conf.join("ports.conf"),
            format!("Listen 127.0.0.1:{port}\n"),
        )
        .unwrap();
        let site = conf.join("sites-enabled/000-default.conf");
        let text = std::fs::read_to_string(&site)
            .unwrap()
            .replace("*:80", &format!("*:{port}"));
        std::fs::write(&site, text).unwrap();
        for sub in ["run", "lock", "log"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let d = dir.path().display().to_string();
        let child = Command::new("/usr/sbin/apache2")
            .args([
                "-d",
                &conf.display().to_string(),
                "-f",
                "apache2.conf",
                "-DFOREGROUND",
            ])
            .env("APACHE_RUN_USER", "www-data")
            .env("APACHE_RUN_GROUP", "www-data")
            .env("APACHE_PID_FILE", format!("{d}/run/pid"))
            .env("APACHE_RUN_DIR", format!("{d}/run"))
            .env("APACHE_LOCK_DIR", format!("{d}/lock"))
            .env("APACHE_LOG_DIR", format!("{d}/log"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "apache2 did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        LiveApache {
            child,
            port,
            conf: conf.display().to_string(),
            _dir: dir,
        }
    }
}

impl Drop for LiveApache {
    /// SIGTERM to the parent: Apache then stops its worker processes too (SIGKILL
    /// would leave them running, orphaned). SIGKILL only if it does not exit.
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Seen here: www-data workers outliving the parent after SIGTERM. They are
        // ours by the unique configuration path on their command line.
        let _ = Command::new("pkill")
            .args(["-KILL", "-f", &format!("apache2 -d {}", self.conf)])
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apache_profile_matches_live_debian_apache() {
    if !need("/usr/sbin/apache2", "apache2") {
        return;
    }
    let version = Command::new("/usr/sbin/apache2")
        .arg("-v")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    let server = version
        .lines()
        .find_map(|l| l.strip_prefix("Server version: "))
        .unwrap()
        .trim()
        .to_owned();
    let pot = start(HttpHoneypotConfig {
        server_header: server,
        ..Default::default()
    })
    .await;
    let addr = pot.addr;
    let pairs = tokio::task::spawn_blocking(move || {
        let apache = LiveApache::start();
        let apache_addr = std::net::SocketAddr::from(([127, 0, 0, 1], apache.port));
        APACHE_CASES
            .iter()
            .map(|name| {
                let req = request(name);
                (
                    *name,
                    raw(addr, &req, Duration::from_secs(5)),
                    raw(apache_addr, &req, Duration::from_secs(5)),
                )
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (name, ours, theirs) in &pairs {
        if *name == "get_root_11" {
            // The live default page is this machine's; compare the head only.
            let (a, b) = (normalize(ours), normalize(theirs));
            assert_eq!((a.status, a.headers), (b.status, b.headers), "{name}");
            continue;
        }
        assert_eq!(normalize(ours), normalize(theirs), "{name}");
    }
    pot.finish().await;
}

/// nmap's service scan with the `http-headers` and `http-methods` scripts, with
/// what differs between two runs on two ports taken out: the port, dates, the
/// latency and timing lines, and the default page's ETag and Last-Modified (the
/// live one is this machine's file).
fn nmap_http(port: u16) -> String {
    let out = Command::new("timeout")
        .args(["120", "nmap", "-n", "-Pn", "-sV", "--script"])
        .args(["http-headers,http-methods", "-p", &port.to_string()])
        .args(["--host-timeout", "100s", "127.0.0.1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let port = port.to_string();
    let lines: Vec<String> = text
        .lines()
        .filter(|l| {
            !(l.starts_with("Starting Nmap")
                || l.starts_with("Nmap done")
                || l.starts_with("Host is up")
                || l.starts_with("Service detection performed"))
        })
        .map(|l| {
            let l = l.replace(&format!("{port}/tcp"), "PORT/tcp");
            // Apache lists the methods of its Allow header in the order of a
            // hash seeded per process: it changes from one start to the next.
            if let Some(methods) = l.strip_prefix("|_  Supported Methods: ") {
                let mut m: Vec<&str> = methods.split(' ').collect();
                m.sort_unstable();
                return format!("|_  Supported Methods: {}", m.join(" "));
            }
            let lower = l.to_ascii_lowercase();
            for header in ["|   date: ", "|   last-modified: ", "|   etag: "] {
                if lower.starts_with(header) {
                    return format!("{}(varies)", &l[..header.len()]);
                }
            }
            l
        })
        .collect();
    // nmap prints each script's output as the script finishes: sort the blocks
    // (a block starts with `| name:` or is the one line `|_name: ...`).
    let mut head = Vec::new();
    let mut blocks: Vec<Vec<String>> = Vec::new();
    for line in lines {
        let starts = (line.starts_with("| ") || line.starts_with("|_"))
            && !line.starts_with("|  ")
            && !line.starts_with("|_ ");
        if starts {
            blocks.push(vec![line]);
        } else if let Some(block) = blocks.last_mut().filter(|_| line.starts_with('|')) {
            block.push(line);
        } else {
            head.push(line);
        }
    }
    blocks.sort();
    head.extend(blocks.into_iter().flatten());
    head.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nmap_http_scripts_see_the_same_as_on_live_debian_apache() {
    if !need("/usr/sbin/apache2", "apache2") || !need("nmap", "nmap") {
        return;
    }
    let version = Command::new("/usr/sbin/apache2")
        .arg("-v")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    let server = version
        .lines()
        .find_map(|l| l.strip_prefix("Server version: "))
        .unwrap()
        .trim()
        .to_owned();
    let pot = start(HttpHoneypotConfig {
        server_header: server,
        max_requests_per_ip_per_second: 0,
        ..Default::default()
    })
    .await;
    let port = pot.addr.port();
    let (ours, theirs) = tokio::task::spawn_blocking(move || {
        let apache = LiveApache::start();
        (nmap_http(port), nmap_http(apache.port))
    })
    .await
    .unwrap();
    assert!(ours.contains("http-methods"), "{ours}");
    assert_eq!(ours, theirs, "nmap tells the honeypot from Apache");
    pot.finish().await;
}
