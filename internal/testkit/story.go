package testkit

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/synth"
)

// StoryIndex generates the account cfg describes and loads it into a new
// index in a temporary directory, as `maildiag import` would: its events as
// Events API JSON lines, then each sending domain's bounce, unsubscribe
// and complaint lists as Mailgun's CSV exports, read by ingest and stored
// by an index.Writer. The lists are stored as seen at cfg.End, so that the
// index holds nothing of the clock.
func StoryIndex(t testing.TB, cfg synth.Config) (*index.DB, *synth.Result) {
	t.Helper()
	return loadAccount(t, cfg, true)
}

// EventIndex is StoryIndex without the suppression lists: an index made
// from exported events only.
func EventIndex(t testing.TB, cfg synth.Config) (*index.DB, *synth.Result) {
	t.Helper()
	return loadAccount(t, cfg, false)
}

func loadAccount(t testing.TB, cfg synth.Config, lists bool) (*index.DB, *synth.Result) {
	t.Helper()
	ctx := context.Background()
	db, err := index.Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w, err := db.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	seen := cfg.End.UnixMicro()
	load := func(r io.Reader, sendingDomain string) error {
		_, err := ingest.Read(ctx, r, ingest.Options{SendingDomain: sendingDomain}, func(b *ingest.Batch) error {
			if _, err := w.AddEvents(ctx, b.Events, 0); err != nil {
				return err
			}
			_, err := w.AddSuppressions(ctx, b.Suppressions, 0, seen)
			return err
		})
		return err
	}
	// The events stream through a pipe: the generator writes while ingest
	// reads, so the account is never held whole in memory.
	pr, pw := io.Pipe()
	type generated struct {
		res *synth.Result
		err error
	}
	done := make(chan generated, 1)
	go func() {
		res, err := synth.Write(ctx, pw, cfg, synth.Output{Format: synth.FormatEventsJSONL})
		pw.CloseWithError(err)
		done <- generated{res, err}
	}()
	err = load(pr, "")
	pr.CloseWithError(err) // a failed load stops the generator too
	g := <-done
	if err != nil || g.err != nil {
		t.Fatalf("load generated account: %v", cmp.Or(g.err, err))
	}
	res := g.res
	for _, sd := range res.SendingDomains {
		if !lists {
			break
		}
		for _, format := range []synth.Format{synth.FormatBouncesCSV, synth.FormatUnsubscribesCSV, synth.FormatComplaintsCSV} {
			var buf bytes.Buffer
			if _, err := synth.Write(ctx, &buf, cfg, synth.Output{Format: format, SendingDomain: sd}); err != nil {
				t.Fatal(err)
			}
			if err := load(&buf, sd); err != nil {
				t.Fatalf("load %s of %s: %v", format, sd, err)
			}
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return db, res
}
