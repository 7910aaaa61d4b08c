//! Roles only one process may play at a time: each consumer of the committed
//! stream, the notifier, retention. Several `nectar serve` processes on one
//! PostgreSQL database all ingest, but each role runs in one of them.
//!
//! On PostgreSQL a role is a session-level advisory lock, keyed by a hash of its
//! name, held on a connection of its own (not one of the pool's, which come and
//! go): a process that dies loses its connection, PostgreSQL releases its locks,
//! and a waiting process takes the role over, resuming from the durable offset.
//! A task pings that connection every second; when the ping fails every lease
//! is marked lost at once ([`Lease::is_held`]), so the process stops acting in
//! a role another process may have taken by then.
//!
//! On SQLite one `serve` runs per database file (`serve` locks
//! `nectar.db.serve-lock`), so a lease is granted at once; it still keeps two
//! parts of one process from claiming the same role.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tracing::warn;

use crate::{Store, StoreError};

/// How often the connection holding the locks is checked.
const PING_EVERY: Duration = Duration::from_secs(1);
/// How long a check may take before the connection counts as broken.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// The right to play one role, until dropped (or lost with the connection that
/// held it: see [`Lease::is_held`]).
#[derive(Debug)]
pub struct Lease {
    name: String,
    held: Arc<AtomicBool>,
    book: Arc<Leases>,
    /// The lock connection it was taken on (PostgreSQL).
    generation: u64,
}

impl Lease {
    /// The role's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it still holds: false once the connection that held it broke
    /// (another process may have the role now).
    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::Relaxed)
    }

    /// The flag [`Lease::is_held`] reads, for holders that check it often.
    pub fn held_flag(&self) -> Arc<AtomicBool> {
        self.held.clone()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.book.release(&self.name, &self.held, self.generation);
    }
}

/// The leases of one store (shared by its clones).
#[derive(Debug, Default)]
pub(crate) struct Leases {
    /// Where the lock connection goes (PostgreSQL); `None` on SQLite.
    postgres: Option<PgConnectOptions>,
    /// The lock connection, when open.
    conn: tokio::sync::Mutex<Option<PgConnection>>,
    /// Bumped each time a new lock connection is opened.
    generation: AtomicU64,
    /// Roles held now, with their flags.
    held: Mutex<Vec<(String, Arc<AtomicBool>)>>,
    /// Whether the ping task runs.
    keeper: AtomicBool,
}

impl Leases {
    pub(crate) fn postgres(options: PgConnectOptions) -> Leases {
        Leases {
            postgres: Some(options.application_name("nectar-leases")),
            ..Leases::default()
        }
    }

    fn lock_held(&self) -> std::sync::MutexGuard<'_, Vec<(String, Arc<AtomicBool>)>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks every lease lost and forgets the connection.
    fn lose_all(&self, conn: &mut Option<PgConnection>) {
        *conn = None;
        for (_, flag) in self.lock_held().drain(..) {
            flag.store(false, Ordering::Relaxed);
        }
    }

    fn release(self: &Arc<Self>, name: &str, flag: &Arc<AtomicBool>, generation: u64) {
        let was_held = flag.swap(false, Ordering::Relaxed);
        self.lock_held().retain(|(_, f)| !Arc::ptr_eq(f, flag));
        if !was_held || self.postgres.is_none() {
            return;
        }
        // Unlocked on the connection it was taken on; without a runtime (the
        // process is ending) the connection's end releases it.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (book, key) = (self.clone(), lock_key(name));
        runtime.spawn(async move {
            let mut conn = book.conn.lock().await;
            if book.generation.load(Ordering::Relaxed) != generation {
                return;
            }
            if let Some(c) = conn.as_mut()
                && sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(key)
                    .execute(&mut *c)
                    .await
                    .is_err()
            {
                book.lose_all(&mut conn);
            }
        });
    }

    /// Closes the lock connection: every role is released for other processes.
    pub(crate) async fn close(&self) {
        let mut conn = self.conn.lock().await;
        let open = conn.take();
        self.lose_all(&mut conn);
        if let Some(c) = open {
            let _ = c.close().await;
        }
    }

    /// The names of the roles held now, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .lock_held()
            .iter()
            .filter(|(_, f)| f.load(Ordering::Relaxed))
            .map(|(n, _)| n.clone())
            .collect();
        names.sort();
        names
    }

    /// Pings the lock connection every second while the store lives.
    fn start_keeper(self: &Arc<Self>) {
        if self.keeper.swap(true, Ordering::Relaxed) {
            return;
        }
        let book: Weak<Leases> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PING_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(book) = book.upgrade() else {
                    return;
                };
                let mut conn = book.conn.lock().await;
                let Some(c) = conn.as_mut() else {
                    continue;
                };
                let alive = tokio::time::timeout(PING_TIMEOUT, c.ping())
                    .await
                    .is_ok_and(|r| r.is_ok());
                if !alive {
                    let roles = book.names();
                    warn!(
                        ?roles,
                        "The database connection holding this process's roles broke; they stop here, and are claimed again."
                    );
                    book.lose_all(&mut conn);
                }
            }
        });
    }
}

/// The advisory lock key of a role: 64 bits of FNV-1a over a prefix and the
/// name (stable across versions and processes; the writer's numbering lock is
/// a constant outside this prefix's hashes in practice).
fn lock_key(name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in b"nectar-role:".iter().chain(name.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

impl Store {
    /// Claims role `name` (a consumer's name, `notify`, `retention`) for this
    /// process: `None` while another process on the same database, or another
    /// part of this one, holds it. Held until the [`Lease`] is dropped or its
    /// connection breaks.
    pub async fn try_lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        let book = &self.leases;
        // Checked and recorded under one lock: two parts of this process
        // asking at once get one lease between them.
        let grant = |book: &Arc<Leases>, generation: u64| {
            let mut held = book.lock_held();
            if held
                .iter()
                .any(|(n, f)| n == name && f.load(Ordering::Relaxed))
            {
                return None;
            }
            let flag = Arc::new(AtomicBool::new(true));
            held.push((name.to_owned(), flag.clone()));
            Some(Lease {
                name: name.to_owned(),
                held: flag,
                book: book.clone(),
                generation,
            })
        };
        let taken = |book: &Arc<Leases>| {
            book.lock_held()
                .iter()
                .any(|(n, f)| n == name && f.load(Ordering::Relaxed))
        };
        let Some(options) = &book.postgres else {
            return Ok(grant(book, 0));
        };
        let mut conn = book.conn.lock().await;
        if taken(book) {
            return Ok(None);
        }
        if conn.is_none() {
            *conn = Some(PgConnection::connect_with(options).await?);
            book.generation.fetch_add(1, Ordering::Relaxed);
            book.start_keeper();
        }
        let Some(c) = conn.as_mut() else {
            return Ok(None);
        };
        let got: Result<bool, sqlx::Error> = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(lock_key(name))
            .fetch_one(&mut *c)
            .await;
        match got {
            // Not taken by another part meanwhile: the connection's lock
            // serialises every PostgreSQL claim of this process.
            Ok(true) => Ok(grant(book, book.generation.load(Ordering::Relaxed))),
            Ok(false) => Ok(None),
            Err(e) => {
                book.lose_all(&mut conn);
                Err(e.into())
            }
        }
    }

    /// The roles this process holds now (consumers, `notify`, `retention`).
    pub fn leases_held(&self) -> Vec<String> {
        self.leases.names()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::on_both_backends;

    #[test]
    fn keys_differ_by_name() {
        assert_ne!(lock_key("rules"), lock_key("notify"));
        assert_eq!(lock_key("rules"), lock_key("rules"));
    }

    on_both_backends! {
        #[tokio::test]
        async fn a_role_is_held_once_and_released_on_drop(db, dir) {
            let _ = &dir;
            let a = Store::open(&db.config).await.unwrap();
            let lease = a.try_lease("rules").await.unwrap().expect("granted");
            assert!(lease.is_held());
            // The same part asked twice in one process: refused.
            assert!(a.try_lease("rules").await.unwrap().is_none());
            assert_eq!(a.leases_held(), vec!["rules".to_owned()]);
            if a.backend() == crate::Backend::Postgres {
                // A second process (another store on the same database).
                let b = Store::open(&db.config).await.unwrap();
                assert!(b.try_lease("rules").await.unwrap().is_none());
                let other = b.try_lease("notify").await.unwrap().expect("another role");
                // The holder closes (or dies): the other takes over.
                a.close().await;
                assert!(!lease.is_held());
                let mut taken = None;
                for _ in 0..50 {
                    taken = b.try_lease("rules").await.unwrap();
                    if taken.is_some() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                assert!(taken.is_some(), "the role was not released");
                drop(other);
                b.close().await;
            } else {
                drop(lease);
                assert!(a.try_lease("rules").await.unwrap().is_some());
                a.close().await;
            }
        }
    }

    on_both_backends! {
        #[tokio::test]
        async fn a_scan_another_process_runs_is_not_failed(db, dir) {
            let _ = &dir;
            let a = Store::open(&db.config).await.unwrap();
            let (scan, held) = a.create_scan("quick", &["192.0.2.1".into()], "ana").await.unwrap();
            assert!(held.is_some());
            if a.backend() == crate::Backend::Postgres {
                // Another `serve` starting on the database leaves it alone.
                let b = Store::open(&db.config).await.unwrap();
                assert_eq!(b.fail_unfinished_scans().await.unwrap(), 0);
                drop(held);
                tokio::time::sleep(Duration::from_millis(300)).await;
                assert_eq!(b.fail_unfinished_scans().await.unwrap(), 1);
                b.close().await;
            } else {
                drop(held);
                assert_eq!(a.fail_unfinished_scans().await.unwrap(), 1);
            }
            let now = a.scan(scan.id).await.unwrap().unwrap();
            assert_eq!(now.status, crate::ScanStatus::Failed);
            a.close().await;
        }
    }
}
