package main

import (
	"path/filepath"
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
