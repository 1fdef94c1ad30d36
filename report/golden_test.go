package report

import (
	"path/filepath"
	"testing"

	"github.com/maildiag/maildiag/internal/testkit"
)

// TestGolden pins the whole page (with a placeholder for the ECharts
// script) for the sample week and for an empty one; -update rewrites them.
func TestGolden(t *testing.T) {
	testkit.Golden(t, filepath.Join("testdata", "golden", "sample.html"), []byte(renderString(t, sampleData(), Options{})))
	testkit.Golden(t, filepath.Join("testdata", "golden", "empty.html"), []byte(renderString(t, emptyData(), Options{})))
}
