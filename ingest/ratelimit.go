package ingest

import (
	"context"
	stdjson "encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limiter paces the requests of every client that shares it: one Limiter
// per process and API key, because Mailgun's rate limit is per account, not
// per connection. A 429 stops everyone until the reset Mailgun announced,
// not just the request that got it. It is safe for concurrent use.
type Limiter struct {
	interval time.Duration // minimum spacing between requests; 0: none

	mu    sync.Mutex
	next  time.Time // earliest start of the next request by spacing
	until time.Time // no request before this (a 429's reset)
}

// NewLimiter returns a limiter that lets at most perSecond requests start
// each second (0 or less: no steady limit, only 429 resets).
func NewLimiter(perSecond float64) *Limiter {
	l := &Limiter{}
	if perSecond > 0 {
		l.interval = time.Duration(float64(time.Second) / perSecond)
	}
	return l
}

// Wait blocks until a request may start, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.mu.Lock()
		now := time.Now()
		at := now
		if l.until.After(at) {
			at = l.until
		}
		if l.next.After(at) {
			at = l.next
		}
		if !at.After(now) {
			l.next = now.Add(l.interval)
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
		// Sleep, then look again: a 429 meanwhile may have moved the reset.
		t := time.NewTimer(at.Sub(now))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// Block holds every request back until t; an earlier t than one already
// set changes nothing.
func (l *Limiter) Block(t time.Time) {
	l.mu.Lock()
	if t.After(l.until) {
		l.until = t
	}
	l.mu.Unlock()
}

// blockedUntil returns the time requests are held back until (zero or past
// when they are not).
func (l *Limiter) blockedUntil() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.until
}

// RateLimitReset reads when a 429 answer says requests may resume, from
// Mailgun's X-Request-Reset (epoch milliseconds; epoch seconds and a
// number of seconds from now are accepted too), a Retry-After header
// (seconds or an HTTP date), or the Domains API's body {"retry-seconds": 60},
// in that order of preference. It returns false when none says. A reset
// already past (a Retry-After of "Fri, 10 Nov 0000 ...", a stale
// X-Request-Reset) is now: the wait is over, and no reset is ever before
// now, let alone before 1970.
func RateLimitReset(h http.Header, body []byte, now time.Time) (time.Time, bool) {
	t, ok := rateLimitReset(h, body, now)
	if ok && t.Before(now) {
		t = now
	}
	return t, ok
}

func rateLimitReset(h http.Header, body []byte, now time.Time) (time.Time, bool) {
	if t, ok := parseResetValue(h.Get("X-Request-Reset"), now); ok {
		return t, true
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if t, ok := parseSeconds(v, now); ok {
			return t, true
		}
		if t, err := http.ParseTime(v); err == nil {
			return t, true
		}
	}
	var b struct {
		RetrySeconds stdjson.RawMessage `json:"retry-seconds"`
	}
	if len(body) > 0 && body[0] == '{' && fastDecode(body, &b) == nil {
		if f, ok := flexFloat(b.RetrySeconds); ok {
			if t, ok := parseSeconds(strconv.FormatFloat(f, 'f', -1, 64), now); ok {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// parseResetValue reads X-Request-Reset by its size: 13 digits are epoch
// milliseconds (what Mailgun sends), 10 are epoch seconds, fewer a number
// of seconds from now.
func parseResetValue(v string, now time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1e16 || f != f {
		return time.Time{}, false
	}
	switch {
	case f >= 1e12:
		return time.UnixMilli(int64(f)), true
	case f >= 1e9:
		return time.UnixMicro(int64(f * 1e6)), true
	}
	return parseSeconds(v, now)
}

// parseSeconds reads a non-negative number of seconds from now, at most a
// day (anything longer is not a rate limit worth waiting for here).
func parseSeconds(v string, now time.Time) (time.Time, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || f > 86400 || f != f {
		return time.Time{}, false
	}
	return now.Add(time.Duration(f * float64(time.Second))), true
}
