-- The honeypot session as a column of its own (see SQLite's 0015).
ALTER TABLE events ADD COLUMN session TEXT;
UPDATE events SET session = data ->> 'session' WHERE data ? 'session';
CREATE INDEX events_session ON events (session, time_us) WHERE session IS NOT NULL;
