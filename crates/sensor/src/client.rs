//! The HTTPS client a sensor talks to its server with: the pinned TLS of
//! [`crate::pin`], bounded timeouts, HTTP/1.1 keep-alive.

use std::time::Duration;

use crate::SensorError;

/// How long connecting (TCP and TLS) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take, answer included: a black-holed server is
/// given up on and retried, never waited for forever.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A client trusting only the server whose certificate (or CA) has `pin`;
/// a request (answer included) is given up after `timeout`.
pub fn pinned_client(
    pin: [u8; 32],
    version: &str,
    timeout: Duration,
    local_address: Option<std::net::IpAddr>,
) -> Result<reqwest::Client, SensorError> {
    let tls = crate::pin::client_config(pin)?;
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .https_only(true)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(timeout)
        .local_address(local_address)
        .pool_max_idle_per_host(1)
        .user_agent(format!("nectar-sensor/{version}"))
        // The server is given by address; a proxy from the environment would
        // be a man in the middle the pin refuses anyway.
        .no_proxy()
        .build()
        .map_err(|e| SensorError::Tls(e.to_string()))
}

/// `url` checked to be an `https://HOST[:PORT]` base, without a trailing `/`.
pub fn base_url(url: &str) -> Result<String, SensorError> {
    let bad = |reason: &str| SensorError::Usage {
        field: "URL",
        reason: format!(
            "{:?}: {reason}; give the server as https://HOST:PORT (its [server.tls] listen)",
            url.chars().take(200).collect::<String>()
        ),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if parsed.scheme() != "https" {
        return Err(bad("not https"));
    }
    if parsed.host_str().is_none() {
        return Err(bad("no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("credentials do not belong in the URL"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// A link error's whole chain, in one line (reqwest's own message is only the
/// outermost part: "error sending request").
pub fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
