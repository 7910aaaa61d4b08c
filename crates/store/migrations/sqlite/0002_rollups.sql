-- Pre-aggregated counts for the dashboard, kept by the writer in the same
-- transaction as the events (so they always agree with them). Without them a
-- dashboard over a million events re-reads every event for each panel.
--
-- resolution: 1 = per minute, 2 = per hour; bucket_us is the bucket's start.

CREATE TABLE rollup_counts (
    resolution SMALLINT NOT NULL,
    bucket_us  BIGINT   NOT NULL,
    kind       TEXT     NOT NULL,
    severity   SMALLINT NOT NULL,
    n          BIGINT   NOT NULL,
    PRIMARY KEY (resolution, bucket_us, kind, severity)
) WITHOUT ROWID;

-- field: 1 = source address, 2 = data.username, 3 = data.password (logins),
-- 4 = data.input (commands).
CREATE TABLE rollup_values (
    resolution SMALLINT NOT NULL,
    field      SMALLINT NOT NULL,
    bucket_us  BIGINT   NOT NULL,
    value      TEXT     NOT NULL,
    n          BIGINT   NOT NULL,
    PRIMARY KEY (resolution, field, bucket_us, value)
) WITHOUT ROWID;

-- Events stored before this migration.
INSERT INTO rollup_counts
SELECT r.resolution, (e.time_us / r.width) * r.width, e.kind, e.severity, COUNT(*)
FROM events e, (SELECT 1 AS resolution, 60000000 AS width UNION ALL SELECT 2, 3600000000) r
GROUP BY 1, 2, 3, 4;
