package maildiag

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseSpan reads a length of time as users write it: 30d, 2w, 36h, 90m,
// or a Go duration such as 1h30m. A span is never negative nor longer
// than a century, whatever its unit.
func ParseSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n := len(s); n > 1 {
		unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[n-1]]
		if v, err := strconv.Atoi(s[:n-1]); err == nil && unit != 0 && v >= 0 {
			if v > int(maxSpan/unit) {
				return 0, fmt.Errorf("%q is too long", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, err
	case d < 0:
		return 0, fmt.Errorf("%q is negative", s)
	case d > maxSpan:
		return 0, fmt.Errorf("%q is too long", s)
	}
	return d, nil
}

// maxSpan is the longest span a time expression may name: a century.
const maxSpan = 100 * 365 * 24 * time.Hour

// ParseWhen reads a time as users write it: a span back from now (90m,
// 36h, 7d, 2w), a date (2026-11-20, UTC midnight) or an RFC 3339 time.
// An empty string is the zero time.
func ParseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := ParseSpan(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use 7d, 36h, 90m, 2026-11-20 or 2026-11-20T09:00:00Z", s)
}
