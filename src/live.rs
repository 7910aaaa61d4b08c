//! Live detection in `nectar serve`: the capture → windows → SPOT pipeline
//! on its own thread, feeding alarms to the event bus and windows to the
//! sinks, with a bounded per-statistic history for charts and the API, and
//! the learnt models saved in the data directory and restored at start.
//!
//! The pipeline thread owns the source, the windower and the monitors; the
//! API sees only a snapshot behind a mutex, updated once per window, so a
//! slow HTTP client never slows the packet loop. Start and stop are
//! idempotent-safe: stop joins the thread and gets the monitors back, so a
//! restart continues with what was learnt.

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nectar_bus::EventSender;
use nectar_detect::{Counter, DetectConfig, Monitors, StatStatus, WindowReport, Windower};
use nectar_packet::{DecodeErrors, FileReader, PacketSource};
use serde_json::{Value, json};
use tracing::{info, warn};

use crate::config::Config;
use crate::detect_cfg::CaptureConfig;
use crate::influx::InfluxSink;

/// File of the saved models in the data directory.
pub const MODELS_FILE: &str = "detect-models.json";

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

struct Worker {
    thread: JoinHandle<Monitors>,
}

/// The live detector: a handle the API and `serve` share.
pub struct LiveDetector {
    capture: CaptureConfig,
    detect: DetectConfig,
    config: Config,
    shared: Arc<Shared>,
    /// The monitors while stopped (the thread owns them while running).
    monitors: Mutex<Option<Monitors>>,
    worker: Mutex<Option<Worker>>,
    bus: Mutex<Option<EventSender>>,
    influx: Mutex<Option<Arc<crate::influx::InfluxStats>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl LiveDetector {
    /// Builds the detector and restores saved models; does not start it.
    pub fn new(config: &Config, bus: EventSender) -> anyhow::Result<LiveDetector> {
        let detect = config.detect.clone();
        let mut monitors =
            Monitors::new(&detect).map_err(|e| anyhow::anyhow!("{}", e.within("detect")))?;
        let path = config.data_dir.join(MODELS_FILE);
        if let Ok(text) = std::fs::read_to_string(&path) {
            match Monitors::parse_models(&text) {
                Ok(file) if file.window == detect.window => {
                    for note in monitors.restore(&file, true) {
                        info!(%note, "Detector model.");
                    }
                    info!(path = %path.display(), "Detector models restored.");
                }
                Ok(file) => warn!(
                    saved = %file.window, configured = %detect.window,
                    "Saved detector models are for another window width; learning afresh."
                ),
                Err(e) => {
                    warn!(path = %path.display(), error = %e, "Saved detector models unreadable; learning afresh.")
                }
            }
        }
        let n = monitors.stats().count();
        let shared = Arc::new(Shared {
            snapshot: Mutex::new(Snapshot {
                status: monitors.status(),
                history: vec![VecDeque::new(); n],
                ..Snapshot::default()
            }),
            stop: AtomicBool::new(false),
        });
        Ok(LiveDetector {
            capture: config.capture.clone(),
            detect,
            config: config.clone(),
            shared,
            monitors: Mutex::new(Some(monitors)),
            worker: Mutex::new(None),
            bus: Mutex::new(Some(bus)),
            influx: Mutex::new(None),
        })
    }

    fn source_name(&self) -> String {
        if self.capture.interface.is_empty() {
            format!("file {}", self.capture.file.display())
        } else {
            format!("interface {}", self.capture.interface)
        }
    }

    fn open_source(&self) -> Result<PacketSource, String> {
        if !self.capture.interface.is_empty() {
            #[cfg(target_os = "linux")]
            {
                let mut cfg = nectar_packet::LiveConfig::new(self.capture.interface.clone());
                cfg.snaplen = self.capture.snaplen;
                cfg.promiscuous = self.capture.promiscuous;
                return nectar_packet::LiveCapture::open(&cfg)
                    .map(PacketSource::Live)
                    .map_err(|e| format!("capture.interface: {e}"));
            }
            #[cfg(not(target_os = "linux"))]
            return Err("capture.interface: live capture is only supported on Linux".into());
        }
        FileReader::open(&self.capture.file)
            .map(PacketSource::File)
            .map_err(|e| format!("capture.file {}: {e}", self.capture.file.display()))
    }

    /// Saves the models (when stopped) to the data directory.
    fn save(&self, monitors: &Monitors) {
        save_models(&self.config.data_dir.join(MODELS_FILE), monitors);
    }

    /// Stops the pipeline if running, saves the models, and lets go of the
    /// event bus so `serve` can drain it.
    pub fn shutdown(&self) {
        let _ = nectar_web::detect::DetectControl::stop(self);
        lock(&self.bus).take();
    }
}

fn save_models(path: &std::path::Path, monitors: &Monitors) {
    if let Err(e) = crate::analyze::save_models(path, monitors) {
        warn!(error = %format!("{e:#}"), "Cannot save the detector models.");
    }
}

impl nectar_web::detect::DetectControl for LiveDetector {
    fn status(&self) -> Value {
        let influx = lock(&self.influx).as_ref().map(|i| {
            json!({
                "written": i.written.load(Ordering::Relaxed),
                "dropped": i.dropped.load(Ordering::Relaxed),
                "errors": i.errors.load(Ordering::Relaxed),
            })
        });
        let s = lock(&self.shared.snapshot);
        let stats: Vec<Value> = s
            .status
            .iter()
            .zip(&s.history)
            .map(|(st, h)| {
                let mut v = serde_json::to_value(st).unwrap_or(Value::Null);
                let history: Vec<Value> = h
                    .iter()
                    .map(|p| {
                        json!({
                            "window_start": nectar_event::Timestamp::from_nanos(i128::from(p.start_ns))
                                .map(|t| t.to_string()),
                            "value": p.value, "threshold_up": p.up, "threshold_down": p.down,
                        })
                    })
                    .collect();
                if let Value::Object(o) = &mut v {
                    o.insert("history".into(), Value::Array(history));
                }
                v
            })
            .collect();
        json!({
            "running": s.running,
            "source": self.source_name(),
            "window": self.detect.window.to_string(),
            "error": s.error,
            "packets": s.packets,
            "windows": s.windows,
            "alarms": s.alarms,
            "alarms_dropped": s.alarms_dropped,
            "decode_errors": s.decode_errors,
            "influxdb": influx,
            "last_window_end": (s.last_window_end_ns > 0)
                .then(|| nectar_event::Timestamp::from_nanos(i128::from(s.last_window_end_ns)).map(|t| t.to_string())),
            "stats": stats,
        })
    }

    fn start(&self) -> Result<(), String> {
        let mut worker = lock(&self.worker);
        if let Some(w) = worker.as_ref() {
            if !w.thread.is_finished() {
                return Err("the detector is already running".into());
            }
            // A file that was read to its end, or a failed capture: collect it.
            if let Some(w) = worker.take()
                && let Ok(m) = w.thread.join()
            {
                *lock(&self.monitors) = Some(m);
            }
        }
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
        let Some(monitors) = lock(&self.monitors).take() else {
            return Err("the detector's models are missing (a previous run panicked)".into());
        };
        let windower = Windower::new(&self.detect.window_config()).map_err(|e| e.to_string())?;
        let influx = if self.config.sinks.influxdb.enabled {
            Some(
                InfluxSink::start(&self.config.sinks.influxdb, &self.config.sensor_name)
                    .map_err(|e| format!("sinks.influxdb: {e:#}"))?,
            )
        } else {
            None
        };
        *lock(&self.influx) = influx.as_ref().map(|i| i.stats().clone());
        let jsonl = if self.config.sinks.windows_jsonl.as_os_str().is_empty() {
            None
        } else {
            let path = &self.config.sinks.windows_jsonl;
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("sinks.windows_jsonl {}: {e}", path.display()))?;
            Some(std::io::BufWriter::new(f))
        };
        self.shared.stop.store(false, Ordering::SeqCst);
        {
            let mut s = lock(&self.shared.snapshot);
            s.running = true;
            s.error = None;
        }
        let pipeline = Pipeline {
            source,
            windower,
            monitors,
            shared: self.shared.clone(),
            bus,
            influx,
            jsonl,
            sensor: self.config.sensor_name.clone(),
            history: self.capture.history,
            models: self.config.data_dir.join(MODELS_FILE),
            save_every: Duration::from_secs(self.capture.save_seconds),
        };
        let thread = std::thread::Builder::new()
            .name("detector".into())
            .spawn(move || pipeline.run())
            .map_err(|e| format!("cannot start the detector thread: {e}"))?;
        info!(source = %self.source_name(), window = %self.detect.window, "Detector started.");
        *worker = Some(Worker { thread });
        Ok(())
    }

    fn stop(&self) -> Result<(), String> {
        let Some(w) = lock(&self.worker).take() else {
            return Err("the detector is not running".into());
        };
        self.shared.stop.store(true, Ordering::SeqCst);
        let was_running = !w.thread.is_finished();
        match w.thread.join() {
            Ok(m) => {
                self.save(&m);
                *lock(&self.monitors) = Some(m);
            }
            Err(_) => warn!("The detector thread panicked; its models are lost."),
        }
        lock(&self.shared.snapshot).running = false;
        info!("Detector stopped.");
        if was_running {
            Ok(())
        } else {
            // It had already ended (end of file, capture error): still a stop.
            Ok(())
        }
    }
}

/// The thread's state.
struct Pipeline {
    source: PacketSource,
    windower: Windower,
    monitors: Monitors,
    shared: Arc<Shared>,
    bus: EventSender,
    influx: Option<InfluxSink>,
    jsonl: Option<std::io::BufWriter<std::fs::File>>,
    sensor: String,
    history: usize,
    models: PathBuf,
    save_every: Duration,
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl Pipeline {
    fn run(mut self) -> Monitors {
        let mut errors = DecodeErrors::default();
        let mut alarms = Vec::new();
        let mut packets = 0u64;
        let mut last_save = Instant::now();
        let live = self.source.is_live();
        let error = loop {
            if self.shared.stop.load(Ordering::Relaxed) {
                break None;
            }
            let Pipeline {
                source,
                windower,
                monitors,
                shared,
                bus,
                influx,
                jsonl,
                sensor,
                history,
                ..
            } = &mut self;
            let mut emit = |r: &WindowReport| {
                window_closed(
                    r,
                    monitors,
                    shared,
                    bus,
                    influx,
                    jsonl,
                    sensor,
                    *history,
                    &mut alarms,
                );
            };
            let mut n = 0;
            // Up to 4096 packets between looks at the stop flag.
            let end = loop {
                match source.next_packet(Duration::from_millis(100)) {
                    Ok(Some(p)) => {
                        let view = p.decode();
                        errors.record_meta(&view.meta);
                        windower.push(&view.meta, &mut emit);
                        n += 1;
                        if n == 4096 {
                            break None;
                        }
                    }
                    Ok(None) if live => {
                        windower.tick(now_ns(), &mut emit);
                        break None;
                    }
                    Ok(None) => {
                        windower.finish(&mut emit);
                        break Some(None);
                    }
                    Err(e) => {
                        windower.finish(&mut emit);
                        break Some(Some(e.to_string()));
                    }
                }
            };
            packets += n;
            {
                let mut s = lock(&self.shared.snapshot);
                s.packets = packets;
                s.decode_errors = errors.total();
            }
            if last_save.elapsed() >= self.save_every {
                save_models(&self.models, &self.monitors);
                last_save = Instant::now();
            }
            if let Some(end) = end {
                if end.is_none() {
                    info!(packets, "Detector: end of the capture file.");
                }
                break end;
            }
        };
        if let Some(e) = &error {
            warn!(error = %e, "Detector capture failed.");
        }
        // Sinks first, so "not running" means everything was handed over.
        if let Some(f) = &mut self.jsonl {
            let _ = f.flush();
        }
        if let Some(mut i) = self.influx.take() {
            i.close();
        }
        {
            let mut s = lock(&self.shared.snapshot);
            s.running = false;
            s.error = error;
        }
        self.monitors
    }
}

#[allow(clippy::too_many_arguments)]
fn window_closed(
    r: &WindowReport,
    monitors: &mut Monitors,
    shared: &Shared,
    bus: &EventSender,
    influx: &Option<InfluxSink>,
    jsonl: &mut Option<std::io::BufWriter<std::fs::File>>,
    sensor: &str,
    history: usize,
    alarms: &mut Vec<nectar_detect::Alarm>,
) {
    monitors.observe(r, alarms);
    let status = monitors.status();
    let mut dropped = 0;
    let raised = alarms.len() as u64;
    for a in alarms.drain(..) {
        if let Some(i) = influx {
            i.alarm(&a);
        }
        if !bus.try_send(a.to_event(sensor)) {
            dropped += 1;
        }
    }
    if let Some(i) = influx {
        i.window(r, monitors);
    }
    if let Some(f) = jsonl {
        let stats: serde_json::Map<String, Value> = status
            .iter()
            .map(|s| {
                (
                    s.stat.to_owned(),
                    json!({"value": s.value, "up": s.threshold_up, "down": s.threshold_down, "state": s.state}),
                )
            })
            .collect();
        let line = json!({
            "window_start": nectar_event::Timestamp::from_nanos(i128::from(r.start_ns)).map(|t| t.to_string()),
            "window_end": nectar_event::Timestamp::from_nanos(i128::from(r.end_ns)).map(|t| t.to_string()),
            "packets": r.counts[Counter::Pkts],
            "bytes": r.counts[Counter::Bytes],
            "stats": stats,
        });
        let _ = writeln!(f, "{line}");
        let _ = f.flush();
    }
    let mut s = lock(&shared.snapshot);
    s.windows += 1;
    s.alarms += raised;
    s.alarms_dropped += dropped;
    s.last_window_end_ns = r.end_ns;
    for (i, st) in status.iter().enumerate() {
        if let Some(h) = s.history.get_mut(i) {
            if h.len() >= history {
                h.pop_front();
            }
            h.push_back(Point {
                start_ns: r.start_ns,
                value: st.value,
                up: st.threshold_up,
                down: st.threshold_down,
            });
        }
    }
    s.status = status;
}

/// `serve`'s part: builds the detector when `[capture]` names a source and
/// starts it when `capture.start` is set. A capture that cannot start (no
/// CAP_NET_RAW, no such interface) is logged and shown by the API; the rest
/// of Nectar runs on.
pub fn start(config: &Config, bus: &EventSender) -> anyhow::Result<Option<Arc<LiveDetector>>> {
    if !config.capture.enabled() {
        return Ok(None);
    }
    let d = Arc::new(LiveDetector::new(config, bus.clone())?);
    if config.capture.start
        && let Err(e) = nectar_web::detect::DetectControl::start(d.as_ref())
    {
        warn!(error = %e, "Live detection is not running; fix it and POST /api/v1/detect/start.");
    }
    Ok(Some(d))
}
