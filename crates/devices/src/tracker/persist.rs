//! Saving each device's model and restoring it at start, so a restarted
//! `serve` (or sensor) keeps monitoring instead of learning again.
//!
//! The saved form is an explicit, versioned JSON document per device (not
//! the in-memory layout), bounded by construction: fixed-size masses, at most
//! [`KNOWN_DSTS`] + [`KNOWN_PORTS`] keys, [`LEARN_KEEP`] learning rows,
//! [`HISTORY`] windows and three small SPOT models — about 10 KB. Restoring
//! checks every size and number, so a damaged or hand-edited row is refused
//! (the device learns afresh) rather than producing a model that misbehaves.
//! The window accumulators are not saved: the window under way at stop is
//! lost, as a capture gap would lose it.

use std::net::IpAddr;

use nectar_spot::Spot;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    Device, HISTORY, HistoryRow, KNOWN_DSTS, KNOWN_PORTS, LearnBuf, Phase, Tracker, format_mac,
    num, ts,
};
use crate::features::{Feature, N_FEATURES, N_MODELLED};
use crate::model::{FeatureModel, KnownSet, LEARN_KEEP, Masses};

/// Largest saved model accepted (bytes of JSON).
pub const MAX_MODEL_BYTES: usize = 64 * 1024;
const VERSION: u32 = 1;

/// One device as saved: identity and state for lists, the model to restore,
/// the window history for charts.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRecord {
    /// `aa:bb:cc:dd:ee:ff`.
    pub mac: String,
    /// Vendor from the OUI.
    pub vendor: Option<String>,
    /// Last source address.
    pub address: Option<String>,
    /// `learning` or `monitoring`.
    pub phase: &'static str,
    /// Windows learnt.
    pub learnt: u32,
    /// Start of the last window that raised an anomaly (ns; 0: none).
    pub last_anomaly_ns: u64,
    /// The model (JSON, for [`Tracker::restore`] only).
    pub model: String,
    /// The feature history for charts (JSON: `window_seconds`, `features`,
    /// `ranges` (name → [low, high], the learnt range; absent while
    /// learning) and `windows` (`start`, `values` in `features` order,
    /// `anomaly`), oldest first).
    pub history: String,
}

/// Why a saved model was not restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// Not JSON of the expected form.
    #[error("unreadable saved model: {0}")]
    Format(#[from] serde_json::Error),
    /// Larger than [`MAX_MODEL_BYTES`].
    #[error("saved model larger than {MAX_MODEL_BYTES} bytes")]
    TooLarge,
    /// A size or a number is out of range.
    #[error("saved model is not valid: {0}")]
    Invalid(&'static str),
    /// Saved for another window width.
    #[error("saved model is for {saved_ms} ms windows, not {configured_ms} ms")]
    Window {
        /// The saved width.
        saved_ms: u64,
        /// The configured width.
        configured_ms: u64,
    },
    /// The device table is full.
    #[error("no room for more devices ([devices] max_devices)")]
    Full,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedFeature {
    moments: [f32; 3],
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spot: Option<Spot>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedModel {
    version: u32,
    window_ns: u64,
    mac: [u8; 6],
    address: Option<IpAddr>,
    monitoring: bool,
    learnt: u32,
    active_learnt: u32,
    usual_gap: u32,
    gap: u32,
    silent_reported: bool,
    /// Learning rows kept (learning only).
    learn: Vec<Vec<f32>>,
    features: Vec<SavedFeature>,
    reference: Vec<u16>,
    latest: Vec<u16>,
    latest_n: u16,
    scores: [f32; 3],
    dsts: Vec<u32>,
    dsts_overflowed: bool,
    ports: Vec<u32>,
    ports_overflowed: bool,
    dsts_grew: u32,
    ports_grew: u32,
    dsts_stable: bool,
    ports_stable: bool,
    protocols: u16,
    last_anomaly_ns: u64,
    /// `(window start ns, values, anomaly)`, oldest first.
    history: Vec<(u64, Vec<f32>, bool)>,
}

fn invalid(why: &'static str) -> RestoreError {
    RestoreError::Invalid(why)
}

impl Tracker {
    /// Every tracked device as a record to save.
    pub fn export(&self) -> Vec<DeviceRecord> {
        self.devices.iter().map(|d| self.record_of(d)).collect()
    }

    fn record_of(&self, d: &Device) -> DeviceRecord {
        let (reference, latest, latest_n, scores) = d.masses.parts();
        let (dsts, dsts_overflowed) = d.dsts.parts();
        let (ports, ports_overflowed) = d.ports.parts();
        let learn = d
            .learn
            .as_ref()
            .map(|b| {
                // Oldest first, so the ring restarts cleanly.
                let start = if b.len < LEARN_KEEP { 0 } else { b.next };
                (0..b.len)
                    .map(|k| b.rows[(start + k) % LEARN_KEEP].to_vec())
                    .collect()
            })
            .unwrap_or_default();
        let saved = SavedModel {
            version: VERSION,
            window_ns: self.width,
            mac: d.mac,
            address: d.addr,
            monitoring: d.phase == Phase::Monitoring,
            learnt: d.learnt,
            active_learnt: d.active_learnt,
            usual_gap: d.usual_gap,
            gap: d.gap,
            silent_reported: d.silent_reported,
            learn,
            features: d
                .models
                .iter()
                .map(|m| {
                    let (moments, spot) = m.parts();
                    SavedFeature {
                        moments,
                        spot: spot.cloned(),
                    }
                })
                .collect(),
            reference,
            latest,
            latest_n,
            scores,
            dsts: dsts.to_vec(),
            dsts_overflowed,
            ports: ports.to_vec(),
            ports_overflowed,
            dsts_grew: d.dsts_grew,
            ports_grew: d.ports_grew,
            dsts_stable: d.dsts_stable,
            ports_stable: d.ports_stable,
            protocols: d.protocols,
            last_anomaly_ns: d.last_anomaly_ns,
            history: d
                .history()
                .map(|r| (r.start_ns, r.values.to_vec(), r.anomaly))
                .collect(),
        };
        DeviceRecord {
            mac: format_mac(d.mac),
            vendor: d.vendor.map(str::to_owned),
            address: d.addr.map(|a| a.to_string()),
            phase: d.phase.as_str(),
            learnt: d.learnt,
            last_anomaly_ns: d.last_anomaly_ns,
            // Serialising plain numbers and strings cannot fail.
            model: serde_json::to_string(&saved).unwrap_or_default(),
            history: self.history_json(d).to_string(),
        }
    }

    /// The history document of [`DeviceRecord::history`].
    fn history_json(&self, d: &Device) -> Value {
        let ranges = (d.phase == Phase::Monitoring).then(|| {
            let m: serde_json::Map<String, Value> = Feature::ALL
                .iter()
                .take(N_MODELLED)
                .enumerate()
                .map(|(i, f)| {
                    let model = &d.models[i];
                    let j = model.judge(*f, model.typical(*f), self.z_test, self.q_test, true);
                    (f.name().to_owned(), json!([num(j.low), num(j.high)]))
                })
                .collect();
            Value::Object(m)
        });
        let windows: Vec<Value> = d
            .history()
            .map(|r| {
                json!({
                    "start": ts(r.start_ns).to_string(),
                    "values": r.values.iter().map(|v| num(f64::from(*v))).collect::<Vec<_>>(),
                    "anomaly": r.anomaly,
                })
            })
            .collect();
        json!({
            "window_seconds": self.width as f64 / 1e9,
            "features": Feature::ALL.iter().map(|f| f.name()).collect::<Vec<_>>(),
            "ranges": ranges,
            "windows": windows,
        })
    }

    /// Restores one saved device (a model from [`Tracker::export`]). A device
    /// already tracked is replaced. Refuses, naming why, a model of another
    /// window width or one that fails a check; the device then learns afresh.
    pub fn restore(&mut self, model: &str) -> Result<(), RestoreError> {
        if model.len() > MAX_MODEL_BYTES {
            return Err(RestoreError::TooLarge);
        }
        let s: SavedModel = serde_json::from_str(model)?;
        if s.version != VERSION {
            return Err(invalid("unknown version"));
        }
        if s.window_ns != self.width {
            return Err(RestoreError::Window {
                saved_ms: s.window_ns / 1_000_000,
                configured_ms: self.width / 1_000_000,
            });
        }
        let dev = self.device_from(s)?;
        let i = self.slot(dev.mac, true).ok_or(RestoreError::Full)?;
        self.devices[i] = dev;
        Ok(())
    }

    fn device_from(&self, s: SavedModel) -> Result<Device, RestoreError> {
        if s.mac[0] & 1 != 0 || s.mac == [0; 6] {
            return Err(invalid("not a device MAC"));
        }
        let mut d = Device::new(s.mac, (self.vendor)(s.mac));
        d.addr = s.address;
        d.phase = if s.monitoring {
            Phase::Monitoring
        } else {
            Phase::Learning
        };
        if s.usual_gap == 0 || s.active_learnt > s.learnt {
            return Err(invalid("learning counters"));
        }
        d.learnt = s.learnt;
        d.active_learnt = s.active_learnt;
        d.usual_gap = s.usual_gap;
        d.gap = s.gap;
        d.silent_reported = s.silent_reported;
        d.fresh = true;
        if s.monitoring {
            if !s.learn.is_empty() {
                return Err(invalid("learning rows of a monitored device"));
            }
            d.learn = None;
        } else {
            if s.learn.len() > LEARN_KEEP {
                return Err(invalid("too many learning rows"));
            }
            let mut buf = LearnBuf::new();
            for row in &s.learn {
                if row.len() != N_MODELLED || row.iter().any(|v| !v.is_finite()) {
                    return Err(invalid("a learning row"));
                }
                let mut x = [0f64; N_FEATURES];
                for (x, v) in x.iter_mut().zip(row) {
                    *x = f64::from(*v);
                }
                buf.push(&x);
            }
            d.learn = Some(buf);
        }
        if s.features.len() != N_MODELLED {
            return Err(invalid("number of features"));
        }
        for (m, f) in d.models.iter_mut().zip(s.features) {
            *m = FeatureModel::from_parts(f.moments, f.spot)
                .ok_or(invalid("a feature's moments"))?;
        }
        *d.masses = Masses::from_parts(&s.reference, &s.latest, s.latest_n, s.scores)
            .ok_or(invalid("the tree masses"))?;
        d.dsts = KnownSet::<KNOWN_DSTS>::from_parts(&s.dsts, s.dsts_overflowed)
            .ok_or(invalid("known destinations"))?;
        d.ports = KnownSet::<KNOWN_PORTS>::from_parts(&s.ports, s.ports_overflowed)
            .ok_or(invalid("known ports"))?;
        d.dsts_grew = s.dsts_grew;
        d.ports_grew = s.ports_grew;
        d.dsts_stable = s.dsts_stable;
        d.ports_stable = s.ports_stable;
        d.protocols = s.protocols;
        d.last_anomaly_ns = s.last_anomaly_ns;
        if s.history.len() > HISTORY {
            return Err(invalid("history too long"));
        }
        for (start_ns, values, anomaly) in s.history {
            if values.len() != N_FEATURES || values.iter().any(|v| !v.is_finite()) {
                return Err(invalid("a history row"));
            }
            let mut row = HistoryRow {
                start_ns,
                values: [0.0; N_FEATURES],
                anomaly,
            };
            row.values.copy_from_slice(&values);
            d.record(row);
        }
        Ok(d)
    }
}
