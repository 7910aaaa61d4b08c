//! Remote sensors from the command line (#20):
//!
//! - `nectar sensor-token create NAME` (on the server): a one-time, expiring
//!   enrolment secret, printed as the one command line to run on the sensor.
//! - `nectar sensor enrol URL SECRET --pin SHA256` (on the sensor): exchanges
//!   it for the sensor's credential, over a link that trusts only the pin.
//! - `nectar sensor`: runs the honeypots and packet detection of `serve`, with
//!   no UI or database: events go to an on-disk spool, and from there to the
//!   server, deleted only once the server committed them.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use nectar_bus::{BUS_LINGER, BusConfig, spawn_bus};
use nectar_pipeline::topology::{BusPart, Topology};
use nectar_sensor::{Credential, Shipper, ShipperConfig, SpoolIngest, Stopped};
use tracing::{error, info};

use crate::config::Config;
use crate::exit::usage;

#[derive(Debug, Subcommand)]
pub enum SensorTokenCommand {
    /// Make a one-time enrolment secret for sensor NAME and print the command
    /// that enrols it (alone, on the last line), with the server's URL and the
    /// pin of its certificate.
    Create {
        /// The sensor's name: the `sensor` of every event it sends.
        name: String,
        /// How long the secret stays valid: a number and a unit (s, m, h,
        /// d), from 10s to 30d.
        #[arg(long, default_value = "24h", value_parser = parse_lifetime)]
        expires: Duration,
        /// The URL sensors reach this server at (default: from
        /// `[server.tls] listen`, an unspecified address replaced by this
        /// machine's host name).
        #[arg(long, value_name = "https://HOST:PORT")]
        url: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct SensorArgs {
    #[command(subcommand)]
    command: Option<SensorCommand>,

    #[command(flatten)]
    honeypots: crate::serve::HoneypotListenArgs,
}

#[derive(Debug, Subcommand)]
enum SensorCommand {
    /// Exchange an enrolment secret for this sensor's credential (kept in
    /// DATA_DIR/sensor.toml). A wrong pin stops before anything is sent.
    Enrol {
        /// The server's HTTPS URL.
        url: String,
        /// The one-time secret from `nectar sensor-token create`.
        secret: String,
        /// SHA-256 of the server's certificate (or of its CA).
        #[arg(long)]
        pin: String,
    },
}

/// `nectar sensor-token ...`, on the server's data directory.
pub fn token(config: &Config, command: SensorTokenCommand) -> anyhow::Result<()> {
    let SensorTokenCommand::Create { name, expires, url } = command;
    nectar_web::check_sensor_name(&name, &config.sensor_name)
        .map_err(|e| usage(format!("NAME: {}", e.message())))?;
    let url = match url {
        Some(url) => nectar_sensor::base_url(&url).map_err(|e| usage(format!("--url: {e}")))?,
        None => match &config.server.tls.listen {
            Some(listen) => crate::tls::public_url(listen.0),
            None => {
                return Err(usage(
                    "sensors connect over HTTPS: set [server.tls] listen (e.g. \"0.0.0.0:8443\") in the configuration, or give --url",
                ));
            }
        },
    };
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    // The same certificate `serve` will use (made now if it is the first).
    let tls = crate::tls::load(&config.server.tls, &config.data_dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = crate::admin::open_store(config).await?;
        let made = nectar_web::create_sensor_enrolment(&store, &name, expires).await;
        store.close().await;
        let (secret, expires) = made.map_err(|e| match e {
            nectar_store::StoreError::Exists { .. } => usage(e.to_string()),
            other => anyhow::Error::new(other),
        })?;
        eprintln!(
            "Enrolment secret for sensor {name:?}, valid once until {expires}. On the sensor, run:"
        );
        println!(
            "nectar sensor enrol {url} {secret} --pin {} --data-dir /var/lib/nectar-sensor",
            tls.pin
        );
        Ok(())
    })
}

/// `90s`, `30m`, `24h`, `7d`: from 10 seconds to 30 days.
fn parse_lifetime(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?}: give a number and a unit (s, m, h or d), e.g. 24h");
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => number,
        "m" => number.saturating_mul(60),
        "h" => number.saturating_mul(3600),
        "d" => number.saturating_mul(86_400),
        _ => return Err(bad()),
    };
    if !(10..=30 * 86_400).contains(&seconds) {
        return Err(format!("{text:?}: from 10s to 30d"));
    }
    Ok(Duration::from_secs(seconds))
}

/// `nectar sensor [enrol ...]`.
pub fn run(mut config: Config, args: SensorArgs) -> anyhow::Result<()> {
    if args.command.is_none() {
        // Before any thread starts: a sensor should fit in 64 MiB.
        crate::memory::restart_small();
        crate::memory::keep_small();
    }
    crate::serve::init_tracing(&config.log.level);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match args.command {
        Some(SensorCommand::Enrol { url, secret, pin }) => runtime.block_on(async {
            let credential = nectar_sensor::enrol(&url, &secret, &pin, env!("CARGO_PKG_VERSION"))
                .await
                .map_err(|e| match e {
                    nectar_sensor::SensorError::Usage { .. } => usage(e.to_string()),
                    other => anyhow::Error::new(other),
                })?;
            let path = credential
                .save(&config.data_dir)
                .context("cannot keep the credential")?;
            println!(
                "Enrolled as sensor {:?} of {}; credential kept in {}",
                credential.name,
                credential.server,
                path.display()
            );
            Ok(())
        }),
        None => {
            // A smaller capture ring than `serve`'s unless one is set: it is
            // resident, and a sensor should fit in 64 MiB.
            config.capture.ring_mib.get_or_insert(SENSOR_RING_MIB);
            args.honeypots.apply(&mut config)?;
            config.check_listeners().map_err(|e| usage(e.to_string()))?;
            runtime.block_on(run_sensor(config))
        }
    }
}

/// The capture ring of a sensor whose `[capture] ring_mib` is not set.
const SENSOR_RING_MIB: u32 = 4;

/// How long the producers and the bus may take to stop.
const STOP_GRACE: Duration = Duration::from_secs(30);

async fn run_sensor(mut config: Config) -> anyhow::Result<()> {
    let mut credential = Credential::load(&config.data_dir).map_err(|e| usage(e.to_string()))?;
    if !config.sensor.server.is_empty() {
        credential.server =
            nectar_sensor::base_url(&config.sensor.server).map_err(|e| usage(e.to_string()))?;
    }
    // Every event it makes carries the name the server enrolled it under.
    config.sensor_name = credential.name.clone();
    let spool_path = config.data_dir.join("spool.db");
    let spool = nectar_spool::Spool::open(&spool_path, config.sensor.spool_config())
        .await
        .with_context(|| format!("cannot open the spool {}", spool_path.display()))?;
    if let Some(torn) = spool.torn_write() {
        // The server learns of it too: a batch the sensor made never reaches it.
        let event = nectar_event::Event::new(
            credential.name.as_str(),
            nectar_event::Kind::SensorStatus,
            nectar_event::Severity::High,
            format!(
                "The sensor's spool ended in a write cut off (a power cut or a crash): {} bytes of an unfinished batch were discarded at restart; the batches before it were kept",
                torn.discarded_bytes
            ),
        )
        .with("status", "spool_torn")
        .with("discarded_bytes", torn.discarded_bytes)
        .with("cut_frame", torn.cut_frame);
        spool
            .append(&[event])
            .await
            .context("cannot spool the report of a torn write")?;
    }
    let (bus, bus_task) = spawn_bus(
        SpoolIngest::new(spool.clone()),
        BusConfig {
            // Small: the spool is the sensor's queue, and every event waiting
            // here is memory (a sensor should fit in 64 MiB).
            capacity: config.sensor.queue_events,
            max_batch: config.sensor.batch_events,
            linger: BUS_LINGER,
            limits: nectar_event::Limits::default(),
        },
    );
    let mut topology = Topology::new();
    crate::serve::start_producers(&config, &bus, &mut topology, None, None).await?;
    topology.add(BusPart {
        sender: bus,
        task: bus_task,
    });
    let shipper = Shipper::new(spool.clone(), credential.clone(), ShipperConfig::default())
        .map_err(|e| usage(e.to_string()))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shipping = tokio::spawn(shipper.run(stop_rx));
    println!(
        "Nectar sensor {:?} is sending to {}",
        credential.name, credential.server
    );
    let _ = std::io::stdout().flush();
    info!(sensor = %credential.name, server = %credential.server, spool = %spool_path.display(), "Sensor running.");

    // Memory freed after a burst (a flood on a honeypot) goes back to the
    // system, as in `serve`.
    let collector = crate::memory::spawn_collector();
    let mut signals = crate::serve::ShutdownSignals::install();
    let revoked = tokio::select! {
        signal = signals.wait() => {
            info!(signal, "Stopping: the spool keeps what was not sent yet.");
            None
        }
        ended = &mut shipping => Some(ended),
    };
    // Producers and the bus first: what they made reaches the spool.
    topology.stop(STOP_GRACE).await;
    let _ = stop_tx.send(true);
    let ended = match revoked {
        Some(ended) => ended,
        None => match tokio::time::timeout(Duration::from_secs(10), &mut shipping).await {
            Ok(ended) => ended,
            Err(_) => {
                shipping.abort();
                Ok(Ok(Stopped::Asked))
            }
        },
    };
    collector.abort();
    spool.close().await;
    match ended.context("the shipper failed")? {
        Ok(Stopped::Asked) => {
            info!("Stopped cleanly.");
            Ok(())
        }
        Ok(Stopped::Revoked(message)) => Err(anyhow::anyhow!(
            "the server refused this sensor's credential ({message}): it was revoked; events stay in the spool. Enrol again with a new `nectar sensor-token create` line"
        )),
        Err(e) => {
            error!(error = %e, "The spool failed.");
            Err(anyhow::Error::new(e).context("the spool failed"))
        }
    }
}
