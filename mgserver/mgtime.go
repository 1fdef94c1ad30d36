package mgserver

import (
	"fmt"
	"strings"
	"time"
)

// parseRFC2822 parses an RFC 2822 date in the forms Mailgun accepts and
// clients send: mailgun-go writes "Mon, 2 Jan 2006 15:04:05 -0700", other
// clients pad the day or name the zone.
func parseRFC2822(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	layouts := [...]string{
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04:05 MST",
		"Mon, 2 Jan 2006 15:04:05 -0700 (MST)",
		"2 Jan 2006 15:04:05 -0700",
		"2 Jan 2006 15:04:05 MST",
		"Mon, 2 Jan 2006 15:04 -0700",
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 2822 date", s)
}

// parseMailgunTime parses a time parameter of the Events API: epoch
// seconds (with a fraction) or an RFC 2822 date. It returns µs.
func parseMailgunTime(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s != "" && (s[0] >= '0' && s[0] <= '9') && !strings.ContainsAny(s, " ,") {
		return parseEpochMicros(s)
	}
	t, err := parseRFC2822(s)
	if err != nil {
		return 0, err
	}
	return t.UnixMicro(), nil
}

// formatRFC2822 writes a time as Mailgun's Logs API does.
func formatRFC2822(t time.Time) string {
	return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0000")
}

// formatListTime writes a suppression entry's created_at, e.g.
// "Thu, 11 Dec 2025 01:49:40 UTC".
func formatListTime(t time.Time) string { return t.UTC().Format(time.RFC1123) }
