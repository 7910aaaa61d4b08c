//! The spool against what a sensor needs of it: batches survive a reopen and a
//! torn write, leave only when acknowledged, never reuse a sequence number, and
//! a full spool either waits or drops the oldest and says exactly how much.

use std::time::Duration;

use nectar_event::{Event, Kind, Severity};
use nectar_spool::{Spool, SpoolConfig, WhenFull, decode};

fn events(n: usize, tag: &str) -> Vec<Event> {
    (0..n)
        .map(|i| {
            Event::new("sensor-1", Kind::SshLoginFailed, Severity::Low, "failed")
                .with("password", format!("{tag}-{i}-{}", "x".repeat(40)))
        })
        .collect()
}

#[tokio::test]
async fn batches_leave_only_when_acknowledged_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spool.db");
    let spool = Spool::open(&path, SpoolConfig::default()).await.unwrap();
    let sent = [events(3, "a"), events(5, "b"), events(2, "c")];
    for (i, batch) in sent.iter().enumerate() {
        assert_eq!(spool.append(batch).await.unwrap().seq, i as u64 + 1);
    }
    let waiting = spool.next(0, 10).await.unwrap();
    assert_eq!(waiting.iter().map(|b| b.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(decode(&waiting[1].payload, 1 << 20).unwrap(), sent[1]);
    assert!(spool.ack(1).await.unwrap());
    assert!(!spool.ack(1).await.unwrap(), "a second ack changes nothing");
    spool.close().await;

    let spool = Spool::open(&path, SpoolConfig::default()).await.unwrap();
    let waiting = spool.next(0, 10).await.unwrap();
    assert_eq!(waiting.iter().map(|b| b.seq).collect::<Vec<_>>(), [2, 3]);
    let stats = spool.stats().await.unwrap();
    assert_eq!((stats.batches, stats.events), (2, 7));
    // Sequence numbers go on after the highest ever given, acknowledged or not.
    spool.ack(3).await.unwrap();
    assert_eq!(spool.append(&events(1, "d")).await.unwrap().seq, 4);
}

#[tokio::test]
async fn a_full_spool_drops_the_oldest_and_reports_them_once() {
    let dir = tempfile::tempdir().unwrap();
    let one = nectar_spool::encode(&events(10, "probe")).unwrap().len() as u64;
    let config = SpoolConfig {
        max_bytes: one * 3 + one / 2,
        when_full: WhenFull::DropOldest,
    };
    let spool = Spool::open(&dir.path().join("spool.db"), config)
        .await
        .unwrap();
    let mut dropped = 0;
    for i in 0..6 {
        dropped += spool
            .append(&events(10, &format!("b{i}")))
            .await
            .unwrap()
            .dropped_events;
    }
    let stats = spool.stats().await.unwrap();
    assert!(stats.bytes <= config.max_bytes);
    assert_eq!(dropped, stats.dropped);
    assert_eq!(
        stats.events + stats.dropped,
        60,
        "every event is waiting or counted as dropped"
    );
    let report = spool
        .report_drops(|n| {
            Event::new(
                "sensor-1",
                Kind::SensorStatus,
                Severity::Medium,
                format!("spool full: {n} events dropped"),
            )
        })
        .await
        .unwrap();
    assert_eq!(report, Some(dropped));
    let again = spool
        .report_drops(|_| unreachable!("nothing new to report"))
        .await
        .unwrap();
    assert_eq!(again, None);
    // The report is a batch like any other, the newest.
    let last = spool.next(0, 100).await.unwrap().pop().unwrap();
    let told = decode(&last.payload, 1 << 20).unwrap();
    assert!(
        told[0]
            .summary
            .contains(&format!("{dropped} events dropped"))
    );
}

#[tokio::test]
async fn a_full_blocking_spool_waits_for_an_ack_and_drops_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let one = nectar_spool::encode(&events(10, "probe")).unwrap().len() as u64;
    let config = SpoolConfig {
        max_bytes: one * 2 + one / 2,
        when_full: WhenFull::Block,
    };
    let spool = Spool::open(&dir.path().join("spool.db"), config)
        .await
        .unwrap();
    spool.append(&events(10, "a")).await.unwrap();
    spool.append(&events(10, "b")).await.unwrap();
    let third = {
        let spool = spool.clone();
        tokio::spawn(async move { spool.append(&events(10, "c")).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!third.is_finished(), "waits while full");
    spool.ack(1).await.unwrap();
    let appended = tokio::time::timeout(Duration::from_secs(5), third)
        .await
        .expect("the ack frees room")
        .unwrap()
        .unwrap();
    assert_eq!(appended.seq, 3);
    assert_eq!(appended.dropped_events, 0);
    assert_eq!(spool.stats().await.unwrap().dropped, 0);
    // A batch larger than the whole spool is refused, not waited for.
    let huge = vec![0u8; config.max_bytes as usize + 1];
    assert!(matches!(
        spool.append_payload(1, huge).await,
        Err(nectar_spool::SpoolError::TooLarge { .. })
    ));
}

#[tokio::test]
async fn a_rejected_or_altered_batch_is_set_aside_and_the_rest_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spool.db");
    let spool = Spool::open(&path, SpoolConfig::default()).await.unwrap();
    for tag in ["a", "b", "c"] {
        spool.append(&events(2, tag)).await.unwrap();
    }
    assert!(spool.reject(1, "400: field `kind`: unknown").await.unwrap());
    spool.close().await;
    // Batch 2's payload changes on disk (a bad sector, a hand edit).
    {
        let conn = std::process::Command::new("python3")
            .arg("-c")
            .arg(format!(
                "import sqlite3; c=sqlite3.connect({:?}); c.execute(\"UPDATE batches SET payload = x'00' || substr(payload, 2) WHERE seq = 2\"); c.commit()",
                path.display().to_string()
            ))
            .status()
            .expect("python3 runs");
        assert!(conn.success());
    }
    let spool = Spool::open(&path, SpoolConfig::default()).await.unwrap();
    let waiting = spool.next(0, 10).await.unwrap();
    assert_eq!(waiting.iter().map(|b| b.seq).collect::<Vec<_>>(), [3]);
    assert_eq!(spool.stats().await.unwrap().dead, 2);
}

/// A power cut in the middle of a write: the spool's files as they were on
/// disk, with the last write torn. The spool opens, keeps every batch
/// committed before, and goes on numbering.
#[tokio::test]
async fn a_torn_last_write_is_rolled_back_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spool.db");
    let spool = Spool::open(&path, SpoolConfig::default()).await.unwrap();
    for tag in ["a", "b", "c"] {
        spool.append(&events(20, tag)).await.unwrap();
    }
    // Copy the files while the spool is open (its WAL not checkpointed), as a
    // power cut would leave them, then tear the WAL's last bytes.
    let cut = dir.path().join("cut");
    std::fs::create_dir(&cut).unwrap();
    for suffix in ["", "-wal"] {
        let from = dir.path().join(format!("spool.db{suffix}"));
        if from.exists() {
            std::fs::copy(&from, cut.join(format!("spool.db{suffix}"))).unwrap();
        }
    }
    let wal = cut.join("spool.db-wal");
    let len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(len > 1_000, "the appends are in the WAL");
    let file = std::fs::OpenOptions::new().write(true).open(&wal).unwrap();
    file.set_len(len - 700).unwrap();
    drop(file);

    let reopened = Spool::open(&cut.join("spool.db"), SpoolConfig::default())
        .await
        .unwrap();
    let waiting = reopened.next(0, 10).await.unwrap();
    let seqs: Vec<u64> = waiting.iter().map(|b| b.seq).collect();
    assert_eq!(
        seqs,
        [1, 2],
        "the torn third append is gone, the others kept"
    );
    for batch in &waiting {
        assert_eq!(decode(&batch.payload, 1 << 20).unwrap().len(), 20);
    }
    let stats = reopened.stats().await.unwrap();
    assert_eq!(
        (stats.batches, stats.events),
        (2, 40),
        "counters agree with the batches"
    );
    assert_eq!(reopened.append(&events(1, "d")).await.unwrap().seq, 3);
}
