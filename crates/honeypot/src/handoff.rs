//! How honeypot events reach the store's bus: in bursts, not one by one.
//!
//! A brute force makes a connection, a failed login and a close a few tens of
//! microseconds apart, thousands of times a second. Passed on one by one, each
//! event can wake the bus, which then commits whatever little is queued: a
//! transaction, its WAL frames and a dozen hand-offs to SQLite's thread for a few
//! events (measured: about one WAL page write and one thread switch per event
//! under a Telnet brute force, see BENCHMARKS.md). This stage takes the first
//! event of a burst, waits [`LINGER`] for the rest of it, then passes the whole
//! burst on at once, so the bus wakes once and commits it in one transaction.
//!
//! Nothing is dropped: the queue is bounded and a full queue makes the sessions
//! wait (as the bus itself does). Sessions never wait for the linger itself, and
//! an event reaches the bus at most [`LINGER`] later than it would have.

use std::time::Duration;

use nectar_event::Event;
use nectar_store::EventSender;
use tokio::sync::mpsc::Receiver;
use tokio::task::JoinHandle;

/// How long the first event of a burst waits for the others. Short enough that
/// nobody sees it in the UI, long enough that a brute force's events of that
/// time (a thousand or more) go into one transaction: a transaction has a fixed
/// cost (its WAL frames, the rollups, the JSON-lines write), and the ingest bench
/// stores events 2.5x slower in transactions of ~100 than of ~1,000. Measured
/// against 10 ms (`scripts/bench_telnet_honeypot.sh`, alternating builds): 7–10 %
/// less server CPU per failed Telnet login.
pub const LINGER: Duration = Duration::from_millis(50);
/// Events queued before senders wait.
const CAPACITY: usize = 65_536;
/// Most events passed on per burst.
const BURST: usize = 4_096;

/// The running hand-off stage.
pub struct Handoff {
    task: JoinHandle<()>,
}

impl Handoff {
    /// Starts the stage in front of `bus`; returns the sender honeypots should use.
    pub fn start(bus: EventSender) -> (Handoff, EventSender) {
        let (tx, rx) = EventSender::channel(CAPACITY);
        let task = tokio::spawn(run(rx, bus, LINGER));
        (Handoff { task }, tx)
    }

    /// Waits until every event sent before the honeypots stopped is on the bus
    /// (the honeypots' senders must be gone).
    pub async fn finish(self) {
        let _ = self.task.await;
    }
}

async fn run(mut rx: Receiver<Event>, bus: EventSender, linger: Duration) {
    let mut burst = Vec::with_capacity(BURST);
    while rx.recv_many(&mut burst, BURST).await > 0 {
        if burst.len() < BURST {
            tokio::time::sleep(linger).await;
            while burst.len() < BURST {
                match rx.try_recv() {
                    Ok(event) => burst.push(event),
                    Err(_) => break,
                }
            }
        }
        for event in burst.drain(..) {
            bus.send(event).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nectar_event::{Kind, Severity};

    fn event(n: u32) -> Event {
        Event::new("t", Kind::SessionConnect, Severity::Info, format!("{n}"))
    }

    #[tokio::test]
    async fn a_burst_arrives_whole_and_in_order_and_nothing_is_lost_at_close() {
        let (bus, mut store) = EventSender::channel(100_000);
        let (handoff, tx) = Handoff::start(bus);
        for n in 0..10_000 {
            tx.send(event(n)).await;
        }
        drop(tx);
        handoff.finish().await;
        let mut got = Vec::new();
        store.recv_many(&mut got, 100_000).await;
        assert_eq!(got.len(), 10_000);
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, e)| e.summary == i.to_string())
        );
    }

    #[tokio::test]
    async fn a_lone_event_is_passed_on_after_the_linger_without_waiting_for_company() {
        let (bus, mut store) = EventSender::channel(16);
        let (_handoff, tx) = Handoff::start(bus);
        let sent = tokio::time::Instant::now();
        tx.send(event(1)).await;
        let got = tokio::time::timeout(Duration::from_secs(10), store.recv()).await;
        assert_eq!(got.ok().flatten().map(|e| e.summary).as_deref(), Some("1"));
        assert!(sent.elapsed() >= LINGER);
    }
}
