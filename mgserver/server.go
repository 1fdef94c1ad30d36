package mgserver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. Only APIKey is required.
type Options struct {
	// APIKey is the password HTTP Basic auth must carry (user "api").
	APIKey string
	// Now is the server clock. Default time.Now. Events after it have not
	// happened yet and are not shown; late events wait for it.
	Now func() time.Time
	// Seed selects the late events and drives fault injection.
	Seed int64
	// LateFraction of the loaded events (chosen by Seed), and every event
	// added with AddEvent, are late: invisible until the clock passes their
	// time plus LateDelay, so they appear inside ranges already served.
	LateFraction float64
	LateDelay    time.Duration
	// StoredRetention is how long stored messages can be fetched and
	// resent after they were accepted. Default 72 hours.
	StoredRetention time.Duration
	// EventRetention, when set, hides events older than the clock minus it,
	// as a plan's log retention does. Default: keep everything.
	EventRetention time.Duration
	// RewriteStorageURLs replaces the storage host in served items with the
	// server's own base URL, so clients can fetch and resend stored
	// messages without rewriting URLs themselves. Off by default: items
	// are then byte for byte what synth rendered.
	RewriteStorageURLs bool
	// BaseURL is the scheme and host written into paging URLs, e.g.
	// "http://127.0.0.1:41234". Default: taken from each request.
	BaseURL string
	// Faults configures fault injection.
	Faults Faults
	// Log, when set, receives one line per request (never the API key).
	Log io.Writer
}

// Server serves an Account over Mailgun's HTTP API. It is an http.Handler.
type Server struct {
	acct  *Account
	opts  Options
	stats counters

	mu     sync.Mutex // guards faults
	faults *faultState
	logMu  sync.Mutex
}

// New returns a server for acct.
func New(acct *Account, opts Options) (*Server, error) {
	if acct == nil {
		return nil, errors.New("new server: no account")
	}
	if opts.APIKey == "" {
		return nil, errors.New("new server: an API key is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LateFraction < 0 || opts.LateFraction > 1 {
		return nil, fmt.Errorf("new server: late fraction %v out of range 0..1", opts.LateFraction)
	}
	if opts.LateDelay < 0 || opts.StoredRetention < 0 || opts.EventRetention < 0 {
		return nil, errors.New("new server: negative delay or retention")
	}
	if opts.StoredRetention == 0 {
		opts.StoredRetention = 72 * time.Hour
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	s := &Server{acct: acct, opts: opts}
	fs, err := newFaultState(opts.Faults, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	s.faults = fs
	return s, nil
}

// Account returns the account the server serves.
func (s *Server) Account() *Account { return s.acct }

// SetFaults replaces the fault configuration and restarts its request
// numbering, e.g. to start a storm in the middle of a test.
func (s *Server) SetFaults(f Faults) error {
	fs, err := newFaultState(f, s.opts.Seed)
	if err != nil {
		return fmt.Errorf("set faults: %w", err)
	}
	s.mu.Lock()
	s.faults = fs
	s.mu.Unlock()
	return nil
}

func (s *Server) faultState() *faultState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// ServeHTTP answers one request: faults first (they stand in for Mailgun's
// edge), then authentication, then the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.stats.requests.Add(1)
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	fault := s.inject(rec, r)
	if !fault.handled {
		if !s.authorized(r) {
			s.stats.unauthorized.Add(1)
			// As recorded from the live API.
			rec.Header().Set("Content-Type", "text/html; charset=utf-8")
			rec.Header().Set("Www-Authenticate", `Basic realm="MG API"`)
			rec.WriteHeader(http.StatusUnauthorized)
			io.WriteString(rec, "Forbidden")
		} else if !s.refuse(rec, r) {
			s.stats.served.Add(1)
			s.route(rec, r)
		}
		fault.finish(s, rec)
	}
	s.logRequest(r, rec, fault.name, time.Since(start))
}

// baseURL is the scheme and host paging URLs point at.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) logRequest(r *http.Request, rec *recorder, fault string, d time.Duration) {
	if s.opts.Log == nil {
		return
	}
	line := fmt.Sprintf("%s %s %s %d %dB %s", time.Now().UTC().Format(time.RFC3339), r.Method, r.URL.RequestURI(), rec.status, rec.n, d.Round(time.Microsecond))
	if fault != "" {
		line += " fault=" + fault
	}
	s.logMu.Lock()
	fmt.Fprintln(s.opts.Log, line)
	s.logMu.Unlock()
}

// recorder remembers the status and size of a response, and can hold the
// body back so that a fault can cut it.
type recorder struct {
	http.ResponseWriter
	status int
	n      int
	wrote  bool
	hold   bool
	held   []byte
}

// WriteHeader records the status and forwards it unless the body is held.
func (r *recorder) WriteHeader(code int) {
	if r.wrote {
		return
	}
	r.wrote = true
	r.status = code
	if !r.hold {
		r.ResponseWriter.WriteHeader(code)
	}
}

// Write forwards or holds the body and counts what was sent.
func (r *recorder) Write(p []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	if r.hold {
		r.held = append(r.held, p...)
		return len(p), nil
	}
	n, err := r.ResponseWriter.Write(p)
	r.n += n
	return n, err
}

// release sends a held response, cut to cut bytes when cut >= 0.
func (r *recorder) release(cut int) {
	r.hold = false
	body := r.held
	if cut >= 0 && cut < len(body) {
		body = body[:cut]
	}
	r.Header().Set("Content-Length", fmt.Sprint(len(body)))
	r.ResponseWriter.WriteHeader(r.status)
	n, _ := r.ResponseWriter.Write(body)
	r.n += n
}
