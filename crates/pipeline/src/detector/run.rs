//! The detector's thread: the packet driver over the source, each closed
//! window through the monitors to the event bus (alarms), the sinks and the
//! snapshot the API reads; the models saved every `capture.save_seconds`.
#![forbid(unsafe_code)]

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use nectar_bus::EventSender;
use nectar_detect::{Alarm, Driver, Ended, Monitors, WindowReport};
use nectar_packet::PacketSource;
use tracing::{info, warn};

use super::{Point, Shared, lock, save_models};
use crate::sinks::influx::InfluxSink;
use crate::sinks::windows_jsonl::WindowsJsonl;

/// The sinks a run writes to.
pub(super) struct Sinks {
    pub(super) influx: Option<Arc<InfluxSink>>,
    pub(super) windows_jsonl: Option<WindowsJsonl>,
}

/// What handles a closed window: monitors, alarms, sinks, the snapshot.
pub(super) struct WindowState {
    pub(super) monitors: Monitors,
    pub(super) shared: Arc<Shared>,
    pub(super) bus: EventSender,
    pub(super) sinks: Sinks,
    pub(super) sensor: String,
    pub(super) history: usize,
    /// Reused for every window's alarms.
    pub(super) alarms: Vec<Alarm>,
}

impl WindowState {
    fn window_closed(&mut self, r: &WindowReport) {
        self.monitors.observe(r, &mut self.alarms);
        let status = self.monitors.status();
        let raised = self.alarms.len() as u64;
        let mut dropped = 0;
        // Alarms reach InfluxDB as stored events, through its consumer.
        for a in self.alarms.drain(..) {
            if !self.bus.try_send(a.to_event(&self.sensor)) {
                dropped += 1;
            }
        }
        if let Some(i) = &self.sinks.influx {
            i.window(r, &status);
        }
        if let Some(f) = &mut self.sinks.windows_jsonl {
            f.window(r, &status);
        }
        let mut s = lock(&self.shared.snapshot);
        s.windows += 1;
        s.alarms += raised;
        s.alarms_dropped += dropped;
        s.last_window_end_ns = r.end_ns;
        for (st, h) in status.iter().zip(s.history.iter_mut()) {
            if h.len() >= self.history {
                h.pop_front();
            }
            h.push_back(Point {
                start_ns: r.start_ns,
                value: st.value,
                up: st.threshold_up,
                down: st.threshold_down,
            });
        }
        s.status = status;
    }
}

/// The thread's state.
pub(super) struct Run {
    pub(super) source: PacketSource,
    pub(super) driver: Driver,
    pub(super) state: WindowState,
    pub(super) models: PathBuf,
    pub(super) save_every: Duration,
    /// Passive discovery (`[inventory] networks`), when on.
    pub(super) observer: Option<nectar_inventory::Observer>,
    /// Its change events, sent to the bus as they come (reused); the device
    /// tracker's too.
    pub(super) observed: Vec<nectar_event::Event>,
    /// Per-device behaviour, when on.
    pub(super) devices: Option<nectar_devices::Tracker>,
    /// Where its models are saved.
    pub(super) device_saver: Option<Arc<dyn super::DeviceModelSaver>>,
}

impl Run {
    pub(super) fn run(mut self) -> (Monitors, Option<nectar_devices::Tracker>) {
        let mut last_save = Instant::now();
        let error = loop {
            let mut save_due = false;
            let Run {
                source,
                driver,
                state,
                save_every,
                observer,
                observed,
                devices,
                ..
            } = &mut self;
            let shared = state.shared.clone();
            let bus = state.bus.clone();
            // Both handlers reach the device tracker: packets feed it, and
            // every closed window (an idle live capture closes them by the
            // clock) closes its windows too, so a quiet network still ends
            // device windows and silence is seen.
            let devices = std::cell::RefCell::new((devices, observed));
            let mut on_window = |r: &WindowReport| {
                state.window_closed(r);
                let mut guard = devices.borrow_mut();
                let (tracker, events) = &mut *guard;
                if let Some(t) = tracker.as_mut() {
                    t.tick(r.end_ns, events);
                    for e in events.drain(..) {
                        let _ = bus.try_send(e);
                    }
                }
            };
            let mut on_packet = |view: &nectar_packet::PacketView<'_>| {
                let mut guard = devices.borrow_mut();
                let (tracker, events) = &mut *guard;
                if let Some(o) = observer.as_mut() {
                    o.observe(view, events);
                }
                if let Some(t) = tracker.as_mut() {
                    t.observe(view, events);
                }
                for e in events.drain(..) {
                    // A full bus drops the event (counted by the bus).
                    let _ = bus.try_send(e);
                }
            };
            let ended = driver.run_observed(source, &mut on_window, &mut on_packet, &mut |p| {
                {
                    let mut s = lock(&shared.snapshot);
                    s.packets = p.packets;
                    s.decode_errors = p.decode_errors;
                }
                if shared.stop.load(Ordering::Relaxed) {
                    return ControlFlow::Break(());
                }
                // The monitors are the window handler's while the driver
                // runs: step out to save them, then go on.
                save_due = last_save.elapsed() >= *save_every;
                if save_due {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
            match ended {
                Ok(Ended::Stopped) if save_due => {
                    save_models(&self.models, &self.state.monitors);
                    if let (Some(t), Some(saver)) = (&self.devices, &self.device_saver) {
                        super::devices::save(saver.as_ref(), t);
                    }
                    last_save = Instant::now();
                }
                Ok(Ended::Stopped) => break None,
                Ok(Ended::EndOfInput) => {
                    self.driver.finish(&mut |r| self.state.window_closed(r));
                    info!(
                        packets = self.driver.packets(),
                        "Detector: end of the capture file."
                    );
                    break None;
                }
                Err(e) => {
                    self.driver.finish(&mut |r| self.state.window_closed(r));
                    break Some(e.to_string());
                }
            }
        };
        if let Some(e) = &error {
            warn!(error = %e, "Detector capture failed.");
        }
        // The devices' window under way is closed (partial) at the end of
        // a file or capture; a stop leaves it to the next run.
        if let Some(t) = self.devices.as_mut()
            && !self.state.shared.stop.load(Ordering::Relaxed)
        {
            t.end_capture(&mut self.observed);
            for e in self.observed.drain(..) {
                let _ = self.state.bus.try_send(e);
            }
            // The run ended by itself: what it learnt is saved now (a stop
            // saves after joining).
            if let Some(saver) = &self.device_saver {
                super::devices::save(saver.as_ref(), t);
            }
        }
        // The windows file is flushed after every line; the shared InfluxDB
        // sink stays open for the next run and the alarm consumer.
        self.state.sinks.windows_jsonl.take();
        {
            let mut s = lock(&self.state.shared.snapshot);
            s.packets = self.driver.packets();
            s.decode_errors = self.driver.errors().total();
            s.running = false;
            s.error = error;
        }
        (self.state.monitors, self.devices)
    }
}
