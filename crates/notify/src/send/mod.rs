//! Transports: how a stored payload reaches a receiver, one module per
//! protocol, each attempt bounded by the channel's timeout. A [`Sender`] is
//! built once per channel at start (clients, keys, addresses checked) and
//! shared by the delivery tasks.

pub mod http;
pub mod smtp;
pub mod syslog;

use nectar_store::DueDelivery;

/// The PEM bytes of a channel's `ca_file`, if it has one.
fn ca_file(channel: &ChannelConfig) -> Result<Option<Vec<u8>>, NotifyError> {
    if channel.ca_file.as_os_str().is_empty() {
        return Ok(None);
    }
    std::fs::read(&channel.ca_file)
        .map(Some)
        .map_err(|e| NotifyError::Channel {
            channel: channel.name.clone(),
            reason: format!("cannot read ca_file {}: {e}", channel.ca_file.display()),
        })
}

use crate::config::{ChannelConfig, ChannelType};
use crate::error::{NotifyError, SendError};

/// One channel's way to send.
#[derive(Debug)]
pub enum Sender {
    /// Webhook, Slack, Mattermost.
    Http(http::HttpSender),
    /// Email.
    Smtp(Box<smtp::SmtpSender>),
    /// Syslog.
    Syslog(syslog::SyslogSender),
}

impl Sender {
    /// The sender for `channel` (already validated).
    pub fn build(channel: &ChannelConfig) -> Result<Sender, NotifyError> {
        Ok(match channel.kind {
            ChannelType::Webhook | ChannelType::Slack | ChannelType::Mattermost => {
                Sender::Http(http::HttpSender::build(channel)?)
            }
            ChannelType::Email => Sender::Smtp(Box::new(smtp::SmtpSender::build(channel)?)),
            ChannelType::Syslog => Sender::Syslog(syslog::SyslogSender::build(channel)),
        })
    }

    /// One attempt at `delivery`.
    pub async fn send(&self, delivery: &DueDelivery) -> Result<(), SendError> {
        match self {
            Sender::Http(s) => s.send(delivery).await,
            Sender::Smtp(s) => s.send(delivery).await,
            Sender::Syslog(s) => s.send(delivery).await,
        }
    }
}
