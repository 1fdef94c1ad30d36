package main

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/maildiag/maildiag/internal/pgtest"
)

// Some tests share what is slow to build (the binary, the story account) in
// directories that outlive any one test, so t.TempDir cannot hold them;
// TestMain removes them after the last test.
var sharedDirs struct {
	sync.Mutex
	paths []string
}

// sharedTempDir makes a directory that TestMain removes at the end.
func sharedTempDir(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	sharedDirs.Lock()
	sharedDirs.paths = append(sharedDirs.paths, dir)
	sharedDirs.Unlock()
	return dir, nil
}

func TestMain(m *testing.M) {
	// The PostgreSQL tests' throwaway cluster, if they started one, is
	// stopped and removed when the tests end.
	code := pgtest.Main(m)
	for _, dir := range sharedDirs.paths {
		if err := os.RemoveAll(dir); err != nil && code == 0 {
			fmt.Fprintf(os.Stderr, "remove shared test directory: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
