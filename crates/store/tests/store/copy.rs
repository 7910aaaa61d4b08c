//! `db copy` between the two engines: a store filled with events (with
//! sessions), users, tokens, offsets, alerts and an incident, copied SQLite to
//! PostgreSQL and back, answers the same queries; a non-empty destination is
//! refused unless forced.

use nectar_bus::stream::Offset;
use nectar_event::{Event, Kind};
use nectar_store::testing::{TestDatabase, database_on};
use nectar_store::{
    AlertFilter, Backend, CopyError, Destination, EventFilter, NewIncident, Role, Store,
    StoreConfig,
};

use super::{event, open};

async fn fill(db: &TestDatabase) {
    let (store, writer, task) = open(db).await;
    let events: Vec<Event> = (0..1_200)
        .map(|i| {
            let mut e = event(
                i,
                if i % 2 == 0 {
                    Kind::SshLoginFailed
                } else {
                    Kind::HttpRequest
                },
            );
            e.data
                .insert("session".into(), format!("s{:04}", i % 7).into());
            e.data
                .insert("password".into(), format!("hunter{}", i % 11).into());
            e
        })
        .collect();
    assert_eq!(writer.submit(events).await.unwrap().stored, 1_200);
    drop(writer);
    task.await.unwrap();
    store
        .create_user("ana", "$argon2id$fake", Role::Analyst)
        .await
        .unwrap();
    store
        .create_token("sensor-1", &"ab".repeat(32), Role::Sensor, Some("s1"))
        .await
        .unwrap();
    store
        .save_consumer_offset(
            "event-log",
            &Offset {
                seq: 900,
                checkpoint: "7:1234".into(),
            },
        )
        .await
        .unwrap();
    store.bench_fill_alerts(30, 10).await.unwrap();
    let (alerts, _) = store
        .alerts(&AlertFilter::default(), 3, None)
        .await
        .unwrap();
    let new = NewIncident {
        title: "Brute force".into(),
        alerts: alerts.iter().map(|a| a.id).collect(),
        ..NewIncident::default()
    };
    store.create_incident(&new, "ana").await.unwrap().unwrap();
    store.close().await;
}

/// What the API would answer, in a form to compare.
async fn answers(store: &Store) -> Vec<String> {
    let mut out = vec![format!("last_seq {}", store.last_seq().await.unwrap())];
    for s in store.events_after(0, 5_000).await.unwrap() {
        out.push(format!("{} {:?}", s.seq, s.event));
    }
    out.push(format!(
        "{:?}",
        store.consumer_offset("event-log").await.unwrap()
    ));
    let search = EventFilter {
        text: Some("hunter3".into()),
        ..EventFilter::default()
    };
    out.push(format!(
        "search {}",
        store.count_events(&search).await.unwrap()
    ));
    let session = EventFilter {
        session: Some("s0003".into()),
        ..EventFilter::default()
    };
    out.push(format!(
        "session {}",
        store.count_events(&session).await.unwrap()
    ));
    let (alerts, _) = store
        .alerts(&AlertFilter::default(), 100, None)
        .await
        .unwrap();
    for a in alerts {
        out.push(format!("{:?}", a));
    }
    out.push(format!("users {}", store.count_users().await.unwrap()));
    out
}

/// The checksum of no events.
async fn back_of_empty() -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let empty = Store::open(&StoreConfig::new(dir.path().join("e.db")))
        .await
        .unwrap();
    let sum = empty.events_checksum().await.unwrap();
    empty.close().await;
    sum
}

async fn copy_between(from: Backend, to: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let Some(source) = database_on(from, &a).await else {
        return;
    };
    let Some(dest) = database_on(to, &b).await else {
        return;
    };
    fill(&source).await;
    let (src, dst) = (
        Store::open(&source.config).await.unwrap(),
        Store::open(&dest.config).await.unwrap(),
    );
    let mut told = Vec::new();
    let report = src
        .copy_to(&dst, Destination::Empty, 500, |table, rows| {
            told.push((table.to_owned(), rows))
        })
        .await
        .unwrap();
    assert_eq!(report.tables, told);
    assert_eq!(report.events_checksum, src.events_checksum().await.unwrap());
    assert_ne!(report.events_checksum, back_of_empty().await);
    let rows = |t: &str| report.tables.iter().find(|(n, _)| n == t).unwrap().1;
    assert_eq!(rows("events"), 1_200);
    assert_eq!(rows("event_sessions"), 7);
    assert_eq!(rows("users"), 1);
    assert_eq!(rows("alerts"), 30);
    assert_eq!(rows("incidents"), 1);
    assert_eq!(answers(&src).await, answers(&dst).await);

    // Ids continue after the copied ones.
    assert_eq!(
        dst.create_user("bo", "$argon2id$fake", Role::Viewer)
            .await
            .unwrap(),
        2
    );

    // Not into a store that holds data, unless forced.
    match src.copy_to(&dst, Destination::Empty, 500, |_, _| {}).await {
        Err(CopyError::NotEmpty { .. }) => {}
        other => panic!("a non-empty destination was not refused: {other:?}"),
    }
    src.copy_to(&dst, Destination::Clear, 777, |_, _| {})
        .await
        .unwrap();
    assert_eq!(answers(&src).await, answers(&dst).await);

    // Interrupted in the alerts (and, on PostgreSQL, in the events): resumed.
    let mut cuts = vec![("alerts", 10)];
    if to == Backend::Postgres {
        cuts.push(("events", 501));
    }
    for (table, keep) in cuts {
        dst.interrupt_copy_for_tests(table, keep).await.unwrap();
        assert_eq!(dst.count_rows(table).await.unwrap(), keep);
        let report = src
            .copy_to(&dst, Destination::Resume, 100, |_, _| {})
            .await
            .unwrap();
        assert!(report.tables.iter().any(|(t, n)| t == "alerts" && *n == 30));
        assert_eq!(
            answers(&src).await,
            answers(&dst).await,
            "resumed in {table}"
        );
    }

    // And back, to a fresh SQLite file.
    let back = Store::open(&StoreConfig::new(dir.path().join("back.db")))
        .await
        .unwrap();
    dst.copy_to(&back, Destination::Empty, 1_000, |_, _| {})
        .await
        .unwrap();
    assert_eq!(answers(&src).await, answers(&back).await);
    for s in [src, dst, back] {
        s.close().await;
    }
}

#[tokio::test]
async fn sqlite_to_postgres_and_back() {
    copy_between(Backend::Sqlite, Backend::Postgres).await;
}

#[tokio::test]
async fn postgres_to_sqlite_and_back() {
    copy_between(Backend::Postgres, Backend::Sqlite).await;
}

#[tokio::test]
async fn sqlite_to_sqlite() {
    copy_between(Backend::Sqlite, Backend::Sqlite).await;
}
