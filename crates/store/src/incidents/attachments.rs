//! Incident attachments: contents kept once per SHA-256 (`attachment_blobs`),
//! linked to incidents under the name they were uploaded with, shown with
//! their MD5, SHA-1 and SHA-256. The size bound is the caller's (the web
//! layer refuses larger uploads before reading them whole).

use crate::db::{self, Row, Tx};
use md5::Md5;
use nectar_event::Timestamp;
use serde::Serialize;
use serde_json::json;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{IncidentError, at, history};
use crate::{Store, StoreError};

/// The default bound on one attachment: 20 MiB.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: usize = 20 * 1024 * 1024;

/// An attachment of an incident (without its content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// The name it was uploaded with (attacker-chosen perhaps: escape it).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256, hex: its key.
    pub sha256: String,
    /// SHA-1, hex.
    pub sha1: String,
    /// MD5, hex.
    pub md5: String,
    /// Who added it.
    pub added_by: String,
    /// When.
    pub added: Timestamp,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Deletes contents no incident holds any more.
pub(crate) async fn drop_orphans(tx: &mut Tx) -> Result<(), StoreError> {
    db::query(
        "DELETE FROM attachment_blobs WHERE NOT EXISTS \
         (SELECT 1 FROM incident_attachments a WHERE a.sha256 = attachment_blobs.sha256)",
    )
    .execute(tx.exec())
    .await?;
    Ok(())
}

fn from_row(r: &Row) -> Result<Attachment, StoreError> {
    Ok(Attachment {
        name: r.get("name")?,
        size: r.get::<i64, _>("size")?.max(0) as u64,
        sha256: r.get("sha256")?,
        sha1: r.get("sha1")?,
        md5: r.get("md5")?,
        added_by: r.get("added_by")?,
        added: at(r.get("added_us")?),
    })
}

const COLUMNS: &str = "a.name, b.size, a.sha256, b.sha1, b.md5, a.added_by, a.added_us";

impl Store {
    /// Attaches `content` under `name` as `actor`. The same content attached
    /// again to the same incident keeps its first name.
    pub async fn add_attachment(
        &self,
        id: Uuid,
        name: &str,
        content: &[u8],
        actor: &str,
    ) -> Result<Result<Attachment, IncidentError>, StoreError> {
        let sha256 = hex(&Sha256::digest(content));
        let sha1 = hex(&Sha1::digest(content));
        let md5 = hex(&Md5::digest(content));
        let mut tx = self.db.begin().await?;
        let found: Option<(i32,)> = db::query_as("SELECT 1 FROM incidents WHERE id = ?")
            .bind(id.as_bytes().as_slice())
            .fetch_optional(tx.exec())
            .await?;
        if found.is_none() {
            return Ok(Err(IncidentError::NotFound(id)));
        }
        let now = Timestamp::now();
        db::query(
            "INSERT INTO attachment_blobs (sha256, md5, sha1, size, content) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(&sha256)
        .bind(&md5)
        .bind(&sha1)
        .bind(content.len() as i64)
        .bind(content)
        .execute(tx.exec())
        .await?;
        let linked = db::query(
            "INSERT INTO incident_attachments (incident_id, sha256, name, added_us, added_by) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(id.as_bytes().as_slice())
        .bind(&sha256)
        .bind(name)
        .bind(now.as_micros())
        .bind(actor)
        .execute(tx.exec())
        .await?;
        if linked > 0 {
            history::record(
                &mut tx,
                id,
                now,
                actor,
                "attachment_added",
                &json!({"attachment": [null, name], "sha256": [null, sha256], "size": [null, content.len()]}),
            )
            .await?;
        }
        let row = db::query(&format!(
            "SELECT {COLUMNS} FROM incident_attachments a JOIN attachment_blobs b \
             ON b.sha256 = a.sha256 WHERE a.incident_id = ? AND a.sha256 = ?"
        ))
        .bind(id.as_bytes().as_slice())
        .bind(&sha256)
        .fetch_one(tx.exec())
        .await?;
        let attachment = from_row(&row)?;
        tx.commit().await?;
        Ok(Ok(attachment))
    }

    /// An incident's attachments, oldest first.
    pub async fn incident_attachments(&self, id: Uuid) -> Result<Vec<Attachment>, StoreError> {
        let rows = db::query(&format!(
            "SELECT {COLUMNS} FROM incident_attachments a JOIN attachment_blobs b \
             ON b.sha256 = a.sha256 WHERE a.incident_id = ? ORDER BY a.added_us LIMIT 1000"
        ))
        .bind(id.as_bytes().as_slice())
        .fetch_all(self.db.read())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// One attachment of an incident with its content.
    pub async fn attachment_content(
        &self,
        id: Uuid,
        sha256: &str,
    ) -> Result<Option<(Attachment, Vec<u8>)>, StoreError> {
        let row = db::query(&format!(
            "SELECT {COLUMNS}, b.content FROM incident_attachments a JOIN attachment_blobs b \
             ON b.sha256 = a.sha256 WHERE a.incident_id = ? AND a.sha256 = ?"
        ))
        .bind(id.as_bytes().as_slice())
        .bind(sha256)
        .fetch_optional(self.db.read())
        .await?;
        row.map(|r| Ok((from_row(&r)?, r.get::<Vec<u8>, _>("content")?)))
            .transpose()
    }
}
