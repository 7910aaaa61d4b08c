//! Which sensor each honeypot session belongs to (`event_sessions`): one row
//! per session, written in the transaction that stores the session's first
//! event, so that ingest can refuse a sensor posting into another sensor's
//! session with one indexed lookup instead of a scan of every event's JSON.

use std::collections::HashMap;

use nectar_event::{Event, field};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::StoreError;

/// Rows per statement (3 parameters each).
const ROWS_PER_STATEMENT: usize = 500;

/// The sessions a batch of new events names, with their sensor and earliest
/// event time.
#[derive(Default)]
pub(crate) struct SessionBatch<'a> {
    sessions: HashMap<&'a str, (&'a str, i64)>,
}

impl<'a> SessionBatch<'a> {
    pub(crate) fn add(&mut self, event: &'a Event) {
        let Some(session) = event.data.get(field::SESSION).and_then(|v| v.as_str()) else {
            return;
        };
        let time = event.time.as_micros();
        let entry = self
            .sessions
            .entry(session)
            .or_insert((event.sensor.as_str(), time));
        entry.1 = entry.1.min(time);
    }

    /// Records the sessions not known yet (the first sensor to name a session
    /// keeps it).
    pub(crate) async fn flush(&mut self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        let rows: Vec<_> = self.sessions.drain().collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "INSERT INTO event_sessions (session, sensor, first_us) ",
            );
            query.push_values(chunk, |mut row, (session, (sensor, time))| {
                row.push_bind(*session).push_bind(*sensor).push_bind(*time);
            });
            query.push(" ON CONFLICT (session) DO NOTHING");
            query.build().execute(&mut *conn).await?;
        }
        Ok(())
    }
}
