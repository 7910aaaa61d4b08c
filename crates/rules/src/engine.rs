//! The rule engine behind a seam of our own: committed events in, [`Match`]es
//! out. Detection is rsigma's evaluator (pinned; see Cargo.toml), correlation
//! our own windows over its results (`crate::correlate`); the conformance
//! tests in `tests/` pin what we rely on, so either can be swapped behind
//! [`RuleEngine`].
//!
//! Each event is evaluated once per view (the native one, and the web-server or
//! process views when it has them, `crate::mapped`), with rules pruned by
//! logsource. Correlation windows run on **event time** (the event's `time`),
//! per group, with bounded state; the state can be exported and imported, so a
//! restart continues the windows.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use nectar_event::{AlertRule, Event, Kind};
use rsigma_eval::correlation::compile_correlation;
use rsigma_eval::event::Event as SigmaEvent;
use rsigma_eval::{Engine, EvaluationResult};
use rsigma_parser::{CorrelationCondition, CorrelationType, SigmaRule};
use uuid::Uuid;

use crate::by_kind::split_by_kind;
use crate::canonical::with_canonical_case;
use crate::correlate::{Correlator, Fired};

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
    /// Events to link besides the one being evaluated (a correlation's newest
    /// events in its window, oldest first; at most `max_linked_events`).
    pub earlier_events: Vec<Uuid>,
}

impl Match {
    /// The earlier events' ids, without the event being evaluated.
    pub fn earlier_event_ids(&self, current: Uuid) -> Vec<Uuid> {
        self.earlier_events
            .iter()
            .copied()
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

/// rsigma's detection and our correlations, loaded with a [`RuleSet`].
pub struct SigmaEngine {
    /// Correlation windows over the detections.
    correlator: Correlator,
    /// The correlations as alerts carry them, by their place in the correlator.
    correlation_rules: Vec<Arc<AlertRule>>,
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
        let mut detections: Vec<(&str, Option<&str>)> = Vec::new();
        for (rule, (file, line)) in set.collection.rules.iter().zip(&set.rule_sources) {
            match rsigma_eval::compile_rule(rule) {
                Ok(_) => {
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
                    detections.push((
                        rule.id.as_deref().unwrap_or(&rule.title),
                        rule.name.as_deref(),
                    ));
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
        let mut compiled = Vec::new();
        let mut correlation_rules = Vec::new();
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
            if let Some(problem) = missing_field(corr) {
                errors.push(at(format!("correlation {:?}: {problem}", corr.title)));
                continue;
            }
            match compile_correlation(corr) {
                Ok(c) => {
                    let rule = AlertRule {
                        id: corr.id.clone().unwrap_or_else(|| corr.title.clone()),
                        title: corr.title.clone(),
                        level: severity_of(corr.level),
                        techniques: techniques(&corr.tags),
                    };
                    let rule = Arc::new(rule);
                    rules.insert(rule.id.clone(), Arc::clone(&rule));
                    correlation_rules.push(rule);
                    compiled.push(c);
                }
                Err(e) => errors.push(at(format!("correlation {:?}: {e}", corr.title))),
            }
        }
        let correlator = Correlator::new(compiled, detections, limits);
        let mut parts = Partitions::build(pending);
        let applied = set
            .collection
            .filters
            .iter()
            .try_for_each(|f| parts.apply_filter(f));
        if let Err(e) = applied {
            errors.push(LoadError {
                file: "filters".into(),
                line: None,
                message: e.to_string(),
            });
        }
        (
            SigmaEngine {
                correlator,
                correlation_rules,
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

/// One view's detections as matches, then what they make the correlations
/// fire.
struct Evaluation<'a> {
    rules: &'a HashMap<String, Arc<AlertRule>>,
    quiet: &'a HashSet<String>,
    correlation_rules: &'a [Arc<AlertRule>],
    event: &'a Event,
    /// Event time, in seconds.
    time: i64,
}

impl Evaluation<'_> {
    fn view(
        &self,
        correlator: &mut Correlator,
        view: &impl SigmaEvent,
        detections: Vec<EvaluationResult>,
        fired: &mut Vec<Fired>,
        out: &mut Vec<Match>,
    ) {
        if detections.is_empty() {
            return;
        }
        fired.clear();
        correlator.feed(
            view,
            self.event.id,
            self.time,
            detections.iter().map(rule_key),
            fired,
        );
        for detection in &detections {
            if let Some(m) = self.detection(detection) {
                out.push(m);
            }
        }
        for f in fired.drain(..) {
            out.push(self.correlation(f));
        }
    }

    fn detection(&self, result: &EvaluationResult) -> Option<Match> {
        let header = &result.header;
        let id = rule_key(result);
        if self.quiet.contains(id) {
            return None;
        }
        let rule = self.rules.get(id).cloned().unwrap_or_else(|| {
            Arc::new(AlertRule {
                id: id.to_owned(),
                title: header.rule_title.clone(),
                level: severity_of(header.level),
                techniques: techniques(&header.tags),
            })
        });
        let mut group = BTreeMap::new();
        if let Some(ip) = self.event.src_ip {
            group.insert("src_ip".to_owned(), ip.to_string());
        }
        Some(Match {
            rule,
            group,
            initial_count: 1,
            earlier_events: Vec::new(),
        })
    }

    fn correlation(&self, fired: Fired) -> Match {
        let refs = fired.refs.len() as u64;
        let in_window = fired.value.max(1.0);
        let initial_count = if in_window.is_finite() && in_window < u64::MAX as f64 {
            (in_window as u64).max(refs)
        } else {
            refs.max(1)
        };
        Match {
            rule: Arc::clone(&self.correlation_rules[fired.corr]),
            group: fired.group.into_iter().collect(),
            initial_count,
            earlier_events: fired.refs,
        }
    }
}

/// The id a detection result names its rule by (a rule without one is known
/// by its title).
fn rule_key(result: &EvaluationResult) -> &str {
    result
        .header
        .rule_id
        .as_deref()
        .unwrap_or(&result.header.rule_title)
}

/// Why a correlation that counts values cannot run: it names no field.
fn missing_field(corr: &rsigma_parser::CorrelationRule) -> Option<String> {
    let needs_field = matches!(
        corr.correlation_type,
        CorrelationType::ValueCount
            | CorrelationType::ValueSum
            | CorrelationType::ValueAvg
            | CorrelationType::ValuePercentile
            | CorrelationType::ValueMedian
    );
    let has_field = matches!(
        &corr.condition,
        CorrelationCondition::Threshold { field: Some(f), .. } if !f.is_empty()
    );
    (needs_field && !has_field).then(|| {
        format!(
            "type {} counts the values of a field: add `field:` to its condition",
            corr.correlation_type.as_str()
        )
    })
}

/// Rules collected for [`Partitions`], by partition, before compiling.
#[derive(Default)]
struct PendingRules<'r> {
    native_any: Vec<Cow<'r, SigmaRule>>,
    native_by_kind: HashMap<String, Vec<Cow<'r, SigmaRule>>>,
    native_by_service: HashMap<String, Vec<Cow<'r, SigmaRule>>>,
    webserver: Vec<Cow<'r, SigmaRule>>,
    process: Vec<Cow<'r, SigmaRule>>,
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
    /// Native rules that match only some kinds, by kind (`crate::by_kind`).
    native_by_kind: HashMap<String, Engine>,
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
    fn add(&mut self, rule: &'r SigmaRule) {
        let pending = self;
        let ls = &rule.logsource;
        let rule = match with_canonical_case(rule) {
            Some(changed) => Cow::Owned(changed),
            None => Cow::Borrowed(rule),
        };
        let native = ls.category.is_none() && is(&ls.product, crate::view::PRODUCT);
        let by_kind = native.then(|| split_by_kind(&rule)).flatten();
        if let Some((kinds, within)) = by_kind {
            let within = Cow::<SigmaRule>::Owned(within);
            for kind in kinds {
                // A kind of another family than the rule's service never meets it.
                let Ok(known) = kind.parse::<Kind>() else {
                    continue;
                };
                if ls
                    .service
                    .as_deref()
                    .is_some_and(|s| !s.eq_ignore_ascii_case(known.family()))
                {
                    continue;
                }
                pending
                    .native_by_kind
                    .entry(kind)
                    .or_default()
                    .push(within.clone());
            }
        } else if native {
            match &ls.service {
                None => pending.native_any.push(rule.clone()),
                Some(service) => pending
                    .native_by_service
                    .entry(service.to_ascii_lowercase())
                    .or_default()
                    .push(rule.clone()),
            }
        }
        if ls.product.is_none() && ls.service.is_none() && is(&ls.category, "webserver") {
            pending.webserver.push(rule.clone());
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
        let engine = |rules: Vec<Cow<'_, SigmaRule>>| {
            (!rules.is_empty()).then(|| {
                let mut engine = Engine::new();
                engine.add_rules(rules.iter().map(|r| &**r));
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
            native_by_kind: pending
                .native_by_kind
                .into_iter()
                .filter_map(|(kind, rules)| Some((kind, engine(rules)?)))
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
            .chain(self.native_by_kind.values_mut())
            .chain(self.webserver.iter_mut())
            .chain(self.process.iter_mut());
        for engine in engines {
            engine.apply_filter(filter)?;
        }
        Ok(())
    }

    fn native(&self, view: &NativeView<'_>, kind: Kind) -> Vec<EvaluationResult> {
        let mut out = match &self.native_any {
            Some(engine) => engine.evaluate(view),
            None => Vec::new(),
        };
        if let Some(engine) = self.native_by_service.get(kind.family()) {
            out.extend(engine.evaluate(view));
        }
        if let Some(engine) = self.native_by_kind.get(kind.as_str()) {
            out.extend(engine.evaluate(view));
        }
        out
    }
}

impl RuleEngine for SigmaEngine {
    fn process(&mut self, event: &Event, out: &mut Vec<Match>) {
        let SigmaEngine {
            correlator,
            correlation_rules,
            parts,
            rules,
            quiet,
        } = self;
        let eval = Evaluation {
            rules,
            quiet,
            correlation_rules,
            event,
            time: event.time.as_micros().div_euclid(1_000_000),
        };
        let mut fired = Vec::new();
        let view = NativeView::new(event);
        let detections = parts.native(&view, event.kind);
        eval.view(correlator, &view, detections, &mut fired, out);
        if let (Some(web), Some(view)) = (&parts.webserver, WebserverView::of(event)) {
            let detections = web.evaluate(&view);
            eval.view(correlator, &view, detections, &mut fired, out);
        }
        if let Some(process) = &parts.process {
            for view in ProcessView::of(event) {
                let detections = process.evaluate(&view);
                eval.view(correlator, &view, detections, &mut fired, out);
            }
        }
    }

    fn export_state(&self) -> String {
        self.correlator.export_state()
    }

    fn import_state(&mut self, state: &str) -> bool {
        self.correlator.import_state(state)
    }

    fn state_size(&self) -> usize {
        self.correlator.state_size()
    }
}
