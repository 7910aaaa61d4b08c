//! A minimal W3C WebDriver client driving Debian's headless Chromium through
//! `chromedriver`, for the browser tests.
//!
//! Written here rather than taken from `fantoccini`/`thirtyfour`: the protocol is a
//! dozen JSON calls over HTTP, which the blocking `reqwest` client the tests already
//! use does in a few lines, where those crates bring a second async HTTP stack.
//! Only loopback: chromedriver listens on 127.0.0.1 and the browser visits the test's
//! own server; background networking of Chromium is switched off by flags.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

/// The key WebDriver uses for element references.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Whether chromium and chromedriver are installed; under `CI=true` their absence
/// fails the test instead of skipping it.
pub fn chromium_available() -> bool {
    let found = ["chromium", "chromedriver"].iter().all(|tool| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium and chromedriver are needed by this test (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipping: chromium or chromedriver not installed");
    }
    found
}

/// The chromedriver process, killed when dropped (also when starting the browser
/// session fails).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running chromedriver with one browser session; both end when dropped.
pub struct Browser {
    _driver: Driver,
    http: reqwest::blocking::Client,
    base: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a headless Chromium with a
    /// fresh profile, its window `width` x `height`.
    pub fn start(width: u32, height: u32) -> Browser {
        let mut driver = Driver(
            Command::new("chromedriver")
                .args(["--port=0", "--allowed-ips=127.0.0.1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn chromedriver"),
        );
        let stdout = driver.0.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    let _ = tx.send(rest.trim_end_matches('.').trim().to_owned());
                }
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("chromedriver did not start within 30 s");
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(90))
            .build()
            .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--disable-quic".into(),
            "--disable-dev-shm-usage".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 30_000, "script": 10_000, "implicit": 0},
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
        }}});
        let root = format!("http://127.0.0.1:{port}");
        let answer: Value = http
            .post(format!("{root}/session"))
            .json(&capabilities)
            .send()
            .and_then(|r| r.json())
            .expect("create a WebDriver session");
        let id = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {answer}"))
            .to_owned();
        let mut browser = Browser {
            _driver: driver,
            http,
            base: format!("{root}/session/{id}"),
            _profile: profile,
        };
        browser.resize(width, height);
        browser
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"));
        if let Some(error) = answer["value"]["error"].as_str() {
            panic!(
                "WebDriver {path}: {error}: {}",
                answer["value"]["message"].as_str().unwrap_or_default()
            );
        }
        answer["value"].clone()
    }

    /// A GET whose WebDriver error (a stale element after a navigation) is
    /// `None` instead of a panic.
    fn try_get(&self, path: &str) -> Option<Value> {
        let answer: Value = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .and_then(|r| r.json())
            .ok()?;
        answer["value"]["error"]
            .is_null()
            .then(|| answer["value"].clone())
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None)
    }

    /// Sets the window's inner size as near as the browser allows.
    pub fn resize(&mut self, width: u32, height: u32) {
        self.post(
            "/window/rect",
            json!({"width": width, "height": height, "x": 0, "y": 0}),
        );
    }

    /// Loads `url` and waits for the page.
    pub fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url }));
    }

    pub fn current_url(&self) -> String {
        self.get("/url").as_str().unwrap_or_default().to_owned()
    }

    pub fn title(&self) -> String {
        self.get("/title").as_str().unwrap_or_default().to_owned()
    }

    /// Every element matching the CSS selector.
    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        self.post("/elements", json!({"using": "css selector", "value": css}))
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str())
                    .map(|id| Element {
                        browser: self,
                        id: id.to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first element matching the CSS selector; panics if none.
    pub fn find(&self, css: &str) -> Element<'_> {
        self.find_all(css)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no element matches {css:?} on {}", self.current_url()))
    }

    /// Runs `script` in the page (WebDriver's own channel, not subject to the page's
    /// CSP) and returns its result.
    pub fn execute(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let data = self.get("/screenshot");
        base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("screenshot data"))
            .expect("screenshot is base64")
    }

    /// Saves a screenshot to `path` and checks it is a PNG of a plausible size.
    pub fn save_screenshot(&self, path: &Path) -> (u32, u32) {
        let png = self.screenshot();
        let (width, height) = png_size(&png);
        assert!(
            width >= 300 && height >= 300 && png.len() > 2_000,
            "screenshot {} is {width}x{height}, {} bytes",
            path.display(),
            png.len()
        );
        std::fs::write(path, &png).unwrap();
        (width, height)
    }

    /// Browser console entries since the last call (level, message).
    pub fn console(&self) -> Vec<(String, String)> {
        self.post("/se/log", json!({"type": "browser"}))
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        (
                            e["level"].as_str().unwrap_or_default().to_owned(),
                            e["message"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .http
            .delete(&self.base)
            .timeout(Duration::from_secs(20))
            .send();
    }
}

/// An element of the current page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Element<'_> {
    pub fn click(&self) {
        self.browser
            .post(&format!("/element/{}/click", self.id), json!({}));
    }

    /// Types `text` into the element (after clearing it).
    pub fn type_text(&self, text: &str) {
        self.browser
            .post(&format!("/element/{}/clear", self.id), json!({}));
        self.browser.post(
            &format!("/element/{}/value", self.id),
            json!({ "text": text }),
        );
    }

    /// The rendered text, or `None` if the element went away (the page
    /// navigated since it was found).
    pub fn try_text(&self) -> Option<String> {
        self.browser
            .try_get(&format!("/element/{}/text", self.id))
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    /// The rendered text, as a person would read it.
    pub fn text(&self) -> String {
        self.browser
            .get(&format!("/element/{}/text", self.id))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// Width and height from a PNG's IHDR chunk; panics if `png` is not a PNG.
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.len() > 24 && png.starts_with(b"\x89PNG\r\n\x1a\n") && &png[12..16] == b"IHDR",
        "not a PNG"
    );
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}
