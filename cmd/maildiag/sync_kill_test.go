package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/syncer"
)

// buildMaildiag builds this command into a temporary directory.
func buildMaildiag(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "maildiag")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return bin
}

// committedEvents counts the events an index holds, 0 while it does not
// exist yet or is locked.
func committedEvents(path string) int64 {
	db, err := index.OpenReadOnly(context.Background(), path)
	if err != nil {
		return 0
	}
	defer db.Close()
	rows, err := db.Query(context.Background(), "SELECT COUNT(*) FROM events")
	if err != nil {
		return 0
	}
	defer rows.Close()
	r, err := rows.Next()
	if err != nil || r == nil {
		return 0
	}
	n, _ := r[0].(int64)
	return n
}

func TestSyncSurvivesKill9(t *testing.T) {
	bin := buildMaildiag(t)
	// Slow answers, so that the sync is killed with work committed and
	// work left.
	e := mgtest.New(t, mgtest.Config(30000, mgtest.Domains...), mgserver.Options{Faults: mgserver.Faults{Latency: 40 * time.Millisecond}})
	want := testkit.EventKeys(t, e.Acct, nil)
	db := filepath.Join(t.TempDir(), "index.db")
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "--db", db, "--now", e.Res.End.Format(time.RFC3339), "sync", "--api-base", e.URL,
		"--since", "8d", "--workers", "2", "--retry-delay", "5ms")
	cmd.Env = append(cmd.Environ(), "MG_API_KEY="+mgtest.Key)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	var before int64
wait:
	for {
		select {
		case err := <-exited:
			t.Fatalf("sync finished (%v) before it could be killed: %s", err, stderr.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("nothing committed in 30 s")
		case <-time.After(20 * time.Millisecond):
			if before = committedEvents(db); before > 0 {
				break wait
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("sync ended with %v, want killed", err)
	}
	if strings.Contains(stderr.String(), mgtest.Key) {
		t.Fatal("the key is in the killed sync's stderr")
	}
	kept := committedEvents(db)
	if kept < before || kept >= int64(len(want)) {
		t.Fatalf("after the kill the index holds %d events (%d seen before it), want some of %d", kept, before, len(want))
	}
	t.Logf("killed with %d of %d events committed", kept, len(want))
	got, _ := testkit.IndexKeys(t, db)
	for k := range got {
		if want[k] == 0 {
			t.Fatalf("the killed sync stored an event the server does not have: %v", k)
		}
	}

	// Run again, with the same binary: exactly the server's events.
	out, err := exec.Command(bin, "--db", db, "--now", e.Res.End.Format(time.RFC3339), "--output", "json", "sync",
		"--api-base", e.URL, "--api-key", mgtest.Key, "--since", "8d", "--retry-delay", "5ms").Output()
	if err != nil {
		t.Fatalf("sync after the kill: %v", err)
	}
	testkit.SameEvents(t, "after kill -9 and a second sync", db, want)
	var sum syncer.Summary
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatal(err)
	}
	var newEvents int
	for _, d := range sum.Domains {
		newEvents += d.EventsNew
	}
	if int64(newEvents)+kept != int64(len(want)) {
		t.Errorf("second sync stored %d new events on top of %d: want %d in all", newEvents, kept, len(want))
	}
}
