package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag/internal/mgtest"
)

// actEnv is the stories account (mgtest.NewStories) served on loopback
// and synced into a fresh index by maildiag sync, with everything
// maildiag printed kept.
type actEnv struct {
	*mgtest.Server
	db string

	mu      sync.Mutex
	outputs []string
}

// newActEnv serves the account and syncs it, with syncArgs added to the
// sync command.
func newActEnv(t *testing.T, syncArgs ...string) *actEnv {
	t.Helper()
	e := &actEnv{Server: mgtest.NewStories(t), db: filepath.Join(t.TempDir(), "index.db")}
	if code, _, errs := e.maildiag(t, append(append([]string{"sync"}, e.api()...), syncArgs...)...); code != 0 {
		t.Fatalf("sync: exit %d: %s", code, errs)
	}
	e.Forget()
	return e
}

// api are the flags that point a command at the env's server.
func (e *actEnv) api() []string {
	return []string{"--api-base", e.URL, "--api-key", mgtest.Key, "--retry-delay", "5ms"}
}

// maildiag runs a command on the env's index with the clock at the
// account's end.
func (e *actEnv) maildiag(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	all := append([]string{"--db", e.db, "--now", e.Res.End.Format(time.RFC3339)}, args...)
	code, out, errs := run(t, "", all...)
	e.mu.Lock()
	e.outputs = append(e.outputs, out, errs)
	e.mu.Unlock()
	return code, out, errs
}

// jsonRun runs a command with --output json, checks its exit code and
// decodes its output into v.
func (e *actEnv) jsonRun(t *testing.T, v any, wantCode int, args ...string) string {
	t.Helper()
	code, out, errs := e.maildiag(t, append([]string{"--output", "json"}, args...)...)
	if code != wantCode {
		t.Fatalf("maildiag %s: exit %d, want %d: %s", strings.Join(args, " "), code, wantCode, errs)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("maildiag %s: bad JSON: %v: %.300s", strings.Join(args, " "), err, out)
		}
	}
	return errs
}

// checkNoKey fails when the API key appears in anything maildiag printed
// or wrote: outputs, the index file and its WAL, the backups.
func (e *actEnv) checkNoKey(t *testing.T) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	mgtest.CheckNoKey(t, filepath.Dir(e.db), e.outputs...)
}

// removeArgs is a removal that takes the planted user-unknown bounce too:
// the tests using it are about how entries are removed.
func removeArgs(e *actEnv, args ...string) []string {
	return append(append([]string{"suppressions", "remove", "--include-unknown-users"}, args...), e.api()...)
}
