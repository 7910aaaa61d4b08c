//! UTC timestamps with microsecond precision, written as RFC 3339.
//!
//! Stored as microseconds since the Unix epoch (an `i64`, good until the year
//! 294,247): cheap to compare, index and bucket, identical in SQLite and PostgreSQL.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time, UTC, microsecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The text is not an RFC 3339 date-time such as `2026-11-24T03:41:40.5Z`.
    #[error("not an RFC 3339 time (expected e.g. 2026-11-24T03:41:40Z): {0}")]
    Syntax(String),
    /// The date is outside what Nectar stores (years 1 to 9999).
    #[error("time out of range (years 1 to 9999)")]
    OutOfRange,
}

const MIN_MICROS: i64 = -62_135_596_800_000_000; // 0001-01-01T00:00:00Z
const MAX_MICROS: i64 = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999Z

impl Timestamp {
    /// 1970-01-01T00:00:00Z (what a stored time that no longer parses reads as).
    pub const EPOCH: Timestamp = Timestamp(0);

    /// The current wall-clock time.
    pub fn now() -> Timestamp {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Timestamp((nanos / 1_000) as i64)
    }

    /// From microseconds since the Unix epoch; `None` outside years 1 to 9999.
    pub fn from_micros(micros: i64) -> Option<Timestamp> {
        (MIN_MICROS..=MAX_MICROS)
            .contains(&micros)
            .then_some(Timestamp(micros))
    }

    /// From nanoseconds since the Unix epoch (packet capture time), truncated to µs.
    pub fn from_nanos(nanos: i128) -> Option<Timestamp> {
        Timestamp::from_micros(i64::try_from(nanos.div_euclid(1_000)).ok()?)
    }

    /// Microseconds since the Unix epoch.
    pub fn as_micros(self) -> i64 {
        self.0
    }

    /// This time as a `time::OffsetDateTime` in UTC.
    pub fn to_datetime(self) -> OffsetDateTime {
        // The constructor range (years 1..=9999) is inside what `time` supports.
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with exactly six fractional digits, e.g.
    /// `2026-11-24T03:41:40.123456Z`; fixed width, so text order is time order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = self.to_datetime();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.microsecond()
        )
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let dt = OffsetDateTime::parse(s.trim(), &Rfc3339)
            .map_err(|e| TimestampError::Syntax(e.to_string()))?;
        let nanos = dt.unix_timestamp_nanos();
        Timestamp::from_nanos(nanos).ok_or(TimestampError::OutOfRange)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_fixed_width_utc_micros() {
        let ts: Timestamp = "2026-11-24T04:41:40.1234567+01:00".parse().unwrap();
        assert_eq!(ts.to_string(), "2026-11-24T03:41:40.123456Z");
        let round: Timestamp = ts.to_string().parse().unwrap();
        assert_eq!(round, ts);
        assert_eq!(
            Timestamp::from_micros(0).unwrap().to_string(),
            "1970-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn rejects_garbage_and_out_of_range() {
        assert!(matches!(
            "yesterday".parse::<Timestamp>(),
            Err(TimestampError::Syntax(_))
        ));
        assert!("2026-13-01T00:00:00Z".parse::<Timestamp>().is_err());
        assert_eq!(Timestamp::from_micros(i64::MAX), None);
        assert_eq!(Timestamp::from_nanos(i128::MAX), None);
        let first = Timestamp::from_micros(MIN_MICROS).unwrap();
        assert_eq!(first.to_string(), "0001-01-01T00:00:00.000000Z");
        let last = Timestamp::from_micros(MAX_MICROS).unwrap();
        assert_eq!(last.to_string(), "9999-12-31T23:59:59.999999Z");
    }

    #[test]
    fn negative_nanos_floor() {
        let ts = Timestamp::from_nanos(-1).unwrap();
        assert_eq!(ts.as_micros(), -1);
    }
}
