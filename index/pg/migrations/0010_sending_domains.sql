-- Domains first seen in one batch as the sending domain of its events, or
-- of a suppression list, were stored with sending = false (the writer's
-- update could not see rows its own statement inserted). The daily counts
-- and the lists say which domains send.
UPDATE domains SET sending = true
WHERE NOT sending AND (
	id IN (SELECT DISTINCT sending_domain_id FROM daily_counts)
	OR id IN (SELECT DISTINCT sending_domain_id FROM suppressions)
);
