package analyze

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/maildiag/maildiag"
)

// HealthQuery selects the period of a delivery-health report.
type HealthQuery struct {
	Since, Until   time.Time // the period [Since, Until); Until zero: Now
	SendingDomains []string
	To             *Pattern // one customer domain (or a pattern of them)
	Now            time.Time
	MaxRows        int // longest address lists (new suppressions, stuck); 0: 200
	// Thresholds judge the rates and raise the alerts; unset ones take
	// DefaultThresholds.
	Thresholds Thresholds
}

// Progress is told how far a long analysis has come, as a fraction.
type Progress func(done float64)

// Health computes the delivery-health report of a period, and compares it
// with the period of equal length before it. It first gathers the facts
// (the counts kept at ingest, one scan of the period's failures, the
// replies it quotes, the index's time span), then decides the verdicts,
// alerts and sentences from them alone (healthDecide). It costs about the
// same at ten million events as at ten thousand.
func Health(ctx context.Context, db Store, q HealthQuery, progress Progress) (*HealthResult, error) {
	if progress == nil {
		progress = func(float64) {}
	}
	if q.Now.IsZero() {
		q.Now = time.Now().UTC()
	}
	if q.Until.IsZero() {
		q.Until = q.Now
	}
	if q.MaxRows <= 0 {
		q.MaxRows = 200
	}
	q.Thresholds = q.Thresholds.orDefaults()
	if !q.Since.Before(q.Until) {
		return nil, fmt.Errorf("the period must start before it ends")
	}
	length := q.Until.Sub(q.Since)
	res := &HealthResult{Hourly: length <= 48*time.Hour,
		Blocks: []DomainBlock{}, Alerts: []Alert{}, Volume: []VolumeBucket{}, Classes: []ClassBucket{}, TopClasses: []ClassRow{},
		Domains: []DomainRow{}, Providers: []ProviderRow{}, Codes: []CodeRow{}, Enhanced: []CodeRow{},
		Rates: []Rate{}, SuppressionDays: []SuppressionDay{}, Suppressed: []NewSuppression{}, Delays: []DelayRow{},
		Typos: []TypoRow{}, Lookalikes: []LookalikeRow{}, SendingDomains: []SplitRow{}, SendingIPs: []SplitRow{}, Tags: []SplitRow{}}
	f := &healthFacts{prevSince: q.Since.Add(-length), verdicts: map[string]DomainVerdict{}}
	b := &bucketer{from: q.Since, hourly: res.Hourly}
	res.Volume = make([]VolumeBucket, b.count(q.Until))
	for i := range res.Volume {
		res.Volume[i].Start = b.start(i)
	}
	var err error
	if f.span, err = db.Span(ctx); err != nil {
		return nil, err
	}
	sc := &scope{}
	if sc.sending, err = sendingDomains(ctx, db, q.SendingDomains); err != nil {
		return nil, err
	}
	if q.To != nil {
		if sc.to, err = resolve(ctx, db, *q.To); err != nil {
			return nil, err
		}
		if len(sc.to.domains) == 0 {
			healthDecide(res, q, f) // no mail to such a domain
			return res, nil
		}
	}
	if sc.domains, err = db.Domains(ctx); err != nil {
		return nil, err
	}
	// The counts and pending deliveries are read on a second connection
	// while this one scans the failures, and the delays on a third: on
	// PostgreSQL, the delays were 0.66 s of the server's time after the
	// counts' 0.8 s, on one connection, while the scan took 1.6 s. The
	// delays' goroutine owns cf.delays until it sends on delays, the
	// counts' goroutine the rest of cf until it sends on done, and the
	// scan owns fs.
	cf := &countFacts{volume: slices.Clone(res.Volume)}
	done, delays := make(chan error, 1), make(chan error, 1)
	go func() { delays <- healthDelays(ctx, db, q, cf, sc) }()
	go func() {
		err := healthCounts(ctx, db, q, f.prevSince, cf, b, sc)
		if err == nil {
			err = healthStuck(ctx, db, q, cf, sc)
		}
		if err == nil {
			cf.sendingVolume, err = sendingVolume(ctx, db, q, sc)
		}
		if err == nil {
			cf.ipVolume, cf.tagVolume, err = splitVolume(ctx, db, q, sc)
		}
		done <- err
	}()
	fs, err := scanFailures(ctx, db, q, len(res.Volume), b, sc)
	if serr := <-done; err == nil {
		err = serr
	}
	if derr := <-delays; err == nil {
		err = derr
	}
	if err != nil {
		return nil, err
	}
	res.Totals, f.previous, res.Volume, res.Deferrals = cf.totals, cf.previous, cf.volume, cf.totals.FailedTemporary
	res.Domains, res.Providers, res.Delays, res.Stuck = cf.domains, cf.providers, cf.delays, cf.stuck
	progress(0.7)
	if err := fs.finish(ctx, db, res, f, sc); err != nil {
		return nil, err
	}
	res.SendingDomains, res.SendingIPs = splitRows(fs.rules.bySending, cf.sendingVolume), splitRows(fs.rules.byIP, cf.ipVolume)
	res.Tags = splitRows(fs.rules.byTag, cf.tagVolume)
	progress(0.8)
	if err := healthSuppressions(ctx, db, q, res, fs, sc); err != nil {
		return nil, err
	}
	if err := healthMetrics(ctx, db, q, res, f.span, sc); err != nil {
		return nil, err
	}
	if !covers(f.span, f.prevSince) {
		if f.prevMetrics, err = previousMetrics(ctx, db, q, f.prevSince, sc); err != nil {
			return nil, err
		}
	}
	if fs.fromLists && covers(f.span, f.prevSince) {
		// The lists' entries of the previous period, for a jump; not
		// when this period's were derived from bounces.
		prev, err := db.Suppressions(ctx, SuppressionFilter{Domains: sc.recipientDomains(), SendingDomains: sc.sending,
			CreatedFrom: f.prevSince, CreatedUntil: q.Since, Lists: []string{maildiag.ListBounces, maildiag.ListComplaints, maildiag.ListUnsubscribes}})
		if err != nil {
			return nil, err
		}
		f.prevSuppressed = int64(len(prev))
		f.suppressedKnown = true
	}
	healthDecide(res, q, f)
	progress(1)
	return res, nil
}

// healthFacts are what the decisions need besides the result's rows: the
// index's span, the previous period's counts, and the verdict on each
// judged domain.
type healthFacts struct {
	span      Span
	prevSince time.Time
	previous  Totals
	// prevMetrics count the previous period from Mailgun's metrics, when
	// the index does not reach back to its start and they cover it.
	prevMetrics *Totals
	verdicts    map[string]DomainVerdict // by recipient domain
	// rules are the failure scan's facts for the alert rules, and
	// senderReplies a reply of each refused sender.
	rules         *ruleScan
	senderReplies map[senderKey]string
	// prevSuppressed counts the previous period's new list entries, when
	// suppressedKnown.
	prevSuppressed  int64
	suppressedKnown bool
}

// countFacts are the counts, delays and pending deliveries, read apart from
// the failure scan.
type countFacts struct {
	totals, previous Totals
	volume           []VolumeBucket
	domains          []DomainRow
	providers        []ProviderRow
	delays           []DelayRow
	stuck            Stuck
	sendingVolume    map[string]*SplitRow
	ipVolume         map[string]*SplitRow
	tagVolume        map[string]*SplitRow
}

// scope is what a health report is narrowed to, and the domains it knows.
type scope struct {
	sending []string          // sending domains; nil: all
	to      *resolved         // recipients; nil: all
	domains map[string]Domain // every domain, for its gateway and size
}

// recipientDomains are the recipient domains the report is narrowed to;
// nil: all.
func (sc *scope) recipientDomains() []string {
	if sc.to == nil {
		return nil
	}
	return sc.to.domains
}

func (sc *scope) sendingDomain(name string) bool {
	return len(sc.sending) == 0 || slices.Contains(sc.sending, name)
}

// gateway is who receives a recipient domain's mail, "-" when unknown.
func (sc *scope) gateway(domain string) string { return orDash(sc.domains[domain].Gateway) }

// bucketer maps times to the period's days or hours.
type bucketer struct {
	from   time.Time
	hourly bool
}

func (b *bucketer) unit() time.Duration {
	if b.hourly {
		return time.Hour
	}
	return 24 * time.Hour
}

func (b *bucketer) origin() time.Time { return b.from.UTC().Truncate(b.unit()) }

func (b *bucketer) count(until time.Time) int {
	return int((until.Sub(b.origin()) + b.unit() - 1) / b.unit())
}

func (b *bucketer) start(i int) time.Time { return b.origin().Add(time.Duration(i) * b.unit()) }

func (b *bucketer) of(t time.Time) int { return int(t.Sub(b.origin()) / b.unit()) }

const day = 24 * time.Hour

func (t *Totals) add(typ string, outcome maildiag.Outcome, n int64) {
	switch typ {
	case maildiag.Accepted:
		t.Accepted += n
	case maildiag.Delivered:
		t.Delivered += n
	case maildiag.Failed:
		switch outcome {
		case maildiag.OutcomeTemporary:
			t.FailedTemporary += n
		case maildiag.OutcomeSuppressed:
			t.Suppressed += n
		default:
			t.FailedPermanent += n
		}
	case maildiag.Complained:
		t.Complaints += n
	case maildiag.Unsubscribed:
		t.Unsubscribes += n
	case maildiag.Opened:
		t.Opened += n
	case maildiag.Clicked:
		t.Clicked += n
	case maildiag.Rejected:
		t.Rejected += n
	}
}

func (t *Totals) finish() { t.DeliveryRate = ratio(t.Delivered, t.Messages()) }

// healthCounts fills the totals, the previous period's totals (from prev
// to the period's start), the volume series and the per-domain and
// per-provider counts from the counts kept at ingest. Days are whole UTC
// days; with no recipient filter, totals and volume use the hourly counts.
func healthCounts(ctx context.Context, db Store, q HealthQuery, prev time.Time, cf *countFacts, b *bucketer, sc *scope) error {
	from, until := q.Since, q.Until
	rdoms := sc.recipientDomains()
	if rdoms == nil {
		hs, err := db.HourlyCounts(ctx, prev, until, sc.sending)
		if err != nil {
			return err
		}
		for _, h := range hs {
			switch t := h.Time; {
			case !t.Before(from) && t.Before(until) || t.Before(from) && t.Add(time.Hour).After(from):
				cf.totals.add(h.Type, h.Outcome, h.N)
				if i := b.of(later(t, from)); i >= 0 && i < len(cf.volume) {
					cf.volume[i].add(h.Type, h.Outcome, h.N)
				}
			case !t.Before(prev) && t.Before(from):
				cf.previous.add(h.Type, h.Outcome, h.N)
			}
		}
	} else if b.hourly {
		for _, r := range []struct {
			t           *Totals
			from, until time.Time
			intoSeries  bool
		}{{&cf.totals, from, until, true}, {&cf.previous, prev, from, false}} {
			hs, err := db.DomainHourCounts(ctx, rdoms, r.from, r.until)
			if err != nil {
				return err
			}
			for _, h := range hs {
				if !sc.sendingDomain(h.SendingDomain) {
					continue
				}
				r.t.add(h.Type, h.Outcome, h.N)
				if i := b.of(h.Time); r.intoSeries && i >= 0 && i < len(cf.volume) {
					cf.volume[i].add(h.Type, h.Outcome, h.N)
				}
			}
		}
	}
	// With a recipient filter and days as buckets: the daily counts.
	if rdoms != nil && !b.hourly {
		cs, err := db.Counts(ctx, CountQuery{From: prev, Until: until, SendingDomains: sc.sending, RecipientDomains: rdoms, By: CountByDay})
		if err != nil {
			return err
		}
		for _, c := range cs {
			if !c.Time.Add(day).After(from) {
				cf.previous.add(c.Type, c.Outcome, c.N)
				continue
			}
			cf.totals.add(c.Type, c.Outcome, c.N)
			if i := b.of(later(c.Time, from)); i >= 0 && i < len(cf.volume) {
				cf.volume[i].add(c.Type, c.Outcome, c.N)
			}
		}
	}
	cf.totals.finish()
	cf.previous.finish()
	for i := range cf.volume {
		cf.volume[i].finish()
	}
	return healthRows(ctx, db, q, cf, sc)
}

// healthRows counts per recipient domain and provider, over the period's
// days.
func healthRows(ctx context.Context, db Store, q HealthQuery, cf *countFacts, sc *scope) error {
	cs, err := db.Counts(ctx, CountQuery{From: q.Since, Until: q.Until, SendingDomains: sc.sending, RecipientDomains: sc.recipientDomains(),
		By: CountByRecipientDomain, Types: []string{maildiag.Accepted, maildiag.Delivered, maildiag.Failed}})
	if err != nil {
		return err
	}
	doms := map[string]*DomainRow{}
	provs := map[string]*ProviderRow{}
	provDomains := map[string]map[string]bool{}
	for _, c := range cs {
		if c.RecipientDomain == "" {
			continue
		}
		d := doms[c.RecipientDomain]
		if d == nil {
			d = &DomainRow{Domain: c.RecipientDomain, Gateway: sc.domains[c.RecipientDomain].Gateway}
			doms[c.RecipientDomain] = d
		}
		gw := sc.gateway(c.RecipientDomain)
		p := provs[gw]
		if p == nil {
			p = &ProviderRow{Provider: gw}
			provs[gw] = p
			provDomains[gw] = map[string]bool{}
		}
		provDomains[gw][c.RecipientDomain] = true
		switch {
		case c.Type == maildiag.Accepted:
			d.Accepted += c.N
			p.Accepted += c.N
		case c.Type == maildiag.Delivered:
			d.Delivered += c.N
			p.Delivered += c.N
		case c.Type == maildiag.Failed && c.Outcome == maildiag.OutcomeTemporary:
			d.Deferrals += c.N
			p.Deferrals += c.N
		case c.Type == maildiag.Failed:
			d.Failures += c.N
			p.Failures += c.N
		}
	}
	var dl []DomainRow
	for _, d := range doms {
		if d.Failures == 0 && d.Deferrals == 0 {
			continue
		}
		d.Messages = max(d.Accepted, d.Delivered+d.Failures)
		d.FailureRate = ratio(d.Failures, d.Messages)
		d.Impact = float64(d.Failures) * d.FailureRate
		dl = append(dl, *d)
	}
	// Worst first by impact; deferral-only rows after, most deferrals
	// first.
	sort.Slice(dl, func(i, j int) bool {
		if dl[i].Impact != dl[j].Impact {
			return dl[i].Impact > dl[j].Impact
		}
		if dl[i].Deferrals != dl[j].Deferrals {
			return dl[i].Deferrals > dl[j].Deferrals
		}
		return dl[i].Domain < dl[j].Domain
	})
	cf.domains = append([]DomainRow{}, dl[:min(len(dl), worstDomains)]...)
	cf.providers = []ProviderRow{}
	for gw, p := range provs {
		p.Domains = len(provDomains[gw])
		p.Messages = max(p.Accepted, p.Delivered+p.Failures)
		p.DeliveryRate = ratio(p.Delivered, p.Messages)
		cf.providers = append(cf.providers, *p)
	}
	sort.Slice(cf.providers, func(i, j int) bool {
		if cf.providers[i].Accepted != cf.providers[j].Accepted {
			return cf.providers[i].Accepted > cf.providers[j].Accepted
		}
		return cf.providers[i].Provider < cf.providers[j].Provider
	})
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// worstDomains is how many customer domains the report lists.
const worstDomains = 25

// longestDelay is the delay a delivery in the store's open-ended last
// bucket counts as.
const longestDelay = 7 * day

// healthDelays reads the accepted-to-delivered delays per provider: with
// a recipient filter, exact, from the deliveries to those domains; else
// from the delay buckets counted at ingest.
func healthDelays(ctx context.Context, db Store, q HealthQuery, cf *countFacts, sc *scope) error {
	cf.delays = []DelayRow{}
	if rdoms := sc.recipientDomains(); rdoms != nil {
		ds, err := db.DeliveryDelays(ctx, rdoms, q.Since, q.Until, sc.sending)
		if err != nil {
			return err
		}
		by := map[string][]time.Duration{}
		for _, d := range ds {
			gw := sc.gateway(d.RecipientDomain)
			by[gw] = append(by[gw], d.Delay)
		}
		for gw, l := range by {
			slices.Sort(l)
			cf.delays = append(cf.delays, DelayRow{Provider: gw, Messages: int64(len(l)), Exact: true, Method: DelayExact,
				P50: rank(l, 0.5).Seconds(), P90: rank(l, 0.9).Seconds(), P99: rank(l, 0.99).Seconds()})
		}
		sortDelays(cf.delays)
		return nil
	}
	ds, err := db.Delays(ctx, q.Since, q.Until, sc.sending)
	if err != nil {
		return err
	}
	hist := map[string]map[time.Duration]int64{}
	bounds := map[time.Duration]bool{} // every bucket bound the store used
	for _, d := range ds {
		bounds[min(d.Le, longestDelay)] = true
		gw := orDash(d.Gateway)
		if hist[gw] == nil {
			hist[gw] = map[time.Duration]int64{}
		}
		hist[gw][min(d.Le, longestDelay)] += d.N
	}
	for gw, h := range hist {
		row := DelayRow{Provider: gw, Method: DelayInterpolated}
		for _, n := range h {
			row.Messages += n
		}
		les := slices.Sorted(maps.Keys(bounds))
		row.P50 = percentile(h, les, row.Messages, 0.5).Seconds()
		row.P90 = percentile(h, les, row.Messages, 0.9).Seconds()
		row.P99 = percentile(h, les, row.Messages, 0.99).Seconds()
		cf.delays = append(cf.delays, row)
	}
	sortDelays(cf.delays)
	return nil
}

func sortDelays(ds []DelayRow) {
	sort.Slice(ds, func(i, j int) bool {
		if ds[i].Messages != ds[j].Messages {
			return ds[i].Messages > ds[j].Messages
		}
		return ds[i].Provider < ds[j].Provider
	})
}

// rank is the p-th percentile of sorted delays, by nearest rank.
func rank(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// percentile estimates the p-th percentile of the delays counted in
// buckets h (by upper bound), with les every bucket bound in use, sorted:
// linearly within the bucket that holds it, from the bound below (0 below
// the first) to its own, as Prometheus' histogram_quantile does. In the
// open-ended last bucket it is that bucket's lower bound.
func percentile(h map[time.Duration]int64, les []time.Duration, total int64, p float64) time.Duration {
	if total == 0 {
		return 0
	}
	rank := p * float64(total)
	var seen int64
	var lower time.Duration
	for _, le := range les {
		n := h[le]
		if n > 0 && float64(seen+n) >= rank {
			if le >= longestDelay {
				return lower
			}
			frac := (rank - float64(seen)) / float64(n)
			return (lower + time.Duration(frac*float64(le-lower))).Round(time.Millisecond)
		}
		seen += n
		lower = le
	}
	return lower
}

// healthStuck lists deliveries accepted in the period, more than Mailgun's
// retry window before its end (or now), with no final event.
func healthStuck(ctx context.Context, db Store, q HealthQuery, cf *countFacts, sc *scope) error {
	until := q.Until
	if q.Now.Before(until) {
		until = q.Now
	}
	until = until.Add(-retryWindow)
	if !until.After(q.Since) {
		return nil
	}
	rdoms := sc.recipientDomains()
	limit := q.MaxRows
	if rdoms != nil {
		limit = 0
	}
	ps, total, err := db.Pending(ctx, q.Since, until, limit)
	if err != nil {
		return err
	}
	if rdoms != nil {
		var keep []Pending
		for _, p := range ps {
			if slices.Contains(rdoms, p.RecipientDomain) {
				keep = append(keep, p)
			}
		}
		ps, total = keep[:min(len(keep), q.MaxRows)], len(keep)
	}
	ids := make([]RecipientID, len(ps))
	for i, p := range ps {
		ids[i] = p.Recipient
	}
	addrs, err := db.Addresses(ctx, ids)
	if err != nil {
		return err
	}
	for _, p := range ps {
		cf.stuck.Messages = append(cf.stuck.Messages, StuckMessage{Recipient: addrs[p.Recipient], SendingDomain: p.SendingDomain, Accepted: p.Accepted})
	}
	// Messages accepted at the same moment by address: stores order
	// them differently.
	sort.SliceStable(cf.stuck.Messages, func(i, j int) bool {
		a, b := cf.stuck.Messages[i], cf.stuck.Messages[j]
		if !a.Accepted.Equal(b.Accepted) {
			return a.Accepted.Before(b.Accepted)
		}
		return a.Recipient < b.Recipient
	})
	cf.stuck.Count = int64(total)
	return nil
}
