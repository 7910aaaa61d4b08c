//! Webhook, Slack and Mattermost: a JSON POST with reqwest, redirects not
//! followed (the Standard Webhooks advice: fix the URL instead), the answer's
//! status deciding between success, a retry (408, 425, 429, 5xx, no answer;
//! `Retry-After` honoured) and giving up (other 3xx and 4xx, `410 Gone`).
//!
//! The generic webhook is signed per attempt: `webhook-id` is the delivery's
//! id, the same on every retry so receivers can deduplicate; the timestamp
//! and signature are the attempt's, as the spec says, so a retry hours later
//! still passes a receiver's replay window.

use std::time::{Duration, SystemTime};

use nectar_store::DueDelivery;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};

use crate::config::{ChannelConfig, ChannelType};
use crate::error::{NotifyError, SendError};
use crate::sign;

/// Bytes of a refusal's body kept in the error (receivers explain there).
const ERROR_BODY: usize = 300;

/// A channel that POSTs JSON.
#[derive(Debug)]
pub struct HttpSender {
    client: reqwest::Client,
    url: String,
    /// The HMAC key: set for `webhook` channels only.
    key: Option<Vec<u8>>,
}

impl HttpSender {
    /// The client for `channel`.
    pub fn build(channel: &ChannelConfig) -> Result<HttpSender, NotifyError> {
        let fail = |reason: String| NotifyError::Channel {
            channel: channel.name.clone(),
            reason,
        };
        let timeout = Duration::from_secs(channel.timeout_seconds);
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Nectar/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = super::ca_file(channel)? {
            let roots = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| fail(format!("ca_file: not PEM certificates: {e}")))?;
            if roots.is_empty() {
                return Err(fail("ca_file: no certificate in it".into()));
            }
            for root in roots {
                builder = builder.add_root_certificate(root);
            }
        }
        let client = builder
            .build()
            .map_err(|e| fail(format!("cannot build the HTTP client: {e}")))?;
        let key = match channel.kind {
            ChannelType::Webhook => {
                Some(sign::secret_key(channel.secret.expose()).map_err(|reason| {
                    NotifyError::Channel {
                        channel: channel.name.clone(),
                        reason: format!("secret {reason}"),
                    }
                })?)
            }
            _ => None,
        };
        Ok(HttpSender {
            client,
            url: channel.url.expose().to_owned(),
            key,
        })
    }

    /// One POST of `delivery`'s payload.
    pub async fn send(&self, delivery: &DueDelivery) -> Result<(), SendError> {
        let body = delivery.payload.as_bytes().to_vec();
        let mut request = self
            .client
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json");
        if let Some(key) = &self.key {
            let id = webhook_id(delivery);
            let timestamp = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let signature = sign::signature(key, &id, timestamp, &body);
            request = request
                .header("webhook-id", id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature);
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::retry(describe(e)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let after = retry_after(response.headers(), SystemTime::now());
        let text = error_text(response).await;
        let reason = format!("HTTP {}{text}", status.as_u16());
        if retryable(status) {
            Err(SendError::Retry { reason, after })
        } else {
            Err(SendError::Permanent(reason))
        }
    }
}

/// The `webhook-id` of a delivery: `msg_` and its UUID without dashes (no
/// `.`, which would confuse the signed `id.timestamp.body`).
pub fn webhook_id(delivery: &DueDelivery) -> String {
    format!("msg_{}", delivery.id.simple())
}

/// Whether an answer with `status` is worth trying again.
pub fn retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || matches!(
            status,
            StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_EARLY | StatusCode::TOO_MANY_REQUESTS
        )
}

/// The wait `Retry-After` asks for: seconds, or an HTTP date (from `now`).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// What failed, with its causes (a refused connection, an unknown
/// certificate authority), without the URL: reqwest's own message names it,
/// and an incoming-webhook URL is a secret.
fn describe(error: reqwest::Error) -> String {
    if error.is_timeout() {
        return "no answer within the channel's timeout".into();
    }
    let what = if error.is_connect() {
        "cannot connect to the receiver"
    } else {
        "the request failed"
    };
    let mut text = what.to_owned();
    let error = error.without_url();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `: ` and the start of the body, if any, as one line.
async fn error_text(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    // Read at most ERROR_BODY bytes: a refusal may be arbitrarily long.
    while body.len() < ERROR_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(ERROR_BODY);
    let text = String::from_utf8_lossy(&body);
    let text = nectar_event::text::clip(text.trim(), ERROR_BODY);
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(120)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:29:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(60)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn only_transient_answers_are_retried() {
        for code in [408, 425, 429, 500, 502, 503, 504] {
            assert!(retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [301, 400, 401, 403, 404, 410, 413] {
            assert!(!retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }
}
