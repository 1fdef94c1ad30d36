package maildiag_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRacePackages keeps the Makefile's RACE_PKGS, the packages whose tests
// `make test` runs under the race detector, complete: every package with
// tests that starts a goroutine, in its code or in its tests, is listed.
func TestRacePackages(t *testing.T) {
	mk, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RACE_PKGS\s*:?=(.*)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("the Makefile sets no RACE_PKGS")
	}
	listed := strings.Fields(string(m[1]))
	_, pkgs := loadGraph(t)
	for _, p := range pkgs {
		tests := slices.Concat(p.TestGoFiles, p.XTestGoFiles)
		if len(tests) == 0 {
			continue
		}
		file := startsGoroutine(t, p.Dir, slices.Concat(p.GoFiles, p.CgoFiles, tests))
		if file == "" {
			continue
		}
		name := "."
		if p.ImportPath != module {
			name = "./" + short(p.ImportPath)
		}
		if !slices.Contains(listed, name) {
			t.Errorf("%s starts goroutines (%s) but is not in the Makefile's RACE_PKGS", name, file)
		}
	}
}

// startsGoroutine returns the first of files with a go statement, or "".
func startsGoroutine(t *testing.T, dir string, files []string) string {
	t.Helper()
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		ast.Inspect(f, func(n ast.Node) bool {
			_, ok := n.(*ast.GoStmt)
			found = found || ok
			return !found
		})
		if found {
			return name
		}
	}
	return ""
}
