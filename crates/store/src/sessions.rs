//! Honeypot sessions as the writer keeps them: which sensor each session
//! belongs to (`event_sessions`), so that ingest can refuse a sensor posting
//! into another sensor's session with one indexed lookup; and a summary row per
//! session (`session_summaries`: protocol, source, times, counts of logins,
//! commands and files, the accepted credentials), which the Sessions page reads
//! instead of grouping every event. Both are written in the transaction that
//! stores the events, so they always agree with them.

use crate::db::{self, Tx};
use std::collections::HashMap;
use std::net::IpAddr;

use nectar_event::{Category, Event, Protocol, field};

use crate::StoreError;
use crate::query::ip_bytes;

/// Rows per statement (15 parameters each).
const ROWS_PER_STATEMENT: usize = 500;

/// Longest protocol name kept (it comes from `data.protocol`).
const MAX_PROTOCOL: usize = 16;

/// What a batch of new events adds to one session.
struct Delta<'a> {
    sensor: &'a str,
    protocol: Option<&'a str>,
    src_ip: Option<IpAddr>,
    first_us: i64,
    last_us: i64,
    events: i64,
    commands: i64,
    failed_logins: i64,
    logins: i64,
    downloads: i64,
    uploads: i64,
    username: Option<&'a str>,
    password: Option<&'a str>,
}

impl Delta<'_> {
    /// 3: commands or files, 2: logged in, 1: failed logins, 0: nothing.
    fn interest(&self) -> i64 {
        if self.commands + self.downloads + self.uploads > 0 {
            3
        } else if self.logins > 0 {
            2
        } else if self.failed_logins > 0 {
            1
        } else {
            0
        }
    }
}

/// The sessions a batch of new events names, with what the batch adds to each.
#[derive(Default)]
pub(crate) struct SessionBatch<'a> {
    sessions: HashMap<&'a str, Delta<'a>>,
}

/// The protocol an event says it came over: `data.protocol` (bounded), else its
/// kind's family when that is a honeypot protocol.
fn protocol_of(event: &Event) -> Option<&str> {
    if let Some(p) = event.data.get(field::PROTOCOL).and_then(|v| v.as_str())
        && !p.is_empty()
    {
        return Some(nectar_event::text::bound(p, MAX_PROTOCOL));
    }
    match event.kind.protocol() {
        Protocol::Ssh => Some("ssh"),
        Protocol::Telnet => Some("telnet"),
        Protocol::Http => Some("http"),
        _ => None,
    }
}

impl<'a> SessionBatch<'a> {
    pub(crate) fn add(&mut self, event: &'a Event) {
        let Some(session) = event.data.get(field::SESSION).and_then(|v| v.as_str()) else {
            return;
        };
        let time = event.time.as_micros();
        let delta = self.sessions.entry(session).or_insert(Delta {
            sensor: event.sensor.as_str(),
            protocol: None,
            src_ip: None,
            first_us: time,
            last_us: time,
            events: 0,
            commands: 0,
            failed_logins: 0,
            logins: 0,
            downloads: 0,
            uploads: 0,
            username: None,
            password: None,
        });
        delta.first_us = delta.first_us.min(time);
        delta.last_us = delta.last_us.max(time);
        delta.events += 1;
        if delta.protocol.is_none() {
            delta.protocol = protocol_of(event);
        }
        if delta.src_ip.is_none() {
            delta.src_ip = event.src_ip;
        }
        let text = |key| event.data.get(key).and_then(|v| v.as_str());
        match event.kind.category() {
            Category::Command => delta.commands += 1,
            Category::LoginFailure => delta.failed_logins += 1,
            Category::LoginSuccess => {
                delta.logins += 1;
                if delta.username.is_none() {
                    delta.username = text(field::USERNAME);
                    delta.password = text(field::PASSWORD);
                }
            }
            Category::Download => delta.downloads += 1,
            Category::Upload => delta.uploads += 1,
            _ => {}
        }
    }

    /// Records the sessions not known yet in `event_sessions` (the first sensor
    /// to name a session keeps it), and adds the batch to each session's summary.
    pub(crate) async fn flush(&mut self, conn: &mut Tx) -> Result<(), StoreError> {
        let rows: Vec<_> = self.sessions.drain().collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut query = db::builder("INSERT INTO event_sessions (session, sensor, first_us) ");
            query.push_values(chunk, |mut row, (session, delta)| {
                row.push_bind(*session)
                    .push_bind(delta.sensor)
                    .push_bind(delta.first_us);
            });
            query.push(" ON CONFLICT (session) DO NOTHING");
            query.execute(conn.exec()).await?;

            let mut query = db::builder(
                "INSERT INTO session_summaries (session, sensor, protocol, src_ip, first_us, \
                 last_us, events, commands, failed_logins, logins, downloads, uploads, username, \
                 password, interest) ",
            );
            query.push_values(chunk, |mut row, (session, d)| {
                row.push_bind(*session)
                    .push_bind(d.sensor)
                    .push_bind(d.protocol.unwrap_or(""))
                    .push_bind(d.src_ip.map(ip_bytes))
                    .push_bind(d.first_us)
                    .push_bind(d.last_us)
                    .push_bind(d.events)
                    .push_bind(d.commands)
                    .push_bind(d.failed_logins)
                    .push_bind(d.logins)
                    .push_bind(d.downloads)
                    .push_bind(d.uploads)
                    .push_bind(d.username)
                    .push_bind(d.password)
                    .push_bind(d.interest());
            });
            // The session's sensor stays its first (ingest refuses the others).
            query.push(
                " ON CONFLICT (session) DO UPDATE SET \
                 protocol = CASE WHEN session_summaries.protocol = '' THEN excluded.protocol ELSE session_summaries.protocol END, \
                 src_ip = COALESCE(session_summaries.src_ip, excluded.src_ip), \
                 first_us = MIN(session_summaries.first_us, excluded.first_us), \
                 last_us = MAX(session_summaries.last_us, excluded.last_us), \
                 events = session_summaries.events + excluded.events, \
                 commands = session_summaries.commands + excluded.commands, \
                 failed_logins = session_summaries.failed_logins + excluded.failed_logins, \
                 logins = session_summaries.logins + excluded.logins, \
                 downloads = session_summaries.downloads + excluded.downloads, \
                 uploads = session_summaries.uploads + excluded.uploads, \
                 username = COALESCE(session_summaries.username, excluded.username), \
                 password = CASE WHEN session_summaries.username IS NULL THEN excluded.password ELSE session_summaries.password END, \
                 interest = MAX(session_summaries.interest, excluded.interest)",
            );
            query.execute(conn.exec()).await?;
        }
        Ok(())
    }
}
