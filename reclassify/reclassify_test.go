package reclassify_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/analyze/classify"
	"github.com/maildiag/maildiag/importer"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/reclassify"
)

// recorder is a Progress that keeps what it heard.
type recorder struct {
	started []string
	done    int
}

func (r *recorder) Start(stored string) { r.started = append(r.started, stored) }
func (r *recorder) Step(int)            {}
func (r *recorder) Done()               { r.done++ }

// classes reads every stored failure's class and rule by event id.
func classes(t *testing.T, db *index.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range testkit.Query(t, db, "SELECT event_id, class || '/' || rule FROM failures_full") {
		s, _ := r[1].(string)
		out[r[0].(string)] = s
	}
	return out
}

// A rules change re-derives the stored classes from the raw JSON before
// anything new is stored, without a re-import.
func TestEnsureRulesAfterRulesChange(t *testing.T) {
	ctx := context.Background()
	db, w := testkit.OpenIndex(t, filepath.Join(t.TempDir(), "index.db"))

	// A new index is stamped with this build's rules, with nothing to do.
	rec := &recorder{}
	if err := reclassify.EnsureRules(ctx, db, w, rec); err != nil || len(rec.started) != 0 {
		t.Fatalf("new index: %v, started %v; want nothing re-derived", err, rec.started)
	}
	if v, _ := db.Meta(ctx, "rules_version"); v != classify.RulesVersion {
		t.Errorf("rules version %q, want %q", v, classify.RulesVersion)
	}
	im, err := importer.New(ctx, db, w, importer.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../ingest/testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := im.Import(ctx, f, "events.jsonl", importer.Progress{}); err != nil {
		t.Fatal(err)
	}
	want := classes(t, db)
	if len(want) == 0 {
		t.Fatal("no failures in the samples")
	}

	// Pretend the classes came from older rules.
	var keys []analyze.Ref
	if err := db.Failures(ctx, analyze.FailureFilter{}, func(f *analyze.Failure) error { keys = append(keys, f.Ref); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := w.SetFailureClass(ctx, k, "other", "old", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.SetMeta(ctx, "rules_version", "older"); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	if err := reclassify.EnsureRules(ctx, db, w, rec); err != nil || len(rec.started) != 1 || rec.started[0] != "older" || rec.done != 1 {
		t.Fatalf("after a rules change: %v, started %v, done %d; want one re-derivation from older", err, rec.started, rec.done)
	}
	got := classes(t, db)
	for id, c := range want {
		if got[id] != c {
			t.Errorf("%s: class/rule %q, want %q", id, got[id], c)
		}
	}
	if err := reclassify.EnsureRules(ctx, db, w, rec); err != nil || len(rec.started) != 1 {
		t.Errorf("up to date: %v, started %v; want nothing more", err, rec.started)
	}

	// Forced, it reads every failure again and finds nothing to change.
	res, err := reclassify.Run(ctx, db, w, nil)
	if err != nil || res.Failures != len(keys) || res.Changed != 0 {
		t.Errorf("run: %+v, %v; want %d failures, none changed", res, err, len(keys))
	}
}
