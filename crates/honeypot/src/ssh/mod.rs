//! The SSH honeypot: a russh server that impersonates Debian 12's OpenSSH,
//! records every authentication attempt and runs accepted logins in the fake shell.
//!
//! Files: [`config`] (the `[honeypot.ssh]` section), [`profile`] (OpenSSH's
//! banner and algorithm lists), [`parser`] (pure parsing of the client's
//! identification line and KEXINIT), [`tap`] (the socket wrapper that sees those
//! bytes), [`hostkeys`], and [`session`] (the per-connection handler, where every
//! event is made). Accepted credentials are [`crate::credentials`]; the listener and
//! connection limits are [`crate::listener`]. This file owns start and shutdown.

pub mod config;
pub mod hostkeys;
pub mod parser;
pub mod profile;
pub mod scp;
pub mod session;
pub mod sftp;
pub mod tap;

use crate::HoneypotContext;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nectar_bus::EventSender;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub use config::SshHoneypotConfig;

use crate::Error;
use crate::capture::Capture;
use crate::credentials::{self, Credentials};
use crate::listener::{self, Gate};
use crate::shell::World;
use crate::shell::persona::Persona;

/// State shared by every connection.
pub(crate) struct Shared {
    pub config: SshHoneypotConfig,
    pub sensor: String,
    pub bus: EventSender,
    pub credentials: Credentials,
    pub world: Arc<World>,
    /// Recordings (and uploads) of sessions.
    pub capture: Arc<Capture>,
    pub russh: Arc<russh::server::Config>,
    /// HASSHes whose algorithm lists were already logged (bounded).
    pub seen_hassh: Mutex<HashSet<String>>,
    /// Flips to true at shutdown.
    pub stop: watch::Receiver<bool>,
    /// Fake secrets planted by the HTTP honeypot; a login with one is a
    /// `credential.reuse` event.
    pub honeytokens: Arc<crate::honeytoken::Honeytokens>,
}

/// Most distinct HASSHes remembered; the set is cleared when full, so a flood of
/// made-up KEXINITs costs a bounded amount of memory (and some repeated logs).
const MAX_HASSH: usize = 4096;

/// A running SSH honeypot.
pub struct SshHoneypot {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SshHoneypot {
    /// Binds the listener, loads or creates the host keys in the context's `ssh/`
    /// state directory, and starts accepting. The machine is the context's (or
    /// `hostname` when set); events go to its bus as its sensor; sessions are
    /// recorded (and uploads kept) as its capture says; passwords are checked
    /// against its honeytokens.
    pub async fn start(
        config: SshHoneypotConfig,
        cx: &HoneypotContext,
    ) -> Result<SshHoneypot, Error> {
        config.validate()?;
        let credentials = Credentials::parse(&config.credentials).map_err(Error::Config)?;
        let keys = hostkeys::load_or_generate(&cx.dir("ssh"))?;
        let hostname = cx.hostname(&config.hostname);
        let (sensor, bus, capture) = (cx.sensor.as_str(), cx.bus.clone(), cx.capture.clone());
        let honeytokens = cx.honeytokens.clone();
        let socket = listener::bind(config.listen, config.backlog)?;
        let addr = socket.local_addr().map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
        let users = credentials::login_names(&config.credentials);
        let world = World::new(Persona::debian(&hostname, users));
        let gate = Gate::new(
            "ssh",
            "SSH",
            config.max_connections,
            config.max_connections_per_ip,
            sensor,
            bus.clone(),
        );
        let russh = Arc::new(russh_config(&config, keys));
        let (stop_tx, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            config,
            sensor: sensor.to_owned(),
            bus,
            credentials,
            world,
            capture,
            russh,
            seen_hassh: Mutex::new(HashSet::new()),
            stop: stop_rx.clone(),
            honeytokens,
        });
        let task = tokio::spawn(listener::accept_loop(
            socket,
            gate,
            stop_rx,
            move |stream, peer| session::run(shared.clone(), stream, peer),
        ));
        info!(%addr, "SSH honeypot listening.");
        Ok(SshHoneypot {
            addr,
            stop: stop_tx,
            task,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, disconnects every session, and waits (at most `grace`)
    /// until their last events are on the bus.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            warn!("SSH sessions still open after the grace period; dropping them.");
            task.abort();
        }
    }
}

fn russh_config(
    config: &SshHoneypotConfig,
    keys: Vec<russh::keys::PrivateKey>,
) -> russh::server::Config {
    use russh::MethodKind;
    russh::server::Config {
        server_id: russh::SshId::Standard(config.banner.clone().into()),
        methods: russh::MethodSet::from(
            &[
                MethodKind::PublicKey,
                MethodKind::Password,
                MethodKind::KeyboardInteractive,
            ][..],
        ),
        auth_rejection_time: Duration::from_millis(config.failure_delay_ms),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys,
        // Our own count disconnects with OpenSSH's message first; this is a backstop.
        max_auth_attempts: config.max_auth_attempts as usize + 2,
        inactivity_timeout: Some(Duration::from_secs(config.idle_timeout_seconds)),
        preferred: profile::preferred(),
        ext_info: Some(
            profile::EXT_INFO
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        // Small windows and buffers: an idle session should cost a few KiB.
        window_size: 64 * 1024,
        maximum_packet_size: 32 * 1024,
        channel_buffer_size: 4,
        event_buffer_size: 4,
        nodelay: true,
        ..Default::default()
    }
}
