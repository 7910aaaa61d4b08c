//! HTTPS: curl over TLS with a server name, the name recorded as `data.tls_sni`, and
//! the self-signed certificate made once and kept across restarts.

use std::process::Command;

use nectar_event::Kind;
use nectar_honeypot::http::{HttpHoneypotConfig, TlsConfig};

use super::{need, of, start, start_in};

fn config() -> HttpHoneypotConfig {
    HttpHoneypotConfig {
        tls: TlsConfig {
            enabled: true,
            self_signed_names: vec!["www.example.test".into()],
            ..Default::default()
        },
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_records_sni_and_keeps_its_certificate() {
    if !need("curl", "curl") {
        return;
    }
    let pot = start(config()).await;
    let tls = pot.tls_addr.expect("TLS is on").port();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args(["20", "curl", "-sk", "-i", "--resolve"])
            .arg(format!("www.example.test:{tls}:127.0.0.1"))
            .arg(format!("https://www.example.test:{tls}/robots.txt"))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\n"),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Disallow: /wp-admin/"), "{text}");
    let cert = pot.dir.path().join("http/tls-cert.pem");
    let first = std::fs::read(&cert).unwrap();
    assert!(String::from_utf8_lossy(&first).starts_with("-----BEGIN CERTIFICATE-----"));
    let (events, dir) = pot.finish_keeping_dir().await;
    let request = of(&events, Kind::HttpRequest)[0];
    assert_eq!(request.data["tls_sni"], "www.example.test");
    assert_eq!(request.data["protocol"], "https");
    // A restart serves the same certificate.
    let pot = start_in(config(), dir).await;
    assert_eq!(std::fs::read(&cert).unwrap(), first);
    pot.finish().await;
}
