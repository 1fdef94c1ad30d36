package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"sync"
)

// echartsScript is the ECharts build inlined into every report. It is not in
// git: `make build` (through `make assets`, scripts/fetch-echarts.sh)
// fetches it from the npm registry, pinned and verified, into the directory
// named for that. Without it the package does not compile:
//
//	report/assets.go:NN:12: pattern assets/fetched-by-make-build/echarts.min.js: no matching files found
//
//go:embed assets/fetched-by-make-build/echarts.min.js
var echartsScript []byte

const (
	// EChartsVersion is the ECharts release inlined into every report. It
	// must match ECHARTS_VERSION in scripts/fetch-echarts.sh.
	EChartsVersion = "5.6.0"
	// echartsSHA256 is the sha256 of that release's dist/echarts.min.js; it
	// must match ECHARTS_MIN_SHA256 in scripts/fetch-echarts.sh.
	echartsSHA256 = "bf4a223524e40b77c304bec67e1222cf551f14880cf42c69dc046558e11c07b1"
)

var echartsOnce = sync.OnceValues(func() ([]byte, error) { return checkECharts(echartsScript) })

// checkECharts checks the embedded script: a stale file from another
// version (the pins changed, and the package was built without `make`)
// would render charts with options it does not know.
func checkECharts(b []byte) ([]byte, error) {
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != echartsSHA256 {
		return nil, fmt.Errorf("ECharts asset is not ECharts %s (sha256 %s, want %s): run `make build`", EChartsVersion, got, echartsSHA256)
	}
	return b, nil
}
