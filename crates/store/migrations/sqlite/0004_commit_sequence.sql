-- The committed-event stream (nectar-bus `stream`): every stored event gets a
-- commit sequence number, 1, 2, 3, ... in the order the writer committed them,
-- with no gaps (a resent event gets none). The primary key (time_us, id) is not
-- commit order: packet time and remote sensors' clocks make it jump back and
-- forth. Consumers read "everything after N" through the seq index.
ALTER TABLE events ADD COLUMN seq BIGINT;

-- Events stored before this migration, numbered in time order.
UPDATE events SET seq = numbered.n
FROM (SELECT id AS nid, ROW_NUMBER() OVER (ORDER BY time_us, id) AS n FROM events) AS numbered
WHERE events.id = numbered.nid;

CREATE UNIQUE INDEX events_seq ON events (seq);

-- Each consumer's durable offset: the last seq it handled, and its own note of
-- where that left its output (a log file's inode and length), saved together.
CREATE TABLE consumer_offsets (
    name       TEXT   NOT NULL PRIMARY KEY,
    seq        BIGINT NOT NULL,
    checkpoint TEXT   NOT NULL,
    updated_us BIGINT NOT NULL
);

-- Consumers that existed before as parts of the writer and the honeypots wrote
-- everything stored so far: they continue from here, not from the beginning.
INSERT INTO consumer_offsets (name, seq, checkpoint, updated_us)
SELECT 'event-log', COALESCE(MAX(seq), 0), '', 0 FROM events;
INSERT INTO consumer_offsets (name, seq, checkpoint, updated_us)
SELECT 'cowrie-log', COALESCE(MAX(seq), 0), '', 0 FROM events;
