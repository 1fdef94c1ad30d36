-- The events' original JSON in compressed blocks, as the SQLite index
-- keeps it (../../rawblock.go): an event row carried its JSON inline, and
-- the server compresses only rows over about 2 kB, so the JSON was most of
-- the index (1.4 kB an event) and most of what a merge wrote. A block
-- holds the JSON of consecutive events, zstd-compressed by the writer; an
-- event names its block and its place in it.
--
-- Events stored before keep their JSON in events.raw; events stored from
-- now on have raw NULL and raw_block set.

CREATE SEQUENCE raw_block_seq AS bigint;

CREATE TABLE raw_blocks (
	id       bigint PRIMARY KEY,
	last_day integer NOT NULL, -- the newest UTC day of its events: retention drops blocks whose every event is gone
	codec    text NOT NULL,    -- zstd
	data     bytea NOT NULL    -- uvarint count, count uvarint lengths, then the records, compressed
);
-- Compressed already: the server's own compression would only cost time.
ALTER TABLE raw_blocks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX raw_blocks_last_day ON raw_blocks(last_day);

ALTER TABLE events ALTER COLUMN raw DROP NOT NULL;
ALTER TABLE events ADD COLUMN raw_block bigint, ADD COLUMN raw_at integer;
