package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
)

// TestImportKilledIsInterrupted: a killed import stayed "running" in status
// for ever. Killed with -9 while it reads a pipe, it is reported
// interrupted, with a message.
func TestImportKilledIsInterrupted(t *testing.T) {
	bin := buildMaildiag(t)
	db := filepath.Join(t.TempDir(), "index.db")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	cmd := exec.Command(bin, "--db", db, "import", "-")
	cmd.Stdin = pr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	defer cmd.Process.Kill()
	// A first record, then nothing: the import waits for more.
	if _, err := pw.Write([]byte(`{"event":"delivered","id":"a","timestamp":1795176000,"recipient":"x@example.com"}` + "\n")); err != nil {
		t.Fatal(err)
	}
	running := func() bool {
		ro, err := index.OpenReadOnly(context.Background(), db)
		if err != nil {
			return false
		}
		defer ro.Close()
		imps, err := ro.Imports(context.Background(), 1)
		return err == nil && len(imps) == 1 && imps[0].Status == maildiag.ImportRunning
	}
	deadline := time.Now().Add(30 * time.Second)
	for !running() {
		if time.Now().After(deadline) {
			t.Fatal("the import never showed as running")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	code, out, errs := run(t, "", "--db", db, "--output", "json", "status")
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errs)
	}
	var st struct {
		Imports []maildiag.Import `json:"imports"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Imports) != 1 || st.Imports[0].Status != maildiag.ImportInterrupted || st.Imports[0].Error == "" {
		t.Fatalf("imports %+v: want one, interrupted, with a message", st.Imports)
	}
}
