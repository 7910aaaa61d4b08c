//! The email channel's message: a subject and a plain-text body, stored as
//! JSON `{"subject", "body"}`; the addresses come from the channel when it is
//! sent. Control characters are written out visibly ([`clip`]), so attacker
//! text cannot add a header line or fake a section of the body.

use nectar_event::text::clip;
use serde::{Deserialize, Serialize};

use super::Origin;
use crate::message::{AlertSummary, Message};

/// Characters of a subject.
const SUBJECT: usize = 150;
/// Characters of one value in the body.
const SHOWN: usize = 256;

/// What is stored for an email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// The subject line.
    pub subject: String,
    /// The text body.
    pub body: String,
}

/// The stored payload for `message`.
pub fn payload(message: &Message, origin: &Origin) -> String {
    let email = Email {
        subject: clip(&format!("Nectar: {}", message.subject()), SUBJECT),
        body: body(message, origin),
    };
    // A struct of two strings always serialises.
    serde_json::to_string(&email).unwrap_or_default()
}

fn body(message: &Message, origin: &Origin) -> String {
    let mut out = String::new();
    match message {
        Message::Alert(a) => alert(&mut out, a),
        Message::Digest(d) => {
            out.push_str(&format!(
                "{} alerts from route {} ({}), {} to {}.\n",
                d.count,
                clip(&d.route, SHOWN),
                if d.reason == "overflow" {
                    "gathered because the route's rate limit was reached"
                } else {
                    "digest"
                },
                d.from,
                d.to
            ));
            for a in &d.alerts {
                out.push_str("\n----\n");
                alert(&mut out, a);
            }
            let listed = d.alerts.len() as u64;
            if d.count > listed {
                out.push_str(&format!("\n… and {} more.\n", d.count - listed));
            }
        }
    }
    out.push_str(&format!(
        "\n-- \nNectar on {}. Attacker-supplied values are shown as received, with control characters escaped.\n",
        clip(&origin.sensor, SHOWN)
    ));
    out
}

fn alert(out: &mut String, a: &AlertSummary) {
    let mut line = |k: &str, v: &str| out.push_str(&format!("{k}: {}\n", clip(v, SHOWN)));
    line("Alert", &a.title);
    line("Severity", a.severity.as_str());
    line("Status", &a.kind);
    line("Rule", &format!("{} ({})", a.rule_title, a.rule_id));
    if !a.techniques.is_empty() {
        line("Techniques", &a.techniques.join(", "));
    }
    line("Matches", &a.count.to_string());
    line("First seen", &a.first_seen.to_string());
    line("Last seen", &a.last_seen.to_string());
    for (k, v) in &a.group {
        line(&format!("Group {}", clip(k, 64)), v);
    }
    for (t, v) in &a.observables {
        line(&format!("Observable {t}"), v);
    }
    if let Some(previous) = a.previous {
        line("Follows alert", &previous.to_string());
    }
    line("Alert id", &a.id.to_string());
}
