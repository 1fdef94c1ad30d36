package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/syncer"
)

// DefaultListen is where serve listens unless told: loopback, and not
// 8025, the port of the local Mailgun server (mgsim serve).
const DefaultListen = "127.0.0.1:8470"

// Config is what a server is made of. Store and NewWriter are required.
type Config struct {
	Store Store
	// NewWriter opens a writer of the index: the server keeps one for
	// webhooks and opens others for a sync pass or an action.
	NewWriter func(ctx context.Context) (Writer, error)
	// SigningKey is Mailgun's webhook signing key: without it webhooks are
	// refused (503), never accepted unsigned.
	SigningKey string
	// WebhookMaxAge is how far a webhook's timestamp may be from now;
	// 0: DefaultWebhookMaxAge.
	WebhookMaxAge time.Duration
	// Mailgun is the API client of actions and of the sync; nil: both are
	// off (reads, webhooks and the UI work on what the index holds).
	Mailgun *ingest.Client
	// APIKey is taken out of every text the server writes or audits.
	APIKey string
	// BackupDir is where removals write their CSV backups first.
	BackupDir string
	// Sync are the options of the continuous sync's passes (through
	// Mailgun); nil: sync is off. SyncEvery is the time between passes,
	// one at a time across every server of the index.
	Sync      *syncer.Options
	SyncEvery time.Duration
	// SecureCookies marks cookies Secure also on plain HTTP (behind a TLS
	// proxy that does not say X-Forwarded-Proto).
	SecureCookies bool
	Log           *slog.Logger
	Now           func() time.Time // nil: time.Now
}

// DefaultWebhookMaxAge is how old (or how far ahead) a webhook's
// signature timestamp may be: a captured request cannot be replayed after
// it, and a replay within it is refused by its token.
const DefaultWebhookMaxAge = 5 * time.Minute

// Server is the team server.
type Server struct {
	cfg    Config
	holder string // this process, in leases
	mux    *http.ServeMux
	routes []route

	hooks   chan *hookJob
	writeMu sync.Mutex // the webhook writer: one goroutine at a time
	w       Writer
	reads   chan struct{} // slots of the API reads running at once (readSlots)
}

// readSlots is how many API reads run at once, a few per CPU; the others
// wait their turn. Run all together, 50 of them shared the CPUs: each
// took 50 times its own time, and the heaviest made the p99 (165 ms in
// the bench, where one request alone takes 1 to 3 ms); in turn, a request
// waits for those before it and then takes its own time.
func readSlots() int { return 2 * runtime.GOMAXPROCS(0) }

// route is a pattern the mux serves, for the OpenAPI test.
type route struct{ method, path string }

// New makes a server; Run serves it.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.NewWriter == nil {
		return nil, errors.New("new server: a store and a writer are required")
	}
	if cfg.WebhookMaxAge <= 0 {
		cfg.WebhookMaxAge = DefaultWebhookMaxAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.SyncEvery <= 0 {
		cfg.SyncEvery = 5 * time.Minute
	}
	var b [6]byte
	rand.Read(b[:])
	s := &Server{cfg: cfg, holder: hex.EncodeToString(b[:]), mux: http.NewServeMux(), hooks: make(chan *hookJob, 1024),
		reads: make(chan struct{}, readSlots())}
	s.register()
	return s, nil
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// handle registers a handler for "METHOD /path".
func (s *Server) handle(method, path string, h http.HandlerFunc) {
	s.routes = append(s.routes, route{method, path})
	s.mux.HandleFunc(method+" "+path, h)
}

// Routes lists "METHOD /path" of every route served.
func (s *Server) Routes() []string {
	out := make([]string, len(s.routes))
	for i, r := range s.routes {
		out[i] = r.method + " " + r.path
	}
	return out
}

// Handler is the server's HTTP handler, with its headers and request log.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h := w.Header()
		// Pages load nothing from elsewhere and run no inline script.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		s.mux.ServeHTTP(rec, r)
		// The path only: a query may hold addresses, never a secret, but
		// the log needs neither.
		s.cfg.Log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"ms", time.Since(start).Milliseconds(), "user", rec.user)
	})
}

// statusRecorder keeps the status and the user of a request for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	user   string
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Run serves on ln until ctx ends, then shuts down gracefully: requests
// in flight finish (webhooks answered only after their commit), then the
// writer closes.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	w, err := s.cfg.NewWriter(ctx)
	if err != nil {
		return fmt.Errorf("open the index for webhooks: %w", err)
	}
	s.w = w
	// A writer that can hold staged events (PostgreSQL's) merges a batch of
	// webhooks once at its commit rather than once per webhook: a merge
	// costs tens of milliseconds whatever its size.
	if b, ok := w.(interface{ SetBatch(n int) }); ok {
		b.SetBatch(maxHookBatch)
	}
	hookCtx, stopHooks := context.WithCancel(context.WithoutCancel(ctx))
	hooksDone := make(chan struct{})
	go func() {
		defer close(hooksDone)
		s.hookLoop(hookCtx)
	}()
	syncDone := make(chan struct{})
	go func() {
		defer close(syncDone)
		s.syncLoop(ctx)
	}()
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	<-syncDone
	stopHooks()
	<-hooksDone
	s.writeMu.Lock()
	cerr := s.w.Close()
	s.writeMu.Unlock()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, cerr)
}
