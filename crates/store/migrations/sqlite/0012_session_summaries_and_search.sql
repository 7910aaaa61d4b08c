-- The analyst's view (#25): a row per honeypot session, and a full-text index
-- over what attackers sent.
--
-- session_summaries: what the Sessions page, `GET /api/v1/sessions` and
-- `nectar ctl sessions list` show, kept by the writer in the transaction that
-- stores the session's events (like event_sessions), so that a page over a
-- million sessions is an index range, not a GROUP BY over every event.
--
-- interest orders the default view: 3 = the attacker ran commands or moved
-- files, 2 = logged in, 1 = only failed logins, 0 = nothing (a connection, a
-- scanner). protocol is the events' `data.protocol` (or their kind's family):
-- ssh, telnet, http, https.
CREATE TABLE session_summaries (
    session       TEXT     NOT NULL PRIMARY KEY,
    sensor        TEXT     NOT NULL,
    protocol      TEXT     NOT NULL,
    src_ip        BLOB,
    first_us      BIGINT   NOT NULL,
    last_us       BIGINT   NOT NULL,
    events        BIGINT   NOT NULL,
    commands      BIGINT   NOT NULL,
    failed_logins BIGINT   NOT NULL,
    logins        BIGINT   NOT NULL,
    downloads     BIGINT   NOT NULL,
    uploads       BIGINT   NOT NULL,
    username      TEXT,
    password      TEXT,
    interest      SMALLINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX session_summaries_interest ON session_summaries (interest, first_us, session);
CREATE INDEX session_summaries_first ON session_summaries (first_us, session);
CREATE INDEX session_summaries_src ON session_summaries (src_ip, first_us);

-- Sessions stored before.
INSERT INTO session_summaries (session, sensor, protocol, src_ip, first_us, last_us, events,
    commands, failed_logins, logins, downloads, uploads, username, password, interest)
SELECT json_extract(data, '$.session'), MIN(sensor),
       COALESCE(MAX(json_extract(data, '$.protocol')),
                MAX(CASE WHEN kind LIKE 'ssh.%' THEN 'ssh' WHEN kind LIKE 'telnet.%' THEN 'telnet'
                         WHEN kind LIKE 'http.%' THEN 'http' END), ''),
       MAX(src_ip), MIN(time_us), MAX(time_us), COUNT(*),
       SUM(kind IN ('ssh.command', 'ssh.exec', 'telnet.command')),
       SUM(kind IN ('ssh.login.failed', 'telnet.login.failed')),
       SUM(kind IN ('ssh.login.success', 'telnet.login.success')),
       SUM(kind IN ('ssh.download', 'telnet.download')),
       SUM(kind IN ('ssh.upload', 'telnet.upload')),
       MAX(CASE WHEN kind IN ('ssh.login.success', 'telnet.login.success') THEN json_extract(data, '$.username') END),
       MAX(CASE WHEN kind IN ('ssh.login.success', 'telnet.login.success') THEN json_extract(data, '$.password') END),
       0
FROM events
WHERE json_extract(data, '$.session') IS NOT NULL
GROUP BY json_extract(data, '$.session');
UPDATE session_summaries SET interest = CASE
    WHEN commands + downloads + uploads > 0 THEN 3
    WHEN logins > 0 THEN 2
    WHEN failed_logins > 0 THEN 1
    ELSE 0 END;

-- event_text: every event's summary and the text values of its data (commands,
-- URLs, user names, passwords, hashes, headers, user agents, file names), one
-- document per event under its commit sequence number (rowid = events.seq).
-- Contentless: the text is in events already; the index keeps only tokens.
-- Sealed values (`*_enc`, ciphertext) are left out.
CREATE VIRTUAL TABLE event_text USING fts5(body, content = '', columnsize = 0);

INSERT INTO event_text (rowid, body)
SELECT seq, summary || ' ' || COALESCE((
    SELECT group_concat(value, ' ') FROM json_tree(events.data)
    WHERE type = 'text' AND CAST(key AS TEXT) NOT LIKE '%\_enc' ESCAPE '\'), '')
FROM events;
