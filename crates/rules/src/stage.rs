//! The rules stage: a consumer of the committed-event stream that runs every
//! event through the rule engine and folds the matches into alerts.
//!
//! Exactly once, across crashes, without saving the engine's state on every
//! batch: the store keeps `applied_seq` (matches of events up to it are in the
//! alerts; saved in the same transaction as the alerts) and the correlation
//! state as of `state_seq` (saved at each checkpoint, with the offset after
//! it, so the stream's offset is never ahead of `state_seq`). After a restart
//! events up to `state_seq` are skipped, events up to `applied_seq` only rebuild
//! the correlation windows, and later ones raise alerts again.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nectar_bus::stream::{Consumer, ConsumerError, StartAt};
use nectar_event::{Event, Timestamp};
use nectar_store::{AlertFold, Store};
use tokio::runtime::Handle;
use tracing::{info, warn};

use crate::engine::{Match, RuleEngine};
use crate::observables::observables_of;
use crate::silence::ActiveSilences;

/// The name of the stage's offset and progress rows.
pub const STAGE: &str = "rules";

/// How often silences are read again from the store.
const SILENCE_REFRESH: Duration = Duration::from_secs(2);

/// Live counters of the stage, for `/api/v1/status` and the Rules page.
#[derive(Debug, Default)]
pub struct RulesStats {
    /// Events evaluated.
    pub events: AtomicU64,
    /// Matches (before folding).
    pub matches: AtomicU64,
    /// Alerts raised.
    pub raised: AtomicU64,
    /// Matches folded into open alerts.
    pub folded: AtomicU64,
    /// Matches silences held back.
    pub silenced: AtomicU64,
    /// Correlation windows held.
    pub windows: AtomicU64,
}

/// The consumer.
pub struct RulesStage {
    engine: Box<dyn RuleEngine>,
    store: Store,
    handle: Handle,
    stats: Arc<RulesStats>,
    silences: ActiveSilences,
    silences_read: Option<Instant>,
    applied_seq: u64,
    state_seq: u64,
    delivered_seq: u64,
    matches: Vec<Match>,
    pending: Option<Pending>,
}

impl RulesStage {
    /// A stage running `engine` over the stream, writing to `store`. Call from
    /// inside a tokio runtime (the stage blocks on it from its own thread).
    pub fn new(engine: Box<dyn RuleEngine>, store: Store, stats: Arc<RulesStats>) -> RulesStage {
        RulesStage {
            engine,
            store,
            handle: Handle::current(),
            stats,
            silences: ActiveSilences::default(),
            silences_read: None,
            applied_seq: 0,
            state_seq: 0,
            delivered_seq: 0,
            matches: Vec::new(),
            pending: None,
        }
    }

    fn refresh_silences(&mut self) {
        if self
            .silences_read
            .is_some_and(|t| t.elapsed() < SILENCE_REFRESH)
        {
            return;
        }
        match self
            .handle
            .block_on(self.store.silences(Some(Timestamp::now()), 10_000))
        {
            Ok(list) => {
                self.silences = ActiveSilences::new(&list);
                self.silences_read = Some(Instant::now());
            }
            Err(e) => warn!(error = %e, "Could not read the silences; keeping the last ones read."),
        }
    }
}

/// The fingerprint of a rule and group: where its matches fold.
pub fn fingerprint(rule_id: &str, group: &BTreeMap<String, String>) -> String {
    let mut f = String::with_capacity(rule_id.len() + 32);
    f.push_str(rule_id);
    for (k, v) in group {
        f.push('|');
        f.push_str(k);
        f.push('=');
        f.push_str(v);
    }
    f
}

/// The title of an alert: the rule's title and its group values.
pub fn title(rule_title: &str, group: &BTreeMap<String, String>) -> String {
    if group.is_empty() {
        return rule_title.to_owned();
    }
    let values: Vec<&str> = group.values().map(String::as_str).collect();
    format!("{rule_title}: {}", values.join(", "))
}

/// Adds one match of `event` to the batch's folds.
fn fold_match(
    folds: &mut HashMap<String, AlertFold>,
    m: Match,
    event: &Event,
    silence: Option<uuid::Uuid>,
) {
    let key = fingerprint(&m.rule.id, &m.group);
    let fold = folds.entry(key.clone()).or_insert_with(|| AlertFold {
        title: title(&m.rule.title, &m.group),
        rule: (*m.rule).clone(),
        group: m.group.clone(),
        fingerprint: key,
        matches: 0,
        initial_count: 0,
        silenced: Vec::new(),
        first_seen: event.time,
        last_seen: event.time,
        first_event: event.id,
        last_event: event.id,
        events: Vec::new(),
        observables: Vec::new(),
    });
    if let Some(s) = silence {
        match fold.silenced.iter_mut().find(|(id, _)| *id == s) {
            Some((_, n)) => *n += 1,
            None => fold.silenced.push((s, 1)),
        }
        fold.events.push((event.id, true));
        return;
    }
    if fold.matches == 0 {
        fold.initial_count = m.initial_count;
        fold.first_seen = event.time;
        fold.first_event = event.id;
        fold.last_seen = event.time;
        fold.last_event = event.id;
        for earlier in m.earlier_event_ids(event.id) {
            fold.events.push((earlier, false));
        }
    } else if event.time >= fold.last_seen {
        fold.last_seen = event.time;
        fold.last_event = event.id;
    }
    fold.matches += 1;
    fold.events.push((event.id, false));
    for o in observables_of(event) {
        if !fold.observables.contains(&o) {
            fold.observables.push(o);
        }
    }
}

impl Consumer for RulesStage {
    fn name(&self) -> &str {
        STAGE
    }

    fn start_at(&self) -> StartAt {
        StartAt::Beginning
    }

    fn resume(&mut self, _checkpoint: &str) -> Result<(), ConsumerError> {
        let progress = self
            .handle
            .block_on(self.store.rule_progress(STAGE))
            .map_err(ConsumerError::from_display)?;
        self.applied_seq = progress.applied_seq;
        self.state_seq = progress.state_seq;
        self.delivered_seq = progress.state_seq;
        if !progress.state.is_empty() && !self.engine.import_state(&progress.state) {
            warn!(
                "The saved correlation state does not fit the rules loaded now; correlation windows start empty."
            );
        }
        info!(
            applied = progress.applied_seq,
            state = progress.state_seq,
            "Rules stage resumed."
        );
        Ok(())
    }

    fn deliver(&mut self, first_seq: u64, events: &[Event]) -> Result<(), ConsumerError> {
        // A write that failed before goes first.
        self.write_pending()?;
        self.refresh_silences();
        let mut folds: HashMap<String, AlertFold> = HashMap::new();
        let mut hits: HashMap<String, (u64, Timestamp)> = HashMap::new();
        let mut evaluated = 0u64;
        let mut matched = 0u64;
        for (i, event) in events.iter().enumerate() {
            let seq = first_seq + i as u64;
            if seq <= self.delivered_seq {
                // Already evaluated (before a restart: in the restored state).
                continue;
            }
            evaluated += 1;
            self.engine.process(event, &mut self.matches);
            if seq <= self.applied_seq {
                // In the alerts already: this only rebuilds the windows.
                self.matches.clear();
                continue;
            }
            matched += self.matches.len() as u64;
            for m in self.matches.drain(..) {
                let hit = hits.entry(m.rule.id.clone()).or_insert((0, event.time));
                hit.0 += 1;
                hit.1 = hit.1.max(event.time);
                let silence = self.silences.covering(&m, event);
                fold_match(&mut folds, m, event, silence);
            }
        }
        let last = first_seq + events.len() as u64 - 1;
        self.stats.events.fetch_add(evaluated, Ordering::Relaxed);
        self.stats.matches.fetch_add(matched, Ordering::Relaxed);
        self.stats
            .windows
            .store(self.engine.state_size() as u64, Ordering::Relaxed);
        // The engine has seen these events now: whatever happens to the write,
        // they are not evaluated again (the runner offers them again after an
        // error; the pending write is retried instead).
        self.delivered_seq = self.delivered_seq.max(last);
        if !folds.is_empty() {
            self.pending = Some(Pending {
                last: last.max(self.applied_seq),
                folds: folds.into_values().collect(),
                hits: hits.into_iter().map(|(r, (n, t))| (r, n, t)).collect(),
            });
        }
        self.write_pending()
    }

    fn checkpoint(&mut self) -> Result<String, ConsumerError> {
        // The offset must not pass alerts that are not stored yet.
        self.write_pending()?;
        if self.delivered_seq > self.state_seq {
            let state = self.engine.export_state();
            self.handle
                .block_on(
                    self.store
                        .save_rule_state(STAGE, self.delivered_seq, &state),
                )
                .map_err(ConsumerError::from_display)?;
            self.state_seq = self.delivered_seq;
            self.applied_seq = self.applied_seq.max(self.delivered_seq);
        }
        Ok(String::new())
    }
}

impl RulesStage {
    /// Stores the folds of evaluated events, if any are waiting.
    fn write_pending(&mut self) -> Result<(), ConsumerError> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        let written = self.handle.block_on(self.store.apply_alert_folds(
            STAGE,
            pending.last,
            &pending.folds,
            &pending.hits,
        ));
        let outcome = match written {
            Ok(outcome) => outcome,
            Err(e) => {
                self.pending = Some(pending);
                return Err(ConsumerError(format!("could not store alerts: {e}")));
            }
        };
        self.stats
            .raised
            .fetch_add(outcome.raised, Ordering::Relaxed);
        self.stats
            .folded
            .fetch_add(outcome.folded, Ordering::Relaxed);
        self.stats
            .silenced
            .fetch_add(outcome.silenced, Ordering::Relaxed);
        self.applied_seq = self.applied_seq.max(pending.last);
        Ok(())
    }
}

/// Folds of evaluated events whose write failed, retried before anything else.
struct Pending {
    last: u64,
    folds: Vec<AlertFold>,
    hits: Vec<(String, u64, Timestamp)>,
}
