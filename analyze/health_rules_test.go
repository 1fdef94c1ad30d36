package analyze_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/synth"
)

// alertsOf are a result's alerts by kind.
func alertsOf(r *analyze.HealthResult) map[string][]analyze.Alert {
	m := map[string][]analyze.Alert{}
	for _, a := range r.Alerts {
		m[a.Kind] = append(m[a.Kind], a)
	}
	return m
}

// TestHealthRulesStories: every planted story of the generated account
// raises its alert, naming what the story planted; a clean account of the
// same size raises none of them.
func TestHealthRulesStories(t *testing.T) {
	db, acct := testkit.StoryIndex(t, storyAccount)
	end := storyAccount.End
	s := acct.Stories
	r, err := analyze.Health(context.Background(), db, analyze.HealthQuery{Since: end.Add(-14 * 24 * time.Hour), Now: end}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := alertsOf(r)

	if len(r.Blocks) == 0 || r.Blocks[0].Domain != s.DomainBlock.Domain || !slices.Contains(r.Blocks[0].SendingDomains, s.DomainBlock.SendingDomain) ||
		len(r.Blocks[0].SendingIPs) == 0 || !strings.Contains(r.Blocks[0].Text, "Our senders to allowlist: "+s.DomainBlock.SendingDomain) {
		t.Errorf("blocks %+v: want %s naming %s and its IPs to allowlist", r.Blocks, s.DomainBlock.Domain, s.DomainBlock.SendingDomain)
	}

	rl := got[analyze.AlertRateLimitWave]
	if len(rl) != 1 || rl[0].Provider != "Gmail" || !slices.Equal(rl[0].SendingIPs, []string{s.RateLimit.SendingIP}) ||
		!slices.Equal(rl[0].SendingDomains, []string{s.RateLimit.SendingDomain}) || !strings.Contains(rl[0].Text, s.RateLimit.Start.Format("Monday 2 January")) {
		t.Errorf("rate-limit alerts %+v: want Gmail, %s, %s, peaking on %s", rl, s.RateLimit.SendingIP, s.RateLimit.SendingDomain, s.RateLimit.Start.Format("Monday 2 January"))
	}

	ip := got[analyze.AlertIPBlock]
	if len(ip) != 1 || ip[0].Provider != "Microsoft 365" || !slices.Equal(ip[0].SendingIPs, []string{s.IPBlock.SendingIP}) || ip[0].Domain != s.IPBlock.Domain ||
		!strings.Contains(ip[0].Title, "(550 5.7.1, S3150)") || !strings.Contains(ip[0].Text, fmt.Sprintf("after %d rate-limit or policy deferrals of the same messages", s.IPBlock.Deferrals)) || ip[0].Severity != analyze.AlertCritical {
		t.Errorf("IP block alerts %+v: want Microsoft 365 refusing %s at %s, S3150 after 4.7.650 deferrals", ip, s.IPBlock.SendingIP, s.IPBlock.Domain)
	}
	if len(got[analyze.AlertSendingBlock]) != 0 {
		t.Errorf("sending-domain blocks %+v: the stories block an IP and one recipient domain, not a sending domain", got[analyze.AlertSendingBlock])
	}

	typo := got[analyze.AlertTypo]
	if len(typo) != 1 || typo[0].Domain != s.TypoDomain.Domain {
		t.Errorf("typo alerts %+v, want %s", typo, s.TypoDomain.Domain)
	}

	// The typo domain's confirmations: deferred for want of a mail
	// server until Mailgun gave up, their links long expired.
	var gaveUp int
	for _, m := range s.TypoDomain.Messages {
		if m.Outcome == "expired" && m.Accepted.After(end.Add(-14*24*time.Hour)) {
			gaveUp++
		}
	}
	ex := got[analyze.AlertExpiredLinks]
	if gaveUp == 0 {
		t.Fatalf("the story account has no expired confirmation in the period; the test needs one")
	}
	if len(ex) != 1 || !strings.HasPrefix(ex[0].Title, fmt.Sprint(gaveUp)+" confirmation") || len(ex[0].Evidence) == 0 ||
		!strings.HasPrefix(ex[0].Evidence[0], s.TypoDomain.Domain+": ") || !slices.Equal(ex[0].SendingDomains, []string{s.TypoDomain.SendingDomain}) {
		t.Errorf("expired-link alerts %+v: want %d messages to %s from %s", ex, gaveUp, s.TypoDomain.Domain, s.TypoDomain.SendingDomain)
	}

	// The week of the Gmail wave narrowed to Gmail's customers still
	// shows it.
	gmail, err := analyze.ParsePattern("*@gmail.com")
	if err != nil {
		t.Fatal(err)
	}
	g, err := analyze.Health(context.Background(), db, analyze.HealthQuery{Since: end.Add(-7 * 24 * time.Hour), Now: end, To: &gmail}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(alertsOf(g)[analyze.AlertRateLimitWave]) != 1 {
		t.Errorf("--to *@gmail.com: alerts %+v, want the rate-limit wave", g.Alerts)
	}

	// Thresholds are data: a stricter bounce limit raises a bounce-rate
	// alert that the default does not.
	if n := len(got[analyze.AlertBounceRate]); n != 0 {
		t.Errorf("%d bounce-rate alerts at the default %v for a bounce rate of %v", n, analyze.DefaultThresholds.BounceRate, r.Rates[1].Rate)
	}
	strict, err := analyze.Health(context.Background(), db, analyze.HealthQuery{Since: end.Add(-14 * 24 * time.Hour), Now: end,
		Thresholds: analyze.Thresholds{BounceRate: 0.01, ComplaintRate: 0.0004, ComplaintTarget: 0.0002}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sg := alertsOf(strict)
	if len(sg[analyze.AlertBounceRate]) != 1 || len(sg[analyze.AlertComplaintRate]) != 1 || sg[analyze.AlertComplaintRate][0].Severity != analyze.AlertCritical {
		t.Errorf("strict thresholds: alerts %+v, want a bounce-rate and a critical complaint-rate alert", strict.Alerts)
	}
	if strict.Thresholds.BounceRate != 0.01 || r.Thresholds != analyze.DefaultThresholds {
		t.Errorf("thresholds echoed %+v and %+v", strict.Thresholds, r.Thresholds)
	}
}

// TestHealthRulesClean: an account without planted stories raises no
// block, wave or sender alert.
func TestHealthRulesClean(t *testing.T) {
	cfg := synth.Config{Seed: 11, Events: 40_000, End: storyAccount.End, NoStories: true}
	db, _ := testkit.StoryIndex(t, cfg)
	r, err := analyze.Health(context.Background(), db, analyze.HealthQuery{Since: cfg.End.Add(-14 * 24 * time.Hour), Now: cfg.End}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Blocks) != 0 {
		t.Errorf("blocks %+v on a clean account", r.Blocks)
	}
	for _, a := range r.Alerts {
		switch a.Kind {
		case analyze.AlertRateLimitWave, analyze.AlertIPBlock, analyze.AlertSendingBlock, analyze.AlertTypo, analyze.AlertExpiredLinks:
			t.Errorf("alert on a clean account: %s %s", a.Kind, a.Title)
		}
	}
}
