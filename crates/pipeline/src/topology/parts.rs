//! The components `serve` runs, each with its way to stop.

use std::sync::Arc;
use std::time::Duration;

use nectar_bus::EventSender;
use nectar_bus::stream::ConsumerHandle;
use nectar_honeypot::http::HttpHoneypot;
use nectar_honeypot::ssh::SshHoneypot;
use nectar_honeypot::telnet::TelnetHoneypot;
use nectar_store::WriterHandle;
use tokio::task::JoinHandle;
use tracing::{error, warn};

use super::{Component, Stage, Stopping};
use crate::Detector;
use crate::sinks::influx::InfluxSink;

/// A honeypot: a producer whose own `stop(grace)` closes its listener and waits
/// for its sessions.
macro_rules! honeypot_component {
    ($($honeypot:ty => $name:literal),* $(,)?) => {$(
        impl Component for $honeypot {
            fn name(&self) -> String {
                $name.into()
            }
            fn stage(&self) -> Stage {
                Stage::Producer
            }
            fn stop(self: Box<Self>, grace: Duration) -> Stopping {
                Box::pin((*self).stop(grace))
            }
        }
    )*};
}

honeypot_component! {
    SshHoneypot => "ssh-honeypot",
    TelnetHoneypot => "telnet-honeypot",
    HttpHoneypot => "http-honeypot",
}

impl Component for ConsumerHandle {
    fn name(&self) -> String {
        ConsumerHandle::name(self).to_owned()
    }
    fn stage(&self) -> Stage {
        Stage::Consumer
    }
    fn stop(self: Box<Self>, grace: Duration) -> Stopping {
        Box::pin((*self).stop(grace))
    }
}

/// The live detector (its packet thread saves the models as it stops).
pub struct DetectorPart(pub Arc<Detector>);

impl Component for DetectorPart {
    fn name(&self) -> String {
        "detector".into()
    }
    fn stage(&self) -> Stage {
        Stage::Producer
    }
    fn stop(self: Box<Self>, _grace: Duration) -> Stopping {
        let detector = self.0;
        Box::pin(async move {
            if tokio::task::spawn_blocking(move || detector.shutdown())
                .await
                .is_err()
            {
                error!("The detector's thread panicked while stopping.");
            }
        })
    }
}

/// The bus: its last sender (the others went with the producers and the web
/// server) and its forwarding task, which drains the queue into the writer.
pub struct BusPart {
    /// The sender kept for the topology; dropping it closes the bus.
    pub sender: EventSender,
    /// The forwarding task.
    pub task: JoinHandle<()>,
}

impl Component for BusPart {
    fn name(&self) -> String {
        "bus".into()
    }
    fn stage(&self) -> Stage {
        Stage::Bus
    }
    fn stop(self: Box<Self>, grace: Duration) -> Stopping {
        let BusPart { sender, task } = *self;
        drop(sender);
        Box::pin(async move {
            match tokio::time::timeout(grace, task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => error!(error = %e, "The event bus failed."),
                Err(_) => warn!(
                    "Events still queued on the bus after the grace period (a producer still holds a sender)."
                ),
            }
        })
    }
}

/// The writer: its last handle and its task. Stopping commits everything queued
/// (acknowledged events must be stored, so no grace applies) and closes the
/// committed stream.
pub struct WriterPart {
    /// The handle kept for the topology.
    pub writer: WriterHandle,
    /// The writer task.
    pub task: JoinHandle<()>,
}

impl Component for WriterPart {
    fn name(&self) -> String {
        "writer".into()
    }
    fn stage(&self) -> Stage {
        Stage::Writer
    }
    fn stop(self: Box<Self>, _grace: Duration) -> Stopping {
        let WriterPart { writer, task } = *self;
        drop(writer);
        Box::pin(async move {
            if let Err(e) = task.await {
                error!(error = %e, "The event writer failed.");
            }
        })
    }
}

/// The InfluxDB sink: closing waits for the last points to be written (or given
/// up and counted).
pub struct InfluxPart(pub Arc<InfluxSink>);

impl Component for InfluxPart {
    fn name(&self) -> String {
        "influxdb".into()
    }
    fn stage(&self) -> Stage {
        Stage::Sink
    }
    fn stop(self: Box<Self>, _grace: Duration) -> Stopping {
        let sink = self.0;
        Box::pin(async move {
            let _ = tokio::task::spawn_blocking(move || sink.close()).await;
        })
    }
}

/// The notifier (alert notices to webhooks, chat, email, syslog): it reads the
/// store, not the stream, so it stops with the sinks; attempts still running
/// after the grace period are aborted and sent again at the next start.
pub struct NotifyPart(pub nectar_notify::NotifierHandle);

impl Component for NotifyPart {
    fn name(&self) -> String {
        "notify".into()
    }
    fn stage(&self) -> Stage {
        Stage::Sink
    }
    fn stop(self: Box<Self>, grace: Duration) -> Stopping {
        Box::pin(self.0.stop(grace))
    }
}
