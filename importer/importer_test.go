package importer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/importer"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/internal/testkit"
)

// samples are the Mailgun payloads ingest keeps as test data.
const samples = "../ingest/testdata"

// store is a fresh index and its writer, closed when the test ends.
func store(t *testing.T) (*index.DB, *index.Writer) {
	return testkit.OpenIndex(t, filepath.Join(t.TempDir(), "index.db"))
}

// load imports files, returning their provenance and where each reject
// was; it fails the test on an error.
func load(t *testing.T, im *importer.Importer, files ...string) ([]*maildiag.Import, []string) {
	t.Helper()
	var imps []*maildiag.Import
	var rejects []string
	for _, name := range files {
		imp, err := importFile(im, name, importer.Progress{Reject: func(r maildiag.Reject) { rejects = append(rejects, r.Where(filepath.Base(name))) }})
		if err != nil {
			t.Fatalf("import %s: %v", name, err)
		}
		imps = append(imps, imp)
	}
	return imps, rejects
}

func importFile(im *importer.Importer, name string, p importer.Progress) (*maildiag.Import, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return im.Import(context.Background(), f, name, p)
}

// count runs a COUNT query on the index.
func count(t *testing.T, db *index.DB, q string) int64 {
	t.Helper()
	return testkit.Query(t, db, q)[0][0].(int64)
}

func newImporter(t *testing.T, db *index.DB, w *index.Writer, o importer.Options) *importer.Importer {
	t.Helper()
	im, err := importer.New(context.Background(), db, w, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func TestImportSamplesIdempotent(t *testing.T) {
	db, w := store(t)
	im := newImporter(t, db, w, importer.Options{})
	imps, rejects := load(t, im, samples+"/events.jsonl", samples+"/webhooks.jsonl")
	if imps[0].EventsRead != 49 || imps[0].EventsNew == 0 || imps[0].Status != "done" || imps[0].SHA256 == "" || len(imps[0].Shapes) == 0 {
		t.Errorf("events.jsonl: %+v; want 49 events read, done, with its hash and shapes", imps[0])
	}
	if fi, _ := os.Stat(samples + "/events.jsonl"); imps[0].Bytes != fi.Size() {
		t.Errorf("events.jsonl: %d bytes, want %d", imps[0].Bytes, fi.Size())
	}
	// The webhooks file's legacy lines 10-12 carry no timestamp.
	if imps[1].Rejects != 3 || strings.Join(rejects, " ") != "webhooks.jsonl:10 webhooks.jsonl:11 webhooks.jsonl:12" {
		t.Errorf("webhooks.jsonl: %d rejects reported as %v, want lines 10 to 12", imps[1].Rejects, rejects)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM rejects"); n != 3 {
		t.Errorf("%d rejects stored, want 3", n)
	}
	n := count(t, db, "SELECT COUNT(*) FROM events")
	// Importing both files again stores nothing new.
	imps, _ = load(t, im, samples+"/webhooks.jsonl", samples+"/events.jsonl")
	for _, imp := range imps {
		if imp.EventsNew != 0 {
			t.Errorf("re-import of %s stored %d new events, want 0", imp.Source, imp.EventsNew)
		}
	}
	if got := count(t, db, "SELECT COUNT(*) FROM events"); got != n {
		t.Errorf("events after re-import: %d, want %d", got, n)
	}
	// Lines 12 and 18 of events.jsonl are the same event (same id, same
	// day): stored once.
	if got := count(t, db, "SELECT COUNT(*) FROM events WHERE id_hash = event_hash('rejected', 'OMTXD3-sSmKIQa1gSKkYVA')"); got != 1 {
		t.Errorf("duplicate event stored %d times, want 1", got)
	}
	// The raw JSON comes back byte for byte.
	b, _ := os.ReadFile(samples + "/events.jsonl")
	line3 := strings.ReplaceAll(strings.Split(string(b), "\n")[2], "'", "''")
	if got := count(t, db, "SELECT COUNT(*) FROM event_json WHERE id_hash = event_hash('delivered', 'hK7mQVt1QtqRiOfQXta4sw') AND json = '"+line3+"'"); got != 1 {
		t.Error("raw JSON of line 3 not recovered")
	}
}

// An input that is not Mailgun's, or fails part-way, is the input's
// error: what loaded stays, and its provenance says it failed.
func TestImportInputErrors(t *testing.T) {
	db, w := store(t)
	im := newImporter(t, db, w, importer.Options{})
	notes := filepath.Join(t.TempDir(), "notes.json")
	os.WriteFile(notes, []byte(`{"hello": "world"}`+"\n"), 0o600)
	imp, err := importFile(im, notes, importer.Progress{})
	var ie *importer.InputError
	if !errors.As(err, &ie) || ie.Source != notes || !strings.Contains(err.Error(), "not a Mailgun export") || imp.Status != "failed" || imp.Error == "" {
		t.Fatalf("notes.json: %+v, %v; want a failed import and an InputError", imp, err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM imports WHERE status = 'failed'"); n != 1 {
		t.Errorf("%d failed imports recorded, want 1", n)
	}
	// A broken line is rejected, the others load.
	b, _ := os.ReadFile(samples + "/events.jsonl")
	lines := strings.Split(string(b), "\n")
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte(lines[2]+"\n{\"event\": \"delivered\", broken\n"+lines[4]+"\n"), 0o600)
	imps, rejects := load(t, im, bad)
	if imps[0].EventsRead != 2 || imps[0].Rejects != 1 || len(rejects) != 1 || rejects[0] != "bad.jsonl:2" {
		t.Errorf("bad.jsonl: %+v, rejects %v; want 2 events and line 2 rejected", imps[0], rejects)
	}
}

// Large inputs commit every CommitEvery records, the counts with them.
func TestImportCommitsAsItGoes(t *testing.T) {
	db, w := store(t)
	im := newImporter(t, db, w, importer.Options{CommitEvery: 1})
	var read []int
	var bytes int64
	imp, err := importFile(im, samples+"/events.jsonl", importer.Progress{
		Commit: func(imp *maildiag.Import) { read = append(read, imp.EventsRead) },
		Read:   func(n int64) { bytes = n },
	})
	if err != nil || len(read) == 0 || read[len(read)-1] > imp.EventsRead || bytes == 0 {
		t.Fatalf("%v: commits after %v events of %d, %d bytes reported; want commits as it goes", err, read, imp.EventsRead, bytes)
	}
}

// failingWriter is the index's writer with AddEvents (prepared or not)
// failing.
type failingWriter struct{ *index.Writer }

func (failingWriter) AddEvents(context.Context, []maildiag.Event, int64) (int, error) {
	return 0, errors.New("disk full")
}

func (f failingWriter) AddPreparedEvents(ctx context.Context, evs []maildiag.Event, _ any, importID int64) (int, error) {
	return f.AddEvents(ctx, evs, importID)
}

// A store error is not the input's: nothing of the input is committed.
func TestImportStoreError(t *testing.T) {
	db, w := store(t)
	im, err := importer.New(context.Background(), db, failingWriter{w}, importer.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := importFile(im, samples+"/events.jsonl", importer.Progress{})
	var ie *importer.InputError
	if err == nil || errors.As(err, &ie) || imp == nil {
		t.Fatalf("%+v, %v: want the store's error", imp, err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM events"); n != 0 {
		t.Errorf("%d events committed, want none", n)
	}
}
