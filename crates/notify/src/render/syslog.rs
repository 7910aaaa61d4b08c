//! Syslog messages (RFC 5424) and their TCP framing (RFC 6587 octet counting).
//!
//! Written here rather than taken from a crate: the format is a dozen lines,
//! while what matters is escaping attacker text (structured-data values,
//! controls) and bounding the size, which the crates we looked at
//! (`syslog`, `fasyslog`) leave to the caller anyway; and their senders are
//! blocking, where ours share the async runtime with timeouts.
//!
//! `<PRI>1 TIMESTAMP HOSTNAME nectar - MSGID [nectar@32473 ...] MSG`: the
//! facility is the channel's, the severity follows the alert's; the
//! structured data carries the alert's id, rule, severity and count; MSG is a
//! text line (with the UTF-8 BOM the RFC asks for) or a CEF record.
//! `32473` is the private enterprise number RFC 5612 reserves for examples:
//! Nectar has none of its own.

use nectar_event::{Severity, Timestamp};

use super::{Origin, push_bounded, replaced};
use crate::config::{ChannelConfig, SyslogFormat};
use crate::message::Message;

/// Most bytes of one message: what RFC 5426 says every UDP receiver should
/// accept over IPv4 (2048), used for TCP too so both carry the same text.
pub const MAX_MESSAGE: usize = 2048;
/// Bytes of one structured-data value.
const SD_VALUE: usize = 256;

/// The syslog severity for an alert severity.
pub fn syslog_severity(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 2, // crit
        Severity::High => 3,     // err
        Severity::Medium => 4,   // warning
        Severity::Low => 5,      // notice
        Severity::Info => 6,     // informational
    }
}

/// The whole message for `channel` (without framing), at most [`MAX_MESSAGE`]
/// bytes.
pub fn message(
    channel: &ChannelConfig,
    message: &Message,
    origin: &Origin,
    at: Timestamp,
) -> String {
    let pri =
        u16::from(channel.facility.min(23)) * 8 + u16::from(syslog_severity(message.severity()));
    let msgid = match message {
        Message::Alert(_) => "alert",
        Message::Digest(_) => "digest",
    };
    let mut out = format!(
        "<{pri}>1 {at} {} nectar - {msgid} ",
        hostname(&origin.sensor)
    );
    match channel.format {
        SyslogFormat::Rfc5424 => {
            structured_data(&mut out, message);
            out.push_str(" \u{feff}");
            let room = MAX_MESSAGE.saturating_sub(out.len());
            push_bounded(&mut out, &text(message), room, |c, o| o.push(replaced(c)));
        }
        SyslogFormat::Cef => {
            out.push_str("- ");
            let room = MAX_MESSAGE.saturating_sub(out.len());
            out.push_str(&super::cef::record(message, origin, room));
        }
    }
    out
}

/// `message` framed for TCP: its length in bytes, a space, the message.
pub fn octet_counted(message: &str) -> Vec<u8> {
    let mut framed = format!("{} ", message.len()).into_bytes();
    framed.extend_from_slice(message.as_bytes());
    framed
}

/// HOSTNAME: printable ASCII without spaces, 1 to 255 bytes, or `-`.
fn hostname(sensor: &str) -> String {
    let name: String = sensor
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect();
    if name.is_empty() { "-".into() } else { name }
}

fn structured_data(out: &mut String, message: &Message) {
    let mut params: Vec<(&str, String)> = Vec::new();
    match message {
        Message::Alert(a) => {
            params.push(("alert", a.id.to_string()));
            params.push(("kind", a.kind.clone()));
            params.push(("rule", a.rule_id.clone()));
            params.push(("severity", a.severity.to_string()));
            params.push(("count", a.count.to_string()));
            if !a.techniques.is_empty() {
                params.push(("techniques", a.techniques.join(",")));
            }
            if let Some(ip) = a.src_ip() {
                params.push(("src", ip.to_string()));
            }
        }
        Message::Digest(d) => {
            params.push(("route", d.route.clone()));
            params.push(("reason", d.reason.clone()));
            params.push(("count", d.count.to_string()));
            params.push(("severity", d.severity().to_string()));
        }
    }
    out.push_str("[nectar@32473");
    for (name, value) in params {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        push_bounded(out, &value, SD_VALUE, |c, o| {
            // RFC 5424 §6.3.3: '"', '\' and ']' are escaped with a backslash.
            if matches!(c, '"' | '\\' | ']') {
                o.push('\\');
            }
            o.push(replaced(c));
        });
        out.push('"');
    }
    out.push(']');
}

fn text(message: &Message) -> String {
    match message {
        Message::Alert(a) => format!(
            "{} alert {}: {} (rule {}, {} matches)",
            a.severity, a.kind, a.title, a.rule_id, a.count
        ),
        Message::Digest(d) => {
            let titles: Vec<&str> = d.alerts.iter().map(|a| a.title.as_str()).collect();
            format!(
                "{} alerts from route {}: {}",
                d.count,
                d.route,
                titles.join("; ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ChannelConfig, ChannelType};
    use crate::message::fixtures::hostile;

    fn channel(format: SyslogFormat) -> ChannelConfig {
        let mut c = ChannelConfig::new("s", ChannelType::Syslog);
        c.format = format;
        c
    }

    fn origin() -> Origin {
        Origin {
            sensor: "edge 1\n".into(),
        }
    }

    fn at() -> Timestamp {
        Timestamp::from_micros(1_700_000_000_123_456).unwrap()
    }

    #[test]
    fn rfc5424_with_escaped_structured_data_on_one_line() {
        let m = message(
            &channel(SyslogFormat::Rfc5424),
            &Message::Alert(hostile()),
            &origin(),
            at(),
        );
        assert!(
            m.starts_with("<131>1 2023-11-14T22:13:20.123456Z edge1 nectar - alert [nectar@32473 alert=\"01900000-0000-7000-8000-000000000001\" kind=\"raised\" rule=\"ssh-brute|force\" severity=\"high\" count=\"12\" techniques=\"T1110.001\" src=\"203.0.113.7\"] \u{feff}high alert raised: SSH brute force from a|b"),
            "{m}"
        );
        assert!(!m.contains(['\n', '\r', '\u{7}', '\u{202e}']), "{m}");
    }

    #[test]
    fn structured_data_escapes_quote_backslash_and_bracket() {
        let mut alert = hostile();
        alert.rule_id = "a\"b\\c]d".into();
        let m = message(
            &channel(SyslogFormat::Rfc5424),
            &Message::Alert(alert),
            &origin(),
            at(),
        );
        assert!(m.contains(r#"rule="a\"b\\c\]d""#), "{m}");
    }

    #[test]
    fn cef_body_and_size_bound() {
        let mut alert = hostile();
        alert.title = "x".repeat(5_000);
        let m = message(
            &channel(SyslogFormat::Cef),
            &Message::Alert(alert),
            &origin(),
            at(),
        );
        assert!(
            m.starts_with(
                "<131>1 2023-11-14T22:13:20.123456Z edge1 nectar - alert - CEF:0|Nectar|Nectar|"
            ),
            "{m}"
        );
        assert!(m.len() <= MAX_MESSAGE);
    }

    #[test]
    fn tcp_frames_count_bytes_not_characters() {
        assert_eq!(octet_counted("<14>1 é"), b"8 <14>1 \xc3\xa9".to_vec());
    }
}
