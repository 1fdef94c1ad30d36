package report

import (
	"fmt"

	"github.com/maildiag/maildiag/analyze"
)

// metric is one summary card: how to read it from the totals and whether a rise
// is good news.
type metric struct {
	label string
	get   func(analyze.Totals) int64
	up    string // tone of a rise: good, bad or neutral
}

var metrics = []metric{
	{"Accepted", func(t analyze.Totals) int64 { return t.Accepted }, "neutral"},
	{"Delivered", func(t analyze.Totals) int64 { return t.Delivered }, "good"},
	{"Failed temporary", func(t analyze.Totals) int64 { return t.FailedTemporary }, "bad"},
	{"Failed permanent", func(t analyze.Totals) int64 { return t.FailedPermanent }, "bad"},
	{"Suppressed drops", func(t analyze.Totals) int64 { return t.Suppressed }, "bad"},
	{"Complaints", func(t analyze.Totals) int64 { return t.Complaints }, "bad"},
	{"Unsubscribes", func(t analyze.Totals) int64 { return t.Unsubscribes }, "bad"},
}

func tone(diff float64, up string) string {
	switch {
	case diff == 0 || up == "neutral":
		return "neutral"
	case (diff > 0) == (up == "good"):
		return "good"
	default:
		return "bad"
	}
}

func toneHint(t string) string {
	switch t {
	case "good":
		return "better"
	case "bad":
		return "worse"
	}
	return ""
}

func signed(n int64) string {
	if n > 0 {
		return "+" + formatInt(n)
	}
	return formatInt(n)
}

func signedPct(p float64) string {
	s := formatPct(abs(p))
	if p < 0 {
		return "-" + s
	}
	return "+" + s
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// cards builds the summary cards: each count with the previous period's
// value, the change as a number and a percentage ("new" when the previous
// was 0), and whether that change is good or bad news; then the delivery
// rate, whose change is in percentage points.
func cards(cur analyze.Totals, prev *analyze.Totals) []cardView {
	var out []cardView
	for _, m := range metrics {
		c := cardView{Label: m.label, Value: formatInt(m.get(cur)), Tone: "neutral"}
		if prev != nil {
			now, was := m.get(cur), m.get(*prev)
			c.Previous = "previous " + formatInt(was)
			switch {
			case was == 0 && now == 0:
				c.Change = "no change"
			case was == 0:
				c.Change = "new"
				c.Tone = tone(1, m.up)
			default:
				p, _ := ratio(now-was, was)
				c.Change = signed(now-was) + " (" + signedPct(p) + ")"
				if now == was {
					c.Change = "no change"
				}
				c.Tone = tone(float64(now-was), m.up)
			}
			c.Hint = toneHint(c.Tone)
		}
		out = append(out, c)
	}
	rate := cardView{Label: "Delivery rate", Value: pctOf(cur.Delivered, cur.Accepted), Tone: "neutral"}
	if prev != nil {
		now, okNow := ratio(cur.Delivered, cur.Accepted)
		was, okWas := ratio(prev.Delivered, prev.Accepted)
		rate.Previous = "previous " + pctOf(prev.Delivered, prev.Accepted)
		switch {
		case !okNow:
			rate.Change = "–"
		case !okWas:
			rate.Change = "new"
		default:
			diff := round1(now - was)
			rate.Change = fmt.Sprintf("%+.1f pp", diff)
			if diff == 0 {
				rate.Change = "no change"
			}
			rate.Tone = tone(diff, "good")
		}
		rate.Hint = toneHint(rate.Tone)
	}
	return append(out, rate)
}
