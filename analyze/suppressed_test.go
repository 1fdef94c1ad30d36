package analyze_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/internal/testkit"
)

// The domain-wide block story found from every side a support engineer
// asks from, and the answers as a golden file.
func TestSuppressedStories(t *testing.T) {
	db, s := store(t)
	ctx := context.Background()
	type answer struct {
		Case   string                    `json:"case"`
		Result *analyze.SuppressedResult `json:"result"`
	}
	var all []answer
	ask := func(name, pattern string, o analyze.SuppressedOptions) *analyze.SuppressedResult {
		t.Helper()
		p, err := analyze.ParsePattern(pattern)
		if err != nil {
			t.Fatal(err)
		}
		res, err := analyze.Suppressed(ctx, db, p, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		all = append(all, answer{name, res})
		return res
	}
	block := ask("domain block", "*@"+s.DomainBlock.Domain, analyze.SuppressedOptions{})
	var verdict *analyze.DomainVerdict
	for i := range block.Verdicts {
		if block.Verdicts[i].Domain == s.DomainBlock.Domain {
			verdict = &block.Verdicts[i]
		}
	}
	if verdict == nil || verdict.Kind != analyze.VerdictDomainBlock || verdict.Gateway != s.DomainBlock.Gateway || verdict.Code != s.DomainBlock.Code {
		t.Fatalf("verdict %+v, want a domain-wide block by %s with %d", verdict, s.DomainBlock.Gateway, s.DomainBlock.Code)
	}
	blocked := map[string]bool{}
	for _, x := range block.Addresses {
		if x.SendingDomain == s.DomainBlock.SendingDomain && x.List == maildiag.ListBounces && x.State == analyze.StateListed {
			blocked[x.Address] = true
			if x.Cause == nil || x.Cause.Reply == "" || x.Cause.MXHost != s.DomainBlock.MXHost {
				t.Errorf("%s: cause %+v, want the block's reply from %s", x.Address, x.Cause, s.DomainBlock.MXHost)
			}
		}
	}
	for _, addr := range s.DomainBlock.Addresses {
		if !blocked[addr] {
			t.Errorf("%s is not on %s's bounce list in the answer", addr, s.DomainBlock.SendingDomain)
		}
	}
	if again := ask("bare domain", s.DomainBlock.Domain, analyze.SuppressedOptions{}); len(again.Addresses) != len(block.Addresses) {
		t.Errorf("a bare domain found %d, the pattern %d", len(again.Addresses), len(block.Addresses))
	}
	one := ask("one address", s.DomainBlock.Addresses[0], analyze.SuppressedOptions{WithRemoved: true})
	for _, x := range one.Addresses {
		if x.Address != s.DomainBlock.Addresses[0] {
			t.Errorf("one address: found %s", x.Address)
		}
	}
	narrowed := ask("complaints of one sending domain", "*@yahoo.com", analyze.SuppressedOptions{
		SendingDomains: []string{s.Complaints.SendingDomain}, Lists: []string{maildiag.ListComplaints}})
	for _, x := range narrowed.Addresses {
		if x.List != maildiag.ListComplaints || x.SendingDomain != s.Complaints.SendingDomain {
			t.Errorf("narrowed: %s on %s of %s", x.Address, x.List, x.SendingDomain)
		}
	}
	ask("a letter and a wildcard", "a*@"+s.DomainBlock.Domain, analyze.SuppressedOptions{})
	if none := ask("nowhere", "*@nowhere.example", analyze.SuppressedOptions{}); len(none.Addresses) != 0 || len(none.Domains) != 0 {
		t.Errorf("nowhere: %+v", none)
	}
	p, _ := analyze.ParsePattern(s.DomainBlock.Domain)
	if _, err := analyze.Suppressed(ctx, db, p, analyze.SuppressedOptions{SendingDomains: []string{"mg.unknown.example"}}); err == nil {
		t.Error("an unknown sending domain: no error")
	}
	testkit.GoldenJSON(t, filepath.Join("testdata", "golden", "suppressed.json"), all)
}
