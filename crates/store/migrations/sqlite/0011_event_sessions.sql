-- Each honeypot session's sensor, one row per session (see
-- nectar-store `sessions`): ingest checks that a sensor posts only into its own
-- sessions with a lookup here, where it scanned every event's JSON before.
CREATE TABLE event_sessions (
    session  TEXT   NOT NULL PRIMARY KEY,
    sensor   TEXT   NOT NULL,
    first_us BIGINT NOT NULL
) WITHOUT ROWID;

-- Sessions stored before: the sensor of each one's earliest event (SQLite
-- takes the bare column from the row MIN picks).
INSERT INTO event_sessions (session, sensor, first_us)
SELECT json_extract(data, '$.session'), sensor, MIN(time_us)
FROM events
WHERE json_extract(data, '$.session') IS NOT NULL
GROUP BY json_extract(data, '$.session');
