package report

import (
	"io"
	"testing"
)

// BenchmarkRender renders a big account's report (5,000 customer domains,
// 1,000 suppressed addresses, 60 hourly buckets) with the real ECharts
// script inlined, to io.Discard.
func BenchmarkRender(b *testing.B) {
	requireECharts(b)
	d := largeData()
	b.ReportAllocs()
	for b.Loop() {
		if err := Render(io.Discard, d, Options{MaxAddresses: 1000}); err != nil {
			b.Fatal(err)
		}
	}
}
