//! `serve`'s part of live detection: the InfluxDB sink (shared by the
//! detector's windows and the consumer of stored alarms), and the detector of
//! `nectar-pipeline`, built when `[capture]` names a source and started when
//! `capture.start` is set. A capture that cannot start (no CAP_NET_RAW, no
//! such interface) is logged and shown by the API; the rest of Nectar runs on.

use std::sync::Arc;

use anyhow::Context;
use nectar_bus::EventSender;
use nectar_detect::DetectControl;
use nectar_pipeline::sinks::influx::InfluxSink;
use nectar_pipeline::{Detector, DetectorConfig, DeviceModelSaver, DevicesSetup, FileDeviceModels};
use tracing::warn;

use crate::config::Config;

/// The InfluxDB sink when `[sinks.influxdb]` is enabled, its writer on the
/// current runtime. Close it from a blocking thread at the end.
pub fn influx(config: &Config) -> anyhow::Result<Option<Arc<InfluxSink>>> {
    if !config.sinks.influxdb.enabled {
        return Ok(None);
    }
    let runtime = tokio::runtime::Handle::try_current().context("no async runtime")?;
    let sink = InfluxSink::start(&config.sinks.influxdb, &config.sensor_name, &runtime)?;
    Ok(Some(Arc::new(sink)))
}

/// Device models in the store (`serve`): saved from the detector's thread
/// or a blocking thread, which wait on the runtime for the transaction.
#[derive(Debug)]
pub struct StoreDeviceModels {
    store: nectar_store::Store,
    sensor: String,
    runtime: tokio::runtime::Handle,
}

impl StoreDeviceModels {
    /// Saves into `store` on `runtime`, as learnt by `sensor`.
    pub fn new(store: nectar_store::Store, sensor: &str) -> anyhow::Result<StoreDeviceModels> {
        Ok(StoreDeviceModels {
            store,
            sensor: sensor.to_owned(),
            runtime: tokio::runtime::Handle::try_current().context("no async runtime")?,
        })
    }
}

impl DeviceModelSaver for StoreDeviceModels {
    fn save(&self, devices: Vec<nectar_devices::tracker::DeviceRecord>) -> Result<usize, String> {
        let now = nectar_event::Timestamp::now();
        let rows: Vec<nectar_store::DeviceModelRow> = devices
            .into_iter()
            .map(|d| nectar_store::DeviceModelRow {
                mac: d.mac,
                sensor: self.sensor.clone(),
                vendor: d.vendor,
                address: d.address,
                phase: d.phase.to_owned(),
                learnt: u64::from(d.learnt),
                last_anomaly: (d.last_anomaly_ns > 0)
                    .then(|| nectar_event::Timestamp::from_nanos(i128::from(d.last_anomaly_ns)))
                    .flatten(),
                updated: now,
                model: d.model,
                history: d.history,
            })
            .collect();
        let store = self.store.clone();
        self.runtime
            .block_on(async move { store.save_device_models(&rows).await })
            .map_err(|e| e.to_string())
    }
}

/// Where device models are kept and what was saved: the store under
/// `serve`, a file of the data directory under `nectar sensor`.
pub async fn devices_setup(
    config: &Config,
    store: Option<&nectar_store::Store>,
) -> anyhow::Result<Option<DevicesSetup>> {
    let devices = config
        .devices
        .build()
        .map_err(|e| crate::exit::usage(e.within("devices").to_string()))?;
    if !devices.enabled || config.inventory.networks.is_empty() {
        return Ok(None);
    }
    let (saved, saver): (Vec<String>, Arc<dyn DeviceModelSaver>) = match store {
        Some(store) => {
            let saved = match store.device_models(&config.sensor_name).await {
                Ok(rows) => rows.into_iter().map(|r| r.model).collect(),
                Err(e) => {
                    warn!(error = %e, "Cannot read the saved device models; devices learn afresh.");
                    Vec::new()
                }
            };
            let saver = StoreDeviceModels::new(store.clone(), &config.sensor_name)?;
            (saved, Arc::new(saver))
        }
        None => {
            let file = FileDeviceModels::new(&config.data_dir);
            (file.load(), Arc::new(file))
        }
    };
    Ok(Some(DevicesSetup {
        config: devices,
        saved,
        saver: Some(saver),
    }))
}

/// The running detector, or `None` without `[capture]`; its windows go to
/// `influx` when given; per-device behaviour runs with `devices`.
pub fn start(
    config: &Config,
    bus: &EventSender,
    influx: Option<Arc<InfluxSink>>,
    devices: Option<DevicesSetup>,
) -> anyhow::Result<Option<Arc<Detector>>> {
    if !config.capture.enabled() {
        return Ok(None);
    }
    let cfg = DetectorConfig {
        capture: config.capture.clone(),
        detect: config.detect.clone(),
        sinks: config.sinks.clone(),
        sensor: config.sensor_name.clone(),
        data_dir: config.data_dir.clone(),
        inventory: Some(Arc::new(
            config
                .inventory
                .build()
                .map_err(|e| crate::exit::usage(e.within("inventory").to_string()))?,
        )),
        devices,
    };
    let d = Arc::new(Detector::new(cfg, bus.clone(), influx)?);
    if config.capture.start
        && let Err(e) = d.start()
    {
        warn!(error = %e, "Live detection is not running; fix it and POST /api/v1/detect/start.");
    }
    Ok(Some(d))
}
