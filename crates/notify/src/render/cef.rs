//! ArcSight CEF records (`CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`)
//! for SIEMs that read CEF over syslog.
//!
//! Escaping is the point (Cowrie's CEF output has none, so an attacker's
//! `|` or newline rewrites the record): in the header `\` and `|` are escaped
//! with a backslash; in extension values `\` and `=` are, and newlines are
//! written `\n` and `\r`; every other control becomes U+FFFD. Each value is
//! bounded before it is written, so a cut never splits an escape.

use nectar_event::Severity;

use super::{Origin, push_bounded, replaced};
use crate::message::Message;

/// Bytes of one header field or extension value.
const FIELD: usize = 256;

/// CEF severity (0 to 10) for an alert severity.
pub fn cef_severity(severity: Severity) -> u8 {
    match severity {
        Severity::Info => 1,
        Severity::Low => 3,
        Severity::Medium => 5,
        Severity::High => 8,
        Severity::Critical => 10,
    }
}

/// The record for `message`, at most `max` bytes (extensions that do not fit
/// are left out whole).
pub fn record(message: &Message, origin: &Origin, max: usize) -> String {
    let (signature, name, ext) = match message {
        Message::Alert(a) => {
            let mut ext = vec![
                ("rt", a.last_seen.as_micros().div_euclid(1_000).to_string()),
                ("externalId", a.id.to_string()),
                ("cat", format!("alert.{}", a.kind)),
                ("cnt", a.count.to_string()),
            ];
            if let Some(ip) = a.src_ip() {
                ext.push(("src", ip.to_string()));
            }
            ext.push(("cs1Label", "rule".into()));
            ext.push(("cs1", a.rule_id.clone()));
            if !a.techniques.is_empty() {
                ext.push(("cs2Label", "techniques".into()));
                ext.push(("cs2", a.techniques.join(",")));
            }
            ext.push(("dvchost", origin.sensor.clone()));
            ext.push(("msg", a.title.clone()));
            (a.rule_id.clone(), a.rule_title.clone(), ext)
        }
        Message::Digest(d) => {
            let titles: Vec<&str> = d.alerts.iter().map(|a| a.title.as_str()).collect();
            let ext = vec![
                ("rt", d.to.as_micros().div_euclid(1_000).to_string()),
                ("cat", format!("alert.digest.{}", d.reason)),
                ("cnt", d.count.to_string()),
                ("cs1Label", "route".into()),
                ("cs1", d.route.clone()),
                ("dvchost", origin.sensor.clone()),
                ("msg", titles.join("; ")),
            ];
            (
                "nectar-digest".to_owned(),
                format!("{} alerts", d.count),
                ext,
            )
        }
    };
    let mut out = String::from("CEF:0|Nectar|Nectar|");
    out.push_str(env!("CARGO_PKG_VERSION"));
    out.push('|');
    push_bounded(&mut out, &signature, FIELD, header_escape);
    out.push('|');
    push_bounded(&mut out, &name, FIELD, header_escape);
    out.push_str(&format!("|{}|", cef_severity(message.severity())));
    let mut first = true;
    for (key, value) in ext {
        let mut pair = String::new();
        if !first {
            pair.push(' ');
        }
        pair.push_str(key);
        pair.push('=');
        push_bounded(
            &mut pair,
            &value,
            FIELD.max(if key == "msg" { 1024 } else { 0 }),
            ext_escape,
        );
        if out.len() + pair.len() > max {
            // `msg` is last and longest: cut it to what is left instead.
            if key == "msg" && out.len() + key.len() + 2 < max {
                let room = max - out.len() - key.len() - 2;
                out.push_str(if first { "" } else { " " });
                out.push_str("msg=");
                push_bounded(&mut out, &value, room, ext_escape);
            }
            break;
        }
        out.push_str(&pair);
        first = false;
    }
    out
}

fn header_escape(c: char, out: &mut String) {
    match c {
        '\\' | '|' => {
            out.push('\\');
            out.push(c);
        }
        c => out.push(replaced(c)),
    }
}

fn ext_escape(c: char, out: &mut String) {
    match c {
        '\\' | '=' => {
            out.push('\\');
            out.push(c);
        }
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c => out.push(replaced(c)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::fixtures::hostile;

    fn origin() -> Origin {
        Origin {
            sensor: "edge=1".into(),
        }
    }

    #[test]
    fn header_and_extension_escaping_keep_the_record_whole() {
        let record = record(&Message::Alert(hostile()), &origin(), 2048);
        assert!(
            !record.contains(['\n', '\r', '\u{7}', '\u{202e}']),
            "{record}"
        );
        // Header: 7 unescaped pipes, the rule id's pipe escaped (pipes in the
        // extension need no escape).
        let header = record.split(" externalId=").next().unwrap();
        let unescaped = header
            .char_indices()
            .filter(|&(i, c)| c == '|' && !header[..i].ends_with('\\'))
            .count();
        assert_eq!(unescaped, 7, "{record}");
        assert!(
            record.contains("|ssh-brute\\|force|SSH brute force|8|"),
            "{record}"
        );
        assert!(record.contains("src=203.0.113.7"));
        assert!(record.contains("dvchost=edge\\=1"), "{record}");
        assert!(
            record.contains("msg=SSH brute force from a|b\\\\c\\=d\"e]f\\ng\\r<!channel>"),
            "{record}"
        );
    }

    #[test]
    fn a_small_budget_cuts_the_message_not_an_escape() {
        let mut alert = hostile();
        alert.title = "\\".repeat(400);
        let record = record(&Message::Alert(alert), &origin(), 400);
        assert!(record.len() <= 400, "{}", record.len());
        let msg = record.split(" msg=").nth(1).unwrap();
        assert_eq!(msg.len() % 2, 0, "a cut escape: {msg}");
    }
}
