//! Per-device behaviour (#21; migration 0016): each device's saved model
//! (restored when the live detector starts, so a restart does not learn
//! again) and what the Devices view and `/api/v1/devices` show of it: vendor,
//! addresses, learning or monitoring, last anomaly, and the feature history.
//!
//! The store keeps the model and history as the JSON text nectar-devices
//! made of them (bounded by it), and refuses larger ones.

use nectar_event::Timestamp;

use crate::db::{self, Row};
use crate::{Store, StoreError};

/// Largest model or history text stored (bytes).
pub const MAX_DEVICE_TEXT: usize = 64 * 1024;

/// One device's saved model, as the detector writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceModelRow {
    /// `aa:bb:cc:dd:ee:ff` (lower case).
    pub mac: String,
    /// The sensor whose detector learnt it.
    pub sensor: String,
    /// Vendor from the OUI.
    pub vendor: Option<String>,
    /// Last source address.
    pub address: Option<String>,
    /// `learning` or `monitoring`.
    pub phase: String,
    /// Windows learnt.
    pub learnt: u64,
    /// Start of the last anomalous window.
    pub last_anomaly: Option<Timestamp>,
    /// When it was saved.
    pub updated: Timestamp,
    /// The model (JSON of nectar-devices; empty in lists).
    pub model: String,
    /// The feature history (JSON of nectar-devices; empty in lists).
    pub history: String,
}

impl Store {
    /// Saves (inserts or replaces) device models, in one transaction. Rows
    /// whose model or history is larger than [`MAX_DEVICE_TEXT`] are skipped;
    /// returns how many were saved.
    pub async fn save_device_models(&self, rows: &[DeviceModelRow]) -> Result<usize, StoreError> {
        let mut saved = 0;
        let mut tx = self.db.begin().await?;
        for r in rows {
            if r.model.len() > MAX_DEVICE_TEXT || r.history.len() > MAX_DEVICE_TEXT {
                continue;
            }
            db::query(
                "INSERT INTO device_models (mac, sensor, vendor, address, phase, learnt,
                    last_anomaly_us, updated_us, model, history)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (mac) DO UPDATE SET sensor = excluded.sensor,
                    vendor = excluded.vendor, address = excluded.address,
                    phase = excluded.phase, learnt = excluded.learnt,
                    last_anomaly_us = excluded.last_anomaly_us,
                    updated_us = excluded.updated_us, model = excluded.model,
                    history = excluded.history",
            )
            .bind(r.mac.as_str())
            .bind(r.sensor.as_str())
            .bind(r.vendor.as_deref())
            .bind(r.address.as_deref())
            .bind(r.phase.as_str())
            .bind(i64::try_from(r.learnt).unwrap_or(i64::MAX))
            .bind(r.last_anomaly.map(|t| t.as_micros()))
            .bind(r.updated.as_micros())
            .bind(r.model.as_str())
            .bind(r.history.as_str())
            .execute(tx.exec())
            .await?;
            saved += 1;
        }
        tx.commit().await?;
        Ok(saved)
    }

    /// Every saved device with its model (for restoring), learnt by `sensor`.
    pub async fn device_models(&self, sensor: &str) -> Result<Vec<DeviceModelRow>, StoreError> {
        let rows = db::query(&format!("{SELECT_FULL} WHERE sensor = $1 ORDER BY mac"))
            .bind(sensor)
            .fetch_all(self.db.read())
            .await?;
        rows.iter().map(row_of).collect()
    }

    /// Saved devices by MAC, without model and history, at most `limit`
    /// from `after` (a MAC; exclusive) on.
    pub async fn list_devices(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DeviceModelRow>, StoreError> {
        let rows = db::query(&format!(
            "{SELECT_LIST} WHERE mac > $1 ORDER BY mac LIMIT {}",
            limit.min(10_000)
        ))
        .bind(after.unwrap_or(""))
        .fetch_all(self.db.read())
        .await?;
        rows.iter().map(row_of).collect()
    }

    /// One device with its history (not its model).
    pub async fn device(&self, mac: &str) -> Result<Option<DeviceModelRow>, StoreError> {
        let row = db::query(&format!("{SELECT_HISTORY} WHERE mac = $1"))
            .bind(mac)
            .fetch_optional(self.db.read())
            .await?;
        row.as_ref().map(row_of).transpose()
    }

    /// The saved devices at `address` (the host page's link), by MAC.
    pub async fn devices_at(&self, address: &str) -> Result<Vec<DeviceModelRow>, StoreError> {
        let rows = db::query(&format!(
            "{SELECT_LIST} WHERE address = $1 ORDER BY mac LIMIT 16"
        ))
        .bind(address)
        .fetch_all(self.db.read())
        .await?;
        rows.iter().map(row_of).collect()
    }
}

const SELECT_LIST: &str = "SELECT mac, sensor, vendor, address, phase, learnt, last_anomaly_us, updated_us, '' AS model, '' AS history FROM device_models";
const SELECT_HISTORY: &str = "SELECT mac, sensor, vendor, address, phase, learnt, last_anomaly_us, updated_us, '' AS model, history FROM device_models";
const SELECT_FULL: &str = "SELECT mac, sensor, vendor, address, phase, learnt, last_anomaly_us, updated_us, model, history FROM device_models";

fn row_of(row: &Row) -> Result<DeviceModelRow, StoreError> {
    let ts = |us: i64| Timestamp::from_micros(us).unwrap_or_else(Timestamp::now);
    Ok(DeviceModelRow {
        mac: row.get("mac")?,
        sensor: row.get("sensor")?,
        vendor: row.get("vendor")?,
        address: row.get("address")?,
        phase: row.get("phase")?,
        learnt: row.get::<i64, _>("learnt")?.max(0) as u64,
        last_anomaly: row.get::<Option<i64>, _>("last_anomaly_us")?.map(ts),
        updated: ts(row.get("updated_us")?),
        model: row.get("model")?,
        history: row.get("history")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(mac: &str, phase: &str, model: &str) -> DeviceModelRow {
        DeviceModelRow {
            mac: mac.into(),
            sensor: "s1".into(),
            vendor: Some("Vendor".into()),
            address: Some("192.0.2.10".into()),
            phase: phase.into(),
            learnt: 12,
            last_anomaly: Timestamp::from_micros(1_800_000_000_000_000),
            updated: Timestamp::now(),
            model: model.into(),
            history: "{\"windows\":[]}".into(),
        }
    }

    crate::on_both_backends! {
        #[tokio::test]
        async fn device_models_are_saved_replaced_listed_and_bounded(db, dir) {
            let _ = &dir;
            let store = Store::open(&db.config).await.unwrap();
            let a = row("00:0e:58:00:00:01", "learning", "{\"v\":1}");
            let b = row("18:b4:30:00:00:02", "monitoring", "{\"v\":2}");
            let mut huge = row("18:b4:30:00:00:03", "monitoring", "");
            huge.model = "x".repeat(MAX_DEVICE_TEXT + 1);
            assert_eq!(store.save_device_models(&[a.clone(), b.clone(), huge]).await.unwrap(), 2);
            // A later save replaces.
            let a2 = row("00:0e:58:00:00:01", "monitoring", "{\"v\":3}");
            store.save_device_models(std::slice::from_ref(&a2)).await.unwrap();
            let all = store.device_models("s1").await.unwrap();
            assert_eq!(all.len(), 2);
            assert_eq!(all[0].phase, "monitoring");
            assert_eq!(all[0].model, "{\"v\":3}");
            assert_eq!(all[0].last_anomaly, a2.last_anomaly);
            assert!(store.device_models("other").await.unwrap().is_empty());
            let list = store.list_devices(None, 10).await.unwrap();
            assert_eq!(list.len(), 2);
            assert!(list[0].model.is_empty() && list[0].history.is_empty());
            let page = store.list_devices(Some("00:0e:58:00:00:01"), 10).await.unwrap();
            assert_eq!(page.len(), 1);
            assert_eq!(page[0].mac, b.mac);
            let one = store.device(&b.mac).await.unwrap().unwrap();
            assert_eq!(one.history, b.history);
            assert!(one.model.is_empty());
            assert!(store.device("aa:aa:aa:aa:aa:aa").await.unwrap().is_none());
            assert_eq!(store.devices_at("192.0.2.10").await.unwrap().len(), 2);
        }
    }
}
