//! `kill -9` while clients post: every batch answered 200 is in the store after a
//! restart, and no batch is there in part.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{Server, all_events, client, on_postgres, token};

const BATCH: usize = 200;

#[test]
fn kill_9_loses_no_acknowledged_batch() {
    kill_9_loses_no_acknowledged_batch_on(false);
}

/// The same on PostgreSQL.
#[test]
fn kill_9_loses_no_acknowledged_batch_on_postgres() {
    kill_9_loses_no_acknowledged_batch_on(true);
}

fn kill_9_loses_no_acknowledged_batch_on(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let _db = match postgres {
        true => match on_postgres(&data) {
            Some(db) => Some(db),
            None => return,
        },
        false => None,
    };
    let token = token(&data, "loader", "analyst");
    let mut server = Server::start(&data, None);

    let acked = Arc::new(Mutex::new(BTreeSet::<u64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for worker in 0..3u64 {
        let (url, token, acked, stop) = (
            server.url.clone(),
            token.clone(),
            acked.clone(),
            stop.clone(),
        );
        clients.push(std::thread::spawn(move || {
            let client = client();
            let deadline = Instant::now() + Duration::from_secs(60);
            for n in 0..100_000u64 {
                if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                    break;
                }
                let batch = worker * 1_000_000 + n;
                let events: Vec<Value> = (0..BATCH)
                    .map(|i| json!({"kind": "http.request", "summary": format!("batch {batch} item {i}"), "data": {"batch": batch}}))
                    .collect();
                let sent = client
                    .post(format!("{url}/api/v1/events"))
                    .bearer_auth(&token)
                    .json(&events)
                    .send();
                match sent {
                    Ok(response) if response.status() == 200 => {
                        acked.lock().unwrap().insert(batch);
                    }
                    _ => break, // the server is gone
                }
            }
        }));
    }
    // Let a good number of batches through, then kill mid-stream.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 40 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 40,
        "only {} batches were acknowledged",
        acked.len()
    );

    let server = Server::start(&data, None);
    let mut per_batch = BTreeMap::<u64, usize>::new();
    for event in all_events(&server.url, &token, "") {
        *per_batch
            .entry(event["data"]["batch"].as_u64().unwrap())
            .or_default() += 1;
    }
    for batch in &acked {
        assert_eq!(
            per_batch.get(batch),
            Some(&BATCH),
            "acknowledged batch {batch} lost or partial"
        );
    }
    for (batch, count) in &per_batch {
        assert_eq!(*count, BATCH, "batch {batch} stored in part");
    }
}
