//! The live detector of `nectar serve`: the packet driver (capture or a
//! replayed file → windows) and the SPOT monitors on a thread of their own,
//! alarms to the event bus, windows to the sinks, a bounded per-statistic
//! history for charts and the API, and the learnt models saved in the data
//! directory and restored at start.
//!
//! The thread owns the source, the driver, the monitors and the sinks; the
//! API sees only a snapshot behind a mutex, updated once per window and
//! every few thousand packets, so a slow HTTP client never slows the packet
//! loop. Stop joins the thread and takes the monitors back, so a restart
//! continues with what was learnt.
//!
//! With `[inventory] networks` and `[devices]`, the same thread feeds every
//! packet to the per-device tracker (`nectar-devices`): its `device.anomaly`
//! and `device.silent` events go to the bus like every producer's, its
//! models are handed to a [`DeviceModelSaver`] every `capture.save_seconds`
//! and at stop, and the saved ones are restored at start.
//!
//! In `nectar sensor` the bus ends in the spool, so a sensor ships these
//! events, not per-device windows: the server then needs no per-sensor packet
//! state or models (a sensor may watch thousands of devices the server never
//! sees), and events are already spooled and delivered exactly once, where
//! windows would need a second, lossless channel of their own. The sensor
//! keeps its device models in its data directory ([`DEVICE_MODELS_FILE`]).
#![forbid(unsafe_code)]

mod devices;
mod run;

pub use devices::{DEVICE_MODELS_FILE, DeviceModelSaver, DevicesSetup, FileDeviceModels};

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use nectar_bus::EventSender;
use nectar_detect::{
    DetectConfig, DetectControl, DetectorStatus, Driver, HistoryPoint, Monitors, StatReport,
    StatStatus, Windower,
};
use nectar_event::Timestamp;
use nectar_event::config::{ConfigError, WithinSection};
use nectar_packet::{FileReader, PacketSource};
use tracing::{info, warn};

use self::run::{Run, Sinks, WindowState};
use crate::config::{CaptureConfig, SinksConfig};
use crate::sinks::SinkStats;
use crate::sinks::influx::InfluxSink;
use crate::sinks::windows_jsonl::WindowsJsonl;

/// File of the saved models in the data directory.
pub const MODELS_FILE: &str = "detect-models.json";

/// What the detector needs to know, and nothing more of the configuration.
#[derive(Debug, Clone)]
pub struct DetectorConfig {
    /// `[capture]`: the source, history length, model saving.
    pub capture: CaptureConfig,
    /// `[detect]`: window width, statistics, SPOT settings.
    pub detect: DetectConfig,
    /// `[sinks]`: the windows file and InfluxDB.
    pub sinks: SinksConfig,
    /// Name of this sensor, on every alarm event and InfluxDB point.
    pub sensor: String,
    /// Where the models are saved ([`MODELS_FILE`]).
    pub data_dir: PathBuf,
    /// `[inventory]`, when passive discovery runs on the captured packets.
    pub inventory: Option<Arc<nectar_inventory::Inventory>>,
    /// Per-device behaviour (needs `inventory` with networks).
    pub devices: Option<DevicesSetup>,
}

/// The detector could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    /// `[detect]` is not valid; the key is the full path (`detect.q`).
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// One window of one statistic, for charts.
#[derive(Debug, Clone, Copy)]
struct Point {
    start_ns: u64,
    value: Option<f64>,
    up: Option<f64>,
    down: Option<f64>,
}

/// What the API reads.
#[derive(Default)]
struct Snapshot {
    running: bool,
    error: Option<String>,
    status: Vec<StatStatus>,
    history: Vec<VecDeque<Point>>,
    packets: u64,
    windows: u64,
    alarms: u64,
    alarms_dropped: u64,
    decode_errors: u64,
    last_window_end_ns: u64,
}

struct Shared {
    snapshot: Mutex<Snapshot>,
    stop: AtomicBool,
}

/// The sinks' counters, kept after a run ends so the status still shows them.
struct SinkHandles {
    influx: Option<Arc<SinkStats>>,
    windows_jsonl: Option<Arc<SinkStats>>,
}

/// What a run hands back: the monitors and the device tracker.
type Learnt = (Monitors, Option<nectar_devices::Tracker>);

/// The live detector: a handle the API and `serve` share.
pub struct Detector {
    cfg: DetectorConfig,
    /// The InfluxDB sink for windows, shared with the alarm consumer.
    influx: Option<Arc<InfluxSink>>,
    shared: Arc<Shared>,
    /// The monitors while stopped (the thread owns them while running).
    monitors: Mutex<Option<Monitors>>,
    /// The device tracker while stopped (the thread owns it while running).
    devices: Mutex<Option<nectar_devices::Tracker>>,
    worker: Mutex<Option<JoinHandle<Learnt>>>,
    bus: Mutex<Option<EventSender>>,
    sinks: Mutex<SinkHandles>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn time(ns: u64) -> Option<String> {
    Timestamp::from_nanos(i128::from(ns)).map(|t| t.to_string())
}

impl Detector {
    /// Builds the detector and restores saved models; does not start it.
    /// Windows go to `influx` when given (`serve` starts it once, with the
    /// consumer that writes the stored alarms to it).
    pub fn new(
        cfg: DetectorConfig,
        bus: EventSender,
        influx: Option<Arc<InfluxSink>>,
    ) -> Result<Detector, DetectorError> {
        let mut monitors = Monitors::new(&cfg.detect).within("detect")?;
        let path = cfg.data_dir.join(MODELS_FILE);
        if path.exists() {
            match Monitors::read_models(&path) {
                Ok(file) if file.window == cfg.detect.window => {
                    for note in monitors.restore(&file, true) {
                        info!(%note, "Detector model.");
                    }
                    info!(path = %path.display(), "Detector models restored.");
                }
                Ok(file) => warn!(
                    saved = %file.window, configured = %cfg.detect.window,
                    "Saved detector models are for another window width; learning afresh."
                ),
                Err(e) => {
                    warn!(path = %path.display(), error = %e, "Saved detector models unreadable; learning afresh.")
                }
            }
        }
        let devices = cfg
            .devices
            .as_ref()
            .and_then(|setup| devices::tracker(setup, cfg.inventory.as_deref(), &cfg.sensor));
        let n = monitors.stats().count();
        let shared = Arc::new(Shared {
            snapshot: Mutex::new(Snapshot {
                status: monitors.status(),
                history: vec![VecDeque::new(); n],
                ..Snapshot::default()
            }),
            stop: AtomicBool::new(false),
        });
        Ok(Detector {
            cfg,
            sinks: Mutex::new(SinkHandles {
                influx: influx.as_ref().map(|i| i.stats().clone()),
                windows_jsonl: None,
            }),
            influx,
            shared,
            monitors: Mutex::new(Some(monitors)),
            devices: Mutex::new(devices),
            worker: Mutex::new(None),
            bus: Mutex::new(Some(bus)),
        })
    }

    fn source_name(&self) -> String {
        let capture = &self.cfg.capture;
        if capture.interface.is_empty() {
            format!("file {}", capture.file.display())
        } else {
            format!("interface {}", capture.interface)
        }
    }

    fn open_source(&self) -> Result<PacketSource, String> {
        let capture = &self.cfg.capture;
        if !capture.interface.is_empty() {
            #[cfg(target_os = "linux")]
            {
                let mut live = nectar_packet::LiveConfig::new(capture.interface.clone());
                live.snaplen = capture.snaplen;
                live.promiscuous = capture.promiscuous;
                // Blocks of 1 MiB (the default size, enough for any snaplen).
                live.block_count = capture.ring_mib.unwrap_or(crate::config::DEFAULT_RING_MIB);
                return nectar_packet::LiveCapture::open(&live)
                    .map(PacketSource::Live)
                    .map_err(|e| format!("capture.interface: {e}"));
            }
            #[cfg(not(target_os = "linux"))]
            return Err("capture.interface: live capture is only supported on Linux".into());
        }
        FileReader::open(&capture.file)
            .map(PacketSource::File)
            .map_err(|e| format!("capture.file {}: {e}", capture.file.display()))
    }

    fn models_path(&self) -> PathBuf {
        self.cfg.data_dir.join(MODELS_FILE)
    }

    /// Stops the capture if it runs, saves the models, and lets go of the
    /// event bus so `serve` can drain it.
    pub fn shutdown(&self) {
        let _ = self.stop();
        lock(&self.bus).take();
    }

    /// Takes back the monitors of a run that ended by itself (end of file,
    /// capture error), so a new run starts from what it learnt.
    fn collect_finished(&self, worker: &mut Option<JoinHandle<Learnt>>) -> Result<(), String> {
        if let Some(thread) = worker.as_ref() {
            if !thread.is_finished() {
                return Err("the detector is already running".into());
            }
            if let Some(thread) = worker.take()
                && let Ok((m, d)) = thread.join()
            {
                *lock(&self.monitors) = Some(m);
                *lock(&self.devices) = d;
            }
        }
        Ok(())
    }

    /// Hands the device models to the saver, if both are there.
    fn save_devices(&self, tracker: Option<&nectar_devices::Tracker>) {
        if let (Some(t), Some(saver)) = (
            tracker,
            self.cfg.devices.as_ref().and_then(|d| d.saver.as_ref()),
        ) {
            devices::save(saver.as_ref(), t);
        }
    }

    /// Opens the configured sinks and remembers their counters.
    fn open_sinks(&self) -> Result<Sinks, String> {
        let sinks = &self.cfg.sinks;
        let influx = self.influx.clone();
        let windows_jsonl = if sinks.windows_jsonl.as_os_str().is_empty() {
            None
        } else {
            Some(WindowsJsonl::open(&sinks.windows_jsonl).map_err(|e| e.to_string())?)
        };
        *lock(&self.sinks) = SinkHandles {
            influx: influx.as_ref().map(|i| i.stats().clone()),
            windows_jsonl: windows_jsonl.as_ref().map(|w| w.stats().clone()),
        };
        Ok(Sinks {
            influx,
            windows_jsonl,
        })
    }
}

fn save_models(path: &std::path::Path, monitors: &Monitors) {
    if let Err(e) = monitors.save_to(path) {
        let error = std::error::Error::source(&e).map_or(e.to_string(), |s| format!("{e}: {s}"));
        warn!(%error, "Cannot save the detector models.");
    }
}

impl DetectControl for Detector {
    fn status(&self) -> DetectorStatus {
        let sinks = lock(&self.sinks);
        let influxdb = sinks.influx.as_ref().map(|s| s.counters());
        let windows_jsonl = sinks.windows_jsonl.as_ref().map(|s| s.counters());
        drop(sinks);
        let s = lock(&self.shared.snapshot);
        let stats = s
            .status
            .iter()
            .zip(&s.history)
            .map(|(status, h)| StatReport {
                status: status.clone(),
                history: h
                    .iter()
                    .map(|p| HistoryPoint {
                        window_start: time(p.start_ns),
                        value: p.value,
                        threshold_up: p.up,
                        threshold_down: p.down,
                    })
                    .collect(),
            })
            .collect();
        DetectorStatus {
            running: s.running,
            source: self.source_name(),
            window: self.cfg.detect.window.to_string(),
            error: s.error.clone(),
            packets: s.packets,
            windows: s.windows,
            alarms: s.alarms,
            alarms_dropped: s.alarms_dropped,
            decode_errors: s.decode_errors,
            influxdb,
            windows_jsonl,
            last_window_end: (s.last_window_end_ns > 0)
                .then(|| time(s.last_window_end_ns))
                .flatten(),
            stats,
        }
    }

    fn start(&self) -> Result<(), String> {
        let mut worker = lock(&self.worker);
        self.collect_finished(&mut worker)?;
        let Some(bus) = lock(&self.bus).clone() else {
            return Err("the server is shutting down".into());
        };
        let source = match self.open_source() {
            Ok(s) => s,
            Err(e) => {
                lock(&self.shared.snapshot).error = Some(e.clone());
                return Err(e);
            }
        };
        let windower =
            Windower::new(&self.cfg.detect.window_config()).map_err(|e| e.to_string())?;
        let sinks = self.open_sinks()?;
        let Some(monitors) = lock(&self.monitors).take() else {
            return Err("the detector's models are missing (a previous run panicked)".into());
        };
        self.shared.stop.store(false, Ordering::SeqCst);
        {
            let mut s = lock(&self.shared.snapshot);
            s.running = true;
            s.error = None;
        }
        let run = Run {
            source,
            driver: Driver::new(windower),
            state: WindowState {
                monitors,
                shared: self.shared.clone(),
                bus,
                sinks,
                sensor: self.cfg.sensor.clone(),
                history: self.cfg.capture.history,
                alarms: Vec::new(),
            },
            observer: self
                .cfg
                .inventory
                .as_ref()
                .map(|inv| nectar_inventory::Observer::new(inv, &self.cfg.sensor))
                .filter(nectar_inventory::Observer::is_active),
            observed: Vec::new(),
            devices: lock(&self.devices).take(),
            device_saver: self.cfg.devices.as_ref().and_then(|d| d.saver.clone()),
            models: self.models_path(),
            save_every: Duration::from_secs(self.cfg.capture.save_seconds),
        };
        let thread = std::thread::Builder::new()
            .name("detector".into())
            .spawn(move || run.run())
            .map_err(|e| format!("cannot start the detector thread: {e}"))?;
        info!(source = %self.source_name(), window = %self.cfg.detect.window, "Detector started.");
        *worker = Some(thread);
        Ok(())
    }

    fn stop(&self) -> Result<(), String> {
        let Some(thread) = lock(&self.worker).take() else {
            return Err("the detector is not running".into());
        };
        // A run that had already ended (end of file, capture error) is
        // stopped all the same: its models are saved and taken back.
        self.shared.stop.store(true, Ordering::SeqCst);
        match thread.join() {
            Ok((m, d)) => {
                save_models(&self.models_path(), &m);
                *lock(&self.monitors) = Some(m);
                self.save_devices(d.as_ref());
                *lock(&self.devices) = d;
            }
            Err(_) => warn!("The detector thread panicked; its models are lost."),
        }
        lock(&self.shared.snapshot).running = false;
        info!("Detector stopped.");
        Ok(())
    }
}
