-- Stored messages fetched with `maildiag show --message --keep`: the
-- headers and text Mailgun kept (it keeps them 3 days), zstd-compressed,
-- beside the events of the message. Bodies hold confirmation links, which
-- are secrets: nothing is written here without --keep.
CREATE TABLE kept_messages (
	message_key INTEGER NOT NULL, -- message_key(message-id)
	storage_key TEXT NOT NULL,    -- the key of Mailgun's storage URL
	fetched_at  INTEGER NOT NULL, -- microseconds since the epoch
	codec       TEXT NOT NULL,
	data        BLOB NOT NULL,    -- JSON {"headers": [[name, value]...], "text": "..."}
	PRIMARY KEY (message_key, storage_key)
) WITHOUT ROWID;
