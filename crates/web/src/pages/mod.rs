//! The server-rendered UI: every page is HTML from an askama template (escaping on),
//! styled by one CSS file, with no JavaScript. Filters and pagination live in the URL,
//! so every view is a bookmark.
//!
//! Every state-changing request is a POST carrying the session's CSRF token and is
//! refused when the browser says it comes from another site (`Origin`,
//! `Sec-Fetch-Site`); roles are checked in each handler through [`Layout::require`].
// Helpers return the ready error page as `Err(Response)`; handlers return it as is,
// so boxing it would only add an allocation on the refusal path.
#![allow(clippy::result_large_err)]

mod alerts;
mod charts;
mod dashboard;
mod detection;
mod devices;
mod events;
mod hosts;
mod incident_forms;
mod incidents;
mod ips;
pub(crate) mod login;
mod notify;
mod rules;
mod scans;
mod sensors;
mod sessions;
mod settings;
mod timerange;

pub use timerange::{PRESETS, RangeParams, parse_time};

use std::net::{IpAddr, SocketAddr};

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use nectar_store::{Role, WebSession};
use serde::Deserialize;
use tracing::error;

use crate::auth::secrets_equal;
use crate::{AppState, visible};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/alerts", get(alerts::list))
        .route("/alerts/bulk", post(alerts::bulk))
        .route("/alerts/{id}", get(alerts::detail).post(alerts::change))
        .route(
            "/silences",
            get(rules::silences).post(rules::create_silence),
        )
        .route("/silences/{id}", post(rules::update_silence))
        .route("/silences/{id}/expire", post(rules::expire_silence))
        .route("/rules", get(rules::rules))
        .route(
            "/incidents",
            get(incidents::list).post(incident_forms::create),
        )
        .route(
            "/incidents/{id}",
            get(incidents::detail).post(incident_forms::change),
        )
        .route("/incidents/{id}/comments", post(incident_forms::comment))
        .route("/incidents/{id}/tasks", post(incident_forms::add_task))
        .route(
            "/incidents/{id}/tasks/{task}",
            post(incident_forms::update_task),
        )
        .route(
            "/incidents/{id}/observables",
            post(incident_forms::add_observables),
        )
        .route("/incidents/{id}/timeline", post(incident_forms::add_note))
        .route(
            "/incidents/{id}/attachments",
            post(incident_forms::attach).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/incidents/{id}/attachments/{sha256}",
            get(incidents::download),
        )
        .route("/incidents/{id}/merge", post(incident_forms::merge))
        .route("/incidents/{id}/delete", post(incident_forms::delete))
        .route("/incidents/{id}/export.json", get(incidents::export_json))
        .route("/incidents/{id}/print", get(incidents::print))
        .route("/events", get(events::list))
        .route("/events/export.csv", get(events::export_csv))
        .route("/events/export.json", get(events::export_json))
        .route("/events/{id}", get(events::detail))
        .route("/sessions", get(sessions::list))
        .route("/sessions/{id}", get(sessions::detail))
        .route("/ips/{address}", get(ips::page))
        .route("/detection", get(detection::page))
        .route("/hosts", get(hosts::list))
        .route("/hosts/export.csv", get(hosts::export_csv))
        .route("/hosts/{address}", get(hosts::detail).post(hosts::edit))
        .route("/subnets", get(hosts::subnets))
        .route("/devices", get(devices::list))
        .route("/devices/{mac}", get(devices::detail))
        .route("/scans", get(scans::list).post(scans::run))
        .route("/sensors", get(sensors::list).post(sensors::enrol))
        .route("/sensors/{name}/revoke", post(sensors::revoke))
        .route("/scans/{id}", get(scans::detail))
        .route("/settings", get(settings::page))
        .route("/settings/users", post(settings::create_user))
        .route("/settings/users/password", post(settings::reset_password))
        .route("/settings/tokens", post(settings::create_token))
        .route("/settings/tokens/revoke", post(settings::revoke_token))
        .route("/settings/password", post(settings::change_own_password))
        .route("/settings/notify/retry", post(notify::retry))
        .route("/login", get(login::login_form).post(login::login))
        .route("/logout", post(login::logout))
        .route("/static/style.css", get(stylesheet))
        .route_layer(axum::middleware::from_fn(same_origin_only))
}

/// What every page's frame shows: who is logged in, their CSRF token for the forms,
/// and which navigation entry is current.
pub struct Layout {
    pub user: String,
    pub role: Role,
    pub csrf: String,
    pub active: &'static str,
}

impl Layout {
    pub fn new(session: &WebSession, active: &'static str) -> Layout {
        Layout {
            user: visible(&session.user.name, 64),
            role: session.user.role,
            csrf: session.csrf_token.clone(),
            active,
        }
    }

    /// Whether the user may see admin controls.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Refuses (403) users below `role`, and forms without this session's CSRF token.
    pub fn require(&self, role: Role, csrf: &str) -> Result<(), Response> {
        if self.role < role {
            return Err(error_page(
                StatusCode::FORBIDDEN,
                &format!("This needs the {role} role; you are {}.", self.role),
            ));
        }
        if !secrets_equal(&self.csrf, csrf) {
            return Err(error_page(
                StatusCode::FORBIDDEN,
                "The form's security token is missing or stale. Reload the page and try again.",
            ));
        }
        Ok(())
    }
}

/// A form whose only field is the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// Refuses cross-site state-changing requests before any handler runs.
///
/// A browser that sends Fetch Metadata (`Sec-Fetch-Site`, which pages cannot forge)
/// is judged by it alone: Chromium sends `Origin: null` on same-origin form posts
/// when the page's referrer policy is `no-referrer`, as ours is. Without it, the
/// `Origin` header must name this host.
async fn same_origin_only(request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let headers = request.headers();
        let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        match fetch_site {
            Some("same-origin" | "none") => return next.run(request).await,
            Some(_) => {
                return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
            }
            None => {}
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
        include_str!("../../static/style.css"),
    )
}

/// 303 to `location` (a form's answer: the browser loads the page anew).
pub fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

/// A page as HTML, or a 500 if the template fails (it cannot, short of a bug).
pub fn render(page: &impl Template) -> Response {
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

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    message: String,
}

/// A small HTML page saying what went wrong.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let mut response = render(&ErrorPage {
        status: status.as_u16(),
        message: message.to_owned(),
    });
    *response.status_mut() = status;
    response
}

/// A storage failure while building a page: logged, and a 500 page.
pub fn storage_error(err: nectar_store::StoreError) -> Response {
    error!(error = %err, "Storage error while building a page.");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Storage error; see the server log.",
    )
}

/// The peer's address (unspecified when the server was not started with connect info,
/// as in in-process tests).
pub struct ClientIp(pub IpAddr);

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
