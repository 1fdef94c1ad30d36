package maildiag

import (
	"testing"
	"time"
)

func TestParseSpan(t *testing.T) {
	for in, want := range map[string]int64{"30d": 30 * 86400, "2w": 14 * 86400, "36h": 36 * 3600, "90m": 5400, "1h30m": 5400} {
		got, err := ParseSpan(in)
		if err != nil || int64(got.Seconds()) != want {
			t.Errorf("ParseSpan(%q) = %v, %v; want %d s", in, got, err, want)
		}
	}
	for _, in := range []string{"soon", "", "d", "99999999999999d"} {
		if got, err := ParseSpan(in); err == nil {
			t.Errorf("ParseSpan(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                          {},
		"7d":                        now.Add(-7 * 24 * time.Hour),
		"90m":                       now.Add(-90 * time.Minute),
		"2w":                        now.Add(-14 * 24 * time.Hour),
		"2026-11-20":                time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		"2026-11-20T09:30":          time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC),
		"2026-11-20T09:00:00Z":      time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC),
		"2026-11-20T10:00:00+01:00": time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC),
	} {
		got, err := ParseWhen(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"yesterday", "-5d", "2026-13-01", "7x"} {
		if got, err := ParseWhen(in, now); err == nil {
			t.Errorf("ParseWhen(%q) = %v, want an error", in, got)
		}
	}
}
