-- Events per UTC day, sending domain, recipient domain, sending IP or tag,
-- type and outcome, kept at ingest like daily_counts (the SQLite index's
-- split_counts): a report splits its volume and rates by IP and by tag,
-- also for one customer's domains, at the same cost at any size. An event
-- counts once under its IP and once under each of its tags.
CREATE TABLE split_counts (
	day                 integer NOT NULL,
	sending_domain_id   integer NOT NULL,
	recipient_domain_id integer NOT NULL,
	kind                text NOT NULL CHECK (kind IN ('ip', 'tag')),
	name                text NOT NULL,
	type_id             smallint NOT NULL,
	outcome             text NOT NULL,
	n                   bigint NOT NULL,
	PRIMARY KEY (day, sending_domain_id, recipient_domain_id, kind, name, type_id, outcome)
);

-- The tag set of each failure, one tag a line as in the SQLite index, so
-- that failures split by tag without reading the events' JSON.
ALTER TABLE failures ADD COLUMN tags text;

-- What the events stored before say, from their original JSON (empty for
-- none).
CREATE FUNCTION maildiag_raw_json(raw bytea) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN length(raw) = 0 THEN '{}'::jsonb ELSE convert_from(raw, 'UTF8')::jsonb END
$$;
CREATE FUNCTION maildiag_json_tags(j jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE jsonb_typeof(j -> 'tags')
		WHEN 'array' THEN ARRAY(SELECT jsonb_array_elements_text(j -> 'tags'))
		WHEN 'string' THEN ARRAY[j ->> 'tags']
		ELSE ARRAY[]::text[] END
$$;

UPDATE failures f SET tags = array_to_string(maildiag_json_tags(maildiag_raw_json(e.raw)), E'\n') || E'\n'
FROM events e
WHERE e.day = f.day AND e.recipient_id = f.recipient_id AND e.type_id = f.type_id AND e.event_id = f.event_id
	AND cardinality(maildiag_json_tags(maildiag_raw_json(e.raw))) > 0;

INSERT INTO split_counts(day, sending_domain_id, recipient_domain_id, kind, name, type_id, outcome, n)
SELECT e.day, e.sending_domain_id, COALESCE(r.domain_id, 0), v.kind, v.name, e.type_id, COALESCE(f.outcome, ''), COUNT(*)
FROM events e
LEFT JOIN recipients r ON r.id = e.recipient_id
LEFT JOIN failures f ON f.day = e.day AND f.recipient_id = e.recipient_id AND f.type_id = e.type_id AND f.event_id = e.event_id
CROSS JOIN LATERAL (SELECT maildiag_raw_json(e.raw) AS j) x
CROSS JOIN LATERAL (
	SELECT 'ip', x.j #>> '{envelope,sending-ip}' WHERE COALESCE(x.j #>> '{envelope,sending-ip}', '') <> ''
	UNION ALL SELECT 'tag', t FROM unnest(maildiag_json_tags(x.j)) t WHERE t <> ''
) v(kind, name)
GROUP BY 1, 2, 3, 4, 5, 6, 7;
