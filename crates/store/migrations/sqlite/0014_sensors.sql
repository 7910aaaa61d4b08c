-- Remote sensors (#20): each enrolled sensor, what it last told of itself, and
-- the one-time secrets that enrol them. A sensor's credential is an api_tokens
-- row with role 'sensor' (named 'sensor:NAME', bound to the sensor NAME).
CREATE TABLE sensors (
    name              TEXT    NOT NULL PRIMARY KEY,
    created_us        BIGINT  NOT NULL,
    enrolled_us       BIGINT,
    revoked_us        BIGINT,
    version           TEXT,
    address           TEXT,
    last_seen_us      BIGINT,
    -- The highest batch sequence number received, and how batches arrived.
    last_batch_seq    BIGINT  NOT NULL DEFAULT 0,
    batches           BIGINT  NOT NULL DEFAULT 0,
    resent_batches    BIGINT  NOT NULL DEFAULT 0,
    missing_batches   BIGINT  NOT NULL DEFAULT 0,
    events            BIGINT  NOT NULL DEFAULT 0,
    -- Events per second over the last minutes (decayed).
    events_per_second DOUBLE PRECISION NOT NULL DEFAULT 0,
    -- What the sensor's last batch said of its spool.
    spool_events      BIGINT  NOT NULL DEFAULT 0,
    oldest_unsent_us  BIGINT,
    dropped           BIGINT  NOT NULL DEFAULT 0,
    dead_letters      BIGINT  NOT NULL DEFAULT 0,
    -- Sensor clock minus server clock when its last batch arrived.
    clock_offset_ms   BIGINT,
    clock_drifting    SMALLINT NOT NULL DEFAULT 0
);

CREATE TABLE sensor_enrolments (
    secret_sha256 TEXT   NOT NULL PRIMARY KEY,
    sensor        TEXT   NOT NULL,
    created_us    BIGINT NOT NULL,
    expires_us    BIGINT NOT NULL,
    used_us       BIGINT
);
