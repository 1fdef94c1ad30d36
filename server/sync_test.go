package server

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/syncer"
)

// The continuous sync: a server syncs the account on its interval and
// says so on the status page; while another process holds the sync's
// lease in the index, a server does not sync at all.
func TestContinuousSync(t *testing.T) {
	mg := mgtest.New(t, mgtest.Config(1200, mgtest.Domains[0]), mgserver.Options{})
	path := filepath.Join(t.TempDir(), "index.db")
	ctx := context.Background()
	db, err := index.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := mg.Clock.Now
	// Another process holds the lease for an hour.
	if ok, err := db.AcquireLease(ctx, syncLease, "other-process", now().UnixMicro(), now().Add(time.Hour).UnixMicro()); !ok || err != nil {
		t.Fatalf("lease: %v %v", ok, err)
	}
	opts := &syncer.Options{Source: "events", Lookback: 9 * 24 * time.Hour, LateThreshold: 30 * time.Minute, Workers: 2, Now: now}
	cfg := Config{Mailgun: testkit.Client(t, mg.URL, mgtest.Key, 2), APIKey: mgtest.Key, Sync: opts, SyncEvery: 100 * time.Millisecond, Now: now}
	ts := startServer(t, path, cfg)
	time.Sleep(1500 * time.Millisecond) // the first pass is due after a second
	if n := mg.Requests("GET") + mg.Requests("POST"); n != 0 {
		t.Fatalf("%d requests reached Mailgun while another process held the sync's lease", n)
	}
	// The lease expires: this server takes it and syncs.
	if err := db.ReleaseLease(ctx, syncLease, "other-process"); err != nil {
		t.Fatal(err)
	}
	tok := ts.user(t, "vic", "viewer")
	deadline := time.Now().Add(20 * time.Second)
	var st Status
	for time.Now().Before(deadline) {
		_, body := ts.do(t, "GET", "/api/v1/status", tok, nil)
		json.Unmarshal(body, &st)
		if st.Sync.Last != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Sync.Last == nil || !st.Sync.Last.OK || st.Sync.Last.By != ts.srv.holder || !st.Sync.Enabled {
		t.Fatalf("sync state %+v, want a pass by this server", st.Sync)
	}
	testkit.SameEvents(t, "continuous sync", path, testkit.EventKeys(t, mg.Acct, nil))
	l, err := db.Lease(ctx, syncLease)
	if err != nil || l.Holder != ts.srv.holder {
		t.Errorf("lease %+v, %v: want it held by the server that synced", l, err)
	}
}

// Without an API key the status says sync is off.
func TestSyncOff(t *testing.T) {
	ts := startServer(t, "", Config{})
	tok := ts.user(t, "vic", "viewer")
	code, body := ts.do(t, "GET", "/api/v1/status", tok, nil)
	var st Status
	if err := json.Unmarshal(body, &st); code != 200 || err != nil || st.Sync.Enabled || st.Sync.Note == "" || st.Webhooks.Enabled {
		t.Errorf("status %d %s: want sync off with a note, webhooks off", code, body)
	}
}
