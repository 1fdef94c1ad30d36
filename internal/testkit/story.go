package testkit

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/synth"
)

// StoryIndex generates the account cfg describes and loads it into an
// index, as `maildiag import` would: its events as Events API JSON lines,
// then each sending domain's bounce, unsubscribe and complaint lists as
// Mailgun's CSV exports, read by ingest and stored by an index.Writer. The
// lists are stored as seen at cfg.End, so that the index holds nothing of
// the clock. The index is built once per test binary (see Main) and opened
// read-only for each test, as the analysis commands open it.
func StoryIndex(t testing.TB, cfg synth.Config) (*index.DB, *synth.Result) {
	t.Helper()
	return openAccount(t, cfg, true)
}

// EventIndex is StoryIndex without the suppression lists: an index made
// from exported events only.
func EventIndex(t testing.TB, cfg synth.Config) (*index.DB, *synth.Result) {
	t.Helper()
	return openAccount(t, cfg, false)
}

// built is an account's index, built once.
type built struct {
	path string
	res  *synth.Result
}

var (
	mu       sync.Mutex
	accounts = map[string]*built{}
	dirs     []string
)

func openAccount(t testing.TB, cfg synth.Config, lists bool) (*index.DB, *synth.Result) {
	t.Helper()
	key := fmt.Sprintf("%+v %v", cfg, lists)
	mu.Lock()
	a := accounts[key]
	if a == nil {
		dir, err := os.MkdirTemp("", "maildiag-testkit")
		if err != nil {
			mu.Unlock()
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
		a = &built{path: filepath.Join(dir, "index.db")}
		if a.res, err = loadAccount(a.path, cfg, lists); err != nil {
			mu.Unlock()
			t.Fatalf("load generated account: %v", err)
		}
		accounts[key] = a
	}
	mu.Unlock()
	db, err := index.OpenReadOnly(context.Background(), a.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, a.res
}

// Main runs a package's tests, then removes the indexes StoryIndex and
// EventIndex built. A package whose tests use them calls it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	for _, d := range dirs {
		os.RemoveAll(d)
	}
	mu.Unlock()
	os.Exit(code)
}

func loadAccount(path string, cfg synth.Config, lists bool) (*synth.Result, error) {
	ctx := context.Background()
	db, err := index.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	w, err := db.NewWriter(ctx)
	if err != nil {
		return nil, err
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
	if err := cmp.Or(g.err, err); err != nil {
		return nil, err
	}
	res := g.res
	for _, sd := range res.SendingDomains {
		if !lists {
			break
		}
		for _, format := range []synth.Format{synth.FormatBouncesCSV, synth.FormatUnsubscribesCSV, synth.FormatComplaintsCSV} {
			var buf bytes.Buffer
			if _, err := synth.Write(ctx, &buf, cfg, synth.Output{Format: format, SendingDomain: sd}); err != nil {
				return nil, err
			}
			if err := load(&buf, sd); err != nil {
				return nil, fmt.Errorf("load %s of %s: %w", format, sd, err)
			}
		}
	}
	return res, w.Commit(ctx)
}
