//! The running parts of `serve`, each a [`Component`] with one way to stop, kept
//! in a [`Topology`] that stops them in the order events flow.
//!
//! Producers (honeypots, the detector) stop first, so nothing new is sent; then
//! the bus drains into the writer; the writer commits what it holds and closes
//! its stream; the consumers write what was committed and save their offsets;
//! last the sinks flush. Each waits at most the grace period given, except the
//! writer, which commits what was acknowledged however long that takes.

mod parts;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Serialize;
use tracing::info;

pub use parts::{BusPart, DetectorPart, InfluxPart, NotifyPart, WriterPart};

/// Where a component sits in the flow; components stop in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Makes events: honeypots, detectors.
    Producer,
    /// The bus every producer sends on.
    Bus,
    /// Stores (or, on a sensor, ships) what the bus hands on.
    Writer,
    /// Reads the committed stream.
    Consumer,
    /// Receives from consumers or producers and flushes last (InfluxDB), or
    /// reads the store on its own (the notifier).
    Sink,
}

/// The future a component's stop returns.
pub type Stopping = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A running part of the flow.
pub trait Component: Send + 'static {
    /// Its name in logs and status.
    fn name(&self) -> String;
    /// Where it sits in the flow.
    fn stage(&self) -> Stage;
    /// Stops it, waiting at most `grace` for work in hand.
    fn stop(self: Box<Self>, grace: Duration) -> Stopping;
}

/// One running component, as status pages list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentInfo {
    /// Its name.
    pub name: String,
    /// Its stage.
    pub stage: Stage,
}

/// What runs, in the order it was started.
#[derive(Default)]
pub struct Topology {
    components: Vec<Box<dyn Component>>,
}

impl Topology {
    /// An empty topology.
    pub fn new() -> Topology {
        Topology::default()
    }

    /// Adds a running component.
    pub fn add(&mut self, component: impl Component) {
        self.components.push(Box::new(component));
    }

    /// Adds a component if there is one (a honeypot that is off, or could not bind).
    pub fn add_some(&mut self, component: Option<impl Component>) {
        if let Some(component) = component {
            self.add(component);
        }
    }

    /// What runs.
    pub fn components(&self) -> Vec<ComponentInfo> {
        self.components
            .iter()
            .map(|c| ComponentInfo {
                name: c.name(),
                stage: c.stage(),
            })
            .collect()
    }

    /// Stops everything, stage by stage in flow order (components of one stage in
    /// the order they were added), each with at most `grace`.
    pub async fn stop(mut self, grace: Duration) {
        // A stable sort keeps the order of addition within a stage.
        self.components.sort_by_key(|c| c.stage());
        for component in self.components {
            let name = component.name();
            info!(component = %name, "Stopping.");
            component.stop(grace).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    struct Probe {
        name: &'static str,
        stage: Stage,
        log: Arc<Mutex<Vec<&'static str>>>,
    }

    impl Component for Probe {
        fn name(&self) -> String {
            self.name.into()
        }
        fn stage(&self) -> Stage {
            self.stage
        }
        fn stop(self: Box<Self>, _grace: Duration) -> Stopping {
            Box::pin(async move { self.log.lock().unwrap().push(self.name) })
        }
    }

    #[tokio::test]
    async fn components_stop_in_flow_order_whatever_the_order_they_started() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut topology = Topology::new();
        for (name, stage) in [
            ("event-log", Stage::Consumer),
            ("writer", Stage::Writer),
            ("influxdb", Stage::Sink),
            ("bus", Stage::Bus),
            ("ssh", Stage::Producer),
            ("cowrie-log", Stage::Consumer),
            ("telnet", Stage::Producer),
        ] {
            topology.add(Probe {
                name,
                stage,
                log: log.clone(),
            });
        }
        assert_eq!(topology.components().len(), 7);
        topology.stop(Duration::from_secs(1)).await;
        assert_eq!(
            *log.lock().unwrap(),
            [
                "ssh",
                "telnet",
                "bus",
                "writer",
                "event-log",
                "cowrie-log",
                "influxdb"
            ]
        );
    }
}
