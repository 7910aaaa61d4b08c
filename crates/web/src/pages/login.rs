//! Logging in and out: the login form (with its own CSRF cookie, since there is no
//! session yet), rate limits per address and name, and the session cookie.

use std::sync::LazyLock;

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use nectar_event::Timestamp;
use serde::Deserialize;
use tracing::{error, info, warn};

use super::{ClientIp, CsrfForm, render};
use crate::auth::{
    CurrentUser, LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, new_secret, secrets_equal, sha256_hex,
    verify_password,
};
use crate::{AppState, visible};

/// Only paths of this server may be redirected to after login: `next` is resolved
/// by a URL parser against this server, and anything that leaves it (`//evil`,
/// `/\evil`, `/%09/evil` once a browser drops the tab), that holds a control or
/// white-space character (CR/LF would break the header), or is not a path is `/`.
/// The answer is the parser's own serialisation, percent-encoded.
fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/";
    let Some(next) = next else {
        return HOME.to_owned();
    };
    if !next.starts_with('/')
        || next.starts_with("//")
        || next
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return HOME.to_owned();
    }
    let Ok(base) = url::Url::parse("http://nectar.invalid/") else {
        return HOME.to_owned();
    };
    match base.join(next) {
        Ok(target) if target.origin() == base.origin() => {
            let mut local = target.path().to_owned();
            if let Some(query) = target.query() {
                local.push('?');
                local.push_str(query);
            }
            if local.starts_with("//") {
                HOME.to_owned()
            } else {
                local
            }
        }
        _ => HOME.to_owned(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_form(Query(query): Query<LoginQuery>, headers: HeaderMap) -> Response {
    let csrf = cookie(&headers, LOGIN_CSRF_COOKIE)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(new_secret, str::to_owned);
    let page = LoginPage {
        csrf: csrf.clone(),
        next: safe_next(query.next.as_deref()),
        error: None,
    };
    with_login_cookie(render(&page), &csrf)
}

fn with_login_cookie(mut response: Response, csrf: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{LOGIN_CSRF_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600"
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return (StatusCode::BAD_REQUEST, rejection.body_text()).into_response(),
    };
    let cookie_csrf = cookie(&headers, LOGIN_CSRF_COOKIE).map(str::to_owned);
    let again = |status: StatusCode, message: &str| {
        let csrf = new_secret();
        let page = LoginPage {
            csrf: csrf.clone(),
            next: safe_next(form.next.as_deref()),
            error: Some(message.to_owned()),
        };
        let mut response = with_login_cookie(render(&page), &csrf);
        *response.status_mut() = status;
        response
    };
    match cookie_csrf {
        Some(expected) if secrets_equal(&expected, &form.csrf) => {}
        _ => return again(StatusCode::FORBIDDEN, "The form expired. Please try again."),
    }
    let username = form.username.trim();
    if !state.limiter.allowed(ip, username) {
        warn!(%ip, user = %visible(username, 64), "Login refused: too many failures.");
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed logins. Wait a few minutes and try again.",
        );
    }
    let user = match state.store.user_by_name(username).await {
        Ok(user) => user,
        Err(err) => {
            error!(error = %err, "Could not read users.");
            return again(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Storage error; see the server log.",
            );
        }
    };
    // Verify against a fixed hash when the user does not exist, so timing does not
    // tell which names exist.
    let hash = user
        .as_ref()
        .filter(|u| !u.disabled)
        .map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let password = form.password.clone();
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|u| matches && !u.disabled) else {
        state.wrong_password(ip, username, "login");
        info!(%ip, user = %visible(username, 64), "Failed web login.");
        return again(StatusCode::UNAUTHORIZED, "Wrong user name or password.");
    };
    state.limiter.succeeded(ip, username);
    // Decided before the session exists: a bad `next` can no longer fail a login
    // that already succeeded.
    let next = safe_next(form.next.as_deref());
    let secret = new_secret();
    let expires = Timestamp::from_micros(
        Timestamp::now().as_micros() + i64::from(state.config.session_hours) * 3_600_000_000,
    )
    .unwrap_or_else(Timestamp::now);
    if let Err(err) = state
        .store
        .create_session(&sha256_hex(&secret), user.id, &new_secret(), expires)
        .await
    {
        error!(error = %err, "Could not create a session.");
        return again(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Storage error; see the server log.",
        );
    }
    info!(%ip, user = %user.name, "Web login.");
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let mut response = Redirect::to(&next).into_response();
    let cookies = [
        format!(
            "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            u64::from(state.config.session_hours) * 3600
        ),
        format!("{LOGIN_CSRF_COOKIE}=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0"),
    ];
    for c in cookies {
        if let Ok(value) = HeaderValue::from_str(&c) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// An argon2id hash of a random secret, verified when a user does not exist so that
/// a login for an unknown name costs as much as one for a real name.
pub(crate) static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| crate::auth::hash_password(&new_secret()).unwrap_or_default());

pub async fn logout(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !secrets_equal(&session.csrf_token, &form.csrf) {
        return (StatusCode::FORBIDDEN, "invalid CSRF token").into_response();
    }
    if let Some(secret) = cookie(&headers, SESSION_COOKIE)
        && let Err(err) = state.store.delete_session(&sha256_hex(secret)).await
    {
        error!(error = %err, "Could not delete a session.");
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("nectar_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_never_leaves_this_server() {
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/ /evil.example",
            "http://evil.example/",
            "https:evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/\u{2028}/evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("/events?kind=ssh.*")), "/events?kind=ssh.*");
        assert_eq!(safe_next(Some("/sessions/abc")), "/sessions/abc");
        assert_eq!(safe_next(Some("/a/../b")), "/b");
        assert_eq!(safe_next(Some("/%2F/evil.example")), "/%2F/evil.example");
    }
}
