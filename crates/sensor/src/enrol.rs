//! Enrolment: a one-time secret (from `nectar sensor-token create` on the
//! server) exchanged, over the pinned link, for the sensor's own credential.

use serde::{Deserialize, Serialize};

use crate::{Credential, SensorError};

/// What the sensor sends to `POST /api/v1/sensors/enrol`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// The one-time secret.
    pub secret: String,
    /// The sensor's version.
    #[serde(default)]
    pub version: Option<String>,
}

/// The server's answer: the sensor's name and token.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnrolAnswer {
    /// The name the secret was made for.
    pub name: String,
    /// The sensor's bearer token (shown this once).
    pub token: String,
}

/// Exchanges `secret` at the server `url`, trusting only `pin`; the
/// credential to save. A wrong pin fails the TLS handshake: nothing is sent.
pub async fn enrol(
    url: &str,
    secret: &str,
    pin: &str,
    version: &str,
) -> Result<Credential, SensorError> {
    let server = crate::client::base_url(url)?;
    let pin_bytes = crate::pin::parse_pin(pin)?;
    let client =
        crate::client::pinned_client(pin_bytes, version, crate::client::REQUEST_TIMEOUT, None)?;
    let answer = client
        .post(format!("{server}/api/v1/sensors/enrol"))
        .json(&EnrolRequest {
            secret: secret.to_owned(),
            version: Some(version.to_owned()),
        })
        .send()
        .await
        .map_err(|e| {
            SensorError::Link(format!(
                "cannot reach {server}: {}",
                crate::client::describe(&e)
            ))
        })?;
    let status = answer.status();
    let body = answer
        .text()
        .await
        .map_err(|e| SensorError::Link(crate::client::describe(&e)))?;
    if !status.is_success() {
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_else(|| body.chars().take(300).collect());
        return Err(SensorError::Refused(format!("{status}: {message}")));
    }
    let answer: EnrolAnswer = serde_json::from_str(&body)
        .map_err(|e| SensorError::Link(format!("the server's answer is not an enrolment: {e}")))?;
    Ok(Credential {
        server,
        pin: crate::pin::fingerprint_hex(&pin_bytes),
        name: answer.name,
        token: answer.token,
    })
}
