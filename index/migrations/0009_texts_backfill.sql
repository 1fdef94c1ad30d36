-- Events stored before 0004 have no text ids: mark the index so that
-- `maildiag migrate` (or the next import or sync) gives them theirs from
-- their original JSON (index/backfill.go).
INSERT INTO meta(key, value)
	SELECT 'texts_backfill', 'pending'
	WHERE EXISTS (SELECT 1 FROM events WHERE subject_id IS NULL AND from_id IS NULL AND ip_id IS NULL AND tags_id IS NULL AND route_id IS NULL);
