//! Sigma correlations over each event's detections: Nectar's own engine.
//!
//! rsigma parses and compiles correlation rules ([`CompiledCorrelation`]) and
//! evaluates detections; the windows are ours. rsigma's correlation engine
//! rebuilt a `value_count` window into a set on every event (an attacker's
//! flood from one source cost the whole window per event), hashed group keys
//! of owned strings with SipHash on every update and cloned them for each
//! window touched; here a group is found by a key written into a reused buffer,
//! distinct values are counted as they come and go ([`window`]), and an event
//! reference is the event's id. The semantics are rsigma's (which follow the
//! Sigma correlation specification, v2.1): sliding, tumbling and session
//! windows, group-by with aliases, every correlation type, chaining; a
//! differential test holds the two engines to the same results
//! (`tests/correlate_oracle.rs`).
//!
//! Bounds: at most `max_groups` windows across all correlations (expired ones
//! go first, then the stalest tenth), `max_group_entries` entries per window,
//! `max_linked_events` event ids per window.

mod snapshot;
mod window;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;

use rsigma_eval::correlation::{CompiledCorrelation, GroupByField};
use rsigma_eval::event::{Event as SigmaEvent, EventValue};
use rsigma_parser::{CorrelationType, WindowMode};
use uuid::Uuid;

use crate::engine::EngineLimits;
use window::{Opening, Verdict, Window};

/// How deep correlations of correlations are followed (a cycle stops here).
const MAX_CHAIN_DEPTH: usize = 10;

type FastMap<K, V> = HashMap<K, V, ahash::RandomState>;

/// A correlation that fired for one group.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fired {
    /// The correlation's position among those the correlator was made with.
    pub corr: usize,
    /// Its group-by fields and their values (absent ones left out).
    pub group: Vec<(String, String)>,
    /// The value its condition held for (events, distinct values, ...).
    pub value: f64,
    /// The newest events of the window, oldest first (none for a
    /// correlation of correlations).
    pub refs: Vec<Uuid>,
}

/// How a detection rule feeds one correlation.
#[derive(Debug, Clone)]
struct Link {
    corr: usize,
    /// The rule's place among the correlation's rules (temporal types).
    position: usize,
    /// The group-by fields as this rule's events name them (aliases resolved).
    fields: Vec<String>,
}

/// One (correlation, group).
#[derive(Debug, Clone)]
struct Group {
    window: Window,
    /// The group-by values, for the correlation's result.
    values: Vec<Option<Box<str>>>,
    /// The newest events' times and ids.
    refs: VecDeque<(i64, Uuid)>,
}

/// The correlations of a rule set and their windows.
pub(crate) struct Correlator {
    corrs: Vec<CompiledCorrelation>,
    /// Detection rule id → the correlations it feeds.
    links: FastMap<String, Vec<Link>>,
    /// Correlation → (parent correlation, its place among the parent's rules).
    parents: Vec<Vec<(usize, usize)>>,
    /// Per correlation, its groups by encoded key.
    groups: Vec<FastMap<Box<str>, Group>>,
    /// Groups held across all correlations.
    total: usize,
    limits: EngineLimits,
    /// Reused buffers: a group key and a rendered value.
    key: String,
    scratch: String,
}

impl Correlator {
    /// The correlator of `corrs`, fed by the detection rules `detections`
    /// (each rule's id and name, as correlations may reference either).
    pub(crate) fn new<'a>(
        corrs: Vec<CompiledCorrelation>,
        detections: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
        limits: EngineLimits,
    ) -> Correlator {
        let mut links: FastMap<String, Vec<Link>> = FastMap::default();
        for (id, name) in detections {
            let identities: Vec<&str> = std::iter::once(id).chain(name).collect();
            for (corr, c) in corrs.iter().enumerate() {
                let Some(position) = place_of(&c.rule_refs, &identities) else {
                    continue;
                };
                let fields = c
                    .group_by
                    .iter()
                    .map(|f| resolve(f, &identities).to_owned())
                    .collect();
                links.entry(id.to_owned()).or_default().push(Link {
                    corr,
                    position,
                    fields,
                });
            }
        }
        let parents = corrs
            .iter()
            .map(|child| {
                let identities: Vec<&str> = child
                    .id
                    .iter()
                    .chain(&child.name)
                    .map(String::as_str)
                    .collect();
                corrs
                    .iter()
                    .enumerate()
                    .filter_map(|(p, parent)| Some((p, place_of(&parent.rule_refs, &identities)?)))
                    .collect()
            })
            .collect();
        Correlator {
            groups: corrs.iter().map(|_| FastMap::default()).collect(),
            corrs,
            links,
            parents,
            total: 0,
            limits,
            key: String::new(),
            scratch: String::new(),
        }
    }

    /// Windows held now.
    pub(crate) fn state_size(&self) -> usize {
        self.total
    }

    /// Feeds one event's detections (the rule ids that matched it) at event
    /// time `ts` (seconds) and appends what fired to `out`.
    pub(crate) fn feed<'r>(
        &mut self,
        event: &impl SigmaEvent,
        id: Uuid,
        ts: i64,
        detected: impl IntoIterator<Item = &'r str>,
        out: &mut Vec<Fired>,
    ) {
        let ts = ts.clamp(0, i64::MAX / 2);
        if self.total >= self.limits.max_groups.max(1) {
            self.evict_all(ts);
        }
        let first = out.len();
        let links = std::mem::take(&mut self.links);
        for rule in detected {
            for link in links.get(rule).into_iter().flatten() {
                self.update(link, event, id, ts, out);
            }
        }
        self.links = links;
        if out.len() > first {
            self.chain(first, ts, out);
        }
    }

    /// One detection into one correlation's group.
    fn update(
        &mut self,
        link: &Link,
        event: &impl SigmaEvent,
        id: Uuid,
        ts: i64,
        out: &mut Vec<Fired>,
    ) {
        let corr = &self.corrs[link.corr];
        let kind = corr.correlation_type;
        let (timespan, gap) = spans(corr);
        let mode = corr.window_mode;
        write_key(&mut self.key, &mut self.scratch, event, &link.fields);
        let groups = &mut self.groups[link.corr];
        let group = match groups.get_mut(self.key.as_str()) {
            Some(group) => group,
            None => {
                let values = link
                    .fields
                    .iter()
                    .map(|f| group_text(event.get_field(f).as_ref()))
                    .collect();
                self.total += 1;
                groups.entry(Box::from(self.key.as_str())).or_insert(Group {
                    window: Window::new(kind, corr.rule_refs.len()),
                    values,
                    refs: VecDeque::new(),
                })
            }
        };
        let opening = group.window.open(ts, timespan, mode, gap);
        if opening == Opening::Discard {
            return;
        }
        match kind {
            CorrelationType::EventCount => group.window.push_time(ts),
            CorrelationType::ValueCount => {
                let fields = corr.condition.field.as_deref().unwrap_or_default();
                if count_key(&mut self.scratch, event, fields) {
                    group.window.push_value(ts, &self.scratch);
                }
            }
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
                group.window.push_rule(ts, link.position)
            }
            CorrelationType::ValueSum
            | CorrelationType::ValueAvg
            | CorrelationType::ValuePercentile
            | CorrelationType::ValueMedian => {
                let number = corr
                    .condition
                    .field
                    .as_ref()
                    .and_then(|f| f.first())
                    .and_then(|f| event.get_field(f))
                    .and_then(|v| v.as_f64());
                if let Some(n) = number {
                    group.window.push_number(ts, n);
                }
            }
        }
        if let Some(cap) = entry_cap(&self.limits) {
            group.window.truncate(cap, mode == WindowMode::Session);
        }
        if self.limits.max_linked_events > 0 {
            if mode == WindowMode::Sliding {
                while group.refs.front().is_some_and(|(t, _)| *t < ts - timespan) {
                    group.refs.pop_front();
                }
            } else if opening == Opening::Reset {
                group.refs.clear();
            }
            if group.refs.len() >= self.limits.max_linked_events {
                group.refs.pop_front();
            }
            group.refs.push_back((ts, id));
        }
        if let Some(value) = verdict(corr, &group.window) {
            out.push(Fired {
                corr: link.corr,
                group: pairs(&corr.group_by, &group.values),
                value,
                refs: group.refs.iter().map(|(_, id)| *id).collect(),
            });
        }
    }

    /// Feeds the correlations fired from `out[first..]` to the correlations
    /// that reference them, level by level.
    fn chain(&mut self, first: usize, ts: i64, out: &mut Vec<Fired>) {
        let mut level = first..out.len();
        for _ in 0..MAX_CHAIN_DEPTH {
            if level.is_empty() {
                return;
            }
            let mut seen: HashSet<(usize, usize)> = HashSet::new();
            let mut work = Vec::new();
            for fired in &out[level.clone()] {
                for &(parent, position) in &self.parents[fired.corr] {
                    if seen.insert((parent, fired.corr)) {
                        work.push((parent, position, fired.group.clone()));
                    }
                }
            }
            let next = out.len();
            for (parent, position, child_group) in work {
                self.update_parent(parent, position, &child_group, ts, out);
            }
            level = next..out.len();
        }
        if !level.is_empty() {
            tracing::warn!(
                "Correlations reference each other deeper than {MAX_CHAIN_DEPTH} levels (a cycle?); the rest were not followed."
            );
        }
    }

    fn update_parent(
        &mut self,
        parent: usize,
        position: usize,
        child_group: &[(String, String)],
        ts: i64,
        out: &mut Vec<Fired>,
    ) {
        let corr = &self.corrs[parent];
        let kind = corr.correlation_type;
        let values: Vec<Option<Box<str>>> = corr
            .group_by
            .iter()
            .map(|f| {
                child_group
                    .iter()
                    .find(|(k, _)| k == f.name())
                    .map(|(_, v)| Box::from(v.as_str()))
            })
            .collect();
        self.key.clear();
        for value in &values {
            encode(&mut self.key, value.as_deref());
        }
        let groups = &mut self.groups[parent];
        let group = match groups.get_mut(self.key.as_str()) {
            Some(group) => group,
            None => {
                self.total += 1;
                groups.entry(Box::from(self.key.as_str())).or_insert(Group {
                    window: Window::new(kind, corr.rule_refs.len()),
                    values,
                    refs: VecDeque::new(),
                })
            }
        };
        let (timespan, gap) = spans(corr);
        if group.window.open(ts, timespan, corr.window_mode, gap) == Opening::Discard {
            return;
        }
        match kind {
            CorrelationType::EventCount => group.window.push_time(ts),
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
                group.window.push_rule(ts, position)
            }
            // Values of a correlation's result: none to count.
            _ => {}
        }
        if let Some(cap) = entry_cap(&self.limits) {
            group
                .window
                .truncate(cap, corr.window_mode == WindowMode::Session);
        }
        if let Some(value) = verdict(corr, &group.window) {
            out.push(Fired {
                corr: parent,
                group: pairs(&corr.group_by, &group.values),
                value,
                refs: Vec::new(),
            });
        }
    }

    /// Drops expired windows; past the bound, the stalest tenth too.
    fn evict_all(&mut self, now: i64) {
        let mut total = 0;
        for (corr, groups) in self.corrs.iter().zip(&mut self.groups) {
            let (timespan, gap) = spans(corr);
            groups.retain(|_, group| {
                match corr.window_mode {
                    WindowMode::Sliding => {
                        group.window.evict(now - timespan);
                        while group.refs.front().is_some_and(|(t, _)| *t < now - timespan) {
                            group.refs.pop_front();
                        }
                    }
                    WindowMode::Tumbling | WindowMode::Session => {
                        let stale = match corr.window_mode {
                            WindowMode::Session => gap.unwrap_or(timespan),
                            _ => timespan,
                        };
                        if group.window.latest().is_some_and(|last| now - last > stale) {
                            group.window.clear();
                        }
                    }
                }
                !group.window.is_empty()
            });
            total += groups.len();
        }
        self.total = total;
        let max = self.limits.max_groups.max(1);
        if self.total < max {
            return;
        }
        let target = max * 9 / 10;
        let mut by_age: Vec<(i64, usize, Box<str>)> = self
            .groups
            .iter()
            .enumerate()
            .flat_map(|(corr, groups)| {
                groups
                    .iter()
                    .map(move |(key, g)| (g.window.latest().unwrap_or(i64::MIN), corr, key.clone()))
            })
            .collect();
        by_age.sort_unstable_by_key(|(latest, _, _)| *latest);
        let excess = self.total - target;
        tracing::warn!(
            groups = self.total,
            max,
            dropped = excess,
            "Correlation windows reached their bound; the stalest are dropped (many sources at once)."
        );
        for (_, corr, key) in by_age.into_iter().take(excess) {
            if self.groups[corr].remove(&key).is_some() {
                self.total -= 1;
            }
        }
    }
}

/// The most entries a window keeps (none when the limit is 0).
fn entry_cap(limits: &EngineLimits) -> Option<usize> {
    (limits.max_group_entries > 0).then_some(limits.max_group_entries)
}

/// A correlation's timespan and session gap in seconds, kept far from
/// `i64`'s end so that window arithmetic on them cannot overflow.
fn spans(corr: &CompiledCorrelation) -> (i64, Option<i64>) {
    let secs = |s: u64| s.min(i64::MAX as u64 / 4) as i64;
    (secs(corr.timespan_secs), corr.gap_secs.map(secs))
}

/// The value `corr` fires with, if its condition holds on `window`.
fn verdict(corr: &CompiledCorrelation, window: &Window) -> Option<f64> {
    match window.value(
        corr.correlation_type,
        corr.condition.percentile,
        &corr.rule_refs,
        corr.extended_expr.as_ref(),
    )? {
        Verdict::Decided(value) => Some(value),
        Verdict::Compare(value) => corr.condition.check(value).then_some(value),
    }
}

/// Where the first of `identities` that `rule_refs` names stands among them.
fn place_of(rule_refs: &[String], identities: &[&str]) -> Option<usize> {
    identities
        .iter()
        .find_map(|identity| rule_refs.iter().position(|r| r == identity))
}

/// The field a group-by entry reads in events of the rule named `identities`.
fn resolve<'f>(field: &'f GroupByField, identities: &[&str]) -> &'f str {
    match field {
        GroupByField::Direct(name) => name,
        GroupByField::Aliased { alias, mapping } => identities
            .iter()
            .find_map(|i| mapping.get(*i))
            .map_or(alias.as_str(), String::as_str),
    }
}

fn pairs(group_by: &[GroupByField], values: &[Option<Box<str>>]) -> Vec<(String, String)> {
    group_by
        .iter()
        .zip(values)
        .filter_map(|(f, v)| Some((f.name().to_owned(), v.as_deref()?.to_owned())))
        .collect()
}

/// A group-by value as text: scalars only (an absent field, a list or an
/// object groups as "absent").
fn group_text(value: Option<&EventValue<'_>>) -> Option<Box<str>> {
    let mut text = String::new();
    render(&mut text, value?, false).then(|| text.into_boxed_str())
}

/// Writes `value` into `out`; false (and nothing meaningful written) when it
/// has no text. `null` has one only where distinct values are counted.
fn render(out: &mut String, value: &EventValue<'_>, null_counts: bool) -> bool {
    match value {
        EventValue::Str(s) => out.push_str(s),
        EventValue::Int(n) => {
            let _ = write!(out, "{n}");
        }
        EventValue::Float(f) => {
            let _ = write!(out, "{f}");
        }
        EventValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        EventValue::Null if null_counts => out.push_str("null"),
        _ => return false,
    }
    true
}

/// Appends one group-by value to a key: length-prefixed, so that no two
/// different value lists give the same key whatever the values contain.
fn encode(key: &mut String, value: Option<&str>) {
    match value {
        Some(v) => {
            let _ = write!(key, "{}:", v.len());
            key.push_str(v);
        }
        None => key.push('-'),
    }
}

/// The group key of `event` for `fields`, into `key`.
fn write_key(key: &mut String, scratch: &mut String, event: &impl SigmaEvent, fields: &[String]) {
    key.clear();
    for field in fields {
        scratch.clear();
        let present = event
            .get_field(field)
            .is_some_and(|v| render(scratch, &v, false));
        encode(key, present.then_some(scratch.as_str()));
    }
}

/// The value a `value_count` correlation counts for `event`, into `out`:
/// its fields' values joined by the unit separator; false when one is missing
/// or not a scalar.
fn count_key(out: &mut String, event: &impl SigmaEvent, fields: &[String]) -> bool {
    out.clear();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\u{1f}');
        }
        let Some(value) = event.get_field(field) else {
            return false;
        };
        if !render(out, &value, true) {
            return false;
        }
    }
    !fields.is_empty()
}
