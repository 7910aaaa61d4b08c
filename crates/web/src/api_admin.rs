//! The JSON API for who may use Nectar: the caller itself (`/api/v1/me`), users and
//! API tokens (the Settings page's data and actions), and a person's own password.
//!
//! Roles are the page's: everyone may list users; tokens and every change to users
//! or tokens need admin. Changes need a bearer token: a browser's session cookie may
//! only read the API (see [`crate::auth::ApiCaller`]), so no form on another site can
//! reach these routes.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use nectar_store::{Role, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::info;

use crate::AppState;
use crate::auth::{
    ApiCaller, generate_password, hash_password, new_secret, sha256_hex, valid_name,
    verify_password,
};
use crate::error::ApiError;
use crate::pages::ClientIp;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{name}/password", post(reset_password))
        .route("/api/v1/password", post(change_own_password))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{name}", delete(revoke_token))
}

/// Shortest and longest password accepted (as the Settings page).
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 10..=1024;

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

fn checked_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    if valid_name(name) {
        Ok(name)
    } else {
        Err(ApiError::bad_request(
            "field `name`: 1 to 64 letters, digits, '-', '_', '.' or '@'",
        ))
    }
}

fn checked_role(role: Option<&str>) -> Result<Role, ApiError> {
    role.unwrap_or("analyst")
        .parse()
        .map_err(|e: String| ApiError::bad_request(format!("field `role`: {e}")))
}

fn checked_password(field: &str, password: &str) -> Result<(), ApiError> {
    if PASSWORD_CHARS.contains(&password.chars().count()) && password.len() <= 4096 {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "field `{field}`: a password is 10 to 1024 characters long"
        )))
    }
}

/// Store conflicts as 409 / 404, anything else as a storage error.
fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::Exists { .. } => ApiError::with_status(StatusCode::CONFLICT, err.to_string()),
        StoreError::NotFound { .. } => ApiError::not_found(err.to_string()),
        other => other.into(),
    }
}

/// Argon2 on the blocking pool: tens of milliseconds of CPU per hash.
async fn hash_off_thread(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            ApiError::with_status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not hash the password",
            )
        })
}

/// Who is asking: the token's (or logged-in user's) name and role.
async fn me(caller: ApiCaller) -> Json<Value> {
    Json(json!({"name": caller.0.name, "role": caller.0.role.as_str()}))
}

async fn list_users(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let users = state.store.list_users().await?;
    Ok(Json(json!({
        "users": users.iter().map(|u| json!({
            "name": u.name, "role": u.role.as_str(), "created": u.created, "disabled": u.disabled,
        })).collect::<Vec<_>>()
    })))
}

/// Body of `POST /api/v1/users`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    role: Option<String>,
    /// Absent: a password is generated and returned once.
    password: Option<String>,
}

async fn create_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    new: Result<Json<NewUser>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Admin)?;
    let new = body(new)?;
    let name = checked_name(&new.name)?.to_owned();
    let role = checked_role(new.role.as_deref())?;
    let (password, generated) = match new.password {
        Some(p) => {
            checked_password("password", &p)?;
            (p, false)
        }
        None => (generate_password(), true),
    };
    let hash = hash_off_thread(password.clone()).await?;
    state
        .store
        .create_user(&name, &hash, role)
        .await
        .map_err(store_error)?;
    info!(by = %caller.0.name, user = %name, %role, "User created through the API.");
    let mut answer = json!({"name": name, "role": role.as_str()});
    if generated {
        answer["password"] = json!(password);
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

/// Body of `POST /api/v1/users/{name}/password`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    /// Absent: a password is generated and returned once.
    password: Option<String>,
}

async fn reset_password(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(name): Path<String>,
    new: Result<Json<NewPassword>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin)?;
    let new = match new {
        // No body at all: generate one.
        Err(JsonRejection::MissingJsonContentType(_)) => NewPassword::default(),
        other => body(other)?,
    };
    let name = checked_name(&name)?.to_owned();
    let (password, generated) = match new.password {
        Some(p) => {
            checked_password("password", &p)?;
            (p, false)
        }
        None => (generate_password(), true),
    };
    let hash = hash_off_thread(password.clone()).await?;
    state
        .store
        .set_password(&name, &hash)
        .await
        .map_err(store_error)?;
    info!(by = %caller.0.name, user = %name, "Password reset through the API.");
    let mut answer = json!({"name": name, "sessions_ended": true});
    if generated {
        answer["password"] = json!(password);
    }
    Ok(Json(answer))
}

/// Body of `POST /api/v1/password`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnPassword {
    username: String,
    current: String,
    new: String,
}

/// A person changes their own password: the token must bear their user name,
/// the current password proves who they are, and failures count against the
/// login rate limit like wrong logins.
async fn change_own_password(
    State(state): State<AppState>,
    caller: ApiCaller,
    ClientIp(ip): ClientIp,
    change: Result<Json<OwnPassword>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer)?;
    let change = body(change)?;
    checked_password("new", &change.new)?;
    let name = checked_name(&change.username)?.to_owned();
    // Only the caller's own account (#26 item 3): a token may change the
    // password of the user of its own name, so no token can make wrong
    // attempts, and lock-outs, against anyone else's.
    if name != caller.0.name {
        return Err(ApiError::forbidden(format!(
            "field `username`: token {:?} may change only the password of user {:?}; \
             an admin resets other users' (POST /api/v1/users/{{name}}/password)",
            caller.0.name, caller.0.name
        )));
    }
    if !state.limiter.allowed(ip, &name) {
        return Err(ApiError::with_status(
            StatusCode::TOO_MANY_REQUESTS,
            "too many wrong passwords; wait 15 minutes",
        ));
    }
    let user = state
        .store
        .user_by_name(&name)
        .await?
        .filter(|u| !u.disabled);
    // As at login: an unknown name is checked against a fixed hash, so the time
    // taken does not tell which names exist.
    let hash = user.as_ref().map_or_else(
        || crate::pages::login::DUMMY_HASH.clone(),
        |u| u.password_hash.clone(),
    );
    let current = change.current;
    let matches = tokio::task::spawn_blocking(move || verify_password(&current, &hash))
        .await
        .unwrap_or(false)
        && user.is_some();
    if !matches {
        state.wrong_password(ip, &name, "api");
        return Err(ApiError::forbidden(
            "the user name or the current password is wrong",
        ));
    }
    state.limiter.succeeded(ip, &name);
    let hash = hash_off_thread(change.new).await?;
    state
        .store
        .set_password(&name, &hash)
        .await
        .map_err(store_error)?;
    info!(user = %name, via = %caller.0.name, "Password changed by its owner through the API.");
    Ok(Json(json!({"name": name, "sessions_ended": true})))
}

async fn list_tokens(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin)?;
    let tokens = state.store.list_tokens().await?;
    Ok(Json(json!({
        "tokens": tokens.iter().map(|t| json!({
            "name": t.name, "role": t.role.as_str(), "sensor": t.sensor, "created": t.created,
            "last_used": t.last_used, "revoked": t.revoked,
        })).collect::<Vec<_>>()
    })))
}

/// Body of `POST /api/v1/tokens`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    role: Option<String>,
    /// The `sensor` of the events it posts; its name when absent.
    sensor: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    caller: ApiCaller,
    new: Result<Json<NewToken>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Admin)?;
    let new = body(new)?;
    let name = checked_name(&new.name)?.to_owned();
    let role = checked_role(new.role.as_deref())?;
    let sensor = match new.sensor.as_deref().map(str::trim) {
        Some(sensor) if valid_name(sensor) => sensor.to_owned(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "field `sensor`: 1 to 64 letters, digits, '-', '_', '.' or '@'",
            ));
        }
        None => name.clone(),
    };
    let secret = format!("nct_{}", new_secret());
    state
        .store
        .create_token(&name, &sha256_hex(&secret), role, Some(&sensor))
        .await
        .map_err(store_error)?;
    info!(by = %caller.0.name, token = %name, %role, %sensor, "API token created through the API.");
    Ok((
        StatusCode::CREATED,
        Json(json!({"name": name, "role": role.as_str(), "sensor": sensor, "token": secret})),
    ))
}

async fn revoke_token(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin)?;
    let name = checked_name(&name)?.to_owned();
    state.store.revoke_token(&name).await.map_err(store_error)?;
    info!(by = %caller.0.name, token = %name, "API token revoked through the API.");
    Ok(Json(json!({"name": name, "revoked": true})))
}
