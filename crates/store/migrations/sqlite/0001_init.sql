-- Nectar's first schema. Written in the SQL that SQLite and PostgreSQL share
-- (BIGINT, TEXT, SMALLINT; no AUTOINCREMENT, no SQLite-only types), so the
-- PostgreSQL migration is this file with at most type spellings changed.

-- Every event. Times are microseconds since the Unix epoch (UTC); the id is a
-- UUIDv7 as its 16 bytes (PostgreSQL: UUID), half the size of the text form in
-- every index that holds it; addresses are their 4 (IPv4) or 16 (IPv6) bytes
-- (PostgreSQL: INET): the source-address index, whose inserts land all over the
-- tree, is the costliest part of ingest, and compact keys made it ~25% cheaper;
-- data is the event's JSON object.
--
-- The table is clustered on (time_us, id), the keyset of every newest-first
-- list, so pages are contiguous reads and an insert touches four B-trees (the
-- table and three indexes) instead of five with a rowid table.
CREATE TABLE events (
    id        BLOB     NOT NULL,
    time_us   BIGINT   NOT NULL,
    sensor    TEXT     NOT NULL,
    kind      TEXT     NOT NULL,
    severity  SMALLINT NOT NULL,
    src_ip    BLOB,
    src_port  INTEGER,
    dst_ip    BLOB,
    dst_port  INTEGER,
    summary   TEXT     NOT NULL,
    data      TEXT     NOT NULL,
    PRIMARY KEY (time_us, id)
) WITHOUT ROWID;
-- Ids are unique across sensors; a resent event is recognised by its id.
CREATE UNIQUE INDEX events_id ON events (id);
CREATE INDEX events_kind_time ON events (kind, time_us);
CREATE INDEX events_src_time ON events (src_ip, time_us);

-- People who log in to the web UI.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY, -- PostgreSQL: BIGINT GENERATED ALWAYS AS IDENTITY
    name          TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    created_us    BIGINT  NOT NULL,
    disabled      SMALLINT NOT NULL DEFAULT 0
);

-- Bearer tokens for the API and sensors. Only the SHA-256 of a token is kept.
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY, -- PostgreSQL: BIGINT GENERATED ALWAYS AS IDENTITY
    name          TEXT    NOT NULL UNIQUE,
    token_sha256  TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL,
    created_us    BIGINT  NOT NULL,
    last_used_us  BIGINT,
    revoked_us    BIGINT
);

-- Logged-in browser sessions. The cookie holds a random secret; only its SHA-256
-- is kept, so a stolen database does not hand out sessions.
CREATE TABLE web_sessions (
    id_sha256   TEXT   NOT NULL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT   NOT NULL,
    created_us  BIGINT NOT NULL,
    expires_us  BIGINT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_us);
