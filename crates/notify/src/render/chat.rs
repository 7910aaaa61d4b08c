//! Slack and Mattermost incoming-webhook bodies: a `text` (what a phone shows)
//! plus Block Kit blocks for Slack, or Slack-style `attachments` for
//! Mattermost.
//!
//! Attacker text is made inert for each: Slack reads `<...>` as links and
//! mentions (`<!channel>`) and asks for `&`, `<`, `>` as entities; Mattermost
//! reads Markdown and `@channel` anywhere, so its values go in code spans,
//! where neither applies. Both get control characters written out visibly
//! ([`clip`]), so no newline starts a new Markdown block.

use nectar_event::text::clip;
use serde_json::json;

use super::Origin;
use crate::message::{AlertSummary, Message};

/// Characters of one value shown in a chat message.
const SHOWN: usize = 200;
/// Alerts of a digest shown in a chat message (the rest are counted).
const DIGEST_SHOWN: usize = 20;

/// `text` as Slack's mrkdwn shows it literally.
pub fn slack_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in clip(text, SHOWN).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as a Mattermost code span: shown literally, no mention, no link.
pub fn mattermost_code(text: &str) -> String {
    let clipped = clip(text, SHOWN).replace('`', "'");
    if clipped.is_empty() {
        "` `".into()
    } else {
        format!("`{clipped}`")
    }
}

/// The Slack body.
pub fn slack(message: &Message, origin: &Origin) -> String {
    let e = slack_escape;
    let (headline, fields) = lines(message, &e);
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": headline},
    })];
    if !fields.is_empty() {
        blocks.push(json!({
            "type": "section",
            "fields": fields.iter().take(10)
                .map(|(k, v)| json!({"type": "mrkdwn", "text": format!("*{k}*\n{v}")}))
                .collect::<Vec<_>>(),
        }));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": format!("Nectar · {}", e(&origin.sensor))}],
    }));
    json!({"text": headline, "blocks": blocks}).to_string()
}

/// The Mattermost body.
pub fn mattermost(message: &Message, origin: &Origin) -> String {
    let (headline, fields) = lines(message, &mattermost_code);
    let color = match message.severity() {
        nectar_event::Severity::Critical => "#8b0000",
        nectar_event::Severity::High => "#d9534f",
        nectar_event::Severity::Medium => "#f0ad4e",
        _ => "#5bc0de",
    };
    json!({
        "text": headline,
        "attachments": [{
            "fallback": format!("Nectar: {} alert(s), {}", count(message), message.severity()),
            "color": color,
            "title": format!("Nectar alert ({})", message.severity()),
            "fields": fields.iter()
                .map(|(k, v)| json!({"short": true, "title": k, "value": v}))
                .collect::<Vec<_>>(),
            "footer": format!("Nectar · {}", mattermost_code(&origin.sensor)),
        }],
    })
    .to_string()
}

fn count(message: &Message) -> u64 {
    match message {
        Message::Alert(_) => 1,
        Message::Digest(d) => d.count,
    }
}

/// The headline and `(label, value)` fields, values escaped with `esc`.
fn lines(message: &Message, esc: &dyn Fn(&str) -> String) -> (String, Vec<(String, String)>) {
    match message {
        Message::Alert(a) => {
            let headline = format!(
                "*{}* alert {}: {}",
                a.severity.as_str().to_uppercase(),
                a.kind,
                esc(&a.title)
            );
            (headline, alert_fields(a, esc))
        }
        Message::Digest(d) => {
            let mut text = format!(
                "*{}* {} alerts from route {} ({})",
                d.severity().as_str().to_uppercase(),
                d.count,
                esc(&d.route),
                if d.reason == "overflow" {
                    "over its rate limit"
                } else {
                    "digest"
                }
            );
            for a in d.alerts.iter().take(DIGEST_SHOWN) {
                text.push_str(&format!("\n• {} {}", a.severity, esc(&a.title)));
            }
            let shown = d.alerts.len().min(DIGEST_SHOWN) as u64;
            if d.count > shown {
                text.push_str(&format!("\n… and {} more", d.count - shown));
            }
            (text, Vec::new())
        }
    }
}

fn alert_fields(a: &AlertSummary, esc: &dyn Fn(&str) -> String) -> Vec<(String, String)> {
    let mut fields = vec![
        (
            "Rule".to_owned(),
            esc(&format!("{} ({})", a.rule_title, a.rule_id)),
        ),
        ("Matches".to_owned(), a.count.to_string()),
    ];
    if !a.techniques.is_empty() {
        fields.push(("Techniques".into(), esc(&a.techniques.join(", "))));
    }
    for (k, v) in a.group.iter().take(3) {
        fields.push((esc(k), esc(v)));
    }
    for (t, v) in a.observables.iter().take(3) {
        fields.push((esc(t), esc(v)));
    }
    fields.push(("Alert".into(), a.id.to_string()));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::fixtures::hostile;

    fn origin() -> Origin {
        Origin {
            sensor: "edge".into(),
        }
    }

    #[test]
    fn slack_text_has_no_live_markup_from_the_attacker() {
        let body: serde_json::Value =
            serde_json::from_str(&slack(&Message::Alert(hostile()), &origin())).unwrap();
        let all = body.to_string();
        assert!(!all.contains("<!channel>") && !all.contains("<x>"), "{all}");
        assert!(all.contains("&lt;!channel&gt; &amp; &lt;x&gt;"), "{all}");
        let text = body["text"].as_str().unwrap();
        assert!(!text.contains('\n'), "{text}");
        assert_eq!(body["blocks"][0]["type"], "section");
    }

    #[test]
    fn mattermost_values_are_code_spans() {
        let body: serde_json::Value =
            serde_json::from_str(&mattermost(&Message::Alert(hostile()), &origin())).unwrap();
        let text = body["text"].as_str().unwrap();
        assert!(
            text.contains("`SSH brute force from a|b\\c=d\"e]f\\ng\\r<!channel> & <x> @all 'code'"),
            "{text}"
        );
        assert_eq!(text.matches('`').count(), 2, "{text}");
        assert!(body["attachments"][0]["fields"].as_array().unwrap().len() >= 3);
    }
}
