//! Nectar's rules stage: Sigma detection and correlation rules run on every
//! committed event, and their matches become stateful alerts.
//!
//! - [`view`] and [`mapped`]: events as Sigma sees them (the native view and
//!   the web-server and process-creation mappings public rules expect);
//! - [`ruleset`]: the built-in pack and `[rules] paths`, with load errors that
//!   name file and line;
//! - [`engine`]: the engine seam ([`RuleEngine`]) and its implementation:
//!   rsigma's detection, our own correlation windows (`correlate`);
//! - [`stage`]: the stream consumer that folds matches into alerts exactly once;
//! - [`silence`], [`observables`]: what a match is held back by, and what an
//!   alert points at;
//! - [`config`]: the `[rules]` section.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod by_kind;
mod canonical;
pub mod config;
mod correlate;
pub mod engine;
pub mod mapped;
pub mod observables;
pub mod ruleset;
pub mod silence;
pub mod stage;
pub mod view;

pub use config::RulesSection;
pub use engine::{EngineLimits, Match, RuleEngine, SigmaEngine};
pub use ruleset::{LoadError, RuleInfo, RuleSet};
pub use stage::{RulesStage, RulesStats};

/// What the UI and API show of the running rules: each rule, what did not
/// load, and the stage's counters.
#[derive(Debug)]
pub struct RulesCatalog {
    /// Every rule and correlation loaded (and turned-off ones are absent).
    pub rules: Vec<RuleInfo>,
    /// Files and rules that did not load, with file and line.
    pub errors: Vec<LoadError>,
    /// The stage's live counters.
    pub stats: std::sync::Arc<RulesStats>,
}
