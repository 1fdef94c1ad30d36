package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/pgtest"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/syncer"
	"github.com/maildiag/maildiag/synth"
)

// The server on a PostgreSQL index: the API's cases run on both engines,
// and several servers share one index as several serve processes would.

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// engines are the index engines the API's cases run on.
var engines = []string{"sqlite", "postgres"}

// pgStore is a PostgreSQL index as the server's store, with a summary of
// its span only.
type pgStore struct{ *pg.DB }

func (s pgStore) Summary(ctx context.Context) (*IndexSummary, error) {
	sp, err := s.DB.Span(ctx)
	if err != nil {
		return nil, err
	}
	return &IndexSummary{First: sp.First, Last: sp.Last, Domains: []DomainSummary{}}, nil
}

// startPGServer serves the PostgreSQL index at u with cfg until the test
// ends, through a connection pool of its own, as a serve process would.
func startPGServer(t *testing.T, u string, cfg Config) *testServer {
	t.Helper()
	db, err := pg.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = pgStore{db}
	if cfg.NewWriter == nil {
		cfg.NewWriter = func(ctx context.Context) (Writer, error) { return db.NewWriter(ctx) }
	}
	if cfg.BackupDir == "" {
		cfg.BackupDir = filepath.Join(t.TempDir(), "backups")
	}
	return serveTest(t, cfg, db, func() { db.Close() })
}

// pgEventKeys are the events a PostgreSQL index holds, as "type id",
// sorted: an event stored twice is there twice.
func pgEventKeys(t *testing.T, u string) []string {
	t.Helper()
	rows, err := pgtest.Conn(t, u).Query(context.Background(), `
		SELECT t.name || ' ' || e.event_id FROM events e JOIN event_types t ON t.id = e.type_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// accountKeys are an account's events, as pgEventKeys.
func accountKeys(mg *mgtest.Server) []string {
	var out []string
	for _, d := range mg.Acct.Domains() {
		for _, e := range mg.Acct.Events(d) {
			out = append(out, e.Type+" "+e.ID)
		}
	}
	sort.Strings(out)
	return out
}

// sameKeys fails unless the index holds the account's events, each once.
func sameKeys(t *testing.T, what, u string, mg *mgtest.Server) {
	t.Helper()
	got, want := pgEventKeys(t, u), accountKeys(mg)
	if len(want) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		seen := map[string]int{}
		twice := 0
		for _, k := range got {
			if seen[k]++; seen[k] == 2 {
				twice++
			}
		}
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Logf("first difference: index %q, account %q", got[i], want[i])
				break
			}
		}
		t.Fatalf("%s: the index holds %d events (%d stored twice), the account %d", what, len(got), twice, len(want))
	}
}

// Two servers on one PostgreSQL index, each with its own connections as
// two serve processes behind a load balancer: a webhook one of them
// stored is a replay at the other; events that reach one by webhook and
// the other by its sync are stored once.
func TestTwoServersWebhooksAndSync(t *testing.T) {
	cfg := mgtest.Config(1500, mgtest.Domains[0])
	mg := mgtest.New(t, cfg, mgserver.Options{})
	var hooks bytes.Buffer
	if _, err := synth.Write(context.Background(), &hooks, cfg, synth.Output{Format: synth.FormatWebhooks}); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(hooks.Bytes()), []byte("\n"))
	half := len(lines) / 2
	end := mg.Res.End
	t0 := time.Now()
	clock := func() time.Time { return end.Add(time.Since(t0)) }
	u := pgtest.URL(t)
	a := startPGServer(t, u, Config{SigningKey: mg.Res.SigningKey, WebhookMaxAge: 30 * 24 * time.Hour, Now: clock})
	postAll(t, a.URL, lines[:half])
	t.Logf("%d webhooks at a after %s", half, time.Since(t0))
	// b syncs the account, half of whose events a stored by webhook.
	opts := &syncer.Options{Source: "events", Lookback: 9 * 24 * time.Hour, LateThreshold: 30 * time.Minute, Workers: 2, Now: clock, NoSuppressions: true}
	b := startPGServer(t, u, Config{SigningKey: mg.Res.SigningKey, WebhookMaxAge: 30 * 24 * time.Hour, Now: clock,
		Mailgun: testkit.Client(t, mg.URL, mgtest.Key, 2), APIKey: mgtest.Key, Sync: opts, SyncEvery: time.Hour})
	for i, l := range [][]byte{lines[0], lines[half-1]} {
		if code, body := post(t, b.URL+"/webhooks/mailgun", "application/json", l); code != 406 {
			t.Errorf("webhook %d that a stored, replayed at b: %d %s, want 406", i, code, body)
		}
	}
	tok := b.user(t, "vic", "viewer")
	var st Status
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, body := b.do(t, "GET", "/api/v1/status", tok, nil)
		json.Unmarshal(body, &st)
		if st.Sync.Last != nil {
			break
		}
	}
	if st.Sync.Last == nil || !st.Sync.Last.OK || st.Sync.Last.By != b.srv.holder {
		t.Fatalf("sync state %+v: want a pass by b", st.Sync)
	}
	if !strings.Contains(st.Sync.Last.Summary, fmt.Sprintf("%d new", len(lines)-half)) {
		t.Errorf("b's pass: %q, want %d new events (the other %d came by webhook to a)", st.Sync.Last.Summary, len(lines)-half, half)
	}
	t.Logf("b's pass after %s", time.Since(t0))
	sameKeys(t, "webhooks at a, sync at b", u, mg)
	// The rest by webhook to a, the first of them also to b: b's sync
	// stored their events; each token is taken once.
	postAll(t, a.URL, lines[half:])
	if code, body := post(t, b.URL+"/webhooks/mailgun", "application/json", lines[half]); code != 406 {
		t.Errorf("a webhook a took, at b: %d %s, want 406", code, body)
	}
	sameKeys(t, "every webhook at a after b's sync", u, mg)
	var tokens int64
	if err := pgtest.Conn(t, u).QueryRow(context.Background(), `SELECT COUNT(*) FROM webhook_tokens`).Scan(&tokens); err != nil || tokens != int64(len(lines)) {
		t.Errorf("%d webhook tokens recorded (%v), want %d", tokens, err, len(lines))
	}
}

// postAll posts webhooks from 16 clients at once (a server's webhook
// writer stores those arriving together in one transaction) and fails
// unless each is answered 200.
func postAll(t *testing.T, base string, lines [][]byte) {
	t.Helper()
	next := make(chan []byte)
	errs := make(chan string, len(lines))
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range next {
				resp, err := httpClient.Post(base+"/webhooks/mailgun", "application/json", bytes.NewReader(l))
				if err != nil {
					errs <- err.Error()
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- resp.Status
				}
			}
		}()
	}
	for _, l := range lines {
		next <- l
	}
	close(next)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("webhook: %s", e)
	}
}

// syncWriters counts the writers the servers' sync passes hold at once:
// each server's first writer is its webhook writer; every later one is a
// pass's (these servers take no actions).
type syncWriters struct {
	mu          sync.Mutex
	open, max   int
	passes      map[string]int // by server
	firstServed map[string]bool
}

func (c *syncWriters) newWriter(db *pg.DB, name string) func(ctx context.Context) (Writer, error) {
	return func(ctx context.Context) (Writer, error) {
		w, err := db.NewWriter(ctx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.firstServed[name] {
			c.firstServed[name] = true
			return w, nil
		}
		c.open++
		c.max = max(c.max, c.open)
		c.passes[name]++
		return &countedWriter{Writer: w, c: c}, nil
	}
}

type countedWriter struct {
	*pg.Writer
	c    *syncWriters
	once sync.Once
}

// Close holds the pass open a little longer, so that a second pass
// running at the same time would overlap it.
func (w *countedWriter) Close() error {
	w.once.Do(func() {
		time.Sleep(50 * time.Millisecond)
		w.c.mu.Lock()
		w.c.open--
		w.c.mu.Unlock()
	})
	return w.Writer.Close()
}

func (c *syncWriters) snapshot() (max int, passes map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.max, maps.Clone(c.passes)
}

// Two servers on one PostgreSQL index, both told to sync every 100 ms:
// one syncs at a time; when one stops, the other goes on alone. The
// events are stored once.
func TestTwoServersOneSyncs(t *testing.T) {
	mg := mgtest.New(t, mgtest.Config(1200, mgtest.Domains[0]), mgserver.Options{})
	end := mg.Res.End
	t0 := time.Now()
	clock := func() time.Time { return end.Add(time.Since(t0)) }
	u := pgtest.URL(t)
	c := &syncWriters{passes: map[string]int{}, firstServed: map[string]bool{}}
	start := func(name string) (*testServer, context.CancelFunc) {
		db, err := pg.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		opts := &syncer.Options{Source: "events", Lookback: 9 * 24 * time.Hour, LateThreshold: 30 * time.Minute, Workers: 2, Now: clock, NoSuppressions: true}
		cfg := Config{Mailgun: testkit.Client(t, mg.URL, mgtest.Key, 2), APIKey: mgtest.Key, Sync: opts, SyncEvery: 100 * time.Millisecond,
			Now: clock, Store: pgStore{db}, NewWriter: c.newWriter(db, name), BackupDir: t.TempDir()}
		return serveStoppable(t, cfg, db, func() { db.Close() })
	}
	_, stopA := start("a")
	b, _ := start("b")
	waitPasses := func(name string, n int) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if _, p := c.snapshot(); p[name] >= n || name == "" && p["a"]+p["b"] >= n {
				return
			}
		}
		_, p := c.snapshot()
		t.Fatalf("passes %v: want %d by %q", p, n, name)
	}
	waitPasses("", 4) // both are due every 100 ms
	most, passes := c.snapshot()
	t.Logf("passes while both ran: %v, at most %d at once", passes, most)
	if most != 1 {
		t.Errorf("%d sync passes ran at once, want 1", most)
	}
	stopA()
	waitPasses("b", passes["b"]+2)
	most, passes = c.snapshot()
	t.Logf("passes: %v, at most %d at once", passes, most)
	if most != 1 {
		t.Errorf("%d sync passes ran at once, want 1", most)
	}
	if l, err := b.srv.cfg.Store.Lease(context.Background(), syncLease); err != nil || l == nil || l.Holder != b.srv.holder {
		t.Errorf("lease %+v %v: want b's", l, err)
	}
	sameKeys(t, "two servers syncing", u, mg)
}
