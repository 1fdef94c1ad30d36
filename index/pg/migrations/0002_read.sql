-- What the analyses read (analyze.Store) besides the events themselves,
-- kept at ingest as the SQLite index keeps it: addresses per domain, the
-- state of each delivery (pending messages, delivery delays), lookups by
-- message-id and event id, and messages kept by show --keep.

-- Addresses at each domain, counted as recipients are added (a trigger, so
-- that every writer, import, sync or copy, keeps it).
ALTER TABLE domains ADD COLUMN recipients bigint NOT NULL DEFAULT 0;
UPDATE domains d SET recipients = c.n
FROM (SELECT domain_id, COUNT(*) AS n FROM recipients GROUP BY 1) c WHERE c.domain_id = d.id;
CREATE INDEX domains_sending ON domains(name) WHERE sending;

CREATE FUNCTION maildiag_count_recipients() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE domains d SET recipients = d.recipients + c.n
	FROM (SELECT domain_id, COUNT(*) AS n FROM added GROUP BY 1 ORDER BY 1) c WHERE c.domain_id = d.id;
	RETURN NULL;
END $$;
CREATE TRIGGER recipients_counted AFTER INSERT ON recipients
	REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION maildiag_count_recipients();

-- A message's events, and an event by its Mailgun id: show, trace
-- <message-id>, trace --event-id. Hashes keep the indexes small (4 bytes a
-- key); the query compares the text too.
CREATE INDEX events_message ON events(hashtext(message_id)) WHERE message_id IS NOT NULL;
CREATE INDEX events_event_id ON events(hashtext(event_id));

-- One row per message and recipient: when it was accepted (the first
-- accepted event) and its first final event (delivered, or failed for
-- good), with the delivered event's gateway. A delivery accepted with no
-- final event is pending; one delivered after it was accepted has a delay.
CREATE TABLE deliveries (
	recipient_id      bigint NOT NULL,
	message_id        text NOT NULL,
	accepted_at       bigint,
	sending_domain_id integer,  -- of the accepted event
	final_at          bigint,
	final_delivered   boolean,
	final_sd          integer,  -- of the final event
	final_gateway     text NOT NULL DEFAULT '',
	PRIMARY KEY (recipient_id, message_id)
);
CREATE INDEX deliveries_pending ON deliveries(accepted_at) WHERE final_at IS NULL;
CREATE INDEX deliveries_final ON deliveries(final_at) WHERE final_delivered;

-- Messages fetched from Mailgun's storage for show --message --keep: their
-- headers and text as zstd-compressed JSON.
CREATE TABLE kept_messages (
	message_id  text NOT NULL,
	storage_key text NOT NULL,
	fetched_at  bigint NOT NULL,
	codec       text NOT NULL,
	data        bytea NOT NULL,
	PRIMARY KEY (message_id, storage_key)
);

-- A failure's message, as a 64-bit hash of its message-id (0: none):
-- breakdowns count messages without reading the events.
ALTER TABLE failures ADD COLUMN message_key bigint NOT NULL DEFAULT 0;

-- Log searches list events newest (or oldest) first: the time order,
-- read backwards until a page is full.
CREATE INDEX events_ts ON events(ts, seq);
