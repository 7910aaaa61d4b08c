//! Every channel type reaches its receiver, in a format the receiver checks.

use nectar_event::Severity;
use nectar_event::config::Sensitive;
use nectar_notify::{
    ChannelConfig, ChannelType, NotifyConfig, RouteConfig, SmtpTls, SyslogFormat, SyslogProtocol,
};
use nectar_store::DeliveryStatus;

use crate::util::*;

fn http(name: &str, kind: ChannelType, port: u16) -> ChannelConfig {
    let mut c = ChannelConfig::new(name, kind);
    c.url = Sensitive::new(format!("http://127.0.0.1:{port}/hooks/{name}"));
    if kind == ChannelType::Webhook {
        c.secret = Sensitive::new(SECRET);
    }
    c
}

fn syslog(name: &str, port: u16, protocol: SyslogProtocol, format: SyslogFormat) -> ChannelConfig {
    let mut c = ChannelConfig::new(name, ChannelType::Syslog);
    c.address = format!("127.0.0.1:{port}");
    c.protocol = protocol;
    c.format = format;
    c
}

#[tokio::test]
async fn notices_reach_webhook_chat_email_and_syslog_receivers() {
    if !require("notification receivers", Some("aiosmtpd")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let hook = Receiver::start("webhook.py", dir.path(), &["--secret", SECRET]);
    let slack = Receiver::start("webhook.py", dir.path(), &[]);
    let mattermost = Receiver::start("webhook.py", dir.path(), &[]);
    let smtp = Receiver::start(
        "smtp.py",
        dir.path(),
        &["--user", "nectar", "--password", "s3cret"],
    );
    let udp = Receiver::start("syslog.py", dir.path(), &["udp"]);
    let tcp = Receiver::start("syslog.py", dir.path(), &["tcp"]);

    let mut email = ChannelConfig::new("mail", ChannelType::Email);
    email.host = "127.0.0.1".into();
    email.port = smtp.port;
    email.tls = SmtpTls::None;
    email.from = "Nectar <nectar@example.org>".into();
    email.to = vec!["soc@example.org".into(), "oncall@example.org".into()];
    email.username = "nectar".into();
    email.password = Sensitive::new("s3cret");
    let config = NotifyConfig {
        channels: vec![
            http("hook", ChannelType::Webhook, hook.port),
            http("slack", ChannelType::Slack, slack.port),
            http("mm", ChannelType::Mattermost, mattermost.port),
            email,
            syslog("udp", udp.port, SyslogProtocol::Udp, SyslogFormat::Rfc5424),
            syslog("tcp", tcp.port, SyslogProtocol::Tcp, SyslogFormat::Cef),
        ],
        routes: vec![RouteConfig::to(&[
            "hook", "slack", "mm", "mail", "udp", "tcp",
        ])],
        ..NotifyConfig::default()
    };
    let store = store(dir.path()).await;
    let notifier = start(&store, &config, 10).await;
    let alerts: Vec<_> = (1..=3)
        .map(|i| alert("ssh-brute", &format!("203.0.113.{i}"), Severity::High))
        .collect();
    for a in &alerts {
        raise(&store, a).await;
    }
    notifier.wake();

    // The webhook: signed, verified by the receiver, one id per delivery.
    let got = hook.wait_for(3).await;
    for entry in &got {
        assert_eq!(entry["verified"], true, "{entry}");
        assert_eq!(entry["status"], 200);
        assert_eq!(entry["body"]["type"], "alert.raised");
        assert_eq!(entry["body"]["data"]["rule"]["techniques"][0], "T1110.001");
        assert!(entry["id"].as_str().unwrap().starts_with("msg_"));
    }
    let mut ids: Vec<&str> = got
        .iter()
        .map(|e| e["body"]["data"]["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want: Vec<String> = alerts.iter().map(|a| a.id.to_string()).collect();
    want.sort();
    assert_eq!(ids, want);

    // Slack and Mattermost: JSON with `text`; attacker markup inert.
    for entry in slack.wait_for(3).await {
        let body = entry["body"].to_string();
        assert!(
            entry["body"]["text"]
                .as_str()
                .unwrap()
                .contains("&lt;script&gt;"),
            "{body}"
        );
        assert!(
            !body.contains("<!channel>") && entry["body"]["blocks"].is_array(),
            "{body}"
        );
        assert_eq!(entry["content_type"], "application/json");
    }
    for entry in mattermost.wait_for(3).await {
        let text = entry["body"]["text"].as_str().unwrap();
        assert!(text.contains("`SSH brute force from 203.0.113."), "{text}");
        assert!(entry["body"]["attachments"][0]["fields"].is_array());
    }

    // Email: logged in, to both recipients, the subject on one line.
    for entry in smtp.wait_for(3).await {
        assert_eq!(entry["login"], true);
        assert_eq!(entry["to"].as_array().unwrap().len(), 2);
        let data = entry["data"].as_str().unwrap();
        assert!(
            data.contains("Subject: Nectar: [high] SSH brute force from 203.0.113."),
            "{data}"
        );
        assert!(data.contains("Message-ID: <"), "{data}");
        assert!(!data.contains("\r\n<!channel>"), "{data}");
    }

    // Syslog: RFC 5424 over UDP; CEF over TCP with octet counting, one
    // message per frame even with a newline in the title.
    for entry in udp.wait_for(3).await {
        let m = entry["message"].as_str().unwrap();
        assert!(m.starts_with("<131>1 "), "{m}");
        assert!(
            m.contains(" test-sensor nectar - alert [nectar@32473 alert=\""),
            "{m}"
        );
        assert!(!m.contains('\n'), "{m}");
    }
    for entry in tcp.wait_for(3).await {
        assert!(entry.get("error").is_none(), "{entry}");
        let m = entry["message"].as_str().unwrap();
        assert!(m.contains(" - CEF:0|Nectar|Nectar|"), "{m}");
        assert!(m.contains("|ssh-brute|SSH brute force|8|"), "{m}");
        assert!(m.contains("src=203.0.113."), "{m}");
        assert!(!m.contains('\n'), "{m}");
    }

    // The store: each alert delivered to its six channels.
    let status = notifier.status();
    wait_status(&status, "18 delivered", |s| s.delivered == 18).await;
    for a in &alerts {
        let deliveries = store.notify_deliveries_of(a.id).await.unwrap();
        assert_eq!(deliveries.len(), 6);
        assert!(
            deliveries
                .iter()
                .all(|d| d.status == DeliveryStatus::Delivered && d.attempts == 1)
        );
    }
    let s = status.snapshot();
    assert_eq!((s.queued, s.retried, s.dead, s.pending), (18, 0, 0, 0));
    notifier.stop(std::time::Duration::from_secs(5)).await;
}

#[tokio::test]
async fn routes_choose_channels_by_severity_rule_and_technique() {
    if !require("webhook receiver", None) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let high = Receiver::start("webhook.py", dir.path(), &["--secret", SECRET]);
    let rule = Receiver::start("webhook.py", dir.path(), &["--secret", SECRET]);
    let mut only_high = RouteConfig::to(&["high"]);
    only_high.min_severity = Severity::High;
    let mut only_rule = RouteConfig::to(&["rule"]);
    only_rule.rules = vec!["telnet-brute".into()];
    only_rule.techniques = vec!["T1110".into()];
    let config = NotifyConfig {
        channels: vec![
            http("high", ChannelType::Webhook, high.port),
            http("rule", ChannelType::Webhook, rule.port),
        ],
        routes: vec![only_high, only_rule],
        ..NotifyConfig::default()
    };
    let store = store(dir.path()).await;
    let notifier = start(&store, &config, 10).await;
    raise(&store, &alert("ssh-brute", "192.0.2.1", Severity::Medium)).await;
    raise(&store, &alert("ssh-brute", "192.0.2.2", Severity::Critical)).await;
    raise(&store, &alert("telnet-brute", "192.0.2.3", Severity::Low)).await;
    let status = notifier.status();
    wait_status(&status, "2 delivered", |s| s.delivered == 2).await;
    let high = high.entries();
    let rule = rule.entries();
    assert_eq!(high.len(), 1);
    assert_eq!(high[0]["body"]["data"]["group"]["src_ip"], "192.0.2.2");
    assert_eq!(rule.len(), 1);
    assert_eq!(rule[0]["body"]["data"]["group"]["src_ip"], "192.0.2.3");
    notifier.stop(std::time::Duration::from_secs(5)).await;
}
