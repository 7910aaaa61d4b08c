//! `nectar serve`: opens the data directory, starts the writer and the web server, and
//! shuts down cleanly on SIGINT/SIGTERM without losing an acknowledged event.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use nectar_bus::{BUS_LINGER, BusConfig, spawn_bus};
use nectar_pipeline::topology::{
    BusPart, DetectorPart, InfluxPart, NotifyPart, Topology, WriterPart,
};
use nectar_store::{Role, Store};
use nectar_web::AppState;
use tracing::{info, warn};

use crate::config::{Config, parse_listen};
use crate::exit::usage;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address of the web UI and API; overrides `server.listen` (e.g. 0.0.0.0:8080).
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,

    #[command(flatten)]
    honeypots: HoneypotListenArgs,
}

/// Flags that move the honeypots (`serve` and `nectar sensor`).
#[derive(Debug, Args)]
pub struct HoneypotListenArgs {
    /// Address of the SSH honeypot; overrides `honeypot.ssh.listen` (e.g. 127.0.0.1:0).
    #[arg(long, value_name = "HOST:PORT")]
    honeypot_ssh_listen: Option<String>,

    /// Address of the Telnet honeypot; overrides `honeypot.telnet.listen` (e.g. 127.0.0.1:0).
    #[arg(long, value_name = "HOST:PORT")]
    honeypot_telnet_listen: Option<String>,
    /// Address of the HTTP honeypot; overrides `honeypot.http.listen` (e.g. 127.0.0.1:0).
    #[arg(long, value_name = "HOST:PORT")]
    honeypot_http_listen: Option<String>,
}

pub fn run(mut config: Config, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(listen) = args.listen {
        config.server.listen.0 =
            parse_listen(&listen).map_err(|e| usage(format!("--listen: {e}")))?;
    }
    args.honeypots.apply(&mut config)?;
    // After the flags, which move listeners: two on one port is a mistake of the
    // user's, not a honeypot that quietly fails to bind.
    config.check_listeners().map_err(|e| usage(e.to_string()))?;
    init_tracing(&config.log.level);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config))
}

impl HoneypotListenArgs {
    /// Moves the honeypots the flags name.
    pub fn apply(self, config: &mut Config) -> anyhow::Result<()> {
        let args = self;
        if let Some(listen) = args.honeypot_ssh_listen {
            config.honeypot.ssh.listen =
                parse_listen(&listen).map_err(|e| usage(format!("--honeypot-ssh-listen: {e}")))?;
        }
        if let Some(listen) = args.honeypot_telnet_listen {
            config.honeypot.telnet.listen = parse_listen(&listen)
                .map_err(|e| usage(format!("--honeypot-telnet-listen: {e}")))?;
        }
        if let Some(listen) = args.honeypot_http_listen {
            config.honeypot.http.listen =
                parse_listen(&listen).map_err(|e| usage(format!("--honeypot-http-listen: {e}")))?;
        }
        Ok(())
    }
}

pub(crate) fn init_tracing(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn serve(mut config: Config) -> anyhow::Result<()> {
    if let Some(listen) = &config.server.tls.listen {
        // The names sensors are told to use (the enrolment line's URL, the
        // certificate's names) are this server's own: served, not refused as
        // a DNS rebinding (see `server.allowed_hosts`).
        let mut names = config.server.tls.names.clone();
        if let Some(host) = crate::tls::public_host(listen.0) {
            names.push(host);
        }
        config.server.allowed_hosts.extend(names);
    }
    let store = crate::admin::open_store(&config).await?;
    let _one_serve = match store.backend() {
        nectar_store::Backend::Sqlite => Some(lock_sqlite_file(store.path())?),
        nectar_store::Backend::Postgres => None,
    };
    match store.backend() {
        nectar_store::Backend::Sqlite => {
            info!(path = %store.path().display(), "Database open (SQLite).")
        }
        nectar_store::Backend::Postgres => info!("Database open (PostgreSQL)."),
    }
    ensure_admin(&store, &config.data_dir).await?;
    let _retention = crate::retention::spawn(store.clone(), &config.store, &config.data_dir);
    let mut topology = Topology::new();
    // Memory a burst freed goes back to the system (see `memory`).
    let collector = crate::memory::spawn_collector();

    // Notifications read the store's alert notices on their own task, never
    // the ingest path. Started first, so a channel that cannot be built (an
    // unreadable ca_file) stops `serve` before anything listens; always
    // started: with no routes it only keeps its offset current, so routes
    // added later do not replay old alerts.
    let notifier = nectar_notify::Notifier::new(store.clone(), &config.notify, &config.sensor_name)
        .map_err(|e| usage(e.to_string()))?
        .spawn(&tokio::runtime::Handle::current());
    let notify_status = notifier.status();
    topology.add(NotifyPart(notifier));

    // The writer commits; its committed stream feeds the consumers (event log,
    // Cowrie log, alarms to InfluxDB), each at its own pace from its saved offset.
    let (writer, writer_task) = crate::flow::spawn_writer(&config, &store);
    let influx = crate::live::influx(&config)?;
    let consumers = crate::flow::start_consumers(
        &config,
        &store,
        &writer,
        crate::flow::Held::Fail,
        influx.as_ref(),
    )?;
    let rules = crate::flow::start_rules(&config, &store, &writer)?;
    let inventory_stage = crate::flow::start_inventory(&store, &writer)?;
    let mut probes: Vec<_> = consumers.iter().map(|c| c.probe()).collect();
    probes.push(inventory_stage.probe());
    topology.add(inventory_stage);
    let catalog = rules.map(|(stage, catalog)| {
        probes.push(stage.probe());
        topology.add(stage);
        catalog
    });
    for consumer in consumers {
        topology.add(consumer);
    }
    if let Some(sink) = &influx {
        topology.add(InfluxPart(sink.clone()));
    }

    // Every producer (honeypots, the detector, the API) sends here: one path, the
    // same checks, batched into the writer.
    let (bus, bus_task) = spawn_bus(
        writer.clone(),
        BusConfig {
            capacity: config.store.queue_events,
            max_batch: config.store.max_batch_events,
            linger: BUS_LINGER,
            limits: nectar_event::Limits::default(),
        },
    );
    let (detector, failures) =
        start_producers(&config, &bus, &mut topology, influx, Some(&store)).await?;
    // The sample fetcher: a consumer of committed downloads, and workers that
    // stop with the producers.
    if let Some((consumer, workers)) = crate::flow::start_fetcher(&config, &store, &writer, &bus)? {
        probes.push(consumer.probe());
        topology.add(consumer);
        topology.add(workers);
    }

    // Scans: one worker, nmap one scan at a time, results as events on the bus.
    let inventory = Arc::new(
        config
            .inventory
            .build()
            .map_err(|e| usage(e.within("inventory").to_string()))?,
    );
    let scans = nectar_inventory::scanner::spawn(
        inventory.clone(),
        store.clone(),
        bus.clone(),
        config.sensor_name.clone(),
    )
    .await
    .context("cannot start the scanner")?;

    let mut state = AppState::new(
        store.clone(),
        bus.clone(),
        writer.clone(),
        config.server.web_config(),
    )
    .with_consumers(probes)
    .with_rules(catalog)
    .with_sensor_name(&config.sensor_name)
    .with_data_dir(config.data_dir.clone())
    .with_notify(notify_status)
    .with_failures(failures)
    .with_inventory(inventory, scans)
    .with_enrich(start_enrich(&config, &bus)?);
    if !config.server.identity.as_os_str().is_empty() {
        let path = &config.server.identity;
        let identity = nectar_capture::seal::Opener::from_file(path)
            .map_err(|e| usage(format!("server.identity: {}: {e}", path.display())))?;
        state = state.with_identity(identity);
    }
    if let Some(d) = detector {
        state = state.with_detector(d);
    }
    // The topology keeps the last bus sender and writer handle: stopping them
    // drains the bus, then commits and closes the stream.
    topology.add(BusPart {
        sender: bus,
        task: bus_task,
    });
    topology.add(WriterPart {
        writer,
        task: writer_task,
    });
    for part in topology.components() {
        info!(component = %part.name, stage = ?part.stage, "Running.");
    }

    // HTTPS before the router is made: enrolments print its URL and pin.
    let tls = match &config.server.tls.listen {
        Some(listen) => {
            let tls = crate::tls::load(&config.server.tls, &config.data_dir)?;
            let listener = tokio::net::TcpListener::bind(listen.0).await.map_err(|e| {
                usage(format!(
                    "cannot listen on {} (server.tls.listen): {e}",
                    listen.0
                ))
            })?;
            let addr = listener
                .local_addr()
                .context("cannot read the HTTPS listening address")?;
            state = state.with_tls(nectar_web::TlsInfo {
                url: crate::tls::public_url(addr),
                pin: tls.pin.clone(),
            });
            // Before the HTTP line, which scripts wait for: both are known then.
            println!(
                "HTTPS listening on https://{addr}/ (certificate SHA-256 {})",
                tls.pin
            );
            info!(%addr, pin = %tls.pin, "HTTPS UI and API listening.");
            Some((listener, tls))
        }
        None => None,
    };
    let app = nectar_web::router(state);
    let listener = tokio::net::TcpListener::bind(config.server.listen.0)
        .await
        .map_err(|e| {
            usage(format!(
                "cannot listen on {} (server.listen): {e}",
                config.server.listen.0
            ))
        })?;
    let addr = listener
        .local_addr()
        .context("cannot read the listening address")?;
    let mut signals = ShutdownSignals::install();
    println!("Nectar is listening on http://{addr}/");
    let _ = std::io::stdout().flush();
    info!(%addr, "Web UI and API listening.");
    if config.server.secure_cookies.is_none() && !addr.ip().is_loopback() {
        // Browsers drop Secure cookies over plain HTTP: say why logins fail.
        info!(%addr, "Login cookies are Secure because the UI listens beyond loopback: serve it through TLS, or set [server] secure_cookies = false.");
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Header-read timeout, connection caps and bounded buffers (see web_server).
    let mut https = None;
    if let Some((tls_listener, tls)) = tls {
        https = Some(tokio::spawn(crate::web_server::serve(
            tls_listener,
            app.clone(),
            Some(tls.acceptor),
            stop_rx.clone(),
        )));
    }
    let mut server = tokio::spawn(crate::web_server::serve(listener, app, None, stop_rx));

    tokio::select! {
        result = &mut server => {
            // The server stopped by itself: an accept error it could not survive.
            result.context("the web server task failed")?.context("the web server failed")?;
        }
        signal = signals.wait() => {
            info!(signal, "Shutting down: no new connections; finishing open requests.");
            let _ = stop_tx.send(true);
            let grace = Duration::from_secs(config.server.shutdown_grace_seconds);
            if let Some(https) = https.take() {
                // Both servers drain in the same grace period.
                let abort = https.abort_handle();
                if tokio::time::timeout(grace, https).await.is_err() {
                    abort.abort();
                }
            }
            match tokio::time::timeout(grace, &mut server).await {
                Ok(result) => {
                    result.context("the web server task failed")?.context("the web server failed")?;
                }
                Err(_) => {
                    warn!(seconds = grace.as_secs(), "Requests still open after the grace period; closing them.");
                    server.abort();
                }
            }
        }
    }

    // The API is closed; the rest stops in flow order: producers, bus, writer
    // (whose commits are what requests were acknowledged with), consumers, sinks.
    topology.stop(STOP_GRACE).await;
    collector.abort();
    store.close().await;
    info!("Stopped cleanly.");
    Ok(())
}

/// One `serve` per SQLite file: it holds `nectar.db.serve-lock` (an advisory
/// file lock the system drops when the process ends, however it ends). Several
/// `serve` processes share a database on PostgreSQL only, where the roles that
/// must run once are leases (see `nectar_store::Store::try_lease`).
/// (`nectar analyze --store` may still write the file beside a running `serve`.)
fn lock_sqlite_file(db: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let mut path = db.as_os_str().to_owned();
    path.push(".serve-lock");
    let path = std::path::PathBuf::from(path);
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    if let Err(e) = file.try_lock() {
        anyhow::bail!(
            "another `nectar serve` uses the database {} ({}: {e}); one serve runs per SQLite \
             file — several share a database on PostgreSQL ([store] url)",
            db.display(),
            path.display()
        );
    }
    Ok(file)
}

/// How long each component may take to stop (a consumer far behind resumes from
/// its saved offset at next start).
const STOP_GRACE: Duration = Duration::from_secs(30);

/// Starts what makes events on this machine (the honeypots and live packet
/// detection), sending to `bus`: the same for `serve` and `nectar sensor`.
pub(crate) async fn start_producers(
    config: &Config,
    bus: &nectar_bus::EventSender,
    topology: &mut Topology,
    influx: Option<Arc<nectar_pipeline::sinks::influx::InfluxSink>>,
    store: Option<&Store>,
) -> anyhow::Result<(
    Option<Arc<nectar_pipeline::Detector>>,
    Vec<nectar_web::StartFailure>,
)> {
    // What honeypot sessions leave on disk (recordings), shared by every honeypot.
    let capture = crate::honeypot_cfg::capture(config)?;
    // One machine for every honeypot: `[honeypot.ssh] hostname`, or the name kept
    // in the data directory.
    let machine = nectar_honeypot::Machine::decide(&config.honeypot.ssh.hostname, &config.data_dir)
        .context("cannot keep the honeypots' host name")?;
    let mut honeypots = nectar_honeypot::HoneypotContext::new(
        &config.data_dir,
        &config.sensor_name,
        bus.clone(),
        machine,
    );
    honeypots.capture = capture;
    honeypots.honeytokens = load_honeytokens(config)?;
    // What could not start is shown on the dashboard and in /api/v1/status,
    // and is a `sensor.status` event, not only a log line.
    let mut failures = Vec::new();
    topology.add_some(start_ssh_honeypot(config, &honeypots, &mut failures).await);
    topology.add_some(start_telnet_honeypot(config, &honeypots, &mut failures).await);
    topology.add_some(crate::serve_http::start(config, &honeypots, &mut failures).await);
    for failure in &failures {
        let event = nectar_event::Event::new(
            config.sensor_name.clone(),
            nectar_event::Kind::SensorStatus,
            nectar_event::Severity::High,
            format!(
                "The {} could not start: {}",
                failure.component, failure.error
            ),
        )
        .with("component", failure.component.clone())
        .with("setting", failure.setting.clone())
        .with("error", failure.error.clone());
        bus.send(event).await;
    }
    // The honeypots hold their own senders: the bus closes once they stop.
    drop(honeypots);
    // Per-device behaviour: models in the store under `serve`, in the data
    // directory under `nectar sensor` (which ships the events, see
    // `nectar_pipeline::detector`).
    let devices = if config.capture.enabled() {
        crate::live::devices_setup(config, store).await?
    } else {
        None
    };
    let detector = crate::live::start(config, bus, influx, devices)?;
    if let Some(d) = &detector {
        topology.add(DetectorPart(d.clone()));
    }
    Ok((detector, failures))
}

/// Starts the SSH honeypot if enabled. A port that cannot be bound is logged and
/// the rest of Nectar keeps running: a honeypot is one sensor among several.
async fn start_ssh_honeypot(
    config: &Config,
    honeypots: &nectar_honeypot::HoneypotContext,
    failures: &mut Vec<nectar_web::StartFailure>,
) -> Option<nectar_honeypot::ssh::SshHoneypot> {
    let ssh = &config.honeypot.ssh;
    if !ssh.enabled {
        return None;
    }
    let started = nectar_honeypot::ssh::SshHoneypot::start(ssh.clone(), honeypots).await;
    announce("SSH", "ssh", ssh.listen, started, failures, |h| {
        h.local_addr()
    })
}

/// Starts the Telnet honeypot if enabled; like SSH, a port that cannot be bound
/// is logged and the rest of Nectar keeps running.
async fn start_telnet_honeypot(
    config: &Config,
    honeypots: &nectar_honeypot::HoneypotContext,
    failures: &mut Vec<nectar_web::StartFailure>,
) -> Option<nectar_honeypot::telnet::TelnetHoneypot> {
    let telnet = &config.honeypot.telnet;
    if !telnet.enabled {
        return None;
    }
    let started = nectar_honeypot::telnet::TelnetHoneypot::start(telnet.clone(), honeypots).await;
    announce("Telnet", "telnet", telnet.listen, started, failures, |h| {
        h.local_addr()
    })
}

/// Prints where a started honeypot listens (tests and scripts read that line), or
/// logs why it did not start, naming its `honeypot.SECTION` keys, and adds that
/// to `failures` (the dashboard and `/api/v1/status` show them).
pub(crate) fn announce<H, E: std::fmt::Display>(
    name: &str,
    section: &str,
    listen: std::net::SocketAddr,
    started: Result<H, E>,
    failures: &mut Vec<nectar_web::StartFailure>,
    local_addr: impl Fn(&H) -> std::net::SocketAddr,
) -> Option<H> {
    match started {
        Ok(honeypot) => {
            println!("{name} honeypot listening on {}", local_addr(&honeypot));
            let _ = std::io::stdout().flush();
            Some(honeypot)
        }
        Err(e) => {
            tracing::error!(
                error = %e,
                "The {name} honeypot is not running (honeypot.{section}.listen = {listen}); set another port or `honeypot.{section}.enabled = false`."
            );
            failures.push(nectar_web::StartFailure {
                component: format!("{section} honeypot"),
                setting: format!("honeypot.{section}.listen = {listen}"),
                error: format!("{e:#}"),
            });
            None
        }
    }
}

/// This installation's honeytokens (made on first start), shared by the
/// honeypots: the HTTP one plants them, every one watches for them.
fn load_honeytokens(
    config: &Config,
) -> anyhow::Result<std::sync::Arc<nectar_honeypot::honeytoken::Honeytokens>> {
    if !config.honeypot.http.enabled {
        return Ok(std::sync::Arc::new(
            nectar_honeypot::honeytoken::Honeytokens::empty(),
        ));
    }
    let tokens = nectar_honeypot::honeytoken::Honeytokens::load_or_create(&config.data_dir)
        .context("cannot load the honeytokens")?;
    Ok(std::sync::Arc::new(tokens))
}

/// SIGINT (Ctrl-C) and SIGTERM, caught from the moment this is made: made before
/// `serve` says where it listens, so a signal sent right after that line stops it
/// cleanly instead of killing it.
pub(crate) struct ShutdownSignals {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl ShutdownSignals {
    pub(crate) fn install() -> ShutdownSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = match (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) {
                (Ok(int), Ok(term)) => Some((int, term)),
                _ => None,
            };
            ShutdownSignals { streams }
        }
        #[cfg(not(unix))]
        ShutdownSignals {}
    }

    /// Waits for the first signal and names it.
    pub(crate) async fn wait(&mut self) -> &'static str {
        #[cfg(unix)]
        if let Some((int, term)) = &mut self.streams {
            return tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
        }
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// On first start (no users), creates `admin` with a random password saved,
/// readable only by the owner, in DATA_DIR/initial-admin-password (removed once the
/// password is changed), and prints where it is.
async fn ensure_admin(store: &Store, data_dir: &Path) -> anyhow::Result<()> {
    if store.count_users().await? > 0 {
        return Ok(());
    }
    let password = nectar_web::generate_password();
    let hash = nectar_web::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let path = data_dir.join(nectar_store::INITIAL_ADMIN_PASSWORD_FILE);
    write_private(&path, &format!("{password}\n"))
        .with_context(|| format!("cannot write {}", path.display()))?;
    store
        .create_user(nectar_store::INITIAL_ADMIN, &hash, Role::Admin)
        .await?;
    // Only where it is: terminals and service logs keep what is printed.
    println!(
        "Created user 'admin'; its password is in {} (readable only by you; removed once the password is changed, e.g. with `nectar user passwd admin`)",
        path.display()
    );
    Ok(())
}

/// Writes a file only its owner can read (mode 0600 from creation on, no window).
pub(crate) fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// `[enrich]`: loads the databases and lists (a bad one is a usage error naming
/// its key), and reports prefixes of our networks found on a list as
/// `host.listed` events.
fn start_enrich(
    config: &Config,
    bus: &nectar_bus::EventSender,
) -> anyhow::Result<Arc<nectar_enrich::Enricher>> {
    let settings = config
        .enrich
        .build(Some(config.data_dir.join("enrich")))
        .map_err(|e| usage(e.within("enrich").to_string()))?;
    let enricher =
        nectar_enrich::Enricher::start(settings).map_err(|e| usage(format!("enrich.{e}")))?;
    let networks: Vec<String> = config.inventory.networks.clone();
    if !networks.is_empty() && !config.enrich.lists.is_empty() {
        let bus = bus.clone();
        let sensor = config.sensor_name.clone();
        enricher.watch_own_networks(&networks, move |hits| {
            for h in hits {
                let event = nectar_event::Event::new(
                    sensor.as_str(),
                    nectar_event::Kind::HostListed,
                    nectar_event::Severity::High,
                    format!(
                        "Our network {} is on the list {} ({}): {}",
                        h.network, h.list.name, h.list.category, h.range
                    ),
                )
                .with("list", h.list.name.as_str())
                .with("category", h.list.category.as_str())
                .with("network", h.network.as_str())
                .with("range", h.range.as_str())
                .with("ranges", h.ranges);
                tracing::warn!(list = %h.list.name, range = %h.range, "A prefix of our networks is on a reputation list.");
                bus.try_send(event);
            }
        });
    }
    Ok(enricher)
}
