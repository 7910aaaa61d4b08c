//! Test support: a fresh store on the backend the tests run against. With
//! `NECTAR_TEST_POSTGRES` set to a PostgreSQL URL whose user may create
//! databases (`postgres://nectar:nectar@127.0.0.1:5432/postgres`), each store is
//! a new database on that server, dropped when the [`TestDatabase`] is; without
//! it, a SQLite file in the test's directory. CI runs the suites both ways.

use std::path::Path;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use crate::StoreConfig;

/// The environment variable naming the PostgreSQL server tests use.
pub const POSTGRES_ENV: &str = "NECTAR_TEST_POSTGRES";

/// A store's settings for one test, and the database to drop afterwards.
pub struct TestDatabase {
    /// Open the store with these.
    pub config: StoreConfig,
    /// The server and the database made for this test.
    made: Option<(PgConnectOptions, String)>,
}

impl TestDatabase {
    /// The database's URL (with its password) when the test runs on PostgreSQL,
    /// for processes the test starts (`[store] url`).
    pub fn url(&self) -> Option<String> {
        let (_, name) = self.made.as_ref()?;
        let server = postgres_server()?;
        let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
        Some(format!("{base}/{name}"))
    }
}

/// The PostgreSQL server named by `NECTAR_TEST_POSTGRES`, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|url| !url.is_empty())
}

/// Whether tests must not skip what they cannot run (`CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A fresh, empty store on `backend`, or `None` for PostgreSQL when no server
/// is named (outside CI; in CI that is a failure).
///
/// # Panics
/// On PostgreSQL in CI without `NECTAR_TEST_POSTGRES`.
pub async fn database_on(backend: crate::Backend, dir: &Path) -> Option<TestDatabase> {
    match backend {
        crate::Backend::Sqlite => Some(TestDatabase {
            config: StoreConfig::new(dir.join("nectar.db")),
            made: None,
        }),
        crate::Backend::Postgres if postgres_server().is_none() => {
            assert!(
                !in_ci(),
                "{POSTGRES_ENV} is not set: CI runs the store tests on PostgreSQL too"
            );
            eprintln!("skipped on PostgreSQL: set {POSTGRES_ENV} to run it");
            None
        }
        crate::Backend::Postgres => Some(database(dir).await),
    }
}

/// Declares a test once and runs it on both engines: `NAME::sqlite` and
/// `NAME::postgres` (skipped outside CI when no PostgreSQL server is named).
/// The body sees `db` (a [`TestDatabase`]) and `dir` (its scratch directory, a
/// `tempfile::TempDir`) under the names given.
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$attr:meta])* async fn $name:ident($db:ident, $dir:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$attr])*
            async fn sqlite() {
                let $dir = tempfile::tempdir().unwrap();
                let Some($db) =
                    $crate::testing::database_on($crate::Backend::Sqlite, $dir.path()).await
                else {
                    return;
                };
                $body
            }

            $(#[$attr])*
            async fn postgres() {
                let $dir = tempfile::tempdir().unwrap();
                let Some($db) =
                    $crate::testing::database_on($crate::Backend::Postgres, $dir.path()).await
                else {
                    return;
                };
                $body
            }
        }
    };
}

/// A fresh, empty store for a test whose scratch directory is `dir`: a new
/// database on the PostgreSQL server `NECTAR_TEST_POSTGRES` names, else SQLite.
///
/// # Panics
/// When the PostgreSQL server cannot be reached or refuses to create a
/// database: a test on PostgreSQL must not silently fall back to SQLite.
async fn database(dir: &Path) -> TestDatabase {
    let mut config = StoreConfig::new(dir.join("nectar.db"));
    let Some(server) = postgres_server() else {
        return TestDatabase { config, made: None };
    };
    let admin: PgConnectOptions = server
        .parse()
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV}: not a PostgreSQL URL: {e}"));
    let name = format!("nectar_test_{}", uuid::Uuid::now_v7().simple());
    let mut conn = admin
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV}: cannot connect: {e}"));
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV}: cannot create a database: {e}"));
    let _ = conn.close().await;
    config.postgres = Some(admin.clone().database(&name));
    TestDatabase {
        config,
        made: Some((admin, name)),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.made.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on:
        // the database is dropped from a thread with a runtime of its own.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut conn)
                            .await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}
