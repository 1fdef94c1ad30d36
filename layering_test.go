package maildiag_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The design's layering, checked on the real import graph (non-test code,
// direct and indirect imports). Patterns: "./x" is a package of this module
// ("./x/..." it and those below it, "." the root package, "./..." any of
// them); other patterns are import paths ("database/sql/..."); "non-std" is
// any package outside the standard library.

// sqlDrivers are the SQL drivers the stores use, and the usual others.
var sqlDrivers = []string{"database/sql/...", "github.com/mattn/go-sqlite3", "github.com/jackc/pgx/...", "github.com/lib/pq", "modernc.org/sqlite/..."}

// stores are the store packages: SQLite and PostgreSQL.
var stores = []string{"./index", "./index/pg"}

var layerRules = []layerRule{
	{from: "./report", forbid: concat(stores, sqlDrivers), why: "report renders results and never opens a store"},
	{from: "./analyze/...", forbid: concat(stores, sqlDrivers, []string{"./ingest"}), why: "analyze works over store interfaces in domain terms, with no I/O and no SQL of its own"},
	{from: "./ingest/...", forbid: concat(stores, sqlDrivers), why: "ingest turns outside data into records and knows nothing of SQL"},
	{from: "./...", forbid: []string{"./cmd/..."}, why: "commands are doors: no package imports them"},
	{from: ".", forbid: []string{"./...", "non-std"}, why: "the root package holds the domain types, with no I/O and no dependencies"},
	{from: "./index/readrows", forbid: concat(stores, sqlDrivers), why: "what both stores do alike with their rows holds no SQL and no store"},
	{from: "./index/copyrows", forbid: concat(stores, sqlDrivers), why: "what both stores read alike for copy opens no store"},
	{from: "./internal/mgtest", forbid: concat(stores, sqlDrivers, []string{"./ingest"}), why: "ingest's own tests serve their accounts with mgtest; comparisons with an index belong in testkit"},
}

// engines are the packages that do the work of the commands and the
// server; each declares the store interfaces it needs.
var engines = []string{"./syncer", "./importer", "./reclassify", "./remedy", "./server"}

func init() {
	for _, e := range engines {
		layerRules = append(layerRules, layerRule{from: e, forbid: concat(stores, sqlDrivers),
			why: "the engines work through the store interfaces they declare"})
	}
}

// allowedForNow are imports the design forbids that the code still has,
// each until the change that removes it. The checker leaves these edges out
// of the graph and fails when one is gone, so the entry gets deleted.
var allowedForNow = []importEdge{
	// mailgun-go v5 uses google/uuid, whose UUID implements driver.Valuer:
	// an interface package, no SQL opened. Gone when v5 drops uuid.
	{"github.com/google/uuid", "database/sql/driver"},
}

const module = "github.com/maildiag/maildiag"

// layerRule forbids packages matching from to import, directly or not,
// packages matching forbid.
type layerRule struct {
	from   string
	forbid []string
	why    string
}

// importEdge is one import of one package by another.
type importEdge struct{ from, to string }

// importGraph is what the checker needs to know of the packages: their
// imports, which are the module's own (the roots of the check) and which
// belong to the standard library.
type importGraph struct {
	imports map[string][]string
	own     []string
	std     map[string]bool
}

func TestLayering(t *testing.T) {
	g, _ := loadGraph(t)
	for _, v := range checkLayers(g, layerRules, allowedForNow) {
		t.Error(v)
	}
}

// TestLayeringChecker runs the checker on a made-up graph with a violation
// of each kind.
func TestLayeringChecker(t *testing.T) {
	m := func(p string) string { return module + p }
	g := importGraph{
		imports: map[string][]string{
			m(""):             {"fmt", "github.com/x/y"},
			m("/report"):      {m(""), m("/format")},
			m("/format"):      {m("/index")},
			m("/index"):       {"database/sql", "github.com/mattn/go-sqlite3"},
			m("/analyze"):     {m("/index"), m("/cmd/tool")},
			m("/analyze/sub"): {"database/sql/driver"},
			m("/ingest"):      {m("")},
			m("/cmd/tool"):    {m("")},
			"fmt":             {},
			"database/sql":    {"database/sql/driver"},
			"github.com/x/y":  {},
		},
		own: []string{m(""), m("/report"), m("/format"), m("/index"), m("/analyze"), m("/analyze/sub"), m("/ingest"), m("/cmd/tool")},
		std: map[string]bool{"fmt": true, "database/sql": true, "database/sql/driver": true},
	}
	allowed := []importEdge{{"./analyze", "./index"}, {"./ingest", "./index"}}
	want := []string{
		"analyze must not import cmd/tool (analyze -> cmd/tool): commands are doors: no package imports them",
		"analyze/sub must not import database/sql/driver (analyze/sub -> database/sql/driver): analyze works over store interfaces in domain terms, with no I/O and no SQL of its own",
		"report must not import index (report -> format -> index): report renders results and never opens a store",
		"root must not import github.com/x/y (root -> github.com/x/y): the root package holds the domain types, with no I/O and no dependencies",
		"allowedForNow lets ./ingest import ./index, which it no longer does: delete the entry",
	}
	if got := checkLayers(g, layerRules, allowed); !slices.Equal(got, want) {
		t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	// Without the allowance, analyze's import of the store is reported,
	// and nothing beyond it.
	got := checkLayers(g, layerRules, nil)
	v := "analyze must not import index (analyze -> index): analyze works over store interfaces in domain terms, with no I/O and no SQL of its own"
	if !slices.Contains(got, v) || slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "analyze must not import database/sql") }) {
		t.Errorf("without allowedForNow got\n\t%s", strings.Join(got, "\n\t"))
	}
}

// checkLayers returns one message per forbidden import: the first forbidden
// package on each import path (what lies beyond it is its own problem).
func checkLayers(g importGraph, rules []layerRule, allowed []importEdge) []string {
	skip := map[importEdge]bool{}
	var out []string
	for _, a := range allowed {
		e := importEdge{expand(a.from), expand(a.to)}
		skip[e] = true
		if !slices.Contains(g.imports[e.from], e.to) {
			out = append(out, fmt.Sprintf("allowedForNow lets %s import %s, which it no longer does: delete the entry", a.from, a.to))
		}
	}
	var msgs []string
	for _, p := range g.own {
		for _, r := range rules {
			if !matchPattern(r.from, p, g.std) {
				continue
			}
			// Breadth first, so each path found is a shortest one.
			via := map[string]string{p: ""}
			queue := []string{p}
			for len(queue) > 0 {
				q := queue[0]
				queue = queue[1:]
				for _, d := range g.imports[q] {
					if _, seen := via[d]; seen || skip[importEdge{q, d}] {
						continue
					}
					via[d] = q
					if slices.ContainsFunc(r.forbid, func(f string) bool { return matchPattern(f, d, g.std) }) {
						msgs = append(msgs, fmt.Sprintf("%s must not import %s (%s): %s", short(p), short(d), pathTo(via, d), r.why))
						continue
					}
					queue = append(queue, d)
				}
			}
		}
	}
	slices.Sort(msgs)
	return append(slices.Compact(msgs), out...)
}

// pathTo spells the import path that reached p.
func pathTo(via map[string]string, p string) string {
	var steps []string
	for ; p != ""; p = via[p] {
		steps = append(steps, short(p))
	}
	slices.Reverse(steps)
	return strings.Join(steps, " -> ")
}

// short names a package of the module relative to it ("root" for the
// root package).
func short(p string) string {
	if p == module {
		return "root"
	}
	if rest, ok := strings.CutPrefix(p, module+"/"); ok {
		return rest
	}
	return p
}

// expand turns a module-relative pattern into an import path pattern.
func expand(pattern string) string {
	if pattern == "." {
		return module
	}
	if rest, ok := strings.CutPrefix(pattern, "./"); ok {
		return module + "/" + rest
	}
	return pattern
}

func matchPattern(pattern, path string, std map[string]bool) bool {
	if pattern == "non-std" {
		return !std[path]
	}
	pattern = expand(pattern)
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

func concat(lists ...[]string) []string { return slices.Concat(lists...) }

// listedPackage is the part of `go list -json` the shape tests read.
type listedPackage struct {
	ImportPath   string
	Dir          string
	Standard     bool
	DepOnly      bool
	Imports      []string
	GoFiles      []string
	CgoFiles     []string
	TestGoFiles  []string
	XTestGoFiles []string
}

// loadGraph lists the module's packages and everything they import.
func loadGraph(t *testing.T) (importGraph, []listedPackage) {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,Standard,DepOnly,Imports,GoFiles,CgoFiles,TestGoFiles,XTestGoFiles", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	g := importGraph{imports: map[string][]string{}, std: map[string]bool{"C": true}}
	var own []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("read go list output: %v", err)
		}
		g.imports[p.ImportPath] = p.Imports
		g.std[p.ImportPath] = p.Standard
		if !p.DepOnly {
			g.own = append(g.own, p.ImportPath)
			own = append(own, p)
		}
	}
	if len(g.own) == 0 {
		t.Fatal("go list found no packages")
	}
	return g, own
}
