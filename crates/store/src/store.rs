//! Opening the database: connection settings, WAL, migrations.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::StoreError;
use crate::db::{Backend, Db};

/// How hard a commit works to survive a crash.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// A committed batch survives the process being killed (`kill -9`, a panic), but the
    /// last commits may be lost if the machine loses power. SQLite `synchronous=NORMAL`.
    #[default]
    Normal,
    /// Every commit is on disk before it is acknowledged, even across a power cut.
    /// SQLite `synchronous=FULL`: one fsync per batch.
    Full,
}

/// Where the database is and how to open it.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The SQLite file (created if missing), when no PostgreSQL server is named.
    pub path: PathBuf,
    /// A PostgreSQL server (`postgres://USER:PASSWORD@HOST:PORT/DB`), used instead
    /// of the SQLite file when set.
    pub postgres: Option<PgConnectOptions>,
    /// Commit durability.
    pub durability: Durability,
    /// Connections for readers (the writer has its own).
    pub max_readers: u32,
}

impl StoreConfig {
    /// Defaults for a database file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> StoreConfig {
        StoreConfig {
            path: path.into(),
            postgres: None,
            durability: Durability::default(),
            max_readers: 4,
        }
    }
}

/// The database, on SQLite (a pool of reader connections and a single connection
/// for writes) or on PostgreSQL (one pool).
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) db: Db,
    path: PathBuf,
    /// Roles held among processes on one database (see `lease`).
    pub(crate) leases: std::sync::Arc<crate::lease::Leases>,
    /// SQLite: the catch-up reader of the committed stream (see `catch_up`).
    pub(crate) catch_up: Option<std::sync::Arc<crate::catch_up::SqliteCatchUp>>,
}

impl Store {
    /// Opens the database the configuration names: the PostgreSQL server if one
    /// is given, else the SQLite file.
    pub async fn open(config: &StoreConfig) -> Result<Store, StoreError> {
        match &config.postgres {
            Some(options) => Store::open_postgres(config, options.clone()).await,
            None => Store::open_sqlite(config).await,
        }
    }

    /// Connects to PostgreSQL and applies pending migrations (its own set, the
    /// same schema in PostgreSQL's types).
    async fn open_postgres(
        config: &StoreConfig,
        options: PgConnectOptions,
    ) -> Result<Store, StoreError> {
        let options = options
            .application_name("nectar")
            .statement_cache_capacity(128)
            // Normal durability lets a commit return before its WAL record is
            // flushed (a crash of the server machine may lose the last ~0.6 s;
            // a crash of PostgreSQL or Nectar loses nothing); Full waits for it.
            .options([(
                "synchronous_commit",
                match config.durability {
                    Durability::Normal => "off",
                    Durability::Full => "on",
                },
            )]);
        let leases = crate::lease::Leases::postgres(options.clone());
        let pool = PgPoolOptions::new()
            // The readers, the writer and the consumers' offsets.
            .max_connections(config.max_readers.max(1) + 2)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Store {
            db: Db::Postgres { pool },
            path: PathBuf::new(),
            leases: std::sync::Arc::new(leases),
            catch_up: None,
        })
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }
    /// Opens (creating if needed) the database and applies pending migrations.
    ///
    /// The file is readable by its owner only (0600; it holds password hashes and
    /// captured credentials), and so are the WAL and shared-memory files, which
    /// SQLite creates with the database file's permissions.
    async fn open_sqlite(config: &StoreConfig) -> Result<Store, StoreError> {
        make_private(&config.path)?;
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(&config.path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match config.durability {
                Durability::Normal => SqliteSynchronous::Normal,
                Durability::Full => SqliteSynchronous::Full,
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .statement_cache_capacity(64)
            // 8 KiB pages for new files (SQLite's default is 4): the event table and
            // its indexes split half as often and a commit writes fewer WAL frames
            // (callgrind, ingest bench: 3.9% fewer instructions; 16 KiB gained only
            // 0.7% more and makes every random index read twice as large). Files
            // made with another size keep it: SQLite ignores this once a file exists.
            .page_size(8192)
            // 64 MiB of page cache: the indexes' hot pages stay in memory under load.
            .pragma("cache_size", "-65536")
            // Checkpoint every 10,000 pages of WAL (80 MiB with 8 KiB pages) rather
            // than 1,000: fewer, larger checkpoints during bursts of ingest, and a
            // page changed by many commits is copied to the file once.
            .pragma("wal_autocheckpoint", "10000")
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(config.max_readers.max(1))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Store {
            db: Db::Sqlite { readers, writer },
            path: config.path.clone(),
            leases: std::sync::Arc::default(),
            catch_up: Some(crate::catch_up::SqliteCatchUp::new(&config.path)),
        })
    }

    /// The database file (empty on PostgreSQL).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection, after checkpointing SQLite's WAL into the main
    /// file; the roles this process held are released for other processes.
    pub async fn close(&self) {
        self.leases.close().await;
        if let Some(catch_up) = &self.catch_up {
            catch_up.close();
        }
        if let Db::Sqlite { writer, .. } = &self.db {
            // A failed checkpoint only leaves the WAL for SQLite to replay on next open.
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(writer)
                .await;
        }
        self.db.close().await;
    }
}

/// Creates `path` empty if missing (SQLite treats an empty file as a new
/// database), and makes it and its `-wal`/`-shm` companions owner-only.
fn make_private(path: &Path) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        drop(options.open(path).map_err(io)?);
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = PathBuf::from(name);
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(io)?;
            }
        }
    }
    #[cfg(not(unix))]
    drop(options.open(path).map_err(io)?);
    Ok(())
}

#[cfg(test)]
impl Store {
    /// The SQLite writer connection, for tests that look at SQLite's own state.
    pub(crate) fn sqlite_writer(&self) -> &sqlx::SqlitePool {
        match &self.db {
            Db::Sqlite { writer, .. } => writer,
            Db::Postgres { .. } => panic!("not a SQLite store"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn new_files_use_8_kib_pages_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig::new(dir.path().join("nectar.db")))
            .await
            .unwrap();
        let (page_size,): (i64,) = sqlx::query_as("PRAGMA page_size")
            .fetch_one(store.sqlite_writer())
            .await
            .unwrap();
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(store.sqlite_writer())
            .await
            .unwrap();
        assert_eq!((page_size, mode.as_str()), (8192, "wal"));
        store.close().await;
    }
}
