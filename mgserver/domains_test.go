package mgserver

import (
	"context"
	"net/http"
	"testing"

	"github.com/maildiag/maildiag/synth"
	"github.com/mailgun/mailgun-go/v5"
	"github.com/mailgun/mailgun-go/v5/mtypes"
)

func TestSDKListDomains(t *testing.T) {
	cfg := smallConfig()
	cfg.SendingDomains = synth.DefaultSendingDomains
	e := newEnv(t, cfg, Options{})
	ctx := context.Background()
	mg := e.sdk()
	it := mg.ListDomains(&mailgun.ListDomainsOptions{Limit: 3})
	var names []string
	var page []mtypes.Domain
	pages := 0
	for it.Next(ctx, &page) {
		pages++
		for _, d := range page {
			names = append(names, d.Name)
			if d.State != "active" || d.SMTPLogin != "postmaster@"+d.Name || d.CreatedAt.IsZero() {
				t.Errorf("domain %+v: want active, a postmaster login and a creation date", d)
			}
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if pages != 2 || len(names) != len(cfg.SendingDomains) {
		t.Fatalf("ListDomains: %d pages, domains %v; want 2 pages of %v", pages, names, cfg.SendingDomains)
	}
	for i, n := range names {
		if n != cfg.SendingDomains[i] {
			t.Errorf("domain %d: %s, want %s", i, n, cfg.SendingDomains[i])
		}
	}
	if it.TotalCount != len(cfg.SendingDomains) {
		t.Errorf("total_count %d, want %d", it.TotalCount, len(cfg.SendingDomains))
	}
	d, err := mg.GetDomain(ctx, cfg.SendingDomains[2], nil)
	if err != nil || d.Domain.Name != cfg.SendingDomains[2] || len(d.SendingDNSRecords) == 0 || len(d.ReceivingDNSRecords) != 2 {
		t.Errorf("GetDomain: %+v, %v", d, err)
	}
	if _, err := mg.GetDomain(ctx, "nosuch.example.com", nil); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
		t.Errorf("GetDomain of an unknown domain: %v, want 404", err)
	}
	// The v4 path answers too, for clients that use it.
	e.get("/v4/domains", http.StatusOK)
	// Three list requests from the iterator (the last one empty) and one here.
	if n := e.srv.Stats().DomainPages; n != 4 {
		t.Errorf("DomainPages = %d, want 4", n)
	}
}
