//! The rule engine behind a seam of our own: committed events in, [`Match`]es
//! out. Today it is rsigma's evaluator and correlation engine (pinned; see
//! Cargo.toml); the conformance tests in `tests/` pin what we rely on, so it
//! can be swapped for another implementation behind [`RuleEngine`].
//!
//! Each event is evaluated once per view (the native one, and the web-server or
//! process views when it has them, `crate::mapped`), with rules pruned by
//! logsource. Correlation windows run on **event time** (the event's `time`),
//! per group, with bounded state; the state can be exported and imported, so a
//! restart continues the windows.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use nectar_event::{AlertRule, Event};
use rsigma_eval::event::Event as SigmaEvent;
use rsigma_eval::{
    CorrelationConfig, CorrelationEngine, CorrelationEventMode, CorrelationSnapshot, Engine,
    EvaluationResult, TimestampFallback,
};
use rsigma_parser::SigmaCollection;
use uuid::Uuid;

use crate::mapped::{ProcessView, WebserverView};
use crate::ruleset::{LoadError, RuleSet, severity_of, techniques};
use crate::view::NativeView;

/// How much correlation state the engine keeps (bounds on attacker-driven
/// growth: one group per source address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineLimits {
    /// Most (correlation, group) windows kept; beyond it the oldest are evicted.
    pub max_groups: usize,
    /// Most entries one group's window keeps.
    pub max_group_entries: usize,
    /// Most event ids a correlation remembers per group (the events an alert
    /// links when it is first raised).
    pub max_linked_events: usize,
}

impl Default for EngineLimits {
    fn default() -> Self {
        EngineLimits {
            max_groups: 100_000,
            // A `value_count` window is scanned whole on each of its events
            // (rsigma): the bound keeps an attacker's flood linear.
            max_group_entries: 1_000,
            max_linked_events: 16,
        }
    }
}

/// What one rule concluded from one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The rule, as the alert will carry it (shared: a match costs no copy).
    pub rule: Arc<AlertRule>,
    /// The group-by fields and their values (a detection rule groups by the
    /// source address, when the event has one).
    pub group: BTreeMap<String, String>,
    /// How many events the match stands for when it raises a new alert: 1 for
    /// a detection, the correlation's events in its window for a correlation.
    pub initial_count: u64,
    /// Events to link besides the one being evaluated (a correlation's earlier
    /// events in its window), as their ids' text: parsed only by whoever links
    /// them ([`Match::earlier_event_ids`]), as most matches fold into an alert
    /// that already has them.
    pub earlier_events: Vec<String>,
}

impl Match {
    /// The earlier events' ids (unparsable ones left out), without the event
    /// being evaluated.
    pub fn earlier_event_ids(&self, current: Uuid) -> Vec<Uuid> {
        self.earlier_events
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .filter(|id| *id != current)
            .collect()
    }
}

/// What the rules stage needs of an engine.
pub trait RuleEngine: Send {
    /// Every match of `event`, updating correlation state.
    fn process(&mut self, event: &Event, out: &mut Vec<Match>);
    /// The correlation state, as JSON.
    fn export_state(&self) -> String;
    /// Restores state saved by [`export_state`](Self::export_state); false when
    /// it does not fit these rules (they start empty then).
    fn import_state(&mut self, state: &str) -> bool;
    /// Correlation windows held now.
    fn state_size(&self) -> usize;
}

/// rsigma's engine, loaded with a [`RuleSet`].
pub struct SigmaEngine {
    /// Correlations (and, for their bookkeeping, every rule).
    engine: CorrelationEngine,
    /// Detection, split by view.
    parts: Partitions,
    rules: HashMap<String, Arc<AlertRule>>,
    /// Detections only correlations use: their matches raise no alert.
    quiet: HashSet<String>,
}

impl SigmaEngine {
    /// An engine with every rule of `set` that compiles; the others are
    /// returned as errors (file and line).
    pub fn new(set: &RuleSet, limits: EngineLimits) -> (SigmaEngine, Vec<LoadError>) {
        let config = CorrelationConfig {
            // Event time, always: an event without one is not correlated.
            timestamp_fields: vec!["time".into()],
            timestamp_fallback: TimestampFallback::Skip,
            max_state_entries: limits.max_groups.max(1),
            max_group_entries: Some(limits.max_group_entries.max(1)),
            emit_detections: false,
            // Each firing copies the group's references: few of them.
            correlation_event_mode: if limits.max_linked_events == 0 {
                CorrelationEventMode::None
            } else {
                CorrelationEventMode::Refs
            },
            max_correlation_events: limits.max_linked_events,
            ..CorrelationConfig::default()
        };
        let mut engine = CorrelationEngine::new(config);
        let mut errors = Vec::new();
        let mut rules = HashMap::new();
        let mut names: HashSet<String> = HashSet::new();
        // Sigma: a detection a correlation uses raises nothing of its own,
        // unless the correlation says `generate: true`.
        let referenced: HashSet<&str> = set
            .collection
            .correlations
            .iter()
            .filter(|c| !c.generate)
            .flat_map(|c| c.rules.iter().map(String::as_str))
            .collect();
        let mut quiet = HashSet::new();
        let mut pending = PendingRules::default();
        for (rule, (file, line)) in set.collection.rules.iter().zip(&set.rule_sources) {
            // Compiled first on its own: a rule that does not compile must not
            // be half-added to the engine.
            let added = rsigma_eval::compile_rule(rule)
                .map(|_| ())
                .and_then(|()| engine.add_rule(rule));
            match added {
                Ok(()) => {
                    pending.add(rule);
                    let info = crate::ruleset::alert_rule_of(rule);
                    if rule
                        .id
                        .iter()
                        .chain(&rule.name)
                        .any(|n| referenced.contains(n.as_str()))
                    {
                        quiet.insert(info.id.clone());
                    }
                    names.extend(rule.id.iter().cloned());
                    names.extend(rule.name.iter().cloned());
                    rules.insert(info.id.clone(), Arc::new(info));
                }
                Err(e) => errors.push(LoadError {
                    file: file.clone(),
                    line: *line,
                    message: format!("rule {:?}: {e}", rule.title),
                }),
            }
        }
        for corr in &set.collection.correlations {
            names.extend(corr.id.iter().cloned());
            names.extend(corr.name.iter().cloned());
        }
        for corr in &set.collection.correlations {
            let info = set
                .infos
                .iter()
                .find(|i| Some(&i.rule.id) == corr.id.as_ref() || i.rule.title == corr.title);
            let at = |message: String| LoadError {
                file: info.map(|i| i.file.clone()).unwrap_or_default(),
                line: info.and_then(|i| i.line),
                message,
            };
            if let Some(missing) = corr.rules.iter().find(|r| !names.contains(*r)) {
                errors.push(at(format!(
                    "correlation {:?} uses rule {missing:?}, which is not loaded",
                    corr.title
                )));
                continue;
            }
            match engine.add_correlation(corr) {
                Ok(()) => {
                    let rule = AlertRule {
                        id: corr.id.clone().unwrap_or_else(|| corr.title.clone()),
                        title: corr.title.clone(),
                        level: severity_of(corr.level),
                        techniques: techniques(&corr.tags),
                    };
                    rules.insert(rule.id.clone(), Arc::new(rule));
                }
                Err(e) => errors.push(at(format!("correlation {:?}: {e}", corr.title))),
            }
        }
        let mut parts = Partitions::build(pending);
        if !set.collection.filters.is_empty() {
            let filters = SigmaCollection {
                filters: set.collection.filters.clone(),
                ..SigmaCollection::new()
            };
            let applied = engine.add_collection(&filters).and_then(|()| {
                filters
                    .filters
                    .iter()
                    .try_for_each(|f| parts.apply_filter(f))
            });
            if let Err(e) = applied {
                errors.push(LoadError {
                    file: "filters".into(),
                    line: None,
                    message: e.to_string(),
                });
            }
        }
        (
            SigmaEngine {
                engine,
                parts,
                rules,
                quiet,
            },
            errors,
        )
    }

    /// Rules (detections and correlations) the engine holds.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }
}

/// Feeds one view's detections to the correlations and folds the results
/// into `out`.
fn evaluate_view(
    engine: &mut CorrelationEngine,
    rules: (&HashMap<String, Arc<AlertRule>>, &HashSet<String>),
    view: &impl SigmaEvent,
    detections: Vec<EvaluationResult>,
    event: &Event,
    time: i64,
    out: &mut Vec<Match>,
) {
    if detections.is_empty() {
        // Correlations only ever count detections: nothing to feed.
        return;
    }
    for result in engine.process_with_detections(view, detections, time) {
        if let Some(m) = to_match(rules, result, event) {
            out.push(m);
        }
    }
}

/// Rules collected for [`Partitions`], by partition, before compiling.
#[derive(Default)]
struct PendingRules<'r> {
    native_any: Vec<&'r rsigma_parser::SigmaRule>,
    native_by_service: HashMap<String, Vec<&'r rsigma_parser::SigmaRule>>,
    webserver: Vec<&'r rsigma_parser::SigmaRule>,
    process: Vec<&'r rsigma_parser::SigmaRule>,
}

/// The detection rules split by the views they can match, so that a view is
/// evaluated only against rules whose logsource fits it (rsigma's own
/// logsource check tests candidate rules one by one). A view's logsource
/// fits a rule when every dimension the rule names is the view's:
/// native `{product: nectar, service: <family>}`, web server
/// `{category: webserver}`, process creation `{product: linux, category:
/// process_creation}`.
#[derive(Default)]
struct Partitions {
    /// Native rules that name no service.
    native_any: Option<Engine>,
    /// Native rules by service (lowercase).
    native_by_service: HashMap<String, Engine>,
    webserver: Option<Engine>,
    process: Option<Engine>,
}

fn is(value: &Option<String>, wanted: &str) -> bool {
    value
        .as_deref()
        .is_none_or(|v| v.eq_ignore_ascii_case(wanted))
}

impl<'r> PendingRules<'r> {
    /// Puts `rule` in every partition whose views it fits. Rules are only
    /// collected here; [`Partitions::build`] compiles each partition at once.
    fn add(&mut self, rule: &'r rsigma_parser::SigmaRule) {
        let pending = self;
        let ls = &rule.logsource;
        if ls.category.is_none() && is(&ls.product, crate::view::PRODUCT) {
            match &ls.service {
                None => pending.native_any.push(rule),
                Some(service) => pending
                    .native_by_service
                    .entry(service.to_ascii_lowercase())
                    .or_default()
                    .push(rule),
            }
        }
        if ls.product.is_none() && ls.service.is_none() && is(&ls.category, "webserver") {
            pending.webserver.push(rule);
        }
        if ls.service.is_none() && is(&ls.product, "linux") && is(&ls.category, "process_creation")
        {
            pending.process.push(rule);
        }
    }
}

impl Partitions {
    /// Compiles the collected rules, one batch per partition: rsigma builds
    /// its candidate index (which rules an event's fields can select) once per
    /// batch, whereas rules added one by one with substring or keyword
    /// conditions wait in a list evaluated for every event until the engine
    /// holds 64 rules. Every rule here already compiled on its own.
    fn build(pending: PendingRules<'_>) -> Partitions {
        let engine = |rules: Vec<&rsigma_parser::SigmaRule>| {
            (!rules.is_empty()).then(|| {
                let mut engine = Engine::new();
                engine.add_rules(rules);
                engine
            })
        };
        Partitions {
            native_any: engine(pending.native_any),
            native_by_service: pending
                .native_by_service
                .into_iter()
                .filter_map(|(service, rules)| Some((service, engine(rules)?)))
                .collect(),
            webserver: engine(pending.webserver),
            process: engine(pending.process),
        }
    }

    fn apply_filter(&mut self, filter: &rsigma_parser::FilterRule) -> rsigma_eval::Result<()> {
        let engines = self
            .native_any
            .iter_mut()
            .chain(self.native_by_service.values_mut())
            .chain(self.webserver.iter_mut())
            .chain(self.process.iter_mut());
        for engine in engines {
            engine.apply_filter(filter)?;
        }
        Ok(())
    }

    fn native(&self, view: &NativeView<'_>, family: &str) -> Vec<EvaluationResult> {
        let mut out = match &self.native_any {
            Some(engine) => engine.evaluate(view),
            None => Vec::new(),
        };
        if let Some(engine) = self.native_by_service.get(family) {
            out.extend(engine.evaluate(view));
        }
        out
    }
}

/// The alert-side meaning of one engine result.
fn to_match(
    (rules, quiet): (&HashMap<String, Arc<AlertRule>>, &HashSet<String>),
    mut result: EvaluationResult,
    event: &Event,
) -> Option<Match> {
    let header = &result.header;
    let id = header
        .rule_id
        .clone()
        .unwrap_or_else(|| header.rule_title.clone());
    let rule = rules.get(&id).cloned().unwrap_or_else(|| {
        Arc::new(AlertRule {
            id,
            title: header.rule_title.clone(),
            level: severity_of(header.level),
            techniques: techniques(&header.tags),
        })
    });
    if let Some(corr) = result.as_correlation_mut() {
        let group: BTreeMap<String, String> = corr
            .group_key
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let earlier_events: Vec<String> = corr
            .event_refs
            .take()
            .into_iter()
            .flatten()
            .filter_map(|r| r.id)
            .collect();
        let in_window = corr.aggregated_value.max(1.0);
        let refs = earlier_events.len() as u64;
        let initial_count = if in_window.is_finite() && in_window < u64::MAX as f64 {
            (in_window as u64).max(refs)
        } else {
            refs.max(1)
        };
        return Some(Match {
            rule,
            group,
            initial_count,
            earlier_events,
        });
    }
    result.as_detection()?;
    if quiet.contains(&rule.id) {
        return None;
    }
    let mut group = BTreeMap::new();
    if let Some(ip) = event.src_ip {
        group.insert("src_ip".to_owned(), ip.to_string());
    }
    Some(Match {
        rule,
        group,
        initial_count: 1,
        earlier_events: Vec::new(),
    })
}

impl RuleEngine for SigmaEngine {
    fn process(&mut self, event: &Event, out: &mut Vec<Match>) {
        let time = event.time.as_micros().div_euclid(1_000_000);
        let SigmaEngine {
            engine,
            parts,
            rules,
            quiet,
        } = self;
        let rules = (&*rules, &*quiet);
        let view = NativeView::new(event);
        let detections = parts.native(&view, event.kind.family());
        evaluate_view(engine, rules, &view, detections, event, time, out);
        if let (Some(web), Some(view)) = (&parts.webserver, WebserverView::of(event)) {
            let detections = web.evaluate(&view);
            evaluate_view(engine, rules, &view, detections, event, time, out);
        }
        if let Some(process) = &parts.process {
            for view in ProcessView::of(event) {
                let detections = process.evaluate(&view);
                evaluate_view(engine, rules, &view, detections, event, time, out);
            }
        }
    }

    fn export_state(&self) -> String {
        serde_json::to_string(&self.engine.export_state()).unwrap_or_default()
    }

    fn import_state(&mut self, state: &str) -> bool {
        match serde_json::from_str::<CorrelationSnapshot>(state) {
            Ok(snapshot) => self.engine.import_state(snapshot),
            Err(_) => false,
        }
    }

    fn state_size(&self) -> usize {
        self.engine.state_count()
    }
}
