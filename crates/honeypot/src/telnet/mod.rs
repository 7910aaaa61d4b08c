//! The Telnet honeypot: a `login:`/`Password:` prompt like BusyBox's (or Debian's)
//! telnetd, the same credential rules as SSH, and the same fake shell behind it,
//! in its BusyBox profile for the IoT bots that make most Telnet traffic.
//!
//! Files: [`config`] (the `[honeypot.telnet]` section), [`parser`] (the Telnet
//! byte stream, pure), [`options`] (option negotiation, pure), [`probe`] (a scanner's
//! probe at the login prompt, pure), and [`session`]
//! (one connection, where every event is made). Listening and connection limits
//! are shared with SSH ([`crate::listener`]); this file owns start and shutdown.

pub mod config;
pub mod options;
pub mod parser;
pub mod probe;
pub mod session;

use crate::HoneypotContext;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use nectar_bus::EventSender;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub use config::{Arch, TelnetHoneypotConfig, TelnetProfile};

use crate::Error;
use crate::capture::Capture;
use crate::credentials::{self, Credentials};
use crate::listener::{self, Gate};
use crate::shell::World;
use crate::shell::persona::Persona;

/// State shared by every connection.
pub(crate) struct Shared {
    pub config: TelnetHoneypotConfig,
    pub sensor: String,
    pub bus: EventSender,
    pub credentials: Credentials,
    pub world: Arc<World>,
    /// Recordings of sessions.
    pub capture: Arc<Capture>,
    /// Flips to true at shutdown.
    pub stop: watch::Receiver<bool>,
    /// Fake secrets planted by the HTTP honeypot; a login with one is a
    /// `credential.reuse` event.
    pub honeytokens: Arc<crate::honeytoken::Honeytokens>,
}

/// A running Telnet honeypot.
pub struct TelnetHoneypot {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl TelnetHoneypot {
    /// Binds the listener and starts accepting. The machine is the context's (or
    /// `hostname` when set: a camera may be another machine than the SSH server);
    /// events go to its bus as its sensor; shells are recorded through its capture;
    /// passwords are checked against its honeytokens.
    pub async fn start(
        config: TelnetHoneypotConfig,
        cx: &HoneypotContext,
    ) -> Result<TelnetHoneypot, Error> {
        config.validate()?;
        let credentials = Credentials::parse(&config.credentials).map_err(Error::Config)?;
        let hostname = cx.hostname(&config.hostname);
        let (sensor, bus, capture) = (cx.sensor.as_str(), cx.bus.clone(), cx.capture.clone());
        let honeytokens = cx.honeytokens.clone();
        let socket = listener::bind(config.listen, config.backlog)?;
        let addr = socket.local_addr().map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
        let users = credentials::login_names(&config.credentials);
        // The machine behind the login matches what the greeting claims to be.
        let persona = match config.profile {
            TelnetProfile::Busybox => Persona::busybox_device(&hostname, users, config.arch),
            TelnetProfile::Debian => Persona::debian(&hostname, users),
        };
        let world = World::new(persona);
        let gate = Gate::new(
            "telnet",
            "Telnet",
            config.max_connections,
            config.max_connections_per_ip,
            sensor,
            bus.clone(),
        );
        let (stop_tx, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            config,
            sensor: sensor.to_owned(),
            bus,
            credentials,
            world,
            capture,
            stop: stop_rx.clone(),
            honeytokens,
        });
        let task = tokio::spawn(listener::accept_loop(
            socket,
            gate,
            stop_rx,
            move |stream, peer| session::run(shared.clone(), stream, peer),
        ));
        info!(%addr, "Telnet honeypot listening.");
        Ok(TelnetHoneypot {
            addr,
            stop: stop_tx,
            task,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes every session, and waits (at most `grace`) until
    /// their last events are on the bus.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            warn!("Telnet sessions still open after the grace period; dropping them.");
            task.abort();
        }
    }
}
