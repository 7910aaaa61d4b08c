//! Folding inventory changes (read from committed events by the inventory
//! stage) into the host tables, with the stage's progress in the same
//! transaction, so each committed event counts exactly once.

use crate::db::{self, Tx};
use std::net::IpAddr;

use nectar_event::Timestamp;

use super::addr_key;
use crate::{Store, StoreError};

/// One change to the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventoryChange {
    /// A host found (passively or by a scan), with what was learnt of it.
    Discovered {
        /// The address.
        address: IpAddr,
        /// When.
        time: Timestamp,
        /// Its MAC.
        mac: Option<String>,
        /// The MAC's vendor.
        vendor: Option<String>,
        /// A name.
        name: Option<String>,
        /// An OS.
        os: Option<String>,
        /// `passive`, `nmap`, `import`.
        source: String,
    },
    /// A host still seen at `time`.
    Seen {
        /// The address.
        address: IpAddr,
        /// When last seen.
        time: Timestamp,
    },
    /// A service still answering at `time`.
    ServiceSeen {
        /// The address.
        address: IpAddr,
        /// The port.
        port: u16,
        /// `tcp` or `udp`.
        proto: String,
        /// When last seen.
        time: Timestamp,
    },
    /// A host not seen for a while.
    Gone {
        /// The address.
        address: IpAddr,
        /// When it was declared gone.
        time: Timestamp,
    },
    /// A field of a host changed (`mac`, `os`, `name`).
    Changed {
        /// The address.
        address: IpAddr,
        /// When.
        time: Timestamp,
        /// Which field.
        field: String,
        /// The new value.
        new: Option<String>,
        /// The MAC's vendor, with a MAC change.
        vendor: Option<String>,
        /// Who saw it (the sensor).
        actor: String,
    },
    /// A port answered.
    ServiceOpened {
        /// The address.
        address: IpAddr,
        /// The port.
        port: u16,
        /// `tcp` or `udp`.
        proto: String,
        /// When.
        time: Timestamp,
        /// The service name, when known.
        service: Option<String>,
        /// Product and version, when known.
        version: Option<String>,
        /// `passive`, `nmap`, `import`.
        source: String,
    },
    /// A port stopped answering.
    ServiceClosed {
        /// The address.
        address: IpAddr,
        /// The port.
        port: u16,
        /// `tcp` or `udp`.
        proto: String,
        /// When.
        time: Timestamp,
        /// `passive`, `nmap`.
        source: String,
    },
}

const HOST_FIELDS: &[&str] = &["mac", "os", "name"];

impl Store {
    /// The inventory stage's applied sequence number (0 before its first fold).
    pub async fn inventory_progress(&self, name: &str) -> Result<u64, StoreError> {
        let row: Option<(i64,)> =
            db::query_as("SELECT applied_seq FROM inv_progress WHERE name = ?")
                .bind(name)
                .fetch_optional(self.db.read())
                .await?;
        Ok(row.map_or(0, |(s,)| s.max(0) as u64))
    }

    /// Applies `changes` and records `applied_seq`, in one transaction.
    pub async fn apply_inventory(
        &self,
        name: &str,
        applied_seq: u64,
        changes: &[InventoryChange],
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        for change in changes {
            apply_one(&mut tx, change).await?;
        }
        db::query(
            "INSERT INTO inv_progress (name, applied_seq, updated_us) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET applied_seq = MAX(inv_progress.applied_seq, ?2), updated_us = ?3",
        )
        .bind(name)
        .bind(applied_seq as i64)
        .bind(Timestamp::now().as_micros())
        .execute(tx.exec())
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn history(
    tx: &mut Tx,
    address: &str,
    time: Timestamp,
    actor: &str,
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> Result<(), StoreError> {
    db::query(
        "INSERT INTO inv_history (address, time_us, actor, field, old, new) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(address)
    .bind(time.as_micros())
    .bind(actor)
    .bind(field)
    .bind(old)
    .bind(new)
    .execute(tx.exec())
    .await?;
    Ok(())
}

/// Makes sure the host exists and has seen `time`; whether it was inserted.
async fn ensure_host(
    tx: &mut Tx,
    address: IpAddr,
    time: Timestamp,
    source: &str,
) -> Result<bool, StoreError> {
    let a = address.to_string();
    let inserted = db::query(
        "INSERT INTO inv_hosts (address, addr_key, first_seen_us, last_seen_us, source, updated_us) \
         VALUES (?1, ?2, ?3, ?3, ?4, ?3) ON CONFLICT DO NOTHING",
    )
    .bind(&a)
    .bind(addr_key(address).to_vec())
    .bind(time.as_micros())
    .bind(source)
    .execute(tx.exec())
    .await?
        > 0;
    if inserted {
        history(tx, &a, time, source, "discovered", None, Some(source)).await?;
    } else {
        db::query(
            "UPDATE inv_hosts SET first_seen_us = MIN(first_seen_us, ?2), \
             last_seen_us = MAX(last_seen_us, ?2) WHERE address = ?1",
        )
        .bind(&a)
        .bind(time.as_micros())
        .execute(tx.exec())
        .await?;
    }
    Ok(inserted)
}

/// Sets `field` (one of [`HOST_FIELDS`]) and records the change if it is one.
async fn set_field(
    tx: &mut Tx,
    address: &str,
    time: Timestamp,
    actor: &str,
    field: &str,
    new: Option<&str>,
) -> Result<(), StoreError> {
    if !HOST_FIELDS.contains(&field) || new.is_none() {
        return Ok(());
    }
    let old: Option<(Option<String>,)> =
        db::query_as(&format!("SELECT {field} FROM inv_hosts WHERE address = ?"))
            .bind(address)
            .fetch_optional(tx.exec())
            .await?;
    let old = old.and_then(|(o,)| o);
    if old.as_deref() == new {
        return Ok(());
    }
    db::query(&format!(
        "UPDATE inv_hosts SET {field} = ? WHERE address = ?"
    ))
    .bind(new)
    .bind(address)
    .execute(tx.exec())
    .await?;
    history(tx, address, time, actor, field, old.as_deref(), new).await
}

async fn apply_one(tx: &mut Tx, change: &InventoryChange) -> Result<(), StoreError> {
    match change {
        InventoryChange::Discovered {
            address,
            time,
            mac,
            vendor,
            name,
            os,
            source,
        } => {
            let returned = !ensure_host(tx, *address, *time, source).await?;
            let a = address.to_string();
            let gone: Option<(i64,)> = db::query_as("SELECT gone FROM inv_hosts WHERE address = ?")
                .bind(&a)
                .fetch_optional(tx.exec())
                .await?;
            if returned && gone.is_some_and(|(g,)| g != 0) {
                db::query("UPDATE inv_hosts SET gone = 0 WHERE address = ?")
                    .bind(&a)
                    .execute(tx.exec())
                    .await?;
                history(tx, &a, *time, source, "returned", None, None).await?;
            }
            set_field(tx, &a, *time, source, "mac", mac.as_deref()).await?;
            if vendor.is_some() {
                db::query("UPDATE inv_hosts SET vendor = ? WHERE address = ?")
                    .bind(vendor)
                    .bind(&a)
                    .execute(tx.exec())
                    .await?;
            }
            set_field(tx, &a, *time, source, "name", name.as_deref()).await?;
            set_field(tx, &a, *time, source, "os", os.as_deref()).await?;
        }
        InventoryChange::Seen { address, time } => {
            ensure_host(tx, *address, *time, "passive").await?;
        }
        InventoryChange::ServiceSeen {
            address,
            port,
            proto,
            time,
        } => {
            db::query(
                "UPDATE inv_services SET last_seen_us = MAX(last_seen_us, ?4) \
                 WHERE address = ?1 AND port = ?2 AND proto = ?3",
            )
            .bind(address.to_string())
            .bind(i64::from(*port))
            .bind(proto)
            .bind(time.as_micros())
            .execute(tx.exec())
            .await?;
        }
        InventoryChange::Gone { address, time } => {
            let a = address.to_string();
            let changed = db::query("UPDATE inv_hosts SET gone = 1 WHERE address = ? AND gone = 0")
                .bind(&a)
                .execute(tx.exec())
                .await?;
            if changed > 0 {
                history(tx, &a, *time, "passive", "gone", None, None).await?;
            }
        }
        InventoryChange::Changed {
            address,
            time,
            field,
            new,
            vendor,
            actor,
        } => {
            ensure_host(tx, *address, *time, "passive").await?;
            let a = address.to_string();
            set_field(tx, &a, *time, actor, field, new.as_deref()).await?;
            // A new MAC's vendor replaces the old one's, known or not.
            if field == "mac" && new.is_some() {
                db::query("UPDATE inv_hosts SET vendor = ? WHERE address = ?")
                    .bind(vendor)
                    .bind(&a)
                    .execute(tx.exec())
                    .await?;
            }
        }
        InventoryChange::ServiceOpened {
            address,
            port,
            proto,
            time,
            service,
            version,
            source,
        } => {
            ensure_host(tx, *address, *time, source).await?;
            let a = address.to_string();
            let old: Option<(String,)> = db::query_as(
                "SELECT state FROM inv_services WHERE address = ? AND port = ? AND proto = ?",
            )
            .bind(&a)
            .bind(i64::from(*port))
            .bind(proto)
            .fetch_optional(tx.exec())
            .await?;
            db::query(
                "INSERT INTO inv_services (address, port, proto, state, service, version, source, first_seen_us, last_seen_us) \
                 VALUES (?1, ?2, ?3, 'open', ?4, ?5, ?6, ?7, ?7) \
                 ON CONFLICT (address, port, proto) DO UPDATE SET state = 'open', \
                 service = COALESCE(excluded.service, inv_services.service), \
                 version = COALESCE(excluded.version, inv_services.version), \
                 source = excluded.source, \
                 last_seen_us = MAX(inv_services.last_seen_us, excluded.last_seen_us)",
            )
            .bind(&a)
            .bind(i64::from(*port))
            .bind(proto)
            .bind(service)
            .bind(version)
            .bind(source)
            .bind(time.as_micros())
            .execute(tx.exec())
            .await?;
            if old.as_ref().is_none_or(|(s,)| s != "open") {
                let what = format!("{port}/{proto}");
                history(tx, &a, *time, source, "service", Some(&what), Some("open")).await?;
            }
        }
        InventoryChange::ServiceClosed {
            address,
            port,
            proto,
            time,
            source,
        } => {
            let a = address.to_string();
            let changed = db::query(
                "UPDATE inv_services SET state = 'closed', source = ?5 \
                 WHERE address = ?1 AND port = ?2 AND proto = ?3 AND state = 'open' AND last_seen_us <= ?4",
            )
            .bind(&a)
            .bind(i64::from(*port))
            .bind(proto)
            .bind(time.as_micros())
            .bind(source)
            .execute(tx.exec())
            .await?;
            if changed > 0 {
                let what = format!("{port}/{proto}");
                history(
                    tx,
                    &a,
                    *time,
                    source,
                    "service",
                    Some(&what),
                    Some("closed"),
                )
                .await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HostFilter;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_micros(1_800_000_000_000_000 + s * 1_000_000).unwrap()
    }

    crate::on_both_backends! {
        #[tokio::test]
        async fn changes_fold_into_hosts_services_and_history(db, dir) {
            let _ = &dir;
            let store = Store::open(&db.config).await.unwrap();
            let a: IpAddr = "192.0.2.2".parse().unwrap();
            let open = |s| InventoryChange::ServiceOpened {
                address: a,
                port: 22,
                proto: "tcp".into(),
                time: at(s),
                service: None,
                version: None,
                source: "passive".into(),
            };
            store
                .apply_inventory(
                    "inventory",
                    5,
                    &[
                        InventoryChange::Discovered {
                            address: a,
                            time: at(0),
                            mac: Some("00:16:3e:00:00:02".into()),
                            vendor: Some("Xensource, Inc.".into()),
                            name: None,
                            os: None,
                            source: "passive".into(),
                        },
                        open(1),
                        InventoryChange::Changed {
                            address: a,
                            time: at(2),
                            field: "mac".into(),
                            new: Some("8a:00:00:00:00:02".into()),
                            vendor: None,
                            actor: "s1".into(),
                        },
                        // Not a host field: ignored, never spliced into SQL.
                        InventoryChange::Changed {
                            address: a,
                            time: at(2),
                            field: "owner = 'x', gone".into(),
                            new: Some("1".into()),
                            vendor: None,
                            actor: "s1".into(),
                        },
                        InventoryChange::ServiceClosed {
                            address: a,
                            port: 22,
                            proto: "tcp".into(),
                            time: at(3),
                            source: "passive".into(),
                        },
                        InventoryChange::Seen {
                            address: a,
                            time: at(9),
                        },
                    ],
                )
                .await
                .unwrap();
            assert_eq!(store.inventory_progress("inventory").await.unwrap(), 5);
            let h = store.host(a).await.unwrap().unwrap();
            assert_eq!(h.mac.as_deref(), Some("8a:00:00:00:00:02"));
            assert_eq!(h.vendor, None, "the old MAC's vendor went with it");
            assert_eq!((h.first_seen, h.last_seen), (at(0), at(9)));
            assert_eq!(h.services.len(), 1);
            assert_eq!(h.services[0].state, "closed");
            assert!(h.owner.is_empty() && !h.gone);
            let fields: Vec<String> = store
                .host_history(a, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|e| format!("{}:{}", e.field, e.new.unwrap_or_default()))
                .collect();
            assert_eq!(
                fields,
                [
                    "service:closed",
                    "mac:8a:00:00:00:00:02",
                    "service:open",
                    "mac:00:16:3e:00:00:02",
                    "discovered:passive"
                ]
            );
            // A close older than the service's last answer does not apply.
            store
                .apply_inventory(
                    "inventory",
                    6,
                    &[
                        open(20),
                        InventoryChange::ServiceClosed {
                            address: a,
                            port: 22,
                            proto: "tcp".into(),
                            time: at(10),
                            source: "nmap".into(),
                        },
                    ],
                )
                .await
                .unwrap();
            let (hosts, next) = store
                .hosts(
                    &HostFilter {
                        port: Some(22),
                        ..HostFilter::default()
                    },
                    10,
                    None,
                )
                .await
                .unwrap();
            assert_eq!((hosts.len(), next), (1, None));
            store.close().await;
        }
    }
}
