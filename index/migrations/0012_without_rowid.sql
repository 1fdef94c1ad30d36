-- The tables the writer fills many rows a statement whose key was an
-- INTEGER PRIMARY KEY become WITHOUT ROWID. SQLite checks such a key is an
-- integer as each row goes in and may abort the statement there, so every
-- multi-row INSERT into them kept a statement journal: a copy of each page
-- it changed, written to a temporary file, whatever the conflict clause.
-- Keyed WITHOUT ROWID, INSERT OR FAIL needs none (index/rowbatch.go). An
-- import of 1M transactional events wrote 31,000 64 KiB pages to such
-- journals after the other tables were changed; 1,000 after these.
--
-- The views that name these tables resolve them by name when they run:
-- with the legacy rename, renaming the new tables leaves them as they are.
PRAGMA legacy_alter_table = ON;

CREATE TABLE recipients_base_new (
	id      INTEGER PRIMARY KEY,
	address TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO recipients_base_new(id, address) SELECT id, address FROM recipients_base ORDER BY id;
DROP TABLE recipients_base;
ALTER TABLE recipients_base_new RENAME TO recipients_base;

CREATE TABLE recipients_recent_new (
	id      INTEGER PRIMARY KEY,
	address TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO recipients_recent_new(id, address) SELECT id, address FROM recipients_recent ORDER BY id;
DROP TABLE recipients_recent;
ALTER TABLE recipients_recent_new RENAME TO recipients_recent;

CREATE TABLE texts_new (
	id   INTEGER PRIMARY KEY,
	kind INTEGER NOT NULL, -- 1 subject, 2 from, 3 sending ip, 4 tags, 5 route
	text TEXT NOT NULL     -- tags: one per line; route: provider, gateway, MX host, each followed by a line break
) WITHOUT ROWID;
INSERT INTO texts_new(id, kind, text) SELECT id, kind, text FROM texts ORDER BY id;
DROP TABLE texts;
ALTER TABLE texts_new RENAME TO texts;

PRAGMA legacy_alter_table = OFF;
