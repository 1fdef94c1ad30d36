-- The team server (maildiag serve): who may use it, their API tokens and
-- browser sessions, webhook tokens already seen (replays are refused by
-- every server process sharing the index), leases that let one process at
-- a time run a job (the continuous sync), and resends to another address
-- waiting for a lead's approval. Tokens and sessions are stored as SHA-256
-- hashes: the index never holds a credential that works.
CREATE TABLE IF NOT EXISTS users (
	name TEXT PRIMARY KEY,
	role TEXT NOT NULL CHECK (role IN ('viewer', 'agent', 'lead')),
	created_us INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS api_tokens (
	hash BLOB PRIMARY KEY, -- SHA-256 of the token
	user TEXT NOT NULL REFERENCES users(name),
	label TEXT NOT NULL DEFAULT '',
	created_us INTEGER NOT NULL,
	revoked_us INTEGER
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS sessions (
	hash BLOB PRIMARY KEY, -- SHA-256 of the cookie's value
	user TEXT NOT NULL,
	csrf TEXT NOT NULL, -- the token every form of the session carries
	created_us INTEGER NOT NULL,
	expires_us INTEGER NOT NULL
) WITHOUT ROWID;

-- Failed log-ins per client, for the rate limit; pruned as it is read.
CREATE TABLE IF NOT EXISTS login_failures (
	client TEXT NOT NULL,
	at_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_client ON login_failures(client, at_us);

-- Webhook tokens seen (Mailgun signs each delivery with a new one).
CREATE TABLE IF NOT EXISTS webhook_tokens (
	token TEXT PRIMARY KEY,
	seen_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS webhook_tokens_seen ON webhook_tokens(seen_us);

-- A job one process runs at a time: held by holder until until_us; note
-- is what the job last said (for a status page).
CREATE TABLE IF NOT EXISTS leases (
	name TEXT PRIMARY KEY,
	holder TEXT NOT NULL,
	until_us INTEGER NOT NULL,
	note TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- A resend to an address other than the message's recipient: requested by
-- one person, approved (or declined) by another with the lead role.
CREATE TABLE IF NOT EXISTS resend_requests (
	id INTEGER PRIMARY KEY,
	query TEXT NOT NULL, -- the event id or message-id asked for
	to_addr TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	requested_by TEXT NOT NULL,
	requested_us INTEGER NOT NULL,
	decided_by TEXT,
	decided_us INTEGER,
	status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'declined', 'refused', 'failed')),
	result TEXT NOT NULL DEFAULT ''
);
