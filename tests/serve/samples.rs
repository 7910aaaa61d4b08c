//! Evidence one click away (#25 item 5): an analyst downloads a session's
//! upload and recording from the session page and the API, as attachments with
//! `nosniff`; the sample zipped with the password `infected` opens with Debian's
//! `unzip -P infected` and Python's zipfile; the session's bundle holds its
//! events, recording and samples; a viewer gets 403 everywhere.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::Digest;

use crate::util::{BIN, Server, client, token, web_login};

/// What the session writes through the shell: a small "ELF" dropper.
const PAYLOAD: &[u8] = b"\x7fELF\x01\x01\x01payload-25";

/// Logs in to the Telnet honeypot, writes the payload to a file, exits.
fn telnet_dropper(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(
        b"root\r\n123456\r\necho -ne '\\x7fELF\\x01\\x01\\x01payload-25' > /tmp/.d\r\nexit\r\n",
    )
    .unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
}

fn tool(name: &str) -> bool {
    let ok = Command::new(name).arg("-h").output().is_ok();
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{name} is needed by this test (apt-get install unzip)");
    }
    ok
}

/// Adds a web user with `role` and logs it in; its cookie.
fn web_user(server: &Server, data: &std::path::Path, name: &str, role: &str) -> String {
    let password = format!("{name}-password-25");
    let mut add = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["user", "add", name, "--role", role, "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    assert!(add.wait().unwrap().success());
    crate::web::login(&client(), &server.url, name, &password)
}

fn assert_attachment(response: &reqwest::blocking::Response, what: &str) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(response.status(), 200, "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert!(
        header("content-disposition").starts_with("attachment"),
        "{what}"
    );
    assert_eq!(header("content-type"), "application/octet-stream", "{what}");
}

#[test]
fn analysts_download_samples_recordings_and_bundles_viewers_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let analyst = token(&data, "analyst-25", "analyst");
    let viewer = token(&data, "viewer-25", "viewer");
    let server = Server::start(&data, None);
    telnet_dropper(server.telnet.expect("the Telnet honeypot runs"));
    let url = &server.url;
    let c = client();

    // The session, once its close (and so its recording) is committed.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (session, upload) = loop {
        let body: Value = c
            .get(format!("{url}/api/v1/events?kind=telnet.upload&limit=10"))
            .bearer_auth(&analyst)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let closed: Value = c
            .get(format!("{url}/api/v1/events?kind=session.close&limit=10"))
            .bearer_auth(&analyst)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if let Some(upload) = body["events"].as_array().unwrap().first()
            && closed["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["data"]["recording"].is_string())
        {
            break (
                upload["data"]["session"].as_str().unwrap().to_owned(),
                upload.clone(),
            );
        }
        assert!(Instant::now() < deadline, "no upload and recording yet");
        std::thread::sleep(Duration::from_millis(200));
    };
    let sha = upload["data"]["sha256"].as_str().unwrap().to_owned();
    assert_eq!(sha, nectar_hex(&sha2::Sha256::digest(PAYLOAD)), "{upload}");

    // A viewer may not; an analyst may, as attachments.
    let api = |path: &str, token: &str| {
        c.get(format!("{url}{path}"))
            .bearer_auth(token)
            .send()
            .unwrap()
    };
    let paths = [
        format!("/api/v1/samples/{sha}"),
        format!("/api/v1/samples/{sha}?zip=1"),
        format!("/api/v1/sessions/{session}/recording"),
        format!("/api/v1/sessions/{session}/bundle"),
    ];
    for path in &paths {
        assert_eq!(api(path, &viewer).status(), 403, "{path}");
    }
    let sample = api(&paths[0], &analyst);
    assert_attachment(&sample, "sample");
    assert_eq!(sample.bytes().unwrap().as_ref(), PAYLOAD);
    let recording = api(&paths[2], &analyst);
    assert_attachment(&recording, "recording");
    let cast = recording.text().unwrap();
    let header: Value = serde_json::from_str(cast.lines().next().unwrap()).unwrap();
    assert_eq!(header["version"], 2, "{cast}");
    assert!(
        cast.contains("payload-25"),
        "the typed line is in the recording"
    );
    assert_eq!(
        api("/api/v1/samples/../../nectar.db", &analyst).status(),
        404,
        "no path out of the store"
    );
    assert_eq!(
        api(&format!("/api/v1/samples/{}", "0".repeat(64)), &analyst).status(),
        404
    );
    assert_eq!(api("/api/v1/samples/abc", &analyst).status(), 400);

    // The zips open with the password `infected`, with Debian's unzip and Python.
    let zipped = api(&paths[1], &analyst);
    assert_attachment(&zipped, "zipped sample");
    let zip_path = dir.path().join("sample.zip");
    std::fs::write(&zip_path, zipped.bytes().unwrap()).unwrap();
    if tool("unzip") {
        let wrong = Command::new("unzip")
            .args(["-P", "wrong", "-p"])
            .arg(&zip_path)
            .output()
            .unwrap();
        assert_ne!(wrong.stdout, PAYLOAD, "the zip is encrypted");
        let out = Command::new("unzip")
            .args(["-P", "infected", "-p"])
            .arg(&zip_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, PAYLOAD);
    }
    let python = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             n = z.namelist()\n\
             sys.stdout.write('\\n'.join(n) + '\\n')\n\
             for name in n:\n    z.read(name, pwd=b'infected')\n",
        )
        .arg(&zip_path)
        .output()
        .unwrap();
    assert!(
        python.status.success(),
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&python.stdout).trim(), sha);

    let bundle = api(&paths[3], &analyst);
    assert_attachment(&bundle, "bundle");
    let bundle_path = dir.path().join("bundle.zip");
    std::fs::write(&bundle_path, bundle.bytes().unwrap()).unwrap();
    let unpacked = dir.path().join("bundle");
    let out = Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile\nzipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], pwd=b'infected')")
        .arg(&bundle_path)
        .arg(&unpacked)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = std::fs::read_dir(&unpacked)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let events: Vec<Value> =
        serde_json::from_slice(&std::fs::read(root.join("events.json")).unwrap()).unwrap();
    assert!(events.iter().any(|e| e["kind"] == "telnet.upload"));
    assert!(
        events
            .iter()
            .all(|e| e["data"]["session"] == session.as_str())
    );
    assert_eq!(
        events.first().unwrap()["kind"],
        "session.connect",
        "oldest first"
    );
    assert_eq!(
        std::fs::read(root.join("samples").join(&sha)).unwrap(),
        PAYLOAD
    );
    let stem = root.file_name().unwrap().to_str().unwrap().to_owned();
    let cast_in_bundle = std::fs::read_to_string(root.join(format!("{stem}.cast"))).unwrap();
    assert_eq!(cast_in_bundle, cast);

    // The UI: the session page links them for an analyst (the admin here), the
    // links answer attachments; a viewer sees no links and gets 403.
    let admin = web_login(&server, &data);
    let viewer_cookie = web_user(&server, &data, "vera", "viewer");
    let page = |cookie: &str, path: &str| {
        c.get(format!("{url}{path}"))
            .header("cookie", cookie)
            .send()
            .unwrap()
    };
    let html = page(&admin, &format!("/sessions/{session}"))
        .text()
        .unwrap();
    for link in [
        format!("/sessions/{session}/bundle"),
        format!("/sessions/{session}/recording"),
        format!("/samples/{sha}"),
        format!("/samples/{sha}?zip=1"),
    ] {
        assert!(html.contains(&link), "{link} on the session page");
        assert_attachment(&page(&admin, &link), &link);
        assert_eq!(page(&viewer_cookie, &link).status(), 403, "{link}");
    }
    let upload_page = page(
        &admin,
        &format!("/events/{}", upload["id"].as_str().unwrap()),
    )
    .text()
    .unwrap();
    assert!(
        upload_page.contains(&format!("/samples/{sha}")),
        "the event page links the sample"
    );
    let viewer_html = page(&viewer_cookie, &format!("/sessions/{session}"))
        .text()
        .unwrap();
    assert!(
        !viewer_html.contains("/bundle"),
        "no download links for a viewer"
    );
}

fn nectar_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
