-- The event index. Times are microseconds since the Unix epoch (UTC); day is
-- the UTC day number (ts / 86400000000), hour the UTC hour number. Names
-- (domains, addresses, event types) are stored once and referenced by id;
-- the views events_full, failures_full and suppressions_full join them back
-- in. Every event's original JSON is kept, compressed (see event_json).
--
-- Tables that grow with the events are clustered by day first, so that new
-- events land together and a day's events are one range.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
-- redact_salt keys the stable short hashes that replace local parts of
-- addresses in redacted reports.
INSERT INTO meta(key, value) VALUES ('redact_salt', lower(hex(randomblob(16))));

CREATE TABLE event_types (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);
INSERT INTO event_types(id, name) VALUES
	(1, 'accepted'), (2, 'rejected'), (3, 'delivered'), (4, 'failed'), (5, 'opened'),
	(6, 'clicked'), (7, 'unsubscribed'), (8, 'complained'), (9, 'stored');

-- Sending domains and recipient domains alike. provider, gateway and
-- mx_host are what the most recent event to the domain said.
CREATE TABLE domains (
	id       INTEGER PRIMARY KEY,
	name     TEXT NOT NULL UNIQUE,
	rname    TEXT NOT NULL, -- name reversed: suffix patterns (*.acme.com) become prefix ranges
	provider TEXT,          -- Mailgun's recipient-provider
	gateway  TEXT,          -- who receives its mail: Gmail, Microsoft 365, Mimecast, ...
	mx_host  TEXT,
	seen_at  INTEGER,       -- time of the event provider, gateway and mx_host come from
	recipients INTEGER NOT NULL DEFAULT 0, -- addresses at the domain in the index
	sending    INTEGER NOT NULL DEFAULT 0  -- 1: a sending domain of the account
);
CREATE INDEX domains_rname ON domains(rname);
CREATE INDEX domains_sending ON domains(sending) WHERE sending = 1;

-- Recipient addresses. id is domain_id * 2^32 + n, so the addresses of a
-- domain are the ids from domain_id << 32 to (domain_id + 1) << 32 - 1.
CREATE TABLE recipients (
	id      INTEGER PRIMARY KEY,
	address TEXT NOT NULL
);
-- Finds an address: hash is addr_hash(address).
CREATE TABLE recipient_keys (
	hash INTEGER NOT NULL,
	id   INTEGER NOT NULL,
	PRIMARY KEY (hash, id)
) WITHOUT ROWID;

CREATE TABLE imports (
	id                INTEGER PRIMARY KEY,
	source            TEXT NOT NULL,
	sha256            TEXT,
	bytes             INTEGER,
	gzip              INTEGER NOT NULL DEFAULT 0,
	shapes            TEXT,
	started_at        INTEGER NOT NULL,
	finished_at       INTEGER,
	status            TEXT NOT NULL, -- running | done | failed
	error             TEXT,
	events_read       INTEGER NOT NULL DEFAULT 0,
	events_new        INTEGER NOT NULL DEFAULT 0,
	suppressions_read INTEGER NOT NULL DEFAULT 0,
	suppressions_new  INTEGER NOT NULL DEFAULT 0,
	rejects           INTEGER NOT NULL DEFAULT 0
);

-- Original JSON of events, zstd-compressed in blocks of consecutive seq
-- numbers: the block of an event is the one with the greatest
-- first_seq <= seq, and the event is record seq - first_seq in it.
CREATE TABLE raw_blocks (
	first_seq INTEGER PRIMARY KEY,
	count     INTEGER NOT NULL,
	codec     TEXT NOT NULL,
	import_id INTEGER REFERENCES imports(id), -- NULL for synced events
	data      BLOB NOT NULL
);

-- One row per event. An event is the same as one stored before when it has
-- the same type and Mailgun id (unique within a UTC day) at the same
-- recipient on the same day: (day, recipient_id, id_hash) is its identity.
CREATE TABLE events (
	day               INTEGER NOT NULL,
	recipient_id      INTEGER NOT NULL, -- 0: none (rejected messages)
	id_hash           INTEGER NOT NULL, -- event_hash(type, Mailgun event id)
	ts                INTEGER NOT NULL,
	type_id           INTEGER NOT NULL REFERENCES event_types(id),
	sending_domain_id INTEGER NOT NULL, -- 0: unknown
	message_key       INTEGER NOT NULL, -- message_key(message-id), 0: none
	seq               INTEGER NOT NULL, -- order of storing: locates the raw JSON
	PRIMARY KEY (day, recipient_id, id_hash)
) WITHOUT ROWID;

-- The recipients of each message, from its accepted, rejected, delivered
-- and failed events: trace by message-id starts here.
CREATE TABLE messages (
	day          INTEGER NOT NULL,
	message_key  INTEGER NOT NULL,
	recipient_id INTEGER NOT NULL,
	PRIMARY KEY (day, message_key, recipient_id)
) WITHOUT ROWID;

-- The delivery details of failed and rejected events, with the class the
-- analyses gave them (rule: the classification rule that decided it). The
-- long texts are in failure_texts, so that scans of failures stay short.
CREATE TABLE failures (
	day               INTEGER NOT NULL,
	recipient_id      INTEGER NOT NULL,
	id_hash           INTEGER NOT NULL,
	ts                INTEGER NOT NULL,
	type_id           INTEGER NOT NULL,
	sending_domain_id INTEGER NOT NULL,
	message_key       INTEGER NOT NULL,
	seq               INTEGER NOT NULL,
	event_id          TEXT NOT NULL,
	outcome           TEXT NOT NULL, -- as in daily_counts: temporary, permanent, suppressed; '' for rejected
	severity          TEXT,
	reason            TEXT,
	code              INTEGER,
	enhanced          TEXT,
	class             TEXT,
	rule              TEXT,
	gateway           TEXT,
	provider          TEXT,
	mx_host           TEXT,
	attempt           INTEGER,
	retry_seconds     INTEGER,
	bounce_type       TEXT,
	delayed_bounce    INTEGER,
	sending_ip        TEXT,
	PRIMARY KEY (day, recipient_id, id_hash)
) WITHOUT ROWID;

-- The remote server's reply, Mailgun's description, the subject and From
-- of each failure, same key as failures.
CREATE TABLE failure_texts (
	day          INTEGER NOT NULL,
	recipient_id INTEGER NOT NULL,
	id_hash      INTEGER NOT NULL,
	reply        TEXT,
	description  TEXT,
	subject      TEXT,
	from_addr    TEXT,
	PRIMARY KEY (day, recipient_id, id_hash)
) WITHOUT ROWID;

-- Events per UTC day, sending domain, recipient domain, type and outcome,
-- kept at ingest so that totals and rates cost the same at any size.
-- outcome: '' for all but failed events, which are 'temporary',
-- 'permanent' or 'suppressed' (dropped for a suppression, no attempt).
CREATE TABLE daily_counts (
	day                 INTEGER NOT NULL,
	sending_domain_id   INTEGER NOT NULL, -- 0: unknown
	recipient_domain_id INTEGER NOT NULL, -- 0: none
	type_id             INTEGER NOT NULL,
	outcome             TEXT NOT NULL,
	n                   INTEGER NOT NULL,
	PRIMARY KEY (day, sending_domain_id, recipient_domain_id, type_id, outcome)
) WITHOUT ROWID;

-- The same per UTC hour, without the recipient domain.
CREATE TABLE hourly_counts (
	hour              INTEGER NOT NULL,
	sending_domain_id INTEGER NOT NULL,
	type_id           INTEGER NOT NULL,
	outcome           TEXT NOT NULL,
	n                 INTEGER NOT NULL,
	PRIMARY KEY (hour, sending_domain_id, type_id, outcome)
) WITHOUT ROWID;

-- Accepted-to-delivered delays per UTC day (of delivery), sending domain
-- and gateway: n deliveries took at most le_ms milliseconds and more than
-- the next smaller bucket (the buckets are DelayBuckets in the index package).
CREATE TABLE delay_counts (
	day               INTEGER NOT NULL,
	sending_domain_id INTEGER NOT NULL,
	gateway           TEXT NOT NULL,
	le_ms             INTEGER NOT NULL,
	n                 INTEGER NOT NULL,
	PRIMARY KEY (day, sending_domain_id, gateway, le_ms)
) WITHOUT ROWID;

-- Messages accepted for a recipient with no final event (delivered,
-- permanently failed) stored yet: in flight, retrying, or stuck.
CREATE TABLE pending (
	message_key       INTEGER NOT NULL,
	recipient_id      INTEGER NOT NULL,
	accepted_at       INTEGER NOT NULL,
	sending_domain_id INTEGER NOT NULL,
	PRIMARY KEY (message_key, recipient_id)
) WITHOUT ROWID;

-- Suppression-list entries per sending domain. An entry seen again keeps
-- its row (last_seen moves); one gone from Mailgun gets removed_at.
CREATE TABLE suppressions (
	id                INTEGER PRIMARY KEY,
	sending_domain_id INTEGER NOT NULL REFERENCES domains(id),
	list              TEXT NOT NULL, -- bounces | complaints | unsubscribes | allowlist
	address           TEXT NOT NULL, -- lower-cased; the domain for a domain allowlist entry
	domain_id         INTEGER NOT NULL, -- the address's domain
	kind              TEXT,          -- allowlist: address | domain
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
CREATE INDEX suppressions_domain ON suppressions(domain_id, address);

-- When each suppression list was last read whole from the API (sync):
-- entries not seen then are marked removed.
CREATE TABLE list_syncs (
	sending_domain_id INTEGER NOT NULL,
	list              TEXT NOT NULL,
	synced_at         INTEGER NOT NULL,
	PRIMARY KEY (sending_domain_id, list)
) WITHOUT ROWID;

-- The time ranges of each sending domain's events that a sync has read
-- completely from one source (events: the Events API, logs: the Logs API),
-- committed with the events they cover. A range never reaches closer to
-- the time of the sync than its late-event threshold.
CREATE TABLE sync_ranges (
	sending_domain TEXT NOT NULL,
	source         TEXT NOT NULL,
	from_us        INTEGER NOT NULL,
	to_us          INTEGER NOT NULL,
	synced_at      INTEGER NOT NULL,
	PRIMARY KEY (sending_domain, source, from_us)
) WITHOUT ROWID;

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
	SELECT e.day, e.recipient_id, e.id_hash, e.ts, e.seq, raw_event(b.data, e.seq - b.first_seq) AS json
	FROM events e JOIN raw_blocks b
		ON b.first_seq = (SELECT MAX(first_seq) FROM raw_blocks WHERE first_seq <= e.seq);

-- Events with names joined in.
CREATE VIEW events_full AS
	SELECT strftime('%Y-%m-%dT%H:%M:%S', e.ts / 1000000, 'unixepoch') || printf('.%06dZ', e.ts % 1000000) AS time,
		e.ts, t.name AS type, sd.name AS sending_domain, r.address AS recipient, rd.name AS recipient_domain,
		e.message_key, e.day, e.recipient_id, e.id_hash, e.seq
	FROM events e
	JOIN event_types t ON t.id = e.type_id
	LEFT JOIN domains sd ON sd.id = e.sending_domain_id
	LEFT JOIN recipients r ON r.id = e.recipient_id
	LEFT JOIN domains rd ON rd.id = e.recipient_id >> 32 AND e.recipient_id != 0;

-- Failed and rejected events with their delivery details and names.
CREATE VIEW failures_full AS
	SELECT strftime('%Y-%m-%dT%H:%M:%S', f.ts / 1000000, 'unixepoch') || printf('.%06dZ', f.ts % 1000000) AS time,
		f.ts, t.name AS type, f.event_id, sd.name AS sending_domain, r.address AS recipient, rd.name AS recipient_domain,
		f.outcome, f.severity, f.reason, f.code, f.enhanced, f.class, f.rule, f.gateway, f.provider, f.mx_host, x.reply,
		x.description, f.attempt, f.retry_seconds, f.bounce_type, f.delayed_bounce, f.sending_ip, x.subject,
		x.from_addr, f.message_key, f.day, f.recipient_id, f.id_hash, f.seq
	FROM failures f
	JOIN event_types t ON t.id = f.type_id
	LEFT JOIN failure_texts x ON x.day = f.day AND x.recipient_id = f.recipient_id AND x.id_hash = f.id_hash
	LEFT JOIN domains sd ON sd.id = f.sending_domain_id
	LEFT JOIN recipients r ON r.id = f.recipient_id
	LEFT JOIN domains rd ON rd.id = f.recipient_id >> 32 AND f.recipient_id != 0;

CREATE VIEW suppressions_full AS
	SELECT s.id, sd.name AS sending_domain, s.list, s.address, d.name AS domain, s.kind, s.code, s.error,
		s.tags, s.reason, s.created_at, s.first_seen, s.last_seen, s.removed_at, s.import_id
	FROM suppressions s
	JOIN domains sd ON sd.id = s.sending_domain_id
	LEFT JOIN domains d ON d.id = s.domain_id;
