package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/maildiag/maildiag/analyze"
)

// formatInt writes n with thousands separators: 12,340.
func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// ratio returns part/whole in percent, and false when whole is 0.
func ratio(part, whole int64) (float64, bool) {
	if whole <= 0 {
		return 0, false
	}
	return float64(part) * 100 / float64(whole), true
}

// formatPct writes a percentage with one decimal. A value just under 100 is
// never rounded up to "100.0%", nor one just over 0 down to "0.0%": those
// would claim that nothing failed or nothing was delivered.
func formatPct(p float64) string {
	r := math.Round(p*10) / 10
	switch {
	case r >= 100 && p < 100:
		r = 99.9
	case r <= 0 && p > 0:
		r = 0.1
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + "%"
}

// pctOf formats part/whole as a percentage, or "–" when whole is 0.
func pctOf(part, whole int64) string {
	p, ok := ratio(part, whole)
	if !ok {
		return "–"
	}
	return formatPct(p)
}

// round1 rounds to one decimal, for chart values.
func round1(v float64) float64 { return math.Round(v*10) / 10 }

// formatSeconds writes a delay the way people say it: 42 s, 3.5 min, 2.1 h.
func formatSeconds(s float64) string {
	switch {
	case s < 0:
		return "–"
	case s < 90:
		return strconv.FormatFloat(math.Round(s), 'f', 0, 64) + " s"
	case s < 90*60:
		return strconv.FormatFloat(round1(s/60), 'f', -1, 64) + " min"
	case s < 48*3600:
		return strconv.FormatFloat(round1(s/3600), 'f', -1, 64) + " h"
	default:
		return strconv.FormatFloat(round1(s/86400), 'f', -1, 64) + " days"
	}
}

// clock formats times in one location for the whole page.
type clock struct {
	loc   *time.Location
	years bool // the period spans more than one year: dates name theirs
}

// newClock is the page's clock for a period.
func newClock(loc *time.Location, p analyze.Period) clock {
	return clock{loc: loc, years: !p.IsZero() && p.From.In(loc).Year() != p.Until.Add(-time.Nanosecond).In(loc).Year()}
}

func (c clock) in(t time.Time) time.Time { return t.In(c.loc) }

// stamp is a full timestamp: 2025-12-08 06:00 UTC.
func (c clock) stamp(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return c.in(t).Format("2006-01-02 15:04 MST")
}

// day is a short date: Mon 1 Dec.
func (c clock) day(t time.Time) string {
	if c.years {
		return c.in(t).Format("Mon 2 Jan 2006")
	}
	return c.in(t).Format("Mon 2 Jan")
}

// date is a table date: 2025-12-03 14:05.
func (c clock) date(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return c.in(t).Format("2006-01-02 15:04")
}

// bucket labels a volume bucket: a day, or a day and hour.
func (c clock) bucket(t time.Time, hourly bool) string {
	if hourly && c.years {
		return c.in(t).Format("Mon 2 Jan 2006 15:00")
	}
	if hourly {
		return c.in(t).Format("Mon 2 Jan 15:00")
	}
	return c.day(t)
}

// periodText describes a range: "2025-12-01 00:00 UTC to 2025-12-08 00:00 UTC (7 days)".
func (c clock) periodText(r analyze.Period) string {
	if r.IsZero() {
		return "–"
	}
	return fmt.Sprintf("%s to %s (%s)", c.stamp(r.From), c.stamp(r.Until), lengthText(r.Until.Sub(r.From)))
}

// lengthText writes a period length: 7 days, 36 hours.
func lengthText(d time.Duration) string {
	switch {
	case d <= 0:
		return "empty"
	case d%(24*time.Hour) == 0:
		n := int64(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", int64(d/time.Hour))
	case d >= 48*time.Hour:
		// 14.6 days, never Go's 350h6m34.2s.
		return strconv.FormatFloat(math.Floor(d.Hours()/24*10)/10, 'f', -1, 64) + " days"
	case d >= time.Hour:
		return fmt.Sprintf("%d hours %d minutes", int64(d/time.Hour), int64(d%time.Hour/time.Minute))
	case d < 2*time.Minute:
		return "1 minute"
	default:
		return fmt.Sprintf("%d minutes", int64(d/time.Minute))
	}
}

// clip shortens s to at most n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
