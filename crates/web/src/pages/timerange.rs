//! The time range of the dashboard: a preset (last hour, day, week, 30 days, all) or
//! a custom since/until from a plain form, all in the URL.

use nectar_event::Timestamp;
use serde::Deserialize;

/// Query parameters selecting a range.
#[derive(Debug, Default, Deserialize)]
pub struct RangeParams {
    /// `1h`, `24h`, `7d`, `30d` or `all`.
    pub range: Option<String>,
    /// Custom start: RFC 3339 or a form's `YYYY-MM-DDTHH:MM` (UTC).
    pub since: Option<String>,
    /// Custom end, likewise.
    pub until: Option<String>,
}

/// A resolved range.
#[derive(Debug, Clone)]
pub struct TimeRange {
    /// The preset's key, or `custom`.
    pub key: &'static str,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Chart bucket width.
    pub bucket_us: i64,
    /// What the page says about it.
    pub label: String,
}

pub const PRESETS: [(&str, &str, i64); 5] = [
    ("1h", "Last hour", 3_600),
    ("24h", "Last day", 86_400),
    ("7d", "Last week", 7 * 86_400),
    ("30d", "Last 30 days", 30 * 86_400),
    ("all", "All time", 0),
];

/// Parses RFC 3339, or `YYYY-MM-DDTHH:MM[:SS]` taken as UTC (what `datetime-local`
/// inputs send).
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    let with_seconds = if text.len() == 16 {
        format!("{text}:00Z")
    } else {
        format!("{text}Z")
    };
    with_seconds.parse().ok()
}

/// A bucket width giving about 60 bars over `span_us`, rounded to a readable unit.
pub fn bucket_for(span_us: i64) -> i64 {
    const STEPS: [i64; 10] = [
        60,
        300,
        900,
        1_800,
        3_600,
        3 * 3_600,
        6 * 3_600,
        12 * 3_600,
        86_400,
        7 * 86_400,
    ];
    let target = span_us / 60 / 1_000_000;
    STEPS
        .iter()
        .copied()
        .find(|s| *s >= target)
        .unwrap_or(7 * 86_400)
        * 1_000_000
}

impl RangeParams {
    /// The range these parameters select, relative to `now`; default the last day.
    pub fn resolve(&self, now: Timestamp) -> TimeRange {
        let since = self.since.as_deref().and_then(parse_time);
        let until = self.until.as_deref().and_then(parse_time);
        if since.is_some() || until.is_some() {
            let start = since.map_or(now.as_micros() - 86_400_000_000, Timestamp::as_micros);
            let end = until.map_or(now.as_micros(), Timestamp::as_micros);
            return TimeRange {
                key: "custom",
                since,
                until,
                bucket_us: bucket_for((end - start).max(60_000_000)),
                label: format!(
                    "{} to {}",
                    since.map_or("the beginning".to_owned(), short),
                    until.map_or("now".to_owned(), short)
                ),
            };
        }
        let key = self.range.as_deref().unwrap_or("24h");
        let (key, label, seconds) = PRESETS
            .iter()
            .copied()
            .find(|(k, _, _)| *k == key)
            .unwrap_or(PRESETS[1]);
        if seconds == 0 {
            return TimeRange {
                key,
                since: None,
                until: None,
                bucket_us: 86_400_000_000,
                label: label.to_owned(),
            };
        }
        TimeRange {
            key,
            since: Timestamp::from_micros(now.as_micros() - seconds * 1_000_000),
            until: None,
            bucket_us: bucket_for(seconds * 1_000_000),
            label: label.to_owned(),
        }
    }
}

/// `2026-11-24 03:41` (UTC, minutes).
pub fn short(ts: Timestamp) -> String {
    let text = ts.to_string();
    text.get(..16).unwrap_or(&text).replace('T', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_custom_and_default() {
        let now: Timestamp = "2026-11-24T12:00:00Z".parse().unwrap();
        let day = RangeParams::default().resolve(now);
        assert_eq!(day.key, "24h");
        assert_eq!(
            day.since.unwrap().to_string(),
            "2026-11-23T12:00:00.000000Z"
        );
        assert_eq!(day.bucket_us, 1_800_000_000);
        let hour = RangeParams {
            range: Some("1h".into()),
            ..Default::default()
        }
        .resolve(now);
        assert_eq!(hour.bucket_us, 60_000_000);
        let custom = RangeParams {
            since: Some("2026-11-20T00:00".into()),
            until: Some("2026-11-21T00:00:00Z".into()),
            ..Default::default()
        }
        .resolve(now);
        assert_eq!(custom.key, "custom");
        assert_eq!(
            custom.since.unwrap().to_string(),
            "2026-11-20T00:00:00.000000Z"
        );
        let bogus = RangeParams {
            range: Some("<x>".into()),
            ..Default::default()
        }
        .resolve(now);
        assert_eq!(bogus.key, "24h");
    }
}
