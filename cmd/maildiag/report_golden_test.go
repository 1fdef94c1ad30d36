package main

import (
	"encoding/json"
	"os"
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

// TestReportNoEvents: a period before the index, or a --to that matches no
// recipient, writes a page that says so and what the index covers, and
// exits 1; the JSON says no_events.
func TestReportNoEvents(t *testing.T) {
	a := storyIndex(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"before the index", []string{"--since", "2020-01-01", "--until", "2020-01-08"}, "No events in this period (the index covers "},
		{"mistyped domain", []string{"--since", "7d", "--to", "*@acme.co"}, "No events to *@acme.co in this period (the index covers "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d struct {
				NoEvents    bool            `json:"no_events"`
				Note        string          `json:"note"`
				IndexCovers *map[string]any `json:"index_covers"`
			}
			page := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".html")
			runJSON(t, a.end, a.db, &d, 1, append([]string{"report", "-o", page}, tc.args...)...)
			if !d.NoEvents || !strings.HasPrefix(d.Note, tc.want) || d.IndexCovers == nil {
				t.Errorf("no_events %v, note %q, covers %v: want %q", d.NoEvents, d.Note, d.IndexCovers, tc.want)
			}
			b, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			if html := string(b); !strings.Contains(html, "the index covers") || strings.Contains(html, "nothing needs action") {
				t.Errorf("the page does not say there are no events, or says nothing needs action")
			}
		})
	}
}

// TestReportThresholdFlags: the alert thresholds are flags; a share out of
// range is a usage error.
func TestReportThresholdFlags(t *testing.T) {
	a := storyIndex(t)
	since := a.end.Add(-7 * 24 * time.Hour).Format(time.RFC3339)
	kinds := func(args ...string) map[string]bool {
		var d struct {
			Alerts []struct {
				Kind string `json:"kind"`
			} `json:"alerts"`
			Thresholds map[string]float64 `json:"thresholds"`
		}
		runJSON(t, a.end, a.db, &d, 0, append([]string{"report", "--since", since}, args...)...)
		m := map[string]bool{}
		for _, x := range d.Alerts {
			m[x.Kind] = true
		}
		return m
	}
	// The story account's week bounces about 5% of its messages (the acme.com
	// block among them): a lenient limit stays quiet, a strict one fires.
	if k := kinds("--bounce-rate", "0.5"); k["complaint-rate"] || k["bounce-rate"] {
		t.Errorf("default complaint and lenient bounce thresholds raised %v", k)
	}
	if k := kinds("--complaint-rate", "0.0004", "--complaint-target", "0.0002", "--bounce-rate", "0.01"); !k["complaint-rate"] || !k["bounce-rate"] {
		t.Errorf("strict thresholds raised %v, want complaint-rate and bounce-rate", k)
	}
	_, stderr := runBinary(t, 2, "--db", a.db, "report", "--since", since, "--output", "json", "--complaint-rate", "0.3%")
	if !strings.Contains(stderr, "--complaint-rate") {
		t.Errorf("bad --complaint-rate: %q", stderr)
	}
	_, stderr = runBinary(t, 2, "--db", a.db, "report", "--since", since, "--output", "json", "--bounce-rate", "5")
	if !strings.Contains(stderr, "--bounce-rate: 5 is not a share between 0 and 1") {
		t.Errorf("bad --bounce-rate: %q", stderr)
	}
}

// TestReportMaxRows: the addresses a report leaves out are counted, and
// --max-rows lists them all.
func TestReportMaxRows(t *testing.T) {
	a := storyIndex(t)
	since := a.end.Add(-7 * 24 * time.Hour).Format(time.RFC3339)
	type res struct {
		Suppressed []json.RawMessage `json:"suppressed"`
		NotShown   int               `json:"suppressed_not_shown"`
	}
	var few, all res
	runJSON(t, a.end, a.db, &few, 0, "report", "--since", since, "--max-rows", "5")
	runJSON(t, a.end, a.db, &all, 0, "report", "--since", since, "--max-rows", "100000")
	if len(few.Suppressed) != 5 || all.NotShown != 0 || len(all.Suppressed) != 5+few.NotShown || few.NotShown == 0 {
		t.Errorf("--max-rows 5: %d listed, %d not shown; --max-rows 100000: %d listed, %d not shown", len(few.Suppressed), few.NotShown, len(all.Suppressed), all.NotShown)
	}
}
