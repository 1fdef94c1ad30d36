package synth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"
)

func TestSameConfigSameBytes(t *testing.T) {
	cfg := Config{Seed: 3, Events: 2000, End: testEnd}
	for _, f := range Formats {
		out := Output{Format: f}
		if f.IsSuppressionList() {
			out.SendingDomain = DefaultSendingDomains[0]
		}
		a, _ := write(t, cfg, out)
		b, _ := write(t, cfg, out)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two runs differ (%d and %d bytes)", f, len(a), len(b))
		}
		if len(a) == 0 {
			t.Errorf("%s: empty output", f)
		}
	}
}

func TestSameConfigSameBytesAtScale(t *testing.T) {
	cfg := Config{Seed: 4, Events: 30_000, End: testEnd}
	sum := func() [32]byte {
		h := sha256.New()
		if _, err := Write(context.Background(), h, cfg, Output{Format: FormatEventsJSONL}); err != nil {
			t.Fatal(err)
		}
		var s [32]byte
		copy(s[:], h.Sum(nil))
		return s
	}
	if a, b := sum(), sum(); a != b {
		t.Fatalf("two runs of %d events differ: %x vs %x", cfg.Events, a[:6], b[:6])
	}
}

func TestDifferentSeedDifferentAccount(t *testing.T) {
	a, _ := write(t, Config{Seed: 1, Events: 1500, End: testEnd}, Output{Format: FormatEventsJSONL})
	b, _ := write(t, Config{Seed: 2, Events: 1500, End: testEnd}, Output{Format: FormatEventsJSONL})
	if bytes.Equal(a, b) {
		t.Fatal("seeds 1 and 2 gave the same output")
	}
	// Not just a shuffle: the first lines differ too.
	if bytes.Equal(a[:bytes.IndexByte(a, '\n')], b[:bytes.IndexByte(b, '\n')]) {
		t.Error("seeds 1 and 2 start with the same event")
	}
}

func TestDefaults(t *testing.T) {
	var n int
	res, err := Generate(context.Background(), Config{Seed: 9}, func(*Event) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if n != DefaultEvents || res.Events != DefaultEvents {
		t.Errorf("default events: emitted %d, result %d, want %d", n, res.Events, DefaultEvents)
	}
	if !res.End.Equal(DefaultEnd) || !res.Start.Equal(DefaultEnd.AddDate(0, 0, -DefaultDays)) {
		t.Errorf("default range %v..%v, want %d days to %v", res.Start, res.End, DefaultDays, DefaultEnd)
	}
	if len(res.SendingDomains) != 4 || res.SendingDomains[0] != "mg.brightcart.io" {
		t.Errorf("default sending domains %v", res.SendingDomains)
	}
	if len(res.AccountID) != 24 || len(res.SigningKey) != 32 {
		t.Errorf("account id %q, signing key %q: want 24 and 32 hex digits", res.AccountID, res.SigningKey)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"negative events", Config{Events: -1}},
		{"too many events", Config{Events: MaxEvents + 1}},
		{"stories need days", Config{Days: 7}},
		{"stories need events", Config{Events: 500}},
		{"bad domain", Config{SendingDomains: []string{"not a domain"}}},
		{"duplicate domain", Config{SendingDomains: []string{"mg.a.io", "mg.a.io"}}},
		{"story domain", Config{SendingDomains: []string{"acme.com"}}},
		{"before 1970", Config{End: time.Unix(86400, 0), Days: 30}},
	}
	for _, c := range cases {
		if _, err := Generate(context.Background(), c.cfg, func(*Event) error { return nil }); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	// Without stories, a tiny short account is fine.
	evs, _ := collect(t, Config{Events: 50, Days: 2, NoStories: true, End: testEnd})
	if len(evs) != 50 {
		t.Errorf("no stories: %d events, want 50", len(evs))
	}
}

func TestStopsOnEmitErrorAndCancel(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := Generate(context.Background(), Config{Events: 5000, End: testEnd}, func(*Event) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Errorf("emit error: got %v after %d events, want stop after 10", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	_, err = Generate(ctx, Config{Events: 50_000, End: testEnd}, func(*Event) error {
		n++
		if n == 100 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n >= 50_000 {
		t.Errorf("cancel: got %v after %d events", err, n)
	}
}

// TestWriteMatchesGenerate renders events kept from Generate and compares
// them with Write, which reuses memory after each event: a reference kept
// too long into reused memory would show up as a difference.
func TestWriteMatchesGenerate(t *testing.T) {
	cfg := Config{Seed: 6, Events: 30_000, End: testEnd}
	evs, res := collect(t, cfg)
	for _, f := range []Format{FormatEventsJSONL, FormatLogsJSONL, FormatWebhooks} {
		var want []byte
		for _, e := range evs {
			switch f {
			case FormatEventsJSONL:
				want = e.AppendEventsJSON(want)
			case FormatLogsJSONL:
				want = e.AppendLogsJSON(want, res.AccountID)
			default:
				want = e.appendWebhook(want, &signer{key: res.SigningKey})
			}
			want = append(want, '\n')
		}
		got, wres := write(t, cfg, Output{Format: f})
		if !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("%s: Write differs from the kept events at byte %d:\n%.200s\n%.200s", f, i, got[max(0, i-100):], want[max(0, i-100):])
		}
		if wres.Stories.NeverOpened.MessageID != res.Stories.NeverOpened.MessageID ||
			len(wres.Suppressions[DefaultSendingDomains[0]].Bounces) != len(res.Suppressions[DefaultSendingDomains[0]].Bounces) {
			t.Errorf("%s: Write's result differs from Generate's", f)
		}
	}
}
