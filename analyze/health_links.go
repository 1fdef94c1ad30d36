package analyze

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// linkScan follows the deferred messages that carry an expiring link (a
// confirmation, a password reset, a sign-in code: ExpiringLink of their
// tags) through the failure scan.
type linkScan struct {
	expiring map[*string]bool // ExpiringLink by tag set: stores share one slice per set
	msgs     map[delivery]*linkMsg
}

type linkMsg struct {
	first, last time.Time
	deferrals   int
	gaveUp      bool // Mailgun stopped retrying it (too old)
	domain      string
	sending     string
	class       string // of its first deferral
}

func newLinkScan() *linkScan {
	return &linkScan{expiring: map[*string]bool{}, msgs: map[delivery]*linkMsg{}}
}

// add follows one failure of class.
func (ls *linkScan) add(r *Failure, class string) {
	if len(r.Tags) == 0 || r.Message == 0 || r.Outcome == maildiag.OutcomeSuppressed {
		return
	}
	key := &r.Tags[0]
	is, ok := ls.expiring[key]
	if !ok {
		is = ExpiringLink("", r.Tags)
		ls.expiring[key] = is
	}
	if !is {
		return
	}
	dk := delivery{r.Message, r.Recipient}
	m := ls.msgs[dk]
	if m == nil {
		m = &linkMsg{first: r.Time, last: r.Time, domain: r.RecipientDomain, sending: r.SendingDomain}
		ls.msgs[dk] = m
	}
	if r.Time.Before(m.first) {
		m.first = r.Time
	}
	m.last = later(m.last, r.Time)
	if r.Outcome == maildiag.OutcomeTemporary {
		m.deferrals++
		if m.class == "" {
			m.class = class
		}
	}
	if r.Reason == maildiag.ReasonOld {
		m.gaveUp = true
	}
}

// expiredLinks: messages with an expiring link that Mailgun gave up on
// after retries, or was still retrying longer than the link lasts. Their
// links have expired, so resending these copies does not help. Those
// deferred for the mailbox's own sake (full, disabled, unknown) or for a
// domain without a mail server are met every day and are no incident;
// the last count only when the domain is a typo of a known one (typos),
// which the person can correct.
func expiredLinks(ls *linkScan, ttl time.Duration, typos map[string]bool) (Alert, bool) {
	if ls == nil {
		return Alert{}, false
	}
	type dom struct {
		name      string
		n, gaveUp int
		classes   map[string]int64
	}
	doms := map[string]*dom{}
	sending := map[string]bool{}
	total, gaveUp := 0, 0
	for _, m := range ls.msgs {
		if m.deferrals == 0 || !m.gaveUp && m.last.Sub(m.first) <= ttl || mailboxClasses[m.class] || m.class == maildiag.ClassDomainNotFound && !typos[m.domain] {
			continue
		}
		d := doms[m.domain]
		if d == nil {
			d = &dom{name: m.domain, classes: map[string]int64{}}
			doms[m.domain] = d
		}
		d.n++
		total++
		if m.gaveUp {
			d.gaveUp++
			gaveUp++
		}
		d.classes[m.class]++
		sending[orDash(m.sending)] = true
	}
	if total == 0 {
		return Alert{}, false
	}
	list := make([]*dom, 0, len(doms))
	for _, d := range doms {
		list = append(list, d)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return list[i].name < list[j].name
	})
	var ev []string
	for _, d := range list[:min(len(list), 5)] {
		class := topOf(d.classes)
		info, _ := maildiag.ClassOf(class)
		ev = append(ev, fmt.Sprintf("%s: %d (%d given up by Mailgun), deferred as %s", orDash(d.name), d.n, d.gaveUp, strings.ToLower(cmp.Or(info.Title, class))))
	}
	if len(list) > 5 {
		ev = append(ev, fmt.Sprintf("and %d more domains", len(list)-5))
	}
	senders := slices.Sorted(maps.Keys(sending))
	title := fmt.Sprintf("%d confirmation, reset or sign-in messages expired before they arrived", total)
	if total == 1 {
		title = "1 confirmation, reset or sign-in message expired before it arrived"
	}
	why := fmt.Sprintf("Mailgun gave up on %d after retrying and retried the other %d for more than %s", gaveUp, total-gaveUp, humanDuration(ttl))
	switch gaveUp {
	case total:
		why = "Mailgun gave up on them after retrying"
	case 0:
		why = "Mailgun retried them for more than " + humanDuration(ttl)
	}
	return Alert{Severity: AlertWarning, Kind: AlertExpiredLinks, Title: title,
		Text: why + ": their links have most likely expired, so resending these copies does not help (maildiag resend refuses them). " +
			"Fix what deferred them, then have the application send new ones: the people are waiting for them. " +
			"Messages are told by their tags (confirm, reset, sign-in, code, ...).",
		Evidence: ev, SendingDomains: senders}, true
}

// mailboxClasses are deferrals of one mailbox, not of our sending.
var mailboxClasses = map[string]bool{maildiag.ClassMailboxFull: true, maildiag.ClassMailboxDisabled: true, maildiag.ClassUserUnknown: true}
