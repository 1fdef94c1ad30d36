package analyze

import (
	"fmt"
	"strconv"
	"strings"
)

// Thresholds are the limits the health alerts and rate cards judge by.
// They are data: DefaultThresholds holds the documented limits, and
// `maildiag report` takes a flag for each.
type Thresholds struct {
	// BounceRate is the share of messages failing permanently above which
	// the list's quality is in question: 5%, where sending services
	// start to review an account (Amazon SES puts accounts under review
	// at 5%).
	BounceRate float64 `json:"bounce_rate"`
	// ComplaintRate is the spam-complaint share of delivered messages
	// Gmail and Yahoo require senders to stay under since February 2024:
	// 0.3%. ComplaintTarget is the 0.1% they ask senders to aim under.
	ComplaintRate   float64 `json:"complaint_rate"`
	ComplaintTarget float64 `json:"complaint_target"`
	// DeferralSpike is how many times the previous period's deferral
	// rate the period's must reach to raise an alert.
	DeferralSpike float64 `json:"deferral_spike"`
	// RateLimitWave is the share of all failures (deferrals included)
	// that rate-limited ones must reach to raise a rate-limit wave (whose
	// busiest hour or day must also hold twice its average).
	RateLimitWave float64 `json:"rate_limit_wave"`
	// IPBlockFailures is how many messages of one sending IP (or sending
	// domain) a provider must refuse by policy to raise a block alert.
	IPBlockFailures int `json:"ip_block_failures"`
	// IPBlockCritical is how many refusals make a sender block critical
	// by their number alone; fewer are critical only when the provider
	// deferred the same messages first (it escalated), else a warning.
	IPBlockCritical int `json:"ip_block_critical"`
	// TokenTTLHours is how long a link in a confirmation, reset or
	// sign-in message lasts: one deferred longer is an expired link.
	TokenTTLHours float64 `json:"token_ttl_hours"`
}

// DefaultThresholds are the documented limits.
var DefaultThresholds = Thresholds{
	BounceRate:      0.05,
	ComplaintRate:   0.003,
	ComplaintTarget: 0.001,
	DeferralSpike:   2,
	RateLimitWave:   0.20,
	IPBlockFailures: 5,
	IPBlockCritical: 50,
	TokenTTLHours:   24,
}

// orDefaults fills the unset thresholds with the defaults.
func (t Thresholds) orDefaults() Thresholds {
	d := DefaultThresholds
	if t.BounceRate > 0 {
		d.BounceRate = t.BounceRate
	}
	if t.ComplaintRate > 0 {
		d.ComplaintRate = t.ComplaintRate
	}
	if t.ComplaintTarget > 0 {
		d.ComplaintTarget = t.ComplaintTarget
	}
	if t.DeferralSpike > 0 {
		d.DeferralSpike = t.DeferralSpike
	}
	if t.RateLimitWave > 0 {
		d.RateLimitWave = t.RateLimitWave
	}
	if t.IPBlockFailures > 0 {
		d.IPBlockFailures = t.IPBlockFailures
	}
	if t.IPBlockCritical > 0 {
		d.IPBlockCritical = t.IPBlockCritical
	}
	if t.TokenTTLHours > 0 {
		d.TokenTTLHours = t.TokenTTLHours
	}
	d.ComplaintTarget = min(d.ComplaintTarget, d.ComplaintRate)
	return d
}

// Rate names, in the order of the report's cards.
const (
	RateDelivery    = "delivery"
	RateBounce      = "bounce"
	RateComplaint   = "complaint"
	RateDeferral    = "deferral"
	RateSuppression = "suppression"
)

// Rate statuses.
const (
	RateGood  = "good"
	RateWatch = "watch"
	RateBad   = "bad"
)

// Rate is one rate of the period, as the report's cards show it: a
// fraction from 0 to 1 with the counts it is made of, the previous
// period's, and what it means against the thresholds.
type Rate struct {
	// Name is RateDelivery, RateBounce, ...
	Name string `json:"name"`
	// Title is its label: "Complaint rate".
	Title string `json:"title"`
	// Rate is Count / Of; 0 when Of is 0.
	Rate  float64 `json:"rate"`
	Count int64   `json:"count"`
	Of    int64   `json:"of"`
	// Previous is the previous period's rate, when the index holds that
	// period and it had messages.
	Previous *float64 `json:"previous,omitempty"`
	// Status is RateGood, RateWatch or RateBad.
	Status string `json:"status"`
	// Meaning says what the rate is over and how it stands: "above
	// Gmail's and Yahoo's 0.3% limit".
	Meaning string `json:"meaning"`
}

// Messages is the number of messages of a period: the accepted ones, or
// those that came to a final outcome when more (deliveries of messages
// accepted before the period, or a log without accepted events), so that
// no rate over it passes 1.
func (t Totals) Messages() int64 {
	return max(t.Accepted, t.Delivered+t.FailedPermanent+t.Suppressed)
}

// attempts are the period's delivery attempts: deferrals and final
// outcomes.
func attempts(t Totals) int64 {
	return t.FailedTemporary + t.Delivered + t.FailedPermanent + t.Suppressed
}

// rateParts are each rate's count and base.
func rateParts(t Totals) map[string][2]int64 {
	m := t.Messages()
	return map[string][2]int64{
		RateDelivery:    {t.Delivered, m},
		RateBounce:      {t.FailedPermanent, m},
		RateComplaint:   {min(t.Complaints, t.Delivered), t.Delivered},
		RateDeferral:    {t.FailedTemporary, attempts(t)},
		RateSuppression: {t.Suppressed, m},
	}
}

// RatesOf are the rates of a period's totals against the previous
// period's (prev nil: not comparable), judged by th (unset thresholds
// take the defaults).
func RatesOf(cur Totals, prev *Totals, th Thresholds) []Rate {
	th = th.orDefaults()
	now := rateParts(cur)
	var was map[string][2]int64
	if prev != nil {
		was = rateParts(*prev)
	}
	var out []Rate
	for _, n := range []struct{ name, title string }{
		{RateDelivery, "Delivery rate"}, {RateBounce, "Bounce rate"}, {RateComplaint, "Complaint rate"},
		{RateDeferral, "Deferral rate"}, {RateSuppression, "Suppression rate"},
	} {
		p := now[n.name]
		r := Rate{Name: n.name, Title: n.title, Count: p[0], Of: p[1], Rate: ratio(p[0], p[1])}
		if w, ok := was[n.name]; ok && w[1] > 0 {
			v := ratio(w[0], w[1])
			r.Previous = &v
		}
		r.Status, r.Meaning = rateMeaning(r, th)
		out = append(out, r)
	}
	return out
}

// rateMeaning judges a rate against the thresholds and says so.
func rateMeaning(r Rate, th Thresholds) (status, meaning string) {
	if r.Of == 0 {
		return RateGood, "no messages to measure"
	}
	switch r.Name {
	case RateDelivery:
		bad := 1 - th.BounceRate
		switch {
		case r.Rate < bad:
			return RateBad, fmt.Sprintf("of messages: under %s, so more than %s did not arrive", pct(bad), pct(th.BounceRate))
		case r.Rate < 0.98:
			return RateWatch, "of messages: under 98%, look at the failures below"
		}
		return RateGood, "of messages reached the recipient's server"
	case RateBounce:
		switch {
		case r.Rate >= th.BounceRate:
			return RateBad, fmt.Sprintf("of messages failed permanently: above the %s where sending services review an account", pct(th.BounceRate))
		case r.Rate >= th.BounceRate/2:
			return RateWatch, fmt.Sprintf("of messages failed permanently: half way to the %s limit", pct(th.BounceRate))
		}
		return RateGood, fmt.Sprintf("of messages failed permanently: under %s", pct(th.BounceRate/2))
	case RateComplaint:
		switch {
		case r.Rate >= th.ComplaintRate:
			return RateBad, fmt.Sprintf("of delivered messages: above Gmail's and Yahoo's %s limit", pct(th.ComplaintRate))
		case r.Rate >= th.ComplaintTarget:
			return RateWatch, fmt.Sprintf("of delivered messages: under the %s limit, above the %s to aim for", pct(th.ComplaintRate), pct(th.ComplaintTarget))
		}
		return RateGood, fmt.Sprintf("of delivered messages: under the %s Gmail and Yahoo ask to aim for", pct(th.ComplaintTarget))
	case RateDeferral:
		if r.Previous != nil && *r.Previous > 0 && r.Rate >= th.DeferralSpike**r.Previous && r.Rate >= 0.01 {
			return RateBad, fmt.Sprintf("of delivery attempts were deferred: %.1f times the previous period's", r.Rate / *r.Previous)
		}
		if r.Rate >= 0.10 {
			return RateWatch, "of delivery attempts were deferred: providers are slowing our mail"
		}
		return RateGood, "of delivery attempts were deferred and retried"
	case RateSuppression:
		if r.Rate >= th.BounceRate {
			return RateWatch, "of messages were dropped unsent: addresses on a suppression list are still being mailed"
		}
		return RateGood, "of messages were dropped unsent, their address on a suppression list"
	}
	return RateGood, ""
}

// pct writes a fraction as a percentage with at most one decimal: 0.3%,
// 5%.
func pct(f float64) string { return pctN(f, 1) }

// pctN writes a fraction as a percentage with at most n decimals.
func pctN(f float64, n int) string {
	s := strconv.FormatFloat(f*100, 'f', n, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + "%"
}

// pctOver writes a rate that passed a limit with the decimals it takes not
// to read as the limit itself: 5.02% above 5%, not 5% above 5%.
func pctOver(f, limit float64) string {
	for n := 1; n < 3; n++ {
		if pctN(f, n) != pctN(limit, n) {
			return pctN(f, n)
		}
	}
	return pctN(f, 3)
}
