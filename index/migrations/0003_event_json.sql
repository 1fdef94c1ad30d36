-- event_json hands raw_event a block's data only when raw_block_cached
-- says the connection does not hold the block decoded already (see
-- rawEvents in rawblock.go): a full scan over 250,000 events took 142 s,
-- each event reading and decoding a block, and takes 1.0 s.
DROP VIEW event_json;
CREATE VIEW event_json AS
	SELECT e.day, e.recipient_id, e.id_hash, e.ts, e.seq,
		raw_event(b.first_seq, e.seq - b.first_seq,
			CASE WHEN raw_block_cached(b.first_seq) THEN NULL ELSE b.data END) AS json
	FROM events e JOIN raw_blocks b
		ON b.first_seq = (SELECT MAX(first_seq) FROM raw_blocks WHERE first_seq <= e.seq);
