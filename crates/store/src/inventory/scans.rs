//! The scans table: each scan asked for (profile, targets, who), its status
//! as the scanner moves it (queued, running, done, failed), and what it found.

use crate::db::{self, Row};
use nectar_event::Timestamp;
use serde::Serialize;
use uuid::Uuid;

use crate::{Store, StoreError};

/// Where a scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanStatus {
    /// Waiting for the scan before it.
    Queued,
    /// nmap is running.
    Running,
    /// Finished; its results are in the inventory.
    Done,
    /// nmap failed, timed out, or its output did not parse.
    Failed,
}

impl ScanStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Queued => "queued",
            ScanStatus::Running => "running",
            ScanStatus::Done => "done",
            ScanStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> ScanStatus {
        match s {
            "queued" => ScanStatus::Queued,
            "running" => ScanStatus::Running,
            "done" => ScanStatus::Done,
            _ => ScanStatus::Failed,
        }
    }
}

/// One scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanRecord {
    /// Its id.
    pub id: Uuid,
    /// The profile's name (`import` for an imported file).
    pub profile: String,
    /// The targets, as asked.
    pub targets: Vec<String>,
    /// Where it is.
    pub status: ScanStatus,
    /// Who asked.
    pub requested_by: String,
    /// When it was asked for.
    pub created: Timestamp,
    /// When nmap started.
    pub started: Option<Timestamp>,
    /// When it ended.
    pub finished: Option<Timestamp>,
    /// Why it failed.
    pub error: Option<String>,
    /// What it found: hosts up with their ports (nmap's view).
    pub result: Option<serde_json::Value>,
}

fn from_row(row: &Row) -> Result<ScanRecord, StoreError> {
    let id: String = row.get("id")?;
    let targets: String = row.get("targets")?;
    let result: Option<String> = row.get("result")?;
    let ts = |us: Option<i64>| us.and_then(Timestamp::from_micros);
    Ok(ScanRecord {
        id: Uuid::try_parse(&id).map_err(|e| StoreError::CorruptRow {
            id: id.clone(),
            reason: e.to_string(),
        })?,
        profile: row.get("profile")?,
        targets: serde_json::from_str(&targets).unwrap_or_default(),
        status: ScanStatus::parse(&row.get::<String, _>("status")?),
        requested_by: row.get("requested_by")?,
        created: ts(Some(row.get("created_us")?)).unwrap_or_else(Timestamp::now),
        started: ts(row.get("started_us")?),
        finished: ts(row.get("finished_us")?),
        error: row.get("error")?,
        result: result.and_then(|r| serde_json::from_str(&r).ok()),
    })
}

impl Store {
    /// Records a new scan, queued.
    pub async fn create_scan(
        &self,
        profile: &str,
        targets: &[String],
        requested_by: &str,
    ) -> Result<(ScanRecord, Option<crate::Lease>), StoreError> {
        let id = Uuid::now_v7();
        // Held from before the row exists until the scan ends (the caller
        // keeps it): a `serve` starting beside this one on the same database
        // leaves the scan alone (see `fail_unfinished_scans`).
        let held = self.try_lease(&scan_lease(id)).await?;
        db::query(
            "INSERT INTO scans (id, profile, targets, status, requested_by, created_us) VALUES (?, ?, ?, 'queued', ?, ?)",
        )
        .bind(id.to_string())
        .bind(profile)
        .bind(serde_json::to_string(targets).unwrap_or_else(|_| "[]".into()))
        .bind(requested_by)
        .bind(Timestamp::now().as_micros())
        .execute(self.db.write())
        .await?;
        let record = self.scan(id).await?.ok_or_else(|| StoreError::CorruptRow {
            id: id.to_string(),
            reason: "the scan just stored is missing".into(),
        })?;
        Ok((record, held))
    }

    /// Moves a scan on: `running` sets its start, `done`/`failed` its end,
    /// error and result.
    pub async fn set_scan_status(
        &self,
        id: Uuid,
        status: ScanStatus,
        error: Option<&str>,
        result: Option<&serde_json::Value>,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now().as_micros();
        let (started, finished) = match status {
            ScanStatus::Running => (Some(now), None),
            ScanStatus::Done | ScanStatus::Failed => (None, Some(now)),
            ScanStatus::Queued => (None, None),
        };
        db::query(
            "UPDATE scans SET status = ?, started_us = COALESCE(?, started_us), \
             finished_us = COALESCE(?, finished_us), error = COALESCE(?, error), \
             result = COALESCE(?, result) WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(started)
        .bind(finished)
        .bind(error)
        .bind(result.map(|r| r.to_string()))
        .bind(id.to_string())
        .execute(self.db.write())
        .await?;
        Ok(())
    }

    /// One scan.
    pub async fn scan(&self, id: Uuid) -> Result<Option<ScanRecord>, StoreError> {
        // From the writer: a scan just created or moved on is read back at once.
        let row = db::query("SELECT * FROM scans WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(self.db.write())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The latest scans, newest first.
    pub async fn scans(&self, limit: usize) -> Result<Vec<ScanRecord>, StoreError> {
        let rows = db::query("SELECT * FROM scans ORDER BY created_us DESC LIMIT ?")
            .bind(limit.clamp(1, 1000) as i64)
            .fetch_all(self.db.read())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Scans left queued or running by a process that stopped: failed now.
    /// Scans another process still runs (on a shared PostgreSQL database: it
    /// holds their lease, see [`Store::create_scan`]) are left to it.
    pub async fn fail_unfinished_scans(&self) -> Result<u64, StoreError> {
        let ids: Vec<String> =
            db::query_scalar("SELECT id FROM scans WHERE status IN ('queued', 'running')")
                .fetch_all(self.db.write())
                .await?;
        let mut failed = 0;
        for id in ids {
            let Ok(uuid) = Uuid::parse_str(&id) else {
                continue;
            };
            let Some(_orphan) = self.try_lease(&scan_lease(uuid)).await? else {
                continue;
            };
            failed += db::query(
                "UPDATE scans SET status = 'failed', error = 'the server stopped before the scan ended', \
                 finished_us = ? WHERE id = ? AND status IN ('queued', 'running')",
            )
            .bind(Timestamp::now().as_micros())
            .bind(id)
            .execute(self.db.write())
            .await?;
        }
        Ok(failed)
    }
}

/// The lease the process running a scan holds.
fn scan_lease(id: Uuid) -> String {
    format!("scan:{id}")
}
