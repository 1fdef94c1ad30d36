package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/internal/testkit"
)

// testStore is a SQLite index as the server's store, as cmd/maildiag
// makes it, with a summary of its span only.
type testStore struct{ *index.DB }

func (s testStore) Summary(ctx context.Context) (*IndexSummary, error) {
	sp, err := s.DB.Span(ctx)
	if err != nil {
		return nil, err
	}
	return &IndexSummary{First: sp.First, Last: sp.Last, Domains: []DomainSummary{}}, nil
}

// syncBuffer is a log both the server and the test use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// testServer is a server on loopback over a real index: a SQLite file
// (DB and Path set) or PostgreSQL.
type testServer struct {
	URL       string
	DB        *index.DB
	Path      string
	BackupDir string
	Log       *syncBuffer
	srv       *Server
	team      teamAdder
}

// teamAdder is what the tests add users and tokens with.
type teamAdder interface {
	AddUser(ctx context.Context, u maildiag.User) error
	AddAPIToken(ctx context.Context, user string, hash []byte, label string, atUS int64) error
}

// startServer serves a new index (or path, when given) with cfg until the
// test ends; cfg's Store, NewWriter and Log are filled in.
func startServer(t *testing.T, path string, cfg Config) *testServer {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "index.db")
	}
	db, err := index.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = testStore{db}
	cfg.NewWriter = func(ctx context.Context) (Writer, error) { return db.NewWriter(ctx) }
	if cfg.BackupDir == "" {
		cfg.BackupDir = filepath.Join(filepath.Dir(path), "backups")
	}
	ts := serveTest(t, cfg, db, func() { db.Close() })
	ts.DB, ts.Path = db, path
	return ts
}

// serveTest runs a server of cfg (with its Store and NewWriter) on
// loopback until the test ends, then closes the index with done.
func serveTest(t *testing.T, cfg Config, team teamAdder, done func()) *testServer {
	t.Helper()
	ts, _ := serveStoppable(t, cfg, team, done)
	return ts
}

// serveStoppable is serveTest, with a function that stops the server
// before the test ends (and waits for it).
func serveStoppable(t *testing.T, cfg Config, team teamAdder, done func()) (*testServer, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	cfg.Log = slog.New(slog.NewTextHandler(logs, nil))
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("server run: %v", err)
			}
			done()
		})
	}
	t.Cleanup(stop)
	return &testServer{URL: "http://" + ln.Addr().String(), BackupDir: cfg.BackupDir, Log: logs, srv: srv, team: team}, stop
}

// user adds a user with a role and returns a token of theirs.
func (ts *testServer) user(t *testing.T, name, role string) string {
	t.Helper()
	ctx := context.Background()
	if err := ts.team.AddUser(ctx, maildiag.User{Name: name, Role: role, CreatedUS: time.Now().UnixMicro()}); err != nil {
		t.Fatal(err)
	}
	tok, hash := NewToken()
	if err := ts.team.AddAPIToken(ctx, name, hash, "test", time.Now().UnixMicro()); err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends a request with a token ("" for none) and a JSON body (nil for
// none), and returns the status and body.
func (ts *testServer) do(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// post sends a webhook body with a content type.
func post(t *testing.T, url, contentType string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// count is the number a counting query gives.
func count(t *testing.T, db *index.DB, q string, args ...any) int64 {
	t.Helper()
	rows := testkit.Query(t, db, q, args...)
	if len(rows) != 1 {
		t.Fatalf("%s: %d rows", q, len(rows))
	}
	n, _ := rows[0][0].(int64)
	return n
}

// httpClient keeps connections for the flood tests.
var httpClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
