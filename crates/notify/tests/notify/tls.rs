//! TLS: HTTPS webhooks, SMTP with STARTTLS (required) and with TLS from the
//! first byte, each trusting the channel's `ca_file`; a receiver whose
//! certificate nothing vouches for gets nothing.

use std::path::{Path, PathBuf};

use nectar_event::Severity;
use nectar_event::config::Sensitive;
use nectar_notify::{ChannelConfig, ChannelType, NotifyConfig, RouteConfig, SmtpTls};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

use crate::util::*;

struct Pki {
    ca: PathBuf,
    cert: String,
    key: String,
}

/// A CA and a certificate it signed for 127.0.0.1, as PEM files in `dir`.
fn pki(dir: &Path) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let write = |name: &str, pem: String| {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        path
    };
    Pki {
        ca: write("ca.pem", ca.pem()),
        cert: write("cert.pem", cert.pem()).display().to_string(),
        key: write("key.pem", key.serialize_pem()).display().to_string(),
    }
}

fn mail(name: &str, port: u16, tls: SmtpTls, ca: &Path) -> ChannelConfig {
    let mut c = ChannelConfig::new(name, ChannelType::Email);
    c.host = "127.0.0.1".into();
    c.port = port;
    c.tls = tls;
    c.from = "nectar@example.org".into();
    c.to = vec!["soc@example.org".into()];
    c.username = "nectar".into();
    c.password = Sensitive::new("s3cret");
    c.ca_file = ca.to_owned();
    c
}

#[tokio::test]
async fn tls_channels_trust_their_ca_file_and_nothing_else() {
    if !require("TLS receivers", Some("aiosmtpd")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let tls = ["--tls", pki.cert.as_str(), pki.key.as_str()];
    let login = ["--user", "nectar", "--password", "s3cret"];
    let hook = Receiver::start(
        "webhook.py",
        dir.path(),
        &[&["--secret", SECRET][..], &tls].concat(),
    );
    let untrusted = Receiver::start("webhook.py", dir.path(), &tls);
    let starttls = Receiver::start(
        "smtp.py",
        dir.path(),
        &[
            &login[..],
            &["--starttls", pki.cert.as_str(), pki.key.as_str()],
        ]
        .concat(),
    );
    let smtps = Receiver::start("smtp.py", dir.path(), &[&login[..], &tls].concat());

    let mut webhook = ChannelConfig::new("hook", ChannelType::Webhook);
    webhook.url = Sensitive::new(format!("https://127.0.0.1:{}/", hook.port));
    webhook.secret = Sensitive::new(SECRET);
    webhook.ca_file = pki.ca.clone();
    let mut stranger = ChannelConfig::new("stranger", ChannelType::Slack);
    stranger.url = Sensitive::new(format!("https://127.0.0.1:{}/", untrusted.port));
    let config = NotifyConfig {
        channels: vec![
            webhook,
            mail("starttls", starttls.port, SmtpTls::Starttls, &pki.ca),
            mail("smtps", smtps.port, SmtpTls::Tls, &pki.ca),
            stranger,
        ],
        routes: vec![RouteConfig::to(&["hook", "starttls", "smtps", "stranger"])],
        ..NotifyConfig::default()
    };
    let store = store(dir.path()).await;
    let notifier = start(&store, &config, 20).await;
    raise(&store, &alert("ssh-brute", "203.0.113.50", Severity::High)).await;

    assert_eq!(hook.wait_for(1).await[0]["verified"], true);
    let got = starttls.wait_for(1).await;
    assert_eq!(
        (&got[0]["tls"], &got[0]["login"]),
        (&true.into(), &true.into())
    );
    assert_eq!(smtps.wait_for(1).await[0]["login"], true);
    let status = notifier.status();
    wait_status(&status, "the stranger refused", |s| {
        s.channels[3].failed >= 1
    })
    .await;
    let s = status.snapshot();
    let error = s.channels[3].last_error.clone().unwrap_or_default();
    assert!(error.contains("certificate"), "{error}");
    assert!(!error.contains("127.0.0.1"), "the URL is a secret: {error}");
    assert_eq!(s.channels[3].delivered, 0);
    assert!(untrusted.entries().is_empty());
    notifier.stop(std::time::Duration::from_secs(5)).await;
}
