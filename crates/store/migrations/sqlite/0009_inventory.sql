-- The inventory (issue #17): hosts of our networks, their services, every change
-- to them (from the committed stream or by analysts), the inventory stage's
-- progress, and scans.

-- One row per address. `addr_key` is the address as 16 bytes (IPv4 mapped into
-- IPv6), so prefixes are ranges and the list pages in address order.
CREATE TABLE inv_hosts (
    address       TEXT PRIMARY KEY,
    addr_key      BLOB NOT NULL UNIQUE,
    mac           TEXT,
    vendor        TEXT,
    name          TEXT,
    os            TEXT,
    first_seen_us INTEGER NOT NULL,
    last_seen_us  INTEGER NOT NULL,
    gone          INTEGER NOT NULL DEFAULT 0,
    source        TEXT NOT NULL DEFAULT 'passive',
    -- Analysts' fields.
    owner         TEXT NOT NULL DEFAULT '',
    location      TEXT NOT NULL DEFAULT '',
    tags          TEXT NOT NULL DEFAULT '',
    notes         TEXT NOT NULL DEFAULT '',
    verified      INTEGER NOT NULL DEFAULT 0,
    ignored       INTEGER NOT NULL DEFAULT 0,
    updated_us    INTEGER NOT NULL
);
CREATE INDEX inv_hosts_mac ON inv_hosts (mac);
CREATE INDEX inv_hosts_last_seen ON inv_hosts (last_seen_us);

CREATE TABLE inv_services (
    address       TEXT NOT NULL REFERENCES inv_hosts (address) ON DELETE CASCADE,
    port          INTEGER NOT NULL,
    proto         TEXT NOT NULL,
    state         TEXT NOT NULL,
    service       TEXT,
    version       TEXT,
    source        TEXT NOT NULL,
    first_seen_us INTEGER NOT NULL,
    last_seen_us  INTEGER NOT NULL,
    PRIMARY KEY (address, port, proto)
) WITHOUT ROWID;
CREATE INDEX inv_services_port ON inv_services (port, address);

CREATE TABLE inv_history (
    id       INTEGER PRIMARY KEY,
    address  TEXT NOT NULL,
    time_us  INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    field    TEXT NOT NULL,
    old      TEXT,
    new      TEXT
);
CREATE INDEX inv_history_address ON inv_history (address, time_us);

CREATE TABLE inv_progress (
    name        TEXT PRIMARY KEY,
    applied_seq INTEGER NOT NULL,
    updated_us  INTEGER NOT NULL
);

CREATE TABLE scans (
    id           TEXT PRIMARY KEY,
    profile      TEXT NOT NULL,
    targets      TEXT NOT NULL,
    status       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    created_us   INTEGER NOT NULL,
    started_us   INTEGER,
    finished_us  INTEGER,
    error        TEXT,
    result       TEXT
);
CREATE INDEX scans_created ON scans (created_us);
