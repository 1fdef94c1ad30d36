package ingest

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestRateLimitReset(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		hh := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			hh.Set(kv[i], kv[i+1])
		}
		return hh
	}
	tests := []struct {
		name   string
		header http.Header
		body   string
		want   time.Time
		ok     bool
	}{
		{"epoch ms, as Mailgun", h("X-Request-Reset", "1795176001500"), "", time.UnixMilli(1795176001500), true},
		{"epoch seconds", h("X-Request-Reset", "1795176003"), "", time.Unix(1795176003, 0), true},
		{"epoch seconds with a fraction", h("X-Request-Reset", "1795176003.25"), "", time.UnixMicro(1795176003_250000), true},
		{"seconds from now", h("X-Request-Reset", "7"), "", now.Add(7 * time.Second), true},
		{"spaces", h("X-Request-Reset", " 1795176001500 "), "", time.UnixMilli(1795176001500), true},
		{"Retry-After seconds", h("Retry-After", "30"), "", now.Add(30 * time.Second), true},
		{"Retry-After date", h("Retry-After", "Fri, 20 Nov 2026 12:01:00 GMT"), "", now.Add(time.Minute), true},
		{"reset wins over Retry-After", h("X-Request-Reset", "1795176001500", "Retry-After", "30"), "", time.UnixMilli(1795176001500), true},
		{"Domains API body", nil, `{"retry-seconds": 60}`, now.Add(time.Minute), true},
		{"body as a string", nil, `{"retry-seconds": "2.5"}`, now.Add(2500 * time.Millisecond), true},
		{"garbage reset falls back to the body", h("X-Request-Reset", "soon"), `{"retry-seconds":1}`, now.Add(time.Second), true},
		{"negative", h("X-Request-Reset", "-5"), "", time.Time{}, false},
		{"NaN", h("Retry-After", "NaN"), "", time.Time{}, false},
		{"over a day", h("Retry-After", "999999"), "", time.Time{}, false},
		{"nothing", nil, `{"message":"Too many requests"}`, time.Time{}, false},
		{"HTML body", nil, `<html>429</html>`, time.Time{}, false},
		{"Retry-After date in year 0 is now", h("Retry-After", "Fri, 10 Nov 0000 23:00:00 GMT"), "", now, true},
		{"Retry-After date already past is now", h("Retry-After", "Fri, 20 Nov 2026 11:59:00 GMT"), "", now, true},
		{"stale reset is now", h("X-Request-Reset", "1795175000000"), "", now, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := tt.header
			if hdr == nil {
				hdr = http.Header{}
			}
			got, ok := RateLimitReset(hdr, []byte(tt.body), now)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzRateLimitReset(f *testing.F) {
	f.Add("1795176001500", "", `{"retry-seconds": 60}`)
	f.Add("", "Fri, 20 Nov 2026 12:01:00 GMT", "")
	f.Add("1e300", "-1", `{"retry-seconds": 1e309}`)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, reset, retryAfter, body string) {
		h := http.Header{}
		h.Set("X-Request-Reset", reset)
		h.Set("Retry-After", retryAfter)
		got, ok := RateLimitReset(h, []byte(body), now)
		if ok && got.Before(time.Unix(0, 0)) {
			t.Fatalf("reset %v before the epoch", got)
		}
		if ok && got.Before(now) {
			t.Fatalf("reset %v before now %v", got, now)
		}
	})
}

func TestLimiterBlocksEveryone(t *testing.T) {
	l := NewLimiter(0)
	reset := time.Now().Add(150 * time.Millisecond)
	l.Block(reset)
	l.Block(reset.Add(-time.Second)) // an earlier reset changes nothing
	var wg sync.WaitGroup
	early := make(chan time.Time, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Wait(context.Background()); err != nil {
				t.Error(err)
			}
			if now := time.Now(); now.Before(reset) {
				early <- now
			}
		}()
	}
	wg.Wait()
	close(early)
	for at := range early {
		t.Errorf("a request was let through %s before the reset", reset.Sub(at))
	}
	if !l.blockedUntil().Equal(reset) {
		t.Errorf("BlockedUntil %v, want %v", l.blockedUntil(), reset)
	}
}

func TestLimiterExtendedWhileWaiting(t *testing.T) {
	l := NewLimiter(0)
	start := time.Now()
	l.Block(start.Add(50 * time.Millisecond))
	go func() {
		time.Sleep(20 * time.Millisecond)
		l.Block(start.Add(200 * time.Millisecond)) // a second 429 meanwhile
	}()
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("waited %s, want the later reset (200ms)", d)
	}
}

func TestLimiterCancel(t *testing.T) {
	l := NewLimiter(0)
	l.Block(time.Now().Add(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %s", d)
	}
}

func TestLimiterSteadyRate(t *testing.T) {
	l := NewLimiter(100) // 10 ms apart
	start := time.Now()
	for range 11 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 95*time.Millisecond {
		t.Errorf("11 requests at 100/s took %s, want at least 100ms", d)
	}
}
