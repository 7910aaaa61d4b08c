//! The generic webhook's JSON body, in the Standard Webhooks payload shape
//! (`type`, `timestamp`, `data`): `alert.raised`, `alert.reopened` or
//! `alert.digest`. Attacker text is only cut (serde escapes JSON); the
//! receiver is a program, which wants values as they were.

use nectar_event::Timestamp;
use serde_json::{Value, json};

use super::Origin;
use crate::message::{AlertSummary, Message};

/// The body for `message`.
pub fn body(message: &Message, origin: &Origin, at: Timestamp) -> String {
    let (kind, data) = match message {
        Message::Alert(a) => (format!("alert.{}", a.kind), alert(a)),
        Message::Digest(d) => (
            "alert.digest".to_owned(),
            json!({
                "route": d.route,
                "reason": d.reason,
                "from": d.from,
                "to": d.to,
                "count": d.count,
                "alerts": d.alerts.iter().map(alert).collect::<Vec<_>>(),
            }),
        ),
    };
    json!({
        "type": kind,
        "timestamp": at,
        "sensor": origin.sensor,
        "data": data,
    })
    .to_string()
}

fn alert(a: &AlertSummary) -> Value {
    json!({
        "id": a.id,
        "title": a.title,
        "severity": a.severity,
        "rule": {"id": a.rule_id, "title": a.rule_title, "techniques": a.techniques},
        "group": a.group.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect::<serde_json::Map<_, _>>(),
        "count": a.count,
        "first_seen": a.first_seen,
        "last_seen": a.last_seen,
        "observables": a.observables.iter()
            .map(|(t, v)| json!({"type": t, "value": v}))
            .collect::<Vec<_>>(),
        "previous": a.previous,
    })
}
