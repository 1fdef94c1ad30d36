package maildiag

import (
	"strconv"
	"testing"
	"time"
)

// fuzzNow turns any number into a clock between 1970 and about 2200, the
// times maildiag runs at.
func fuzzNow(sec int64) time.Time {
	const span = 230 * 365 * 24 * 3600
	return time.Unix((sec%span+span)%span, 0).UTC()
}

// FuzzParseWhen checks time expressions on any input: no panics; a span is
// never negative nor longer than a century; a span back from now is never
// after now, and is exactly now minus the span. Fuzz it with
//
//	go test -run='^$' -fuzz=FuzzParseWhen -fuzztime=60s .
func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{
		"", "7d", "36h", "90m", "2w", "1h30m", " 30d ", "0d", "-5d", "-5h", "+5d", "5s", "1.5h", "300ms",
		"99999999999999d", "1000000h", "5215w", "36500d", "36501d",
		"2026-11-20", "2026-11-20T09:30", "2026-11-20 09:30", "2026-11-20T09:00:00Z",
		"2026-11-20T10:00:00.123456789+01:00", "9999-12-31T23:59:59-23:59", "0000-01-01",
		"yesterday", "d", "7x", "2026-13-01", "\x00",
	} {
		f.Add(s, int64(1796385600))
	}
	f.Fuzz(func(t *testing.T, s string, nowSec int64) {
		now := fuzzNow(nowSec)
		d, spanErr := ParseSpan(s)
		if spanErr == nil && (d < 0 || d > maxSpan) {
			t.Errorf("ParseSpan(%q) = %v, want a span from 0 to a century", s, d)
		}
		got, err := ParseWhen(s, now)
		if spanErr == nil && d >= 0 && d <= maxSpan && (err != nil || !got.Equal(now.Add(-d))) {
			t.Errorf("ParseWhen(%q, %v) = %v, %v; want now - %v", s, now, got, err, d)
		}
		if err == nil && got.After(now) && spanErr == nil {
			t.Errorf("ParseWhen(%q, %v) = %v: a span back from now is in the future", s, now, got)
		}
		if err == nil && !got.IsZero() && got.Location() != time.UTC {
			t.Errorf("ParseWhen(%q) = %v, want UTC", s, got)
		}
	})
}

// FuzzParseWhenRoundTrip: a time written in RFC 3339 (with or without
// fractions of a second) is read back as the same instant, a date as its
// midnight UTC, and n days or weeks as that many times 24 hours before now.
func FuzzParseWhenRoundTrip(f *testing.F) {
	f.Add(int64(1796385600), int64(0), int64(0), int64(7))
	f.Add(int64(1796385600), int64(123456789), int64(60), int64(2))
	f.Add(int64(-62135596800), int64(999999999), int64(-1439), int64(36500))
	f.Add(int64(253402300799), int64(1), int64(1439), int64(-1))
	f.Fuzz(func(t *testing.T, sec, nsec, offsetMin, n int64) {
		// RFC 3339 offsets are whole minutes, less than a day.
		zone := time.FixedZone("", int(offsetMin%(24*60))*60)
		tm := time.Unix(sec, nsec%1e9).In(zone)
		if tm.Year() < 0 || tm.Year() > 9999 {
			return
		}
		now := fuzzNow(sec)
		for _, c := range []struct {
			s    string
			want time.Time
		}{
			{tm.Format(time.RFC3339Nano), tm},
			{tm.Format(time.RFC3339), tm.Truncate(time.Second)},
			{tm.Format(time.DateOnly), time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, time.UTC)},
		} {
			got, err := ParseWhen(c.s, now)
			if err != nil || !got.Equal(c.want) {
				t.Errorf("ParseWhen(%q) = %v, %v; want %v", c.s, got, err, c.want)
			}
		}
		for _, unit := range []struct {
			suffix string
			d      time.Duration
		}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
			s := strconv.FormatInt(n, 10) + unit.suffix
			got, err := ParseWhen(s, now)
			inRange := n >= 0 && n <= int64(maxSpan/unit.d)
			if inRange && (err != nil || !got.Equal(now.Add(-time.Duration(n)*unit.d))) {
				t.Errorf("ParseWhen(%q, %v) = %v, %v; want %d × %v before", s, now, got, err, n, unit.d)
			}
			if !inRange && err == nil {
				t.Errorf("ParseWhen(%q) = %v, want an error", s, got)
			}
		}
	})
}
