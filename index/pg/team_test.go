package pg_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/index/pg"
)

// The team server's tables: one set of cases run on both engines.

// teamStore is what the cases use of a store.
type teamStore interface {
	AddUser(ctx context.Context, u maildiag.User) error
	SetUserRole(ctx context.Context, name, role string) (bool, error)
	Users(ctx context.Context) ([]maildiag.User, error)
	User(ctx context.Context, name string) (*maildiag.User, error)
	AddAPIToken(ctx context.Context, user string, hash []byte, label string, atUS int64) error
	RevokeAPITokens(ctx context.Context, user string, atUS int64) (int, error)
	UserByToken(ctx context.Context, hash []byte) (*maildiag.User, error)
	AddSession(ctx context.Context, hash []byte, s maildiag.Session, nowUS int64) error
	SessionByHash(ctx context.Context, hash []byte, nowUS int64) (*maildiag.Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
	LoginFailures(ctx context.Context, client string, sinceUS int64) (int, error)
	AddLoginFailure(ctx context.Context, client string, atUS int64) error
	AcquireLease(ctx context.Context, name, holder string, nowUS, untilUS int64) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
	SetLeaseNote(ctx context.Context, name, holder, note string) error
	Lease(ctx context.Context, name string) (*maildiag.Lease, error)
	AddResendRequest(ctx context.Context, r *maildiag.ResendRequest) error
	ResendRequest(ctx context.Context, id int64) (*maildiag.ResendRequest, error)
	ResendRequests(ctx context.Context, status string, limit int) ([]maildiag.ResendRequest, error)
	DecideResendRequest(ctx context.Context, id int64, status, by string, atUS int64) (bool, error)
	FinishResendRequest(ctx context.Context, id int64, status, result string) error
}

// tokenWriter is a writer's webhook tokens.
type tokenWriter interface {
	FirstWebhookToken(ctx context.Context, token string, atUS int64) (bool, error)
	ForgetWebhookTokens(ctx context.Context, beforeUS int64) error
	Commit(ctx context.Context) error
	Close() error
}

type teamEngine struct {
	name string
	// open returns the store and a function opening writers on it.
	open func(t *testing.T) (teamStore, func() tokenWriter)
}

var teamEngines = []teamEngine{
	{"sqlite", func(t *testing.T) (teamStore, func() tokenWriter) {
		db, err := index.Open(context.Background(), filepath.Join(t.TempDir(), "index.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db, func() tokenWriter {
			w, err := db.NewWriter(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			return w
		}
	}},
	{"postgres", func(t *testing.T) (teamStore, func() tokenWriter) {
		db, _ := open(t)
		return db, func() tokenWriter {
			w, err := db.NewWriter(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			return w
		}
	}},
}

func TestTeamTables(t *testing.T) {
	for _, e := range teamEngines {
		t.Run(e.name, func(t *testing.T) {
			st, newWriter := e.open(t)
			ctx := context.Background()
			t.Run("users", func(t *testing.T) {
				for _, u := range []maildiag.User{{Name: "zoe", Role: "viewer", CreatedUS: 1}, {Name: "al", Role: "agent", CreatedUS: 2}} {
					if err := st.AddUser(ctx, u); err != nil {
						t.Fatal(err)
					}
				}
				err := st.AddUser(ctx, maildiag.User{Name: "al", Role: "lead", CreatedUS: 3})
				if !errors.Is(err, index.ErrUserExists) && !errors.Is(err, pg.ErrUserExists) {
					t.Errorf("adding al twice: %v, want user exists", err)
				}
				if err := st.AddUser(ctx, maildiag.User{Name: "bad", Role: "admin", CreatedUS: 3}); err == nil {
					t.Error("a role outside viewer, agent, lead was stored")
				}
				if ok, err := st.SetUserRole(ctx, "zoe", "lead"); !ok || err != nil {
					t.Errorf("set zoe's role: %v %v", ok, err)
				}
				if ok, err := st.SetUserRole(ctx, "nobody", "lead"); ok || err != nil {
					t.Errorf("set nobody's role: %v %v, want false", ok, err)
				}
				us, err := st.Users(ctx)
				if err != nil || len(us) != 2 || us[0] != (maildiag.User{Name: "al", Role: "agent", CreatedUS: 2}) || us[1].Role != "lead" {
					t.Errorf("users %+v %v", us, err)
				}
				if u, err := st.User(ctx, "nobody"); u != nil || err != nil {
					t.Errorf("user nobody: %+v %v, want nil", u, err)
				}
			})
			t.Run("tokens", func(t *testing.T) {
				h1, h2 := []byte("hash-one-32-bytes-long-enough-xx"), []byte("hash-two-32-bytes-long-enough-xx")
				if err := st.AddAPIToken(ctx, "al", h1, "laptop", 10); err != nil {
					t.Fatal(err)
				}
				if err := st.AddAPIToken(ctx, "al", h2, "helpdesk", 11); err != nil {
					t.Fatal(err)
				}
				// SQLite does not enforce the foreign key (its pragma is off).
				if err := st.AddAPIToken(ctx, "nobody", []byte("h3"), "", 11); err == nil && e.name == "postgres" {
					t.Error("a token of no user was stored")
				}
				if u, err := st.UserByToken(ctx, h2); err != nil || u == nil || u.Name != "al" || u.Role != "agent" {
					t.Errorf("user by token: %+v %v, want al", u, err)
				}
				if n, err := st.RevokeAPITokens(ctx, "al", 20); n != 2 || err != nil {
					t.Errorf("revoke: %d %v, want 2", n, err)
				}
				if u, err := st.UserByToken(ctx, h1); u != nil || err != nil {
					t.Errorf("a revoked token still works: %+v %v", u, err)
				}
			})
			t.Run("sessions", func(t *testing.T) {
				if err := st.AddSession(ctx, []byte("old"), maildiag.Session{User: "al", CSRF: "c0", ExpiresUS: 50}, 10); err != nil {
					t.Fatal(err)
				}
				if err := st.AddSession(ctx, []byte("new"), maildiag.Session{User: "zoe", CSRF: "c1", ExpiresUS: 500}, 100); err != nil {
					t.Fatal(err)
				}
				if s, err := st.SessionByHash(ctx, []byte("new"), 200); err != nil || s == nil || *s != (maildiag.Session{User: "zoe", CSRF: "c1", ExpiresUS: 500}) {
					t.Errorf("session: %+v %v", s, err)
				}
				if s, err := st.SessionByHash(ctx, []byte("new"), 501); s != nil || err != nil {
					t.Errorf("an expired session: %+v %v, want nil", s, err)
				}
				if s, err := st.SessionByHash(ctx, []byte("old"), 0); s != nil || err != nil {
					t.Errorf("a session expired when another was added: %+v %v, want it dropped", s, err)
				}
				if err := st.DeleteSession(ctx, []byte("new")); err != nil {
					t.Fatal(err)
				}
				if s, _ := st.SessionByHash(ctx, []byte("new"), 200); s != nil {
					t.Errorf("a deleted session: %+v", s)
				}
			})
			t.Run("login failures", func(t *testing.T) {
				for _, at := range []int64{5, 15, 25, 26} {
					if err := st.AddLoginFailure(ctx, "10.0.0.1", at); err != nil {
						t.Fatal(err)
					}
				}
				st.AddLoginFailure(ctx, "10.0.0.2", 25)
				if n, err := st.LoginFailures(ctx, "10.0.0.1", 10); n != 3 || err != nil {
					t.Errorf("failures since 10: %d %v, want 3", n, err)
				}
				if n, err := st.LoginFailures(ctx, "10.0.0.1", 0); n != 3 || err != nil {
					t.Errorf("failures since 0 after pruning: %d %v, want 3 (the one at 5 was dropped)", n, err)
				}
			})
			t.Run("leases", func(t *testing.T) {
				acquire := func(holder string, now, until int64) bool {
					t.Helper()
					ok, err := st.AcquireLease(ctx, "sync", holder, now, until)
					if err != nil {
						t.Fatal(err)
					}
					return ok
				}
				if !acquire("a", 0, 100) || acquire("b", 50, 150) || !acquire("a", 60, 200) {
					t.Error("a takes and renews the lease, b is refused while it holds it")
				}
				if err := st.SetLeaseNote(ctx, "sync", "b", "not b's"); err != nil {
					t.Fatal(err)
				}
				if err := st.SetLeaseNote(ctx, "sync", "a", "pass 1"); err != nil {
					t.Fatal(err)
				}
				if !acquire("b", 201, 300) || acquire("a", 202, 400) {
					t.Error("b takes the expired lease, then a is refused")
				}
				if err := st.ReleaseLease(ctx, "sync", "b"); err != nil {
					t.Fatal(err)
				}
				l, err := st.Lease(ctx, "sync")
				if err != nil || l == nil || l.Holder != "b" || l.UntilUS != 0 || l.Note != "pass 1" {
					t.Errorf("lease %+v %v: want released by b, a's note kept", l, err)
				}
				if !acquire("a", 203, 400) {
					t.Error("a released lease is not taken")
				}
				if l, err := st.Lease(ctx, "never"); l != nil || err != nil {
					t.Errorf("lease never taken: %+v %v", l, err)
				}
			})
			t.Run("resend requests", func(t *testing.T) {
				r1 := &maildiag.ResendRequest{Query: "ev1", To: "x@example.com", Reason: "phone", RequestedBy: "al", RequestedUS: 7}
				r2 := &maildiag.ResendRequest{Query: "<m@x>", To: "y@example.com", RequestedBy: "al", RequestedUS: 8}
				for _, r := range []*maildiag.ResendRequest{r1, r2} {
					if err := st.AddResendRequest(ctx, r); err != nil {
						t.Fatal(err)
					}
				}
				if r1.ID == 0 || r2.ID <= r1.ID || r1.Status != maildiag.ResendPending {
					t.Errorf("ids %d %d, status %q", r1.ID, r2.ID, r1.Status)
				}
				if ok, err := st.DecideResendRequest(ctx, r1.ID, maildiag.ResendSent, "zoe", 9); !ok || err != nil {
					t.Errorf("decide: %v %v", ok, err)
				}
				if ok, err := st.DecideResendRequest(ctx, r1.ID, maildiag.ResendDeclined, "other", 10); ok || err != nil {
					t.Errorf("decide again: %v %v, want false", ok, err)
				}
				if err := st.FinishResendRequest(ctx, r1.ID, maildiag.ResendSent, "new message <n@x>"); err != nil {
					t.Fatal(err)
				}
				got, err := st.ResendRequest(ctx, r1.ID)
				want := maildiag.ResendRequest{ID: r1.ID, Query: "ev1", To: "x@example.com", Reason: "phone", RequestedBy: "al", RequestedUS: 7,
					DecidedBy: "zoe", DecidedUS: 9, Status: "sent", Result: "new message <n@x>"}
				if err != nil || got == nil || *got != want {
					t.Errorf("request %+v %v, want %+v", got, err, want)
				}
				if rs, err := st.ResendRequests(ctx, "pending", 10); err != nil || len(rs) != 1 || rs[0].ID != r2.ID || rs[0].DecidedBy != "" {
					t.Errorf("pending %+v %v, want r2", rs, err)
				}
				if rs, err := st.ResendRequests(ctx, "", 10); err != nil || len(rs) != 2 || rs[0].ID != r2.ID {
					t.Errorf("all %+v %v, want r2, r1", rs, err)
				}
				if r, err := st.ResendRequest(ctx, 999); r != nil || err != nil {
					t.Errorf("request 999: %+v %v", r, err)
				}
			})
			t.Run("webhook tokens", func(t *testing.T) {
				w1, w2 := newWriter(), newWriter()
				first := func(w tokenWriter, tok string, at int64) bool {
					t.Helper()
					ok, err := w.FirstWebhookToken(ctx, tok, at)
					if err != nil {
						t.Fatal(err)
					}
					if err := w.Commit(ctx); err != nil {
						t.Fatal(err)
					}
					return ok
				}
				if !first(w1, "tok-a", 100) || first(w2, "tok-a", 110) || first(w1, "tok-a", 120) || !first(w2, "tok-b", 200) {
					t.Error("a token is first once, from any writer")
				}
				if err := w1.ForgetWebhookTokens(ctx, 150); err != nil {
					t.Fatal(err)
				}
				w1.Commit(ctx)
				if !first(w2, "tok-a", 300) || first(w2, "tok-b", 300) {
					t.Error("a forgotten token is new again; one not forgotten is not")
				}
			})
		})
	}
}

// Servers sharing a PostgreSQL index race for the sync's lease at once:
// exactly one gets it, however many ask through how many connections.
func TestLeaseOneHolder(t *testing.T) {
	_, u := open(t)
	ctx := context.Background()
	var dbs []*pg.DB
	for range 4 {
		db, err := pg.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs = append(dbs, db)
	}
	for round := range 20 {
		now := int64(round) * 1000 // each round's lease has expired by the next
		var wg sync.WaitGroup
		var mu sync.Mutex
		var got []string
		start := make(chan struct{})
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				holder := string(rune('a' + i))
				ok, err := dbs[i%len(dbs)].AcquireLease(ctx, "sync", holder, now, now+500)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					got = append(got, holder)
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(got) != 1 {
			t.Fatalf("round %d: holders %v, want exactly one", round, got)
		}
		l, err := dbs[0].Lease(ctx, "sync")
		if err != nil || l.Holder != got[0] {
			t.Fatalf("round %d: lease %+v %v, want held by %s", round, l, err, got[0])
		}
	}
}

// A webhook token recorded by one server's open transaction makes
// another's wait for its commit, then counts as a replay: never both.
func TestWebhookTokenAcrossWriters(t *testing.T) {
	db, u := open(t)
	ctx := context.Background()
	other, err := pg.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	w1, err := db.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Close()
	w2, err := other.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if ok, err := w1.FirstWebhookToken(ctx, "tok-race", 1); !ok || err != nil {
		t.Fatalf("first: %v %v", ok, err)
	}
	done := make(chan bool, 1)
	go func() {
		ok, err := w2.FirstWebhookToken(ctx, "tok-race", 2)
		if err != nil {
			t.Error(err)
		}
		w2.Commit(ctx)
		done <- ok
	}()
	select {
	case ok := <-done:
		t.Fatalf("the second writer answered %v before the first committed", ok)
	case <-time.After(300 * time.Millisecond):
	}
	if err := w1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case ok := <-done:
		if ok {
			t.Error("both writers took the token as new")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second writer still waits after the first committed")
	}
}
