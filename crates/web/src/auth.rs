//! Authentication: passwords (argon2id), API tokens, browser sessions, CSRF tokens and
//! the login rate limiter (its own module, [`crate::limiter`]).
//!
//! Secrets (tokens, session cookies) are 256 random bits; the store keeps only their
//! SHA-256, so reading the database does not give access. Passwords are argon2id.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use nectar_store::{Role, TokenOwner, WebSession};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::error::ApiError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "nectar_session";
/// Name of the cookie that carries the login form's CSRF token before any session.
pub const LOGIN_CSRF_COOKIE: &str = "nectar_login_csrf";

/// 32 random bytes from the OS generator, as 64 lowercase hex digits.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// A password to hand to a person: 20 characters from an alphabet without look-alikes
/// (no 0/O, 1/l/I), about 116 bits.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(20);
    let mut rng = rand::rng();
    while out.len() < 20 {
        // Rejection sampling keeps every letter equally likely.
        let byte = (rng.next_u32() & 0xff) as usize;
        if byte < 256 - 256 % ALPHABET.len() {
            out.push(ALPHABET[byte % ALPHABET.len()] as char);
        }
    }
    out
}

/// Whether `name` may name a user or a token: 1 to 64 letters, digits, `-`, `_`, `.`
/// or `@` (names appear in logs, URLs and tables; nothing there needs escaping).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
}

/// SHA-256 of `text`, as lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// An argon2id PHC string for `password`, with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the PHC string `hash`; a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Constant-time string equality, for secrets.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The caller of an API route, identified by a bearer token.
pub struct ApiCaller(pub TokenOwner);

impl ApiCaller {
    /// Refuses callers whose role is below `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.0.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "token {:?} has role {}; this needs {role} or above",
                self.0.name, self.0.role
            )))
        }
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let missing = || {
            ApiError::unauthorized(
                "missing bearer token: send `Authorization: Bearer <token>` (create one with `nectar token create --name NAME`)",
            )
        };
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            // A browser logged in to the UI may read the API with its session cookie
            // (SameSite=Strict, and reads change nothing); writes need a token.
            if (parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD)
                && let Some(secret) = cookie(&parts.headers, SESSION_COOKIE)
                && let Some(session) = state.store.session(&sha256_hex(secret)).await?
            {
                return Ok(ApiCaller(TokenOwner {
                    // Sessions only read (see above); they never post events.
                    sensor: session.user.name.clone(),
                    name: session.user.name,
                    role: session.user.role,
                }));
            }
            return Err(missing());
        };
        let value = value.to_str().map_err(|_| missing())?;
        let (scheme, token) = value.trim().split_once(' ').ok_or_else(missing)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(missing());
        }
        let owner = state
            .store
            .token_owner(&sha256_hex(token.trim()))
            .await?
            .ok_or_else(|| ApiError::unauthorized("invalid or revoked token"))?;
        let store = state.store.clone();
        let name = owner.name.clone();
        tokio::spawn(async move {
            let _ = store.touch_token(&name).await;
        });
        Ok(ApiCaller(owner))
    }
}

/// The logged-in person of a page request; pages that take it redirect to the login
/// form when there is none.
pub struct CurrentUser(pub WebSession);

/// Where a request without a session is sent.
pub struct LoginRedirect(String);

impl IntoResponse for LoginRedirect {
    fn into_response(self) -> Response {
        Redirect::to(&self.0).into_response()
    }
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_login = || {
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let next = if path.starts_with('/') && !path.starts_with("//") {
                path
            } else {
                "/"
            };
            LoginRedirect(format!("/login?next={}", percent_encode(next))).into_response()
        };
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        match state.store.session(&sha256_hex(secret)).await {
            Ok(Some(session)) => Ok(CurrentUser(session)),
            Ok(None) => Err(to_login()),
            Err(err) => {
                tracing::error!(error = %err, "Could not read a session.");
                Err((StatusCode::INTERNAL_SERVER_ERROR, "storage error").into_response())
            }
        }
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub use crate::limiter::LoginLimiter;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_round_trip() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn secrets_are_random_hex() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(secrets_equal(&a, &a.clone()));
        assert!(!secrets_equal(&a, &b));
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
