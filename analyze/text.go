package analyze

import (
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// fmtTime is how times appear in sentences.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// humanDuration says a duration in the largest unit that fits.
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return maildiag.Plural(int(d.Seconds()), "second")
	case d < 2*time.Hour:
		return maildiag.Plural(int(d.Minutes()+0.5), "minute")
	case d < 48*time.Hour:
		return maildiag.Plural(int(d.Hours()+0.5), "hour")
	}
	return maildiag.Plural(int(d.Hours()/24+0.5), "day")
}

// durationUp says how long a wave lasted, rounded up so that "within"
// stays true: 35 minutes, 2 hours, 3 days.
func durationUp(d time.Duration) string {
	ceil := func(u time.Duration) int { return int((d + u - 1) / u) }
	switch {
	case d <= time.Minute:
		return "1 minute"
	case d <= 90*time.Minute:
		return maildiag.Plural(ceil(time.Minute), "minute")
	case d <= 48*time.Hour:
		return maildiag.Plural(ceil(time.Hour), "hour")
	}
	return maildiag.Plural(ceil(day), "day")
}

// firstLine is the first line of a multi-line reply.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

// oneLine joins a multi-line reply into one line, capped in length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}
