//! The rules stage over a real SQLite store and writer: 10,000 failed logins
//! from 1,000 sources within a minute become 1,000 brute-force alerts (one per
//! source, each counting its 10 events), not 10,000; and a stage stopped and
//! started again over the same store raises nothing twice.

use std::sync::Arc;
use std::time::Duration;

use nectar_bus::stream::{ConsumerConfig, ConsumerHandle, spawn_consumer};
use nectar_event::{Event, Kind, Severity, Timestamp};
use nectar_rules::{EngineLimits, RuleSet, RulesStage, RulesStats, SigmaEngine};
use nectar_store::{AlertFilter, Store, StoreConfig, WriterConfig, WriterHandle};

fn stage(store: &Store, writer: &WriterHandle) -> ConsumerHandle {
    let set = RuleSet::load(&[], &[], true);
    let (engine, errors) = SigmaEngine::new(&set, EngineLimits::default());
    assert!(errors.is_empty(), "{errors:?}");
    spawn_consumer(
        RulesStage::new(
            Box::new(engine),
            store.clone(),
            Arc::new(RulesStats::default()),
        ),
        store.clone(),
        writer.fanout(),
        ConsumerConfig::default(),
    )
    .unwrap()
}

fn failures(sources: usize, each: usize, base_second: i64) -> Vec<Event> {
    let base = 1_800_000_000_000_000i64 + base_second * 1_000_000;
    let mut out = Vec::with_capacity(sources * each);
    for round in 0..each {
        for s in 0..sources {
            let mut e = Event::new("hp", Kind::SshLoginFailed, Severity::Low, "failed")
                .with("username", "root")
                .with("password", format!("pw{round}"));
            e.src_ip = Some(std::net::IpAddr::from([
                198,
                18,
                (s / 250) as u8,
                (s % 250) as u8,
            ]));
            // All within one minute of event time.
            e.time = Timestamp::from_micros(base + (round * sources + s) as i64 * 5_000).unwrap();
            out.push(e);
        }
    }
    out
}

async fn wait_caught_up(handle: &ConsumerHandle, seq: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while handle.status().offset < seq {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            handle.status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_failures_from_a_thousand_sources_are_a_thousand_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::new(dir.path().join("nectar.db")))
        .await
        .unwrap();
    let (writer, task) = WriterHandle::spawn(store.clone(), WriterConfig::default());
    let rules = stage(&store, &writer);
    let events = failures(1_000, 10, 0);
    for chunk in events.chunks(1_000) {
        writer.submit(chunk.to_vec()).await.unwrap();
    }
    wait_caught_up(&rules, 10_000).await;
    let filter = AlertFilter {
        rule: Some("nectar.ssh-brute-force".into()),
        ..AlertFilter::default()
    };
    assert_eq!(store.count_alerts(&filter, 100_000).await.unwrap(), 1_000);
    let (page, _) = store.alerts(&filter, 1_000, None).await.unwrap();
    assert!(page.iter().all(|a| a.count == 10), "{:?}", page[0]);
    assert_eq!(store.alert_event_count(page[0].id).await.unwrap(), 10);
    // Nothing else fires on plain failed logins but credential stuffing
    // (one user name) and login-after-failures (no success): no other alerts.
    assert_eq!(
        store
            .count_alerts(&AlertFilter::default(), 100_000)
            .await
            .unwrap(),
        1_000
    );

    // Stop and start the stage again: nothing is raised twice, and the next
    // failure of a source folds into its alert.
    rules.stop(Duration::from_secs(30)).await;
    let rules = stage(&store, &writer);
    writer.submit(failures(1, 1, 30)).await.unwrap();
    wait_caught_up(&rules, 10_001).await;
    assert_eq!(store.count_alerts(&filter, 100_000).await.unwrap(), 1_000);
    let one = AlertFilter {
        src_ip: Some("198.18.0.0".into()),
        ..filter.clone()
    };
    let (page, _) = store.alerts(&one, 10, None).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].count, 11);
    drop(writer);
    task.await.unwrap();
    rules.stop(Duration::from_secs(30)).await;
    store.close().await;
}
