package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mailgun/mailgun-go/v5"
)

// Mailgun API bases: a domain lives in one region.
const (
	BaseUS = "https://api.mailgun.net"
	BaseEU = "https://api.eu.mailgun.net"
)

// ClientOptions configure a Client. BaseURL and APIKey are required.
type ClientOptions struct {
	// BaseURL is the API's scheme and host, e.g. BaseUS or a test server's
	// URL. A trailing /v3 (mailgun-go's form) is dropped.
	BaseURL string
	// APIKey is the private API key. The client sends it only to BaseURL's
	// host, and never puts it in an error.
	APIKey string
	// Limiter is shared by every client of the process; default: a new
	// one with no steady rate, pacing only after 429s.
	Limiter *Limiter
	// Retry bounds retries and waits; zero fields take their defaults.
	Retry RetryPolicy
	// Transport makes the HTTP exchanges; default: one tuned for many
	// parallel requests to one host.
	Transport http.RoundTripper
}

// Client talks to Mailgun's API over one shared rate limiter and retry
// policy. Its HTTPClient is what mailgun-go gets (Mailgun), so requests
// made through the SDK are paced and retried the same way as the raw
// pagers'. It is safe for concurrent use.
type Client struct {
	base    string
	host    string
	key     string
	limiter *Limiter
	policy  RetryPolicy
	next    http.RoundTripper
	stats   *Stats
	http    *http.Client
	secrets []string // the key in every form it is sent in
}

// NewClient returns a client for the API at o.BaseURL.
func NewClient(o ClientOptions) (*Client, error) {
	// The key may come as the base's password (http://api:KEY@host): it is
	// sent as the Authorization header, and the base keeps no user info.
	base, pw := SplitCredentials(strings.TrimSpace(o.BaseURL))
	base = strings.TrimRight(base, "/")
	base = strings.TrimSuffix(base, "/v3")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("new client: API base %q is not an http(s) URL", RedactURL(o.BaseURL))
	}
	if o.APIKey == "" {
		o.APIKey = pw
	}
	if o.APIKey == "" {
		return nil, errors.New("new client: no API key")
	}
	c := &Client{base: base, host: u.Host, key: o.APIKey, limiter: o.Limiter, policy: o.Retry.withDefaults(), next: o.Transport}
	c.secrets = append(secretForms(o.APIKey), secretForms(pw)...)
	if c.limiter == nil {
		c.limiter = NewLimiter(0)
	}
	if c.next == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		t.MaxConnsPerHost = 0
		c.next = t
	}
	return c.WithStats(&Stats{}), nil
}

// WithStats returns a client sharing c's limiter, policy and connections
// whose requests count into s: one per sending domain, say.
func (c *Client) WithStats(s *Stats) *Client {
	if s == nil {
		s = &Stats{}
	}
	cc := *c
	cc.stats = s
	cc.http = &http.Client{
		Transport: &transport{next: c.next, limiter: c.limiter, policy: c.policy, stats: s, secrets: c.secrets},
		// The key must not follow a redirect to another host, and Mailgun
		// does not redirect API calls.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &cc
}

// String describes the client without its key.
func (c *Client) String() string { return "mailgun client for " + c.base }

// GoString is String, so that %#v does not print the key either.
func (c *Client) GoString() string { return c.String() }

// BaseURL returns the API base, e.g. https://api.mailgun.net.
func (c *Client) BaseURL() string { return c.base }

// Host returns the API host, for messages.
func (c *Client) Host() string { return c.host }

// Limiter returns the limiter the client shares.
func (c *Client) Limiter() *Limiter { return c.limiter }

// Stats returns the counters the client's requests count into.
func (c *Client) Stats() *Stats { return c.stats }

// Mailgun returns a mailgun-go v5 client that sends through c (its pacing,
// retries and redaction); v5 takes the sending domain in each call.
func (c *Client) Mailgun() *mailgun.Client {
	mg := mailgun.NewMailgun(c.key)
	_ = mg.SetAPIBase(c.base) // refuses only a base with a version, which NewClient strips
	mg.SetHTTPClient(c.http)
	return mg
}

// get fetches an API URL (absolute, on the client's host) and returns the
// body of its 2xx answer.
func (c *Client) get(ctx context.Context, u string) ([]byte, error) {
	return c.do(ctx, http.MethodGet, u, nil, "")
}

// Get fetches an API URL (absolute, on the client's host) and returns the
// body of its 2xx answer; any other answer is an *APIError.
func (c *Client) Get(ctx context.Context, u string) ([]byte, error) { return c.get(ctx, u) }

// Post sends body to an API URL (absolute, on the client's host) and returns
// the body of its 2xx answer; any other answer is an *APIError.
func (c *Client) Post(ctx context.Context, u string, body []byte, contentType string) ([]byte, error) {
	return c.do(ctx, http.MethodPost, u, body, contentType)
}

func (c *Client) do(ctx context.Context, method, u string, body []byte, contentType string) ([]byte, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("%s: bad URL: %w", method, err)
	}
	if pu.Host != c.host {
		// Paging URLs come from the server: never send the key elsewhere.
		return nil, fmt.Errorf("%s %s: URL is not on the API host %s", method, redactURL(pu), c.host)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, redactURL(pu), err)
	}
	req.SetBasicAuth("api", c.key)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ae *APIError
		var ge *giveUpError
		switch {
		case errors.As(err, &ae):
			return nil, ae
		case errors.As(err, &ge):
			return nil, ge
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the whole URL, query included
		}
		return nil, fmt.Errorf("%s %s: %w", method, redactURL(pu), err)
	}
	data := bufferedBytes(resp)
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newAPIError(method, pu, resp.StatusCode, data, 1)
	}
	return data, nil
}

// APIError is an answer of the API other than 2xx, or the last of the
// answers a request got before it gave up.
type APIError struct {
	Method   string
	URL      string // without the query
	Host     string
	Status   int
	Message  string // Mailgun's message, or the start of the body
	Attempts int    // more than 1: the request was retried and gave up
}

// Error says what was asked, what came back and whether it was retried.
func (e *APIError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, e.Message)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (gave up after %d attempts)", e.Attempts)
	}
	return s
}

func newAPIError(method string, u *url.URL, status int, body []byte, attempts int) *APIError {
	return &APIError{Method: method, URL: redactURL(u), Host: u.Host, Status: status, Message: apiMessage(status, body), Attempts: attempts}
}

// AsAPIError finds the API answer behind err, from the raw pagers or from
// mailgun-go (*mailgun.UnexpectedResponseError).
func AsAPIError(err error) (*APIError, bool) {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae, true
	}
	var me *mailgun.UnexpectedResponseError
	if errors.As(err, &me) {
		u, perr := url.Parse(me.URL)
		if perr != nil {
			u = &url.URL{}
		}
		return newAPIError(me.Method, u, me.Actual, me.Data, 1), true
	}
	return nil, false
}

// apiMessage reads Mailgun's {"message": ...}, else a short plain-text
// body, else the status text (5xx pages are HTML from a load balancer).
func apiMessage(status int, body []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '{' && fastDecode(body, &m) == nil && m.Message != "" {
		return strings.Clone(m.Message)
	}
	if len(body) > 0 && len(body) <= 200 && body[0] != '<' {
		return string(body)
	}
	return http.StatusText(status)
}

// redactURL is u without its query (which may carry filters and paging
// tokens, never worth an error message) and without user info.
func redactURL(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	s := r.String()
	if len(s) > 120 {
		s = s[:117] + "..." // an events page token
	}
	return s
}

// bufferedBytes returns the body the transport read whole, without a copy.
func bufferedBytes(resp *http.Response) []byte {
	if b, ok := resp.Body.(*bufferedBody); ok {
		return b.data
	}
	data, _ := io.ReadAll(resp.Body)
	return data
}

// attemptTimeout is the default bound on one attempt.
const attemptTimeout = 60 * time.Second
