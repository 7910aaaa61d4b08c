//! Silences: rule and/or CIDR and/or field matchers, an expiry and a reason,
//! recorded with who made them. Matches a silence covers are counted (on the
//! alert and on the silence) but never raise an alert or notify anyone. The
//! rules stage decides coverage (`nectar_rules::silence`); the store keeps them.

use crate::db::{self, Row};
use nectar_event::Timestamp;
use uuid::Uuid;

use crate::{Store, StoreError};

/// A field a silence requires to have a value (case-insensitive, exact).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMatcher {
    /// The field, as Sigma rules name it (`username`, `data.url`, `src_ip`).
    pub field: String,
    /// The value it must have.
    pub value: String,
}

/// One silence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Silence {
    /// Its id.
    pub id: Uuid,
    /// Only matches of this rule (any rule when empty).
    pub rule_id: Option<String>,
    /// Only events from sources in this network (`203.0.113.0/24`).
    pub cidr: Option<String>,
    /// Only events with these field values.
    pub matchers: Vec<FieldMatcher>,
    /// Why.
    pub reason: String,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created: Timestamp,
    /// Until when it holds.
    pub expires: Timestamp,
    /// Matches it held back.
    pub hits: u64,
    /// Who changed it last, if anyone.
    pub updated_by: Option<String>,
    /// When.
    pub updated: Option<Timestamp>,
}

/// A silence to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSilence {
    /// Only this rule.
    pub rule_id: Option<String>,
    /// Only this network (already validated).
    pub cidr: Option<String>,
    /// Only these field values.
    pub matchers: Vec<FieldMatcher>,
    /// Why (required).
    pub reason: String,
    /// Until when.
    pub expires: Timestamp,
}

/// The columns [`silence_of`] reads.
const COLUMNS: &str = "id, rule_id, cidr, matchers, reason, created_by, created_us, expires_us, \
                       hits, updated_by, updated_us";

fn silence_of(row: &Row) -> Result<Silence, StoreError> {
    let id: Vec<u8> = row.get("id")?;
    let matchers: String = row.get("matchers")?;
    let created: i64 = row.get("created_us")?;
    let expires: i64 = row.get("expires_us")?;
    let hits: i64 = row.get("hits")?;
    let updated: Option<i64> = row.get("updated_us")?;
    Ok(Silence {
        id: Uuid::from_slice(&id).unwrap_or_default(),
        rule_id: row.get("rule_id")?,
        cidr: row.get("cidr")?,
        matchers: serde_json::from_str(&matchers).unwrap_or_default(),
        reason: row.get("reason")?,
        created_by: row.get("created_by")?,
        created: Timestamp::from_micros(created).unwrap_or(Timestamp::EPOCH),
        expires: Timestamp::from_micros(expires).unwrap_or(Timestamp::EPOCH),
        hits: hits.max(0) as u64,
        updated_by: row.get("updated_by")?,
        updated: updated.and_then(Timestamp::from_micros),
    })
}

impl Store {
    /// Makes a silence as `actor`.
    pub async fn create_silence(
        &self,
        silence: &NewSilence,
        actor: &str,
    ) -> Result<Silence, StoreError> {
        let id = Uuid::now_v7();
        let now = Timestamp::now();
        let matchers = serde_json::to_string(&silence.matchers).unwrap_or_else(|_| "[]".into());
        db::query(
            "INSERT INTO silences (id, rule_id, cidr, matchers, reason, created_by, created_us, \
             expires_us, hits) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
        )
        .bind(id.as_bytes().as_slice())
        .bind(&silence.rule_id)
        .bind(&silence.cidr)
        .bind(&matchers)
        .bind(&silence.reason)
        .bind(actor)
        .bind(now.as_micros())
        .bind(silence.expires.as_micros())
        .execute(self.db.write())
        .await?;
        Ok(Silence {
            id,
            rule_id: silence.rule_id.clone(),
            cidr: silence.cidr.clone(),
            matchers: silence.matchers.clone(),
            reason: silence.reason.clone(),
            created_by: actor.to_owned(),
            created: now,
            expires: silence.expires,
            hits: 0,
            updated_by: None,
            updated: None,
        })
    }

    /// Replaces what silence `id` holds back, its reason and expiry, as
    /// `actor` (who made it and its count stay); `None` if there is none.
    pub async fn update_silence(
        &self,
        id: Uuid,
        silence: &NewSilence,
        actor: &str,
    ) -> Result<Option<Silence>, StoreError> {
        let matchers = serde_json::to_string(&silence.matchers).unwrap_or_else(|_| "[]".into());
        let done = db::query(
            "UPDATE silences SET rule_id = ?, cidr = ?, matchers = ?, reason = ?, expires_us = ?, \
             updated_by = ?, updated_us = ? WHERE id = ?",
        )
        .bind(&silence.rule_id)
        .bind(&silence.cidr)
        .bind(&matchers)
        .bind(&silence.reason)
        .bind(silence.expires.as_micros())
        .bind(actor)
        .bind(Timestamp::now().as_micros())
        .bind(id.as_bytes().as_slice())
        .execute(self.db.write())
        .await?;
        if done == 0 {
            return Ok(None);
        }
        self.silence(id).await
    }

    /// One silence.
    pub async fn silence(&self, id: Uuid) -> Result<Option<Silence>, StoreError> {
        let row = db::query(&format!("SELECT {COLUMNS} FROM silences WHERE id = ?"))
            .bind(id.as_bytes().as_slice())
            .fetch_optional(self.db.write())
            .await?;
        row.as_ref().map(silence_of).transpose()
    }

    /// Ends a silence now (kept for the record); false if there is none.
    pub async fn expire_silence(&self, id: Uuid) -> Result<bool, StoreError> {
        let now = Timestamp::now().as_micros();
        let done = db::query("UPDATE silences SET expires_us = MIN(expires_us, ?) WHERE id = ?")
            .bind(now)
            .bind(id.as_bytes().as_slice())
            .execute(self.db.write())
            .await?;
        Ok(done > 0)
    }

    /// Deletes a silence; false if there is none.
    pub async fn delete_silence(&self, id: Uuid) -> Result<bool, StoreError> {
        let done = db::query("DELETE FROM silences WHERE id = ?")
            .bind(id.as_bytes().as_slice())
            .execute(self.db.write())
            .await?;
        Ok(done > 0)
    }

    /// Silences, newest first: only those in force at `active_at` when given.
    pub async fn silences(
        &self,
        active_at: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<Silence>, StoreError> {
        let rows = db::query(&format!(
            "SELECT {COLUMNS} FROM silences WHERE expires_us > ? ORDER BY created_us DESC LIMIT ?"
        ))
        .bind(active_at.map_or(i64::MIN, Timestamp::as_micros))
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(self.db.read())
        .await?;
        rows.iter().map(silence_of).collect()
    }

    /// Matches per rule, and when the last was (the Rules page).
    pub async fn rule_hits(&self) -> Result<Vec<(String, u64, Timestamp)>, StoreError> {
        let rows: Vec<(String, i64, i64)> =
            db::query_as("SELECT rule_id, hits, last_us FROM rule_hits")
                .fetch_all(self.db.read())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(r, h, l)| {
                (
                    r,
                    h.max(0) as u64,
                    Timestamp::from_micros(l).unwrap_or(Timestamp::EPOCH),
                )
            })
            .collect())
    }
}
