package main

import (
	"context"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/syncer"
)

// syncIndex is the index a sync writes, of either engine.
type syncIndex struct {
	syncer.Store
	close     func() error
	newWriter func(ctx context.Context) (syncWriter, error)
}

// syncWriter is a sync's writer, of either engine.
type syncWriter interface {
	syncer.Writer
	Close() error
}

func (x *syncIndex) Close() error { return x.close() }

// openSyncStore opens the index a sync writes: a SQLite file, or a
// PostgreSQL server (as a member of the writer role).
func openSyncStore(ctx context.Context, t target) (*syncIndex, error) {
	if t.pgURL != "" {
		db, err := pg.Open(ctx, t.pgURL)
		if err != nil {
			return nil, err
		}
		return &syncIndex{Store: db, close: db.Close, newWriter: func(ctx context.Context) (syncWriter, error) {
			return db.NewWriter(ctx)
		}}, nil
	}
	db, err := index.Open(ctx, t.path)
	if err != nil {
		return nil, err
	}
	return &syncIndex{Store: db, close: db.Close, newWriter: func(ctx context.Context) (syncWriter, error) {
		return db.NewWriter(ctx)
	}}, nil
}
