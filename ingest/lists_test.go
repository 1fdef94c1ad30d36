package ingest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/synth"
)

// readWhole reads one list and returns its entries by address.
func readWhole(t *testing.T, c *Client, domain, list string) (map[string]maildiag.Suppression, int) {
	t.Helper()
	got := map[string]maildiag.Suppression{}
	pages, err := c.ReadList(context.Background(), domain, list, func(b *Batch) error {
		if len(b.Rejects) > 0 {
			return fmt.Errorf("reject: %s", b.Rejects[0].Reason)
		}
		for _, s := range b.Suppressions {
			if _, dup := got[s.Address]; dup {
				return fmt.Errorf("%s listed twice", s.Address)
			}
			got[s.Address] = s
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, pages
}

func TestReadListsMatchServer(t *testing.T) {
	e := mgtest.New(t, synth.Config{Seed: 3, Events: 20000, Days: 20, End: synth.DefaultEnd, SendingDomains: []string{"mg.brightcart.io"}}, mgserver.Options{})
	c := apiClient(t, e, RetryPolicy{})
	dom := e.Res.SendingDomains[0]
	// More than a page of bounces.
	for i := range 1500 {
		b := synth.Bounce{Address: fmt.Sprintf("user%04d@bulk.example", i), Code: "550", Error: "5.1.1 no such user",
			CreatedAt: synth.DefaultEnd.Add(-time.Duration(i) * time.Minute)}
		if err := e.Acct.AddBounce(dom, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Acct.AddAllow(dom, synth.AllowEntry{Type: "domain", Value: "partner.example", Reason: "vip", CreatedAt: synth.DefaultEnd}); err != nil {
		t.Fatal(err)
	}

	bounces, pages := readWhole(t, c, dom, maildiag.ListBounces)
	want := e.Acct.Bounces(dom)
	if len(bounces) != len(want) || pages < 2 {
		t.Fatalf("bounces: %d entries in %d pages, want %d in several", len(bounces), pages, len(want))
	}
	for _, w := range want {
		g, ok := bounces[w.Address]
		if !ok || g.Code != w.Code || g.Error != w.Error || g.CreatedUS != w.CreatedAt.Truncate(time.Second).UnixMicro() ||
			g.List != maildiag.ListBounces || g.SendingDomain != dom || len(g.Raw) == 0 {
			t.Fatalf("bounce %s: got %+v, want %+v", w.Address, g, w)
		}
	}

	unsubs, _ := readWhole(t, c, dom, maildiag.ListUnsubscribes)
	wantU := e.Acct.Unsubscribes(dom)
	if len(unsubs) != len(wantU) || len(wantU) == 0 {
		t.Fatalf("unsubscribes: %d, want %d (and some)", len(unsubs), len(wantU))
	}
	for _, w := range wantU {
		if g := unsubs[w.Address]; !slices.Equal(g.Tags, w.Tags) || g.List != maildiag.ListUnsubscribes {
			t.Fatalf("unsubscribe %s: tags %v, want %v", w.Address, g.Tags, w.Tags)
		}
	}

	complaints, _ := readWhole(t, c, dom, maildiag.ListComplaints)
	if wantC := e.Acct.Complaints(dom); len(complaints) != len(wantC) {
		t.Fatalf("complaints: %d, want %d", len(complaints), len(wantC))
	}
	for _, g := range complaints {
		if g.List != maildiag.ListComplaints {
			t.Fatalf("complaint %s on list %q", g.Address, g.List)
		}
	}

	allow, _ := readWhole(t, c, dom, maildiag.ListAllowlist)
	wantA := e.Acct.Allowlist(dom)
	if len(allow) != len(wantA) {
		t.Fatalf("allowlist: %d, want %d", len(allow), len(wantA))
	}
	if g := allow["partner.example"]; g.Kind != "domain" || g.Reason != "vip" || g.List != maildiag.ListAllowlist {
		t.Errorf("allowlist domain entry: %+v", g)
	}
}

func TestReadListFaultsAndErrors(t *testing.T) {
	e := mgtest.New(t, apiConfig(3000), mgserver.Options{Faults: mgserver.Faults{
		ServerError: mgserver.FaultRule{Every: 2}, Truncate: mgserver.FaultRule{Every: 3},
	}})
	c := apiClient(t, e, RetryPolicy{})
	dom := e.Res.SendingDomains[0]
	got, _ := readWhole(t, c, dom, maildiag.ListBounces)
	if len(got) != len(e.Acct.Bounces(dom)) {
		t.Fatalf("through faults: %d bounces, want %d", len(got), len(e.Acct.Bounces(dom)))
	}
	if _, err := c.ReadList(context.Background(), "nosuch.example.com", maildiag.ListAllowlist, func(*Batch) error { return nil }); err == nil {
		t.Error("allowlist of an unknown domain: no error")
	}
	if _, err := c.ReadList(context.Background(), dom, "spam", func(*Batch) error { return nil }); err == nil {
		t.Error("unknown list: no error")
	}
}
