package analyze

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC)

func TestBlockText(t *testing.T) {
	for _, tc := range []struct {
		b    DomainBlock
		want string
	}{
		{DomainBlock{Domain: "a.example", Addresses: 1, Code: 554, Advice: "Call them."},
			"a.example: 1 address bounced with 554: a domain-wide block at the recipient, not bad addresses. Call them."},
		{DomainBlock{Domain: "b.example", Addresses: 9, EnhancedCode: "5.7.1", First: t0, Last: t0.Add(20 * time.Minute), Advice: "Call them."},
			"b.example: 9 addresses bounced with 5.7.1 within 20 minutes: a domain-wide block"},
		{DomainBlock{Domain: "c.example", Addresses: 3, Code: 550, EnhancedCode: "5.7.1", Gateway: "Proofpoint", Advice: "Ask their admin."},
			"c.example: 3 addresses bounced with 550 5.7.1 from one Proofpoint gateway: a domain-wide block at the recipient, not bad addresses. Ask their admin."},
		{DomainBlock{Domain: "d.example", Addresses: 44, Code: 550, Gateway: "Mimecast", First: t0, Last: t0.Add(108 * time.Minute), Advice: "Ask."},
			"d.example: 44 addresses bounced with 550 from one Mimecast gateway within 2 hours: "},
	} {
		if got := blockText(tc.b); !strings.HasPrefix(got, tc.want) {
			t.Errorf("got %q, want it to start with %q", got, tc.want)
		}
	}
}

func TestDurationUp(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "1 minute"},
		{35 * time.Minute, "35 minutes"},
		{91 * time.Minute, "2 hours"},
		{106 * time.Minute, "2 hours"},
		{48 * time.Hour, "48 hours"},
		{50 * time.Hour, "3 days"},
	} {
		if got := durationUp(tc.d); got != tc.want {
			t.Errorf("durationUp(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestPeriodTitle(t *testing.T) {
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		from, until time.Time
		want        string
	}{
		{at(2026, 11, 19, 0), at(2026, 11, 20, 0), "19 November 2026"},
		{at(2026, 11, 18, 0), at(2026, 11, 20, 0), "18 to 19 November 2026"},
		{at(2026, 11, 19, 9), at(2026, 11, 19, 15), "19 November 2026, 09:00 to 15:00 UTC"},
		{at(2026, 11, 18, 6), at(2026, 11, 20, 6), "18 November 06:00 to 20 November 2026 06:00 UTC"},
		{at(2026, 11, 13, 0), at(2026, 11, 20, 0), "13 to 19 November 2026"},
		{at(2026, 10, 28, 0), at(2026, 11, 4, 0), "28 October to 3 November 2026"},
		{at(2025, 12, 28, 0), at(2026, 1, 4, 0), "28 December 2025 to 3 January 2026"},
		{at(2026, 12, 1, 0), at(2027, 1, 1, 0), "1 to 31 December 2026"},
	} {
		if got := periodTitle(tc.from, tc.until); got != tc.want {
			t.Errorf("periodTitle(%s, %s) = %q, want %q", tc.from, tc.until, got, tc.want)
		}
	}
}

func TestRowVerdict(t *testing.T) {
	block := DomainVerdict{Kind: VerdictDomainBlock, Summary: "44 addresses bounced alike.", Action: "Ask their admin."}
	scattered := DomainVerdict{Kind: VerdictScattered, Summary: "Different reasons.", Action: "Check each."}
	dead := DomainVerdict{Kind: VerdictDeadDomain, Summary: "No MX.", Action: "Correct it."}
	for _, tc := range []struct {
		name        string
		row         DomainRow
		v           DomainVerdict
		judged      bool
		want, wantT string
	}{
		{"block", DomainRow{Failures: 52}, block, true, RowDomainBlock, "44 addresses bounced alike. Ask their admin."},
		{"scattered", DomainRow{Failures: 9}, scattered, true, RowBadAddresses, "Different reasons."},
		{"dead domain", DomainRow{Failures: 14, Messages: 14}, dead, true, RowDeadDomain, "Dead domain: no mail server, 14 of 14 messages failed and none delivered. Correct or remove these addresses; it may be a typo."},
		// First bounces of a dead domain read "expired" (602 after 498
		// deferrals); the row's numbers still say dead.
		{"dead domain, expired", DomainRow{Failures: 12, Messages: 12, FailureRate: 1, Class: "expired", DeferralClass: "domain-not-found"}, scattered, true, RowDeadDomain,
			"Dead domain: no mail server, 12 of 12 messages failed and none delivered. Correct or remove these addresses; it may be a typo."},
		{"deferrals only", DomainRow{Deferrals: 12, DeferralClass: "rate-limited"}, DomainVerdict{}, false, RowTemporary, "12 deferrals and no final failure, mostly rate-limited: Mailgun is still retrying."},
		{"drops", DomainRow{Failures: 5, Messages: 5, Class: "suppressed-bounce", ClassCount: 5}, DomainVerdict{}, false, RowSuppressed,
			"5 of 5 messages dropped unsent: the addresses are on a suppression list (suppressed-bounce). Stop mailing them, or remove the entries once the addresses work."},
		{"too few to judge", DomainRow{Failures: 2}, DomainVerdict{}, false, "", ""},
	} {
		v, text := rowVerdict(tc.row, tc.v, tc.judged)
		if v != tc.want || text != tc.wantT {
			t.Errorf("%s: got %q %q, want %q %q", tc.name, v, text, tc.want, tc.wantT)
		}
	}
}

func TestHealthAlerts(t *testing.T) {
	verdicts := map[string]DomainVerdict{
		"acme.com":    {Domain: "acme.com", Kind: VerdictDomainBlock, Addresses: 44, InWindow: 44, Code: 550, Gateway: "Mimecast", From: t0, To: t0.Add(time.Hour), Action: "Ask acme.com's admin."},
		"globex.net":  {Domain: "globex.net", Kind: VerdictDomainBlock, Addresses: 8, InWindow: 8, Code: 554, Action: "Ask globex.net's admin."},
		"small.org":   {Domain: "small.org", Kind: VerdictDomainBlock, Addresses: 4, InWindow: 4, Code: 550},
		"dead.test":   {Domain: "dead.test", Kind: VerdictDeadDomain, Addresses: 6, InWindow: 6, Summary: "dead.test does not receive mail.", Action: "Correct it.", Evidence: []string{"6 of 6"}},
		"initech.com": {Domain: "initech.com", Kind: VerdictScattered, Addresses: 12},
	}
	typos := []TypoRow{{Domain: "gmial.com", Suggested: "gmail.com", Addresses: 2, Messages: 14}}
	blocks, alerts := healthAlerts(verdicts, 3, typos)
	if len(blocks) != 2 || blocks[0].Domain != "acme.com" || blocks[1].Domain != "globex.net" {
		t.Fatalf("blocks %+v, want acme.com then globex.net (small.org has too few addresses)", blocks)
	}
	if want := "acme.com: 44 addresses bounced with 550 from one Mimecast gateway within 60 minutes: a domain-wide block at the recipient, not bad addresses. Ask acme.com's admin."; blocks[0].Text != want {
		t.Errorf("block text %q, want %q", blocks[0].Text, want)
	}
	if blocks[0].Addresses != 44 || blocks[0].Advice != "Ask acme.com's admin." || !blocks[0].Last.Equal(t0.Add(time.Hour)) {
		t.Errorf("block %+v", blocks[0])
	}
	want := []struct{ severity, kind, title, text string }{
		{AlertWarning, VerdictDeadDomain, "dead.test: domain not found", "dead.test does not receive mail. Correct it."},
		{AlertInfo, AlertStuck, "3 messages without a final event", "Accepted more than 8 hours ago with no delivery or permanent failure in the index: sync again, then ask Mailgun support about any that stay."},
		{AlertInfo, AlertTypo, "gmial.com looks like a typo of gmail.com", "2 addresses at gmial.com failed with no MX: ask the people concerned to correct their address."},
	}
	if len(alerts) != len(want) {
		t.Fatalf("got %d alerts %+v, want %d", len(alerts), alerts, len(want))
	}
	for i, w := range want {
		a := alerts[i]
		if a.Severity != w.severity || a.Kind != w.kind || a.Title != w.title || a.Text != w.text {
			t.Errorf("alert %d: got %s %s %q %q, want %s %s %q %q", i, a.Severity, a.Kind, a.Title, a.Text, w.severity, w.kind, w.title, w.text)
		}
	}
	if blocks, alerts := healthAlerts(nil, 0, nil); blocks == nil || alerts == nil || len(blocks)+len(alerts) != 0 {
		t.Errorf("nothing found: got %v %v, want two empty lists", blocks, alerts)
	}
}

func TestHealthDecide(t *testing.T) {
	since, until := t0.Truncate(day), t0.Truncate(day).Add(7*day)
	p, err := ParsePattern("*@acme.com")
	if err != nil {
		t.Fatal(err)
	}
	q := HealthQuery{Since: since, Until: until, Now: until, SendingDomains: []string{"mg.example.com"}, To: &p}
	res := &HealthResult{
		Domains:    []DomainRow{{Domain: "acme.com", Failures: 52}, {Domain: "quiet.example", Deferrals: 3}},
		Providers:  []ProviderRow{{Provider: "Mimecast", Deferrals: 7}},
		Delays:     []DelayRow{{Provider: "Mimecast", Messages: 10}, {Provider: "-", Messages: 1}},
		Lookalikes: []LookalikeRow{{Failing: "john_smith@initech.com", Receiving: "john.smith@initech.com"}},
		Typos:      []TypoRow{{Domain: "gmial.com", Suggested: "gmail.com"}},
	}
	prev := Totals{Accepted: 10}
	for _, tc := range []struct {
		name      string
		first     time.Time
		wantPrevs bool
	}{
		{"index reaches back", since.Add(-7 * day), true},
		{"index starts inside the previous period", since.Add(-3 * day), false},
		{"empty index", time.Time{}, false},
	} {
		r := *res
		r.Domains = append([]DomainRow{}, res.Domains...)
		healthDecide(&r, q, &healthFacts{span: Span{First: tc.first}, prevSince: since.Add(-7 * day), previous: prev,
			verdicts: map[string]DomainVerdict{"acme.com": {Domain: "acme.com", Kind: VerdictDomainBlock, Addresses: 44, InWindow: 44, Summary: "Alike.", Action: "Ask."}}})
		if (r.PreviousTotals != nil) != tc.wantPrevs || tc.wantPrevs && r.PreviousTotals.Accepted != 10 {
			t.Errorf("%s: previous totals %+v", tc.name, r.PreviousTotals)
		}
		if tc.name != "index reaches back" {
			continue
		}
		if r.Title != "Delivery health: 15 to 21 November 2026" || !r.Generated.Equal(until) ||
			r.Period != (Period{since, until}) || r.Previous != (Period{since.Add(-7 * day), since}) {
			t.Errorf("header: %q %s %+v %+v", r.Title, r.Generated, r.Period, r.Previous)
		}
		if r.Filters.To != "*@acme.com" || len(r.Filters.SendingDomains) != 1 {
			t.Errorf("filters %+v", r.Filters)
		}
		if d := r.Domains[0]; d.Verdict != RowDomainBlock || d.VerdictText != "Alike. Ask." {
			t.Errorf("acme.com row: %q %q", d.Verdict, d.VerdictText)
		}
		if d := r.Domains[1]; d.Verdict != RowTemporary {
			t.Errorf("quiet.example row: %q", d.Verdict)
		}
		if r.Delays[0].Deferrals != 7 || r.Delays[1].Deferrals != 0 {
			t.Errorf("delay deferrals %+v", r.Delays)
		}
		if r.Stuck.AfterHours != 8 || r.Lookalikes[0].Code != "User unknown" || r.Typos[0].Note == "" {
			t.Errorf("stuck after %d, lookalike code %q, typo note %q", r.Stuck.AfterHours, r.Lookalikes[0].Code, r.Typos[0].Note)
		}
		if len(r.Blocks) != 1 || len(r.Alerts) != 1 || r.Alerts[0].Kind != AlertTypo {
			t.Errorf("blocks %+v alerts %+v", r.Blocks, r.Alerts)
		}
	}
}

func TestPctOverNeverReadsAsTheLimit(t *testing.T) {
	for _, c := range []struct {
		rate, limit float64
		want        string
	}{{0.0502, 0.05, "5.02%"}, {0.061, 0.05, "6.1%"}, {0.05001, 0.05, "5.001%"}, {0.0031, 0.003, "0.31%"}} {
		if got := pctOver(c.rate, c.limit); got != c.want {
			t.Errorf("pctOver(%v, %v) = %s, want %s", c.rate, c.limit, got, c.want)
		}
	}
}
