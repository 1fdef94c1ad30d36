package analyze

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// SplitRow is one sending domain, sending IP or tag of the period: its
// volume, failures and main classes.
type SplitRow struct {
	// Name is the sending domain, IP or tag.
	Name string `json:"name"`
	// Messages are the messages sent: the accepted ones, or at least the
	// delivered and failed ones. Mailgun's accepted events carry no
	// sending IP, so a sending IP's Accepted is 0 and its Messages are
	// its delivered and failed ones. A message with several tags counts
	// under each.
	Messages  int64 `json:"messages"`
	Accepted  int64 `json:"accepted"`
	Delivered int64 `json:"delivered"`
	// DeliveryRate is Delivered / Messages.
	DeliveryRate float64 `json:"delivery_rate,omitempty"`
	// Failures counts permanent failures and drops, Deferrals temporary
	// failures.
	Failures  int64 `json:"failures"`
	Deferrals int64 `json:"deferrals"`
	// Class is the main class of its failures, DeferralClass of its
	// deferrals, with their counts.
	Class              string `json:"class,omitempty"`
	ClassCount         int64  `json:"class_count,omitempty"`
	DeferralClass      string `json:"deferral_class,omitempty"`
	DeferralClassCount int64  `json:"deferral_class_count,omitempty"`
}

// splitAcc gathers one split row's failures.
type splitAcc struct {
	failures, deferrals int64
	cls, def            map[string]int64
}

func (a *splitAcc) add(class string, temporary bool) {
	if a.cls == nil {
		a.cls, a.def = map[string]int64{}, map[string]int64{}
	}
	if temporary {
		a.deferrals++
		a.def[class]++
		return
	}
	a.failures++
	a.cls[class]++
}

func splitIn(m map[string]*splitAcc, key string) *splitAcc {
	a := m[key]
	if a == nil {
		a = &splitAcc{}
		m[key] = a
	}
	return a
}

// rlKey is a provider, sending IP and sending domain of rate-limited
// failures.
type rlKey struct{ gateway, ip, sending string }

// senderKey is a provider refusing one sending IP or one sending domain.
type senderKey struct {
	gateway string
	byIP    bool // value is a sending IP; else a sending domain
	value   string
}

// senderBlock gathers the policy refusals of one sender at one provider,
// per recipient domain so that a domain-wide block can be taken out.
type senderBlock struct {
	byDomain    map[string]int64
	first, last time.Time
	// codes counts the refusals by code and enhanced code: the most
	// frequent pair names the block, and its earliest refusal is the
	// sample, whatever order the store reads failures in.
	codes   codeCount
	refused []refusal // an IP's refused deliveries
}

// main is the block's most frequent code and enhanced code, and the
// sample refusal of that pair.
func (b *senderBlock) main() (code int, enhanced string, sample Ref) {
	pair, sample := b.codes.main()
	c, enhanced, _ := strings.Cut(pair, " ")
	code, _ = strconv.Atoi(c)
	return code, enhanced, sample
}

// refusal is a delivery refused, at a recipient domain.
type refusal struct {
	delivery
	domain string
}

// deferral counts the deferrals of one delivery, from the first.
type deferral struct {
	n     int64
	first time.Time
}

// policyClasses are the classes a provider refusing one of our sending IPs
// or domains shows up as.
var policyClasses = map[string]bool{maildiag.ClassBlocklisted: true, maildiag.ClassPolicyBlock: true}

// ruleScan is what the failure scan keeps for the splits and the alert
// rules.
type ruleScan struct {
	bySending, byIP map[string]*splitAcc
	byTag           map[string]*splitAcc
	rateLimited     map[rlKey]int64
	rlSeries        []int64
	senders         map[senderKey]*senderBlock
	gwPolicy        map[string]int64 // policy refusals per provider
	// deferred are the rate-limit and policy deferrals per provider and
	// sending IP, by delivery: a block's evidence counts those of the
	// deliveries it refused, not the IP's other troubles there.
	deferred   map[[2]string]map[delivery]deferral
	domSenders map[string]map[string]bool // recipient domain -> sending IPs and domains refused
	links      *linkScan
}

func newRuleScan(buckets int) *ruleScan {
	return &ruleScan{bySending: map[string]*splitAcc{}, byIP: map[string]*splitAcc{}, byTag: map[string]*splitAcc{}, rateLimited: map[rlKey]int64{},
		rlSeries: make([]int64, buckets), senders: map[senderKey]*senderBlock{}, gwPolicy: map[string]int64{},
		deferred: map[[2]string]map[delivery]deferral{}, domSenders: map[string]map[string]bool{}, links: newLinkScan()}
}

// add counts one failure of class at provider gw, bucket i.
func (rs *ruleScan) add(r *Failure, class, gw string, i int) {
	temporary := r.Outcome == maildiag.OutcomeTemporary
	sd := orDash(r.SendingDomain)
	splitIn(rs.bySending, sd).add(class, temporary)
	rs.links.add(r, class)
	if r.SendingIP != "" {
		splitIn(rs.byIP, r.SendingIP).add(class, temporary)
	}
	for _, t := range r.Tags {
		splitIn(rs.byTag, t).add(class, temporary)
	}
	if class == maildiag.ClassRateLimited {
		rs.rateLimited[rlKey{gw, orDash(r.SendingIP), sd}]++
		if i >= 0 && i < len(rs.rlSeries) {
			rs.rlSeries[i]++
		}
	}
	if temporary && r.SendingIP != "" && (class == maildiag.ClassRateLimited || policyClasses[class]) {
		k := [2]string{gw, r.SendingIP}
		m := rs.deferred[k]
		if m == nil {
			m = map[delivery]deferral{}
			rs.deferred[k] = m
		}
		dk := delivery{r.Message, r.Recipient}
		d := m[dk]
		if d.n == 0 || r.Time.Before(d.first) {
			d.first = r.Time
		}
		d.n++
		m[dk] = d
	}
	if r.Outcome != maildiag.OutcomePermanent || !policyClasses[class] {
		return
	}
	rs.gwPolicy[gw]++
	ds := rs.domSenders[r.RecipientDomain]
	if ds == nil {
		ds = map[string]bool{}
		rs.domSenders[r.RecipientDomain] = ds
	}
	ds[sd] = true
	keys := []senderKey{{gw, false, sd}}
	if r.SendingIP != "" {
		ds[r.SendingIP] = true
		keys = append(keys, senderKey{gw, true, r.SendingIP})
	}
	for _, k := range keys {
		b := rs.senders[k]
		if b == nil {
			b = &senderBlock{byDomain: map[string]int64{}, first: r.Time, last: r.Time}
			rs.senders[k] = b
		}
		b.codes.add(strconv.Itoa(r.Code)+" "+r.Enhanced, r)
		if k.byIP {
			b.refused = append(b.refused, refusal{delivery{r.Message, r.Recipient}, r.RecipientDomain})
		}
		b.byDomain[r.RecipientDomain]++
		if r.Time.Before(b.first) {
			b.first = r.Time
		}
		b.last = later(b.last, r.Time)
	}
}

// splitRows turns accumulated failures into rows, adding the volume of
// those counted, most failures first.
func splitRows(m map[string]*splitAcc, volume map[string]*SplitRow) []SplitRow {
	rows := map[string]*SplitRow{}
	for k, v := range volume {
		rows[k] = v
	}
	for k, a := range m {
		r := rows[k]
		if r == nil {
			r = &SplitRow{Name: k}
			rows[k] = r
		}
		r.Failures, r.Deferrals = a.failures, a.deferrals
		if len(a.cls) > 0 {
			r.Class = topOf(a.cls)
			r.ClassCount = a.cls[r.Class]
		}
		if len(a.def) > 0 {
			r.DeferralClass = topOf(a.def)
			r.DeferralClassCount = a.def[r.DeferralClass]
		}
	}
	out := []SplitRow{}
	for _, k := range slices.Sorted(maps.Keys(rows)) {
		r := rows[k]
		if r.Accepted > 0 || r.Delivered > 0 {
			// Failures in the scan and counts at ingest agree on what
			// failed; Messages is never less than the failed ones.
			r.Messages = max(r.Accepted, r.Delivered+r.Failures)
			r.DeliveryRate = ratio(r.Delivered, r.Messages)
		}
		out = append(out, *r)
	}
	slices.SortStableFunc(out, func(a, b SplitRow) int {
		return cmp.Or(cmp.Compare(b.Failures+b.Deferrals, a.Failures+a.Deferrals), cmp.Compare(b.Messages, a.Messages))
	})
	return out
}

// sendingVolume counts the period's messages per sending domain.
func sendingVolume(ctx context.Context, db Store, q HealthQuery, sc *scope) (map[string]*SplitRow, error) {
	cs, err := db.Counts(ctx, CountQuery{From: q.Since, Until: q.Until, SendingDomains: sc.sending, RecipientDomains: sc.recipientDomains(),
		By: CountBySendingDomain, Types: []string{maildiag.Accepted, maildiag.Delivered}})
	if err != nil {
		return nil, err
	}
	out := map[string]*SplitRow{}
	for _, c := range cs {
		name := orDash(c.SendingDomain)
		r := out[name]
		if r == nil {
			r = &SplitRow{Name: name}
			out[name] = r
		}
		switch c.Type {
		case maildiag.Accepted:
			r.Accepted += c.N
		case maildiag.Delivered:
			r.Delivered += c.N
		}
	}
	return out, nil
}

// splitVolume counts the period's messages per sending IP and per tag.
func splitVolume(ctx context.Context, db Store, q HealthQuery, sc *scope) (ips, tags map[string]*SplitRow, err error) {
	cs, err := db.SplitCounts(ctx, SplitQuery{From: q.Since, Until: q.Until, SendingDomains: sc.sending, RecipientDomains: sc.recipientDomains()})
	if err != nil {
		return nil, nil, err
	}
	ips, tags = map[string]*SplitRow{}, map[string]*SplitRow{}
	for _, c := range cs {
		if c.Type != maildiag.Accepted && c.Type != maildiag.Delivered {
			continue
		}
		m := ips
		if c.By == SplitByTag {
			m = tags
		}
		r := m[c.Name]
		if r == nil {
			r = &SplitRow{Name: c.Name}
			m[c.Name] = r
		}
		if c.Type == maildiag.Accepted {
			r.Accepted += c.N
		} else {
			r.Delivered += c.N
		}
	}
	return ips, tags, nil
}
