package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseWhen reads a time flag: a duration back from now (90m, 36h, 7d, 2w),
// a date (2026-11-20, UTC midnight) or an RFC 3339 time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if n := len(s); n > 1 {
		unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[n-1]]
		if v, err := strconv.Atoi(s[:n-1]); err == nil && unit != 0 && v >= 0 {
			return now.Add(-time.Duration(v) * unit), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use 7d, 36h, 90m, 2026-11-20 or 2026-11-20T09:00:00Z", s)
}
