//! One group's window of a correlation: what it holds, how it slides, resets
//! and is capped, and the value its condition compares.
//!
//! Each kind keeps what makes its value cheap to read: a `value_count` window
//! keeps a count per distinct value beside its entries (the number of distinct
//! values is the map's size, kept up to date as entries come and go, instead
//! of collecting the window into a set on every event), and the ordered check
//! of `temporal_ordered` is a single greedy pass per referenced rule.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use rsigma_parser::{ConditionExpr, CorrelationType, WindowMode};

/// What a window does before taking an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opening {
    /// The event joins the window as it is.
    Extend,
    /// The window started over (a new tumbling bucket, a new session).
    Reset,
    /// The event belongs to a tumbling bucket already closed: dropped.
    Discard,
}

/// The state of one (correlation, group).
#[derive(Debug, Clone)]
pub(crate) enum Window {
    /// `event_count`: the events' times.
    Count(VecDeque<i64>),
    /// `value_count`: each event's value, and how often each distinct value is
    /// in the window.
    Distinct {
        entries: VecDeque<(i64, Arc<str>)>,
        counts: HashMap<Arc<str>, u32, ahash::RandomState>,
    },
    /// `temporal` and `temporal_ordered`: when each referenced rule matched,
    /// by its position among the correlation's rules.
    Temporal(Vec<VecDeque<i64>>),
    /// `value_sum`, `value_avg`, `value_percentile`, `value_median`.
    Numeric(VecDeque<(i64, f64)>),
}

impl Window {
    /// An empty window for a correlation of `kind` over `rules` rules.
    pub(crate) fn new(kind: CorrelationType, rules: usize) -> Window {
        match kind {
            CorrelationType::EventCount => Window::Count(VecDeque::new()),
            CorrelationType::ValueCount => Window::Distinct {
                entries: VecDeque::new(),
                counts: HashMap::default(),
            },
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
                Window::Temporal(vec![VecDeque::new(); rules])
            }
            CorrelationType::ValueSum
            | CorrelationType::ValueAvg
            | CorrelationType::ValuePercentile
            | CorrelationType::ValueMedian => Window::Numeric(VecDeque::new()),
        }
    }

    /// Drops entries older than `cutoff`.
    pub(crate) fn evict(&mut self, cutoff: i64) {
        match self {
            Window::Count(times) => {
                while times.front().is_some_and(|&t| t < cutoff) {
                    times.pop_front();
                }
            }
            Window::Distinct { entries, counts } => {
                while entries.front().is_some_and(|(t, _)| *t < cutoff) {
                    if let Some((_, value)) = entries.pop_front() {
                        forget(counts, &value);
                    }
                }
            }
            Window::Temporal(rules) => {
                for times in rules {
                    while times.front().is_some_and(|&t| t < cutoff) {
                        times.pop_front();
                    }
                }
            }
            Window::Numeric(entries) => {
                while entries.front().is_some_and(|(t, _)| *t < cutoff) {
                    entries.pop_front();
                }
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Window::Count(times) => times.is_empty(),
            Window::Distinct { entries, .. } => entries.is_empty(),
            Window::Temporal(rules) => rules.iter().all(VecDeque::is_empty),
            Window::Numeric(entries) => entries.is_empty(),
        }
    }

    pub(crate) fn clear(&mut self) {
        match self {
            Window::Count(times) => times.clear(),
            Window::Distinct { entries, counts } => {
                entries.clear();
                counts.clear();
            }
            Window::Temporal(rules) => rules.iter_mut().for_each(VecDeque::clear),
            Window::Numeric(entries) => entries.clear(),
        }
    }

    /// The newest entry's time (entries are in arrival order, which event time
    /// need not follow: the largest is looked for where it can differ).
    pub(crate) fn latest(&self) -> Option<i64> {
        match self {
            Window::Count(times) => times.back().copied(),
            Window::Distinct { entries, .. } => entries.back().map(|(t, _)| *t),
            Window::Temporal(rules) => rules.iter().filter_map(|t| t.back().copied()).max(),
            Window::Numeric(entries) => entries.back().map(|(t, _)| *t),
        }
    }

    fn earliest(&self) -> Option<i64> {
        match self {
            Window::Count(times) => times.front().copied(),
            Window::Distinct { entries, .. } => entries.front().map(|(t, _)| *t),
            Window::Temporal(rules) => rules.iter().filter_map(|t| t.front().copied()).min(),
            Window::Numeric(entries) => entries.front().map(|(t, _)| *t),
        }
    }

    /// Readies the window for an event at `ts` (Sigma's window modes).
    pub(crate) fn open(
        &mut self,
        ts: i64,
        timespan: i64,
        mode: WindowMode,
        gap: Option<i64>,
    ) -> Opening {
        match mode {
            WindowMode::Sliding => {
                self.evict(ts - timespan);
                Opening::Extend
            }
            WindowMode::Tumbling => {
                if timespan <= 0 {
                    return Opening::Extend;
                }
                let bucket = |t: i64| t - t.rem_euclid(timespan);
                match self.latest() {
                    Some(last) if bucket(ts) > bucket(last) => {
                        self.clear();
                        Opening::Reset
                    }
                    Some(last) if bucket(ts) < bucket(last) => Opening::Discard,
                    _ => Opening::Extend,
                }
            }
            WindowMode::Session => {
                let gap = gap.unwrap_or(timespan);
                let over = match (self.earliest(), self.latest()) {
                    (Some(start), Some(last)) => {
                        ts - last > gap || (timespan > 0 && ts - start > timespan)
                    }
                    _ => false,
                };
                if over {
                    self.clear();
                    Opening::Reset
                } else {
                    Opening::Extend
                }
            }
        }
    }

    /// Keeps at most `cap` entries (per referenced rule for temporal windows),
    /// dropping the oldest; a session window keeps its first entry, which
    /// anchors its span.
    pub(crate) fn truncate(&mut self, cap: usize, keep_first: bool) {
        let cap = cap.max(1);
        // How many to drop from the front, and from where (after the anchor).
        let plan = |len: usize| -> Option<(usize, usize)> {
            (len > cap).then(|| {
                if keep_first {
                    (1, len - cap)
                } else {
                    (0, len - cap)
                }
            })
        };
        match self {
            Window::Count(times) => {
                if let Some((from, n)) = plan(times.len()) {
                    times.drain(from..from + n);
                }
            }
            Window::Distinct { entries, counts } => {
                if let Some((from, n)) = plan(entries.len()) {
                    for (_, value) in entries.drain(from..from + n) {
                        forget(counts, &value);
                    }
                }
            }
            Window::Temporal(rules) => {
                for times in rules {
                    if let Some((from, n)) = plan(times.len()) {
                        times.drain(from..from + n);
                    }
                }
            }
            Window::Numeric(entries) => {
                if let Some((from, n)) = plan(entries.len()) {
                    entries.drain(from..from + n);
                }
            }
        }
    }

    /// Counts an event (for `event_count`, and for chained correlations).
    pub(crate) fn push_time(&mut self, ts: i64) {
        if let Window::Count(times) = self {
            times.push_back(ts);
        }
    }

    /// Adds `value` to a `value_count` window; the value's text is shared
    /// with the entries already holding it (no copy for a value seen before).
    pub(crate) fn push_value(&mut self, ts: i64, value: &str) {
        if let Window::Distinct { entries, counts } = self {
            let shared = match counts.get_key_value(value) {
                Some((shared, _)) => Arc::clone(shared),
                None => Arc::from(value),
            };
            *counts.entry(Arc::clone(&shared)).or_insert(0) += 1;
            entries.push_back((ts, shared));
        }
    }

    /// Records that the rule at `position` matched.
    pub(crate) fn push_rule(&mut self, ts: i64, position: usize) {
        if let Window::Temporal(rules) = self
            && let Some(times) = rules.get_mut(position)
        {
            times.push_back(ts);
        }
    }

    pub(crate) fn push_number(&mut self, ts: i64, value: f64) {
        if let Window::Numeric(entries) = self {
            entries.push_back((ts, value));
        }
    }

    /// The value the correlation's condition compares, or `None` when there
    /// is none (no finite number for a percentile) or when the window does not
    /// fit `kind`.
    pub(crate) fn value(
        &self,
        kind: CorrelationType,
        percentile: Option<u64>,
        rule_refs: &[String],
        extended: Option<&ConditionExpr>,
    ) -> Option<Verdict> {
        let fired = |rules: &[VecDeque<i64>]| rules.iter().filter(|t| !t.is_empty()).count();
        let value = match (self, kind) {
            (Window::Count(times), CorrelationType::EventCount) => times.len() as f64,
            (Window::Distinct { counts, .. }, CorrelationType::ValueCount) => counts.len() as f64,
            (Window::Temporal(rules), CorrelationType::Temporal) => {
                if let Some(expr) = extended {
                    // An expression decides alone: no threshold after it.
                    return temporal_expr(expr, rule_refs, rules)
                        .then(|| Verdict::Decided(fired(rules) as f64));
                }
                fired(rules) as f64
            }
            (Window::Temporal(rules), CorrelationType::TemporalOrdered) => {
                if extended.is_some_and(|expr| !temporal_expr(expr, rule_refs, rules)) {
                    return None;
                }
                if in_order(rule_refs, rules) {
                    rule_refs.len() as f64
                } else {
                    0.0
                }
            }
            (Window::Numeric(entries), CorrelationType::ValueSum) => {
                entries.iter().map(|(_, v)| v).sum()
            }
            (Window::Numeric(entries), CorrelationType::ValueAvg) => {
                if entries.is_empty() {
                    0.0
                } else {
                    entries.iter().map(|(_, v)| v).sum::<f64>() / entries.len() as f64
                }
            }
            (Window::Numeric(entries), CorrelationType::ValuePercentile) => {
                let sorted = finite_sorted(entries)?;
                let rank = percentile.map_or(50.0, |p| p as f64);
                interpolate(&sorted, rank)
            }
            (Window::Numeric(entries), CorrelationType::ValueMedian) => {
                let sorted = finite_sorted(entries)?;
                let mid = sorted.len() / 2;
                if sorted.len() % 2 == 0 {
                    (sorted[mid - 1] + sorted[mid]) / 2.0
                } else {
                    sorted[mid]
                }
            }
            _ => return None,
        };
        Some(Verdict::Compare(value))
    }
}

/// What a window's value means for its condition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    /// Compare with the condition's thresholds.
    Compare(f64),
    /// Already decided (a temporal expression held): fire with this value.
    Decided(f64),
}

fn forget(counts: &mut HashMap<Arc<str>, u32, ahash::RandomState>, value: &Arc<str>) {
    if let Some(n) = counts.get_mut(value) {
        *n -= 1;
        if *n == 0 {
            counts.remove(value);
        }
    }
}

/// Whether each referenced rule matched at or after the one before it. The
/// earliest qualifying time of each rule is the best choice for the next, so
/// one pass per rule decides (entries are in arrival order, not time order).
fn in_order(rule_refs: &[String], rules: &[VecDeque<i64>]) -> bool {
    let mut after = i64::MIN;
    for position in 0..rule_refs.len() {
        let position = first_position(rule_refs, position);
        let Some(next) = rules
            .get(position)
            .and_then(|times| times.iter().copied().filter(|&t| t >= after).min())
        else {
            return false;
        };
        after = next;
    }
    true
}

/// A rule named twice among the references shares its first slot.
fn first_position(rule_refs: &[String], position: usize) -> usize {
    rule_refs
        .iter()
        .position(|r| *r == rule_refs[position])
        .unwrap_or(position)
}

/// A temporal correlation's boolean condition over its rules' names.
fn temporal_expr(expr: &ConditionExpr, rule_refs: &[String], rules: &[VecDeque<i64>]) -> bool {
    match expr {
        ConditionExpr::Identifier(name) => rule_refs
            .iter()
            .position(|r| r == name)
            .and_then(|p| rules.get(p))
            .is_some_and(|times| !times.is_empty()),
        ConditionExpr::And(all) => all.iter().all(|e| temporal_expr(e, rule_refs, rules)),
        ConditionExpr::Or(any) => any.iter().any(|e| temporal_expr(e, rule_refs, rules)),
        ConditionExpr::Not(inner) => !temporal_expr(inner, rule_refs, rules),
        // Quantified selectors have no meaning over rule names.
        ConditionExpr::Selector { .. } => false,
    }
}

fn finite_sorted(entries: &VecDeque<(i64, f64)>) -> Option<Vec<f64>> {
    let mut values: Vec<f64> = entries
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .collect();
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values)
}

/// The `percentile`-th percentile of sorted `values`, linearly interpolated.
fn interpolate(values: &[f64], percentile: f64) -> f64 {
    let n = values.len();
    if n == 1 {
        return values[0];
    }
    let rank = percentile.clamp(0.0, 100.0) / 100.0 * (n - 1) as f64;
    let (lower, upper) = (rank.floor() as usize, rank.ceil() as usize);
    if lower == upper || upper >= n {
        values[lower.min(n - 1)]
    } else {
        values[lower] + (rank - lower as f64) * (values[upper] - values[lower])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_values_follow_the_window_as_it_slides_and_is_capped() {
        let mut w = Window::new(CorrelationType::ValueCount, 1);
        for (t, v) in [(0, "a"), (1, "b"), (2, "a"), (3, "c")] {
            w.push_value(t, v);
        }
        let distinct = |w: &Window| match w.value(CorrelationType::ValueCount, None, &[], None) {
            Some(Verdict::Compare(v)) => v,
            other => panic!("{other:?}"),
        };
        assert_eq!(distinct(&w), 3.0);
        w.evict(2); // drops (0, a) and (1, b); a is still there at 2
        assert_eq!(distinct(&w), 2.0);
        w.truncate(1, false); // keeps (3, c)
        assert_eq!(distinct(&w), 1.0);
        w.clear();
        assert_eq!(distinct(&w), 0.0);
    }

    #[test]
    fn ordered_rules_are_found_whatever_order_their_times_arrived_in() {
        let refs = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let rules = vec![
            VecDeque::from([50, 10]),
            VecDeque::from([5, 20]),
            VecDeque::from([30]),
        ];
        assert!(in_order(&refs, &rules));
        let late_a = vec![
            VecDeque::from([40]),
            VecDeque::from([5, 20]),
            VecDeque::from([30]),
        ];
        assert!(!in_order(&refs, &late_a));
    }

    #[test]
    fn a_session_keeps_its_first_entry_when_capped() {
        let mut w = Window::new(CorrelationType::EventCount, 1);
        for t in 0..10 {
            w.push_time(t);
        }
        w.truncate(3, true);
        assert_eq!(w.earliest(), Some(0));
        assert_eq!(w.latest(), Some(9));
        assert_eq!(
            w.value(CorrelationType::EventCount, None, &[], None),
            Some(Verdict::Compare(3.0))
        );
    }

    #[test]
    fn percentiles_interpolate_between_neighbours() {
        assert_eq!(interpolate(&[1.0, 2.0, 3.0, 4.0], 50.0), 2.5);
        assert_eq!(interpolate(&[7.0], 90.0), 7.0);
        assert_eq!(interpolate(&[1.0, 3.0], 100.0), 3.0);
    }
}
