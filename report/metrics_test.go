package report

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/maildiag/maildiag/analyze"
)

// The days before the index's first event that Mailgun's metrics count
// get their own paler series in the volume chart, on their own days, and
// their own marked rows and a note in the section.
func TestRenderMetricsHistory(t *testing.T) {
	d := sampleData()
	// The sample's first two days, as if the index began on the third.
	for i := range 2 {
		d.Volume[i].Totals = analyze.Totals{}
	}
	d.MetricsHistory = []analyze.VolumeBucket{
		{Start: d.Volume[0].Start, Totals: analyze.Totals{Accepted: 1000, Delivered: 950, FailedPermanent: 20}},
		{Start: d.Volume[1].Start, Totals: analyze.Totals{Accepted: 2000, Delivered: 1800}},
	}
	out := renderString(t, d, Options{})
	m := regexp.MustCompile(`(?s)<script type="application/json" id="maildiag-charts">(.*?)</script>`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no chart data block")
	}
	var specs []struct {
		ID     string `json:"id"`
		Option struct {
			Series []struct {
				Name string `json:"name"`
				Type string `json:"type"`
				Data []struct {
					Value any `json:"value"`
				} `json:"data"`
			} `json:"series"`
		} `json:"option"`
		Units []string `json:"units"`
	}
	if err := json.Unmarshal([]byte(m[1]), &specs); err != nil {
		t.Fatal(err)
	}
	vol := specs[0]
	if vol.ID != chartVolume || len(vol.Units) != len(vol.Option.Series) {
		t.Fatalf("volume chart %s: %d units for %d series", vol.ID, len(vol.Units), len(vol.Option.Series))
	}
	series := map[string][]any{}
	for _, s := range vol.Option.Series {
		var vs []any
		for _, p := range s.Data {
			vs = append(vs, p.Value)
		}
		series[s.Name] = vs
	}
	acc, rate := series["Accepted (Mailgun metrics)"], series["Delivery rate (Mailgun metrics)"]
	if len(acc) != len(d.Volume) || acc[0] != 1000.0 || acc[1] != 2000.0 || acc[2] != 0.0 {
		t.Errorf("metrics accepted %v, want 1000 and 2000 on the first two days, 0 after", acc)
	}
	if len(rate) != len(d.Volume) || rate[0] != 95.0 || rate[1] != 90.0 || rate[2] != "-" {
		t.Errorf("metrics rate %v, want 95 and 90, then no value", rate)
	}
	vs := section(t, out, "volume")
	if !strings.Contains(vs, `class="metrics-note">The 2 days before the index&#39;s first event`) || strings.Count(vs, " (Mailgun metrics)</td>") != 2 {
		t.Errorf("the volume section lacks the note or the two marked rows")
	}
	// Without history the chart keeps its five series.
	if plain := renderString(t, sampleData(), Options{}); strings.Contains(plain, "Mailgun metrics") {
		t.Error("a report without metrics mentions them")
	}
}
