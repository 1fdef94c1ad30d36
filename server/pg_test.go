package server

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/internal/pgtest"
)

// The server on a PostgreSQL index: the API's cases run on both engines,
// and several servers share one index as several serve processes would.

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// engines are the index engines the API's cases run on.
var engines = []string{"sqlite", "postgres"}

// pgStore is a PostgreSQL index as the server's store, with a summary of
// its span only.
type pgStore struct{ *pg.DB }

func (s pgStore) Summary(ctx context.Context) (*IndexSummary, error) {
	sp, err := s.DB.Span(ctx)
	if err != nil {
		return nil, err
	}
	return &IndexSummary{First: sp.First, Last: sp.Last, Domains: []DomainSummary{}}, nil
}

// startPGServer serves the PostgreSQL index at u with cfg until the test
// ends, through a connection pool of its own, as a serve process would.
func startPGServer(t *testing.T, u string, cfg Config) *testServer {
	t.Helper()
	db, err := pg.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = pgStore{db}
	if cfg.NewWriter == nil {
		cfg.NewWriter = func(ctx context.Context) (Writer, error) { return db.NewWriter(ctx) }
	}
	if cfg.BackupDir == "" {
		cfg.BackupDir = filepath.Join(t.TempDir(), "backups")
	}
	return serveTest(t, cfg, db, func() { db.Close() })
}
