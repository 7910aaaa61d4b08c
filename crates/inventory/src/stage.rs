//! The inventory stage: a consumer of the committed-event stream that folds
//! host and service events (from the passive observer of any sensor, from
//! scans, from imports) into the inventory tables.
//!
//! Exactly once across crashes: the store keeps `applied_seq` in the same
//! transaction as the changes; after a restart events up to it are skipped.

use std::net::IpAddr;

use nectar_bus::stream::{Consumer, ConsumerError, StartAt};
use nectar_event::{Event, Kind, Timestamp};
use nectar_store::{InventoryChange, Store};
use serde_json::Value;
use tokio::runtime::Handle;
use tracing::info;

/// The stage's offset and progress name.
pub const STAGE: &str = "inventory";

/// The consumer.
pub struct InventoryStage {
    store: Store,
    handle: Handle,
    applied_seq: u64,
    pending: Option<(u64, Vec<InventoryChange>)>,
}

impl InventoryStage {
    /// A stage writing to `store`. Call from inside a tokio runtime.
    pub fn new(store: Store) -> InventoryStage {
        InventoryStage {
            store,
            handle: Handle::current(),
            applied_seq: 0,
            pending: None,
        }
    }

    fn write_pending(&mut self) -> Result<(), ConsumerError> {
        let Some((last, changes)) = self.pending.take() else {
            return Ok(());
        };
        if let Err(e) = self
            .handle
            .block_on(self.store.apply_inventory(STAGE, last, &changes))
        {
            self.pending = Some((last, changes));
            return Err(ConsumerError(format!("could not store the inventory: {e}")));
        }
        self.applied_seq = self.applied_seq.max(last);
        Ok(())
    }
}

fn text(data: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    data.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(256).collect())
}

fn address(event: &Event) -> Option<IpAddr> {
    event
        .data
        .get("address")
        .and_then(Value::as_str)
        .and_then(|a| a.parse().ok())
        .or(event.src_ip)
}

fn proto(data: &serde_json::Map<String, Value>) -> String {
    match data.get("proto").and_then(Value::as_str) {
        Some("udp") => "udp".into(),
        _ => "tcp".into(),
    }
}

fn port(event: &Event) -> Option<u16> {
    event
        .data
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .or(event.src_port)
}

fn source(event: &Event) -> String {
    match event.data.get("source").and_then(Value::as_str) {
        Some(s @ ("passive" | "nmap" | "import")) => s.into(),
        _ => "passive".into(),
    }
}

/// What one committed event changes in the inventory (nothing for other kinds).
pub fn changes_of(event: &Event, out: &mut Vec<InventoryChange>) {
    let d = &event.data;
    let time = event.time;
    match event.kind {
        Kind::HostDiscovered => {
            if let Some(address) = address(event) {
                out.push(InventoryChange::Discovered {
                    address,
                    time,
                    mac: text(d, "mac").map(|m| m.to_ascii_lowercase()),
                    vendor: text(d, "vendor"),
                    name: text(d, "name"),
                    os: text(d, "os"),
                    source: source(event),
                });
            }
        }
        Kind::HostSeen => {
            let Some(hosts) = d.get("hosts").and_then(Value::as_array) else {
                return;
            };
            for h in hosts.iter().take(10_000) {
                let Some(address) = h
                    .get("address")
                    .and_then(Value::as_str)
                    .and_then(|a| a.parse().ok())
                else {
                    continue;
                };
                let at = |v: Option<&Value>| {
                    v.and_then(Value::as_str)
                        .and_then(|t| t.parse::<Timestamp>().ok())
                        .map_or(time, |t| t.min(time))
                };
                out.push(InventoryChange::Seen {
                    address,
                    time: at(h.get("last_seen")),
                });
                for s in h
                    .get("services")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .take(64)
                {
                    let (Some(port), Some(map)) = (
                        s.get("port")
                            .and_then(Value::as_u64)
                            .and_then(|p| u16::try_from(p).ok()),
                        s.as_object(),
                    ) else {
                        continue;
                    };
                    out.push(InventoryChange::ServiceSeen {
                        address,
                        port,
                        proto: proto(map),
                        time: at(s.get("last_seen")),
                    });
                }
            }
        }
        Kind::HostGone => {
            if let Some(address) = address(event) {
                out.push(InventoryChange::Gone { address, time });
            }
        }
        Kind::HostChanged => {
            if let (Some(address), Some(field)) = (address(event), text(d, "field")) {
                out.push(InventoryChange::Changed {
                    address,
                    time,
                    field,
                    new: text(d, "new"),
                    vendor: text(d, "vendor"),
                    actor: event.sensor.clone(),
                });
            }
        }
        Kind::ServiceOpened | Kind::ScanService => {
            if let (Some(address), Some(port)) = (address(event), port(event)) {
                out.push(InventoryChange::ServiceOpened {
                    address,
                    port,
                    proto: proto(d),
                    time,
                    service: text(d, "service"),
                    version: text(d, "version"),
                    source: if event.kind == Kind::ScanService {
                        match source(event).as_str() {
                            "import" => "import".into(),
                            _ => "nmap".into(),
                        }
                    } else {
                        source(event)
                    },
                });
            }
        }
        Kind::ServiceClosed => {
            if let (Some(address), Some(port)) = (address(event), port(event)) {
                out.push(InventoryChange::ServiceClosed {
                    address,
                    port,
                    proto: proto(d),
                    time,
                    source: source(event),
                });
            }
        }
        _ => {}
    }
}

impl Consumer for InventoryStage {
    fn name(&self) -> &str {
        STAGE
    }

    fn start_at(&self) -> StartAt {
        StartAt::Beginning
    }

    fn resume(&mut self, _checkpoint: &str) -> Result<(), ConsumerError> {
        self.applied_seq = self
            .handle
            .block_on(self.store.inventory_progress(STAGE))
            .map_err(ConsumerError::from_display)?;
        info!(applied = self.applied_seq, "Inventory stage resumed.");
        Ok(())
    }

    fn deliver(&mut self, first_seq: u64, events: &[Event]) -> Result<(), ConsumerError> {
        self.write_pending()?;
        let mut changes = Vec::new();
        for (i, event) in events.iter().enumerate() {
            if first_seq + i as u64 <= self.applied_seq {
                continue;
            }
            changes_of(event, &mut changes);
        }
        let last = first_seq + events.len() as u64 - 1;
        if last <= self.applied_seq {
            return Ok(());
        }
        if changes.is_empty() {
            // Nothing to fold: the offset alone moves on.
            self.applied_seq = last;
            return Ok(());
        }
        self.pending = Some((last, changes));
        self.write_pending()
    }

    fn checkpoint(&mut self) -> Result<String, ConsumerError> {
        self.write_pending()?;
        Ok(String::new())
    }
}

#[cfg(test)]
mod tests {
    use nectar_event::Severity;

    use super::*;

    #[test]
    fn events_become_changes_and_others_nothing() {
        let mut out = Vec::new();
        let e = Event::new("s", Kind::ServiceOpened, Severity::Info, "x")
            .with("address", "192.0.2.2")
            .with("port", 22)
            .with("proto", "tcp");
        changes_of(&e, &mut out);
        let e = Event::new("s", Kind::HostSeen, Severity::Info, "x").with(
            "hosts",
            serde_json::json!([{"address": "192.0.2.2", "last_seen": "2026-01-01T00:00:00Z",
                 "services": [{"port": 53, "proto": "udp", "last_seen": "2026-01-01T00:00:00Z"}]},
                {"address": "not an address"}]),
        );
        changes_of(&e, &mut out);
        changes_of(
            &Event::new("s", Kind::SshCommand, Severity::Info, "x").with("address", "192.0.2.9"),
            &mut out,
        );
        assert_eq!(out.len(), 3);
        assert!(matches!(
            &out[0],
            InventoryChange::ServiceOpened { port: 22, .. }
        ));
        assert!(
            matches!(&out[2], InventoryChange::ServiceSeen { port: 53, proto, .. } if proto == "udp")
        );
    }
}
