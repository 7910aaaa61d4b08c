//! The Sensors page (#20) in Debian's headless Chromium, with real processes:
//! an admin enrols a sensor from the page's form, the line it shows enrols a
//! real `nectar sensor`, whose events then show on the page; a hostile value a
//! sensor reports (its version) shows as text; the Revoke button stops the
//! sensor. Without chromium it skips locally and fails under `CI=true`.

use std::time::{Duration, Instant};

use crate::browser::{
    LAPTOP, PHONE, admin_password, console_problems, log_in, screenshot_dir, wait_for_url,
};
use crate::sensors::{Sensor, enrol, free_port, probe, server_config, wait_arrived, wait_until};
use crate::util::{Server, client, token};
use crate::webdriver::{Browser, chromium_available};

/// The page's row of sensor `name`, once it shows (at most 30 s, reloading).
fn row_text(browser: &Browser, url: &str, name: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        browser.goto(&format!("{url}/sensors"));
        if let Some(row) = browser
            .find_all("table.events tbody tr")
            .into_iter()
            .filter_map(|r| r.try_text())
            .find(|t| t.starts_with(name))
        {
            return row;
        }
        assert!(Instant::now() < deadline, "no row for sensor {name}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn the_sensors_page_enrols_shows_and_revokes_a_sensor() {
    if !chromium_available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let server_dir = root.path().join("server");
    let sensor_dir = root.path().join("sensor");
    std::fs::create_dir_all(&server_dir).unwrap();
    let tls_port = free_port();
    let config = server_config(&server_dir, tls_port, "");
    let server = Server::start(&server_dir, Some(&config));
    let url = server.url.clone();
    let analyst = token(&server_dir, "analyst", "analyst");
    let shots = screenshot_dir("sensors");
    let mut browser = Browser::start(LAPTOP.0, LAPTOP.1);
    log_in(&browser, &url, &admin_password(&server_dir));

    // By its navigation link; empty at first.
    browser.goto(&format!("{url}/"));
    browser.find("nav a[href='/sensors']").click();
    wait_for_url(&browser, |u| u.ends_with("/sensors"));
    assert_eq!(browser.title(), "Sensors · Nectar");
    assert!(browser.find("body").text().contains("No sensors yet."));

    // Enrolled from the form: the page shows the one line to run.
    browser
        .find("form[action='/sensors'] input[name=name]")
        .type_text("edge-1");
    browser
        .find("form[action='/sensors'] button[type=submit]")
        .click();
    let deadline = Instant::now() + Duration::from_secs(15);
    let line = loop {
        if let Some(text) = browser
            .find_all("pre.transcript")
            .first()
            .and_then(|p| p.try_text())
        {
            break text;
        }
        assert!(Instant::now() < deadline, "no enrolment line shown");
        std::thread::sleep(Duration::from_millis(100));
    };
    browser.save_screenshot(&shots.join("laptop-enrolment-line.png"));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&words[..3], &["nectar", "sensor", "enrol"], "{line}");
    assert_eq!(words[5], "--pin", "{line}");
    assert_eq!(words[3], format!("https://127.0.0.1:{tls_port}"));
    let enrolled = enrol(&sensor_dir, words[3], words[4], words[6]);
    assert!(
        enrolled.status.success(),
        "{}",
        String::from_utf8_lossy(&enrolled.stderr)
    );
    // The secret works once.
    let again = enrol(&root.path().join("other"), words[3], words[4], words[6]);
    assert!(!again.status.success());

    // A real sensor ships; its row fills in.
    let mut sensor = Sensor::start(&sensor_dir, "");
    probe(&sensor.http, "ui", 0..5);
    let seen = wait_arrived(&url, &analyst, "ui", 5, Duration::from_secs(60));
    assert_eq!(seen.len(), 5);
    let row = row_text(&browser, &url, "edge-1");
    assert!(row.split_whitespace().any(|w| w == "ok"), "{row}");
    assert!(row.contains(env!("CARGO_PKG_VERSION")), "{row}");
    assert!(row.contains("127.0.0.1"), "{row}");

    // A hostile value from a sensor is shown as text: no element, no script.
    let credential = std::fs::read_to_string(sensor_dir.join("sensor.toml")).unwrap();
    let sensor_token = credential
        .lines()
        .find_map(|l| l.strip_prefix("token = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_owned();
    let hostile = "<img src=x onerror=alert(1)>";
    let posted = client()
        .post(format!("{url}/api/v1/events"))
        .bearer_auth(&sensor_token)
        .header("x-nectar-version", hostile)
        .body(r#"{"kind":"http.request","summary":"GET /hostile","data":{"path":"/hostile"}}"#)
        .send()
        .unwrap();
    assert_eq!(posted.status(), 200);
    let row = row_text(&browser, &url, "edge-1");
    assert!(row.contains(hostile), "{row}");
    assert_eq!(
        browser.execute("return document.querySelectorAll('table.events img').length;"),
        0
    );
    let problems = console_problems(&browser);
    assert!(problems.is_empty(), "{problems:?}");
    browser.save_screenshot(&shots.join("laptop-sensors.png"));
    browser.resize(PHONE.0, PHONE.1);
    browser.goto(&format!("{url}/sensors"));
    browser.save_screenshot(&shots.join("phone-sensors.png"));
    browser.resize(LAPTOP.0, LAPTOP.1);

    // Revoked from the page: the row says so and the sensor stops at its
    // next batch.
    browser.goto(&format!("{url}/sensors"));
    browser
        .find("form[action='/sensors/edge-1/revoke'] button[type=submit]")
        .click();
    let row = row_text(&browser, &url, "edge-1");
    assert!(row.contains("revoked"), "{row}");
    assert!(
        browser
            .find_all("form[action='/sensors/edge-1/revoke']")
            .is_empty(),
        "a revoked sensor still has a Revoke button"
    );
    probe(&sensor.http, "ui", 5..6);
    assert!(
        wait_until(Duration::from_secs(30), || sensor
            .child
            .try_wait()
            .unwrap()
            .is_some()),
        "the revoked sensor kept running"
    );
    assert!(sensor.log().contains("was revoked"), "{}", sensor.log());
}
