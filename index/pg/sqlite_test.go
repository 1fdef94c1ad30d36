package pg_test

import (
	"context"
	"os"
	"testing"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/importer"
	"github.com/maildiag/maildiag/index"
)

// The SQLite index is what the PostgreSQL store's results are held to.

func newSQLiteImporter(t testing.TB, db *index.DB, w *index.Writer) *importer.Importer {
	t.Helper()
	im, err := importer.New(context.Background(), db, w, importer.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func importSQLite(t testing.TB, im *importer.Importer, name string) *maildiag.Import {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	imp, err := im.Import(context.Background(), f, name, importer.Progress{})
	if err != nil {
		t.Fatal(err)
	}
	return imp
}
