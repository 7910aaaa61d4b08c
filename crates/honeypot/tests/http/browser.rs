//! The personas as a person sees them: headless Chromium renders each bait page and
//! saves a screenshot (in `CARGO_TARGET_TMPDIR/http-screenshots/`, to look at), and
//! its DOM dump shows the page parsed into the forms an attacker would fill.

use std::path::PathBuf;
use std::process::Command;

use nectar_honeypot::http::HttpHoneypotConfig;

use super::{need, start};

const PAGES: &[(&str, &str, &str)] = &[
    // (file name, path, text the rendered DOM must hold)
    ("default", "/", "Apache2 Debian Default Page"),
    ("wp-login", "/wp-login.php", "name=\"pwd\""),
    ("phpmyadmin", "/phpmyadmin/", "name=\"pma_password\""),
    ("admin", "/admin/", "name=\"password\""),
    ("phpinfo", "/phpinfo.php", "PHP Version 8.2"),
    ("server-status", "/server-status", "Apache Server Status"),
];

fn chromium(profile: &std::path::Path, extra: &[&str], url: &str) -> std::process::Output {
    Command::new("timeout")
        .args([
            "60",
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
        ])
        .args([
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personas_render_in_headless_chromium_with_screenshots() {
    if !need("chromium", "chromium") {
        return;
    }
    let pot = start(HttpHoneypotConfig::default()).await;
    let port = pot.port();
    let profile = pot.dir.path().join("chromium-profile");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("http-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shots_dir = shots.clone();
    let results = tokio::task::spawn_blocking(move || {
        PAGES
            .iter()
            .map(|(name, path, _)| {
                let url = format!("http://127.0.0.1:{port}{path}");
                let png = shots_dir.join(format!("{name}.png"));
                let _ = std::fs::remove_file(&png);
                let shot = chromium(
                    &profile,
                    &[
                        &format!("--screenshot={}", png.display()),
                        "--window-size=1280,900",
                        "--hide-scrollbars",
                    ],
                    &url,
                );
                let dom = chromium(&profile, &["--dump-dom"], &url);
                (png, shot, String::from_utf8_lossy(&dom.stdout).into_owned())
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for ((name, _, must), (png, shot, dom)) in PAGES.iter().zip(&results) {
        let size = std::fs::metadata(png).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 5_000,
            "{name}: no screenshot ({size} bytes): {}",
            String::from_utf8_lossy(&shot.stderr)
        );
        let header = std::fs::read(png).unwrap();
        assert_eq!(&header[..8], b"\x89PNG\r\n\x1a\n", "{name}");
        assert!(
            dom.contains(must),
            "{name}: {must:?} not in the rendered DOM"
        );
    }
    let events = pot.finish().await;
    // The browser's visits are recorded like anyone's.
    assert!(events.iter().any(|e| {
        e.data
            .get("user_agent")
            .and_then(|v| v.as_str())
            .is_some_and(|ua| ua.contains("HeadlessChrome"))
    }));
}
