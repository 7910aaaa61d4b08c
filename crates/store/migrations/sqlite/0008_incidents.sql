-- Incidents: the cases people work, from escalated alerts to a closed,
-- documented incident (issue #16).

-- One row per incident. `body` is the whole nectar_event::Incident as JSON;
-- the other columns are copies of what the list filters and sorts on.
-- Ids are UUIDv7: ordering by id is ordering by creation.
CREATE TABLE incidents (
    id        BLOB     NOT NULL PRIMARY KEY,
    status    TEXT     NOT NULL,
    severity  SMALLINT NOT NULL,
    assignee  TEXT,
    title     TEXT     NOT NULL,
    updated_us BIGINT  NOT NULL,
    body      TEXT     NOT NULL
);
CREATE INDEX incidents_status ON incidents (status, id);
CREATE INDEX incidents_assignee ON incidents (assignee, id);
-- Title search (`LIKE '%text%'`) scans this instead of the rows with their bodies.
CREATE INDEX incidents_title ON incidents (title, id);

-- Which alerts an incident holds; an alert is in one incident at most.
CREATE TABLE incident_alerts (
    incident_id BLOB   NOT NULL,
    alert_id    BLOB   NOT NULL,
    added_us    BIGINT NOT NULL,
    added_by    TEXT   NOT NULL,
    PRIMARY KEY (incident_id, alert_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX incident_alerts_alert ON incident_alerts (alert_id);

-- What an incident points at. `source` is `alert` (came with an escalated
-- alert) or `hand`. The (kind, value) index answers "seen in N other incidents".
CREATE TABLE incident_observables (
    id          INTEGER NOT NULL PRIMARY KEY,
    incident_id BLOB    NOT NULL,
    kind        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    ioc         BOOLEAN NOT NULL,
    tlp         TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    added_us    BIGINT  NOT NULL,
    added_by    TEXT    NOT NULL,
    UNIQUE (incident_id, kind, value)
);
CREATE INDEX incident_observables_value ON incident_observables (kind, value, incident_id);

-- The checklist.
CREATE TABLE incident_tasks (
    id          INTEGER NOT NULL PRIMARY KEY,
    incident_id BLOB    NOT NULL,
    title       TEXT    NOT NULL,
    assignee    TEXT,
    done        BOOLEAN NOT NULL DEFAULT 0,
    created_us  BIGINT  NOT NULL,
    created_by  TEXT    NOT NULL
);
CREATE INDEX incident_tasks_incident ON incident_tasks (incident_id, id);

-- Comments, in Markdown as written (rendered when shown).
CREATE TABLE incident_comments (
    id          INTEGER NOT NULL PRIMARY KEY,
    incident_id BLOB    NOT NULL,
    author      TEXT    NOT NULL,
    at_us       BIGINT  NOT NULL,
    body        TEXT    NOT NULL
);
CREATE INDEX incident_comments_incident ON incident_comments (incident_id, id);

-- Timeline entries written by hand (`at_us` is when it happened, as told);
-- the alerts' events join the timeline when it is shown.
CREATE TABLE incident_timeline (
    id          INTEGER NOT NULL PRIMARY KEY,
    incident_id BLOB    NOT NULL,
    at_us       BIGINT  NOT NULL,
    text        TEXT    NOT NULL,
    author      TEXT    NOT NULL,
    added_us    BIGINT  NOT NULL
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, at_us);

-- Attachment contents, once per SHA-256 (hex), whichever incidents hold them.
CREATE TABLE attachment_blobs (
    sha256  TEXT   NOT NULL PRIMARY KEY,
    md5     TEXT   NOT NULL,
    sha1    TEXT   NOT NULL,
    size    BIGINT NOT NULL,
    content BLOB   NOT NULL
);

-- Which incident holds which attachment, under which name.
CREATE TABLE incident_attachments (
    incident_id BLOB   NOT NULL,
    sha256      TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    added_us    BIGINT NOT NULL,
    added_by    TEXT   NOT NULL,
    PRIMARY KEY (incident_id, sha256)
) WITHOUT ROWID;
CREATE INDEX incident_attachments_sha256 ON incident_attachments (sha256);

-- Who changed what on an incident, and when. `change` is a JSON object
-- {"field": [old, new], ...}. Kept when the incident is deleted, so the
-- deletion itself stays on record.
CREATE TABLE incident_history (
    id          INTEGER NOT NULL PRIMARY KEY,
    incident_id BLOB    NOT NULL,
    at_us       BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    change      TEXT    NOT NULL
);
CREATE INDEX incident_history_incident ON incident_history (incident_id, id);
