-- The event index. Times are microseconds since the Unix epoch (UTC). Empty
-- values are stored as NULL. Names (domains, addresses, event types) are
-- stored once and referenced by id; the views events_full and
-- suppressions_full join them back in. Every event's original JSON is kept
-- (event_json); fields without a column here are read from it.

CREATE TABLE event_types (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);
INSERT INTO event_types(id, name) VALUES
	(1, 'accepted'), (2, 'rejected'), (3, 'delivered'), (4, 'failed'), (5, 'opened'),
	(6, 'clicked'), (7, 'unsubscribed'), (8, 'complained'), (9, 'stored');

CREATE TABLE domains (
	id    INTEGER PRIMARY KEY,
	name  TEXT NOT NULL UNIQUE,
	rname TEXT NOT NULL -- name reversed character by character: suffix patterns become prefix ranges
);
CREATE INDEX domains_rname ON domains(rname);

CREATE TABLE recipients (
	id        INTEGER PRIMARY KEY,
	address   TEXT NOT NULL,
	domain_id INTEGER NOT NULL REFERENCES domains(id)
);
-- Finds an address, and every address of a domain (look the domain up first).
CREATE UNIQUE INDEX recipients_key ON recipients(domain_id, address);

CREATE TABLE imports (
	id                INTEGER PRIMARY KEY,
	source            TEXT NOT NULL,
	sha256            TEXT,
	bytes             INTEGER,
	gzip              INTEGER NOT NULL DEFAULT 0,
	shapes            TEXT,
	started_at        INTEGER NOT NULL,
	finished_at       INTEGER,
	status            TEXT NOT NULL,
	error             TEXT,
	events_read       INTEGER NOT NULL DEFAULT 0,
	events_new        INTEGER NOT NULL DEFAULT 0,
	suppressions_read INTEGER NOT NULL DEFAULT 0,
	suppressions_new  INTEGER NOT NULL DEFAULT 0,
	rejects           INTEGER NOT NULL DEFAULT 0
);

-- Original JSON of events, zstd-compressed in blocks of consecutive events:
-- the block of event e is the one with the greatest first_id <= e.id, and
-- the event is record e.id - first_id in it.
CREATE TABLE raw_blocks (
	first_id  INTEGER PRIMARY KEY,
	count     INTEGER NOT NULL,
	codec     TEXT NOT NULL,
	import_id INTEGER REFERENCES imports(id), -- NULL for synced events
	data      BLOB NOT NULL
);

-- One row per event. An event is stored once: the writer looks for the same
-- Mailgun event id (unique within a UTC day) at the same recipient within a
-- millisecond (the Logs API gives milliseconds, the Events API microseconds).
CREATE TABLE events (
	id                INTEGER PRIMARY KEY,
	ts                INTEGER NOT NULL,
	type_id           INTEGER NOT NULL REFERENCES event_types(id),
	event_id          TEXT NOT NULL,
	sending_domain_id INTEGER REFERENCES domains(id),
	recipient_id      INTEGER REFERENCES recipients(id),
	message_key       INTEGER -- message_key('<message-id>'): a 63-bit hash of the message-id
);
-- The index leads with the UTC day (ts / 86400000000) so that new events land
-- at its end: the cost of an insert stays flat as the index grows. A lookup
-- by recipient seeks once per day with events; a day's events are a range.
CREATE INDEX events_recipient ON events(ts / 86400000000, recipient_id);

-- The delivery details of failed and rejected events (one row per such event,
-- same id as in events). Details of other events are in their original JSON.
CREATE TABLE failures (
	id                  INTEGER PRIMARY KEY REFERENCES events(id),
	ts                  INTEGER NOT NULL,
	type_id             INTEGER NOT NULL,
	sending_domain_id   INTEGER,
	recipient_domain_id INTEGER,
	provider            TEXT,
	severity            TEXT,
	reason              TEXT,
	code                INTEGER,
	enhanced            TEXT,
	reply               TEXT,
	description         TEXT,
	mx_host             TEXT,
	attempt             INTEGER,
	retry_seconds       INTEGER,
	bounce_type         TEXT,
	delayed_bounce      INTEGER,
	subject             TEXT,
	from_addr           TEXT
);
CREATE INDEX failures_ts ON failures(ts);
CREATE INDEX failures_rdomain ON failures(recipient_domain_id, ts);

-- Events per UTC day, sending domain, recipient domain and type, kept at
-- ingest so that totals and rates cost the same at any size.
CREATE TABLE event_counts (
	day                 INTEGER NOT NULL,
	sending_domain_id   INTEGER NOT NULL, -- 0: unknown
	recipient_domain_id INTEGER NOT NULL, -- 0: none
	type_id             INTEGER NOT NULL,
	n                   INTEGER NOT NULL,
	PRIMARY KEY (day, sending_domain_id, recipient_domain_id, type_id)
) WITHOUT ROWID;

CREATE TABLE suppressions (
	id                INTEGER PRIMARY KEY,
	sending_domain_id INTEGER NOT NULL REFERENCES domains(id),
	list              TEXT NOT NULL,
	address           TEXT NOT NULL,
	recipient_id      INTEGER REFERENCES recipients(id),
	kind              TEXT,
	code              TEXT,
	error             TEXT,
	tags              TEXT,
	reason            TEXT,
	created_at        INTEGER NOT NULL,
	first_seen        INTEGER NOT NULL,
	last_seen         INTEGER NOT NULL,
	removed_at        INTEGER,
	import_id         INTEGER,
	raw               TEXT
);
CREATE UNIQUE INDEX suppressions_key ON suppressions(sending_domain_id, list, address, created_at);
CREATE INDEX suppressions_recipient ON suppressions(recipient_id);

CREATE TABLE rejects (
	id        INTEGER PRIMARY KEY,
	import_id INTEGER REFERENCES imports(id),
	source    TEXT NOT NULL,
	line      INTEGER,
	item      INTEGER,
	offset    INTEGER,
	reason    TEXT NOT NULL,
	raw       TEXT,
	raw_bytes INTEGER
);
CREATE INDEX rejects_import ON rejects(import_id);

-- Each event's original JSON. raw_event() exists on maildiag's own
-- connections (maildiag query), not in the sqlite3 shell.
CREATE VIEW event_json AS
	SELECT e.id, e.event_id, e.ts, raw_event(b.data, e.id - b.first_id) AS json
	FROM events e JOIN raw_blocks b
		ON b.first_id = (SELECT MAX(first_id) FROM raw_blocks WHERE first_id <= e.id);

-- Events with names joined in and, for failures, their delivery details.
CREATE VIEW events_full AS
	SELECT e.id, e.ts, strftime('%Y-%m-%dT%H:%M:%S', e.ts / 1000000, 'unixepoch') || printf('.%06dZ', e.ts % 1000000) AS time,
		e.event_id, t.name AS type, sd.name AS sending_domain, r.address AS recipient,
		rd.name AS recipient_domain, f.provider, f.severity, f.reason, f.code, f.enhanced,
		f.reply, f.description, f.mx_host, f.attempt, f.retry_seconds, f.bounce_type,
		f.delayed_bounce, f.subject, f.from_addr, e.message_key
	FROM events e
	JOIN event_types t ON t.id = e.type_id
	LEFT JOIN domains sd ON sd.id = e.sending_domain_id
	LEFT JOIN recipients r ON r.id = e.recipient_id
	LEFT JOIN domains rd ON rd.id = r.domain_id
	LEFT JOIN failures f ON f.id = e.id;

CREATE VIEW suppressions_full AS
	SELECT s.id, sd.name AS sending_domain, s.list, s.address, s.kind, s.code, s.error,
		s.tags, s.reason, s.created_at, s.first_seen, s.last_seen, s.removed_at, s.import_id
	FROM suppressions s JOIN domains sd ON sd.id = s.sending_domain_id;
