-- Per-device behaviour (#21): each device's model, saved by the live detector
-- and restored at start (a restart does not learn again), with what the
-- Devices view and /api/v1/devices show of it. `model` and `history` are
-- JSON documents of nectar-devices, bounded in size (a few KB each).
CREATE TABLE device_models (
    mac             TEXT    NOT NULL PRIMARY KEY,
    sensor          TEXT    NOT NULL,
    vendor          TEXT,
    address         TEXT,
    phase           TEXT    NOT NULL,
    learnt          BIGINT  NOT NULL,
    last_anomaly_us BIGINT,
    updated_us      BIGINT  NOT NULL,
    model           TEXT    NOT NULL,
    history         TEXT    NOT NULL
);
