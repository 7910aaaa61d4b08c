//! The rules stage's writes: matches folded into alerts, in one transaction
//! with the stage's progress, so every committed event counts exactly once
//! even across a crash (see `nectar_rules::stage`).

use crate::db::{self, Tx};
use std::collections::BTreeMap;

use nectar_event::{Alert, AlertRule, AlertStatus, MAX_ALERT_OBSERVABLES, Observable, Timestamp};
use uuid::Uuid;

use super::notices::NoticeKind;
use crate::{Store, StoreError};

/// Event links written per statement (3 parameters each).
const LINKS_PER_STATEMENT: usize = 250;

/// Every match of one rule and group in a batch of events, folded.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertFold {
    /// The rule.
    pub rule: AlertRule,
    /// The group-by values.
    pub group: BTreeMap<String, String>,
    /// Rule id and group values: where matches fold.
    pub fingerprint: String,
    /// The alert's title, if it is new.
    pub title: String,
    /// Matches no silence covered.
    pub matches: u64,
    /// What the first of them counts for when it raises a new alert (a
    /// correlation's events in its window).
    pub initial_count: u64,
    /// Matches a silence covered, and which silences (id, matches).
    pub silenced: Vec<(Uuid, u64)>,
    /// Event time of the first and the latest unsilenced match.
    pub first_seen: Timestamp,
    /// Event time of the latest match.
    pub last_seen: Timestamp,
    /// The events of the first and the latest unsilenced match.
    pub first_event: Uuid,
    /// The event of the latest match.
    pub last_event: Uuid,
    /// Events to link, and whether each was silenced.
    pub events: Vec<(Uuid, bool)>,
    /// Observables of the matched events.
    pub observables: Vec<Observable>,
}

/// What a committed batch changed, for notices and counters.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FoldOutcome {
    /// Alerts raised (new, or after a closed one).
    pub raised: u64,
    /// Matches folded into alerts that were open.
    pub folded: u64,
    /// Matches silences held back.
    pub silenced: u64,
}

/// Where the rules stage stands (the `rule_progress` row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleProgress {
    /// Matches of events up to here are in the alerts.
    pub applied_seq: u64,
    /// The correlation state below is as of this event.
    pub state_seq: u64,
    /// The engine's exported correlation state (empty: none saved).
    pub state: String,
}

impl Store {
    /// Where rules stage `name` stands (all zero the first time).
    pub async fn rule_progress(&self, name: &str) -> Result<RuleProgress, StoreError> {
        let row: Option<(i64, i64, String)> =
            db::query_as("SELECT applied_seq, state_seq, state FROM rule_progress WHERE name = ?")
                .bind(name)
                .fetch_optional(self.db.write())
                .await?;
        Ok(row
            .map(|(applied, state_seq, state)| RuleProgress {
                applied_seq: applied.max(0) as u64,
                state_seq: state_seq.max(0) as u64,
                state,
            })
            .unwrap_or_default())
    }

    /// Saves the correlation state as of `seq` (everything up to `seq` was
    /// delivered and its matches applied).
    pub async fn save_rule_state(
        &self,
        name: &str,
        seq: u64,
        state: &str,
    ) -> Result<(), StoreError> {
        db::query(
            "INSERT INTO rule_progress (name, applied_seq, state_seq, state, updated_us) \
             VALUES (?1, ?2, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET \
             applied_seq = MAX(rule_progress.applied_seq, ?2), state_seq = ?2, state = ?3, \
             updated_us = ?4",
        )
        .bind(name)
        .bind(seq as i64)
        .bind(state)
        .bind(Timestamp::now().as_micros())
        .execute(self.db.write())
        .await?;
        Ok(())
    }

    /// Folds `folds` into the alerts and records that matches of events up to
    /// `applied_seq` are applied, in one transaction.
    pub async fn apply_alert_folds(
        &self,
        name: &str,
        applied_seq: u64,
        folds: &[AlertFold],
        hits: &[(String, u64, Timestamp)],
    ) -> Result<FoldOutcome, StoreError> {
        let mut tx = self.db.begin().await?;
        let mut outcome = FoldOutcome::default();
        let now = Timestamp::now();
        for fold in folds {
            apply_one(&mut tx, fold, now, &mut outcome).await?;
        }
        for (rule, n, last) in hits {
            db::query(
                "INSERT INTO rule_hits (rule_id, hits, last_us) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (rule_id) DO UPDATE SET hits = rule_hits.hits + ?2, \
                 last_us = MAX(rule_hits.last_us, ?3)",
            )
            .bind(rule)
            .bind(*n as i64)
            .bind(last.as_micros())
            .execute(tx.exec())
            .await?;
        }
        db::query(
            "INSERT INTO rule_progress (name, applied_seq, state_seq, state, updated_us) \
             VALUES (?1, ?2, 0, '', ?3) ON CONFLICT (name) DO UPDATE SET \
             applied_seq = MAX(rule_progress.applied_seq, ?2), updated_us = ?3",
        )
        .bind(name)
        .bind(applied_seq as i64)
        .bind(now.as_micros())
        .execute(tx.exec())
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }
}

async fn apply_one(
    tx: &mut Tx,
    fold: &AlertFold,
    now: Timestamp,
    outcome: &mut FoldOutcome,
) -> Result<(), StoreError> {
    let held: u64 = fold.silenced.iter().map(|(_, n)| n).sum();
    outcome.silenced += held;
    for (silence, n) in &fold.silenced {
        db::query("UPDATE silences SET hits = hits + ? WHERE id = ?")
            .bind(*n as i64)
            .bind(silence.as_bytes().as_slice())
            .execute(tx.exec())
            .await?;
    }
    let open = db::query("SELECT body FROM alerts WHERE fingerprint = ? AND status <> 'closed'")
        .bind(&fold.fingerprint)
        .fetch_optional(tx.exec())
        .await?;
    let (alert, raised) = match open {
        Some(row) => {
            let body: String = row.get("body")?;
            let mut alert: Alert =
                serde_json::from_str(&body).map_err(|e| StoreError::CorruptRow {
                    id: fold.fingerprint.clone(),
                    reason: e.to_string(),
                })?;
            alert.silenced += held;
            if fold.matches > 0 {
                alert.count += fold.matches;
                outcome.folded += fold.matches;
                if fold.last_seen >= alert.last_seen {
                    alert.last_seen = fold.last_seen;
                    alert.last_event = fold.last_event;
                }
                if fold.first_seen < alert.first_seen {
                    alert.first_seen = fold.first_seen;
                    alert.first_event = fold.first_event;
                }
                merge_observables(&mut alert.observables, &fold.observables);
            }
            (alert, None)
        }
        None if fold.matches == 0 => {
            // Only silenced matches and no open alert: counted on the silence.
            return Ok(());
        }
        None => {
            let previous: Option<Vec<u8>> = db::query_scalar(
                "SELECT id FROM alerts WHERE fingerprint = ? ORDER BY last_us DESC LIMIT 1",
            )
            .bind(&fold.fingerprint)
            .fetch_optional(tx.exec())
            .await?;
            let previous = previous.and_then(|b| Uuid::from_slice(&b).ok());
            let mut observables = Vec::new();
            merge_observables(&mut observables, &fold.observables);
            let alert = Alert {
                id: Uuid::now_v7(),
                rule: fold.rule.clone(),
                title: fold.title.clone(),
                severity: fold.rule.level,
                status: AlertStatus::New,
                resolution: None,
                assignee: None,
                group: fold.group.clone(),
                fingerprint: fold.fingerprint.clone(),
                count: fold.initial_count.max(1) + fold.matches.saturating_sub(1),
                silenced: held,
                first_seen: fold.first_seen,
                last_seen: fold.last_seen,
                first_event: fold.first_event,
                last_event: fold.last_event,
                observables,
                previous,
                incident: None,
            };
            outcome.raised += 1;
            let kind = if previous.is_some() {
                NoticeKind::Reopened
            } else {
                NoticeKind::Raised
            };
            (alert, Some(kind))
        }
    };
    let body = serde_json::to_string(&alert).map_err(|e| StoreError::CorruptRow {
        id: alert.id.to_string(),
        reason: e.to_string(),
    })?;
    let id = alert.id.as_bytes().as_slice();
    if raised.is_some() {
        db::query(
            "INSERT INTO alerts (id, fingerprint, rule_id, severity, status, assignee, src_ip, \
             first_us, last_us, count, body) VALUES (?, ?, ?, ?, 'new', NULL, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(&alert.fingerprint)
        .bind(&alert.rule.id)
        .bind(alert.severity.rank())
        .bind(alert.group.get("src_ip"))
        .bind(alert.first_seen.as_micros())
        .bind(alert.last_seen.as_micros())
        .bind(alert.count as i64)
        .bind(&body)
        .execute(tx.exec())
        .await?;
    } else {
        db::query("UPDATE alerts SET first_us = ?, last_us = ?, count = ?, body = ? WHERE id = ?")
            .bind(alert.first_seen.as_micros())
            .bind(alert.last_seen.as_micros())
            .bind(alert.count as i64)
            .bind(&body)
            .bind(id)
            .execute(tx.exec())
            .await?;
    }
    // Links in multi-row statements: a brute force links every attempt.
    for chunk in fold.events.chunks(LINKS_PER_STATEMENT) {
        let mut q = db::builder("INSERT INTO alert_events (alert_id, event_id, silenced) ");
        q.push_values(chunk, |mut row, (event, silenced)| {
            row.push_bind(id)
                .push_bind(event.as_bytes().to_vec())
                .push_bind(*silenced);
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.execute(tx.exec()).await?;
    }
    if let Some(kind) = raised {
        let change = serde_json::json!({
            "status": [null, "new"],
            "count": [null, alert.count],
            "previous": [null, alert.previous],
        });
        super::history::record(tx, alert.id, now, "rules", kind.as_str(), &change).await?;
        Store::push_notice(tx, kind, now, &alert).await?;
    }
    Ok(())
}

/// Adds the observables not there yet, up to [`MAX_ALERT_OBSERVABLES`].
fn merge_observables(into: &mut Vec<Observable>, new: &[Observable]) {
    for o in new {
        if into.len() >= MAX_ALERT_OBSERVABLES {
            return;
        }
        if !into.iter().any(|x| x.kind == o.kind && x.value == o.value) {
            into.push(o.clone());
        }
    }
}

impl Store {
    /// Benchmarks only: stores `n` synthetic alerts (50 rules, sources spread
    /// over 10.0.0.0/16, most closed, some assigned), in large transactions.
    #[doc(hidden)]
    pub async fn bench_fill_alerts(&self, n: usize, per_tx: usize) -> Result<(), StoreError> {
        let base = Timestamp::now().as_micros() - n as i64 * 1_000;
        let mut done = 0;
        while done < n {
            let mut tx = self.db.begin().await?;
            for i in done..(done + per_tx).min(n) {
                let rule = format!("bench-rule-{}", i % 50);
                let src = format!("10.0.{}.{}", (i / 250) % 256, i % 250);
                let status = match i % 10 {
                    0 => AlertStatus::New,
                    1 | 2 => AlertStatus::Acknowledged,
                    _ => AlertStatus::Closed,
                };
                let at =
                    Timestamp::from_micros(base + i as i64 * 1_000).unwrap_or(Timestamp::EPOCH);
                let alert = Alert {
                    id: Uuid::now_v7(),
                    rule: AlertRule {
                        id: rule.clone(),
                        title: format!("Bench rule {}", i % 50),
                        level: nectar_event::Severity::ALL[i % 5],
                        techniques: vec!["T1110.001".into()],
                    },
                    title: format!("Bench rule {}: {src}", i % 50),
                    severity: nectar_event::Severity::ALL[i % 5],
                    status,
                    resolution: (status == AlertStatus::Closed)
                        .then_some(nectar_event::AlertResolution::TruePositive),
                    assignee: (i % 3 == 0).then(|| "ana".to_owned()),
                    group: BTreeMap::from([("src_ip".to_owned(), src.clone())]),
                    fingerprint: format!("{rule}|src_ip={src}|{i}"),
                    count: 10,
                    silenced: 0,
                    first_seen: at,
                    last_seen: at,
                    first_event: Uuid::now_v7(),
                    last_event: Uuid::now_v7(),
                    observables: Vec::new(),
                    previous: None,
                    incident: None,
                };
                let body = serde_json::to_string(&alert).unwrap_or_default();
                db::query(
                    "INSERT INTO alerts (id, fingerprint, rule_id, severity, status, assignee, \
                     src_ip, first_us, last_us, count, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(alert.id.as_bytes().as_slice())
                .bind(&alert.fingerprint)
                .bind(&rule)
                .bind(alert.severity.rank())
                .bind(alert.status.as_str())
                .bind(&alert.assignee)
                .bind(&src)
                .bind(at.as_micros())
                .bind(at.as_micros())
                .bind(10i64)
                .bind(body)
                .execute(tx.exec())
                .await?;
            }
            tx.commit().await?;
            done = (done + per_tx).min(n);
        }
        db::query("ANALYZE").execute(self.db.write()).await?;
        Ok(())
    }
}
