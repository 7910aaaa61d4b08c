//! The detector's per-device part: building the tracker with its restored
//! models, and handing the models to where they are kept (the store under
//! `serve`, a file of the data directory under `nectar sensor`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nectar_devices::{DevicesConfig, Tracker, tracker::DeviceRecord};
use tracing::{info, warn};

/// File of a sensor's saved device models in its data directory (one JSON
/// model per line).
pub const DEVICE_MODELS_FILE: &str = "device-models.jsonl";

/// Where device models are kept. Called from the detector's thread or a
/// blocking thread (never an async worker): it may block until saved.
pub trait DeviceModelSaver: Send + Sync + std::fmt::Debug {
    /// Saves the devices' records; how many were saved, or why none were.
    fn save(&self, devices: Vec<DeviceRecord>) -> Result<usize, String>;
}

/// Per-device behaviour for the live detector.
#[derive(Debug, Clone)]
pub struct DevicesSetup {
    /// `[devices]`.
    pub config: DevicesConfig,
    /// Saved models to restore at start (JSON texts of `DeviceRecord::model`).
    pub saved: Vec<String>,
    /// Where models are saved every `capture.save_seconds` and at stop.
    pub saver: Option<Arc<dyn DeviceModelSaver>>,
}

/// The tracker for `setup` over the inventory's networks, with the saved
/// models restored; `None` when off or without networks.
pub(super) fn tracker(
    setup: &DevicesSetup,
    inventory: Option<&nectar_inventory::Inventory>,
    sensor: &str,
) -> Option<Tracker> {
    let networks = inventory?.networks.iter().copied().collect();
    let mut t = Tracker::new(
        &setup.config,
        networks,
        sensor,
        nectar_inventory::oui::vendor,
    );
    if !t.is_active() {
        return None;
    }
    let (mut restored, mut refused) = (0usize, 0usize);
    for model in &setup.saved {
        match t.restore(model) {
            Ok(()) => restored += 1,
            Err(e) => {
                refused += 1;
                if refused <= 3 {
                    warn!(error = %e, "A saved device model was not restored; that device learns afresh.");
                }
            }
        }
    }
    if restored + refused > 0 {
        info!(restored, refused, "Device models restored.");
    }
    Some(t)
}

/// Saves the tracker's devices through `saver`, logging a failure.
pub(super) fn save(saver: &dyn DeviceModelSaver, tracker: &Tracker) {
    let records = tracker.export();
    if records.is_empty() {
        return;
    }
    if let Err(error) = saver.save(records) {
        warn!(%error, "Cannot save the device models.");
    }
}

/// Device models in a file of the data directory (a sensor has no store):
/// written whole to a temporary file, then renamed over the old one.
#[derive(Debug, Clone)]
pub struct FileDeviceModels {
    path: PathBuf,
}

/// Largest models file read back (bytes).
const MAX_FILE: u64 = 1 << 30;

impl FileDeviceModels {
    /// The models file of `data_dir`.
    pub fn new(data_dir: &Path) -> FileDeviceModels {
        FileDeviceModels {
            path: data_dir.join(DEVICE_MODELS_FILE),
        }
    }

    /// The saved models (none when the file is missing or unreadable).
    pub fn load(&self) -> Vec<String> {
        let too_big = std::fs::metadata(&self.path).is_ok_and(|m| m.len() > MAX_FILE);
        if too_big {
            warn!(path = %self.path.display(), "The device models file is too large; devices learn afresh.");
            return Vec::new();
        }
        match std::fs::read_to_string(&self.path) {
            Ok(text) => text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned)
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                warn!(path = %self.path.display(), error = %e, "Cannot read the device models; devices learn afresh.");
                Vec::new()
            }
        }
    }
}

impl DeviceModelSaver for FileDeviceModels {
    fn save(&self, devices: Vec<DeviceRecord>) -> Result<usize, String> {
        let tmp = self.path.with_extension("jsonl.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            for d in &devices {
                f.write_all(d.model.as_bytes())?;
                f.write_all(b"\n")?;
            }
            f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| format!("{}: {e}", self.path.display()))?;
        Ok(devices.len())
    }
}
