-- New addresses are written to small recent tables, which the writer merges
-- into the base tables in one pass once they hold enough (index/dict.go).
-- Addresses land scattered over every domain's id range and every hash, so
-- each commit rewrote nearly every page of the tables: at 10M transactional
-- events (7.7M addresses) a commit wrote about 400 MB of them. recipients
-- and recipient_keys stay, as views over both halves; a recipient's row and
-- key are always in the same half.
DROP VIEW IF EXISTS events_full;
DROP VIEW IF EXISTS failures_full;
ALTER TABLE recipients RENAME TO recipients_base;
ALTER TABLE recipient_keys RENAME TO recipient_keys_base;

CREATE TABLE recipients_recent (
	id      INTEGER PRIMARY KEY,
	address TEXT NOT NULL
);
CREATE TABLE recipient_keys_recent (
	hash INTEGER NOT NULL,
	id   INTEGER NOT NULL,
	PRIMARY KEY (hash, id)
) WITHOUT ROWID;

CREATE VIEW recipients AS
	SELECT id, address FROM recipients_base
	UNION ALL SELECT id, address FROM recipients_recent;
CREATE VIEW recipient_keys AS
	SELECT hash, id FROM recipient_keys_base
	UNION ALL SELECT hash, id FROM recipient_keys_recent;

-- As in 0001, with the address looked up in each half: a LEFT JOIN to a
-- UNION ALL view is not flattened by SQLite, and would read it whole.
CREATE VIEW events_full AS
	SELECT strftime('%Y-%m-%dT%H:%M:%S', e.ts / 1000000, 'unixepoch') || printf('.%06dZ', e.ts % 1000000) AS time,
		e.ts, t.name AS type, sd.name AS sending_domain,
		COALESCE((SELECT address FROM recipients_base WHERE id = e.recipient_id),
			(SELECT address FROM recipients_recent WHERE id = e.recipient_id)) AS recipient,
		rd.name AS recipient_domain, e.message_key, e.day, e.recipient_id, e.id_hash, e.seq
	FROM events e
	JOIN event_types t ON t.id = e.type_id
	LEFT JOIN domains sd ON sd.id = e.sending_domain_id
	LEFT JOIN domains rd ON rd.id = e.recipient_id >> 32 AND e.recipient_id != 0;

CREATE VIEW failures_full AS
	SELECT strftime('%Y-%m-%dT%H:%M:%S', f.ts / 1000000, 'unixepoch') || printf('.%06dZ', f.ts % 1000000) AS time,
		f.ts, t.name AS type, f.event_id, sd.name AS sending_domain,
		COALESCE((SELECT address FROM recipients_base WHERE id = f.recipient_id),
			(SELECT address FROM recipients_recent WHERE id = f.recipient_id)) AS recipient,
		rd.name AS recipient_domain,
		f.outcome, f.severity, f.reason, f.code, f.enhanced, f.class, f.rule, f.gateway, f.provider, f.mx_host, x.reply,
		x.description, f.attempt, f.retry_seconds, f.bounce_type, f.delayed_bounce, f.sending_ip, x.subject,
		x.from_addr, f.message_key, f.day, f.recipient_id, f.id_hash, f.seq
	FROM failures f
	JOIN event_types t ON t.id = f.type_id
	LEFT JOIN failure_texts x ON x.day = f.day AND x.recipient_id = f.recipient_id AND x.id_hash = f.id_hash
	LEFT JOIN domains sd ON sd.id = f.sending_domain_id
	LEFT JOIN domains rd ON rd.id = f.recipient_id >> 32 AND f.recipient_id != 0;
