//! Alerts in the store: the rules stage's transactional fold of matches into
//! alerts (with its progress, so every committed event counts once), the queue's
//! queries, people's changes with their history, silences, and the feed of
//! raised alerts that notifications read (`alert_notices`).

mod fold;
pub(crate) mod history;
mod notices;
mod queue;
mod silences;
mod work;

pub use fold::{AlertFold, FoldOutcome, RuleProgress};
pub use history::AlertChange;
pub use notices::{AlertNotice, NoticeKind};
pub(crate) use queue::alert_from_body;
pub use queue::{AlertCursor, AlertFilter, MAX_ALERT_PAGE, MAX_BULK};
pub use silences::{FieldMatcher, NewSilence, Silence};
pub use work::{AlertUpdate, UpdateError};
