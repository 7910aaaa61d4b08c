//! Reading the inventory: the host list with its search (address or prefix,
//! text over names, MACs, vendors, owners, tags; port; seen since), one host
//! with its services and history, counts per prefix, and analysts' edits
//! (each changed field recorded in the host's history).

use crate::db::{self, Row};
use std::collections::HashMap;
use std::net::IpAddr;

use nectar_event::Timestamp;
use serde::Serialize;

use super::{addr_key, prefix_range};
use crate::{Store, StoreError};

/// Largest page of hosts.
pub const MAX_HOST_PAGE: usize = 1000;

/// What the host list is filtered by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFilter {
    /// Addresses inside this prefix (network, length).
    pub prefix: Option<(IpAddr, u8)>,
    /// Text found in the name, MAC, vendor, OS, owner, location, tags or notes
    /// (case-insensitive).
    pub text: Option<String>,
    /// With this port open.
    pub port: Option<u16>,
    /// With this tag.
    pub tag: Option<String>,
    /// With this owner (exact, case-insensitive).
    pub owner: Option<String>,
    /// Seen at or after.
    pub seen_since: Option<Timestamp>,
    /// Hosts reported gone too.
    pub include_gone: bool,
}

/// Where the next page starts: after this address key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostCursor(pub [u8; 16]);

impl HostCursor {
    /// As the API gives it (32 hex digits).
    pub fn encode(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// From the API; `None` when it is not one.
    pub fn decode(text: &str) -> Option<HostCursor> {
        if text.len() != 32 || !text.is_ascii() {
            return None;
        }
        let mut key = [0u8; 16];
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(HostCursor(key))
    }
}

/// A host as the API and pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostRecord {
    /// Its address.
    pub address: IpAddr,
    /// Its MAC, when seen on the local link.
    pub mac: Option<String>,
    /// The MAC's vendor.
    pub vendor: Option<String>,
    /// Its name (DHCP, scans, analysts).
    pub name: Option<String>,
    /// The OS guess.
    pub os: Option<String>,
    /// First seen.
    pub first_seen: Timestamp,
    /// Last seen.
    pub last_seen: Timestamp,
    /// Not seen for `gone_after`.
    pub gone: bool,
    /// How it was first learnt (`passive`, `nmap`, `import`).
    pub source: String,
    /// Who answers for it.
    pub owner: String,
    /// Where it is.
    pub location: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Notes.
    pub notes: String,
    /// Checked by an analyst.
    pub verified: bool,
    /// Left out of reviews.
    pub ignored: bool,
    /// Its services.
    pub services: Vec<ServiceRecord>,
}

/// A service of a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceRecord {
    /// The port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub proto: String,
    /// `open` or `closed`.
    pub state: String,
    /// The service name, when known.
    pub service: Option<String>,
    /// Product and version, when a scan found them.
    pub version: Option<String>,
    /// How it was learnt (`passive`, `nmap`, `import`).
    pub source: String,
    /// First seen.
    pub first_seen: Timestamp,
    /// Last seen.
    pub last_seen: Timestamp,
}

/// One change to a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// When.
    pub time: Timestamp,
    /// Who (a user, a sensor, `nmap`).
    pub actor: String,
    /// What (`discovered`, `mac`, `os`, `name`, `service`, `owner`, ...).
    pub field: String,
    /// Before.
    pub old: Option<String>,
    /// After.
    pub new: Option<String>,
}

/// Analysts' changes to a host; `None` leaves a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostUpdate {
    /// Its name.
    pub name: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Tags (stored comma-separated).
    pub tags: Option<Vec<String>>,
    /// Notes.
    pub notes: Option<String>,
    /// Verified.
    pub verified: Option<bool>,
    /// Ignored.
    pub ignored: Option<bool>,
}

const HOST_COLUMNS: &str = "address, mac, vendor, name, os, first_seen_us, last_seen_us, gone, source, \
     owner, location, tags, notes, verified, ignored, addr_key";

fn ts(us: i64) -> Timestamp {
    Timestamp::from_micros(us).unwrap_or_else(Timestamp::now)
}

fn host_from_row(row: &Row) -> Result<HostRecord, StoreError> {
    let address: String = row.get("address")?;
    let tags: String = row.get("tags")?;
    Ok(HostRecord {
        address: address.parse().map_err(|_| StoreError::CorruptRow {
            id: address.clone(),
            reason: "not an address".into(),
        })?,
        mac: row.get("mac")?,
        vendor: row.get("vendor")?,
        name: row.get("name")?,
        os: row.get("os")?,
        first_seen: ts(row.get("first_seen_us")?),
        last_seen: ts(row.get("last_seen_us")?),
        gone: row.get::<i64, _>("gone")? != 0,
        source: row.get("source")?,
        owner: row.get("owner")?,
        location: row.get("location")?,
        tags: tags
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        notes: row.get("notes")?,
        verified: row.get::<i64, _>("verified")? != 0,
        ignored: row.get::<i64, _>("ignored")? != 0,
        services: Vec::new(),
    })
}

fn service_from_row(row: &Row) -> Result<(String, ServiceRecord), StoreError> {
    Ok((
        row.get("address")?,
        ServiceRecord {
            port: u16::try_from(row.get::<i64, _>("port")?).unwrap_or(0),
            proto: row.get("proto")?,
            state: row.get("state")?,
            service: row.get("service")?,
            version: row.get("version")?,
            source: row.get("source")?,
            first_seen: ts(row.get("first_seen_us")?),
            last_seen: ts(row.get("last_seen_us")?),
        },
    ))
}

/// `%text%` for LIKE, with LIKE's wildcards taken literally.
fn like(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

impl Store {
    /// A page of hosts matching `filter`, in address order, after `cursor`;
    /// with the cursor of the next page when there is one.
    pub async fn hosts(
        &self,
        filter: &HostFilter,
        limit: usize,
        cursor: Option<HostCursor>,
    ) -> Result<(Vec<HostRecord>, Option<HostCursor>), StoreError> {
        let limit = limit.clamp(1, MAX_HOST_PAGE);
        let mut sql = format!("SELECT {HOST_COLUMNS} FROM inv_hosts h WHERE 1 = 1");
        let mut blobs: Vec<Vec<u8>> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        // Binds in order: blobs first, then texts, then numbers; the clauses
        // are added in that order too.
        if let Some(c) = cursor {
            sql.push_str(" AND addr_key > ?");
            blobs.push(c.0.to_vec());
        }
        if let Some((net, len)) = filter.prefix {
            let (lo, hi) = prefix_range(net, len);
            sql.push_str(" AND addr_key BETWEEN ? AND ?");
            blobs.push(lo.to_vec());
            blobs.push(hi.to_vec());
        }
        // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE does.
        let postgres = self.db.backend() == crate::Backend::Postgres;
        let like_op = if postgres { "ILIKE" } else { "LIKE" };
        if let Some(t) = filter.text.as_deref().filter(|t| !t.is_empty()) {
            sql.push_str(&format!(
                " AND (COALESCE(name, '') || ' ' || COALESCE(mac, '') || ' ' || COALESCE(vendor, '') || ' ' || \
                 COALESCE(os, '') || ' ' || owner || ' ' || location || ' ' || tags || ' ' || notes) {like_op} ? ESCAPE '\\'",
            ));
            texts.push(like(t));
        }
        if let Some(tag) = filter.tag.as_deref().filter(|t| !t.is_empty()) {
            sql.push_str(&format!(
                " AND (',' || tags || ',') {like_op} ? ESCAPE '\\'"
            ));
            texts.push(like(&format!(",{tag},")));
        }
        if let Some(owner) = filter.owner.as_deref().filter(|t| !t.is_empty()) {
            sql.push_str(if postgres {
                " AND lower(owner) = lower(?)"
            } else {
                " AND owner = ? COLLATE NOCASE"
            });
            texts.push(owner.to_owned());
        }
        let mut numbers: Vec<i64> = Vec::new();
        if let Some(port) = filter.port {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM inv_services s WHERE s.address = h.address AND s.port = ? AND s.state = 'open')",
            );
            numbers.push(i64::from(port));
        }
        if let Some(since) = filter.seen_since {
            sql.push_str(" AND last_seen_us >= ?");
            numbers.push(since.as_micros());
        }
        if !filter.include_gone {
            sql.push_str(" AND gone = 0");
        }
        sql.push_str(" ORDER BY addr_key LIMIT ?");
        numbers.push(limit as i64 + 1);
        let mut q = db::query(&sql);
        for b in &blobs {
            q = q.bind(b.as_slice());
        }
        for t in &texts {
            q = q.bind(t.as_str());
        }
        for n in &numbers {
            q = q.bind(*n);
        }
        let rows = q.fetch_all(self.db.read()).await?;
        let mut hosts = Vec::with_capacity(rows.len().min(limit));
        let mut last_key = None;
        for row in rows.iter().take(limit) {
            hosts.push(host_from_row(row)?);
            let key: Vec<u8> = row.get("addr_key")?;
            last_key = <[u8; 16]>::try_from(key.as_slice()).ok();
        }
        let next = if rows.len() > limit {
            last_key.map(HostCursor)
        } else {
            None
        };
        self.attach_services(&mut hosts).await?;
        Ok((hosts, next))
    }

    async fn attach_services(&self, hosts: &mut [HostRecord]) -> Result<(), StoreError> {
        if hosts.is_empty() {
            return Ok(());
        }
        let marks = vec!["?"; hosts.len()].join(", ");
        let sql = format!(
            "SELECT address, port, proto, state, service, version, source, first_seen_us, last_seen_us \
             FROM inv_services WHERE address IN ({marks}) ORDER BY address, proto DESC, port"
        );
        let mut q = db::query(&sql);
        let names: Vec<String> = hosts.iter().map(|h| h.address.to_string()).collect();
        for n in &names {
            q = q.bind(n.as_str());
        }
        let mut by: HashMap<String, Vec<ServiceRecord>> = HashMap::new();
        for row in q.fetch_all(self.db.read()).await? {
            let (address, s) = service_from_row(&row)?;
            by.entry(address).or_default().push(s);
        }
        for (h, name) in hosts.iter_mut().zip(&names) {
            h.services = by.remove(name).unwrap_or_default();
        }
        Ok(())
    }

    /// One host with its services.
    pub async fn host(&self, address: IpAddr) -> Result<Option<HostRecord>, StoreError> {
        let row = db::query(&format!(
            "SELECT {HOST_COLUMNS} FROM inv_hosts WHERE addr_key = ?"
        ))
        .bind(addr_key(address).to_vec())
        .fetch_optional(self.db.read())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut host = [host_from_row(&row)?];
        self.attach_services(&mut host).await?;
        let [host] = host;
        Ok(Some(host))
    }

    /// A host's history, newest first.
    pub async fn host_history(
        &self,
        address: IpAddr,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let rows = db::query(
            "SELECT time_us, actor, field, old, new FROM inv_history WHERE address = ? \
             ORDER BY time_us DESC, id DESC LIMIT ?",
        )
        .bind(address.to_string())
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    time: ts(r.get("time_us")?),
                    actor: r.get("actor")?,
                    field: r.get("field")?,
                    old: r.get("old")?,
                    new: r.get("new")?,
                })
            })
            .collect()
    }

    /// Hosts (not gone) and open services inside a prefix.
    pub async fn prefix_counts(&self, network: IpAddr, len: u8) -> Result<(u64, u64), StoreError> {
        let (lo, hi) = prefix_range(network, len);
        let (hosts,): (i64,) = db::query_as(
            "SELECT COUNT(*) FROM inv_hosts WHERE addr_key BETWEEN ? AND ? AND gone = 0",
        )
        .bind(lo.to_vec())
        .bind(hi.to_vec())
        .fetch_one(self.db.read())
        .await?;
        let (services,): (i64,) = db::query_as(
            "SELECT COUNT(*) FROM inv_services s JOIN inv_hosts h ON h.address = s.address \
             WHERE h.addr_key BETWEEN ? AND ? AND h.gone = 0 AND s.state = 'open'",
        )
        .bind(lo.to_vec())
        .bind(hi.to_vec())
        .fetch_one(self.db.read())
        .await?;
        Ok((hosts.max(0) as u64, services.max(0) as u64))
    }

    /// Applies an analyst's changes to a host, recording each changed field in
    /// its history; the host after, or `None` when there is no such host.
    pub async fn update_host(
        &self,
        address: IpAddr,
        update: &HostUpdate,
        actor: &str,
    ) -> Result<Option<HostRecord>, StoreError> {
        let Some(before) = self.host(address).await? else {
            return Ok(None);
        };
        let now = Timestamp::now();
        let a = address.to_string();
        let flag = |b: bool| if b { "true" } else { "false" }.to_owned();
        let changes: Vec<(&str, Option<String>, String)> = [
            update
                .name
                .as_ref()
                .map(|n| ("name", before.name.clone(), n.clone())),
            update
                .owner
                .as_ref()
                .map(|n| ("owner", Some(before.owner.clone()), n.clone())),
            update
                .location
                .as_ref()
                .map(|n| ("location", Some(before.location.clone()), n.clone())),
            update
                .tags
                .as_ref()
                .map(|t| ("tags", Some(before.tags.join(",")), t.join(","))),
            update
                .notes
                .as_ref()
                .map(|n| ("notes", Some(before.notes.clone()), n.clone())),
            update
                .verified
                .map(|v| ("verified", Some(flag(before.verified)), flag(v))),
            update
                .ignored
                .map(|v| ("ignored", Some(flag(before.ignored)), flag(v))),
        ]
        .into_iter()
        .flatten()
        .filter(|(_, old, new)| old.as_deref() != Some(new.as_str()))
        .collect();
        let mut tx = self.db.begin().await?;
        for (field, old, new) in &changes {
            let sql = format!("UPDATE inv_hosts SET {field} = ?, updated_us = ? WHERE address = ?");
            let q = db::query(&sql);
            let q = match *field {
                "verified" | "ignored" => q.bind(i64::from(new == "true")),
                _ => q.bind(new.as_str()),
            };
            q.bind(now.as_micros()).bind(&a).execute(tx.exec()).await?;
            db::query(
                "INSERT INTO inv_history (address, time_us, actor, field, old, new) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(&a)
            .bind(now.as_micros())
            .bind(actor)
            .bind(*field)
            .bind(old.as_deref())
            .bind(new.as_str())
            .execute(tx.exec())
            .await?;
        }
        tx.commit().await?;
        self.host(address).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = HostCursor(addr_key("192.0.2.7".parse().unwrap()));
        assert_eq!(HostCursor::decode(&c.encode()), Some(c));
        assert_eq!(HostCursor::decode("zz"), None);
        assert_eq!(HostCursor::decode(&"é".repeat(16)), None);
    }

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like("a%b_c"), "%a\\%b\\_c%");
    }
}
