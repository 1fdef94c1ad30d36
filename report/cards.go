package report

import (
	"fmt"
	"math"
	"strconv"

	"github.com/maildiag/maildiag/analyze"
)

// metric is one count card and how to read it from the totals.
type metric struct {
	label string
	get   func(analyze.Totals) int64
}

var metrics = []metric{
	{"Accepted", func(t analyze.Totals) int64 { return t.Accepted }},
	{"Delivered", func(t analyze.Totals) int64 { return t.Delivered }},
	{"Failed temporary", func(t analyze.Totals) int64 { return t.FailedTemporary }},
	{"Failed permanent", func(t analyze.Totals) int64 { return t.FailedPermanent }},
	{"Suppressed drops", func(t analyze.Totals) int64 { return t.Suppressed }},
	{"Complaints", func(t analyze.Totals) int64 { return t.Complaints }},
	{"Unsubscribes", func(t analyze.Totals) int64 { return t.Unsubscribes }},
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

// cards builds the count cards: each count with the previous period's
// value and the change as a number and a percentage ("new" when the
// previous was 0). A count's change is not judged: the rates are.
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
			default:
				p, _ := ratio(now-was, was)
				c.Change = signed(now-was) + " (" + signedPct(p) + ")"
				if now == was {
					c.Change = "no change"
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// rateCards are the analysis's rates, each with its counts, the change in
// percentage points from the previous period and what it means; the tone
// is the analysis's judgement against the thresholds, not the direction
// of the change.
func rateCards(rates []analyze.Rate) []cardView {
	var out []cardView
	for _, r := range rates {
		c := cardView{Label: r.Title, Value: "–", Tone: rateTone(r.Status), Hint: r.Meaning,
			Detail: formatInt(r.Count) + " of " + formatInt(r.Of)}
		if r.Of > 0 {
			c.Value = formatRate(r.Rate)
		}
		if r.Previous != nil {
			c.Previous = "previous " + formatRate(*r.Previous)
			diff := (r.Rate - *r.Previous) * 100
			switch {
			case r.Of == 0:
				c.Change = "–"
			case math.Abs(diff) < 0.005:
				c.Change = "no change"
			default:
				c.Change = fmt.Sprintf("%+.2f pp", diff)
			}
		}
		out = append(out, c)
	}
	return out
}

// formatRate writes a fraction as a percentage: two decimals under 1%
// (complaint rates live there), else one.
func formatRate(f float64) string {
	if f > 0 && f < 0.01 {
		return strconv.FormatFloat(math.Max(f*100, 0.01), 'f', 2, 64) + "%"
	}
	return formatPct(f * 100)
}

func rateTone(status string) string {
	switch status {
	case analyze.RateBad:
		return "bad"
	case analyze.RateWatch:
		return "watch"
	}
	return "good"
}
