package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/syncer"
)

// syncCmd runs maildiag sync in-process against s with the clock at now.
func syncCmd(t *testing.T, s *mgtest.Server, db string, now time.Time, args ...string) (int, *syncer.Summary, string) {
	t.Helper()
	all := append([]string{"--db", db, "--now", now.UTC().Format(time.RFC3339Nano), "--output", "json",
		"sync", "--api-base", s.URL, "--api-key", mgtest.Key, "--retry-delay", "5ms"}, args...)
	code, out, errs := run(t, "", all...)
	var sum *syncer.Summary
	if out != "" {
		sum = &syncer.Summary{}
		if err := json.Unmarshal([]byte(out), sum); err != nil {
			t.Fatalf("sync output is not a summary: %v: %s", err, out)
		}
	}
	return code, sum, errs
}
