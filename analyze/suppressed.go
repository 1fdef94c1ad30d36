package analyze

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
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

	key index.FailureKey // to read the reply of a light scan's row
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
	State         string    `json:"state"` // listed, removed, probably-listed, unknown
	StateNote     string    `json:"state_note"`
}

// States of a suppression as of the index's knowledge.
const (
	StateListed         = "listed"
	StateRemoved        = "removed"
	StateProbablyListed = "probably-listed"
	StateUnknown        = "unknown"
)

// Verdict kinds for a customer domain.
const (
	VerdictDomainBlock = "domain-wide-block"
	VerdictDeadDomain  = "domain-not-found"
	VerdictScattered   = "scattered-addresses"
	VerdictChoices     = "recipient-choices" // only complaints and unsubscribes
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
	Verdicts    []DomainVerdict     `json:"verdicts"`
	ListsSynced bool                `json:"lists_synced"`
}

// SuppressedOptions narrows the search.
type SuppressedOptions struct {
	SendingDomains []string // empty: all
	Lists          []string // empty: all
	WithRemoved    bool     // also entries removed from the lists
}

// blockWindow is the span within which many addresses failing alike make a
// domain-wide block.
const blockWindow = 6 * time.Hour

// minBlockAddresses is the fewest addresses that make a domain-wide block.
const minBlockAddresses = 5

// maxListedRecipients is the most recipients looked up one by one; more
// are found by scanning their domains.
const maxListedRecipients = 2000

// listOfReason is the list a suppression drop's reason names, "" for
// other reasons.
func listOfReason(reason string) string {
	d, _ := maildiag.DropOf(reason)
	return d.List
}

// perRecipient gathers the failures of one recipient.
type perRecipient struct {
	hard  []*index.FailureRow // permanent failures that were attempts (not drops)
	drops []*index.FailureRow // suppression drops
}

// Suppressed finds the suppressed addresses matching p across every sending
// domain and list: from the lists (synced or imported) and, where the lists
// are not known, from the event log (suppression drops 605/606/607 and hard
// bounces). For each it finds the failure that put it there and how many
// later messages were dropped, and gives each domain a verdict.
func Suppressed(ctx context.Context, db *index.DB, p Pattern, o SuppressedOptions) (*SuppressedResult, error) {
	res := &SuppressedResult{Pattern: p.String(), Domains: []string{}, Addresses: []SuppressedAddress{}, Verdicts: []DomainVerdict{}}
	to, err := resolve(ctx, db, p)
	if err != nil {
		return nil, err
	}
	if len(to.domains) == 0 {
		return res, nil
	}
	names, err := db.SendingDomains(ctx)
	if err != nil {
		return nil, err
	}
	ids := to.domains
	sdFilter, err := sendingDomainIDs(names, o.SendingDomains)
	if err != nil {
		return nil, err
	}
	glob := ""
	if !p.AllOfDomain() {
		glob = p.String()
	}
	rows, err := db.Suppressions(ctx, index.SuppressionFilter{Domains: ids, AddressGlob: glob, SendingDomains: sdFilter, Lists: o.Lists})
	if err != nil {
		return nil, err
	}
	syncs, err := db.ListSyncs(ctx)
	if err != nil {
		return nil, err
	}
	synced := map[[2]string]int64{}
	for _, s := range syncs {
		synced[[2]string{s.SendingDomain, s.List}] = s.SyncedUS
	}
	res.ListsSynced = len(syncs) > 0

	// The failures at the matched domains, per recipient.
	recips := to.recipients
	byRcpt := map[int64]*perRecipient{}
	filter := index.FailureFilter{SendingDomains: sdFilter}
	to.filter(&filter)
	err = db.Failures(ctx, filter, func(r *index.FailureRow) error {
		if r.Type != maildiag.Failed || !to.has(r.RecipientID) {
			return nil
		}
		var list *[]*index.FailureRow
		pr := byRcpt[r.RecipientID]
		switch {
		case listOfReason(r.Reason) != "":
			if pr == nil {
				pr = &perRecipient{}
				byRcpt[r.RecipientID] = pr
			}
			list = &pr.drops
		case r.Severity == maildiag.SeverityPermanent && !r.DelayedBounce || r.Reason == maildiag.ReasonBounce:
			if pr == nil {
				pr = &perRecipient{}
				byRcpt[r.RecipientID] = pr
			}
			list = &pr.hard
		default:
			return nil
		}
		c := *r
		*list = append(*list, &c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if recips == nil {
		recips, err = db.Addresses(ctx, mapKeys(byRcpt))
		if err != nil {
			return nil, err
		}
	}
	addrID := make(map[string]int64, len(recips))
	for id, a := range recips {
		addrID[a] = id
	}
	for _, pr := range byRcpt {
		sortByTime(pr.hard)
		sortByTime(pr.drops)
	}

	// Entries of the lists.
	// listed: the list entries by address, sending domain and list, with
	// when they were removed (0: still listed).
	listed := map[[3]string]int64{}
	for i := range rows {
		r := &rows[i]
		// A list entry, removed or not, speaks for the events of its
		// address until it was removed: only later ones make it
		// "probably listed" again.
		k := [3]string{r.Address, r.SendingDomain, r.List}
		if rem, ok := listed[k]; !ok || rem != 0 && (r.RemovedUS == 0 || r.RemovedUS > rem) {
			listed[k] = r.RemovedUS
		}
		if r.RemovedUS != 0 && !o.WithRemoved {
			continue
		}
		if r.Kind == "domain" && !p.AllOfDomain() {
			continue
		}
		sa := SuppressedAddress{Address: r.Address, SendingDomain: r.SendingDomain, List: r.List, Source: FromList,
			Since: usTime(r.CreatedUS), ListCode: r.Code, ListError: r.Error, Tags: r.Tags}
		if r.Kind == "domain" {
			sa.Address = "*@" + r.Address
		}
		pr := byRcpt[addrID[r.Address]]
		if pr != nil {
			sa.Cause = causeFor(pr.hard, r.SendingDomain, r.CreatedUS, names)
			sa.Drops, sa.LastDrop = dropsAfter(pr.drops, r.SendingDomain, r.List, r.CreatedUS, names)
		}
		sa.State, sa.StateNote = listState(r, synced)
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
		first, last := map[key]int64{}, map[key]int64{}
		note := func(k key, ts int64) {
			if t, ok := first[k]; !ok || ts < t {
				first[k] = ts
			}
			last[k] = max(last[k], ts)
		}
		for _, d := range pr.drops {
			note(key{names[d.SendingDomainID].Name, listOfReason(d.Reason)}, d.TS)
		}
		for _, h := range pr.hard {
			if h.Reason == maildiag.ReasonBounce {
				note(key{names[h.SendingDomainID].Name, maildiag.ListBounces}, h.TS)
			}
		}
		for k, ts := range first {
			if !wanted(o.Lists, k.list) {
				continue
			}
			if rem, ok := listed[[3]string{addr, k.sd, k.list}]; ok && (rem == 0 || last[k] <= rem) {
				continue
			}
			sa := SuppressedAddress{Address: addr, SendingDomain: k.sd, List: k.list, Source: FromEvents}
			if k.list == maildiag.ListBounces {
				sa.Cause = causeFor(pr.hard, k.sd, ts+1, names)
			}
			if sa.Cause != nil {
				ts = min(ts, sa.Cause.Time.UnixMicro())
			}
			sa.Since = usTime(ts)
			sa.Drops, sa.LastDrop = dropsAfter(pr.drops, k.sd, k.list, ts, names)
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
		d := maildiag.DomainOf(a.Address)
		if !seen[d] {
			seen[d] = true
			res.Domains = append(res.Domains, d)
		}
	}
	for _, d := range res.Domains {
		res.Verdicts = append(res.Verdicts, domainVerdict(d, res.Addresses))
	}
	return res, nil
}

func wanted(lists []string, l string) bool { return len(lists) == 0 || slices.Contains(lists, l) }

// listState says whether a list entry is still on the list.
func listState(r *index.SuppressionRow, synced map[[2]string]int64) (string, string) {
	if r.RemovedUS != 0 {
		return StateRemoved, "removed from the list; gone at the sync of " + fmtTime(usTime(r.RemovedUS))
	}
	if at, ok := synced[[2]string{r.SendingDomain, r.List}]; ok {
		return StateListed, "on the list as of the last sync, " + fmtTime(usTime(at))
	}
	if r.ImportID != 0 {
		return StateListed, "in an imported list export, seen " + fmtTime(usTime(r.LastSeenUS)) + "; lists not synced"
	}
	return StateListed, "seen on the list " + fmtTime(usTime(r.LastSeenUS))
}

// causeFor finds the hard failure that put an address on the bounce list of
// a sending domain: the last one at or before the entry was created (a
// minute's slack), else the first after.
func causeFor(hard []*index.FailureRow, sd string, createdUS int64, names map[int64]index.Domain) *Cause {
	var best *index.FailureRow
	for _, h := range hard {
		if names[h.SendingDomainID].Name != sd {
			continue
		}
		if h.TS <= createdUS+60_000_000 {
			best = h
		} else if best == nil {
			best = h
			break
		}
	}
	if best == nil {
		return nil
	}
	return causeOf(best, names)
}

func causeOf(r *index.FailureRow, names map[int64]index.Domain) *Cause {
	return &Cause{Time: usTime(r.TS), SendingDomain: names[r.SendingDomainID].Name, Code: r.Code, Enhanced: r.Enhanced,
		Reply: r.Reply, MXHost: r.MXHost, Class: r.Class, Rule: r.Rule, Gateway: r.Gateway, Reason: r.Reason,
		Severity: r.Severity, EventID: r.EventID, key: r.Key()}
}

// dropsAfter counts the messages dropped for a list entry after it was made.
func dropsAfter(drops []*index.FailureRow, sd, list string, sinceUS int64, names map[int64]index.Domain) (int, time.Time) {
	n := 0
	var last int64
	for _, d := range drops {
		if d.TS >= sinceUS && listOfReason(d.Reason) == list && names[d.SendingDomainID].Name == sd {
			n++
			last = d.TS
		}
	}
	if n == 0 {
		return 0, time.Time{}
	}
	return n, usTime(last)
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

// domainVerdict looks at the bounces that suppressed a domain's addresses:
// many addresses failing alike within a few hours is the recipient's
// gateway refusing us, not bad addresses.
func domainVerdict(domain string, all []SuppressedAddress) DomainVerdict {
	var causes []*Cause
	addrs := map[string]bool{}
	choices := map[string]int{}
	for i := range all {
		a := &all[i]
		if maildiag.DomainOf(a.Address) != domain || a.List == maildiag.ListAllowlist {
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
	v, _ := verdictOf(domain, len(addrs), causes, choices, nil)
	return v
}

// verdictOf judges a domain from the failures that took its addresses out:
// the first hard failure of each address (causes), and the lists its other
// addresses are on by their own choice. fill, when set, completes the one
// cause quoted as the sample (causes from a light scan have no reply).
func verdictOf(domain string, addresses int, causes []*Cause, choices map[string]int, fill func(*Cause) error) (DomainVerdict, error) {
	v := DomainVerdict{Domain: domain, Evidence: []string{}, Addresses: addresses}
	if len(causes) == 0 {
		v.Kind = VerdictChoices
		v.Summary = fmt.Sprintf("%s: %s; no bounces. These are the recipients' own choices.", domain, countWords(choices))
		v.Action = "Leave them: complaints and unsubscribes are removed only with the person's consent."
		return v, nil
	}
	sort.Slice(causes, func(i, j int) bool { return causes[i].Time.Before(causes[j].Time) })
	classes := map[string]int{}
	for _, c := range causes {
		classes[classOrOther(c.Class)]++
	}
	v.Classes = sortedShares(classes)

	// The densest window of blockWindow.
	bestI, bestJ := 0, 0
	for i, j := 0, 0; j < len(causes); j++ {
		for causes[j].Time.Sub(causes[i].Time) > blockWindow {
			i++
		}
		if j-i > bestJ-bestI {
			bestI, bestJ = i, j
		}
	}
	win := causes[bestI : bestJ+1]
	wclass := map[string]int{}
	for _, c := range win {
		wclass[classOrOther(c.Class)]++
	}
	top := sortedShares(wclass)[0]
	sample := win[0]
	for _, c := range win {
		if classOrOther(c.Class) == top.Name {
			sample = c
			break
		}
	}
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
	if fill != nil {
		if err := fill(sample); err != nil {
			return v, err
		}
	}
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
		v.Summary = fmt.Sprintf("%s does not receive mail: %d addresses failed with %q. The domain has no working MX: it is dead, or a typo.",
			domain, top.Count, strings.TrimSpace(code.Name+" "+firstLine(sample.Reply)))
		v.Action = info.Action
	case top.Count >= minBlockAddresses && top.Count*10 >= len(win)*8 && blockClasses[top.Name]:
		v.Kind = VerdictDomainBlock
		v.Summary = fmt.Sprintf("%d addresses bounced with %s%s within %s: a domain-wide block at the recipient, not bad addresses.",
			top.Count, strings.TrimSpace(code.Name), via, span)
		v.Action = "Ask " + domain + "'s mail admin to allowlist our sending domains and IPs (show them the reply below), then remove these suppressions and resend."
	default:
		v.Kind = VerdictScattered
		v.Summary = fmt.Sprintf("%d addresses at %s failed over %s, for different reasons (%s): individual bad addresses, not a block of the domain.",
			len(causes), domain, humanDuration(causes[len(causes)-1].Time.Sub(causes[0].Time)), shareWords(v.Classes, 3))
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
	return v, nil
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

func sortByTime(rs []*index.FailureRow) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].TS < rs[j].TS })
}

func mapKeys[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sendingDomainIDs resolves sending domain names; an unknown one is an error
// naming it.
func sendingDomainIDs(names map[int64]index.Domain, want []string) ([]int64, error) {
	var out []int64
	for _, w := range want {
		w = strings.ToLower(strings.TrimSpace(w))
		found := false
		for id, d := range names {
			if d.Name == w {
				out = append(out, id)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("sending domain %s: not in the index", w)
		}
	}
	return out, nil
}
