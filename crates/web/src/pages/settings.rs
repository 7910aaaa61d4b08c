//! Settings: users and API tokens. Everyone sees the page; only admins see and use the
//! forms that change anything, and every change is a POST with the CSRF token.
//! New passwords and tokens are shown once, on the page that answers the POST.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nectar_store::{ApiToken, Role, StoreError, User};
use serde::Deserialize;
use tracing::info;

use super::{Layout, error_page, render, storage_error};
use crate::auth::{CurrentUser, hash_password, new_secret, sha256_hex};
use crate::{AppState, visible};

pub struct UserRow {
    pub name: String,
    pub role: Role,
    pub created: String,
    pub disabled: bool,
}

pub struct TokenRow {
    pub name: String,
    pub role: Role,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    users: Vec<UserRow>,
    tokens: Vec<TokenRow>,
    /// A message after an action (what was done).
    notice: Option<String>,
    /// A secret shown once (a generated password or a new token).
    secret: Option<String>,
    roles: [Role; 3],
    /// The event flow: bus, writer, consumers and their lag.
    flow: crate::FlowStatus,
    /// Notifications given up (the dead-letter list).
    dead: Vec<super::notify::DeadRow>,
}

const ROLES: [Role; 3] = [Role::Viewer, Role::Analyst, Role::Admin];

pub(super) async fn page_with(
    state: &AppState,
    layout: Layout,
    notice: Option<String>,
    secret: Option<String>,
) -> Response {
    let is_admin = layout.is_admin();
    let users = match state.store.list_users().await {
        Ok(users) => users,
        Err(err) => return storage_error(err),
    };
    let tokens = if is_admin {
        match state.store.list_tokens().await {
            Ok(tokens) => tokens,
            Err(err) => return storage_error(err),
        }
    } else {
        Vec::new()
    };
    let dead = match super::notify::dead_rows(state).await {
        Ok(dead) => dead,
        Err(err) => return storage_error(err),
    };
    let short = super::timerange::short;
    render(&SettingsPage {
        flow: state.flow_status(),
        dead,
        layout,
        users: users
            .iter()
            .map(|u: &User| UserRow {
                name: visible(&u.name, 64),
                role: u.role,
                created: short(u.created),
                disabled: u.disabled,
            })
            .collect(),
        tokens: tokens
            .iter()
            .map(|t: &ApiToken| TokenRow {
                name: visible(&t.name, 64),
                role: t.role,
                created: short(t.created),
                last_used: t.last_used.map_or("never".into(), short),
                revoked: t.revoked.is_some(),
            })
            .collect(),
        notice,
        secret,
        roles: ROLES,
    })
}

pub async fn page(State(state): State<AppState>, CurrentUser(session): CurrentUser) -> Response {
    page_with(&state, Layout::new(&session, "settings"), None, None).await
}

#[derive(Deserialize)]
pub struct NameRoleForm {
    csrf: String,
    name: String,
    role: Option<String>,
}

#[derive(Deserialize)]
pub struct NameForm {
    csrf: String,
    name: String,
}

fn check_name(name: &str) -> Result<&str, Response> {
    let name = name.trim();
    if crate::auth::valid_name(name) {
        Ok(name)
    } else {
        Err(error_page(
            StatusCode::BAD_REQUEST,
            "Names are 1 to 64 letters, digits, '-', '_', '.' or '@'.",
        ))
    }
}

fn parse_role(role: Option<&str>) -> Result<Role, Response> {
    role.unwrap_or("analyst")
        .parse()
        .map_err(|e: String| error_page(StatusCode::BAD_REQUEST, &e))
}

/// Hashes a password on the blocking pool: argon2 takes tens of milliseconds of
/// CPU, which would stall every other request on an async worker.
async fn hash_off_thread(password: String) -> Result<String, Response> {
    match tokio::task::spawn_blocking(move || hash_password(&password)).await {
        Ok(Ok(hash)) => Ok(hash),
        _ => Err(error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Could not hash the password.",
        )),
    }
}

/// The checks every "create" form shares: an admin, the CSRF token, a valid name and
/// role.
fn admin_name_role(layout: &Layout, form: &NameRoleForm) -> Result<(String, Role), Response> {
    layout.require(Role::Admin, &form.csrf)?;
    let name = check_name(&form.name)?.to_owned();
    Ok((name, parse_role(form.role.as_deref())?))
}

fn conflict(err: StoreError) -> Response {
    match err {
        StoreError::Exists { .. } | StoreError::NotFound { .. } => {
            error_page(StatusCode::CONFLICT, &err.to_string())
        }
        other => storage_error(other),
    }
}

pub async fn create_user(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<NameRoleForm>,
) -> Response {
    let layout = Layout::new(&session, "settings");
    let (name, role) = match admin_name_role(&layout, &form) {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    if role == Role::Sensor {
        return error_page(
            StatusCode::BAD_REQUEST,
            "role sensor is for sensor credentials, not people: choose viewer, analyst or admin",
        );
    }
    let password = crate::auth::generate_password();
    let hash = match hash_off_thread(password.clone()).await {
        Ok(hash) => hash,
        Err(failed) => return failed,
    };
    if let Err(err) = state.store.create_user(&name, &hash, role).await {
        return conflict(err);
    }
    info!(by = %session.user.name, user = %name, %role, "User created from the web UI.");
    let notice = format!("User {name} created with role {role}. Their password, shown only now:");
    page_with(&state, layout, Some(notice), Some(password)).await
}

pub async fn reset_password(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<NameForm>,
) -> Response {
    let layout = Layout::new(&session, "settings");
    if let Err(refused) = layout.require(Role::Admin, &form.csrf) {
        return refused;
    }
    let name = match check_name(&form.name) {
        Ok(name) => name.to_owned(),
        Err(r) => return r,
    };
    let password = crate::auth::generate_password();
    let hash = match hash_off_thread(password.clone()).await {
        Ok(hash) => hash,
        Err(failed) => return failed,
    };
    if let Err(err) = state.store.set_password(&name, &hash).await {
        return conflict(err);
    }
    info!(by = %session.user.name, user = %name, "Password reset from the web UI.");
    let notice = format!(
        "Password of {name} reset; their sessions are closed. New password, shown only now:"
    );
    page_with(&state, layout, Some(notice), Some(password)).await
}

pub async fn create_token(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<NameRoleForm>,
) -> Response {
    let layout = Layout::new(&session, "settings");
    let (name, role) = match admin_name_role(&layout, &form) {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let secret = format!("nct_{}", new_secret());
    if let Err(err) = state
        .store
        .create_token(&name, &sha256_hex(&secret), role, None)
        .await
    {
        return conflict(err);
    }
    info!(by = %session.user.name, token = %name, %role, "API token created from the web UI.");
    let notice = format!("Token {name} created with role {role}. The token, shown only now:");
    page_with(&state, layout, Some(notice), Some(secret)).await
}

pub async fn revoke_token(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<NameForm>,
) -> Response {
    let layout = Layout::new(&session, "settings");
    if let Err(refused) = layout.require(Role::Admin, &form.csrf) {
        return refused;
    }
    if let Err(err) = state.store.revoke_token(form.name.trim()).await {
        return conflict(err);
    }
    info!(by = %session.user.name, token = %form.name.trim(), "API token revoked from the web UI.");
    let notice = format!("Token {} revoked.", visible(form.name.trim(), 64));
    page_with(&state, layout, Some(notice), None).await
}

#[derive(Deserialize)]
pub struct OwnPasswordForm {
    csrf: String,
    current: String,
    new: String,
    repeat: String,
}

/// Any user changes their own password: the current one is checked (a stolen session
/// alone cannot lock the owner out), and their other sessions end with it.
pub async fn change_own_password(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    super::ClientIp(ip): super::ClientIp,
    Form(form): Form<OwnPasswordForm>,
) -> Response {
    let layout = Layout::new(&session, "settings");
    if let Err(refused) = layout.require(Role::Viewer, &form.csrf) {
        return refused;
    }
    if form.new != form.repeat {
        return error_page(StatusCode::BAD_REQUEST, "The two new passwords differ.");
    }
    if form.new.chars().count() < 10 || form.new.len() > 1024 {
        return error_page(
            StatusCode::BAD_REQUEST,
            "A password must be 10 to 1024 characters long.",
        );
    }
    // Wrong current passwords count like wrong logins (a stolen session must not
    // be a way to guess the password without limit).
    let name = session.user.name.clone();
    if !state.limiter.allowed(ip, &name) {
        return error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many wrong passwords. Wait a few minutes and try again.",
        );
    }
    let (current, hash) = (form.current.clone(), session.user.password_hash.clone());
    let matches =
        tokio::task::spawn_blocking(move || crate::auth::verify_password(&current, &hash))
            .await
            .unwrap_or(false);
    if !matches {
        state.wrong_password(ip, &name, "settings");
        return error_page(StatusCode::FORBIDDEN, "The current password is wrong.");
    }
    state.limiter.succeeded(ip, &name);
    let hash = match hash_off_thread(form.new.clone()).await {
        Ok(hash) => hash,
        Err(failed) => return failed,
    };
    if let Err(err) = state.store.set_password(&session.user.name, &hash).await {
        return conflict(err);
    }
    info!(user = %session.user.name, "Password changed by its owner.");
    // Every session of the user ended, this one too: log in again.
    axum::response::Redirect::to("/login").into_response()
}
