package classify

import (
	"sync"
	"testing"

	"github.com/maildiag/maildiag"
)

func TestDeriveAgreesWithClassifyAndDetectGateway(t *testing.T) {
	for _, r := range loadCorpus(t) {
		ev := r.ev
		ev.Class, ev.Rule, ev.Gateway = "stale", "stale", "stale"
		Derive(&ev)
		c := classifyEvent(&r.ev)
		if ev.Class != c.Class || ev.Rule != c.Rule {
			t.Errorf("row %d: Derive gave %s by %s, Classify %s by %s", r.line, ev.Class, ev.Rule, c.Class, c.Rule)
		}
		if ev.Class != r.wantClass {
			t.Errorf("row %d: Derive gave class %s, want %s", r.line, ev.Class, r.wantClass)
		}
		if ev.Gateway != r.wantGateway {
			t.Errorf("row %d: Derive gave gateway %q, want %q", r.line, ev.Gateway, r.wantGateway)
		}
	}
}

func TestDeriveOtherEvents(t *testing.T) {
	cases := []struct {
		ev      maildiag.Event
		gateway string
	}{
		{maildiag.Event{Type: maildiag.Delivered, Code: 250, MXHost: "gmail-smtp-in.l.google.com", RecipientDomain: "gmail.com",
			Reply: "2.0.0 OK  1763600000 d75a77b69052e-4b639dd586bsi7418741cf.389 - gsmtp"}, "Gmail"},
		{maildiag.Event{Type: maildiag.Delivered, Code: 250, MXHost: "contoso-com.mail.protection.outlook.com", RecipientDomain: "contoso.com"}, "Microsoft 365"},
		{maildiag.Event{Type: maildiag.Accepted, RecipientDomain: "yahoo.com"}, "Yahoo"},
		{maildiag.Event{Type: maildiag.Accepted, Recipient: "someone@icloud.com"}, "Apple iCloud"},
		{maildiag.Event{Type: maildiag.Opened, RecipientDomain: "acme.com"}, ""},
		{maildiag.Event{Type: "list_member_uploaded"}, ""},
	}
	for _, c := range cases {
		ev := c.ev
		ev.Class, ev.Rule, ev.Gateway = "user-unknown", "enh-bad-mailbox", "stale"
		Derive(&ev)
		if ev.Class != "" || ev.Rule != "" {
			t.Errorf("%s event: Derive left class %q rule %q, want them empty", ev.Type, ev.Class, ev.Rule)
		}
		if ev.Gateway != c.gateway {
			t.Errorf("%s event to %q: gateway %q, want %q", ev.Type, ev.RecipientDomain, ev.Gateway, c.gateway)
		}
	}
}

// TestDeriveConcurrently derives the corpus from several goroutines at
// once, as ingest's workers do; run with -race to check for shared state.
func TestDeriveConcurrently(t *testing.T) {
	rows := loadCorpus(t)
	want := make([]maildiag.Event, len(rows))
	for i, r := range rows {
		want[i] = r.ev
		Derive(&want[i])
	}
	const workers = 4
	got := make([][]maildiag.Event, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		got[w] = make([]maildiag.Event, len(rows))
		wg.Add(1)
		go func(out []maildiag.Event) {
			defer wg.Done()
			for k := 0; k < 20; k++ {
				for i, r := range rows {
					out[i] = r.ev
					Derive(&out[i])
				}
			}
		}(got[w])
	}
	wg.Wait()
	for w := range got {
		for i := range rows {
			g, x := got[w][i], want[i]
			if g.Class != x.Class || g.Rule != x.Rule || g.Gateway != x.Gateway {
				t.Fatalf("worker %d row %d: got %s/%s/%q, want %s/%s/%q", w, rows[i].line, g.Class, g.Rule, g.Gateway, x.Class, x.Rule, x.Gateway)
			}
		}
	}
}

func BenchmarkDerive(b *testing.B) {
	rows := loadCorpus(b)
	// A realistic mix: most events are not failures.
	var evs []maildiag.Event
	for _, r := range rows {
		evs = append(evs, r.ev,
			maildiag.Event{Type: maildiag.Accepted, RecipientDomain: r.ev.RecipientDomain},
			maildiag.Event{Type: maildiag.Delivered, Code: 250, MXHost: r.ev.MXHost, RecipientDomain: r.ev.RecipientDomain, Reply: "2.0.0 OK"},
			maildiag.Event{Type: maildiag.Opened, RecipientDomain: r.ev.RecipientDomain})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := &evs[i%len(evs)]
		Derive(ev)
	}
}

func BenchmarkDeriveFailed(b *testing.B) {
	rows := loadCorpus(b)
	evs := make([]maildiag.Event, len(rows))
	for i, r := range rows {
		evs[i] = r.ev
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Derive(&evs[i%len(evs)])
	}
}
