package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\ngot:  %.300s\nwant: %.300s\n(run go test ./report -update if the change is intended)", path, i+1, g, w)
			}
		}
	}
}

// TestGolden pins the whole page (with a placeholder for the ECharts
// script) for the sample week and for an empty one.
func TestGolden(t *testing.T) {
	golden(t, "sample.html", []byte(renderString(t, sampleData(), Options{})))
	golden(t, "empty.html", []byte(renderString(t, emptyData(), Options{})))
}
