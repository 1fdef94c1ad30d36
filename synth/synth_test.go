package synth

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"
)

// testEnd is the fixed end of every test account.
var testEnd = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// collect generates an account and keeps every event.
func collect(t testing.TB, cfg Config) ([]*Event, *Result) {
	t.Helper()
	var evs []*Event
	res, err := Generate(context.Background(), cfg, func(e *Event) error {
		evs = append(evs, e)
		return nil
	})
	if err != nil {
		t.Fatalf("generate %+v: %v", cfg, err)
	}
	return evs, res
}

// The 100,000-event account is shared by the tests that need volume.
var big struct {
	once sync.Once
	evs  []*Event
	res  *Result
}

func account100k(t testing.TB) ([]*Event, *Result) {
	big.once.Do(func() { big.evs, big.res = collect(t, Config{Seed: 11, Events: 100_000, End: testEnd}) })
	if big.res == nil {
		t.Fatal("the shared 100k account failed to generate")
	}
	return big.evs, big.res
}

// write renders an account in a format.
func write(t testing.TB, cfg Config, out Output) ([]byte, *Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Write(context.Background(), &buf, cfg, out)
	if err != nil {
		t.Fatalf("write %s: %v", out.Format, err)
	}
	return buf.Bytes(), res
}

// msgKey identifies a (sending domain, recipient) pair.
type msgKey struct{ domain, addr string }

func keyOf(e *Event) msgKey { return msgKey{e.Msg.SendingDomain, e.Msg.Recipient} }
