package syncer_test

import (
	"context"
	"testing"
	"time"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/syncer"
)

// options are maildiag sync's settings over the Events API, whose paths the
// fault tests aim at, reading 8 days back.
func options() syncer.Options {
	return syncer.Options{Source: ingest.SourceEvents, Lookback: 8 * 24 * time.Hour, LateThreshold: 30 * time.Minute, Workers: 8}
}

// pass makes one pass from s into the index at path, the clock at now,
// with p hearing it (nil: nobody).
func pass(t testing.TB, s *mgtest.Server, path string, now time.Time, o syncer.Options, p syncer.Progress) (*syncer.Summary, error) {
	t.Helper()
	return passWith(t, testkit.Client(t, s.URL, mgtest.Key, 8), path, now, o, p)
}

func passWith(t testing.TB, c *ingest.Client, path string, now time.Time, o syncer.Options, p syncer.Progress) (*syncer.Summary, error) {
	t.Helper()
	db, w := testkit.OpenIndex(t, path)
	o.Now = func() time.Time { return now }
	return syncer.Run(context.Background(), db, w, c, o, p)
}

// mustPass is pass that fails the test on an error.
func mustPass(t testing.TB, s *mgtest.Server, path string, now time.Time, o syncer.Options) *syncer.Summary {
	t.Helper()
	sum, err := pass(t, s, path, now, o, nil)
	if err != nil || sum == nil {
		t.Fatalf("sync: %v", err)
	}
	return sum
}

// query runs a read-only query on the index at path.
func query(t testing.TB, path, q string) [][]any {
	t.Helper()
	db, err := index.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return testkit.Query(t, db, q)
}

// recorder is a Progress that keeps what it heard.
type recorder struct {
	plans []syncer.Plan
	last  map[string]syncer.DomainProgress
	ticks int
}

func (r *recorder) Plan(p syncer.Plan) {
	r.plans = append(r.plans, p)
	r.last = map[string]syncer.DomainProgress{}
}
func (r *recorder) Domain(d syncer.DomainProgress) { r.last[d.Domain] = d }
func (r *recorder) Tick()                          { r.ticks++ }

func findList(sum *syncer.Summary, domain, list string) *syncer.ListResult {
	for _, d := range sum.Domains {
		if d.Domain == domain {
			for _, l := range d.Suppressions {
				if l.List == list {
					return l
				}
			}
		}
	}
	return nil
}
