//! The event flow both `serve` and `analyze --store` run: the writer, the
//! consumers of its committed stream (the event log, the Cowrie log; for
//! `serve`, the rules, the inventory and the alarms to InfluxDB) and, for
//! `serve`, the bus in front of it.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use nectar_bus::stream::{
    ConsumerConfig, ConsumerHandle, JsonLines, LineFile, StartAt, spawn_consumer,
};
use nectar_pipeline::sinks::influx::InfluxSink;
use nectar_pipeline::sinks::influx_stream::InfluxStream;
use nectar_store::{Store, WriterHandle};
use tracing::warn;

use crate::config::Config;

/// The event log's consumer name (its offset's key, shown in `/api/v1/status`).
pub const EVENT_LOG: &str = "event-log";

/// Starts the rules stage (`[rules]`): the built-in pack and the rule folders,
/// run over every committed event. Rules that do not load are logged and
/// listed on the Rules page; the others run.
pub fn start_rules(
    config: &Config,
    store: &Store,
    writer: &WriterHandle,
) -> anyhow::Result<Option<(ConsumerHandle, Arc<nectar_rules::RulesCatalog>)>> {
    if !config.rules.enabled {
        return Ok(None);
    }
    let set = nectar_rules::RuleSet::load(
        &config.rules.paths,
        &config.rules.disabled,
        config.rules.builtin,
    );
    let (engine, compile_errors) = nectar_rules::SigmaEngine::new(&set, config.rules.limits());
    let mut errors = set.errors.clone();
    errors.extend(compile_errors);
    for e in &errors {
        warn!(error = %e, "A rule was not loaded.");
    }
    tracing::info!(
        rules = engine.rule_count(),
        errors = errors.len(),
        "Rules loaded."
    );
    let stats = Arc::new(nectar_rules::RulesStats::default());
    let catalog = Arc::new(nectar_rules::RulesCatalog {
        rules: set.infos.clone(),
        errors,
        stats: stats.clone(),
    });
    let stage = nectar_rules::RulesStage::new(Box::new(engine), store.clone(), stats);
    let handle = spawn_consumer(
        stage,
        store.clone(),
        writer.fanout(),
        ConsumerConfig {
            // Each save exports the correlation windows: not 4 times a second.
            save_every: Duration::from_secs(2),
            ..ConsumerConfig::default()
        },
    )
    .context("cannot start the rules stage")?;
    Ok(Some((handle, catalog)))
}

/// Starts the inventory stage: host and service events of every producer
/// (this process's observer and scans, `analyze --store`, remote sensors,
/// imports) folded into the host tables. Only `serve` runs it, as it runs the
/// rules: a store has one folder, which catches up from its saved offset.
pub fn start_inventory(store: &Store, writer: &WriterHandle) -> anyhow::Result<ConsumerHandle> {
    spawn_consumer(
        nectar_inventory::InventoryStage::new(store.clone()),
        store.clone(),
        writer.fanout(),
        ConsumerConfig::default(),
    )
    .context("cannot start the inventory stage")
}

/// Starts the sample fetcher when `[fetcher] enabled`: its consumer of the
/// committed stream (downloads become jobs) and its workers (a producer: they
/// send `sample.fetch` events on `bus`), keeping files in the upload directory.
pub fn start_fetcher(
    config: &Config,
    store: &Store,
    writer: &WriterHandle,
    bus: &nectar_bus::EventSender,
) -> anyhow::Result<Option<(ConsumerHandle, nectar_pipeline::fetcher::FetcherPart)>> {
    if !config.fetcher.enabled {
        return Ok(None);
    }
    let sealer = if config.honeypot.encrypt_to.trim().is_empty() {
        None
    } else {
        Some(
            nectar_capture::seal::Sealer::new(&config.honeypot.encrypt_to)
                .map_err(|e| crate::exit::usage(format!("honeypot.encrypt_to: {e}")))?,
        )
    };
    let uploads = nectar_capture::uploads::UploadStore::open(
        &config.data_dir,
        config.fetcher.max_bytes,
        config.honeypot.uploads.quota_bytes,
        sealer,
    )
    .with_context(|| {
        format!(
            "cannot open the upload directory {} for the sample fetcher",
            config.data_dir.join("uploads").display()
        )
    })?;
    let (consumer, workers) = nectar_pipeline::fetcher::spawn(
        config.fetcher.clone(),
        uploads,
        bus.clone(),
        config.sensor_name.clone(),
        &tokio::runtime::Handle::try_current().context("no async runtime")?,
    );
    let handle = run(consumer, store, writer)?;
    tracing::info!(
        allow = ?config.fetcher.allow,
        proxy = %config.fetcher.proxy,
        "The sample fetcher is on."
    );
    Ok(Some((handle, workers)))
}

/// How long stopping waits for each consumer to write what was committed.
pub const CONSUMER_GRACE: Duration = Duration::from_secs(30);

/// The writer with the configured batching.
pub fn spawn_writer(config: &Config, store: &Store) -> (WriterHandle, tokio::task::JoinHandle<()>) {
    WriterHandle::spawn(store.clone(), config.store.writer_config())
}

/// Whether a consumer may be missing: `serve` needs every one; `analyze --store`
/// leaves a log another process (a running `serve`) holds to that process,
/// which catches up with the store by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Fail to start.
    Fail,
    /// Say so on stderr and go on without it.
    Skip,
}

/// Starts the consumers the configuration asks for, reading `writer`'s stream:
/// the logs, and the alarms to `influx` when `serve` runs that sink.
pub fn start_consumers(
    config: &Config,
    store: &Store,
    writer: &WriterHandle,
    held: Held,
    influx: Option<&Arc<InfluxSink>>,
) -> anyhow::Result<Vec<ConsumerHandle>> {
    let mut consumers = Vec::new();
    if let Some(sink) = influx
        && sink.reads_stored_events()
    {
        consumers.push(run(InfluxStream::new(sink.clone()), store, writer)?);
    }
    if config.event_log.enabled {
        let path = config.event_log_path();
        let log = LineFile::open(
            EVENT_LOG,
            config.event_log.jsonl_config(&config.data_dir),
            JsonLines,
            StartAt::Latest,
        );
        match (log, held) {
            (Ok(log), _) => consumers.push(run(log, store, writer)?),
            (Err(e), Held::Skip) => {
                warn!(error = %e, "The event log is left to the process that holds it.");
            }
            (Err(e), Held::Fail) => {
                return Err(anyhow::anyhow!(
                    "cannot open the event log {} (event_log.path): {e}",
                    path.display()
                ));
            }
        }
    }
    if config.honeypot.cowrie.enabled {
        match (
            nectar_honeypot::cowrie::consumer(&config.honeypot.cowrie, &config.data_dir),
            held,
        ) {
            (Ok(log), _) => consumers.push(run(log, store, writer)?),
            (Err(e), Held::Skip) => {
                warn!(error = %e, "The Cowrie log is left to the process that holds it.");
            }
            (Err(e), Held::Fail) => {
                return Err(crate::exit::usage(format!("honeypot.cowrie: {e}")));
            }
        }
    }
    if let Some(pause) = slow_test_consumer() {
        consumers.push(run(
            SlowConsumer {
                pause: Duration::from_millis(pause),
            },
            store,
            writer,
        )?);
    }
    Ok(consumers)
}

/// `NECTAR_TEST_SLOW_CONSUMER_MS`: a test hook, not a setting. With it, `serve`
/// runs one more consumer, `test-slow`, that only sleeps that many milliseconds
/// per delivery, so end-to-end tests can show that a consumer far behind holds
/// back neither the honeypots nor the API, and that its lag is reported.
fn slow_test_consumer() -> Option<u64> {
    std::env::var("NECTAR_TEST_SLOW_CONSUMER_MS")
        .ok()?
        .parse()
        .ok()
        .filter(|ms| *ms > 0)
}

/// See [`slow_test_consumer`].
struct SlowConsumer {
    pause: Duration,
}

impl nectar_bus::stream::Consumer for SlowConsumer {
    fn name(&self) -> &str {
        "test-slow"
    }
    fn resume(&mut self, _: &str) -> Result<(), nectar_bus::stream::ConsumerError> {
        Ok(())
    }
    fn deliver(
        &mut self,
        _: u64,
        _: &[nectar_event::Event],
    ) -> Result<(), nectar_bus::stream::ConsumerError> {
        std::thread::sleep(self.pause);
        Ok(())
    }
    fn checkpoint(&mut self) -> Result<String, nectar_bus::stream::ConsumerError> {
        Ok(String::new())
    }
}

fn run<C: nectar_bus::stream::Consumer>(
    consumer: C,
    store: &Store,
    writer: &WriterHandle,
) -> anyhow::Result<ConsumerHandle> {
    spawn_consumer(
        consumer,
        store.clone(),
        writer.fanout(),
        ConsumerConfig::default(),
    )
    .context("cannot start a consumer thread")
}

/// Stops the consumers once the writer has stopped: each writes what was
/// committed and saves its offset.
pub async fn stop_consumers(consumers: Vec<ConsumerHandle>) {
    for consumer in consumers {
        consumer.stop(CONSUMER_GRACE).await;
    }
}
