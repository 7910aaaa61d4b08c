//! Who may use Nectar: web users, API tokens and browser sessions.
//!
//! The store keeps only hashes (argon2 for passwords, SHA-256 for tokens and session
//! secrets); making and checking them is the web layer's job.

use crate::db::{self, Row};
use std::fmt;
use std::str::FromStr;

use nectar_event::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{Store, StoreError};

/// What a user or token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A remote sensor's credential: posts events under its own name, reads
    /// nothing (below every other role, so no read route lets it in).
    Sensor,
    /// Reads everything, changes nothing.
    Viewer,
    /// Reads everything, works on alerts and incidents, posts events.
    Analyst,
    /// Everything, including users, tokens and settings.
    Admin,
}

impl Role {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Sensor => "sensor",
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sensor" => Ok(Role::Sensor),
            "viewer" => Ok(Role::Viewer),
            "analyst" => Ok(Role::Analyst),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}: expected admin, analyst, viewer (or sensor, for a sensor's token)"
            )),
        }
    }
}

/// A person who logs in to the web UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// What they may do.
    pub role: Role,
    /// When created.
    pub created: Timestamp,
    /// A disabled user cannot log in.
    pub disabled: bool,
}

/// An API token (the secret itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Row id.
    pub id: i64,
    /// Unique name, e.g. the sensor that uses it.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The `sensor` of every event it posts (its name unless set otherwise).
    pub sensor: String,
    /// When created.
    pub created: Timestamp,
    /// When last used to authenticate a request, if ever.
    pub last_used: Option<Timestamp>,
    /// When revoked, if it was.
    pub revoked: Option<Timestamp>,
}

/// The user the first start makes.
pub const INITIAL_ADMIN: &str = "admin";

/// The file, next to the database, holding the first start's admin password
/// until that password is changed.
pub const INITIAL_ADMIN_PASSWORD_FILE: &str = "initial-admin-password";

/// Who made an API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    /// The token's name (recorded in the events it posts as `data.submitted_by`).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The `sensor` of every event it posts: set when the token was made, its
    /// name otherwise. Posted events naming another sensor are refused.
    pub sensor: String,
}

/// A logged-in browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    /// The user.
    pub user: User,
    /// The token every form of this session must carry.
    pub csrf_token: String,
    /// When it stops being valid.
    pub expires: Timestamp,
}

fn ts(micros: i64) -> Timestamp {
    Timestamp::from_micros(micros)
        .unwrap_or_else(|| Timestamp::from_micros(0).unwrap_or(Timestamp::now()))
}

fn is_unique_violation(err: &StoreError) -> bool {
    err.is_unique_violation()
}

fn user_from_row(row: &Row) -> Result<User, StoreError> {
    let role: String = row.get("role")?;
    let name: String = row.get("name")?;
    Ok(User {
        id: row.get("id")?,
        role: role.parse().map_err(|reason| StoreError::CorruptRow {
            id: format!("user {name}"),
            reason,
        })?,
        name,
        password_hash: row.get("password_hash")?,
        created: ts(row.get("created_us")?),
        disabled: row.get::<i64, _>("disabled")? != 0,
    })
}

impl Store {
    /// Inserts a named row with a secret and a role into `table` (users or tokens,
    /// never user text: the names become SQL); a taken name is `StoreError::Exists`.
    async fn insert_named(
        &self,
        table: &'static str,
        secret_column: &'static str,
        what: &'static str,
        name: &str,
        secret: &str,
        role: Role,
    ) -> Result<i64, StoreError> {
        let sql = format!(
            "INSERT INTO {table} (name, {secret_column}, role, created_us) VALUES ($1, $2, $3, $4) RETURNING id"
        );
        let result = db::query(&sql)
            .bind(name)
            .bind(secret)
            .bind(role.as_str())
            .bind(Timestamp::now().as_micros())
            .fetch_one(self.db.write())
            .await;
        match result {
            Ok(row) => Ok(row.get(0)?),
            Err(err) if is_unique_violation(&err) => Err(StoreError::Exists {
                what,
                name: name.to_owned(),
            }),
            Err(err) => Err(err),
        }
    }

    /// Adds a user; fails with [`StoreError::Exists`] if the name is taken.
    pub async fn create_user(
        &self,
        name: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<i64, StoreError> {
        self.insert_named("users", "password_hash", "user", name, password_hash, role)
            .await
    }

    /// Number of users.
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        db::query("SELECT COUNT(*) FROM users")
            .fetch_one(self.db.read())
            .await?
            .get(0)
    }

    /// A user by login name.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        let row = db::query("SELECT * FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(self.db.read())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows = db::query("SELECT * FROM users ORDER BY name")
            .fetch_all(self.db.read())
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Replaces a user's password hash and ends their sessions.
    pub async fn set_password(&self, name: &str, password_hash: &str) -> Result<(), StoreError> {
        let done = db::query("UPDATE users SET password_hash = $1 WHERE name = $2")
            .bind(password_hash)
            .bind(name)
            .execute(self.db.write())
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound {
                what: "user",
                name: name.to_owned(),
            });
        }
        db::query(
            "DELETE FROM web_sessions WHERE user_id = (SELECT id FROM users WHERE name = $1)",
        )
        .bind(name)
        .execute(self.db.write())
        .await?;
        if name == INITIAL_ADMIN {
            // The first start's password is no longer the admin's: its file goes,
            // whichever way the password was changed (CLI, API, Settings).
            if let Some(dir) = self.path().parent() {
                let file = dir.join(INITIAL_ADMIN_PASSWORD_FILE);
                match std::fs::remove_file(&file) {
                    Ok(()) => {
                        tracing::info!(path = %file.display(), "Removed the first start's admin password file.")
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        tracing::warn!(path = %file.display(), error = %e, "Could not remove the first start's admin password file.")
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds an API token given the SHA-256 (hex) of its secret; the events it
    /// posts carry `sensor` (its name when `None`).
    pub async fn create_token(
        &self,
        name: &str,
        secret_sha256: &str,
        role: Role,
        sensor: Option<&str>,
    ) -> Result<i64, StoreError> {
        let id = self
            .insert_named(
                "api_tokens",
                "token_sha256",
                "token",
                name,
                secret_sha256,
                role,
            )
            .await?;
        if let Some(sensor) = sensor {
            db::query("UPDATE api_tokens SET sensor = $1 WHERE id = $2")
                .bind(sensor)
                .bind(id)
                .execute(self.db.write())
                .await?;
        }
        Ok(id)
    }

    /// The owner of a live (not revoked) token, by the SHA-256 of its secret.
    pub async fn token_owner(&self, secret_sha256: &str) -> Result<Option<TokenOwner>, StoreError> {
        let row = db::query(
            "SELECT name, role, COALESCE(sensor, name) FROM api_tokens WHERE token_sha256 = $1 AND revoked_us IS NULL",
        )
        .bind(secret_sha256)
        .fetch_optional(self.db.read())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let name: String = row.get(0)?;
        let role: String = row.get(1)?;
        Ok(Some(TokenOwner {
            role: role.parse().map_err(|reason| StoreError::CorruptRow {
                id: format!("token {name}"),
                reason,
            })?,
            sensor: row.get(2)?,
            name,
        }))
    }

    /// Records that a token was used (at most once a minute per token, to spare writes).
    pub async fn touch_token(&self, name: &str) -> Result<(), StoreError> {
        let now = Timestamp::now().as_micros();
        db::query(
            "UPDATE api_tokens SET last_used_us = $1 WHERE name = $2 AND (last_used_us IS NULL OR last_used_us < $3)",
        )
        .bind(now)
        .bind(name)
        .bind(now - 60_000_000)
        .execute(self.db.write())
        .await?;
        Ok(())
    }

    /// Every token, by name.
    pub async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows = db::query("SELECT * FROM api_tokens ORDER BY name")
            .fetch_all(self.db.read())
            .await?;
        rows.iter()
            .map(|row| {
                let name: String = row.get("name")?;
                let role: String = row.get("role")?;
                Ok(ApiToken {
                    id: row.get("id")?,
                    role: role.parse().map_err(|reason| StoreError::CorruptRow {
                        id: format!("token {name}"),
                        reason,
                    })?,
                    sensor: row
                        .get::<Option<String>, _>("sensor")?
                        .unwrap_or_else(|| name.clone()),
                    name,
                    created: ts(row.get("created_us")?),
                    last_used: row.get::<Option<i64>, _>("last_used_us")?.map(ts),
                    revoked: row.get::<Option<i64>, _>("revoked_us")?.map(ts),
                })
            })
            .collect()
    }

    /// Revokes a token by name; it stops working at once.
    pub async fn revoke_token(&self, name: &str) -> Result<(), StoreError> {
        let done = db::query(
            "UPDATE api_tokens SET revoked_us = $1 WHERE name = $2 AND revoked_us IS NULL",
        )
        .bind(Timestamp::now().as_micros())
        .bind(name)
        .execute(self.db.write())
        .await?;
        if done == 0 {
            return Err(StoreError::NotFound {
                what: "live token",
                name: name.to_owned(),
            });
        }
        Ok(())
    }

    /// Starts a browser session; `id_sha256` is the SHA-256 (hex) of the cookie secret.
    pub async fn create_session(
        &self,
        id_sha256: &str,
        user_id: i64,
        csrf_token: &str,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now().as_micros();
        db::query("DELETE FROM web_sessions WHERE expires_us < $1")
            .bind(now)
            .execute(self.db.write())
            .await?;
        db::query(
            "INSERT INTO web_sessions (id_sha256, user_id, csrf_token, created_us, expires_us) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_sha256)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires.as_micros())
        .execute(self.db.write())
        .await?;
        Ok(())
    }

    /// The live session with this cookie hash, with its (enabled) user.
    pub async fn session(&self, id_sha256: &str) -> Result<Option<WebSession>, StoreError> {
        let row = db::query(
            "SELECT u.*, s.csrf_token, s.expires_us FROM web_sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_sha256 = $1 AND s.expires_us > $2 AND u.disabled = 0",
        )
        .bind(id_sha256)
        .bind(Timestamp::now().as_micros())
        .fetch_optional(self.db.read())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(WebSession {
            user: user_from_row(&row)?,
            csrf_token: row.get("csrf_token")?,
            expires: ts(row.get("expires_us")?),
        }))
    }

    /// Ends a session.
    pub async fn delete_session(&self, id_sha256: &str) -> Result<(), StoreError> {
        db::query("DELETE FROM web_sessions WHERE id_sha256 = $1")
            .bind(id_sha256)
            .execute(self.db.write())
            .await?;
        Ok(())
    }
}
