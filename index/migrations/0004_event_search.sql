-- What `maildiag events` filters on, per event. Subjects, From values,
-- sending IPs, tag sets and routes (provider, gateway, MX host) are stored
-- once in texts and referenced by id from events: a "contains" search scans
-- the distinct texts, not the events, and no per-event index is built
-- (the import stays as fast as before; see the search commit's figures).
-- Events stored before this migration have NULL ids: they are found by
-- every filter but these.
CREATE TABLE texts (
	id   INTEGER PRIMARY KEY,
	kind INTEGER NOT NULL, -- 1 subject, 2 from, 3 sending ip, 4 tags, 5 route
	text TEXT NOT NULL     -- tags: one per line; route: provider, gateway, MX host, each followed by a line break
);
-- Finds a text: hash is text_hash(kind, text).
CREATE TABLE text_keys (
	hash INTEGER NOT NULL,
	id   INTEGER NOT NULL,
	PRIMARY KEY (hash, id)
) WITHOUT ROWID;

ALTER TABLE events ADD COLUMN subject_id INTEGER;
ALTER TABLE events ADD COLUMN from_id INTEGER;
ALTER TABLE events ADD COLUMN ip_id INTEGER;
ALTER TABLE events ADD COLUMN tags_id INTEGER;
ALTER TABLE events ADD COLUMN route_id INTEGER;
