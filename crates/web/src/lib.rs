//! Nectar's web side: the JSON API (`/api/v1/...`), the server-rendered UI, and the
//! authentication both use (bearer tokens for the API, sessions for people).
//!
//! Everything is plain HTML and CSS: no JavaScript is served, and the
//! `Content-Security-Policy` on every response forbids scripts, so an attacker's
//! string that slips past escaping still cannot run.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod api_admin;
mod api_alerts;
mod api_devices;
mod api_hosts;
mod api_incident_parts;
mod api_incidents;
mod api_ips;
mod api_scans;
mod api_sensors;
pub mod auth;
mod config;
pub mod detect;
mod error;
mod evidence;
mod export;
pub mod headers;
mod incident_input;
mod ingest;
mod limiter;
mod markdown;
pub mod openapi;
mod pages;
mod text;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use nectar_bus::EventSender;
use nectar_bus::stream::ConsumerProbe;
use nectar_event::Limits;
use nectar_store::{Store, WriterHandle};

pub use api_sensors::{DEFAULT_ENROLMENT_TTL, check_sensor_name, create_sensor_enrolment};
pub use auth::{
    LoginLimiter, generate_password, hash_password, new_secret, sha256_hex, valid_name,
};
pub use config::{ServerConfig, TlsSection};
pub use headers::CONTENT_SECURITY_POLICY;
pub use text::visible;

/// Limits and switches of the web server.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Largest request body accepted by the API, in bytes (413 above).
    pub max_body_bytes: usize,
    /// Most events in one posted batch (413 above).
    pub max_batch_events: usize,
    /// Mark cookies `Secure` (`[server] secure_cookies`; by default when the
    /// UI does not listen on loopback).
    pub secure_cookies: bool,
    /// How long a login lasts.
    pub session_hours: u32,
    /// Bounds on each event.
    pub event_limits: Limits,
    /// Host names served besides `localhost` and address literals (see
    /// [`headers::check_host`]); `*` serves any.
    pub allowed_hosts: Vec<String>,
    /// Most posted batches read at once (503 with Retry-After beyond): each
    /// holds up to ~25 MB while it is read (see `ingest`).
    pub max_concurrent_ingest: usize,
    /// Most exports (CSV/JSON of the events page) running at once; 503 beyond.
    pub max_concurrent_exports: usize,
    /// Most bytes of events one export sends; it stops (saying so) there.
    pub max_export_bytes: usize,
    /// Posted events older than this are refused (422 naming `time`), so a token
    /// cannot backdate evidence into a past incident.
    pub max_event_age: std::time::Duration,
    /// Posted events further ahead of the server's clock than this are refused.
    pub max_event_ahead: std::time::Duration,
    /// Largest incident attachment, in bytes (413 above).
    pub max_attachment_bytes: usize,
    /// A remote sensor's clock further than this from the server's raises a
    /// `sensor.status` event (`clock_drift`).
    pub sensor_clock_bound: std::time::Duration,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            max_body_bytes: 16 * 1024 * 1024,
            max_batch_events: 10_000,
            secure_cookies: false,
            session_hours: 12,
            event_limits: Limits::default(),
            allowed_hosts: Vec::new(),
            max_concurrent_ingest: 4,
            max_concurrent_exports: 4,
            max_export_bytes: 256 * 1024 * 1024,
            max_event_age: std::time::Duration::from_secs(30 * 86_400),
            max_event_ahead: std::time::Duration::from_secs(86_400),
            max_attachment_bytes: nectar_store::DEFAULT_MAX_ATTACHMENT_BYTES,
            sensor_clock_bound: std::time::Duration::from_secs(5),
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub(crate) store: Store,
    /// Where posted events go: the same bus, checks and writer as every producer's.
    pub(crate) bus: EventSender,
    /// The writer behind the bus (its counters, for `/api/v1/status`).
    pub(crate) writer: WriterHandle,
    /// The committed stream's consumers (their counters and lag).
    pub(crate) consumers: Arc<Vec<ConsumerProbe>>,
    /// The sensor name of the events the web server itself makes (lock-outs).
    pub(crate) sensor: Arc<str>,
    pub(crate) config: Arc<WebConfig>,
    /// One permit per posted batch being read (`max_concurrent_ingest`).
    pub(crate) ingest_slots: Arc<tokio::sync::Semaphore>,
    /// Batches refused because every slot was taken, since start.
    pub(crate) ingest_busy: Arc<std::sync::atomic::AtomicU64>,
    /// One permit per export running (`max_concurrent_exports`).
    pub(crate) export_slots: Arc<tokio::sync::Semaphore>,
    /// Exports refused because every slot was taken, since start.
    pub(crate) export_busy: Arc<std::sync::atomic::AtomicU64>,
    pub(crate) limiter: Arc<LoginLimiter>,
    pub(crate) started: Instant,
    pub(crate) detector: Option<detect::DetectHandle>,
    /// `[server] identity`: decrypts captured secrets (`*_enc` fields) for display.
    pub(crate) identity: Option<Arc<nectar_capture::seal::Opener>>,
    /// The data directory, where session recordings are (for the session page).
    pub(crate) data_dir: Option<std::path::PathBuf>,
    /// The rules running (none when `[rules] enabled = false`).
    pub(crate) rules: Option<Arc<nectar_rules::RulesCatalog>>,
    /// The notifier's counters, when `serve` runs one.
    pub(crate) notify: Option<nectar_notify::StatusHandle>,
    /// `[inventory]`: subnets, scan scope, profiles.
    pub(crate) inventory: Arc<nectar_inventory::Inventory>,
    /// The scanner, when `serve` runs one.
    pub(crate) scans: Option<nectar_inventory::ScanHandle>,
    /// Where sensors reach this server over HTTPS, and its certificate's pin.
    pub(crate) tls: Option<Arc<TlsInfo>>,
    /// Parts of `serve` that could not start (a honeypot whose port is taken).
    pub(crate) failures: Arc<Vec<StartFailure>>,
    /// `[enrich]`: GeoIP, ASN and reputation lists for source addresses.
    pub(crate) enrich: Arc<nectar_enrich::Enricher>,
}

/// How remote sensors reach this server: for the enrolment command line.
#[derive(Debug, Clone)]
pub struct TlsInfo {
    /// `https://HOST:PORT`.
    pub url: String,
    /// SHA-256 of the server's certificate (hex).
    pub pin: String,
}

impl AppState {
    /// State for a server over `store`, taking posted events onto `bus`, which
    /// feeds `writer`.
    pub fn new(
        store: Store,
        bus: EventSender,
        writer: WriterHandle,
        config: WebConfig,
    ) -> AppState {
        AppState {
            store,
            bus,
            writer,
            consumers: Arc::default(),
            sensor: Arc::from("nectar"),
            ingest_slots: Arc::new(tokio::sync::Semaphore::new(
                config.max_concurrent_ingest.max(1),
            )),
            ingest_busy: Arc::default(),
            export_slots: Arc::new(tokio::sync::Semaphore::new(
                config.max_concurrent_exports.max(1),
            )),
            export_busy: Arc::default(),
            config: Arc::new(config),
            limiter: Arc::new(LoginLimiter::default()),
            started: Instant::now(),
            detector: None,
            identity: None,
            data_dir: None,
            rules: None,
            notify: None,
            inventory: Arc::default(),
            scans: None,
            tls: None,
            failures: Arc::default(),
            enrich: Arc::default(),
        }
    }

    /// Enriches source addresses from these sources (`[enrich]`).
    pub fn with_enrich(mut self, enrich: Arc<nectar_enrich::Enricher>) -> AppState {
        self.enrich = enrich;
        self
    }

    /// Shows these parts that could not start on the dashboard and in
    /// `/api/v1/status`.
    pub fn with_failures(mut self, failures: Vec<StartFailure>) -> AppState {
        self.failures = Arc::new(failures);
        self
    }

    /// What is not running that should: the parts that could not start, and the
    /// live capture when it is configured but stopped by an error (no
    /// permission, no such interface) — as long as that lasts.
    pub(crate) async fn not_running(&self) -> Vec<StartFailure> {
        let mut failures = self.failures.as_ref().clone();
        if let Some(detector) = self.detector.clone() {
            let status = tokio::task::spawn_blocking(move || detector.status()).await;
            if let Ok(status) = status
                && !status.running
                && let Some(error) = status.error
            {
                failures.push(StartFailure {
                    component: "capture".into(),
                    setting: format!("[capture] {}", status.source),
                    error,
                });
            }
        }
        failures
    }

    /// Shows the inventory's subnets and runs scans with `scans`.
    pub fn with_inventory(
        mut self,
        inventory: Arc<nectar_inventory::Inventory>,
        scans: nectar_inventory::ScanHandle,
    ) -> AppState {
        self.inventory = inventory;
        self.scans = Some(scans);
        self
    }

    /// Lists these rules (`/api/v1/rules`, the Rules page).
    pub fn with_rules(mut self, rules: Option<Arc<nectar_rules::RulesCatalog>>) -> AppState {
        self.rules = rules;
        self
    }

    /// Tells enrolments where sensors reach this server and its pin.
    pub fn with_tls(mut self, tls: TlsInfo) -> AppState {
        self.tls = Some(Arc::new(tls));
        self
    }

    /// Shows session recordings from this data directory on the session page.
    pub fn with_data_dir(mut self, dir: std::path::PathBuf) -> AppState {
        self.data_dir = Some(dir);
        self
    }

    /// Names the events the web server makes (`sensor_name`).
    pub fn with_sensor_name(mut self, sensor: &str) -> AppState {
        self.sensor = Arc::from(sensor);
        self
    }

    /// Reports these consumers of the committed stream in `/api/v1/status` and
    /// on the Settings page.
    pub fn with_consumers(mut self, consumers: Vec<ConsumerProbe>) -> AppState {
        self.consumers = Arc::new(consumers);
        self
    }

    /// Shows captured secrets decrypted with this identity (`[server] identity`).
    pub fn with_identity(mut self, identity: nectar_capture::seal::Opener) -> AppState {
        self.identity = Some(Arc::new(identity));
        self
    }

    /// Decrypts an event's `*_enc` fields (a password captured with
    /// `encrypt_to`) when the server has the identity; else leaves them.
    pub(crate) fn reveal(&self, event: &mut nectar_event::Event) {
        if let Some(identity) = &self.identity {
            nectar_capture::seal::open_map(&mut event.data, identity);
        }
    }

    /// Reports the notifier's counters in `/api/v1/status` and on the Settings
    /// page.
    pub fn with_notify(mut self, notify: nectar_notify::StatusHandle) -> AppState {
        self.notify = Some(notify);
        self
    }

    /// Adds the live network detector (`/api/v1/detect/...`).
    pub fn with_detector(mut self, detector: detect::DetectHandle) -> AppState {
        self.detector = Some(detector);
        self
    }
}

/// A part of `serve` that could not start: a honeypot whose port is taken or
/// needs a permission, a capture that cannot open its interface. `serve` runs
/// on without it; the dashboard and `/api/v1/status` say so.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StartFailure {
    /// What: `ssh honeypot`, `telnet honeypot`, `http honeypot`, `capture`.
    pub component: String,
    /// The setting to change, with its value (`honeypot.ssh.listen = 0.0.0.0:22`).
    pub setting: String,
    /// Why, as the system said it (`Address already in use (os error 98)`).
    pub error: String,
}

/// The event flow at one moment: what `/api/v1/status` answers and the Settings
/// page shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FlowStatus {
    /// Nectar's version.
    pub version: &'static str,
    /// Seconds since the server started.
    pub uptime_seconds: u64,
    /// The bus every producer sends on.
    pub bus: nectar_bus::BusCounts,
    /// The writer behind it.
    pub writer: nectar_store::WriterCounts,
    /// The committed stream's consumers.
    pub consumers: Vec<nectar_bus::stream::ConsumerStatus>,
    /// The roles that run in one process of those sharing the database (each
    /// consumer, `notify`, `retention` during a pass) held by this one.
    pub leases: Vec<String>,
    /// Notifications: messages queued, delivered, retried, dead, per channel
    /// (null when no notifier runs).
    pub notify: Option<nectar_notify::NotifyStatus>,
    /// Parts that should run and do not (could not start); empty when all run.
    pub failures: Vec<StartFailure>,
    /// Enrichment sources: databases and lists, their versions, last good
    /// update and last error.
    pub enrich: nectar_enrich::Status,
}

impl AppState {
    /// The event flow's counters now.
    pub fn flow_status(&self) -> FlowStatus {
        FlowStatus {
            version: env!("CARGO_PKG_VERSION"),
            uptime_seconds: self.started.elapsed().as_secs(),
            bus: self.bus.counts(),
            writer: self.writer.counts(),
            consumers: self.consumers.iter().map(|c| c.status()).collect(),
            leases: self.store.leases_held(),
            notify: self.notify.as_ref().map(|n| n.snapshot()),
            failures: self.failures.as_ref().clone(),
            enrich: self.enrich.status(),
        }
    }
}

/// The whole application: API, pages, static files, security headers.
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so that login
/// rate limits know the client's address.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes(&state.config))
        .merge(api_admin::routes())
        .merge(api_alerts::routes())
        .merge(api_incidents::routes(&state.config))
        .merge(api_ips::routes())
        .merge(api_hosts::routes())
        .merge(api_devices::routes())
        .merge(api_scans::routes())
        .merge(api_sensors::routes())
        .merge(openapi::routes())
        .merge(detect::routes())
        .merge(evidence::routes())
        .merge(pages::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::check_host,
        ))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .with_state(state)
}
