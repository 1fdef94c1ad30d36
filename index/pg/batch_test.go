package pg_test

import (
	"context"
	"os"
	"testing"

	"github.com/maildiag/maildiag/importer"
)

// An import whose writer keeps events staged across input batches
// (SetBatch) stores each event once and counts every new one, however the
// held events fall across commits; importing again stores and counts none.
func TestBatchedImportCounts(t *testing.T) {
	ctx := context.Background()
	db, u := open(t)
	file := generated(t, 5000, 20)
	run := func() (read, fresh int) {
		w, err := db.NewWriter(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		w.SetBatch(3000) // more than an input batch, less than a commit
		im, err := importer.New(ctx, db, w, importer.Options{CommitEvery: 4000}, nil)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		imp, err := im.Import(ctx, f, file, importer.Progress{})
		if err != nil {
			t.Fatal(err)
		}
		return imp.EventsRead, imp.EventsNew
	}
	read, fresh := run()
	stored := one(t, u, `SELECT COUNT(*) FROM events`)
	if read == 0 || int64(fresh) != stored {
		t.Fatalf("first import: read %d, counted %d new, stored %d", read, fresh, stored)
	}
	if n := one(t, u, `SELECT SUM(n)::bigint FROM daily_counts`); n != stored {
		t.Fatalf("daily counts sum to %d, %d events stored", n, stored)
	}
	if n := one(t, u, `SELECT events_new FROM imports ORDER BY id LIMIT 1`); n != stored {
		t.Fatalf("the import's row says %d new, %d stored", n, stored)
	}
	read2, fresh2 := run()
	if read2 != read || fresh2 != 0 || one(t, u, `SELECT COUNT(*) FROM events`) != stored {
		t.Fatalf("second import: read %d, %d new, stored %d (want %d, 0, %d)", read2, fresh2, one(t, u, `SELECT COUNT(*) FROM events`), read, stored)
	}
}
