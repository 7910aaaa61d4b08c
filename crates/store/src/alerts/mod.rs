//! Alerts in the store: the rules stage's transactional fold of matches into
//! alerts (with its progress, so every committed event counts once), the queue's
//! queries, people's changes with their history, silences, and the feed of
//! raised alerts that notifications read (`alert_notices`).

mod notices;

pub use notices::{AlertNotice, NoticeKind};
