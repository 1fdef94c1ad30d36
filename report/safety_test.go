package report

import (
	"encoding/json"
	"fmt"
	"html"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/maildiag/maildiag/analyze"
)

// payloads are attacker-controlled strings, as a subject, an address or a
// server reply can be. Each one that ran would set window.__pwned or call
// alert; the browser test watches both.
var payloads = []string{
	`<script>window.__pwned=1;alert(1)</script>`,
	`"><img src=x onerror="window.__pwned=2;alert(2)">`,
	`</script><script>window.__pwned=3;alert(3)</script>`,
	`{{.}}{{template "page" .}}`,
	`__f__function(){window.__pwned=4;alert(4)}__f__`,
	`'-alert(5)-'"; window.__pwned=5; "`,
	`<svg onload="window.__pwned=6;alert(6)">`,
	`<!--<script>window.__pwned=7</script>-->`,
	`{a|rich}{b}{c}\u2028</SCRIPT>`,
	`"><img src=x onerror="window.__pwned=8">@acme.com`,
}

// fillStrings sets every string in v, in every field and slice element, to
// the next payload, and gives empty string slices one element, so that no
// field of the result escapes the test. It returns how many strings it set.
func fillStrings(v reflect.Value, next func() string) int {
	n := 0
	switch v.Kind() {
	case reflect.String:
		v.SetString(next())
		return 1
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				n += fillStrings(v.Field(i), next)
			}
		}
	case reflect.Slice:
		if v.Len() == 0 && v.Type().Elem().Kind() == reflect.String {
			v.Set(reflect.Append(v, reflect.ValueOf("").Convert(v.Type().Elem())))
		}
		for i := range v.Len() {
			n += fillStrings(v.Index(i), next)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			n += fillStrings(v.Elem(), next)
		}
	}
	return n
}

// payloadData is the sample with every string replaced by a payload.
func payloadData() *analyze.HealthResult {
	d := sampleData()
	i := 0
	fillStrings(reflect.ValueOf(d).Elem(), func() string {
		p := payloads[i%len(payloads)]
		i++
		return p
	})
	return d
}

func TestPayloadsEscaped(t *testing.T) {
	out := renderString(t, payloadData(), Options{})

	// Only the page's own four scripts (chart data, ECharts, charts, tables), and no element from a payload.
	if got := strings.Count(strings.ToLower(out), "<script"); got != 4 {
		t.Errorf("got %d <script tags, want 4", got)
	}
	for _, bad := range []string{"<img", "<svg", "<!--", "</script><script>window"} {
		if strings.Contains(strings.ToLower(out), strings.ToLower(bad)) {
			t.Errorf("page holds %q unescaped", bad)
		}
	}
	for _, p := range payloads {
		if strings.ContainsAny(p, `<>"`) && strings.Contains(out, p) {
			t.Errorf("payload %q is in the page unescaped", p)
		}
	}

	// The text is still there for the reader, escaped.
	text := html.UnescapeString(out)
	for _, p := range payloads {
		if !strings.Contains(text, p) && !strings.Contains(text, clip(p, replyChars)) {
			t.Errorf("payload %q does not show as text", p)
		}
	}
	if !strings.Contains(out, `{{.}}{{template &#34;page&#34; .}}`) {
		t.Error("template-like payload not shown literally")
	}

	// The chart data is inert JSON: no "<" at all, the payloads intact as
	// strings, and the "__f__" marker not turned into code.
	m := regexp.MustCompile(`(?s)<script type="application/json" id="maildiag-charts">(.*?)</script>`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no chart data block")
	}
	if strings.ContainsAny(m[1], "<>") {
		t.Error("chart data holds < or >")
	}
	var specs []json.RawMessage
	if err := json.Unmarshal([]byte(m[1]), &specs); err != nil {
		t.Fatalf("chart data is not JSON: %v", err)
	}
	var decoded []any
	json.Unmarshal([]byte(m[1]), &decoded)
	all := fmt.Sprint(decoded)
	for _, p := range []string{payloads[0], payloads[2], payloads[4]} {
		if !strings.Contains(all, p) {
			t.Errorf("chart data lost payload %q", p)
		}
	}
	if strings.Contains(m[1], `"__f__function`) && !strings.Contains(m[1], `"__f__function(){window.__pwned=4;alert(4)}__f__"`) {
		t.Error("__f__ payload was altered")
	}
}

func TestFillStringsCoversData(t *testing.T) {
	// Guard for the test above: every string field of every section type
	// is reached, so a new field cannot slip past it.
	n := fillStrings(reflect.ValueOf(sampleData()).Elem(), func() string { return "x" })
	if n < 500 {
		t.Errorf("filled only %d strings", n)
	}
	d := payloadData()
	if d.Filters.To == "" || len(d.Filters.SendingDomains) == 0 || d.Blocks[0].SendingDomains[0] == "" || d.Stuck.Messages[0].Subject == "" {
		t.Error("some string fields were not filled")
	}
}

// TestOffline checks the page refers to nothing outside itself. The browser
// test proves it by recording requests; this runs without a browser.
func TestOffline(t *testing.T) {
	for name, d := range map[string]*analyze.HealthResult{"sample": sampleData(), "empty": emptyData()} {
		out := renderString(t, d, Options{})
		for _, re := range []string{
			`(?i)\ssrc\s*=`,
			`(?i)url\(`,
			`(?i)@import`,
			`(?i)https?://[^"\s]*\.(?:js|css|woff2?|ttf|png|svg|ico)`,
		} {
			if loc := regexp.MustCompile(re).FindStringIndex(out); loc != nil {
				t.Errorf("%s: page refers outside itself: %q", name, out[loc[0]:min(loc[1]+40, len(out))])
			}
		}
		links := regexp.MustCompile(`(?i)<link[^>]*>`).FindAllString(out, -1)
		if len(links) != 1 || links[0] != `<link rel="icon" href="data:,">` {
			t.Errorf("%s: links %q, want only the empty icon (without it the browser asks for /favicon.ico)", name, links)
		}
	}
}
