//! The committed-event stream over a real SQLite file: a slow consumer never holds
//! ingest back and catches up from the store; offsets survive a restart; a log
//! file is put back to its saved point so no line is written twice.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nectar_bus::stream::{Consumer, ConsumerConfig, ConsumerError, StartAt, spawn_consumer};
use nectar_bus::{BusConfig, spawn_bus};
use nectar_event::{Event, Kind};
use uuid::Uuid;

use super::{event, jsonl_consumer, open};

/// Records the ids it is given, sleeping `pause` per delivery (a slow sink).
struct Recorder {
    name: String,
    seen: Arc<Mutex<Vec<Uuid>>>,
    pause: Duration,
}

impl Consumer for Recorder {
    fn name(&self) -> &str {
        &self.name
    }
    fn start_at(&self) -> StartAt {
        StartAt::Beginning
    }
    fn resume(&mut self, _checkpoint: &str) -> Result<(), ConsumerError> {
        Ok(())
    }
    fn deliver(&mut self, _first_seq: u64, events: &[Event]) -> Result<(), ConsumerError> {
        std::thread::sleep(self.pause);
        self.seen
            .lock()
            .unwrap()
            .extend(events.iter().map(|e| e.id));
        Ok(())
    }
    fn checkpoint(&mut self) -> Result<String, ConsumerError> {
        Ok(String::new())
    }
}

fn quick() -> ConsumerConfig {
    ConsumerConfig {
        queue_batches: 2,
        idle_poll: Duration::from_millis(50),
        ..ConsumerConfig::default()
    }
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stored_ids(store: &nectar_store::Store) -> Vec<Uuid> {
    store
        .events_after(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.event.id)
        .collect()
}

nectar_store::on_both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_consumer_never_holds_ingest_back_and_catches_up_in_order(db, dir) {
        let (store, writer, task) = open(&db).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let slow = Recorder {
            name: "slow".into(),
            seen: seen.clone(),
            // Slower than the writer on either engine (a PostgreSQL commit of 500
            // events takes longer than SQLite's).
            pause: Duration::from_millis(if nectar_store::testing::postgres_server().is_some() {
                200
            } else {
                30
            }),
        };
        let consumer = spawn_consumer(slow, store.clone(), writer.fanout(), quick()).unwrap();
        let probe = consumer.probe();
        let (bus, bus_task) = spawn_bus(writer.clone(), BusConfig::default());
        // Forty batches, each answered once committed: the consumer's pace (30 ms a
        // delivery, two batches of queue) does not enter into it.
        for b in 0..40 {
            let batch: Vec<Event> = (0..500)
                .map(|i| event(b * 500 + i, Kind::SshCommand))
                .collect();
            assert_eq!(bus.submit(batch).await.unwrap().stored, 500);
        }
        let behind = probe.status();
        assert!(behind.skipped_full > 0, "{behind:?}");
        assert!(behind.lag > 0, "{behind:?}");
        wait_until("the consumer to catch up", || probe.status().lag == 0).await;
        let status = probe.status();
        assert_eq!(
            (status.offset, status.delivered),
            (20_000, 20_000),
            "{status:?}"
        );
        assert!(status.caught_up > 0, "{status:?}");
        let stored = stored_ids(&store).await;
        assert_eq!(
            *seen.lock().unwrap(),
            stored,
            "every event once, in commit order"
        );
        drop(bus);
        bus_task.await.unwrap();
        drop(writer);
        task.await.unwrap();
        consumer.stop(Duration::from_secs(30)).await;
    }
}

nectar_store::on_both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_restarted_consumer_continues_from_its_saved_offset(db, dir) {
        let (store, writer, task) = open(&db).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorder = |seen: &Arc<Mutex<Vec<Uuid>>>| Recorder {
            name: "rules".into(),
            seen: seen.clone(),
            pause: Duration::ZERO,
        };
        let first = spawn_consumer(recorder(&seen), store.clone(), writer.fanout(), quick()).unwrap();
        let events: Vec<Event> = (0..3_000).map(|i| event(i, Kind::SshCommand)).collect();
        writer.submit(events[..1_000].to_vec()).await.unwrap();
        let probe = first.probe();
        wait_until("the first run to see 1,000", || {
            probe.status().offset == 1_000
        })
        .await;
        first.stop(Duration::ZERO).await;
        assert_eq!(
            store.consumer_offset("rules").await.unwrap().unwrap().seq,
            1_000
        );
        // Stored while it was not running (another process, or a crash).
        writer.submit(events[1_000..2_000].to_vec()).await.unwrap();
        let again = Arc::new(Mutex::new(Vec::new()));
        let second = spawn_consumer(recorder(&again), store.clone(), writer.fanout(), quick()).unwrap();
        writer.submit(events[2_000..].to_vec()).await.unwrap();
        let probe = second.probe();
        wait_until("the second run to see 3,000", || {
            probe.status().offset == 3_000
        })
        .await;
        let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        assert_eq!(*seen.lock().unwrap(), ids[..1_000]);
        assert_eq!(
            *again.lock().unwrap(),
            ids[1_000..],
            "nothing twice, nothing missed"
        );
        drop(writer);
        task.await.unwrap();
        second.stop(Duration::from_secs(30)).await;
    }
}

nectar_store::on_both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_event_log_is_put_back_to_its_saved_point_and_written_once(db, dir) {
        let (store, writer, task) = open(&db).await;
        let events: Vec<Event> = (0..2_000).map(|i| event(i, Kind::HttpRequest)).collect();
        let log = jsonl_consumer(dir.path(), "event-log");
        let first = spawn_consumer(log, store.clone(), writer.fanout(), quick()).unwrap();
        writer.submit(events[..1_000].to_vec()).await.unwrap();
        let probe = first.probe();
        wait_until("the log to hold 1,000", || probe.status().offset == 1_000).await;
        first.stop(Duration::from_secs(30)).await;
        // Lines written after the saved point, as a process killed before saving its
        // offset leaves them: they are the next events, written again after restart.
        let path = dir.path().join("events.jsonl");
        let mut text = std::fs::read_to_string(&path).unwrap();
        for e in &events[1_000..1_300] {
            text.push_str(&serde_json::to_string(e).unwrap());
            text.push('\n');
        }
        text.push_str("{\"half a li");
        std::fs::write(&path, text).unwrap();
        writer.submit(events[1_000..].to_vec()).await.unwrap();
        let log = jsonl_consumer(dir.path(), "event-log");
        let second = spawn_consumer(log, store.clone(), writer.fanout(), quick()).unwrap();
        let probe = second.probe();
        wait_until("the log to hold 2,000", || probe.status().offset == 2_000).await;
        drop(writer);
        task.await.unwrap();
        second.stop(Duration::from_secs(30)).await;
        let logged: Vec<Uuid> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Event>(l).unwrap().id)
            .collect();
        assert_eq!(logged, events.iter().map(|e| e.id).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn a_second_process_cannot_write_the_same_log() {
    let dir = tempfile::tempdir().unwrap();
    let _held = jsonl_consumer(dir.path(), "event-log");
    let again = nectar_bus::stream::LineFile::open(
        "event-log",
        nectar_capture::jsonl::JsonlConfig {
            path: dir.path().join("events.jsonl"),
            max_bytes: 0,
            keep: 0,
        },
        nectar_bus::stream::JsonLines,
        StartAt::Latest,
    );
    let err = again.err().expect("refused while held");
    assert!(err.to_string().contains("another process"), "{err}");
}
