package analyze_test

import (
	"testing"
	"time"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/synth"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// storyAccount is the generated account the analyses are tested on (the
// same as the commands' story tests): its planted stories are known, so
// the tests can say what the answers must be.
var storyAccount = synth.Config{Seed: 11, Events: 40_000, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}

// store opens the story account's index read-only, as the commands do.
func store(t *testing.T) (*index.DB, *synth.Stories) {
	t.Helper()
	db, res := testkit.StoryIndex(t, storyAccount)
	return db, res.Stories
}

// The index is an analyze.Store.
var _ analyze.Store = (*index.DB)(nil)
