//! Nectar's storage: the schema, its migrations, the queries the API and UI run, and
//! the single batched writer through which every event reaches the database.
//!
//! SQLite (a file `nectar.db`, WAL mode) is the embedded default. Queries use `$n`
//! placeholders and SQL that PostgreSQL accepts too, so a PostgreSQL backend is a
//! second pool type behind the same methods, not a rewrite.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod bus;
mod error;
mod jsonl;
mod query;
mod ranked;
mod rollup;
mod store;
mod writer;

pub use auth::{ApiToken, Role, TokenOwner, User, WebSession};
pub use bus::{BUS_LINGER, BusStats, EventSender, spawn_bus};
pub use error::StoreError;
pub use jsonl::{JsonlConfig, JsonlLog};
pub use query::{
    BucketCount, Cursor, DataField, EventFilter, KindCount, KindFilter, Page, SessionSummary,
    TopField, ValueCount,
};
pub use ranked::KEEP_VALUES_PER_BUCKET;
pub use rollup::RollupRange;
pub use store::{Durability, Store, StoreConfig};
pub use writer::{IngestOutcome, WriterConfig, WriterHandle, WriterStats};
