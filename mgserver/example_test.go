package mgserver_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/synth"
	"github.com/mailgun/mailgun-go/v5"
	"github.com/mailgun/mailgun-go/v5/mtypes"
)

// A generated account served on loopback and read with mailgun-go, as the
// sync tests do.
func Example() {
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	acct, res, err := mgserver.FromSynth(context.Background(), synth.Config{Seed: 1, Events: 1000, Days: 3, End: end, NoStories: true})
	if err != nil {
		panic(err)
	}
	srv, err := mgserver.New(acct, mgserver.Options{APIKey: "key-example", Now: func() time.Time { return end }})
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	domain := res.SendingDomains[0]
	mg := mailgun.NewMailgun("key-example")
	if err := mg.SetAPIBase(hs.URL); err != nil { // v5 appends /v3/{domain}/bounces and so on
		panic(err)
	}
	it := mg.ListBounces(domain, &mailgun.ListOptions{Limit: 10})
	var page []mtypes.Bounce
	n := 0
	for it.Next(context.Background(), &page) {
		n += len(page)
	}
	fmt.Println(it.Err(), n == len(acct.Bounces(domain)), srv.Stats().SuppressionPages > 1)
	// Output: <nil> true true
}
