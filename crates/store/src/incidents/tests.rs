//! Incidents against a real SQLite file: escalating, changing, closing,
//! merging, deleting, the parts, the list's cursor, and the history of it all.

use crate::db::{self};
use std::collections::BTreeMap;

use nectar_event::{
    Alert, AlertRule, AlertStatus, IncidentStatus, IncidentTemplate, Observable, ObservableKind,
    Resolution, Severity, Timestamp, Tlp,
};
use uuid::Uuid;

use super::*;
use crate::Store;

/// Stores an alert from `ip` with `severity` and one technique.
async fn alert(store: &Store, ip: &str, severity: Severity) -> Uuid {
    let id = Uuid::now_v7();
    let now = Timestamp::now();
    let alert = Alert {
        id,
        rule: AlertRule {
            id: "ssh-bruteforce".into(),
            title: "SSH brute force".into(),
            level: severity,
            techniques: vec!["T1110.001".into()],
        },
        title: format!("SSH brute force from {ip}"),
        severity,
        status: AlertStatus::New,
        resolution: None,
        assignee: None,
        group: BTreeMap::from([("src_ip".to_owned(), ip.to_owned())]),
        fingerprint: format!("ssh-bruteforce|{ip}|{id}"),
        count: 10,
        silenced: 0,
        first_seen: now,
        last_seen: now,
        first_event: Uuid::now_v7(),
        last_event: Uuid::now_v7(),
        observables: vec![
            Observable {
                kind: ObservableKind::Ip,
                value: ip.into(),
                ioc: true,
            },
            Observable {
                kind: ObservableKind::Username,
                value: "root".into(),
                ioc: false,
            },
        ],
        previous: None,
        incident: None,
    };
    db::query(
        "INSERT INTO alerts (id, fingerprint, rule_id, severity, status, src_ip, first_us, \
         last_us, count, body) VALUES (?, ?, ?, ?, 'new', ?, ?, ?, 10, ?)",
    )
    .bind(id.as_bytes().as_slice())
    .bind(&alert.fingerprint)
    .bind(&alert.rule.id)
    .bind(severity.rank())
    .bind(ip)
    .bind(now.as_micros())
    .bind(now.as_micros())
    .bind(serde_json::to_string(&alert).unwrap())
    .execute(store.db.write())
    .await
    .unwrap();
    id
}

fn new(title: &str, alerts: Vec<Uuid>) -> NewIncident {
    NewIncident {
        title: title.into(),
        alerts,
        ..NewIncident::default()
    }
}

crate::on_both_backends! {
    #[tokio::test]
    async fn escalating_alerts_brings_their_observables_and_techniques(db, dir) {
        let _ = &dir;
        let store = Store::open(&db.config).await.unwrap();
        let a = alert(&store, "203.0.113.7", Severity::High).await;
        let b = alert(&store, "203.0.113.8", Severity::Medium).await;
        let incident = store
            .create_incident(&new("Brute force", vec![a, b]), "ana")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(incident.status, IncidentStatus::New);
        assert_eq!(incident.severity, Severity::High);
        assert_eq!(incident.techniques, vec!["T1110.001".to_owned()]);
        assert_eq!(
            store.incident_alert_ids(incident.id).await.unwrap().len(),
            2
        );
        let observables = store.incident_observables(incident.id, 100).await.unwrap();
        // Two addresses and one user name (the same "root" from both alerts).
        assert_eq!(observables.len(), 3, "{observables:?}");
        // The alerts name the incident, are acknowledged, and say so in their history.
        let a_now = store.alert(a).await.unwrap().unwrap();
        assert_eq!(a_now.incident, Some(incident.id));
        assert_eq!(a_now.status, AlertStatus::Acknowledged);
        let h = store.alert_history(a, 10).await.unwrap();
        assert_eq!(h.last().unwrap().action, "escalated");
        // An alert is in one incident at most.
        let refused = store
            .create_incident(&new("Again", vec![a]), "ana")
            .await
            .unwrap();
        assert_eq!(
            refused,
            Err(IncidentError::AlertTaken {
                alert: a,
                incident: incident.id
            })
        );
        let missing = Uuid::now_v7();
        assert_eq!(
            store
                .create_incident(&new("Ghost", vec![missing]), "ana")
                .await
                .unwrap(),
            Err(IncidentError::AlertMissing(missing))
        );
        // Nothing of the refused incidents was kept.
        let (all, _) = store
            .incidents(&IncidentFilter::default(), 10, None)
            .await
            .unwrap();
        assert_eq!(all.len(), 1);
    }
}

crate::on_both_backends! {
    #[tokio::test]
    async fn closing_needs_a_resolution_and_every_change_is_in_the_history(db, dir) {
        let _ = &dir;
        let store = Store::open(&db.config).await.unwrap();
        let incident = store
            .create_incident(&new("Scan", vec![]), "ana")
            .await
            .unwrap()
            .unwrap();
        let close = IncidentPatch {
            status: Some(IncidentStatus::Closed),
            ..IncidentPatch::default()
        };
        assert_eq!(
            store
                .update_incident(incident.id, &close, "bo")
                .await
                .unwrap(),
            Err(IncidentError::ResolutionMissing)
        );
        let progress = IncidentPatch {
            status: Some(IncidentStatus::InProgress),
            assignee: Some(Some("bo".into())),
            tlp: Some(Tlp::Red),
            ..IncidentPatch::default()
        };
        store
            .update_incident(incident.id, &progress, "bo")
            .await
            .unwrap()
            .unwrap();
        let closed = IncidentPatch {
            resolution: Some(Resolution::FalsePositive),
            ..close
        };
        let now = store
            .update_incident(incident.id, &closed, "bo")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (now.status, now.resolution),
            (IncidentStatus::Closed, Some(Resolution::FalsePositive))
        );
        store
            .add_comment(incident.id, "Our own **scanner**", "cy")
            .await
            .unwrap()
            .unwrap();
        let task = store
            .add_task(incident.id, "Tell the network team", Some("cy"), "cy")
            .await
            .unwrap()
            .unwrap();
        store
            .update_task(incident.id, task.id, Some(true), None, "cy")
            .await
            .unwrap()
            .unwrap();
        let history = store.incident_history(incident.id, 100).await.unwrap();
        let steps: Vec<(&str, &str)> = history
            .iter()
            .map(|h| (h.actor.as_str(), h.action.as_str()))
            .collect();
        assert_eq!(
            steps,
            [
                ("ana", "created"),
                ("bo", "updated"),
                ("bo", "updated"),
                ("cy", "comment_added"),
                ("cy", "task_added"),
                ("cy", "task_updated")
            ]
        );
        assert_eq!(
            history[1].change["status"],
            serde_json::json!(["new", "in_progress"])
        );
        assert_eq!(
            history[1].change["tlp"],
            serde_json::json!(["amber", "red"])
        );
        assert_eq!(
            history[2].change["resolution"],
            serde_json::json!([null, "false_positive"])
        );
        assert_eq!(history[5].change["done"], serde_json::json!([false, true]));
        // Reopening clears the resolution.
        let reopened = store
            .update_incident(
                incident.id,
                &IncidentPatch {
                    status: Some(IncidentStatus::InProgress),
                    ..IncidentPatch::default()
                },
                "bo",
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reopened.resolution, None);
    }
}

crate::on_both_backends! {
    #[tokio::test]
    async fn the_same_address_in_two_incidents_is_counted_on_both(db, dir) {
        let _ = &dir;
        let store = Store::open(&db.config).await.unwrap();
        let a = alert(&store, "198.51.100.4", Severity::High).await;
        let first = store
            .create_incident(&new("One", vec![a]), "ana")
            .await
            .unwrap()
            .unwrap();
        let second = store
            .create_incident(&new("Two", vec![]), "ana")
            .await
            .unwrap()
            .unwrap();
        let by_hand = NewObservable {
            kind: "ip".into(),
            value: "198.51.100.4".into(),
            ioc: true,
            tlp: Tlp::Green,
        };
        assert_eq!(
            store
                .add_observables(second.id, &[by_hand.clone(), by_hand], "bo")
                .await
                .unwrap(),
            Ok(1)
        );
        let ip = |list: Vec<IncidentObservable>| {
            list.into_iter()
                .find(|o| o.value == "198.51.100.4")
                .unwrap()
        };
        let on_first = ip(store.incident_observables(first.id, 100).await.unwrap());
        let on_second = ip(store.incident_observables(second.id, 100).await.unwrap());
        assert_eq!((on_first.seen_incidents, on_first.seen_alerts), (1, 0));
        // The second incident does not hold the alert: it counts as seen elsewhere.
        assert_eq!((on_second.seen_incidents, on_second.seen_alerts), (1, 1));
    }
}

crate::on_both_backends! {
    #[tokio::test]
    async fn merging_moves_everything_and_closes_the_source_as_duplicate(db, dir) {
        let _ = &dir;
        let store = Store::open(&db.config).await.unwrap();
        let a = alert(&store, "192.0.2.1", Severity::Low).await;
        let b = alert(&store, "192.0.2.2", Severity::Critical).await;
        let from = store
            .create_incident(&new("From", vec![a]), "ana")
            .await
            .unwrap()
            .unwrap();
        let into = store
            .create_incident(&new("Into", vec![b]), "ana")
            .await
            .unwrap()
            .unwrap();
        store
            .add_comment(from.id, "moved along", "ana")
            .await
            .unwrap()
            .unwrap();
        store
            .add_attachment(from.id, "x.txt", b"hello", "ana")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store
                .merge_incidents(into.id, into.id, "ana")
                .await
                .unwrap(),
            Err(IncidentError::MergeSelf)
        );
        let merged = store
            .merge_incidents(from.id, into.id, "ana")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(merged.severity, Severity::Critical);
        assert_eq!(store.incident_alert_ids(into.id).await.unwrap().len(), 2);
        assert_eq!(store.incident_comments(into.id, 10).await.unwrap().len(), 1);
        assert_eq!(store.incident_attachments(into.id).await.unwrap().len(), 1);
        assert_eq!(
            store.alert(a).await.unwrap().unwrap().incident,
            Some(into.id)
        );
        let source = store.incident(from.id).await.unwrap().unwrap();
        assert_eq!(source.status, IncidentStatus::Closed);
        assert_eq!(source.resolution, Some(Resolution::Duplicate));
        assert_eq!(source.merged_into, Some(into.id));
    }
}

crate::on_both_backends! {
    #[tokio::test]
    async fn attachments_are_kept_by_sha256_with_their_hashes(db, dir) {
        let _ = &dir;
        let store = Store::open(&db.config).await.unwrap();
        let incident = store
            .create_incident(&new("Files", vec![]), "ana")
            .await
            .unwrap()
            .unwrap();
        let att = store
            .add_attachment(incident.id, "x.html", b"abc", "ana")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            att.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(att.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(att.md5, "900150983cd24fb0d6963f7d28e17f72");
        let (meta, content) = store
            .attachment_content(incident.id, &att.sha256)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (meta.name.as_str(), content.as_slice()),
            ("x.html", &b"abc"[..])
        );
        // Deleting the incident removes the content no other incident holds, and
        // the deletion stays in the history.
        assert!(store.delete_incident(incident.id, "root").await.unwrap());
        assert!(store.incident(incident.id).await.unwrap().is_none());
        let (blobs,): (i64,) = db::query_as("SELECT COUNT(*) FROM attachment_blobs")
            .fetch_one(store.db.read())
            .await
            .unwrap();
        assert_eq!(blobs, 0);
        let history = store.incident_history(incident.id, 10).await.unwrap();
        assert_eq!(history.last().unwrap().action, "deleted");
        assert_eq!(history.last().unwrap().actor, "root");
    }
}

crate::on_both_backends! {
    #[tokio::test]
    async fn the_list_filters_and_pages_by_cursor(db, dir) {
        let _ = &dir;
        let store = Store::open(&db.config).await.unwrap();
        for i in 0..7 {
            let made = store
                .create_incident(&new(&format!("Case {i}"), vec![]), "ana")
                .await
                .unwrap()
                .unwrap();
            if i % 2 == 0 {
                store
                    .update_incident(
                        made.id,
                        &IncidentPatch {
                            assignee: Some(Some("bo".into())),
                            ..IncidentPatch::default()
                        },
                        "ana",
                    )
                    .await
                    .unwrap()
                    .unwrap();
            }
        }
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = store
                .incidents(&IncidentFilter::default(), 3, cursor)
                .await
                .unwrap();
            seen.extend(page.into_iter().map(|i| i.title));
            match next {
                Some(c) => cursor = IncidentCursor::decode(&c.encode()),
                None => break,
            }
        }
        let expected: Vec<String> = (0..7).rev().map(|i| format!("Case {i}")).collect();
        assert_eq!(seen, expected);
        let mine = IncidentFilter {
            assignee: Some(Some("bo".into())),
            open: true,
            ..IncidentFilter::default()
        };
        assert_eq!(store.count_incidents(&mine, 100).await.unwrap(), 4);
        let text = IncidentFilter {
            text: Some("case 5".into()),
            ..IncidentFilter::default()
        };
        assert_eq!(store.count_incidents(&text, 100).await.unwrap(), 1);
        let wild = IncidentFilter {
            text: Some("%".into()),
            ..IncidentFilter::default()
        };
        assert_eq!(store.count_incidents(&wild, 100).await.unwrap(), 0);
    }
}

crate::on_both_backends! {
    #[tokio::test]
    async fn a_template_gives_title_tasks_and_classification(db, dir) {
        let _ = &dir;
        let store = Store::open(&db.config).await.unwrap();
        let a = alert(&store, "203.0.113.50", Severity::Low).await;
        let template = IncidentTemplate::find("network-scan-from-outside");
        let incident = store
            .create_incident(
                &NewIncident {
                    template,
                    alerts: vec![a],
                    ..NewIncident::default()
                },
                "ana",
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(incident.title, "Network scan from 203.0.113.50");
        assert_eq!(incident.severity, Severity::Medium);
        assert_eq!(incident.tlp, Tlp::Green);
        assert_eq!(
            incident.classification.discovery.as_deref(),
            Some("network_anomaly_detection")
        );
        assert_eq!(store.incident_tasks(incident.id).await.unwrap().len(), 3);
    }
}
