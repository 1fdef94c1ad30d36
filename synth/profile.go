package synth

import (
	"fmt"
	"strings"
)

// Profile is the kind of sender an account is: who its mail goes to and
// what its log holds.
type Profile string

// The profiles. The zero Profile is ProfileMarketing.
const (
	// ProfileMarketing is a product's mail to its customers: a customer
	// base that gets many messages each (about 0.23 distinct recipients
	// per event), newsletter campaigns, accepted events in the log.
	ProfileMarketing Profile = "marketing"
	// ProfileTransactional is a transactional sender (sign-ups, receipts,
	// one-time codes for other businesses' users): nearly every message
	// goes to an address not seen before, at tens of thousands of
	// recipient domains with a long tail, no campaigns, little open
	// tracking, and a log of outcomes without accepted events, as an
	// export filtered to outcomes or a log fed by outcome webhooks holds.
	// About 0.75 distinct recipients per event. The planted stories keep
	// their accepted events.
	ProfileTransactional Profile = "transactional"
)

// Profiles lists the profiles, the default first.
var Profiles = []Profile{ProfileMarketing, ProfileTransactional}

// ParseProfile returns the Profile named s; "" is ProfileMarketing.
func ParseProfile(s string) (Profile, error) {
	p := Profile(strings.ToLower(strings.TrimSpace(s)))
	if p == "" {
		return ProfileMarketing, nil
	}
	for _, q := range Profiles {
		if p == q {
			return p, nil
		}
	}
	names := make([]string, len(Profiles))
	for i, q := range Profiles {
		names[i] = string(q)
	}
	return "", fmt.Errorf("profile %q: want one of %s", s, strings.Join(names, ", "))
}

// Transactional-profile parameters.
const (
	// txnPopulationPerEvent sizes the population: drawing about 0.85
	// messages per event uniformly from 8 addresses per event gives
	// 8(1-e^(-0.85/8)) = 0.81 distinct addresses per event, less the
	// addresses two indexes spell alike.
	txnPopulationPerEvent = 8
	// txnEventsPerDomain sizes the company domains: 25,000 at 1M events.
	txnEventsPerDomain = 40
	txnMaxCorpDomains  = 60_000
	// txnOpenScale: most transactional senders leave open tracking off.
	txnOpenScale = 0.3
)
