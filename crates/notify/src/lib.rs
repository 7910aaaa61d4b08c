//! Nectar's notifications (issue #15, item 5): alerts raised by the rules
//! stage reach people and other systems through webhooks (signed the Standard
//! Webhooks way), Slack and Mattermost incoming webhooks, email (SMTP) and
//! syslog (RFC 5424, optionally CEF).
//!
//! The notifier reads the store's alert notice feed, never the ingest path:
//! routes choose channels by severity, rule and ATT&CK technique, with a rate
//! limit and digests per route; each message is rendered once into a durable
//! outbox (migration 0006, `nectar_store::notify`) in the same transaction as
//! the feed offset, and sent from there with retries, backoff and jitter, a
//! bound after which it is dead (listed, retryable by hand), and counters.
//!
//! Wiring (done in `nectar serve`): [`NotifyConfig`] is `[notify]`, checked
//! with the rest of the file; [`Notifier::new`] builds every channel's client,
//! [`Notifier::spawn`] starts the task, [`NotifierHandle::status`] gives the
//! counters (`/api/v1/status` and the Settings page), and the topology's
//! `NotifyPart` stops it. The alert page and the dead-letter list read the
//! store: `Store::notify_deliveries_of`, `Store::notify_dead`,
//! `Store::notify_retry`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backoff;
pub mod config;
mod deliver;
pub mod error;
mod intake;
pub mod message;
mod notifier;
pub mod render;
mod route;
pub mod send;
pub mod sign;
mod status;

pub use config::{
    ChannelConfig, ChannelType, NotifyConfig, RouteConfig, SmtpTls, SyslogFormat, SyslogProtocol,
};
pub use error::{NotifyError, SendError};
pub use notifier::{Notifier, NotifierHandle, Timing};
pub use status::{ChannelStatus, NotifyStatus, StatusHandle};
