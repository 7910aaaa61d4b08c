//! What an alert points at, taken from the events that raised it: addresses,
//! user names, passwords (only when not sealed), URLs, hashes, HASSH, user
//! agents and command lines, typed so they can be pivoted on and shared.

use nectar_event::{Event, Kind, Observable, ObservableKind, field};
use serde_json::Value;

/// Longest observable value kept (attacker text; the event keeps all of it).
const MAX_VALUE: usize = 2_048;

/// The observables of one event.
pub fn observables_of(event: &Event) -> Vec<Observable> {
    let mut out = Vec::new();
    let mut add = |kind, value: &str, ioc| {
        if value.is_empty() {
            return;
        }
        let mut end = value.len().min(MAX_VALUE);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        out.push(Observable {
            kind,
            value: value[..end].to_owned(),
            ioc,
        });
    };
    if let Some(ip) = event.src_ip {
        add(ObservableKind::Ip, &ip.to_string(), true);
    }
    let text = |key: &str| event.data.get(key).and_then(Value::as_str);
    if let Some(user) = text(field::USERNAME) {
        add(ObservableKind::Username, user, false);
    }
    // A sealed password has only `password_enc`: nothing to show.
    if let Some(password) = text(field::PASSWORD) {
        add(ObservableKind::Password, password, false);
    }
    if let Some(url) = text(field::URL) {
        add(ObservableKind::Url, url, true);
    }
    if let Some(hash) = text(field::SHA256) {
        add(ObservableKind::Sha256, hash, true);
    }
    if let Some(hassh) = text(field::HASSH) {
        add(ObservableKind::Hassh, hassh, false);
    }
    if let Some(agent) = text(field::USER_AGENT) {
        add(ObservableKind::UserAgent, agent, false);
    }
    if matches!(
        event.kind,
        Kind::SshCommand | Kind::SshExec | Kind::TelnetCommand
    ) && let Some(input) = text(field::INPUT)
    {
        add(ObservableKind::Command, input, false);
    }
    out
}
