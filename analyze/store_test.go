package analyze_test

import (
	"context"
	"testing"
	"time"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/synth"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// account is the generated account the analyses are tested on: its planted
// stories are known, so the tests can say what the answers must be.
var account = synth.Config{Seed: 11, Events: 40_000, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}

// store opens the account's index read-only, as the commands do.
func store(t *testing.T) (*index.DB, *testkit.Account) {
	t.Helper()
	a := testkit.Index(t, account)
	db, err := index.OpenReadOnly(context.Background(), a.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, a
}

// The index is an analyze.Store.
var _ analyze.Store = (*index.DB)(nil)
