// Package testkit is what the packages' tests share: golden files with
// -update, and indexes of generated accounts built in process, in temporary
// directories removed when the test binary ends (see Main).
package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/synth"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// Golden compares got with the file testdata/golden/name, or writes it
// there under -update.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to write it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs at line %d:\ngot:  %.300s\nwant: %.300s\n(run go test with -update if the change is intended)", path, i+1, g, w)
		}
	}
}

// GoldenJSON compares v as indented JSON with a golden file.
func GoldenJSON(t testing.TB, name string, v any) {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	Golden(t, name, b.Bytes())
}

// Account is a generated account stored in an index.
type Account struct {
	Path   string // the index file
	End    time.Time
	Result *synth.Result
}

var (
	mu       sync.Mutex
	accounts = map[string]*Account{}
	dirs     []string
)

// Index returns an index of the account cfg generates, with its events and
// every sending domain's suppression lists (as exports would give them),
// built once per test binary. Tests must not write to it.
func Index(tb testing.TB, cfg synth.Config) *Account {
	tb.Helper()
	key := fmt.Sprintf("%+v", cfg)
	mu.Lock()
	defer mu.Unlock()
	if a := accounts[key]; a != nil {
		return a
	}
	dir, err := os.MkdirTemp("", "maildiag-testkit")
	if err != nil {
		tb.Fatal(err)
	}
	dirs = append(dirs, dir)
	a, err := build(filepath.Join(dir, "index.db"), cfg)
	if err != nil {
		tb.Fatalf("build the index of %s: %v", key, err)
	}
	accounts[key] = a
	return a
}

func build(path string, cfg synth.Config) (*Account, error) {
	ctx := context.Background()
	var events bytes.Buffer
	res, err := synth.Write(ctx, &events, cfg, synth.Output{Format: synth.FormatEventsJSONL})
	if err != nil {
		return nil, err
	}
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
	load := func(data []byte, sendingDomain string) error {
		_, err := ingest.Read(ctx, bytes.NewReader(data), ingest.Options{SendingDomain: sendingDomain}, func(b *ingest.Batch) error {
			if len(b.Rejects) > 0 {
				return fmt.Errorf("rejected: %s", b.Rejects[0].Reason)
			}
			if _, err := w.AddEvents(ctx, b.Events, 0); err != nil {
				return err
			}
			_, err := w.AddSuppressions(ctx, b.Suppressions, 0, res.End.UnixMicro())
			return err
		})
		if err != nil {
			return err
		}
		return w.Commit(ctx)
	}
	if err := load(events.Bytes(), ""); err != nil {
		return nil, err
	}
	for _, sd := range res.SendingDomains {
		for _, f := range []synth.Format{synth.FormatBouncesCSV, synth.FormatUnsubscribesCSV, synth.FormatComplaintsCSV} {
			var list bytes.Buffer
			if _, err := synth.Write(ctx, &list, cfg, synth.Output{Format: f, SendingDomain: sd}); err != nil {
				return nil, err
			}
			if err := load(list.Bytes(), sd); err != nil {
				return nil, err
			}
		}
	}
	return &Account{Path: path, End: res.End, Result: res}, nil
}

// Main runs a package's tests and then removes what Index built. A package
// whose tests call Index calls it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	for _, d := range dirs {
		os.RemoveAll(d)
	}
	mu.Unlock()
	os.Exit(code)
}
