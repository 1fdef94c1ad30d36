package analyze

import (
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
)

// A domain's verdict is a pure function of its causes.
func TestVerdictOf(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	causes := func(n int, step time.Duration, class, gateway string, code int) []*Cause {
		var out []*Cause
		for i := range n {
			out = append(out, &Cause{Time: t0.Add(time.Duration(i) * step), Class: class, Gateway: gateway, Code: code,
				Enhanced: "5.7.1", Reply: "550 5.7.1 Envelope blocked", MXHost: "eu-smtp-inbound-1.mimecast.com"})
		}
		return out
	}
	mixed := append(causes(2, time.Hour, maildiag.ClassUserUnknown, "", 550), causes(2, 48*time.Hour, maildiag.ClassMailboxFull, "", 552)...)
	for _, c := range []struct {
		name    string
		causes  []*Cause
		choices map[string]int
		kind    string
		says    string
	}{
		{"block", causes(8, 10*time.Minute, maildiag.ClassPolicyBlock, "Mimecast", 550), nil, VerdictDomainBlock,
			"8 addresses bounced with 550 5.7.1 from the same Mimecast gateway within 70 minutes"},
		{"block, partly through a gateway", append(causes(6, time.Minute, maildiag.ClassPolicyBlock, "Mimecast", 550),
			causes(1, time.Minute, maildiag.ClassPolicyBlock, "", 550)...), nil, VerdictDomainBlock, "(6 of them through Mimecast)"},
		{"too few for a block", causes(3, time.Minute, maildiag.ClassPolicyBlock, "Mimecast", 550), nil, VerdictScattered, "individual bad addresses"},
		{"spread out", causes(8, 7*time.Hour, maildiag.ClassPolicyBlock, "Mimecast", 550), nil, VerdictScattered, "for different reasons"},
		{"dead domain", causes(3, time.Hour, maildiag.ClassDomainNotFound, "", 498), nil, VerdictDeadDomain, "has no working MX"},
		{"mixed", mixed, nil, VerdictScattered, "mailbox-full 2, user-unknown 2"},
		{"choices", nil, map[string]int{maildiag.ListComplaints: 2, maildiag.ListUnsubscribes: 1}, VerdictChoices, "complaints 2, unsubscribes 1"},
	} {
		v := verdictOf("acme.com", len(c.causes)+len(c.choices), c.causes, c.choices)
		if v.Kind != c.kind {
			t.Errorf("%s: kind %s (%s), want %s", c.name, v.Kind, v.Summary, c.kind)
		}
		if !strings.Contains(v.Summary, c.says) {
			t.Errorf("%s: summary %q does not say %q", c.name, v.Summary, c.says)
		}
		if v.Action == "" || v.Evidence == nil {
			t.Errorf("%s: no action or evidence: %+v", c.name, v)
		}
		if len(c.causes) > 0 && verdictSample(c.causes) == nil {
			t.Errorf("%s: no sample", c.name)
		}
	}
	if verdictSample(nil) != nil {
		t.Error("a sample of no causes")
	}
}

func TestTypoOf(t *testing.T) {
	for domain, want := range map[string]string{
		"gmial.com": "gmail.com", "hotmial.com": "hotmail.com", "yaho.com": "yahoo.com", "gmail.com": "",
		"initech.com": "", "initech.con": "initech.com", "totally-different.example": "",
		// Two edits count only in a long name: short ones are other domains.
		"acme.com": "", "mac.com": "", "hotmaill.con": "hotmail.com", "gmaill.con": "gmail.com", "aol.org": "",
	} {
		if got := TypoOf(domain, []string{"initech.com"}); got != want {
			t.Errorf("TypoOf(%q) = %q, want %q", domain, got, want)
		}
	}
}

func TestLookalikes(t *testing.T) {
	rs := []Recipient{{1, "john.smith@initech.com"}, {2, "jsmith@initech.com"}, {3, "jane.doe@initech.com"}, {4, "john.smyth@initech.com"},
		{5, "bo@initech.com"}}
	l := newLookalikes(rs)
	got := func(local string, close bool) string {
		var out []string
		for _, h := range l.of(local, close) {
			out = append(out, h.r.Address)
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		local string
		close bool
		want  string
	}{
		{"john_smith", false, "john.smith@initech.com"},
		{"john.smith", false, "john.smyth@initech.com"},
		{"john.smith", true, "john.smyth@initech.com"},
		{"jane_doe", true, "jane.doe@initech.com"},
		{"bx", true, ""}, // short names differ by one letter: two people
		{"bx", false, "bo@initech.com"},
		{"xsmith", true, ""}, // another first letter: another person
	} {
		if g := got(c.local, c.close); g != c.want {
			t.Errorf("lookalikes of %s (close %v) = %q, want %q", c.local, c.close, g, c.want)
		}
	}
	if d := editDistance("abcd", "acbd", 10); d != 1 {
		t.Errorf("a swap is %d edits, want 1", d)
	}
	if d := editDistance("kitten", "sitting", 2); d != 2 {
		t.Errorf("editDistance with limit 2 = %d, want 2", d)
	}
}

func TestPatterns(t *testing.T) {
	for _, c := range []struct {
		in, full      string
		exact, domain bool
		match, miss   string
	}{
		{"*@acme.com", "*@acme.com", false, true, "Jane@ACME.com", "jane@acme.co"},
		{"acme.com", "*@acme.com", false, true, "x@acme.com", "x@eu.acme.com"},
		{"j*@*.acme.com", "j*@*.acme.com", false, false, "jo@eu.acme.com", "jo@acme.com"},
		{"jane@acme.com", "jane@acme.com", true, false, "JANE@acme.com", "jane2@acme.com"},
		{"j?ne@acme.com", "j?ne@acme.com", false, false, "june@acme.com", "jne@acme.com"},
	} {
		p, err := ParsePattern(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if p.String() != c.full || p.Exact() != c.exact || p.AllOfDomain() != c.domain {
			t.Errorf("%s: %s exact %v domain %v", c.in, p, p.Exact(), p.AllOfDomain())
		}
		if !p.Match(c.match) || p.Match(c.miss) || p.Match("no-at-sign") {
			t.Errorf("%s: matches %s %v, %s %v", c.in, c.match, p.Match(c.match), c.miss, p.Match(c.miss))
		}
	}
	for _, bad := range []string{"", " ", "a b@acme.com", "a@b@c", "@acme.com", "jane@", "a,b@acme.com"} {
		if _, err := ParsePattern(bad); err == nil {
			t.Errorf("ParsePattern(%q): no error", bad)
		}
	}
}

// A bounce-list entry no event explains is classed by its own code and
// error, as Mailgun's list API returns them.
func TestCauseOfEntry(t *testing.T) {
	for _, c := range []struct {
		code, err string
		class     string
		wantCode  int
	}{
		{"550", "No such mailbox", maildiag.ClassUserUnknown, 550},
		{"550", "5.1.1 The email account that you tried to reach does not exist.", maildiag.ClassUserUnknown, 550},
		{"5.7.1", "Service unavailable; client host blocked using Spamhaus", maildiag.ClassBlocklisted, 0},
		{"", "552 5.2.2 Mailbox full", maildiag.ClassMailboxFull, 552},
	} {
		e := &ListEntry{Suppression: maildiag.Suppression{Address: "a@b.example", SendingDomain: "mg.example.com", List: maildiag.ListBounces,
			Code: c.code, Error: c.err}}
		got := causeOfEntry(e)
		if got.Class != c.class || got.Code != c.wantCode || !got.FromList {
			t.Errorf("%s %q: class %q code %d fromList %v, want %q %d", c.code, c.err, got.Class, got.Code, got.FromList, c.class, c.wantCode)
		}
	}
}

// A domain only on allowlists is said so, not "no bounces".
func TestAllowlistOnlyDomain(t *testing.T) {
	v := domainVerdict("brightcart.io", []SuppressedAddress{{Address: "brightcart.io", SendingDomain: "mg.example.com", List: maildiag.ListAllowlist}})
	if v.Kind != VerdictAllowlisted || !strings.Contains(v.Summary, "allowlist of mg.example.com") {
		t.Errorf("verdict %s: %s", v.Kind, v.Summary)
	}
}
