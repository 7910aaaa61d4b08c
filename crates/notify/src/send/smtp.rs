//! Email over SMTP with lettre: STARTTLS (required, not opportunistic) or TLS
//! from the first byte, trusting the system's CA store and the channel's
//! `ca_file`, logging in when a user name is set; plain SMTP only as configured (a relay on this host). A
//! message per attempt, no connection pool: notifications are few.
//!
//! The `Message-ID` is the delivery's id, the same on every retry, so a mail
//! that did arrive before a failure was recorded threads as one.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use nectar_store::DueDelivery;

use crate::config::{ChannelConfig, SmtpTls};
use crate::error::{NotifyError, SendError};
use crate::render::email::Email;

/// An email channel.
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSender")
            .field("from", &self.from)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

impl SmtpSender {
    /// The transport for `channel` (validated: the addresses parse).
    pub fn build(channel: &ChannelConfig) -> Result<SmtpSender, NotifyError> {
        let fail = |reason: String| NotifyError::Channel {
            channel: channel.name.clone(),
            reason,
        };
        let host = channel.host.as_str();
        let mut tls = TlsParameters::builder(host.to_owned());
        if let Some(pem) = super::ca_file(channel)? {
            let roots = Certificate::from_pem(&pem).map_err(|e| fail(format!("ca_file: {e}")))?;
            tls = tls.add_root_certificate(roots);
        }
        let tls = || {
            tls.clone()
                .build_rustls()
                .map_err(|e| fail(format!("TLS for {host}: {e}")))
        };
        // STARTTLS is required, not opportunistic: a server that does not
        // offer it gets neither the password nor the message.
        let builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).tls(match channel.tls {
                SmtpTls::None => Tls::None,
                SmtpTls::Starttls => Tls::Required(tls()?),
                SmtpTls::Tls => Tls::Wrapper(tls()?),
            });
        let mut builder = builder
            .port(channel.smtp_port())
            .timeout(Some(Duration::from_secs(channel.timeout_seconds)));
        if !channel.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                channel.username.clone(),
                channel.password.expose().to_owned(),
            ));
        }
        let from = channel
            .from
            .parse()
            .map_err(|e| fail(format!("from: {e}")))?;
        let to = channel
            .to
            .iter()
            .map(|t| t.parse().map_err(|e| fail(format!("to {t:?}: {e}"))))
            .collect::<Result<_, _>>()?;
        Ok(SmtpSender {
            transport: builder.build(),
            from,
            to,
        })
    }

    /// One SMTP session delivering `delivery`.
    pub async fn send(&self, delivery: &DueDelivery) -> Result<(), SendError> {
        let email: Email = serde_json::from_str(&delivery.payload)
            .map_err(|e| SendError::Permanent(format!("stored email is invalid: {e}")))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(email.subject)
            .message_id(Some(format!("<{}@nectar>", delivery.id.simple())))
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let message = builder
            .body(email.body)
            .map_err(|e| SendError::Permanent(format!("cannot build the email: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("SMTP: {e}"))),
            Err(e) => Err(SendError::retry(format!("SMTP: {e}"))),
        }
    }
}
