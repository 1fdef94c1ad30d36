package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/internal/testkit"
)

// The report's JSON on a small generated account, as a golden file: every
// number the report shows, decided by the analyses, as the command prints
// it (go test ./cmd/maildiag -run TestReportDataGolden -update rewrites it).
func TestReportDataGolden(t *testing.T) {
	a := storyIndex(t)
	var d any
	runJSON(t, a.end, a.db, &d, 0, "report", "--since", a.end.Add(-7*24*time.Hour).Format(time.RFC3339))
	testkit.GoldenJSON(t, filepath.Join("testdata", "golden", "report-data.json"), d)
}

// TestReportRedactJSON: with --redact the JSON is redacted like the page:
// no address of the plain report keeps its local part, domains stay.
func TestReportRedactJSON(t *testing.T) {
	a := storyIndex(t)
	since := a.end.Add(-7 * 24 * time.Hour).Format(time.RFC3339)
	var plain, redacted map[string]any
	runJSON(t, a.end, a.db, &plain, 0, "report", "--since", since)
	runJSON(t, a.end, a.db, &redacted, 0, "report", "--since", since, "--redact")
	pb, _ := json.Marshal(plain)
	rb, _ := json.Marshal(redacted)
	locals := map[string]bool{}
	for _, m := range regexp.MustCompile(`([A-Za-z0-9._%+'-]+)@[a-z0-9.-]+\.[a-z]{2,}`).FindAllStringSubmatch(string(pb), -1) {
		locals[m[1]] = true
	}
	if len(locals) < 20 {
		t.Fatalf("the plain report holds only %d local parts", len(locals))
	}
	for l := range locals {
		if strings.Contains(string(rb), l+"@") {
			t.Errorf("redacted JSON keeps %s@", l)
		}
	}
	if redacted["redacted"] != true || plain["redacted"] != false || !strings.Contains(string(rb), "@acme.com") {
		t.Errorf("redacted flag %v (plain %v), or domains lost", redacted["redacted"], plain["redacted"])
	}
}
