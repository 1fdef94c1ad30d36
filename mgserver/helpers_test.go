package mgserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/synth"
)

const testKey = "key-test-0123456789abcdef"

// smallConfig is a quick account: two domains, a week, no stories.
func smallConfig() synth.Config {
	return synth.Config{
		Seed: 7, Events: 3000, Days: 7, End: synth.DefaultEnd, NoStories: true,
		SendingDomains: []string{"mg.brightcart.io", "mail.ledgerly.com"},
	}
}

// env is an account served on loopback, on a clock the test moves.
type env struct {
	t     testing.TB
	acct  *Account
	res   *synth.Result
	srv   *Server
	hs    *httptest.Server
	clock *Clock
}

// newEnv serves the account cfg describes on loopback, with the clock at
// the end of the range unless opts sets one.
func newEnv(t *testing.T, cfg synth.Config, opts Options) *env {
	t.Helper()
	acct, res, err := FromSynth(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return serveAccount(t, acct, res, opts)
}

// serveAccount serves an account made by FromSynth, with the clock at
// res.End unless opts sets one.
func serveAccount(t *testing.T, acct *Account, res *synth.Result, opts Options) *env {
	t.Helper()
	c := NewClock(res.End)
	if opts.Now == nil {
		opts.Now = c.Now
	}
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	srv, err := New(acct, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &env{t: t, acct: acct, res: res, srv: srv, hs: hs, clock: c}
}

// rawClient makes one connection per request, so dropped connections
// surface instead of being retried by the transport.
func rawClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the test key and returns the whole response.
func (e *env) do(method, url, contentType string, body io.Reader) (response, error) {
	if strings.HasPrefix(url, "/") {
		url = e.hs.URL + url
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return response{}, err
	}
	req.SetBasicAuth("api", testKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := rawClient().Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}, err
}

// get fetches url and fails the test unless the status is want.
func (e *env) get(url string, want int) []byte {
	e.t.Helper()
	r, err := e.do(http.MethodGet, url, "", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if r.status != want {
		e.t.Fatalf("GET %s: status %d, want %d: %.300s", url, r.status, want, r.body)
	}
	return r.body
}

// eventsPage is an Events API response.
type eventsPage struct {
	Items  []json.RawMessage `json:"items"`
	Paging struct {
		First, Last, Next, Previous string
	} `json:"paging"`
}

func (e *env) eventsPage(url string) eventsPage {
	e.t.Helper()
	var p eventsPage
	if err := json.Unmarshal(e.get(url, http.StatusOK), &p); err != nil {
		e.t.Fatalf("GET %s: %v", url, err)
	}
	return p
}

// followEvents pages from url until an empty page and returns the items
// and the URL of that empty page.
func (e *env) followEvents(url string) ([]json.RawMessage, string) {
	e.t.Helper()
	var all []json.RawMessage
	for pages := 0; ; pages++ {
		if pages > 1000 {
			e.t.Fatal("more than 1000 pages: paging does not end")
		}
		p := e.eventsPage(url)
		if len(p.Items) == 0 {
			return all, url
		}
		all = append(all, p.Items...)
		url = p.Paging.Next
	}
}

// itemID returns an item's id and timestamp, as a dedupe key.
func itemID(t *testing.T, raw []byte) string {
	t.Helper()
	var v struct {
		ID        string          `json:"id"`
		Timestamp json.Number     `json:"timestamp"`
		Event     string          `json:"event"`
		TS        string          `json:"@timestamp"`
		Domain    json.RawMessage `json:"domain"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("item: %v: %.200s", err, raw)
	}
	return v.ID + "@" + v.Timestamp.String() + v.TS
}
