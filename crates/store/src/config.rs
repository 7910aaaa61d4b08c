//! `[store]` of the configuration file: how hard a commit works and how the
//! writer batches, with the checks whose errors name the key relative to
//! `[store]`. The running types ([`StoreConfig`](crate::StoreConfig),
//! [`WriterConfig`]) are built from it.

use std::time::Duration;

use std::path::{Path, PathBuf};

use nectar_event::config::{ConfigError, Sensitive};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgConnectOptions;

use crate::{Durability, StoreConfig, WriterConfig};

/// `[store]`: the database and its writer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    /// The database: empty or `sqlite:` for the SQLite file `nectar.db` in the
    /// data directory (the default), or a PostgreSQL server,
    /// `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (the password may instead come
    /// from `password_file` or `password_env`).
    pub url: Sensitive,
    /// A file holding the PostgreSQL password (its first line), read at start.
    pub password_file: Option<PathBuf>,
    /// An environment variable holding the PostgreSQL password.
    pub password_env: Option<String>,
    /// Days events are kept (0: for ever). Older events are deleted in small
    /// batches every hour, with the sessions that ended before; the dashboard's
    /// counts, alerts and incidents are kept.
    pub retention_days: u32,
    /// Days session recordings (`DATA_DIR/recordings`) are kept (0: for ever).
    pub recordings_days: u32,
    /// Most bytes of recordings kept; past it the oldest go first (0: no limit).
    pub recordings_max_bytes: u64,
    /// Days uploaded and fetched files (`DATA_DIR/uploads`) are kept (0: for ever).
    pub uploads_days: u32,
    /// Most bytes of uploads kept; past it the oldest go first (0: no limit; see
    /// also `honeypot.uploads.quota_bytes`, past which new uploads are refused).
    pub uploads_max_bytes: u64,
    /// How hard a commit works to survive a crash.
    pub durability: Durability,
    /// Most events committed in one transaction.
    pub max_batch_events: usize,
    /// Milliseconds the writer waits for more events before a commit (0: none;
    /// batches still grow under load, as events queue while a commit runs).
    pub max_delay_ms: u64,
    /// Batches that may queue for the writer before producers are slowed down.
    pub queue_batches: usize,
    /// Events (or posted batches) that may wait on the event bus before the
    /// writer takes them: honeypots and capture wait when it is full, and a
    /// batch posted to `/api/v1/events` gets `503` with `Retry-After` once it
    /// is three quarters full (sensors spool and come back).
    pub queue_events: usize,
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection {
            url: Sensitive::default(),
            password_file: None,
            password_env: None,
            retention_days: 0,
            recordings_days: 0,
            recordings_max_bytes: 0,
            uploads_days: 0,
            uploads_max_bytes: 0,
            durability: Durability::Normal,
            max_batch_events: 5_000,
            max_delay_ms: 0,
            queue_batches: 1_024,
            queue_events: 65_536,
        }
    }
}

impl StoreSection {
    /// Checks values that parse but cannot work; keys are relative to `[store]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_batch_events == 0 {
            return Err(ConfigError::new(
                "max_batch_events",
                "must be greater than 0",
            ));
        }
        if self.queue_batches == 0 {
            return Err(ConfigError::new("queue_batches", "must be greater than 0"));
        }
        if !(4..=1_048_576).contains(&self.queue_events) {
            return Err(ConfigError::new("queue_events", "from 4 to 1048576"));
        }
        if self.max_delay_ms > 10_000 {
            return Err(ConfigError::new("max_delay_ms", "at most 10000"));
        }
        for (key, days) in [
            ("retention_days", self.retention_days),
            ("recordings_days", self.recordings_days),
            ("uploads_days", self.uploads_days),
        ] {
            if days > 36_500 {
                return Err(ConfigError::new(
                    key,
                    "at most 36500 (100 years); 0 keeps them for ever",
                ));
            }
        }
        let url = self.url.expose();
        if !(url.is_empty() || url == "sqlite:" || self.is_postgres()) {
            return Err(ConfigError::new(
                "url",
                "use \"sqlite:\" (the default file in the data directory) or \
                 postgres://USER:PASSWORD@HOST:PORT/DATABASE",
            ));
        }
        if self.is_postgres() {
            self.postgres_options()?;
        } else if self.password_file.is_some() || self.password_env.is_some() {
            return Err(ConfigError::new(
                if self.password_file.is_some() {
                    "password_file"
                } else {
                    "password_env"
                },
                "only used with a postgres:// url",
            ));
        }
        if self.password_file.is_some() && self.password_env.is_some() {
            return Err(ConfigError::new(
                "password_env",
                "give the password in password_file or password_env, not both",
            ));
        }
        Ok(())
    }

    /// Whether `url` names a PostgreSQL server.
    pub fn is_postgres(&self) -> bool {
        let url = self.url.expose();
        url.starts_with("postgres://") || url.starts_with("postgresql://")
    }

    /// The store's settings: the SQLite file `sqlite_path`, or the PostgreSQL
    /// server of `url` with its password resolved. Keys in errors are relative
    /// to `[store]`.
    pub fn store_config(&self, sqlite_path: &Path) -> Result<StoreConfig, ConfigError> {
        let mut config = StoreConfig::new(sqlite_path);
        config.durability = self.durability;
        if self.is_postgres() {
            config.postgres = Some(self.postgres_options()?);
        }
        Ok(config)
    }

    fn postgres_options(&self) -> Result<PgConnectOptions, ConfigError> {
        let mut options: PgConnectOptions = self.url.expose().parse().map_err(|e| {
            ConfigError::new(
                "url",
                format!(
                    "not a PostgreSQL URL ({e}); write postgres://USER:PASSWORD@HOST:PORT/DATABASE"
                ),
            )
        })?;
        if let Some(file) = &self.password_file {
            let text = std::fs::read_to_string(file).map_err(|e| {
                ConfigError::new(
                    "password_file",
                    format!("cannot read {}: {e}", file.display()),
                )
            })?;
            let password = text.lines().next().unwrap_or_default();
            options = options.password(password);
        } else if let Some(var) = &self.password_env {
            let password = std::env::var(var).map_err(|_| {
                ConfigError::new(
                    "password_env",
                    format!("the environment variable {var} is not set"),
                )
            })?;
            options = options.password(&password);
        }
        Ok(options)
    }

    /// The writer's settings.
    pub fn writer_config(&self) -> WriterConfig {
        WriterConfig {
            max_batch_events: self.max_batch_events,
            max_delay: Duration::from_millis(self.max_delay_ms),
            queue_requests: self.queue_batches,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_writer_defaults_and_zeroes_are_refused() {
        let section = StoreSection::default();
        section.validate().unwrap();
        let (ours, theirs) = (section.writer_config(), WriterConfig::default());
        assert_eq!(
            (ours.max_batch_events, ours.max_delay, ours.queue_requests),
            (
                theirs.max_batch_events,
                theirs.max_delay,
                theirs.queue_requests
            )
        );
        let bad = StoreSection {
            queue_batches: 0,
            ..StoreSection::default()
        };
        assert_eq!(bad.validate().unwrap_err().key.to_string(), "queue_batches");
    }
}
