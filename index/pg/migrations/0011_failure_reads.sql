-- Reading the failures of some recipients (trace, suppressed) scanned every
-- partition's primary key, whose first column is the day: 86 ms for one
-- address on 10M events. And every read of failures joined recipients
-- for the recipient domain: over a week of failures, a hash of every
-- address. The failure now keeps its recipient's domain (0: none), as
-- the recipients table says it.
ALTER TABLE failures ADD COLUMN recipient_domain_id integer NOT NULL DEFAULT 0;
UPDATE failures f SET recipient_domain_id = r.domain_id
FROM recipients r WHERE r.id = f.recipient_id AND f.recipient_id <> 0 AND r.domain_id <> 0;
CREATE INDEX failures_recipient ON failures(recipient_id);
CREATE INDEX failures_recipient_domain ON failures(recipient_domain_id);
