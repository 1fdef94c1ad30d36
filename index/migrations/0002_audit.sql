-- What maildiag did to the Mailgun account, one row per address acted on:
-- suppressions removed (and dry runs of removals), suppressions restored
-- from a backup, messages resent. Who ran it (the OS user), the command
-- line, what came of it. The API key is never written here.
CREATE TABLE audit (
	id             INTEGER PRIMARY KEY,
	at             INTEGER NOT NULL, -- microseconds since the epoch
	run            TEXT NOT NULL,    -- one invocation of a command: its rows share it
	os_user        TEXT NOT NULL,
	action         TEXT NOT NULL,    -- remove | restore | resend
	command        TEXT NOT NULL,    -- the command line, without the API key
	pattern        TEXT,             -- remove: the address pattern
	filters        TEXT,             -- remove: JSON of the lists, sending domains, classes, before, after
	address        TEXT,             -- remove, restore: the entry's address; resend: where it was sent
	list           TEXT,             -- bounces | unsubscribes | complaints
	sending_domain TEXT,
	backup_file    TEXT,             -- remove: the backup holding the entry; restore: the file read
	message_id     TEXT,             -- resend
	event_id       TEXT,             -- resend, when asked by event id
	original_to    TEXT,             -- resend: the message's original recipient
	approved_by    TEXT,             -- resend to another address: who approved it
	result         TEXT NOT NULL,    -- dry-run | removed | not-found | failed | restored | sent | refused | gone
	error          TEXT,
	detail         TEXT              -- resend: the id Mailgun gave the new message
);
CREATE INDEX audit_at ON audit(at);
