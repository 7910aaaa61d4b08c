-- Notifications (nectar-notify): the durable outbox between the alert notice
-- feed and the receivers (webhooks, chat, email, syslog).

-- One row per message to one channel. The payload is rendered when the row is
-- written, so every retry sends the same bytes whatever the configuration
-- became; `id` (UUIDv7) is the webhook-id receivers deduplicate on.
-- status: pending (waiting for next_attempt_us), delivered, dead (gave up;
-- listed for a person, who may put it back to pending).
CREATE TABLE notify_deliveries (
    id              BLOB    NOT NULL PRIMARY KEY,
    alert_id        BLOB    NOT NULL, -- the alert; a digest's first alert
    route           TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    kind            TEXT    NOT NULL, -- alert | digest
    alerts          BIGINT  NOT NULL, -- alerts the message tells of (1, or a digest's count)
    payload         TEXT    NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_us BIGINT  NOT NULL,
    status          TEXT    NOT NULL,
    last_error      TEXT,
    created_us      BIGINT  NOT NULL,
    updated_us      BIGINT  NOT NULL,
    delivered_us    BIGINT
);
-- The delivery loop: what is due, per channel.
CREATE INDEX notify_deliveries_due ON notify_deliveries (channel, next_attempt_us)
    WHERE status = 'pending';
-- The dead-letter list, newest first.
CREATE INDEX notify_deliveries_dead ON notify_deliveries (updated_us)
    WHERE status = 'dead';
-- Pruning delivered rows by age.
CREATE INDEX notify_deliveries_created ON notify_deliveries (created_us);

-- Which alerts each delivery tells of (one row, or one per alert a digest
-- lists), so the alert page finds its deliveries, digests included.
CREATE TABLE notify_delivery_alerts (
    alert_id    BLOB NOT NULL,
    delivery_id BLOB NOT NULL,
    PRIMARY KEY (alert_id, delivery_id)
) WITHOUT ROWID;
CREATE INDEX notify_delivery_alerts_delivery ON notify_delivery_alerts (delivery_id);

-- Alerts a route is gathering into one message (a digest, or what went over
-- its rate limit), saved in the same transaction as the notifier's offset so a
-- restart neither loses nor repeats them. `alerts` is a JSON array of the
-- alerts as the notifier keeps them (bounded); `count` counts all of them.
CREATE TABLE notify_batches (
    route     TEXT   NOT NULL,
    kind      TEXT   NOT NULL, -- digest | overflow
    opened_us BIGINT NOT NULL,
    due_us    BIGINT NOT NULL,
    count     BIGINT NOT NULL,
    alerts    TEXT   NOT NULL,
    PRIMARY KEY (route, kind)
);

-- The notifier's position in the alert notice feed: alerts raised before this
-- migration are not announced now; every one after it is, from the first
-- start on (no race between the first start and the first alert).
INSERT INTO consumer_offsets (name, seq, checkpoint, updated_us)
SELECT 'notify', COALESCE(MAX(id), 0), '', 0 FROM alert_notices;
