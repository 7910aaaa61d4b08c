//! The correlator's windows as JSON, so that a restart continues them: saved
//! by the rules stage at its checkpoints, read back when it resumes.
//!
//! Windows are matched to correlations by identity (id, else title) and type;
//! those of correlations no longer loaded are dropped, and a window that does
//! not fit its correlation's type is dropped too.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::window::Window;
use super::{Correlator, Group};

/// The format's version: a snapshot of another version is not read.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    correlations: Vec<CorrelationState>,
}

#[derive(Serialize, Deserialize)]
struct CorrelationState {
    /// The correlation's id, else its title.
    identity: String,
    /// Its type, as Sigma names it.
    kind: String,
    groups: Vec<GroupState>,
}

#[derive(Serialize, Deserialize)]
struct GroupState {
    key: String,
    values: Vec<Option<String>>,
    window: WindowState,
    #[serde(default)]
    refs: Vec<(i64, Uuid)>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WindowState {
    Count(Vec<i64>),
    Distinct(Vec<(i64, String)>),
    Temporal(Vec<Vec<i64>>),
    Numeric(Vec<(i64, f64)>),
}

impl Correlator {
    /// Every window, as JSON.
    pub(crate) fn export_state(&self) -> String {
        let correlations = self
            .corrs
            .iter()
            .zip(&self.groups)
            .filter(|(_, groups)| !groups.is_empty())
            .map(|(corr, groups)| CorrelationState {
                identity: corr.id.clone().unwrap_or_else(|| corr.title.clone()),
                kind: corr.correlation_type.as_str().to_owned(),
                groups: groups
                    .iter()
                    .map(|(key, g)| GroupState {
                        key: key.to_string(),
                        values: g
                            .values
                            .iter()
                            .map(|v| v.as_deref().map(str::to_owned))
                            .collect(),
                        window: match &g.window {
                            Window::Count(times) => {
                                WindowState::Count(times.iter().copied().collect())
                            }
                            Window::Distinct { entries, .. } => WindowState::Distinct(
                                entries.iter().map(|(t, v)| (*t, v.to_string())).collect(),
                            ),
                            Window::Temporal(rules) => WindowState::Temporal(
                                rules.iter().map(|t| t.iter().copied().collect()).collect(),
                            ),
                            Window::Numeric(entries) => {
                                WindowState::Numeric(entries.iter().copied().collect())
                            }
                        },
                        refs: g.refs.iter().copied().collect(),
                    })
                    .collect(),
            })
            .collect();
        serde_json::to_string(&Snapshot {
            version: VERSION,
            correlations,
        })
        .unwrap_or_default()
    }

    /// Restores windows saved by [`export_state`](Self::export_state); false
    /// when `state` is not such a snapshot (the windows stay empty then).
    pub(crate) fn import_state(&mut self, state: &str) -> bool {
        let Ok(snapshot) = serde_json::from_str::<Snapshot>(state) else {
            return false;
        };
        if snapshot.version != VERSION {
            return false;
        }
        for groups in &mut self.groups {
            groups.clear();
        }
        self.total = 0;
        let max = self.limits.max_groups.max(1);
        for saved in snapshot.correlations {
            let Some(index) = self.corrs.iter().position(|c| {
                c.id.as_deref().unwrap_or(&c.title) == saved.identity
                    && c.correlation_type.as_str() == saved.kind
            }) else {
                continue;
            };
            let corr = &self.corrs[index];
            for g in saved.groups {
                if self.total >= max || g.values.len() != corr.group_by.len() {
                    continue;
                }
                let mut window = Window::new(corr.correlation_type, corr.rule_refs.len());
                let fits = match g.window {
                    WindowState::Count(times) if matches!(window, Window::Count(_)) => {
                        times.into_iter().for_each(|t| window.push_time(t));
                        true
                    }
                    WindowState::Distinct(entries) if matches!(window, Window::Distinct { .. }) => {
                        entries.iter().for_each(|(t, v)| window.push_value(*t, v));
                        true
                    }
                    WindowState::Temporal(rules) if matches!(&window, Window::Temporal(slots) if slots.len() == rules.len()) =>
                    {
                        for (position, times) in rules.into_iter().enumerate() {
                            times
                                .into_iter()
                                .for_each(|t| window.push_rule(t, position));
                        }
                        true
                    }
                    WindowState::Numeric(entries) if matches!(window, Window::Numeric(_)) => {
                        entries
                            .into_iter()
                            .for_each(|(t, v)| window.push_number(t, v));
                        true
                    }
                    _ => false,
                };
                if !fits || window.is_empty() {
                    continue;
                }
                if let Some(cap) = super::entry_cap(&self.limits) {
                    window.truncate(cap, corr.window_mode == rsigma_parser::WindowMode::Session);
                }
                let mut refs: VecDeque<(i64, Uuid)> = g.refs.into();
                while refs.len() > self.limits.max_linked_events {
                    refs.pop_front();
                }
                let group = Group {
                    window,
                    values: g
                        .values
                        .into_iter()
                        .map(|v| v.map(String::into_boxed_str))
                        .collect(),
                    refs,
                };
                if self.groups[index]
                    .insert(g.key.into_boxed_str(), group)
                    .is_none()
                {
                    self.total += 1;
                }
            }
        }
        true
    }
}
