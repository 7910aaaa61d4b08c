-- Alerts (nectar-rules): what rules concluded from committed events, folded per
-- rule and group key, and the people's work on them.

-- One row per alert. `body` is the whole nectar_event::Alert as JSON; the other
-- columns are copies of the fields the queue filters and sorts on.
CREATE TABLE alerts (
    id           BLOB     NOT NULL PRIMARY KEY,
    fingerprint  TEXT     NOT NULL,
    rule_id      TEXT     NOT NULL,
    severity     SMALLINT NOT NULL,
    status       TEXT     NOT NULL,
    assignee     TEXT,
    src_ip       TEXT,
    first_us     BIGINT   NOT NULL,
    last_us      BIGINT   NOT NULL,
    count        BIGINT   NOT NULL,
    body         TEXT     NOT NULL
);
-- At most one open (not closed) alert per fingerprint: where matches fold.
CREATE UNIQUE INDEX alerts_open ON alerts (fingerprint) WHERE status <> 'closed';
-- The queue: newest activity first, by each filter.
CREATE INDEX alerts_last ON alerts (last_us, id);
CREATE INDEX alerts_status_last ON alerts (status, last_us, id);
CREATE INDEX alerts_rule_last ON alerts (rule_id, last_us, id);
CREATE INDEX alerts_src_last ON alerts (src_ip, last_us, id);
CREATE INDEX alerts_assignee_last ON alerts (assignee, last_us, id);

-- Every event that raised (or, silenced, was held back from) an alert.
CREATE TABLE alert_events (
    alert_id BLOB    NOT NULL,
    event_id BLOB    NOT NULL,
    silenced BOOLEAN NOT NULL,
    PRIMARY KEY (alert_id, event_id)
) WITHOUT ROWID;

-- Who changed what on an alert, and when. `change` is a JSON object
-- {"field": [old, new], ...}; actor `rules` is the engine itself.
CREATE TABLE alert_history (
    id       INTEGER NOT NULL PRIMARY KEY, -- PostgreSQL: BIGINT GENERATED ALWAYS AS IDENTITY
    alert_id BLOB    NOT NULL,
    at_us    BIGINT  NOT NULL,
    actor    TEXT    NOT NULL,
    action   TEXT    NOT NULL,
    change   TEXT    NOT NULL
);
CREATE INDEX alert_history_alert ON alert_history (alert_id, id);

-- What notifications read: an alert was raised (new, or reopened after close).
-- Append-only, in order; the notifier keeps its offset in consumer_offsets.
-- `alert` is the alert's JSON at that moment.
CREATE TABLE alert_notices (
    id       INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    alert_id BLOB    NOT NULL,
    kind     TEXT    NOT NULL,
    at_us    BIGINT  NOT NULL,
    alert    TEXT    NOT NULL
);

-- Silences: matches they cover are counted on the alert, never raise or notify.
-- Any of rule_id, cidr and matchers (JSON [{"field", "value"}]) may be empty;
-- a silence covers a match when every one it has matches.
CREATE TABLE silences (
    id         BLOB    NOT NULL PRIMARY KEY,
    rule_id    TEXT,
    cidr       TEXT,
    matchers   TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_us BIGINT  NOT NULL,
    expires_us BIGINT  NOT NULL,
    hits       BIGINT  NOT NULL DEFAULT 0
);

-- The rules stage's own progress, saved in the same transaction as the alerts
-- it changed: events up to applied_seq are in the alerts; `state` is the
-- correlation engine's exported state as of state_seq (<= applied_seq).
CREATE TABLE rule_progress (
    name        TEXT   NOT NULL PRIMARY KEY,
    applied_seq BIGINT NOT NULL,
    state_seq   BIGINT NOT NULL,
    state       TEXT   NOT NULL,
    updated_us  BIGINT NOT NULL
);

-- Matches and load errors per rule are counted in memory; hits are kept here so
-- the Rules page survives a restart.
CREATE TABLE rule_hits (
    rule_id TEXT   NOT NULL PRIMARY KEY,
    hits    BIGINT NOT NULL,
    last_us BIGINT NOT NULL
);
