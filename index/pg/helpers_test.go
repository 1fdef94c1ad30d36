package pg_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/importer"
	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/internal/pgtest"
	"github.com/maildiag/maildiag/synth"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// samples are the Mailgun payloads ingest keeps as test data.
const samples = "../../ingest/testdata"

// open returns a new, migrated index in a database of its own.
func open(t testing.TB) (*pg.DB, string) {
	t.Helper()
	u := pgtest.URL(t)
	db, err := pg.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u
}

// importFiles imports files through a writer of its own, as maildiag
// import does, and returns their provenance.
func importFiles(t testing.TB, db *pg.DB, files ...string) []*maildiag.Import {
	t.Helper()
	imps, err := tryImport(db, files...)
	if err != nil {
		t.Fatal(err)
	}
	return imps
}

func tryImport(db *pg.DB, files ...string) ([]*maildiag.Import, error) {
	ctx := context.Background()
	w, err := db.NewWriter(ctx)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	im, err := importer.New(ctx, db, w, importer.Options{CommitEvery: 1000}, nil)
	if err != nil {
		return nil, err
	}
	var out []*maildiag.Import
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return out, err
		}
		imp, err := im.Import(ctx, f, name, importer.Progress{})
		f.Close()
		if err != nil {
			return out, err
		}
		out = append(out, imp)
	}
	return out, nil
}

// generated writes a generated account's events as JSON lines.
func generated(t testing.TB, events, days int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg := synth.Config{Seed: 7, Events: events, Days: days, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	if _, err := synth.Write(context.Background(), f, cfg, synth.Output{Format: synth.FormatEventsJSONL}); err != nil {
		t.Fatal(err)
	}
	return path
}

// one runs a query of one int64 value.
func one(t testing.TB, u, q string, args ...any) int64 {
	t.Helper()
	var n int64
	conn := pgtest.Conn(t, u)
	if err := conn.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
