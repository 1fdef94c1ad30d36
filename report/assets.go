package report

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sync"
)

// The ECharts build is fetched from the npm registry by
// scripts/fetch-echarts.sh (make assets) into assets/, which is git-ignored
// but for its README, so the package builds before the fetch.
//
//go:embed assets
var assetFS embed.FS

const (
	// EChartsVersion is the ECharts release inlined into every report. It
	// must match ECHARTS_VERSION in scripts/fetch-echarts.sh.
	EChartsVersion = "5.6.0"
	// echartsSHA256 is the sha256 of that release's dist/echarts.min.js; it
	// must match ECHARTS_MIN_SHA256 in scripts/fetch-echarts.sh.
	echartsSHA256 = "bf4a223524e40b77c304bec67e1222cf551f14880cf42c69dc046558e11c07b1"
	echartsPath   = "assets/echarts.min.js"
)

// ErrAssetMissing is returned by Render when the ECharts script has not
// been fetched into the package before it was built.
var ErrAssetMissing = errors.New("ECharts asset missing: run `make assets`")

var echartsOnce = sync.OnceValues(func() ([]byte, error) { return echartsFrom(assetFS) })

// echartsFrom reads and checks the ECharts script: a stale file from another
// version would render charts with options it does not know.
func echartsFrom(fsys fs.FS) ([]byte, error) {
	b, err := fs.ReadFile(fsys, echartsPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrAssetMissing
	}
	if err != nil {
		return nil, fmt.Errorf("read ECharts asset: %w", err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != echartsSHA256 {
		return nil, fmt.Errorf("ECharts asset is not ECharts %s (sha256 %s, want %s): run `make assets`", EChartsVersion, got, echartsSHA256)
	}
	return b, nil
}
