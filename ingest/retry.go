package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"
)

// RetryPolicy bounds how a request is retried. POST and PATCH requests (a
// resend, an import) are retried only after a 429, which Mailgun answers
// before doing anything; the pagers' read-only POSTs are retried like GETs.
// Every wait is bounded, so a request ends, at worst, after about
// Retries*(AttemptTimeout+MaxDelay) + RateLimitRetries*MaxRateLimitWait.
type RetryPolicy struct {
	// Retries is how many times a request is repeated after a 5xx, a
	// connection error, a timeout, or a 2xx body cut short or not JSON.
	// Default 8; negative: none.
	Retries int
	// RateLimitRetries is how many 429 answers a request waits out.
	// Default 4*Retries (at least 8).
	RateLimitRetries int
	// BaseDelay and MaxDelay bound the exponential backoff (with jitter)
	// between failed attempts. Defaults 250 ms and 30 s.
	BaseDelay, MaxDelay time.Duration
	// MaxRateLimitWait caps one wait for a 429's reset. Default 2 minutes.
	MaxRateLimitWait time.Duration
	// AttemptTimeout bounds one attempt, body included. Default 60 s.
	AttemptTimeout time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	switch {
	case p.Retries == 0:
		p.Retries = 8
	case p.Retries < 0:
		p.Retries = 0
	}
	if p.RateLimitRetries <= 0 {
		p.RateLimitRetries = max(4*p.Retries, 8)
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 250 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.MaxRateLimitWait <= 0 {
		p.MaxRateLimitWait = 2 * time.Minute
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = attemptTimeout
	}
	return p
}

// backoff is the wait before retry n (1-based): exponential, capped, with
// jitter over its upper half so that parallel workers do not retry in step.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay << min(n-1, 30)
	if d <= 0 || d > p.MaxDelay {
		d = p.MaxDelay
	}
	return d/2 + rand.N(d/2+1)
}

// maxBody bounds a buffered answer; Mailgun pages are well under 1 MB.
const maxBody = 64 << 20

// transport is the RoundTripper behind every Client: it waits for the
// shared limiter, buffers and checks each answer, and retries what is
// worth retrying. mailgun-go's requests go through it too.
type transport struct {
	next    http.RoundTripper
	limiter *Limiter
	policy  RetryPolicy
	stats   *Stats
	secrets []string // taken out of answers other than 2xx, which may echo the request
}

// verdict is what to do with one attempt's outcome.
type verdict int

const (
	deliver   verdict = iota // a 2xx with a sound body, or an answer retrying cannot change
	rateLimit                // 429: wait for the reset
	retry                    // transient: back off and retry
)

// RoundTrip sends req until it gets an answer worth delivering or runs out
// of retries. The body of the answer it returns is already read whole.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	body, err := replayable(req)
	if err != nil {
		return nil, err
	}
	failures, limited := 0, 0
	for attempt := 1; ; attempt++ {
		if err := t.limiter.Wait(ctx); err != nil {
			return nil, err
		}
		t.stats.Requests.Add(1)
		resp, data, err := t.attempt(ctx, req, body)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		v, why := t.judge(resp, data, err)
		switch v {
		case deliver:
			if sink := bodySinkFrom(ctx); sink != nil && resp.StatusCode/100 == 2 {
				sink(data)
			}
			return resp, nil
		case rateLimit:
			limited++
			if limited > t.policy.RateLimitRetries {
				t.stats.GaveUp.Add(1)
				return nil, newAPIError(req.Method, req.URL, resp.StatusCode, data, attempt)
			}
			now := time.Now()
			reset, ok := RateLimitReset(resp.Header, data, now)
			if !ok || !reset.After(now) {
				reset = now.Add(t.policy.backoff(limited))
			}
			if reset.Sub(now) > t.policy.MaxRateLimitWait {
				reset = now.Add(t.policy.MaxRateLimitWait)
			}
			t.limiter.Block(reset) // everyone waits, in Wait above
		case retry:
			failures++
			if !repeatable(req) {
				// A POST that failed may still have been carried out (a
				// resend): only its 429s, refused before any work, are retried.
				if resp != nil && resp.StatusCode/100 != 2 {
					return nil, newAPIError(req.Method, req.URL, resp.StatusCode, data, attempt)
				}
				return nil, fmt.Errorf("%s %s: %w (not retried: it may have been carried out)", req.Method, redactURL(req.URL), why)
			}
			if failures > t.policy.Retries {
				t.stats.GaveUp.Add(1)
				if resp != nil && resp.StatusCode/100 != 2 {
					return nil, newAPIError(req.Method, req.URL, resp.StatusCode, data, attempt)
				}
				return nil, &giveUpError{method: req.Method, url: redactURL(req.URL), attempts: attempt, err: why}
			}
			if err := Sleep(ctx, t.policy.backoff(failures)); err != nil {
				return nil, err
			}
		}
		t.stats.Retries.Add(1)
	}
}

// repeatable tells whether a request may be sent again after a failure
// that is not a 429: every method but POST and PATCH, and the POSTs that
// only read (the Logs API), which mark their context.
func repeatable(req *http.Request) bool {
	if req.Method != http.MethodPost && req.Method != http.MethodPatch {
		return true
	}
	return req.Context().Value(readOnlyKey{}) != nil
}

// readOnlyKey marks the context of a POST that only reads.
type readOnlyKey struct{}

func readOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, readOnlyKey{}, true)
}

// attempt makes one exchange and reads its body whole, all under the
// attempt timeout.
func (t *transport) attempt(ctx context.Context, req *http.Request, body func() io.ReadCloser) (*http.Response, []byte, error) {
	actx, cancel := context.WithTimeout(ctx, t.policy.AttemptTimeout)
	defer cancel()
	r := req.Clone(actx)
	r.Body = body()
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, nil, err
	}
	data, err := readBody(resp)
	resp.Body.Close()
	if err != nil {
		return resp, nil, err
	}
	if resp.StatusCode/100 != 2 {
		// An error answer is quoted in errors, logs and the audit: a
		// server echoing the Authorization header must not put the key there.
		data = redactBytes(data, t.secrets)
	}
	resp.Body = &bufferedBody{Reader: bytes.NewReader(data), data: data}
	resp.ContentLength = int64(len(data))
	return resp, data, nil
}

// judge sorts an attempt's outcome, with the reason when it is retried.
func (t *transport) judge(resp *http.Response, data []byte, err error) (verdict, error) {
	switch {
	case err != nil && resp == nil:
		t.stats.NetErrors.Add(1)
		return retry, err
	case err != nil:
		t.stats.BadBodies.Add(1)
		return retry, fmt.Errorf("read body: %w", err)
	case resp.StatusCode == http.StatusTooManyRequests:
		t.stats.RateLimited.Add(1)
		return rateLimit, nil
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		t.stats.ServerErrors.Add(1)
		return retry, fmt.Errorf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	case resp.StatusCode == http.StatusRequestTimeout:
		return retry, errors.New("408 request timeout")
	case resp.StatusCode/100 == 2 && looksJSON(resp, data) && !gojson.Valid(data):
		t.stats.BadBodies.Add(1)
		return retry, errors.New("invalid JSON body (cut short?)")
	}
	return deliver, nil
}

// looksJSON tells whether a 2xx body is meant to be JSON: by its type, or
// by its first byte when the type is missing.
func looksJSON(resp *http.Response, data []byte) bool {
	ct := resp.Header.Get("Content-Type")
	if strings.Contains(ct, "json") {
		return true
	}
	d := bytes.TrimSpace(data)
	return ct == "" && len(d) > 0 && (d[0] == '{' || d[0] == '[')
}

// readBody reads a whole body, failing when it is shorter than announced
// or longer than maxBody.
func readBody(resp *http.Response) ([]byte, error) {
	var buf bytes.Buffer
	switch {
	case resp.ContentLength > 0 && resp.ContentLength <= maxBody:
		buf.Grow(int(resp.ContentLength))
	case resp.ContentLength < 0:
		buf.Grow(128 << 10) // a chunked page: fewer regrowths, each a copy
	}
	n, err := io.Copy(&buf, io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if n > maxBody {
		return nil, fmt.Errorf("body larger than %d bytes", maxBody)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return nil, fmt.Errorf("body of %d bytes, announced %d: %w", n, resp.ContentLength, io.ErrUnexpectedEOF)
	}
	return buf.Bytes(), nil
}

// replayable returns a function giving a fresh copy of req's body for each
// attempt.
func replayable(req *http.Request) (func() io.ReadCloser, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return func() io.ReadCloser { return http.NoBody }, nil
	}
	if req.GetBody != nil {
		return func() io.ReadCloser {
			b, err := req.GetBody()
			if err != nil {
				return io.NopCloser(errReader{err})
			}
			return b
		}, nil
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return func() io.ReadCloser { return io.NopCloser(bytes.NewReader(data)) }, nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// giveUpError is a request that failed after every retry without an API
// answer (connection errors, timeouts, cut bodies).
type giveUpError struct {
	method, url string
	attempts    int
	err         error
}

func (e *giveUpError) Error() string {
	return fmt.Sprintf("%s %s: gave up after %d attempts: %v", e.method, e.url, e.attempts, e.err)
}

func (e *giveUpError) Unwrap() error { return e.err }

// GaveUp tells whether err is a request that failed after all its retries
// with no answer retrying could change: connection errors, timeouts, cut
// bodies or 5xx to the last. The server is then judged down.
func GaveUp(err error) bool {
	var ge *giveUpError
	if errors.As(err, &ge) {
		return true
	}
	ae, ok := AsAPIError(err)
	return ok && ae.Status >= 500
}

// bufferedBody is an answer's body read whole by the transport.
type bufferedBody struct {
	*bytes.Reader
	data []byte
}

func (*bufferedBody) Close() error { return nil }

// Sleep waits d or until ctx ends, and then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// bodySinkKey carries a function that receives the body of each 2xx answer
// made with the context: mailgun-go decodes list pages into types that
// drop fields, and the list reader wants the original JSON.
type bodySinkKey struct{}

func withBodySink(ctx context.Context, sink func([]byte)) context.Context {
	return context.WithValue(ctx, bodySinkKey{}, sink)
}

func bodySinkFrom(ctx context.Context) func([]byte) {
	f, _ := ctx.Value(bodySinkKey{}).(func([]byte))
	return f
}
