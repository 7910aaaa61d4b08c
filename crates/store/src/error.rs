//! The storage error type.

impl StoreError {
    /// Whether a unique index refused the row (on either backend).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation())
    }
}

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed a statement (disk full, locked, corrupt file).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed: the file was written by a newer Nectar, or is damaged.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A file next to the database (the JSON-lines log) could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The writer task has stopped (the server is shutting down), so nothing new is accepted.
    #[error("the event writer has stopped; the server is shutting down")]
    WriterClosed,
    /// A stored row no longer parses (edited by hand, or a bug).
    #[error("stored row {id} is invalid: {reason}")]
    CorruptRow {
        /// The row's id.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A name that must be unique is taken (a user, a token name).
    #[error("{what} {name:?} already exists")]
    Exists {
        /// What kind of thing.
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// A named thing does not exist.
    #[error("{what} {name:?} does not exist")]
    NotFound {
        /// What kind of thing.
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// A value could not be bound to a statement (a bug: the type does not fit).
    #[error("a value could not be bound to a statement: {0}")]
    Bind(String),
    /// A statement was run on the other backend's connection (a bug in the store).
    #[error("a statement was run on the other database backend's connection")]
    BackendMismatch,
    /// Reading events back for a consumer that fell behind failed (SQLite).
    #[error("database error while reading events back: {0}")]
    CatchUp(String),
    /// The `[store] url` cannot be used.
    #[error("[store] url: {0}")]
    Url(String),
}
