package main

import (
	"context"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/server"
)

// serveIndex is the index serve runs on, of either engine.
type serveIndex struct {
	store     server.Store
	newWriter func(ctx context.Context) (server.Writer, error)
	where     string // to show: a path, or a URL without its password
	close     func() error
}

// openServeStore opens the index for serve, migrating it (the team's
// tables with the rest): a SQLite file, or a PostgreSQL index that several
// serve processes may share.
func openServeStore(ctx context.Context, t target) (*serveIndex, error) {
	if t.pgURL != "" {
		db, err := pg.Open(ctx, t.pgURL)
		if err != nil {
			return nil, err
		}
		return &serveIndex{store: servePGStore{db}, where: db.Where(), close: db.Close,
			newWriter: func(ctx context.Context) (server.Writer, error) { return db.NewWriter(ctx) }}, nil
	}
	db, err := index.Open(ctx, t.path)
	if err != nil {
		return nil, err
	}
	return &serveIndex{store: serveStore{db}, where: t.path, close: db.Close,
		newWriter: func(ctx context.Context) (server.Writer, error) { return db.NewWriter(ctx) }}, nil
}

// servePGStore is the PostgreSQL index as the server's store.
type servePGStore struct{ *pg.DB }

// Summary is the status page's view of the index's status.
func (st servePGStore) Summary(ctx context.Context) (*server.IndexSummary, error) {
	return summaryOf(ctx, st.DB)
}
