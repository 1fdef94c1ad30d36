package remedy_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/remedy"
	"github.com/maildiag/maildiag/syncer"
)

// who acts in the tests.
var who = remedy.Identity{Run: "run-1", User: "tester", Command: "maildiag suppressions remove"}

// env is the stories account served on loopback and synced into a fresh
// index.
type env struct {
	*mgtest.Server
	db      string // the index
	backups string
}

// newEnv serves the account and syncs it (without the suppression lists
// when noLists).
func newEnv(t *testing.T, noLists bool) *env {
	t.Helper()
	e := &env{Server: mgtest.NewStories(t), db: filepath.Join(t.TempDir(), "index.db")}
	e.backups = filepath.Join(filepath.Dir(e.db), "backups")
	ctx := context.Background()
	db, w := e.open(t)
	o := syncer.Options{Lookback: 30 * 24 * time.Hour, LateThreshold: 30 * time.Minute, Workers: 8, NoSuppressions: noLists, Now: e.Clock.Now}
	if _, err := syncer.Run(ctx, db, w, testkit.Client(t, e.URL, mgtest.Key, 8), o, nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
	e.Forget()
	return e
}

// open opens the index and a writer, closed when the test ends.
func (e *env) open(t *testing.T) (*index.DB, *index.Writer) {
	return testkit.OpenIndex(t, e.db)
}

// session is one invocation on the index, with a client retrying 8 times.
func (e *env) session(t *testing.T) (*remedy.Session, *index.DB) {
	t.Helper()
	db, w := e.open(t)
	return &remedy.Session{W: w, Client: testkit.Client(t, e.URL, mgtest.Key, 8), Who: who, Now: e.Clock.Now, Key: mgtest.Key}, db
}

// plan chooses the removal of pattern's suppressions the filter takes.
func (e *env) plan(t *testing.T, db *index.DB, pattern string, f remedy.RemoveFilter) *remedy.RemoveResult {
	t.Helper()
	p, err := analyze.ParsePattern(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Lists) == 0 {
		f.Lists = remedy.DefaultLists
	}
	ctx := context.Background()
	diag, err := analyze.Suppressed(ctx, db, p, analyze.SuppressedOptions{SendingDomains: f.SendingDomains, Lists: f.Lists})
	if err != nil {
		t.Fatal(err)
	}
	res, err := remedy.PlanRemoval(ctx, db, diag, f, e.backups)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// remove plans a removal, backs it up and carries it out.
func (e *env) remove(t *testing.T, s *remedy.Session, db *index.DB, pattern string, f remedy.RemoveFilter) (*remedy.RemoveResult, error) {
	t.Helper()
	res := e.plan(t, db, pattern, f)
	if err := s.Backup(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	return res, s.Remove(context.Background(), res)
}

// audit reads the audit entries of some actions.
func audit(t *testing.T, db *index.DB, actions ...string) []maildiag.AuditEntry {
	t.Helper()
	entries, err := db.Audit(context.Background(), maildiag.AuditFilter{Actions: actions})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}
