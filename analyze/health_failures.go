package analyze

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// failureScan is what one pass over the period's failures collects.
type failureScan struct {
	classes    map[string]int64
	classRcpts map[string]map[RecipientID]struct{}
	series     map[string][]int64
	codes      map[string]*codeCount
	enhanced   map[string]*codeCount
	domClass   map[string]map[string]int64 // final failures only: permanent and drops
	gwClass    map[string]map[string]int64
	domDefer   map[string]map[string]int64 // deferrals, apart
	gwDefer    map[string]map[string]int64
	classFinal map[string]int64
	firstHard  map[string]map[RecipientID]*Failure // domain -> recipient -> first permanent failure (not a drop)
	unknown    map[RecipientID]*lookBounce         // recipients bounced as unknown
	noMX       map[string]*TypoRow                 // domains without MX
	noMXRcpts  map[string]map[RecipientID]struct{}
	deferred   map[delivery]struct{} // deliveries deferred at least once
	rules      *ruleScan
	fromLists  bool // the new suppressions were read from the lists
}

// delivery is one message to one recipient.
type delivery struct {
	message   MessageRef
	recipient RecipientID
}

type lookBounce struct {
	domain string
	n      int
	last   time.Time
}

func scanFailures(ctx context.Context, db Store, q HealthQuery, buckets int, b *bucketer, sc *scope) (*failureScan, error) {
	fs := &failureScan{classes: map[string]int64{}, classRcpts: map[string]map[RecipientID]struct{}{}, series: map[string][]int64{},
		codes: map[string]*codeCount{}, enhanced: map[string]*codeCount{}, domClass: map[string]map[string]int64{},
		gwClass: map[string]map[string]int64{}, domDefer: map[string]map[string]int64{}, gwDefer: map[string]map[string]int64{},
		classFinal: map[string]int64{}, firstHard: map[string]map[RecipientID]*Failure{},
		unknown: map[RecipientID]*lookBounce{}, noMX: map[string]*TypoRow{}, noMXRcpts: map[string]map[RecipientID]struct{}{},
		deferred: map[delivery]struct{}{}, rules: newRuleScan(buckets)}
	f := FailureFilter{From: q.Since, Until: q.Until, SendingDomains: sc.sending, RecipientDomains: sc.recipientDomains()}
	err := db.Failures(ctx, f, func(r *Failure) error {
		if !sc.to.has(r.Recipient) {
			return nil
		}
		class := classOrOther(r.Class)
		fs.classes[class]++
		cr := fs.classRcpts[class]
		if cr == nil {
			cr = map[RecipientID]struct{}{}
			fs.classRcpts[class] = cr
		}
		cr[r.Recipient] = struct{}{}
		s := fs.series[class]
		if s == nil {
			s = make([]int64, buckets)
			fs.series[class] = s
		}
		if i := b.of(r.Time); i >= 0 && i < len(s) {
			s[i]++
		}
		countCode(fs.codes, orDash(codeText(r.Code)), class, r)
		if r.Enhanced != "" {
			countCode(fs.enhanced, r.Enhanced, class, r)
		}
		rd := r.RecipientDomain
		fs.rules.add(r, class, sc.gateway(rd), b.of(r.Time))
		// A domain's or provider's main class is of final outcomes only: a
		// deferral may still be delivered, so it is counted apart.
		dom, gw := fs.domClass, fs.gwClass
		if r.Outcome == maildiag.OutcomeTemporary {
			dom, gw = fs.domDefer, fs.gwDefer
		} else {
			fs.classFinal[class]++
		}
		if r.Recipient != 0 {
			countIn(dom, rd, class)
		}
		countIn(gw, sc.gateway(rd), class)
		if r.Outcome == maildiag.OutcomePermanent && r.Recipient != 0 && !r.DelayedBounce {
			fh := fs.firstHard[rd]
			if fh == nil {
				fh = map[RecipientID]*Failure{}
				fs.firstHard[rd] = fh
			}
			if old := fh[r.Recipient]; old == nil || r.Time.Before(old.Time) {
				c := *r
				fh[r.Recipient] = &c
			}
		}
		if r.Outcome == maildiag.OutcomeTemporary {
			fs.deferred[delivery{r.Message, r.Recipient}] = struct{}{}
		}
		if class == maildiag.ClassUserUnknown {
			lb := fs.unknown[r.Recipient]
			if lb == nil {
				lb = &lookBounce{domain: rd}
				fs.unknown[r.Recipient] = lb
			}
			lb.n++
			lb.last = later(lb.last, r.Time)
		}
		if class == maildiag.ClassDomainNotFound && r.Recipient != 0 {
			t := fs.noMX[rd]
			if t == nil {
				t = &TypoRow{Domain: rd}
				fs.noMX[rd] = t
				fs.noMXRcpts[rd] = map[RecipientID]struct{}{}
			}
			t.Messages++
			fs.noMXRcpts[rd][r.Recipient] = struct{}{}
		}
		return nil
	})
	return fs, err
}

// countIn adds one to m[key][class].
func countIn(m map[string]map[string]int64, key, class string) {
	c := m[key]
	if c == nil {
		c = map[string]int64{}
		m[key] = c
	}
	c[class]++
}

func codeText(code int) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(code)
}

// codeCount counts the failures with one code, by class: the code's
// class is its most frequent one, and the earliest failure of that class
// is its sample, the same on every engine whatever order its store reads
// them in.
type codeCount struct {
	n       int64
	classes map[string]*classSample
}

type classSample struct {
	n      int64
	sample Ref
	at     time.Time
	domain string
	sd     string
}

func countCode(m map[string]*codeCount, code, class string, r *Failure) {
	c := m[code]
	if c == nil {
		c = &codeCount{}
		m[code] = c
	}
	c.add(class, r)
}

// add counts a failure of class.
func (c *codeCount) add(class string, r *Failure) {
	if c.classes == nil {
		c.classes = map[string]*classSample{}
	}
	cs := c.classes[class]
	if cs == nil {
		cs = &classSample{}
		c.classes[class] = cs
	}
	if cs.n == 0 || earlier(r, cs.at, cs.domain, cs.sd) {
		cs.sample, cs.at, cs.domain, cs.sd = r.Ref, r.Time, r.RecipientDomain, r.SendingDomain
	}
	cs.n++
	c.n++
}

// main is the code's most frequent class (by name among equals) and its sample.
func (c *codeCount) main() (string, Ref) {
	var best string
	var b *classSample
	for class, cs := range c.classes {
		if b == nil || cs.n > b.n || cs.n == b.n && class < best {
			best, b = class, cs
		}
	}
	return best, b.sample
}

// finish turns the scan into the report's failure sections, and judges
// the domains that have enough first bounces to judge, or are listed,
// into f.verdicts. The replies quoted (the codes' samples and each
// verdict's) are read in one batch first.
func (fs *failureScan) finish(ctx context.Context, db Store, res *HealthResult, f *healthFacts, sc *scope) error {
	res.DeferredMessages = int64(len(fs.deferred))
	shares := make([]Share, 0, len(fs.classes))
	for c, n := range fs.classes {
		shares = append(shares, Share{c, int(n)})
	}
	sort.Slice(shares, func(i, j int) bool {
		if shares[i].Count != shares[j].Count {
			return shares[i].Count > shares[j].Count
		}
		return shares[i].Name < shares[j].Name
	})
	for _, s := range shares {
		info, _ := maildiag.ClassOf(s.Name)
		res.TopClasses = append(res.TopClasses, ClassRow{Class: s.Name, Title: info.Title, Count: int64(s.Count), Kind: info.BounceKind(),
			Recipients: len(fs.classRcpts[s.Name]), Advice: info.Action, Final: fs.classFinal[s.Name], Deferrals: int64(s.Count) - fs.classFinal[s.Name]})
	}
	for i, v := range res.Volume {
		cb := ClassBucket{Start: v.Start, Counts: []ClassCount{}}
		for _, s := range shares {
			if n := fs.series[s.Name][i]; n > 0 {
				cb.Counts = append(cb.Counts, ClassCount{Class: s.Name, Count: n})
			}
		}
		res.Classes = append(res.Classes, cb)
	}
	var codeSamples, enhancedSamples []Ref
	res.Codes, codeSamples = topCodes(fs.codes)
	res.Enhanced, enhancedSamples = topCodes(fs.enhanced)
	for i := range res.Domains {
		d := &res.Domains[i]
		if dc := fs.domClass[d.Domain]; len(dc) > 0 {
			d.Class = topOf(dc)
			d.ClassCount = dc[d.Class]
		}
		if dc := fs.domDefer[d.Domain]; len(dc) > 0 {
			d.DeferralClass = topOf(dc)
		}
	}
	for i := range res.Providers {
		p := &res.Providers[i]
		if gc := fs.gwClass[p.Provider]; len(gc) > 0 {
			p.Class = topOf(gc)
			p.ClassCount = gc[p.Class]
		}
		if gc := fs.gwDefer[p.Provider]; len(gc) > 0 {
			p.DeferralClass = topOf(gc)
			p.DeferralClassCount = gc[p.DeferralClass]
		}
	}
	// Each domain's causes, for its verdict: a domain-wide block is many
	// addresses of one domain failing alike.
	causes := map[string][]*Cause{}
	listed := map[string]bool{}
	for _, d := range res.Domains {
		listed[d.Domain] = true
	}
	for rd, fh := range fs.firstHard {
		if len(fh) < minBlockAddresses && !listed[rd] {
			continue
		}
		cs := make([]*Cause, 0, len(fh))
		for _, r := range fh {
			cs = append(cs, causeOf(r))
		}
		causes[rd] = cs
	}
	refs := slices.Concat(codeSamples, enhancedSamples)
	for _, sb := range fs.rules.senders {
		_, _, sample := sb.main()
		refs = append(refs, sample)
	}
	samples := map[string]*Cause{}
	for rd, cs := range causes {
		samples[rd] = verdictSample(cs)
		refs = append(refs, samples[rd].ref)
	}
	details, err := db.FailureDetails(ctx, refs)
	if err != nil {
		return err
	}
	for i, ref := range codeSamples {
		if d := details[ref]; d != nil {
			res.Codes[i].SampleReply = d.Text()
		}
	}
	for i, ref := range enhancedSamples {
		if d := details[ref]; d != nil {
			res.Enhanced[i].SampleReply = d.Text()
		}
	}
	for _, c := range samples {
		c.fill(details[c.ref])
	}
	f.rules, f.senderReplies = fs.rules, map[senderKey]string{}
	for k, sb := range fs.rules.senders {
		if _, _, sample := sb.main(); details[sample] != nil {
			f.senderReplies[k] = details[sample].Text()
		}
	}
	for _, rd := range slices.Sorted(maps.Keys(causes)) {
		f.verdicts[rd] = verdictOf(rd, len(causes[rd]), causes[rd], nil)
	}
	// Typo domains.
	known, err := typoTargets(ctx, db)
	if err != nil {
		return err
	}
	for rd, t := range fs.noMX {
		if t.Suggested = TypoOf(t.Domain, known); t.Suggested != "" {
			t.Addresses = int64(len(fs.noMXRcpts[rd]))
			res.Typos = append(res.Typos, *t)
		}
	}
	sort.Slice(res.Typos, func(i, j int) bool {
		if res.Typos[i].Messages != res.Typos[j].Messages {
			return res.Typos[i].Messages > res.Typos[j].Messages
		}
		return res.Typos[i].Domain < res.Typos[j].Domain
	})
	lookalikes, err := fs.lookalikes(ctx, db, sc)
	res.Lookalikes = append(res.Lookalikes, lookalikes...)
	return err
}

// maxLookalikeDomain is the most addresses a domain may have for its
// bounces to be compared with its deliveries: at consumer domains two
// near-identical addresses are usually two people.
const maxLookalikeDomain = 5000

// lookalikes pairs addresses that bounced as unknown with near-identical
// ones at the same domain that received mail.
func (fs *failureScan) lookalikes(ctx context.Context, db Store, sc *scope) ([]LookalikeRow, error) {
	byDomain := map[string][]RecipientID{}
	for id, lb := range fs.unknown {
		if sc.domains[lb.domain].Recipients <= maxLookalikeDomain {
			byDomain[lb.domain] = append(byDomain[lb.domain], id)
		}
	}
	var small []RecipientID
	for _, bounced := range byDomain {
		small = append(small, bounced...)
	}
	all, err := db.Addresses(ctx, small)
	if err != nil {
		return nil, err
	}
	// Only the addresses near the bounced ones at each domain, read at once.
	want := make(map[string]NearLocals, len(byDomain))
	for d, bounced := range byDomain {
		var locals []string
		for _, id := range bounced {
			if a := all[id]; a != "" {
				locals = append(locals, localOf(a))
			}
		}
		if len(locals) > 0 {
			want[d] = NewNearLocals(locals)
		}
	}
	at, err := db.RecipientsNear(ctx, want)
	if err != nil {
		return nil, err
	}
	// The pairs of every domain, and then the deliveries of all their
	// candidates in one read.
	type pair struct {
		bounced, other RecipientID
		edits          int
	}
	var pairs []pair
	addr := all // the bounced addresses, and the near ones added
	cand := map[RecipientID]bool{}
	for d, bounced := range byDomain {
		rs := at[d]
		if len(rs) == 0 {
			continue
		}
		for _, r := range rs {
			addr[r.ID] = r.Address
		}
		look := newLookalikes(rs)
		for _, b := range bounced {
			for _, h := range look.of(localOf(addr[b]), true) {
				pairs = append(pairs, pair{b, h.r.ID, h.edits})
				cand[h.r.ID] = true
			}
		}
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	delivered, err := db.Deliveries(ctx, sortedKeys(cand))
	if err != nil {
		return nil, err
	}
	var rows []LookalikeRow
	for _, p := range pairs {
		if delivered[p.other].N == 0 {
			continue
		}
		lb := fs.unknown[p.bounced]
		rows = append(rows, LookalikeRow{Failing: addr[p.bounced], Failures: int64(lb.n), Receiving: addr[p.other],
			Delivered: int64(delivered[p.other].N), Edits: p.edits, LastBounce: lb.last})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Failing != rows[j].Failing {
			return rows[i].Failing < rows[j].Failing
		}
		return rows[i].Receiving < rows[j].Receiving
	})
	return rows, nil
}

func topOf(m map[string]int64) string {
	best, bn := "", int64(-1)
	for k, n := range m {
		if n > bn || n == bn && k < best {
			best, bn = k, n
		}
	}
	return best
}

// topCodesShown is how many codes the report lists.
const topCodesShown = 15

// topCodes are the most frequent codes, with the failure whose reply each
// quotes.
func topCodes(m map[string]*codeCount) ([]CodeRow, []Ref) {
	codes := slices.Collect(maps.Keys(m))
	sort.Slice(codes, func(i, j int) bool {
		if a, b := m[codes[i]].n, m[codes[j]].n; a != b {
			return a > b
		}
		return codes[i] < codes[j]
	})
	codes = codes[:min(len(codes), topCodesShown)]
	rows := make([]CodeRow, len(codes))
	samples := make([]Ref, len(codes))
	for i, code := range codes {
		class, sample := m[code].main()
		info, _ := maildiag.ClassOf(class)
		rows[i] = CodeRow{Code: code, Count: m[code].n, Class: class, Meaning: info.Title}
		samples[i] = sample
	}
	return rows, samples
}

// healthSuppressions counts new suppressions per day and lists the
// addresses suppressed in the period: from the lists when they are in the
// index, else from the events (first hard bounce, complaints and
// unsubscribes).
func healthSuppressions(ctx context.Context, db Store, q HealthQuery, res *HealthResult, fs *failureScan, sc *scope) error {
	rows, err := db.Suppressions(ctx, SuppressionFilter{Domains: sc.recipientDomains(), SendingDomains: sc.sending,
		CreatedFrom: q.Since, CreatedUntil: q.Until,
		Lists: []string{maildiag.ListBounces, maildiag.ListComplaints, maildiag.ListUnsubscribes}})
	if err != nil {
		return err
	}
	fs.fromLists = len(rows) > 0
	days := map[time.Time]*SuppressionDay{}
	dayOf := func(t time.Time) *SuppressionDay {
		d := t.Truncate(day)
		s := days[d]
		if s == nil {
			s = &SuppressionDay{Day: d}
			days[d] = s
		}
		return s
	}
	// cause is the hard bounce an entry is derived from, when no list
	// shows it.
	type entry struct {
		NewSuppression
		cause *Ref
	}
	var list []entry
	for _, r := range rows {
		created := maildiag.TimeUS(r.CreatedUS)
		s := dayOf(created)
		switch r.List {
		case maildiag.ListBounces:
			s.Bounces++
		case maildiag.ListComplaints:
			s.Complaints++
		case maildiag.ListUnsubscribes:
			s.Unsubscribes++
		}
		list = append(list, entry{NewSuppression: NewSuppression{Address: r.Address, List: r.List, SendingDomain: r.SendingDomain,
			Created: created, Code: r.Code, Reason: oneLine(r.Error)}})
	}
	if len(rows) == 0 {
		// No lists: the first hard bounce of an address in the period.
		var ids []RecipientID
		for _, fh := range fs.firstHard {
			for id, r := range fh {
				if r.Reason == maildiag.ReasonBounce {
					ids = append(ids, id)
				}
			}
		}
		addrs, err := db.Addresses(ctx, ids)
		if err != nil {
			return err
		}
		for _, fh := range fs.firstHard {
			for id, r := range fh {
				if r.Reason != maildiag.ReasonBounce {
					continue
				}
				dayOf(r.Time).Bounces++
				ref := r.Ref
				list = append(list, entry{NewSuppression: NewSuppression{Address: addrs[id], List: maildiag.ListBounces, SendingDomain: r.SendingDomain,
					Created: r.Time, Code: strings.TrimSpace(codeText(r.Code) + " " + r.Enhanced)}, cause: &ref})
			}
		}
		for i := range res.Volume {
			v := &res.Volume[i]
			if v.Complaints+v.Unsubscribes > 0 {
				s := dayOf(v.Start)
				s.Complaints += v.Complaints
				s.Unsubscribes += v.Unsubscribes
			}
		}
	}
	for _, s := range days {
		res.SuppressionDays = append(res.SuppressionDays, *s)
	}
	sort.Slice(res.SuppressionDays, func(i, j int) bool { return res.SuppressionDays[i].Day.Before(res.SuppressionDays[j].Day) })
	sort.Slice(list, func(i, j int) bool {
		if !list[i].Created.Equal(list[j].Created) {
			return list[i].Created.Before(list[j].Created)
		}
		return list[i].Address < list[j].Address
	})
	if len(list) > q.MaxRows {
		res.SuppressedNotShown = len(list) - q.MaxRows
		list = list[:q.MaxRows]
	}
	var refs []Ref
	for _, n := range list {
		if n.cause != nil {
			refs = append(refs, *n.cause)
		}
	}
	details, err := db.FailureDetails(ctx, refs)
	if err != nil {
		return err
	}
	for _, e := range list {
		if e.cause != nil && details[*e.cause] != nil {
			e.Reason = oneLine(details[*e.cause].Text())
		}
		res.Suppressed = append(res.Suppressed, e.NewSuppression)
	}
	return nil
}
