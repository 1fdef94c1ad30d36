package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	ddzstd "github.com/DataDog/zstd"
)

// KeepMessage stores a fetched message's headers and text (as JSON),
// compressed, for the message-id: show --message --keep.
func (db *DB) KeepMessage(ctx context.Context, messageID, storageKey string, doc []byte, at time.Time) error {
	data, err := ddzstd.Compress(nil, doc)
	if err != nil {
		return fmt.Errorf("keep message: %w", err)
	}
	_, err = db.sql.ExecContext(ctx, `INSERT INTO kept_messages(message_key, storage_key, fetched_at, codec, data) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO UPDATE SET fetched_at = excluded.fetched_at, codec = excluded.codec, data = excluded.data`,
		messageKey(messageID), storageKey, at.UnixMicro(), codecZstd, data)
	if err != nil {
		return fmt.Errorf("keep message: %w", err)
	}
	return nil
}

// KeptMessage returns what KeepMessage stored for a message-id (the newest
// fetch), or nil.
func (db *DB) KeptMessage(ctx context.Context, messageID string) (doc []byte, at time.Time, err error) {
	var data []byte
	var codec string
	var us int64
	err = db.sql.QueryRowContext(ctx, `SELECT codec, data, fetched_at FROM kept_messages WHERE message_key = ? ORDER BY fetched_at DESC LIMIT 1`,
		messageKey(messageID)).Scan(&codec, &data, &us)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read kept message: %w", err)
	}
	if codec != codecZstd {
		return nil, time.Time{}, fmt.Errorf("read kept message: unknown codec %q", codec)
	}
	doc, err = ddzstd.Decompress(nil, data)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read kept message: %w", err)
	}
	return doc, time.UnixMicro(us).UTC(), nil
}
