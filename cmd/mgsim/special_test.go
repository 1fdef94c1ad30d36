//go:build unix

package main

import (
	"bufio"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestOutputToSpecialFile writes to a named pipe: the output must go
// through it, and the pipe must still be a pipe afterwards (a temporary
// file renamed over it would replace it, as it once replaced /dev/null).
func TestOutputToSpecialFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "events.pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	lines := make(chan int)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			lines <- -1
			return
		}
		defer f.Close()
		n := 0
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			n++
		}
		lines <- n
	}()
	code, _, errs := mgsim(t, "generate", "--events", "1000", "--end", fixedEnd, "-o", fifo)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	select {
	case n := <-lines:
		if n != 1000 {
			t.Errorf("read %d lines from the pipe, want 1000", n)
		}
	case <-time.After(10 * time.Second):
		t.Error("nothing was written to the pipe")
	}
	fi, err := os.Lstat(fifo)
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("%s is no longer a named pipe: %v %v", fifo, fi.Mode(), err)
	}
}
