package analyze

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// msCode is Microsoft's own code for a refusal, such as (S3150).
var msCode = regexp.MustCompile(`\(S\d+\)`)

// minRateLimited is the fewest rate-limited failures a wave is made of.
const minRateLimited = 20

// ruleAlerts are the alerts decided by the rules over the result and the
// scan's facts: rate-limit waves, providers refusing one of our sending
// IPs or domains, and rates beyond the thresholds.
func ruleAlerts(res *HealthResult, th Thresholds, f *healthFacts) []Alert {
	var out []Alert
	if f.rules != nil {
		if a, ok := rateLimitWave(res, th, f.rules); ok {
			out = append(out, a)
		}
		out = append(out, senderBlocks(th, f)...)
	}
	out = append(out, rateAlerts(res, th)...)
	if a, ok := suppressionJump(res, th, f); ok {
		out = append(out, a)
	}
	return out
}

// minSuppressionJump is the fewest new suppressions a jump is made of.
const minSuppressionJump = 20

// suppressionJump: at least th.DeferralSpike times as many new list
// entries as in the previous period.
func suppressionJump(res *HealthResult, th Thresholds, f *healthFacts) (Alert, bool) {
	if !f.suppressedKnown {
		return Alert{}, false
	}
	var now, bounces, complaints, unsubs int64
	for _, d := range res.SuppressionDays {
		now += d.Bounces + d.Complaints + d.Unsubscribes
		bounces, complaints, unsubs = bounces+d.Bounces, complaints+d.Complaints, unsubs+d.Unsubscribes
	}
	was := f.prevSuppressed
	if now < minSuppressionJump || float64(now) < th.DeferralSpike*float64(max(was, 1)) {
		return Alert{}, false
	}
	title := fmt.Sprintf("%d new suppressions, none in the previous period", now)
	if was > 0 {
		title = fmt.Sprintf("%d new suppressions, %.1f times the previous period's %d", now, float64(now)/float64(was), was)
	}
	return Alert{Severity: AlertWarning, Kind: AlertSuppressionJump, Title: title,
		Text: "Many more addresses were put on a suppression list than before: bounces point at a block or a bad import, complaints and unsubscribes at a campaign. " +
			"See the new suppressions and the worst domains below before removing any.",
		Evidence: []string{fmt.Sprintf("bounces %d, complaints %d, unsubscribes %d", bounces, complaints, unsubs)}}, true
}
