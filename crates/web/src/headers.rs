//! Security headers on every response, and the check of the `Host` a request
//! names (DNS rebinding).

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// The policy sent with every response: nothing may load but our own stylesheet and
/// inline `data:` images; no script, frame, plugin or foreign form target.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds CSP, no-sniff, no-referrer and no-framing headers, and `Cache-Control:
/// no-store` on every answer that did not choose its own caching (API answers,
/// exports and pages carry new token secrets and captured credentials, which no
/// browser or proxy cache may keep; the stylesheet and the OpenAPI document set
/// their own).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Answers 421 to a request whose `Host` is a name this server was not told
/// it has, so that a page of another site whose name was made to resolve to
/// this machine (DNS rebinding) cannot read the UI or the API with a browser
/// of the analyst's. Address literals (`127.0.0.1:8080`, `[::1]`) and
/// `localhost` are always served: a rebinding attack always names the
/// attacker's own domain. Other names must be listed in `server.allowed_hosts`.
pub async fn check_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let named = request
        .headers()
        .get(header::HOST)
        .map(|h| h.to_str().unwrap_or("\u{fffd}").to_owned())
        .or_else(|| request.uri().host().map(str::to_owned));
    if let Some(host) = named
        && !host_allowed(&host, &state.config.allowed_hosts)
    {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "this server does not answer to that host name; add it to server.allowed_hosts",
        )
            .into_response();
    }
    next.run(request).await
}

/// Whether `host` (a `Host` header: a name or address, maybe with a port) is served.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = strip_port(host.trim());
    if name.is_empty() {
        return false;
    }
    let literal = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    if literal.parse::<IpAddr>().is_ok() || name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let name = name.trim_end_matches('.');
    allowed
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('.').eq_ignore_ascii_case(name))
}

/// `name` of `name:port`, `[v6]` of `[v6]:port`; a bare IPv6 address unchanged.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::host_allowed;

    #[test]
    fn only_addresses_localhost_and_listed_names_are_served() {
        let listed = vec!["nectar.example.edu".to_owned()];
        for ok in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "192.0.2.10:8080",
            "[::1]:8080",
            "[::1]",
            "::1",
            "localhost:8080",
            "LOCALHOST",
            "nectar.example.edu",
            "Nectar.Example.Edu.:443",
        ] {
            assert!(host_allowed(ok, &listed), "{ok}");
        }
        for refused in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "nectar.example.edu.evil.example",
            "",
            ":8080",
            "[::1",
        ] {
            assert!(!host_allowed(refused, &listed), "{refused}");
        }
        assert!(host_allowed("anything.example", &["*".to_owned()]));
    }
}
