//! The notifier against real receivers on loopback: a Standard Webhooks
//! receiver that checks signatures, Slack- and Mattermost-style webhooks, an
//! SMTP server (aiosmtpd) and syslog over UDP and TCP (all Python, written
//! without Nectar's code); retries, `Retry-After`, the dead-letter list, and
//! restarts over the same store.

mod channels;
mod outbox;
mod tls;
mod util;
