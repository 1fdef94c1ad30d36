package synth

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config describes the account to generate. The zero value, apart from Seed,
// is usable: every empty field takes the default documented on it. The same
// Config always produces the same output.
type Config struct {
	// Seed selects the account. Different seeds give different accounts.
	Seed int64
	// Events is the exact number of events emitted. Default 10,000.
	Events int
	// End is the end of the account's time range (exclusive): "now" for the
	// generated account. Default DefaultEnd. It is used at microsecond
	// precision, in UTC.
	End time.Time
	// Days is the length of the time range. Default 30.
	Days int
	// SendingDomains are the account's Mailgun sending domains.
	// Default DefaultSendingDomains.
	SendingDomains []string
	// Profile is the kind of sender: ProfileMarketing (the default) or
	// ProfileTransactional.
	Profile Profile
	// NoStories leaves out the planted stories (see Stories); the account is
	// then background traffic only.
	NoStories bool
	// AccountID is the Logs API account id. Default derived from Seed.
	AccountID string
	// SigningKey is the webhook signing key used to sign webhook payloads.
	// Default derived from Seed.
	SigningKey string
}

// DefaultEnd is the End used when Config.End is zero, fixed so that an
// unconfigured account is reproducible.
var DefaultEnd = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// DefaultSendingDomains are four product brands with the subdomain layouts
// Mailgun customers commonly use.
var DefaultSendingDomains = []string{
	"mg.brightcart.io",
	"mail.ledgerly.com",
	"notify.tripnest.co",
	"news.fitpulse.app",
}

// Defaults and limits.
const (
	DefaultEvents = 10_000
	DefaultDays   = 30
	// MaxEvents bounds Events; memory stays bounded above it too, but the
	// recipient population and suppression lists keep growing.
	MaxEvents = 100_000_000
	// minStoryDays is how far back the earliest story reaches.
	minStoryDays = 14
	// minBackground is how many background events the stories need around
	// them so that the cut at exactly Events never reaches a story.
	minBackground = 300
)

// withDefaults returns a copy with defaults filled in, or an error saying
// which field is wrong.
func (c Config) withDefaults() (Config, error) {
	if c.Events == 0 {
		c.Events = DefaultEvents
	}
	if c.Events < 0 || c.Events > MaxEvents {
		return c, fmt.Errorf("events: %d out of range 1..%d", c.Events, MaxEvents)
	}
	p, err := ParseProfile(string(c.Profile))
	if err != nil {
		return c, err
	}
	c.Profile = p
	if c.End.IsZero() {
		c.End = DefaultEnd
	}
	c.End = c.End.UTC().Truncate(time.Microsecond)
	if c.Days == 0 {
		c.Days = DefaultDays
	}
	if c.Days < 1 || c.Days > 3660 {
		return c, fmt.Errorf("days: %d out of range 1..3660", c.Days)
	}
	if c.End.Unix()-int64(c.Days)*86400 < 0 {
		return c, errors.New("end: the time range must start after 1970")
	}
	if len(c.SendingDomains) == 0 {
		c.SendingDomains = DefaultSendingDomains
	}
	seen := make(map[string]bool)
	doms := make([]string, 0, len(c.SendingDomains))
	for _, d := range c.SendingDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		if !validDomain(d) {
			return c, fmt.Errorf("sending domain %q: not a domain name", d)
		}
		if seen[d] {
			return c, fmt.Errorf("sending domain %q: listed twice", d)
		}
		if storyDomains[d] {
			return c, fmt.Errorf("sending domain %q: reserved for a recipient story", d)
		}
		seen[d] = true
		doms = append(doms, d)
	}
	if len(doms) > 200 {
		return c, fmt.Errorf("sending domains: %d, at most 200", len(doms))
	}
	c.SendingDomains = doms
	if !c.NoStories && c.Days < minStoryDays {
		return c, fmt.Errorf("days: %d too few for the planted stories (need %d, or NoStories)", c.Days, minStoryDays)
	}
	if c.AccountID == "" {
		r := newRNG(c.Seed, streamRender)
		c.AccountID = string(r.appendHex(nil, 24, hexLower))
	}
	if c.SigningKey == "" {
		r := newRNG(c.Seed, streamRender+100)
		c.SigningKey = string(r.appendHex(nil, 32, hexLower))
	}
	return c, nil
}

// validDomain accepts lower-case host names with at least one dot.
func validDomain(d string) bool {
	if len(d) < 3 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
