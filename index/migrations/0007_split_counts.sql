-- Events per UTC day, sending domain, sending IP or tag set, type and
-- outcome, kept at ingest like daily_counts, so that a report splits its
-- volume and rates by IP and tag at the same cost at any size. text_id is
-- a texts row of kind 3 (sending ip) or 4 (tag set, one tag per line):
-- an event counts once under its IP and once under its tag set.
CREATE TABLE split_counts (
	day               INTEGER NOT NULL,
	sending_domain_id INTEGER NOT NULL,
	text_id           INTEGER NOT NULL,
	type_id           INTEGER NOT NULL,
	outcome           TEXT NOT NULL,
	n                 INTEGER NOT NULL,
	PRIMARY KEY (day, sending_domain_id, text_id, type_id, outcome)
) WITHOUT ROWID;

-- The tag set of each failure, as in events, so that the failure scan
-- splits classes by tag without reading the events.
ALTER TABLE failures ADD COLUMN tags_id INTEGER;

UPDATE failures SET tags_id = (SELECT e.tags_id FROM events e
	WHERE e.day = failures.day AND e.recipient_id = failures.recipient_id AND e.id_hash = failures.id_hash);

INSERT INTO split_counts(day, sending_domain_id, text_id, type_id, outcome, n)
	SELECT e.day, e.sending_domain_id, e.ip_id, e.type_id, COALESCE(f.outcome, ''), COUNT(*)
	FROM events e LEFT JOIN failures f ON f.day = e.day AND f.recipient_id = e.recipient_id AND f.id_hash = e.id_hash
	WHERE e.ip_id IS NOT NULL AND e.ip_id != 0
	GROUP BY 1, 2, 3, 4, 5;

INSERT INTO split_counts(day, sending_domain_id, text_id, type_id, outcome, n)
	SELECT e.day, e.sending_domain_id, e.tags_id, e.type_id, COALESCE(f.outcome, ''), COUNT(*)
	FROM events e LEFT JOIN failures f ON f.day = e.day AND f.recipient_id = e.recipient_id AND f.id_hash = e.id_hash
	WHERE e.tags_id IS NOT NULL AND e.tags_id != 0
	GROUP BY 1, 2, 3, 4, 5;
