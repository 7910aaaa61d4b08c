//! Payloads: one rendering per channel type, made when a message is queued
//! and stored with it, so each retry sends the same bytes.
//!
//! Every renderer starts from the bounded [`Message`] and escapes for its
//! own format; attacker text can neither break a format's framing (a newline
//! in syslog, a `|` in CEF, a `<!channel>` in Slack) nor make a message grow
//! past a fixed size.

pub mod cef;
pub mod chat;
pub mod email;
pub mod syslog;
pub mod webhook;

use nectar_event::Timestamp;

use crate::config::{ChannelConfig, ChannelType};
use crate::message::Message;

/// Who is speaking: put in every message so a receiver of several Nectars can
/// tell them apart.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The sensor name (`sensor_name`).
    pub sensor: String,
}

/// The payload of `message` for `channel`, made at `at`.
pub fn payload(
    channel: &ChannelConfig,
    message: &Message,
    origin: &Origin,
    at: Timestamp,
) -> String {
    match channel.kind {
        ChannelType::Webhook => webhook::body(message, origin, at),
        ChannelType::Slack => chat::slack(message, origin),
        ChannelType::Mattermost => chat::mattermost(message, origin),
        ChannelType::Email => email::payload(message, origin),
        ChannelType::Syslog => syslog::message(channel, message, origin, at),
    }
}

/// Appends `text` to `out`, each character written by `escape`, stopping
/// before `out` would grow by more than `max` bytes; one character's escape
/// is never split (a cut `\\` would escape what follows it).
pub(crate) fn push_bounded(
    out: &mut String,
    text: &str,
    max: usize,
    escape: impl Fn(char, &mut String),
) {
    let mut piece = String::with_capacity(8);
    let mut written = 0;
    for c in text.chars() {
        piece.clear();
        escape(c, &mut piece);
        if written + piece.len() > max {
            return;
        }
        written += piece.len();
        out.push_str(&piece);
    }
}

/// U+FFFD for a character no syslog receiver should see as itself
/// (controls, invisible and bidirectional characters): a stand-in, since
/// neither RFC 5424 nor CEF has an escape for them.
pub(crate) fn replaced(c: char) -> char {
    if nectar_event::text::must_escape(c) {
        '\u{fffd}'
    } else {
        c
    }
}
