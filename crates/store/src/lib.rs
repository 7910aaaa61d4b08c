//! Nectar's storage: the schema, its migrations, the queries the API and UI run,
//! the single batched writer through which every event reaches the database, and
//! the store's side of the committed-event stream (commit sequence numbers,
//! reading back by them, consumers' durable offsets; see `nectar_bus::stream`).
//!
//! Two backends (`db`): SQLite (a file `nectar.db`, WAL mode), the embedded
//! default, and PostgreSQL for fleets and several servers. Queries are written once
//! in the dialect both share; the few places where the engines differ (the
//! writer's bulk insert, JSON paths, full-text search) ask the backend.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod alerts;
mod attackers;
mod auth;
mod catch_up;
mod config;
mod copy;
mod db;
mod devices;
mod error;
mod incidents;
mod inventory;
mod lease;
mod notify;
mod query;
mod ranked;
mod retention;
mod rollup;
mod search_text;
mod sensors;
mod sessions;
mod store;
mod stream;
#[doc(hidden)]
pub mod testing;
mod writer;

pub use alerts::{
    AlertChange, AlertCursor, AlertFilter, AlertFold, AlertNotice, AlertUpdate, FieldMatcher,
    FoldOutcome, MAX_ALERT_PAGE, MAX_BULK, NewSilence, NoticeKind, RuleProgress, Silence,
    UpdateError,
};
pub use attackers::{AttackerSummary, SENSOR_SAMPLE};
pub use auth::{
    ApiToken, INITIAL_ADMIN, INITIAL_ADMIN_PASSWORD_FILE, Role, TokenOwner, User, WebSession,
};
pub use config::StoreSection;
pub use copy::{CopyError, CopyReport, Destination, TABLES as COPY_TABLES};
pub use db::Backend;
pub use devices::{DeviceModelRow, MAX_DEVICE_TEXT};
pub use error::StoreError;
pub use incidents::{
    Attachment, Comment, DEFAULT_MAX_ATTACHMENT_BYTES, IncidentChange, IncidentCounts,
    IncidentCursor, IncidentError, IncidentFilter, IncidentObservable, IncidentPatch,
    MAX_INCIDENT_PAGE, NewIncident, NewObservable, Task, TimelineNote,
};
pub use inventory::{
    HistoryEntry, HostCursor, HostFilter, HostRecord, HostUpdate, InventoryChange, MAX_HOST_PAGE,
    ScanRecord, ScanStatus, ServiceRecord, addr_key, prefix_range,
};
pub use lease::Lease;
pub use nectar_bus::IngestOutcome;
pub use notify::{
    DeliveryInfo, DeliveryStatus, DueDelivery, NOTIFY_CONSUMER, NewDelivery, NotifyBatch,
    NotifyCommit, PendingCount,
};
pub use query::{
    BucketCount, CredentialPair, Cursor, DataField, EventFilter, KindCount, KindFilter, Network,
    Page, PivotField, SessionCursor, SessionFilter, SessionOrder, SessionPage, SessionSummary,
    TopField, ValueCount, search_query,
};
pub use ranked::KEEP_VALUES_PER_BUCKET;
pub use retention::PruneReport;
pub use rollup::RollupRange;
pub use sensors::{
    Arrival, BatchReport, BatchVerdict, EnrolRefusal, SENSOR_TOKEN_PREFIX, SensorRecord,
};
pub use store::{Durability, Store, StoreConfig};
pub use writer::{WriterConfig, WriterCounts, WriterHandle, WriterStats};
