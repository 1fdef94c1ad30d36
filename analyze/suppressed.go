package analyze

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze/classify"
)

// Cause is the failure that put an address on a list, or any failure shown
// as evidence.
type Cause struct {
	Time          time.Time `json:"time"`
	SendingDomain string    `json:"sending_domain"`
	Code          int       `json:"code,omitempty"`
	Enhanced      string    `json:"enhanced_code,omitempty"`
	Reply         string    `json:"reply,omitempty"`
	MXHost        string    `json:"mx_host,omitempty"`
	Class         string    `json:"class,omitempty"`
	Rule          string    `json:"rule,omitempty"`
	Gateway       string    `json:"gateway,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	Severity      string    `json:"severity,omitempty"`
	EventID       string    `json:"event_id,omitempty"`
	// FromList says no event explains the entry: the cause is the list
	// entry's own code and error, classed by the same rules.
	FromList bool `json:"from_list,omitempty"`

	ref Ref // to read what a scan leaves out (fillCauses)
}

// Where a suppression comes from.
const (
	FromList   = "list"   // an entry of a synced or imported suppression list
	FromEvents = "events" // derived from the event log: drops and hard bounces
)

// SuppressedAddress is one address on one list of one sending domain.
type SuppressedAddress struct {
	Address       string    `json:"address"`
	SendingDomain string    `json:"sending_domain"`
	List          string    `json:"list"` // bounces, complaints, unsubscribes, allowlist
	Source        string    `json:"source"`
	Since         time.Time `json:"since"`
	ListCode      string    `json:"list_code,omitempty"`  // the list entry's code
	ListError     string    `json:"list_error,omitempty"` // the list entry's error text
	Tags          []string  `json:"tags,omitempty"`       // unsubscribes: the tags, * for all
	Cause         *Cause    `json:"cause,omitempty"`
	Drops         int       `json:"dropped_since"` // later messages Mailgun dropped because of it
	LastDrop      time.Time `json:"last_drop,omitzero"`
	State         string    `json:"state"` // listed, removed, probably-listed
	StateNote     string    `json:"state_note"`
	Removed       time.Time `json:"removed,omitzero"` // when it went from the list, when known
}

// States of a suppression as of the index's knowledge.
const (
	StateListed         = "listed"
	StateRemoved        = "removed"
	StateProbablyListed = "probably-listed"
)

// Verdict kinds for a customer domain.
const (
	VerdictDomainBlock = "domain-wide-block"
	VerdictDeadDomain  = "domain-not-found"
	VerdictScattered   = "scattered-addresses"
	VerdictChoices     = "recipient-choices" // only complaints and unsubscribes
	VerdictAllowlisted = "allowlisted"       // only on allowlists
)

// DomainVerdict tells a domain-wide block at the recipient apart from
// scattered bad addresses, with the evidence.
type DomainVerdict struct {
	Domain    string    `json:"domain"`
	Kind      string    `json:"kind"`
	Summary   string    `json:"summary"`
	Action    string    `json:"action"`
	Addresses int       `json:"addresses"` // suppressed addresses at the domain
	InWindow  int       `json:"addresses_in_window,omitempty"`
	From      time.Time `json:"window_from,omitzero"`
	To        time.Time `json:"window_to,omitzero"`
	Class     string    `json:"class,omitempty"`
	Gateway   string    `json:"gateway,omitempty"`
	MXHost    string    `json:"mx_host,omitempty"`
	Code      int       `json:"code,omitempty"`
	Enhanced  string    `json:"enhanced_code,omitempty"`
	Sample    string    `json:"sample_reply,omitempty"`
	Classes   []Share   `json:"classes,omitempty"`
	Evidence  []string  `json:"evidence"`
}

// Share is a count of one value among others.
type Share struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// SuppressedResult is the answer to "which addresses of this pattern are
// suppressed, and why".
type SuppressedResult struct {
	Pattern     string              `json:"pattern"`
	Domains     []string            `json:"domains"`
	Addresses   []SuppressedAddress `json:"addresses"`
	Counts      []ListCount         `json:"counts"`
	Verdicts    []DomainVerdict     `json:"verdicts"`
	ListsSynced bool                `json:"lists_synced"`
}

// ListCount counts the addresses of a result on one list of one sending
// domain.
type ListCount struct {
	SendingDomain string `json:"sending_domain"`
	List          string `json:"list"`
	Addresses     int    `json:"addresses"`
}

// SuppressedOptions narrows the search.
type SuppressedOptions struct {
	SendingDomains []string  // empty: all
	Lists          []string  // empty: all
	Since          time.Time // only entries made at or after
	WithRemoved    bool      // also entries removed from the lists
}

// blockWindow is the span within which many addresses failing alike make a
// domain-wide block.
const blockWindow = 6 * time.Hour

// minBlockAddresses is the fewest addresses that make a domain-wide block.
const minBlockAddresses = 5

// listOfReason is the list a suppression drop's reason names, "" for
// other reasons.
func listOfReason(reason string) string {
	d, _ := maildiag.DropOf(reason)
	return d.List
}

// perRecipient gathers the failures of one recipient.
type perRecipient struct {
	hard  []*Failure // permanent failures that were attempts (not drops)
	drops []*Failure // suppression drops
}

// Suppressed finds the suppressed addresses matching p across every sending
// domain and list: from the lists (synced or imported) and, where the lists
// are not known, from the event log (suppression drops 605/606/607 and hard
// bounces). For each it finds the failure that put it there and how many
// later messages were dropped, and gives each domain a verdict.
func Suppressed(ctx context.Context, db Store, p Pattern, o SuppressedOptions) (*SuppressedResult, error) {
	res := &SuppressedResult{Pattern: p.String(), Domains: []string{}, Addresses: []SuppressedAddress{}, Counts: []ListCount{}, Verdicts: []DomainVerdict{}}
	to, err := resolve(ctx, db, p)
	if err != nil {
		return nil, err
	}
	if len(to.domains) == 0 {
		return res, nil
	}
	sds, err := sendingDomains(ctx, db, o.SendingDomains)
	if err != nil {
		return nil, err
	}
	glob := ""
	if !p.AllOfDomain() {
		glob = p.String()
	}
	rows, err := db.Suppressions(ctx, SuppressionFilter{Domains: to.domains, AddressGlob: glob, SendingDomains: sds, Lists: o.Lists})
	if err != nil {
		return nil, err
	}
	syncs, err := db.ListSyncs(ctx)
	if err != nil {
		return nil, err
	}
	synced := map[[2]string]time.Time{}
	for _, s := range syncs {
		synced[[2]string{s.SendingDomain, s.List}] = maildiag.TimeUS(s.SyncedUS)
	}
	res.ListsSynced = len(syncs) > 0

	// The failures at the matched domains, per recipient.
	recips := to.recipients
	byRcpt := map[RecipientID]*perRecipient{}
	filter := FailureFilter{SendingDomains: sds, SuppressionCauses: true}
	to.filter(&filter)
	err = db.Failures(ctx, filter, func(f *Failure) error {
		if f.Type != maildiag.Failed || !to.has(f.Recipient) {
			return nil
		}
		var list *[]*Failure
		pr := byRcpt[f.Recipient]
		switch {
		case listOfReason(f.Reason) != "":
			if pr == nil {
				pr = &perRecipient{}
				byRcpt[f.Recipient] = pr
			}
			list = &pr.drops
		case f.Severity == maildiag.SeverityPermanent && !f.DelayedBounce || f.Reason == maildiag.ReasonBounce:
			if pr == nil {
				pr = &perRecipient{}
				byRcpt[f.Recipient] = pr
			}
			list = &pr.hard
		default:
			return nil
		}
		c := *f
		*list = append(*list, &c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if recips == nil {
		recips, err = db.Addresses(ctx, sortedKeys(byRcpt))
		if err != nil {
			return nil, err
		}
	}
	addrID := make(map[string]RecipientID, len(recips))
	for id, a := range recips {
		addrID[a] = id
	}
	for _, pr := range byRcpt {
		sortByTime(pr.hard)
		sortByTime(pr.drops)
	}

	// Entries of the lists.
	// listed: the list entries by address, sending domain and list, with
	// when they were removed (zero: still listed).
	listed := map[[3]string]time.Time{}
	for i := range rows {
		r := &rows[i]
		// A list entry, removed or not, speaks for the events of its
		// address until it was removed: only later ones make it
		// "probably listed" again.
		k := [3]string{r.Address, r.SendingDomain, r.List}
		if rem, ok := listed[k]; !ok || !rem.IsZero() && (r.Removed.IsZero() || r.Removed.After(rem)) {
			listed[k] = r.Removed
		}
		if !r.Removed.IsZero() && !o.WithRemoved {
			continue
		}
		if r.Kind == "domain" && !p.AllOfDomain() {
			continue
		}
		created := maildiag.TimeUS(r.CreatedUS)
		sa := SuppressedAddress{Address: r.Address, SendingDomain: r.SendingDomain, List: r.List, Source: FromList,
			Since: created, ListCode: r.Code, ListError: r.Error, Tags: r.Tags}
		if r.Kind == "domain" {
			sa.Address = "*@" + r.Address
		}
		if pr := byRcpt[addrID[r.Address]]; pr != nil {
			sa.Cause = causeFor(pr.hard, r.SendingDomain, created)
			sa.Drops, sa.LastDrop = dropsAfter(pr.drops, r.SendingDomain, r.List, created)
		}
		if sa.Cause == nil && r.List == maildiag.ListBounces {
			sa.Cause = causeOfEntry(r)
		}
		sa.State, sa.StateNote = listState(r, synced)
		sa.Removed = r.Removed
		res.Addresses = append(res.Addresses, sa)
	}

	// Suppressions the lists do not show (not synced or imported): from
	// the drops and hard bounces in the event log.
	for id, pr := range byRcpt {
		addr := recips[id]
		if addr == "" || !p.Match(addr) {
			continue
		}
		type key struct{ sd, list string }
		first, last := map[key]time.Time{}, map[key]time.Time{}
		note := func(k key, t time.Time) {
			if f, ok := first[k]; !ok || t.Before(f) {
				first[k] = t
			}
			if t.After(last[k]) {
				last[k] = t
			}
		}
		for _, d := range pr.drops {
			note(key{d.SendingDomain, listOfReason(d.Reason)}, d.Time)
		}
		for _, h := range pr.hard {
			if h.Reason == maildiag.ReasonBounce {
				note(key{h.SendingDomain, maildiag.ListBounces}, h.Time)
			}
		}
		for k, t := range first {
			if !wanted(o.Lists, k.list) {
				continue
			}
			if rem, ok := listed[[3]string{addr, k.sd, k.list}]; ok && (rem.IsZero() || !last[k].After(rem)) {
				continue
			}
			sa := SuppressedAddress{Address: addr, SendingDomain: k.sd, List: k.list, Source: FromEvents}
			if k.list == maildiag.ListBounces {
				sa.Cause = causeFor(pr.hard, k.sd, t.Add(time.Microsecond))
			}
			if sa.Cause != nil && sa.Cause.Time.Before(t) {
				t = sa.Cause.Time
			}
			sa.Since = t
			sa.Drops, sa.LastDrop = dropsAfter(pr.drops, k.sd, k.list, t)
			if _, ok := synced[[2]string{k.sd, k.list}]; ok {
				sa.State, sa.StateNote = StateRemoved, "not on the list at the last sync: removed since, or never added"
			} else if sa.Drops > 0 {
				sa.State, sa.StateNote = StateProbablyListed, "Mailgun dropped messages for it; lists not synced (run maildiag sync)"
			} else {
				sa.State, sa.StateNote = StateProbablyListed, "a hard bounce puts an address on the bounce list; lists not synced (run maildiag sync)"
			}
			res.Addresses = append(res.Addresses, sa)
		}
	}
	if err := fillCauses(ctx, db, res.Addresses); err != nil {
		return nil, err
	}
	if !o.Since.IsZero() {
		res.Addresses = slices.DeleteFunc(res.Addresses, func(a SuppressedAddress) bool { return a.Since.Before(o.Since) })
	}
	sort.Slice(res.Addresses, func(i, j int) bool {
		a, b := res.Addresses[i], res.Addresses[j]
		if a.Address != b.Address {
			return a.Address < b.Address
		}
		if a.SendingDomain != b.SendingDomain {
			return a.SendingDomain < b.SendingDomain
		}
		return a.List < b.List
	})
	seen := map[string]bool{}
	for _, a := range res.Addresses {
		d := entryDomain(a.Address)
		if !seen[d] {
			seen[d] = true
			res.Domains = append(res.Domains, d)
		}
	}
	for _, d := range res.Domains {
		res.Verdicts = append(res.Verdicts, domainVerdict(d, res.Addresses))
	}
	res.Counts = listCounts(res.Addresses)
	return res, nil
}

// listCounts counts the addresses on each list of each sending domain.
func listCounts(addrs []SuppressedAddress) []ListCount {
	n := map[[2]string]int{}
	for _, a := range addrs {
		n[[2]string{a.SendingDomain, a.List}]++
	}
	out := make([]ListCount, 0, len(n))
	for _, k := range slices.SortedFunc(maps.Keys(n), func(a, b [2]string) int { return slices.Compare(a[:], b[:]) }) {
		out = append(out, ListCount{SendingDomain: k[0], List: k[1], Addresses: n[k]})
	}
	return out
}

// causeOfEntry classes a bounce-list entry no event explains by its own
// code and error text, with the same rules as an event's.
func causeOfEntry(r *ListEntry) *Cause {
	ev := maildiag.Event{Type: maildiag.Failed, Severity: maildiag.SeverityPermanent, Reason: maildiag.ReasonBounce,
		Recipient: r.Address, RecipientDomain: maildiag.DomainOf(r.Address), Reply: r.Error}
	code := strings.TrimSpace(r.Code)
	if strings.Contains(code, ".") {
		ev.EnhancedCode = code
	} else if n, err := strconv.Atoi(code); err == nil {
		ev.Code = n
	}
	if ev.Code == 0 {
		ev.Code = classify.CodeIn(r.Error)
	}
	if ev.EnhancedCode == "" {
		ev.EnhancedCode = classify.EnhancedIn(r.Error)
	}
	classify.Derive(&ev)
	return &Cause{Time: maildiag.TimeUS(r.CreatedUS), SendingDomain: r.SendingDomain, Code: ev.Code, Enhanced: ev.EnhancedCode,
		Reply: r.Error, Class: ev.Class, Rule: ev.Rule, Gateway: ev.Gateway, Reason: ev.Reason, Severity: ev.Severity, FromList: true}
}

// fillCauses reads what a failure scan leaves out of the causes shown: the
// reply, MX host, rule and event id.
func fillCauses(ctx context.Context, db FailureReader, addrs []SuppressedAddress) error {
	var refs []Ref
	for _, a := range addrs {
		if a.Cause != nil && !a.Cause.FromList {
			refs = append(refs, a.Cause.ref)
		}
	}
	details, err := db.FailureDetails(ctx, refs)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if c := a.Cause; c != nil && !c.FromList {
			c.fill(details[c.ref])
		}
	}
	return nil
}

// fill completes a cause from its failure read whole.
func (c *Cause) fill(f *Failure) {
	if f != nil {
		c.Reply, c.MXHost, c.Rule, c.EventID = f.Text(), f.MXHost, f.Rule, f.EventID
	}
}

func wanted(lists []string, l string) bool { return len(lists) == 0 || slices.Contains(lists, l) }

// listState says whether a list entry is still on the list.
func listState(r *ListEntry, synced map[[2]string]time.Time) (string, string) {
	if !r.Removed.IsZero() {
		return StateRemoved, "removed from the list; gone at the sync of " + fmtTime(r.Removed)
	}
	if at, ok := synced[[2]string{r.SendingDomain, r.List}]; ok {
		return StateListed, "on the list as of the last sync, " + fmtTime(at)
	}
	if r.Imported {
		return StateListed, "in an imported list export, seen " + fmtTime(r.LastSeen) + "; lists not synced"
	}
	return StateListed, "seen on the list " + fmtTime(r.LastSeen)
}

// causeFor finds the hard failure that put an address on the bounce list of
// a sending domain: the last one at or before the entry was created (a
// minute's slack), else the first after.
func causeFor(hard []*Failure, sd string, created time.Time) *Cause {
	var best *Failure
	for _, h := range hard {
		if h.SendingDomain != sd {
			continue
		}
		if !h.Time.After(created.Add(time.Minute)) {
			best = h
		} else if best == nil {
			best = h
			break
		}
	}
	if best == nil {
		return nil
	}
	return causeOf(best)
}

// causeOf is a failure as a cause; FailureDetails fills what a scan left
// out.
func causeOf(f *Failure) *Cause {
	return &Cause{Time: f.Time, SendingDomain: f.SendingDomain, Code: f.Code, Enhanced: f.Enhanced,
		Reply: f.Text(), MXHost: f.MXHost, Class: f.Class, Rule: f.Rule, Gateway: f.Gateway, Reason: f.Reason,
		Severity: f.Severity, EventID: f.EventID, ref: f.Ref}
}

// dropsAfter counts the messages dropped for a list entry after it was made.
func dropsAfter(drops []*Failure, sd, list string, since time.Time) (int, time.Time) {
	n := 0
	var last time.Time
	for _, d := range drops {
		if !d.Time.Before(since) && listOfReason(d.Reason) == list && d.SendingDomain == sd {
			n++
			last = d.Time
		}
	}
	return n, last
}

// addressLevel are the classes that say something about one address, not
// about the domain or our sending.
var addressLevel = map[string]bool{
	maildiag.ClassUserUnknown: true, maildiag.ClassMailboxDisabled: true, maildiag.ClassMailboxFull: true,
}

// blockClasses are the classes a recipient's gateway refusing all our mail
// shows up as.
var blockClasses = map[string]bool{
	maildiag.ClassPolicyBlock: true, maildiag.ClassBlocklisted: true, maildiag.ClassAuthentication: true,
	maildiag.ClassSpamContent: true, maildiag.ClassRateLimited: true, maildiag.ClassOther: true,
}

// entryDomain is the domain of a list entry: an address's, or the domain
// a domain allowlist entry names.
func entryDomain(address string) string {
	if !strings.Contains(address, "@") {
		return address
	}
	return maildiag.DomainOf(address)
}

// domainVerdict looks at the bounces that suppressed a domain's addresses:
// many addresses failing alike within a few hours is the recipient's
// gateway refusing us, not bad addresses.
func domainVerdict(domain string, all []SuppressedAddress) DomainVerdict {
	var causes []*Cause
	addrs := map[string]bool{}
	choices := map[string]int{}
	var allowed []string
	for i := range all {
		a := &all[i]
		if entryDomain(a.Address) != domain {
			continue
		}
		if a.List == maildiag.ListAllowlist {
			if !slices.Contains(allowed, a.SendingDomain) {
				allowed = append(allowed, a.SendingDomain)
			}
			continue
		}
		addrs[a.Address] = true
		switch {
		case a.List == maildiag.ListBounces && a.Cause != nil:
			causes = append(causes, a.Cause)
		case a.List != maildiag.ListBounces:
			choices[a.List]++
		}
	}
	if len(addrs) == 0 && len(allowed) > 0 {
		return DomainVerdict{Domain: domain, Kind: VerdictAllowlisted, Evidence: []string{},
			Summary: fmt.Sprintf("%s is on the allowlist of %s: Mailgun never suppresses mail to it there.", domain, strings.Join(allowed, ", ")),
			Action:  "Nothing to remove: look at its deliveries and failures (maildiag failures --to " + domain + ")."}
	}
	return verdictOf(domain, len(addrs), causes, choices)
}

// verdictOf judges a domain from the failures that took its addresses out:
// the first hard failure of each address (causes), and the lists its other
// addresses are on by their own choice. It quotes the reply and MX host of
// one cause, verdictSample's.
func verdictOf(domain string, addresses int, causes []*Cause, choices map[string]int) DomainVerdict {
	v := DomainVerdict{Domain: domain, Evidence: []string{}, Addresses: addresses}
	if len(causes) == 0 {
		v.Kind = VerdictChoices
		v.Summary = fmt.Sprintf("%s: %s; no bounces. These are the recipients' own choices.", domain, countWords(choices))
		v.Action = "Leave them: complaints and unsubscribes are removed only with the person's consent."
		return v
	}
	classes := map[string]int{}
	for _, c := range causes {
		classes[classOrOther(c.Class)]++
	}
	v.Classes = sortedShares(classes)
	win, top, sample := densest(causes)
	gateways := map[string]int{}
	replies := map[string]int{}
	for _, c := range win {
		if classOrOther(c.Class) == top.Name {
			gateways[c.Gateway]++
			replies[fmt.Sprintf("%d %s", c.Code, c.Enhanced)]++
		}
	}
	gw := sortedShares(gateways)[0]
	code := sortedShares(replies)[0]
	info, _ := maildiag.ClassOf(top.Name)
	v.InWindow, v.From, v.To = len(win), win[0].Time, win[len(win)-1].Time
	v.Class, v.Gateway, v.MXHost, v.Code, v.Enhanced, v.Sample = top.Name, gw.Name, sample.MXHost, sample.Code, sample.Enhanced, sample.Reply
	span := humanDuration(v.To.Sub(v.From))
	via := ""
	if gw.Name != "" {
		via = " from the same " + gw.Name + " gateway"
		if gw.Count < top.Count {
			via = fmt.Sprintf(" (%d of them through %s)", gw.Count, gw.Name)
		}
	}
	switch {
	case top.Name == maildiag.ClassDomainNotFound:
		v.Kind = VerdictDeadDomain
		v.Summary = fmt.Sprintf("%s does not receive mail: %s failed with %q. The domain has no working MX: it is dead, or a typo.",
			domain, maildiag.Plural(top.Count, "address"), strings.TrimSpace(code.Name+" "+firstLine(sample.Reply)))
		v.Action = info.Action
	case top.Count >= minBlockAddresses && top.Count*10 >= len(win)*8 && blockClasses[top.Name]:
		v.Kind = VerdictDomainBlock
		v.Summary = fmt.Sprintf("%d addresses bounced with %s%s within %s: a domain-wide block at the recipient, not bad addresses.",
			top.Count, strings.TrimSpace(code.Name), via, span)
		v.Action = "Ask " + domain + "'s mail admin to allowlist our sending domains and IPs (show them the reply below), then remove these suppressions and resend."
	default:
		v.Kind = VerdictScattered
		if len(causes) == 1 {
			v.Summary = fmt.Sprintf("One address at %s failed (%s) on %s: an individual bad address, not a block of the domain.",
				domain, classOrOther(causes[0].Class), fmtTime(causes[0].Time))
		} else {
			over := "over " + humanDuration(causes[len(causes)-1].Time.Sub(causes[0].Time))
			if causes[len(causes)-1].Time.Sub(causes[0].Time) < time.Minute {
				over = "within a minute"
			}
			why := "for different reasons (" + shareWords(v.Classes, 3) + ")"
			v.Summary = fmt.Sprintf("%s at %s failed %s, %s: individual bad addresses, not a block of the domain.",
				maildiag.Plural(len(causes), "address"), domain, over, why)
		}
		v.Action = "Check each address with the person concerned; remove a suppression only when the address is known to work again."
	}
	v.Evidence = append(v.Evidence,
		fmt.Sprintf("%d of %d bounces between %s and %s were %s", top.Count, len(win), fmtTime(v.From), fmtTime(v.To), top.Name))
	if sample.MXHost != "" {
		v.Evidence = append(v.Evidence, "receiving MX: "+sample.MXHost)
	}
	if sample.Reply != "" {
		v.Evidence = append(v.Evidence, "reply: "+oneLine(sample.Reply))
	}
	if n := len(causes) - len(win); n > 0 {
		v.Evidence = append(v.Evidence, fmt.Sprintf("%d other bounces outside that window", n))
	}
	return v
}

// densest finds, among a domain's causes, the densest window of
// blockWindow, its most common class and the cause verdictOf quotes: the
// first of that class in the window. It sorts causes by time.
func densest(causes []*Cause) (win []*Cause, top Share, sample *Cause) {
	sort.Slice(causes, func(i, j int) bool { return causes[i].Time.Before(causes[j].Time) })
	bestI, bestJ := 0, 0
	for i, j := 0, 0; j < len(causes); j++ {
		for causes[j].Time.Sub(causes[i].Time) > blockWindow {
			i++
		}
		if j-i > bestJ-bestI {
			bestI, bestJ = i, j
		}
	}
	win = causes[bestI : bestJ+1]
	wclass := map[string]int{}
	for _, c := range win {
		wclass[classOrOther(c.Class)]++
	}
	top = sortedShares(wclass)[0]
	sample = win[0]
	for _, c := range win {
		if classOrOther(c.Class) == top.Name {
			return win, top, c
		}
	}
	return win, top, sample
}

// verdictSample is the cause verdictOf quotes, nil when there are none.
func verdictSample(causes []*Cause) *Cause {
	if len(causes) == 0 {
		return nil
	}
	_, _, sample := densest(causes)
	return sample
}

func classOrOther(c string) string {
	if c == "" {
		return maildiag.ClassOther
	}
	return c
}

func sortedShares(m map[string]int) []Share {
	out := make([]Share, 0, len(m))
	for k, v := range m {
		out = append(out, Share{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func shareWords(s []Share, n int) string {
	var parts []string
	for i, x := range s {
		if i == n {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", x.Name, x.Count))
	}
	return strings.Join(parts, ", ")
}

func countWords(m map[string]int) string {
	return shareWords(sortedShares(m), 3)
}

func sortByTime(fs []*Failure) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Time.Before(fs[j].Time) })
}

// sortedKeys are a map's recipients in order.
func sortedKeys[V any](m map[RecipientID]V) []RecipientID {
	return slices.Sorted(maps.Keys(m))
}

// sendingDomains checks sending domain names against the store's: an
// unknown one is an error naming it.
func sendingDomains(ctx context.Context, db DirectoryReader, want []string) ([]string, error) {
	if len(want) == 0 {
		return nil, nil
	}
	have, err := db.SendingDomains(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(want))
	for _, w := range want {
		w = strings.ToLower(strings.TrimSpace(w))
		if !slices.Contains(have, w) {
			return nil, fmt.Errorf("sending domain %s: not in the index", w)
		}
		out = append(out, w)
	}
	return out, nil
}
