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
use nectar_pipeline::{Detector, DetectorConfig};
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

/// The running detector, or `None` without `[capture]`; its windows go to
/// `influx` when given.
pub fn start(
    config: &Config,
    bus: &EventSender,
    influx: Option<Arc<InfluxSink>>,
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
    };
    let d = Arc::new(Detector::new(cfg, bus.clone(), influx)?);
    if config.capture.start
        && let Err(e) = d.start()
    {
        warn!(error = %e, "Live detection is not running; fix it and POST /api/v1/detect/start.");
    }
    Ok(Some(d))
}
