//! `nectar analyze FILE...`: offline detection on capture files — decode,
//! windows, SPOT on every statistic — then a summary and the alarms as a
//! table, or the alarm events as JSON lines with `--json`.
//!
//! The usual workflow for short captures: `--baseline benign.pcap` learns
//! the models on benign traffic first (adapting to a baseline shorter than
//! `n_init` and saying so), then the other files are analysed with learning
//! over. `--save-model` / `--model` keep and reuse what was learnt; `--store`
//! puts the alarm events into the data directory's store, with the passive
//! inventory's change events when `[inventory] networks` is set.
//!
//! With `[inventory] networks` set, the per-device models (`nectar-devices`,
//! `[devices]`) learn each device on the baseline and report
//! `device.anomaly` / `device.silent` on FILE, and the passive inventory's
//! `host.discovered` events for FILE's new hosts are printed with `--json`.

use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use nectar_detect::{Alarm, DetectConfig, Driver, Monitors, Stat, WindowReport, Windower};
use nectar_event::Event;
use nectar_packet::{DecodeErrors, FileReader, PacketSource};

use crate::config::Config;
use crate::exit::usage;

/// Flags of `nectar analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng; `-` reads standard input).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// Benign captures to learn the models on before analysing FILE.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub baseline: Vec<PathBuf>,

    /// Window width, e.g. 200ms or 1s (default: detect.window, 1s).
    #[arg(long, value_name = "DURATION")]
    pub window: Option<String>,

    /// Statistics to watch (repeat or comma-separate; default: detect.stats).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub stat: Vec<String>,

    /// Print the alarm events as JSON lines on stdout (summary on stderr).
    #[arg(long)]
    pub json: bool,

    /// Save the learnt models to this file (JSON) at the end.
    #[arg(long, value_name = "PATH")]
    pub save_model: Option<PathBuf>,

    /// Start from models saved with --save-model instead of learning.
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,

    /// Also store the alarm events in the data directory's database (and the
    /// inventory's change events, when `[inventory] networks` is set).
    #[arg(long)]
    pub store: bool,

    /// No progress bar even on a terminal.
    #[arg(long)]
    pub quiet: bool,

    /// Write every window of FILE (not of the baseline) as a JSON line to
    /// PATH (`-`: standard output): per statistic its value, thresholds,
    /// state and scale, and for the per-source ones the source behind the
    /// value — to see why something did or did not fire.
    #[arg(long, value_name = "PATH")]
    pub windows: Option<PathBuf>,
}

/// What one pass over files produced.
#[derive(Default)]
struct Totals {
    packets: u64,
    bytes: u64,
    windows: u64,
    empty_windows: u64,
    late_packets: u64,
    errors: DecodeErrors,
    alarms: Vec<u64>,
}

pub fn run(config: &Config, args: &AnalyzeArgs) -> anyhow::Result<()> {
    let mut detect = config.detect.clone();
    let saved = match &args.model {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("--model {}: {e}", path.display())))?;
            let file = Monitors::parse_models(&text)
                .map_err(|e| usage(format!("--model {}: {e}", path.display())))?;
            Some(file)
        }
        None => None,
    };
    if let Some(w) = &args.window {
        detect.window = w.parse().map_err(|e| usage(format!("--window: {e}")))?;
        if let Some(file) = &saved
            && file.window != detect.window
        {
            return Err(usage(format!(
                "--window {} differs from the {} windows the --model was learnt with; drop --window or relearn",
                detect.window, file.window
            )));
        }
    } else if let Some(file) = &saved {
        detect.window = file.window;
    }
    if !args.stat.is_empty() {
        detect.stats = args.stat.iter().map(|s| s.trim().to_owned()).collect();
    }
    if let Err(e) = detect.validate() {
        let flag = match e.key.to_string().as_str() {
            "window" => "--window".to_owned(),
            "stats" if !args.stat.is_empty() => "--stat".to_owned(),
            _ => format!("key `{}` (--config)", e.key.within("detect")),
        };
        return Err(usage(format!("{flag}: {}", e.reason)));
    }
    for f in args.baseline.iter().chain(&args.files) {
        if f.as_os_str() != "-" && !f.is_file() {
            return Err(usage(format!("{}: no such file", f.display())));
        }
    }
    let mut monitors = Monitors::new(&detect).map_err(|e| usage(e.within("detect").to_string()))?;
    let mut err = std::io::stderr();
    if let Some(file) = &saved {
        for note in monitors.restore(file, false) {
            let _ = writeln!(err, "model: {note}");
        }
    }
    let progress = !args.quiet && std::io::stderr().is_terminal();
    if args.json
        && args
            .windows
            .as_deref()
            .is_some_and(|p| p.as_os_str() == "-")
    {
        return Err(usage(
            "--windows -: standard output already carries the alarms of --json; give --windows a file",
        ));
    }
    let mut windows_out: Option<Box<dyn Write>> = match &args.windows {
        None => None,
        Some(p) if p.as_os_str() == "-" => {
            Some(Box::new(std::io::BufWriter::new(std::io::stdout())))
        }
        Some(p) => Some(Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .map_err(|e| usage(format!("--windows {}: {e}", p.display())))?,
        ))),
    };
    let sensor = config.sensor_name.clone();
    let devices_cfg = config
        .devices
        .build()
        .map_err(|e| usage(e.within("devices").to_string()))?;
    let inventory = config
        .inventory
        .build()
        .map_err(|e| usage(e.within("inventory").to_string()))?;
    let mut tracker = Some(nectar_devices::Tracker::new(
        &devices_cfg,
        inventory.networks.iter().copied().collect(),
        &sensor,
        nectar_inventory::oui::vendor,
    ))
    .filter(nectar_devices::Tracker::is_active);
    // Passive discovery (`[inventory] networks`): stored with --store, its
    // `host.discovered` printed with --json (the table leaves it out). It
    // watches the baseline too, so only hosts new in FILE are reported
    // discovered there.
    let mut observer = (args.store || args.json)
        .then(|| nectar_inventory::Observer::new(&inventory, &sensor))
        .filter(nectar_inventory::Observer::is_active);
    let mut device_events: Vec<Event> = Vec::new();
    let mut observed: Vec<Event> = Vec::new();
    let mut sink = AlarmSink::new(config, args, &sensor)?;

    // Learn on the baseline.
    if !args.baseline.is_empty() {
        let mut base = Totals::default();
        let mut ignored = Vec::new();
        for path in &args.baseline {
            pass(
                path,
                &detect,
                &mut monitors,
                &mut base,
                progress,
                &mut |a| ignored.push(a.stat),
                Observers {
                    inventory: observer.as_mut(),
                    observed: &mut observed,
                    devices: tracker.as_mut(),
                    device_events: &mut device_events,
                },
                &mut None,
            )?;
            // The baseline's own host events are stored, never printed.
            sink.inventory(&mut observed, false);
        }
        let baseline_device_events = device_events.len();
        device_events.clear();
        let _ = writeln!(
            err,
            "Baseline: {} packets, {} windows of {}.",
            base.packets, base.windows, detect.window
        );
        for note in monitors.finish_learning() {
            let _ = writeln!(err, "baseline: {note}");
        }
        if !ignored.is_empty() {
            let _ = writeln!(
                err,
                "baseline: {} alarm(s) inside the baseline itself (not reported; a sign of a noisy statistic)",
                ignored.len()
            );
        }
        if let Some(t) = tracker.as_mut() {
            let (monitored, learning) = t.finish_learning();
            let _ = writeln!(
                err,
                "baseline: {monitored} device(s) learnt{}{}",
                if learning > 0 {
                    format!(
                        ", {learning} with fewer than {} full windows still learning",
                        devices_cfg.min_learn_windows
                    )
                } else {
                    String::new()
                },
                if baseline_device_events > 0 {
                    format!(
                        " ({baseline_device_events} device event(s) inside the baseline, not reported)"
                    )
                } else {
                    String::new()
                }
            );
        }
    }

    let started = Instant::now();
    let mut totals = Totals {
        alarms: vec![0; Stat::COUNT],
        ..Totals::default()
    };
    let mut alarms_out: Vec<Alarm> = Vec::new();
    let mut failure = None;
    let mut device_counts = [0u64; 2];
    for (i, path) in args.files.iter().enumerate() {
        let result = pass(
            path,
            &detect,
            &mut monitors,
            &mut totals,
            progress,
            &mut |a| sink.alarm(a, &mut alarms_out),
            Observers {
                inventory: observer.as_mut(),
                observed: &mut observed,
                devices: tracker.as_mut(),
                device_events: &mut device_events,
            },
            &mut windows_out,
        );
        if (i + 1 == args.files.len() || result.is_err())
            && let Some(o) = observer.as_mut()
        {
            o.flush(&mut observed);
        }
        for e in &device_events {
            match e.kind {
                nectar_event::Kind::DeviceSilent => device_counts[1] += 1,
                _ => device_counts[0] += 1,
            }
        }
        sink.devices(&mut device_events);
        sink.inventory(&mut observed, true);
        sink.flush()?;
        if let Err(e) = result {
            failure = Some(e);
            break;
        }
    }
    let elapsed = started.elapsed();
    if let Some(w) = windows_out.as_mut() {
        w.flush().context("--windows")?;
    }
    sink.finish()?;
    if let Some(o) = &observer {
        let st = o.stats();
        eprintln!(
            "Inventory: {} host(s) of [inventory] networks, {} change event(s){}.",
            st.hosts,
            st.events,
            if st.table_full > 0 {
                format!(", {} host(s) beyond max_hosts not tracked", st.table_full)
            } else {
                String::new()
            }
        );
    }
    if let Some(t) = &tracker {
        let st = t.stats();
        eprintln!(
            "Devices: {} tracked, {} device.anomaly, {} device.silent{}.",
            st.devices,
            device_counts[0],
            device_counts[1],
            if st.devices_full > 0 {
                format!(
                    ", {} packet(s) of devices beyond [devices] max_devices not tracked",
                    st.devices_full
                )
            } else {
                String::new()
            }
        );
    }

    // Summary.
    let mut out: Box<dyn Write> = if args.json {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    summary(&mut out, &totals, &monitors, &detect, elapsed)?;
    if !args.json {
        alarm_table(&mut out, &alarms_out)?;
        if !sink.device_lines.is_empty() {
            writeln!(out)?;
            writeln!(out, "Device events:")?;
            for l in &sink.device_lines {
                writeln!(out, "{l}")?;
            }
        }
    }
    if let Some(path) = &args.save_model {
        monitors
            .save_to(path)
            .with_context(|| format!("--save-model {}", path.display()))?;
        writeln!(out, "Models saved to {}.", path.display())?;
    }
    out.flush()?;
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// What watches every packet besides the windows: the passive inventory and
/// the per-device tracker, with where their events go.
struct Observers<'a> {
    inventory: Option<&'a mut nectar_inventory::Observer>,
    observed: &'a mut Vec<Event>,
    devices: Option<&'a mut nectar_devices::Tracker>,
    device_events: &'a mut Vec<Event>,
}

/// One file through the packet driver, windows and monitors.
#[allow(clippy::too_many_arguments)]
fn pass(
    path: &Path,
    detect: &DetectConfig,
    monitors: &mut Monitors,
    totals: &mut Totals,
    progress: bool,
    on_alarm: &mut dyn FnMut(&Alarm),
    observers: Observers<'_>,
    windows: &mut Option<Box<dyn Write>>,
) -> anyhow::Result<()> {
    let Observers {
        inventory: observer,
        observed,
        devices: mut tracker,
        device_events,
    } = observers;
    let reader = if path.as_os_str() == "-" {
        FileReader::from_reader(std::io::stdin(), "standard input")
    } else {
        FileReader::open(path)
    }
    .map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let mut source = PacketSource::File(reader);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = (progress && size > 0).then(|| {
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(path.display().to_string());
        bar
    });
    let windower =
        Windower::new(&detect.window_config()).map_err(|e| usage(format!("--window: {e}")))?;
    let mut driver = Driver::new(windower).progress_every(0x10000);
    let mut alarms = Vec::new();
    let mut windows_err: Option<std::io::Error> = None;
    let mut emit = |r: &WindowReport| {
        monitors.observe(r, &mut alarms);
        if let Some(w) = windows.as_mut()
            && windows_err.is_none()
        {
            let line = nectar_pipeline::sinks::windows_jsonl::window_line(r, &monitors.status());
            if let Err(e) = writeln!(w, "{line}") {
                windows_err = Some(e);
            }
        }
        for a in alarms.drain(..) {
            if let Some(n) = totals.alarms.get_mut(a.stat as usize) {
                *n += 1;
            }
            on_alarm(&a);
        }
    };
    let mut observer = observer;
    let mut on_packet = |view: &nectar_packet::PacketView<'_>| {
        if let Some(o) = observer.as_deref_mut() {
            o.observe(view, observed);
        }
        if let Some(t) = tracker.as_deref_mut() {
            t.observe(view, device_events);
        }
    };
    let result = driver.run_observed(&mut source, &mut emit, &mut on_packet, &mut |p| {
        if let Some(bar) = &bar {
            bar.set_position(p.bytes_read);
        }
        ControlFlow::Continue(())
    });
    driver.finish(&mut emit);
    // The capture's last window is partial; the next file's clock starts anew.
    if let Some(t) = tracker {
        t.end_capture(device_events);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(e) = windows_err {
        return Err(anyhow::Error::new(e).context("--windows"));
    }
    let st = driver.windower().stats();
    let packets = driver.packets();
    totals.packets += packets;
    if let PacketSource::File(reader) = &source {
        totals.bytes += reader.bytes_read();
    }
    totals.windows += st.windows;
    totals.empty_windows += st.empty_windows;
    totals.late_packets += st.late_packets;
    totals.errors.merge(driver.errors());
    result.map(|_| ()).map_err(|e| {
        usage(format!(
            "{}: {e} (the {packets} packets before it were analysed)",
            path.display()
        ))
    })
}

/// Where alarms go: JSON lines on stdout, the table, the store.
struct AlarmSink {
    json: bool,
    sensor: String,
    stdout: std::io::BufWriter<std::io::Stdout>,
    store: Option<StoreSink>,
    pending: Vec<Event>,
    /// The inventory's change events waiting to be stored.
    pending_inventory: Vec<Event>,
    /// The device events, for the table.
    device_lines: Vec<String>,
}

struct StoreSink {
    runtime: tokio::runtime::Runtime,
    writer: Option<nectar_store::WriterHandle>,
    task: Option<tokio::task::JoinHandle<()>>,
    consumers: Vec<nectar_bus::stream::ConsumerHandle>,
    store: nectar_store::Store,
    stored: usize,
    duplicates: usize,
    inventory_stored: usize,
    inventory_duplicates: usize,
}

impl AlarmSink {
    fn new(config: &Config, args: &AnalyzeArgs, sensor: &str) -> anyhow::Result<AlarmSink> {
        let store = if args.store {
            // Multi-threaded (one worker): the consumers' threads read the store
            // through it while this thread decodes packets.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let (store, writer, task, consumers) = runtime.block_on(open_writer(config))?;
            Some(StoreSink {
                runtime,
                writer: Some(writer),
                task: Some(task),
                consumers,
                store,
                stored: 0,
                duplicates: 0,
                inventory_stored: 0,
                inventory_duplicates: 0,
            })
        } else {
            None
        };
        Ok(AlarmSink {
            json: args.json,
            sensor: sensor.to_owned(),
            stdout: std::io::BufWriter::new(std::io::stdout()),
            store,
            pending: Vec::new(),
            pending_inventory: Vec::new(),
            device_lines: Vec::new(),
        })
    }

    fn alarm(&mut self, a: &Alarm, table: &mut Vec<Alarm>) {
        if self.json || self.store.is_some() {
            let event = a.to_event(&self.sensor);
            if self.json
                && let Ok(line) = serde_json::to_string(&event)
            {
                let _ = writeln!(self.stdout, "{line}");
            }
            if self.store.is_some() {
                self.pending.push(event);
            }
        }
        if !self.json {
            // The table shows the first 10,000; the summary counts them all.
            if table.len() < 10_000 {
                table.push(a.clone());
            }
        }
    }

    /// Takes the observer's change events, to be stored with the alarms;
    /// with `print` and --json, the `host.discovered` ones are printed too.
    fn inventory(&mut self, events: &mut Vec<Event>, print: bool) {
        if print && self.json {
            for e in events
                .iter()
                .filter(|e| e.kind == nectar_event::Kind::HostDiscovered)
            {
                if let Ok(line) = serde_json::to_string(e) {
                    let _ = writeln!(self.stdout, "{line}");
                }
            }
        }
        if self.store.is_some() {
            self.pending_inventory.append(events);
        } else {
            events.clear();
        }
    }

    /// Takes the device tracker's events: printed (JSON lines with --json, one
    /// line each in the table otherwise) and stored like the alarms.
    fn devices(&mut self, events: &mut Vec<Event>) {
        for e in events.iter() {
            if self.json {
                if let Ok(line) = serde_json::to_string(e) {
                    let _ = writeln!(self.stdout, "{line}");
                }
            } else if self.device_lines.len() < 10_000 {
                self.device_lines
                    .push(format!("{}  {}  {}", e.time, e.kind, e.summary));
            }
        }
        if self.store.is_some() {
            self.pending.append(events);
        } else {
            events.clear();
        }
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.stdout.flush()?;
        if let Some(s) = &mut self.store {
            for chunk in std::mem::take(&mut self.pending).chunks(1000) {
                if let Some(w) = &s.writer {
                    let outcome = s
                        .runtime
                        .block_on(w.submit(chunk.to_vec()))
                        .context("cannot store the alarm events")?;
                    s.stored += outcome.stored;
                    s.duplicates += outcome.duplicates;
                }
            }
            for chunk in std::mem::take(&mut self.pending_inventory).chunks(1000) {
                if let Some(w) = &s.writer {
                    let outcome = s
                        .runtime
                        .block_on(w.submit(chunk.to_vec()))
                        .context("cannot store the inventory's events")?;
                    s.inventory_stored += outcome.stored;
                    s.inventory_duplicates += outcome.duplicates;
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.flush()?;
        if let Some(mut s) = self.store.take() {
            drop(s.writer.take());
            if let Some(task) = s.task.take() {
                s.runtime
                    .block_on(task)
                    .context("the event writer failed")?;
            }
            let consumers = std::mem::take(&mut s.consumers);
            s.runtime.block_on(crate::flow::stop_consumers(consumers));
            s.runtime.block_on(s.store.close());
            eprintln!(
                "Stored {} alarm event(s) ({} already there).",
                s.stored, s.duplicates
            );
            if s.inventory_stored + s.inventory_duplicates > 0 {
                eprintln!(
                    "Stored {} inventory event(s) ({} already there).",
                    s.inventory_stored, s.inventory_duplicates
                );
            }
        }
        Ok(())
    }
}

/// The store, its writer and the consumers of its stream (the event log; a log
/// a running `serve` holds is left to it).
async fn open_writer(
    config: &Config,
) -> anyhow::Result<(
    nectar_store::Store,
    nectar_store::WriterHandle,
    tokio::task::JoinHandle<()>,
    Vec<nectar_bus::stream::ConsumerHandle>,
)> {
    let store = crate::admin::open_store(config).await?;
    let (writer, task) = crate::flow::spawn_writer(config, &store);
    // No InfluxDB consumer here: a `serve` writes the stored alarms, catching up
    // from its saved offset.
    let consumers =
        crate::flow::start_consumers(config, &store, &writer, crate::flow::Held::Skip, None)?;
    Ok((store, writer, task, consumers))
}

fn summary(
    out: &mut dyn Write,
    t: &Totals,
    monitors: &Monitors,
    detect: &DetectConfig,
    elapsed: Duration,
) -> std::io::Result<()> {
    let secs = elapsed.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "Packets: {} ({:.1} MB) in {:.2} s: {:.2} M packets/s, {:.0} MB/s",
        t.packets,
        t.bytes as f64 / 1e6,
        secs,
        t.packets as f64 / secs / 1e6,
        t.bytes as f64 / secs / 1e6
    )?;
    writeln!(
        out,
        "Windows: {} of {} ({} empty){}",
        t.windows,
        detect.window,
        t.empty_windows,
        if t.late_packets > 0 {
            format!(", {} packets out of order", t.late_packets)
        } else {
            String::new()
        }
    )?;
    if t.errors.total() == 0 {
        writeln!(out, "Decode errors: none")?;
    } else {
        let list: Vec<String> = t
            .errors
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(e, n)| format!("{} {n}", e.name()))
            .collect();
        writeln!(
            out,
            "Decode errors: {} ({})",
            t.errors.total(),
            list.join(", ")
        )?;
    }
    let total: u64 = t.alarms.iter().sum();
    writeln!(out, "Alarms: {total}")?;
    writeln!(
        out,
        "  {:<15} {:<10} {:>7} {:>12} {:>12} {:>12}",
        "statistic", "state", "alarms", "last value", "threshold", "learnt"
    )?;
    for s in monitors.status() {
        let n = Stat::from_name(s.stat)
            .and_then(|st| t.alarms.get(st as usize).copied())
            .unwrap_or(0);
        let thr = s.threshold_up.or(s.threshold_down);
        writeln!(
            out,
            "  {:<15} {:<10} {:>7} {:>12} {:>12} {:>12}",
            s.stat,
            s.state,
            n,
            fmt_opt(s.value),
            fmt_opt(thr),
            format!("{}/{}", s.learnt, s.need)
        )?;
    }
    for s in monitors.status() {
        if s.state == "learning" {
            writeln!(
                out,
                "{}: still learning ({} of {} windows with a value): no alarms possible; give --baseline FILE, a longer capture, or a smaller detect.n_init",
                s.stat, s.learnt, s.need
            )?;
        }
    }
    Ok(())
}

fn fmt_opt(x: Option<f64>) -> String {
    match x {
        Some(v) if v.abs() >= 1e5 || (v != 0.0 && v.abs() < 1e-3) => format!("{v:.3e}"),
        Some(v) => format!("{v:.4}"),
        None => "-".into(),
    }
}

fn alarm_table(out: &mut dyn Write, alarms: &[Alarm]) -> std::io::Result<()> {
    if alarms.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<27} {:<15} {:<4} {:>11} {:>11} {:>9} {:<8} {:<24} {:<24} port",
        "window start",
        "statistic",
        "dir",
        "value",
        "threshold",
        "p",
        "severity",
        "top source",
        "top destination"
    )?;
    let top = |l: &[nectar_detect::Contributor]| match l.first() {
        Some(c) => format!("{} {:.0}%", c.key, c.share * 100.0),
        None => "-".into(),
    };
    // What they look like first, in plain words; the figures follow.
    let words: Vec<String> = alarms
        .iter()
        .filter_map(|a| {
            let start = nectar_event::Timestamp::from_nanos(i128::from(a.window_start_ns))
                .map(|t| t.to_string())
                .unwrap_or_default();
            a.plain_words()
                .map(|w| format!("{start}  {w} ({})", a.stat.name()))
        })
        .collect();
    for w in &words {
        writeln!(out, "{w}")?;
    }
    if !words.is_empty() {
        writeln!(out)?;
    }
    for a in alarms {
        let start = nectar_event::Timestamp::from_nanos(i128::from(a.window_start_ns))
            .map(|t| t.to_string())
            .unwrap_or_default();
        writeln!(
            out,
            "{:<27} {:<15} {:<4} {:>11} {:>11} {:>9.2e} {:<8} {:<24} {:<24} {}",
            start,
            a.stat.name(),
            a.direction.as_str(),
            fmt_opt(Some(a.value)),
            fmt_opt(Some(a.threshold)),
            a.probability,
            a.severity.as_str(),
            top(&a.top_src),
            top(&a.top_dst),
            top(&a.top_dst_port),
        )?;
    }
    Ok(())
}
