-- The honeypot session as a column of its own (issue "PostgreSQL", item 2): the
-- events of one session are found through an index instead of by reading every
-- event's JSON. The writer fills it from `data.session`; events stored before
-- get theirs here.
ALTER TABLE events ADD COLUMN session TEXT;
UPDATE events SET session = json_extract(data, '$.session')
WHERE json_extract(data, '$.session') IS NOT NULL;
CREATE INDEX events_session ON events (session, time_us) WHERE session IS NOT NULL;
