package report

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestEChartsWrongVersion(t *testing.T) {
	_, err := checkECharts([]byte("/* echarts 4 */"))
	if err == nil || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("got %v, want a hash mismatch that says to run make build", err)
	}
}

// TestEChartsPins keeps the fetch script and the package on one version.
func TestEChartsPins(t *testing.T) {
	b, err := os.ReadFile("../scripts/fetch-echarts.sh")
	if err != nil {
		t.Fatal(err)
	}
	pin := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `=(\S+)$`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("fetch-echarts.sh has no %s", name)
		}
		return string(m[1])
	}
	if got := pin("ECHARTS_VERSION"); got != EChartsVersion {
		t.Errorf("script pins ECharts %s, package %s", got, EChartsVersion)
	}
	if got := pin("ECHARTS_MIN_SHA256"); got != echartsSHA256 {
		t.Errorf("script pins sha256 %s, package %s", got, echartsSHA256)
	}
	if !strings.HasPrefix(pin("ECHARTS_INTEGRITY"), "sha512-") {
		t.Error("script pins no sha512 integrity")
	}
}

// TestEChartsInlinable checks the fetched script can sit inside a <script>
// element: a "</script" in it would end the element early.
func TestEChartsInlinable(t *testing.T) {
	js := requireECharts(t)
	if strings.Contains(strings.ToLower(string(js)), "</script") {
		t.Fatal("ECharts contains </script")
	}
	if !strings.Contains(string(js), "echarts") {
		t.Fatal("asset does not look like ECharts")
	}
}
