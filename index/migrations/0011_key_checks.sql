-- A second hash beside each key of an address or a text, independent of
-- the first (index/keys.go, hash2): the writer checks a key it finds
-- against it instead of reading the address or text row, a second page at
-- a random place. At 10M transactional events the writer looked up 742k
-- addresses and 516k texts no longer in its caches, 65 s of a 265 s import,
-- most of it in those second pages. Rows stored before this migration have
-- no hash2 and are checked against their row as before.
ALTER TABLE recipient_keys_base ADD COLUMN hash2 INTEGER;
ALTER TABLE recipient_keys_recent ADD COLUMN hash2 INTEGER;
ALTER TABLE text_keys ADD COLUMN hash2 INTEGER;
