//! Scans on demand: a queue in front of one worker (one scan at a time), each
//! scan's targets checked against `[inventory] scan_scope` before it is even
//! queued, nmap run with its time limit, and its findings turned into events
//! on the bus — `host.discovered`, `host.changed`, `host.seen`,
//! `scan.service` and `service.closed` for a port the inventory had open that
//! the scan covered and no longer found — which the inventory stage folds
//! like any other. Imports of nmap XML files take the same last step.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use nectar_bus::EventSender;
use nectar_event::{Event, Kind, Severity, Timestamp};
use nectar_store::{HostRecord, ScanRecord, ScanStatus, Store, StoreError};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tracing::{info, warn};
use uuid::Uuid;

use crate::config::Inventory;
use crate::nmap::run::{command_line, run};
use crate::nmap::scope::{TargetError, check_targets};
use crate::nmap::xml::NmapRun;

/// Most scans waiting.
pub const MAX_QUEUED: usize = 32;

/// Why a scan was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// No such profile.
    #[error(
        "profile {0:?} does not exist (built-in: fast, version, aggressive, noping; others in [inventory.profiles])"
    )]
    UnknownProfile(String),
    /// A target is refused.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// [`MAX_QUEUED`] scans are waiting already.
    #[error("{MAX_QUEUED} scans are queued already; try again when one has run")]
    QueueFull,
    /// The scanner has stopped.
    #[error("the scanner has stopped (the server is shutting down)")]
    Stopped,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The way to the scanner, for the API and the UI.
#[derive(Clone)]
pub struct ScanHandle {
    inventory: Arc<Inventory>,
    store: Store,
    tx: mpsc::Sender<(Uuid, Option<nectar_store::Lease>)>,
}

struct Job {
    profile: Vec<String>,
    targets: Vec<ipnet::IpNet>,
}

impl ScanHandle {
    /// The inventory's configuration.
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// Checks and queues a scan; nmap is never started for a refused one.
    pub async fn submit(
        &self,
        profile: &str,
        targets: &[String],
        requested_by: &str,
    ) -> Result<ScanRecord, SubmitError> {
        if !self.inventory.profiles.contains_key(profile) {
            return Err(SubmitError::UnknownProfile(
                profile.chars().take(64).collect(),
            ));
        }
        let nets = check_targets(&self.inventory.scan_scope, targets)?;
        let shown: Vec<String> = nets.iter().map(ToString::to_string).collect();
        let permit = self.tx.try_reserve().map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SubmitError::QueueFull,
            mpsc::error::TrySendError::Closed(_) => SubmitError::Stopped,
        })?;
        let (record, held) = self
            .store
            .create_scan(profile, &shown, requested_by)
            .await?;
        // The worker keeps the scan's lease until the scan ends.
        permit.send((record.id, held));
        Ok(record)
    }
}

/// Starts the scan worker; scans left unfinished by an earlier process are
/// marked failed first.
pub async fn spawn(
    inventory: Arc<Inventory>,
    store: Store,
    bus: EventSender,
    sensor: String,
) -> Result<ScanHandle, StoreError> {
    let stale = store.fail_unfinished_scans().await?;
    if stale > 0 {
        warn!(
            scans = stale,
            "Scans left unfinished by the last run are marked failed."
        );
    }
    let (tx, mut rx) = mpsc::channel::<(Uuid, Option<nectar_store::Lease>)>(MAX_QUEUED);
    let handle = ScanHandle {
        inventory: inventory.clone(),
        store: store.clone(),
        tx,
    };
    tokio::spawn(async move {
        while let Some((id, held)) = rx.recv().await {
            if let Err(e) = run_one(&inventory, &store, &bus, &sensor, id).await {
                warn!(scan = %id, error = %e, "A scan could not be recorded.");
            }
            drop(held);
        }
    });
    Ok(handle)
}

async fn run_one(
    inventory: &Inventory,
    store: &Store,
    bus: &EventSender,
    sensor: &str,
    id: Uuid,
) -> Result<(), StoreError> {
    let Some(record) = store.scan(id).await? else {
        return Ok(());
    };
    // Checked again: the configuration is the one of this process.
    let job = match (
        inventory.profiles.get(&record.profile),
        check_targets(&inventory.scan_scope, &record.targets),
    ) {
        (Some(p), Ok(t)) => Job {
            profile: p.clone(),
            targets: t,
        },
        (None, _) => {
            let msg = format!("profile {:?} no longer exists", record.profile);
            return store
                .set_scan_status(id, ScanStatus::Failed, Some(&msg), None)
                .await;
        }
        (_, Err(e)) => {
            return store
                .set_scan_status(id, ScanStatus::Failed, Some(&e.to_string()), None)
                .await;
        }
    };
    store
        .set_scan_status(id, ScanStatus::Running, None, None)
        .await?;
    let argv = command_line(&inventory.nmap, &job.profile, &job.targets);
    info!(scan = %id, command = %argv.join(" "), "Scan started.");
    match run(&argv, inventory.scan_timeout).await {
        Ok(found) => {
            let events = match results_to_events(store, &found, sensor, id, "nmap").await {
                Ok(e) => e,
                Err(e) => {
                    return store
                        .set_scan_status(id, ScanStatus::Failed, Some(&e.to_string()), None)
                        .await;
                }
            };
            let stored = bus.submit(events).await;
            let summary = summary_of(&found);
            match stored {
                Ok(_) => {
                    info!(scan = %id, hosts = found.hosts.len(), "Scan done.");
                    store
                        .set_scan_status(id, ScanStatus::Done, None, Some(&summary))
                        .await
                }
                Err(e) => {
                    store
                        .set_scan_status(
                            id,
                            ScanStatus::Failed,
                            Some(&format!("the results could not be stored: {e}")),
                            Some(&summary),
                        )
                        .await
                }
            }
        }
        Err(e) => {
            warn!(scan = %id, error = %e, "Scan failed.");
            store
                .set_scan_status(id, ScanStatus::Failed, Some(&e.to_string()), None)
                .await
        }
    }
}

/// What a run found, as the scan's result: the hosts up with their open ports.
pub fn summary_of(found: &NmapRun) -> Value {
    let hosts: Vec<Value> = found
        .hosts
        .iter()
        .filter(|h| h.up)
        .take(10_000)
        .map(|h| {
            json!({
                "address": h.address.to_string(),
                "mac": h.mac,
                "vendor": h.vendor,
                "names": h.names,
                "os": h.os,
                "services": h.ports.iter().filter(|p| p.is_open()).take(1000).map(|p| json!({
                    "port": p.port, "proto": p.proto, "state": p.state,
                    "service": p.service, "version": p.version,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "hosts": hosts })
}

/// The events a run's findings make, compared with the inventory now:
/// `source` is `nmap` for a scan and `import` for an imported file.
pub async fn results_to_events(
    store: &Store,
    found: &NmapRun,
    sensor: &str,
    scan: Uuid,
    source: &str,
) -> Result<Vec<Event>, StoreError> {
    let now = Timestamp::now();
    let mut events = Vec::new();
    let mut seen = Vec::new();
    let mut known: HashMap<IpAddr, HostRecord> = HashMap::new();
    for h in found.hosts.iter().filter(|h| h.up) {
        if let Some(r) = store.host(h.address).await? {
            known.insert(h.address, r);
        }
    }
    let base = |kind: Kind, summary: String, address: IpAddr| {
        Event::new(sensor, kind, Severity::Info, summary)
            .at(now)
            .from_addr(address, None)
            .with("address", address.to_string())
            .with("source", source)
            .with("scan", scan.to_string())
    };
    for h in found.hosts.iter().filter(|h| h.up) {
        let a = h.address;
        let name = h.names.first().cloned();
        match known.get(&a) {
            None => {
                let mut e = base(
                    Kind::HostDiscovered,
                    format!("New host {a} (found by {source})"),
                    a,
                );
                for (k, v) in [
                    ("mac", &h.mac),
                    ("vendor", &h.vendor),
                    ("name", &name),
                    ("os", &h.os),
                ] {
                    if let Some(v) = v {
                        e = e.with(k, v.as_str());
                    }
                }
                events.push(e);
            }
            Some(r) => {
                for (field, old, new) in [
                    ("mac", &r.mac, &h.mac),
                    ("os", &r.os, &h.os),
                    ("name", &r.name, &name),
                ] {
                    if let Some(new) = new
                        && old.as_ref() != Some(new)
                    {
                        let mut e =
                            base(Kind::HostChanged, format!("Host {a}: {field} changed"), a)
                                .with("field", field)
                                .with("old", old.clone().map_or(Value::Null, Value::from))
                                .with("new", new.as_str());
                        if field == "mac"
                            && let Some(v) = &h.vendor
                        {
                            e = e.with("vendor", v.as_str());
                        }
                        events.push(e);
                    }
                }
            }
        }
        seen.push(json!({"address": a.to_string(), "last_seen": now.to_string(), "services": []}));
        for p in h.ports.iter().filter(|p| p.is_open()) {
            if p.proto != "tcp" && p.proto != "udp" {
                continue;
            }
            let mut e = base(
                Kind::ScanService,
                format!(
                    "{a} {}/{} open{}",
                    p.port,
                    p.proto,
                    p.service
                        .as_deref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default()
                ),
                a,
            )
            .with("port", p.port)
            .with("proto", p.proto.as_str());
            e.src_port = Some(p.port);
            if let Some(s) = &p.service {
                e = e.with("service", s.as_str());
            }
            if let Some(v) = &p.version {
                e = e.with("version", v.as_str());
            }
            events.push(e);
        }
        // Ports the inventory had open, that this run covered and did not find open.
        if let Some(r) = known.get(&a) {
            for s in r.services.iter().filter(|s| s.state == "open") {
                let open_now = h
                    .ports
                    .iter()
                    .any(|p| p.port == s.port && p.proto == s.proto && p.is_open());
                if !open_now && found.scanned(&s.proto, s.port) {
                    let mut e = base(
                        Kind::ServiceClosed,
                        format!("{a} {}/{} no longer open ({source})", s.port, s.proto),
                        a,
                    )
                    .with("port", s.port)
                    .with("proto", s.proto.as_str());
                    e.src_port = Some(s.port);
                    events.push(e);
                }
            }
        }
    }
    for chunk in seen.chunks(256) {
        events.push(
            Event::new(
                sensor,
                Kind::HostSeen,
                Severity::Info,
                format!("{} host(s) up ({source})", chunk.len()),
            )
            .at(now)
            .with("hosts", Value::Array(chunk.to_vec()))
            .with("source", source)
            .with("scan", scan.to_string()),
        );
    }
    Ok(events)
}
