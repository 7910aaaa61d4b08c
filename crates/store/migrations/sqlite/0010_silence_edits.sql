-- Silences can be changed (a new reason, a new expiry, other matchers): who
-- changed one last, and when, is kept beside who made it.
ALTER TABLE silences ADD COLUMN updated_by TEXT;
ALTER TABLE silences ADD COLUMN updated_us BIGINT;
