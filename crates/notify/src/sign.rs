//! Standard Webhooks signatures (standardwebhooks.com, "Signature scheme"):
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed
//! with the decoded secret. Kept apart from the HTTP code so the one piece a
//! receiver verifies byte for byte has its own tests.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix the spec gives symmetric secrets.
pub const SECRET_PREFIX: &str = "whsec_";

/// The HMAC key of a secret: the base64 after `whsec_`. The prefix is optional,
/// as in the spec's reference libraries, which decode the rest either way.
/// The spec asks for 24 to 64 random bytes.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    if secret.is_empty() {
        return Err(
            "is required for a webhook: `whsec_` and the base64 of 24 to 64 random bytes, e.g. from `echo whsec_$(openssl rand -base64 32)`"
                .into(),
        );
    }
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = STANDARD.decode(encoded).map_err(|_| {
        "is not `whsec_` followed by base64 (Standard Webhooks secrets are base64; make one with `echo whsec_$(openssl rand -base64 32)`)".to_owned()
    })?;
    if !(24..=64).contains(&key.len()) {
        return Err(format!(
            "decodes to {} bytes; Standard Webhooks asks for 24 to 64 (make one with `echo whsec_$(openssl rand -base64 32)`)",
            key.len()
        ));
    }
    Ok(key)
}

/// The `webhook-signature` value for message `id` sent at `timestamp` (unix
/// seconds) with `body`. Neither `id` nor the timestamp can contain the `.`
/// that separates the signed parts (the caller makes `id` from a UUID).
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // new_from_slice fails only for key lengths HMAC cannot take; HMAC takes any.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cold]
fn unreachable_hmac() -> ! {
    unreachable!("HMAC accepts keys of every length")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries' tests
    /// (libraries/python/standardwebhooks/tests), recomputed here.
    #[test]
    fn signs_id_timestamp_and_body() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_base64_of_24_to_64_bytes() {
        assert_eq!(
            secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
                .unwrap()
                .len(),
            24
        );
        assert!(secret_key("whsec_not base64!").is_err());
        assert!(
            secret_key("whsec_c2hvcnQ=")
                .unwrap_err()
                .contains("5 bytes")
        );
        assert!(secret_key("").is_err());
    }
}
