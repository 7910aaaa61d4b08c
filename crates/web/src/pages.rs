//! The server-rendered pages: login, logout and the latest events.
//!
//! Every state-changing request is a POST carrying a CSRF token, and is refused when
//! the browser says it comes from another site (`Origin`, `Sec-Fetch-Site`).

use std::net::{IpAddr, SocketAddr};
use std::sync::LazyLock;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use nectar_event::{Event, Severity, Timestamp};
use nectar_store::EventFilter;
use serde::Deserialize;
use tracing::{error, info, warn};

use crate::auth::{
    CurrentUser, LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, new_secret, secrets_equal, sha256_hex,
    verify_password,
};
use crate::{AppState, visible};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/static/style.css", get(stylesheet))
        .route_layer(axum::middleware::from_fn(same_origin_only))
}

/// Refuses cross-site state-changing requests before any handler runs.
async fn same_origin_only(request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let headers = request.headers();
        let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        if matches!(fetch_site, Some(site) if site != "same-origin" && site != "none") {
            return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
        }
        if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            if origin == "null" || Some(origin_host) != host {
                return (StatusCode::FORBIDDEN, "cross-origin request refused").into_response();
            }
        }
    }
    next.run(request).await
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/style.css"),
    )
}

/// A page as HTML, or a 500 if the template fails (it cannot, short of a bug).
fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = Html(html).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => {
            error!(error = %err, "A page template failed to render.");
            (StatusCode::INTERNAL_SERVER_ERROR, "page rendering failed").into_response()
        }
    }
}

/// The peer's address (unspecified when the server was not started with connect info,
/// as in in-process tests).
struct ClientIp(IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip()),
        ))
    }
}

/// Only local paths may be redirected to after login (no `//evil.example`).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => "/".to_owned(),
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
struct LoginQuery {
    next: Option<String>,
}

async fn login_form(Query(query): Query<LoginQuery>, headers: HeaderMap) -> Response {
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
struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

async fn login(
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
        state.limiter.failed(ip, username);
        info!(%ip, user = %visible(username, 64), "Failed web login.");
        return again(StatusCode::UNAUTHORIZED, "Wrong user name or password.");
    };
    state.limiter.succeeded(username);
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
    let mut response = Redirect::to(&safe_next(form.next.as_deref())).into_response();
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
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| crate::auth::hash_password(&new_secret()).unwrap_or_default());

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
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

/// One row of the events table, with every attacker-controlled value made visible
/// and cut (askama escapes it for HTML on top).
struct EventRow {
    time: String,
    severity: Severity,
    kind: &'static str,
    sensor: String,
    source: String,
    summary: String,
}

impl EventRow {
    fn from_event(event: &Event) -> EventRow {
        let source = match (event.src_ip, event.src_port) {
            (Some(ip @ IpAddr::V6(_)), Some(port)) => format!("[{ip}]:{port}"),
            (Some(ip), Some(port)) => format!("{ip}:{port}"),
            (Some(ip), None) => ip.to_string(),
            (None, _) => String::new(),
        };
        let time = event.time.to_string();
        EventRow {
            time: time.get(..19).unwrap_or(&time).replace('T', " "),
            severity: event.severity,
            kind: event.kind.as_str(),
            sensor: visible(&event.sensor, 40),
            source,
            summary: visible(&event.summary, 240),
        }
    }
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    user: String,
    role: String,
    csrf: String,
    rows: Vec<EventRow>,
    total: i64,
}

async fn index(State(state): State<AppState>, CurrentUser(session): CurrentUser) -> Response {
    let filter = EventFilter::default();
    let page = match state.store.list_events(&filter, None, 50).await {
        Ok(page) => page,
        Err(err) => {
            error!(error = %err, "Could not list events.");
            return (StatusCode::INTERNAL_SERVER_ERROR, "storage error").into_response();
        }
    };
    let total = state.store.count_events(&filter).await.unwrap_or(0);
    render(&IndexPage {
        user: visible(&session.user.name, 64),
        role: session.user.role.to_string(),
        csrf: session.csrf_token.clone(),
        rows: page.events.iter().map(EventRow::from_event).collect(),
        total,
    })
}
