package report

import (
	"bytes"
	"encoding/json"
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/analyze"
)

// placeholderJS stands in for ECharts where a test reads the page, not runs
// it, so that the golden files stay small.
const placeholderJS = "/* echarts placeholder */"

func renderString(t testing.TB, d *analyze.HealthResult, o Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := render(&b, d, o, []byte(placeholderJS)); err != nil {
		t.Fatalf("render: %v", err)
	}
	return b.String()
}

// requireECharts returns the embedded ECharts script, checked.
func requireECharts(t testing.TB) []byte {
	t.Helper()
	js, err := echartsOnce()
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func TestRenderSample(t *testing.T) {
	out := html.UnescapeString(renderString(t, sampleData(), Options{}))
	for _, want := range []string{
		// header
		"<title>Delivery health: 1–7 December 2025</title>",
		"2025-12-01 00:00 UTC to 2025-12-08 00:00 UTC (7 days)",
		"2025-11-24 00:00 UTC to 2025-12-01 00:00 UTC (7 days)",
		"<dt>Generated</dt><dd>2025-12-08 06:00 UTC</dd>",
		"<dt>Sending domains</dt><dd>all</dd>",
		`data-redacted="false">off: addresses are shown in full`,
		// the planted domain-wide block, as one sentence
		`data-kind="domain-block" data-domain="acme.com"`,
		"acme.com: 42 addresses bounced with 550 5.7.1 from one Mimecast gateway within 2 hours: a domain-wide block at the recipient, not bad addresses. Ask their admin to allowlist our sending IPs, then remove the suppressions.",
		// other alerts, most severe first after the block
		"Microsoft 365 blocks our IP 203.0.113.7 (S3150)",
		// rate cards: value, counts, meaning, change; count cards beside
		`<div class="card watch" data-rate="Delivery rate">` + "\n" + `<div class="label">Delivery rate</div>` + "\n" + `<div class="value">96.3%</div>` + "\n" + `<div class="detail">41,275 of 42,880</div>`,
		`<span class="delta">-1.92 pp</span>`,
		`<div class="prev">previous 98.2%</div>`,
		`<div class="card good" data-rate="Complaint rate">` + "\n" + `<div class="label">Complaint rate</div>` + "\n" + `<div class="value">0.01%</div>` + "\n" + `<div class="detail">6 of 41,275</div>`,
		`<div class="card neutral">` + "\n" + `<div class="label">Delivered</div>` + "\n" + `<div class="value">41,275</div>`,
		`<span class="delta">+1,895 (+4.8%)</span>`,
		// classes table with computed share and default advice
		"<tr><td><code>rate-limited</code></td><td class=\"num\">1,139</td><td class=\"num\">54.6%</td><td>soft</td>",
		"The recipient's provider is throttling our mail",
		// domains: computed rate and default verdict text
		"<td class=\"num\">95.5%</td>",
		"Scattered bad addresses: the domain accepts our mail; clean the list.",
		// splits by sending domain and IP
		`<tr><td class="addr">mg.brightcart.io</td><td class="num">18,400</td><td class="num">17,320</td><td class="num">94.1%</td><td class="num">410</td><td><code>user-unknown</code> (180)</td><td class="num">1,310</td><td><code>rate-limited</code> (1,139)</td></tr>`,
		`<tr><td class="addr">203.0.113.7</td><td class="num">12,400</td><td class="num">12,020</td><td class="num">96.9%</td><td class="num">380</td><td><code>blocklisted</code> (61)</td>`,
		`<tr><td class="addr">password-reset</td><td class="num">2,100</td><td class="num">2,061</td><td class="num">98.1%</td><td class="num">39</td>`,
		// typos and lookalikes
		"<td class=\"addr\">gmial.com</td><td class=\"addr\">gmail.com</td>",
		"<td class=\"addr\">john_smith@initech.com</td>",
		"<td class=\"addr\">john.smith@initech.com</td>",
		// a long multi-line reply is folded, full text kept
		`<details class="reply"><summary><code>421-4.7.28 [203.0.113.7      15] Gmail has detected an unusual rate of unsolicited …</code></summary><pre>421-4.7.28`,
		// delays and stuck
		"<td class=\"num\">4.1 h</td>",
		"<strong>7</strong> messages were accepted and have no final event after 8 hours.",
		"Showing 5 of 7; 2 more not listed.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, id := range []string{chartVolume, chartClasses, chartDomains, chartProviders, chartSuppressions, chartDelays} {
		if !strings.Contains(out, `<div class="chart" id="`+id+`"`) {
			t.Errorf("no container for %s", id)
		}
	}
	// Table of contents: every entry has its section.
	for _, m := range regexp.MustCompile(`<li><a href="#([a-z]+)">`).FindAllStringSubmatch(out, -1) {
		if !strings.Contains(out, `<section id="`+m[1]+`">`) {
			t.Errorf("contents link #%s has no section", m[1])
		}
	}
	// Every chart has a text summary right after it.
	if got := strings.Count(out, `<p class="summary">`); got != 6 {
		t.Errorf("got %d chart summaries, want 6", got)
	}
}

func TestRenderSummaries(t *testing.T) {
	out := html.UnescapeString(renderString(t, sampleData(), Options{}))
	for _, want := range []string{
		"Over 7 days, 42,880 messages were accepted and 41,275 delivered (96.3%). 932 failed permanently and 2,005 deliveries were deferred. Lowest delivery rate: 92.7% on Wed 3 Dec. Busiest day: Wed 3 Dec with 8,310 accepted.",
		"2,085 failures in 8 classes. Most common: rate-limited 1,139 (54.6%), user-unknown 287 (13.8%), suppressed-bounce 214 (10.3%). Most failures on Wed 3 Dec (791).",
		"12 customer domains had failures. Worst: acme.com, 42 of 44 messages failed (95.5%), mostly policy-block behind Mimecast: a domain-wide block.",
		"8 providers and gateways. Lowest delivery rate: Other 90.8% (main failure: user-unknown). Highest: Apple iCloud 99.5%.",
		"162 addresses were suppressed: 118 bounces, 6 complaints, 38 unsubscribes.",
		"Slowest p90: Microsoft 365 12 min (p99 5.8 h). Fastest median: Apple iCloud 3 s.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks summary %q", want)
		}
	}
}

func TestRenderEmpty(t *testing.T) {
	out := html.UnescapeString(renderString(t, emptyData(), Options{}))
	for _, want := range []string{
		"No alerts: nothing needs action in this period.",
		"No previous period to compare with.",
		"No messages in this period.",
		"No failures in this period.",
		"No customer domain had failures in this period.",
		"No provider data in this period.",
		"No SMTP failure codes in this period.",
		"No new suppressions in this period.",
		"No deliveries to measure in this period.",
		"No message is stuck",
		"No typo domains found in this period.",
		"No lookalike addresses found in this period.",
		"<title>Delivery health report</title>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("empty page lacks %q", want)
		}
	}
	// No empty charts, and then no script at all.
	if strings.Contains(out, `class="chart"`) || strings.Contains(out, "<script") {
		t.Errorf("empty page has a chart or a script")
	}
	if !strings.Contains(out, "script-src 'none'") {
		t.Errorf("empty page's policy allows scripts")
	}
}

// TestRenderNoEvents: a result with no events says so at the top and does
// not claim that nothing needs action.
func TestRenderNoEvents(t *testing.T) {
	d := emptyData()
	d.NoEvents, d.Note = true, "No events in this period (the index covers 1 November 2026 00:00 UTC to 20 November 2026 00:00 UTC)."
	out := html.UnescapeString(renderString(t, d, Options{}))
	if !strings.Contains(section(t, out, "alerts"), `<p class="nodata" role="alert"><strong>`+d.Note) {
		t.Errorf("the alerts do not say there are no events")
	}
	if strings.Contains(out, "nothing needs action") {
		t.Errorf("a page of no events says nothing needs action")
	}
}

// section returns the HTML of one section of the page.
func section(t *testing.T, page, id string) string {
	t.Helper()
	start := strings.Index(page, `<section id="`+id+`">`)
	if start < 0 {
		t.Fatalf("no section %s", id)
	}
	end := strings.Index(page[start:], "</section>")
	return page[start : start+end]
}

func TestRenderLimits(t *testing.T) {
	out := html.UnescapeString(renderString(t, sampleData(), Options{MaxAddresses: 10, MaxRows: 3, MaxBars: 2}))
	for _, tc := range []struct {
		id   string
		rows int
		more string
	}{
		{"domains", 3, "Showing 3 of 12; 9 more not listed."},
		{"providers", 3, "Showing 3 of 8; 5 more not listed."},
		{"suppressions", 10, "Showing the first 10 of 83 addresses; 73 more are not listed here"},
		{"failures", 3, "Showing 3 of 8; 5 more not listed."},
	} {
		sec := section(t, out, tc.id)
		if got := strings.Count(sec, "<tr><td"); got != tc.rows {
			t.Errorf("%s: %d rows, want %d", tc.id, got, tc.rows)
		}
		if !strings.Contains(sec, tc.more) {
			t.Errorf("%s: no %q", tc.id, tc.more)
		}
	}
	// The top-N charts are cut to MaxBars.
	if got := strings.Count(section(t, out, "domains"), "chart-domains"); got != 1 {
		t.Errorf("domains chart container: %d", got)
	}
	if !strings.Contains(out, `"data":["acme.com","contoso.com"]`) {
		t.Error("domains chart does not hold exactly the first two domains")
	}
}

func TestRenderHourly(t *testing.T) {
	out := html.UnescapeString(renderString(t, largeData(), Options{}))
	for _, want := range []string{
		"Over 60 hours, ",
		"Busiest hour: ",
		"<summary>Numbers per hour</summary>",
		"<tr><td>Mon 1 Dec 13:00</td>",
		"Showing 25 of 5,000; 4,975 more not listed.",
		"Showing the first 200 of 1,000 addresses; 800 more are not listed here",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("hourly page lacks %q", want)
		}
	}
}

func TestRenderNil(t *testing.T) {
	if err := render(&bytes.Buffer{}, nil, Options{}, []byte(placeholderJS)); err == nil {
		t.Fatal("render(nil) succeeded")
	}
}

func TestRenderDeterministic(t *testing.T) {
	a := renderString(t, sampleData(), Options{})
	if b := renderString(t, sampleData(), Options{}); a != b {
		t.Fatal("two renders of the same data differ")
	}
	// The order of counts inside a bucket carries no meaning: it must not
	// change the page.
	d := sampleData()
	for i := range d.Classes {
		slices.Reverse(d.Classes[i].Counts)
	}
	if b := renderString(t, d, Options{}); a != b {
		t.Fatal("reordering class counts changed the page")
	}
}

func TestRenderLocation(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	out := html.UnescapeString(renderString(t, sampleData(), Options{Location: loc}))
	if !strings.Contains(out, "2025-12-01 01:00 CET to 2025-12-08 01:00 CET") {
		t.Errorf("period not shown in the given location")
	}
}

// TestChartOptions checks the chart data the page script reads.
func TestChartOptions(t *testing.T) {
	out := renderString(t, sampleData(), Options{})
	m := regexp.MustCompile(`(?s)<script type="application/json" id="maildiag-charts">(.*?)</script>`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no chart data block")
	}
	var specs []struct {
		ID     string `json:"id"`
		Option struct {
			Series []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Stack string `json:"stack"`
				Data  []struct {
					Value any `json:"value"`
				} `json:"data"`
			} `json:"series"`
			XAxis []struct {
				Data []string `json:"data"`
			} `json:"xAxis"`
		} `json:"option"`
		Units []string `json:"units"`
	}
	if err := json.Unmarshal([]byte(m[1]), &specs); err != nil {
		t.Fatalf("chart data is not JSON: %v", err)
	}
	var ids []string
	for _, s := range specs {
		ids = append(ids, s.ID)
		if len(s.Units) != len(s.Option.Series) {
			t.Errorf("%s: %d units for %d series", s.ID, len(s.Units), len(s.Option.Series))
		}
	}
	want := []string{chartVolume, chartClasses, chartDomains, chartProviders, chartSuppressions, chartDelays}
	if !slices.Equal(ids, want) {
		t.Fatalf("chart ids %v, want %v", ids, want)
	}
	vol := specs[0].Option
	if got := vol.XAxis[0].Data; len(got) != 7 || got[2] != "Wed 3 Dec" {
		t.Errorf("volume labels %v", got)
	}
	rate := vol.Series[len(vol.Series)-1]
	if rate.Type != "line" || rate.Data[2].Value != 92.7 {
		t.Errorf("rate series %s %v, want a line with 92.7 on Wed", rate.Type, rate.Data)
	}
	// One colour per class, whatever its rank: rate-limited is always
	// amber, policy-block always red.
	var colours struct {
		Option struct {
			Color []string `json:"color"`
		} `json:"option"`
	}
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(m[1]), &raw); err != nil || json.Unmarshal(raw[1], &colours) != nil {
		t.Fatal("chart data is not JSON")
	}
	for k, sr := range specs[1].Option.Series {
		if k < len(colours.Option.Color) && colours.Option.Color[k] != classColour(sr.Name) {
			t.Errorf("class %s drawn %s, want its own %s", sr.Name, colours.Option.Color[k], classColour(sr.Name))
		}
	}
	if classColour("rate-limited") != "#f59e0b" || classColour("policy-block") != "#dc2626" {
		t.Errorf("class colours moved")
	}
	// Classes: eight classes, all stacked, the biggest first.
	cls := specs[1].Option.Series
	if len(cls) != 8 || cls[0].Name != "rate-limited" || cls[0].Stack != "classes" {
		t.Errorf("class series: %d, first %q stacked %q", len(cls), cls[0].Name, cls[0].Stack)
	}
}

func TestCards(t *testing.T) {
	cur := analyze.Totals{Accepted: 1000, Delivered: 950, FailedTemporary: 10, FailedPermanent: 5, Suppressed: 0, Complaints: 3, Unsubscribes: 2}
	prev := analyze.Totals{Accepted: 800, Delivered: 780, FailedTemporary: 20, FailedPermanent: 5, Suppressed: 4, Complaints: 0, Unsubscribes: 4}
	got := cards(cur, &prev)
	want := []struct{ label, value, change string }{
		{"Accepted", "1,000", "+200 (+25.0%)"},
		{"Delivered", "950", "+170 (+21.8%)"},
		{"Failed temporary", "10", "-10 (-50.0%)"},
		{"Failed permanent", "5", "no change"},
		{"Suppressed drops", "0", "-4 (-100.0%)"},
		{"Complaints", "3", "new"},
		{"Unsubscribes", "2", "-2 (-50.0%)"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d cards, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		// A count's change is never judged good or bad: the rates are.
		if g.Label != w.label || g.Value != w.value || g.Change != w.change || g.Tone != "neutral" {
			t.Errorf("card %d: got %s %s %q %s, want %s %s %q neutral", i, g.Label, g.Value, g.Change, g.Tone, w.label, w.value, w.change)
		}
	}
	for _, c := range cards(cur, nil) {
		if c.Change != "" || c.Previous != "" || c.Tone != "neutral" {
			t.Errorf("%s without a previous period: change %q previous %q tone %s", c.Label, c.Change, c.Previous, c.Tone)
		}
	}
	// Rates: 3 complaints of 950 delivered is above the 0.3% limit.
	rc := rateCards(analyze.RatesOf(cur, &prev, analyze.Thresholds{}))
	wantRates := []struct{ label, value, change, tone, detail string }{
		{"Delivery rate", "95.0%", "-2.50 pp", "watch", "950 of 1,000"},
		{"Bounce rate", "0.50%", "-0.13 pp", "good", "5 of 1,000"},
		{"Complaint rate", "0.32%", "+0.32 pp", "bad", "3 of 950"},
		{"Deferral rate", "1.0%", "-1.44 pp", "good", "10 of 965"},
		{"Suppression rate", "0.0%", "-0.50 pp", "good", "0 of 1,000"},
	}
	if len(rc) != len(wantRates) {
		t.Fatalf("got %d rate cards, want %d", len(rc), len(wantRates))
	}
	for i, w := range wantRates {
		g := rc[i]
		if g.Label != w.label || g.Value != w.value || g.Change != w.change || g.Tone != w.tone || g.Detail != w.detail {
			t.Errorf("rate card %d: got %s %s %q %s %q, want %s %s %q %s %q", i, g.Label, g.Value, g.Change, g.Tone, g.Detail, w.label, w.value, w.change, w.tone, w.detail)
		}
	}
	if !strings.Contains(rc[2].Hint, "above Gmail's and Yahoo's 0.3% limit") {
		t.Errorf("complaint meaning %q", rc[2].Hint)
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{formatInt(0), "0"},
		{formatInt(999), "999"},
		{formatInt(1234567), "1,234,567"},
		{formatInt(-4200), "-4,200"},
		{formatPct(99.96), "99.9%"},
		{formatPct(0.01), "0.1%"},
		{formatPct(100), "100.0%"},
		{formatPct(0), "0.0%"},
		{pctOf(1, 0), "–"},
		{formatSeconds(4), "4 s"},
		{formatSeconds(720), "12 min"},
		{formatSeconds(4.1 * 3600), "4.1 h"},
		{lengthText(36 * time.Hour), "36 hours"},
		{lengthText(7 * 24 * time.Hour), "7 days"},
		{lengthText(350*time.Hour + 6*time.Minute + 34*time.Second), "14.5 days"},
		{lengthText(5*time.Hour + 30*time.Minute + 9*time.Second), "5 hours 30 minutes"},
		{lengthText(20 * time.Second), "1 minute"},
		{newClock(time.UTC, analyze.Period{From: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}).day(time.Date(2025, 12, 3, 0, 0, 0, 0, time.UTC)), "Wed 3 Dec 2025"},
		{newClock(time.UTC, analyze.Period{From: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}).day(time.Date(2025, 12, 3, 0, 0, 0, 0, time.UTC)), "Wed 3 Dec"},
		{clip("abcdef", 4), "abc…"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestFold(t *testing.T) {
	if r := fold("  "); r != nil {
		t.Errorf("blank reply folded to %+v", r)
	}
	if r := fold("250 OK"); r.Folded || r.Full != "250 OK" {
		t.Errorf("short reply: %+v", r)
	}
	long := strings.Repeat("x", 200)
	if r := fold(long); !r.Folded || r.Full != long || len([]rune(r.Short)) != replyChars {
		t.Errorf("long reply: folded %v, short %d runes", r.Folded, len([]rune(r.Short)))
	}
	if r := fold("line one\nline two"); !r.Folded || r.Short != "line one …" {
		t.Errorf("multi-line reply: %+v", r)
	}
}

// TestRenderPublic renders with the real ECharts script: the page inlines
// it, and the content policy allows exactly the page's two scripts.
func TestRenderPublic(t *testing.T) {
	js := requireECharts(t)
	var b bytes.Buffer
	if err := Render(&b, sampleData(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "<script>"+string(js)+"</script>") {
		t.Error("ECharts is not inlined")
	}
	if !strings.Contains(html.UnescapeString(out), contentPolicy(js, []byte(chartsJS), []byte(tablesJS))) {
		t.Error("content policy does not name the page's scripts")
	}
	if strings.Contains(out, "go-echarts-assets") {
		t.Error("page refers to go-echarts' CDN")
	}
}
