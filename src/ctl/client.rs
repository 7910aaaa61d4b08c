//! The HTTP side of `nectar ctl`: one blocking client, the bearer token, and the
//! server's answers turned into clear errors (unreachable server, 401/403, bad
//! parameters as usage errors with exit code 2).

use std::time::Duration;

use anyhow::anyhow;
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use super::settings::Settings;
use crate::exit::usage;

/// The server could not be reached or did not answer (as opposed to answering
/// with a refusal); `events follow` waits and tries again on this one.
#[derive(Debug)]
pub struct Unreachable(pub String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreachable {}

/// A connection to one Nectar server.
pub struct Api {
    http: Client,
    base: Url,
    token: Option<String>,
}

impl Api {
    pub fn new(settings: &Settings) -> anyhow::Result<Api> {
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("nectar-ctl/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| anyhow!("cannot build the HTTP client: {e}"))?;
        let base = Url::parse(&settings.url)
            .map_err(|e| usage(format!("--url {:?}: {e}", settings.url)))?;
        Ok(Api {
            http,
            base,
            token: settings.token.clone(),
        })
    }

    /// The URL of `/api/v1/<segments...>`, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["api", "v1"]).extend(segments);
        }
        url
    }

    fn request(&self, method: Method, segments: &[&str]) -> anyhow::Result<RequestBuilder> {
        let builder = self.http.request(method, self.url(segments));
        match &self.token {
            Some(token) => Ok(builder.bearer_auth(token)),
            None => Err(usage(
                "no API token: pass --token, set NECTAR_TOKEN, or put `token = \"nct_...\"` in ~/.config/nectar/ctl.toml \
                 (an admin creates one with `nectar token create --name NAME --role viewer`)",
            )),
        }
    }

    /// GET with query parameters (empty values are left out).
    pub fn get(&self, segments: &[&str], query: &[(&str, String)]) -> anyhow::Result<Value> {
        let query: Vec<_> = query.iter().filter(|(_, v)| !v.is_empty()).collect();
        self.send(self.request(Method::GET, segments)?.query(&query))
    }

    /// GET without a token (only `/api/v1/health` answers that).
    pub fn get_public(&self, segments: &[&str]) -> anyhow::Result<Value> {
        self.send(self.http.get(self.url(segments)))
    }

    /// POST a JSON body.
    pub fn post(&self, segments: &[&str], body: &Value) -> anyhow::Result<Value> {
        self.send(self.request(Method::POST, segments)?.json(body))
    }

    /// POST a raw body with its content type (an nmap XML import).
    pub fn post_raw(
        &self,
        segments: &[&str],
        content_type: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<Value> {
        self.send(
            self.request(Method::POST, segments)?
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body),
        )
    }

    /// PATCH a JSON body.
    pub fn patch(&self, segments: &[&str], body: &Value) -> anyhow::Result<Value> {
        self.send(self.request(Method::PATCH, segments)?.json(body))
    }

    pub fn delete(&self, segments: &[&str]) -> anyhow::Result<Value> {
        self.send(self.request(Method::DELETE, segments)?)
    }

    fn send(&self, request: RequestBuilder) -> anyhow::Result<Value> {
        let response = request.send().map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let text = response
            .text()
            .map_err(|e| anyhow!("reading the answer from {}: {e}", self.base))?;
        let body: Option<Value> = serde_json::from_str(&text).ok();
        if status.is_success() {
            return body.ok_or_else(|| {
                anyhow!(
                    "{} answered {status} with something that is not JSON; is it a Nectar server?",
                    self.base
                )
            });
        }
        let message = body
            .as_ref()
            .and_then(|b| b["error"].as_str())
            .map(|m| nectar_event::text::visible(m, 500))
            .unwrap_or_else(|| nectar_event::text::visible(text.trim(), 200));
        Err(match status {
            StatusCode::BAD_REQUEST => usage(format!("the server refused the request: {message}")),
            StatusCode::UNAUTHORIZED => anyhow!(
                "the server refused the token (401 Unauthorized): {message}; check --token / NECTAR_TOKEN"
            ),
            StatusCode::FORBIDDEN => anyhow!("not allowed (403 Forbidden): {message}"),
            StatusCode::NOT_FOUND => anyhow!("not found (404): {message}"),
            StatusCode::CONFLICT => anyhow!("conflict (409): {message}"),
            StatusCode::UNPROCESSABLE_ENTITY => {
                usage(format!("the server refused the change: {message}"))
            }
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::BAD_GATEWAY => anyhow::Error::new(
                Unreachable(format!("the server answered {status}: {message}")),
            ),
            other => anyhow!("the server answered {other}: {message}"),
        })
    }

    fn transport_error(&self, err: &reqwest::Error) -> anyhow::Error {
        let message = if err.is_connect() {
            format!(
                "cannot reach the Nectar server at {}: connection refused or no route; \
                 is `nectar serve` running there? (set --url or NECTAR_URL)",
                self.base
            )
        } else if err.is_timeout() {
            format!("the Nectar server at {} did not answer in time", self.base)
        } else {
            format!("request to {} failed: {err}", self.base)
        };
        anyhow::Error::new(Unreachable(message))
    }
}
