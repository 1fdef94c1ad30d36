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
)

// HealthQuery selects the period of a delivery-health report.
type HealthQuery struct {
	Since, Until   time.Time // the period [Since, Until); Until zero: Now
	SendingDomains []string
	To             *Pattern // one customer domain (or a pattern of them)
	Now            time.Time
	MaxRows        int // longest address lists (new suppressions, stuck); 0: 200
}

// Totals are the period's counts.
type Totals struct {
	Accepted     int64   `json:"accepted"`
	Delivered    int64   `json:"delivered"`
	Temporary    int64   `json:"failed_temporary"`
	Permanent    int64   `json:"failed_permanent"`
	Suppressed   int64   `json:"suppressed_drops"`
	Complaints   int64   `json:"complaints"`
	Unsubscribes int64   `json:"unsubscribes"`
	Opened       int64   `json:"opened"`
	Clicked      int64   `json:"clicked"`
	Rejected     int64   `json:"rejected"`
	DeliveryRate float64 `json:"delivery_rate"` // delivered / accepted
}

func (t *Totals) add(typ string, outcome maildiag.Outcome, n int64) {
	switch typ {
	case maildiag.Accepted:
		t.Accepted += n
	case maildiag.Delivered:
		t.Delivered += n
	case maildiag.Failed:
		switch outcome {
		case maildiag.OutcomeTemporary:
			t.Temporary += n
		case maildiag.OutcomeSuppressed:
			t.Suppressed += n
		default:
			t.Permanent += n
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

func (t *Totals) finish() { t.DeliveryRate = ratio(t.Delivered, t.Accepted) }

// VolumeBucket is one day (or hour) of the period.
type VolumeBucket struct {
	Start time.Time `json:"start"`
	Totals
}

// ClassSeries counts failures per class per bucket.
type ClassSeries struct {
	Classes []string  `json:"classes"` // in order of total, largest first
	Counts  [][]int64 `json:"counts"`  // Counts[bucket][class]
}

// ClassRow is one failure class in the period.
type ClassRow struct {
	Class      string  `json:"class"`
	Title      string  `json:"title"`
	Hard       bool    `json:"hard"`
	Failures   int64   `json:"failures"`
	Share      float64 `json:"share"`
	Recipients int     `json:"recipients"`
	Action     string  `json:"action"`
}

// DomainRow is one customer (recipient) domain.
type DomainRow struct {
	Domain      string         `json:"domain"`
	Accepted    int64          `json:"accepted"`
	Delivered   int64          `json:"delivered"`
	Permanent   int64          `json:"failed_permanent"` // permanent failures and suppression drops
	Deferrals   int64          `json:"deferrals"`
	FailureRate float64        `json:"failure_rate"` // permanent / accepted
	TopClass    string         `json:"top_class,omitempty"`
	Gateway     string         `json:"gateway,omitempty"`
	Verdict     *DomainVerdict `json:"verdict,omitempty"`
}

// GatewayRow is one mailbox provider or gateway.
type GatewayRow struct {
	Gateway      string  `json:"gateway"`
	Accepted     int64   `json:"accepted"`
	Delivered    int64   `json:"delivered"`
	Permanent    int64   `json:"failed_permanent"`
	Deferrals    int64   `json:"deferrals"`
	DeliveryRate float64 `json:"delivery_rate"`
	TopClass     string  `json:"top_class,omitempty"`
	Domains      int     `json:"domains"`
}

// CodeRow is one SMTP or enhanced code.
type CodeRow struct {
	Code     string  `json:"code"`
	Failures int64   `json:"failures"`
	Share    float64 `json:"share"`
	Class    string  `json:"class"`
	Sample   string  `json:"sample_reply"`

	sample Ref // the failure whose reply is the sample
}

// SuppressionDay counts new suppressions on one day.
type SuppressionDay struct {
	Day          time.Time `json:"day"`
	Bounces      int64     `json:"bounces"`
	Complaints   int64     `json:"complaints"`
	Unsubscribes int64     `json:"unsubscribes"`
}

// NewSuppression is an address suppressed in the period.
type NewSuppression struct {
	Address       string    `json:"address"`
	List          string    `json:"list"`
	SendingDomain string    `json:"sending_domain"`
	Since         time.Time `json:"since"`
	Code          string    `json:"code,omitempty"`
	Reason        string    `json:"reason,omitempty"`

	cause *Ref // the hard bounce it is derived from, when no list shows it
}

// DelayRow is the accepted-to-delivered delay through one gateway. The
// percentiles are the upper bounds of the buckets they fall in.
type DelayRow struct {
	Gateway    string        `json:"gateway"`
	Deliveries int64         `json:"deliveries"`
	P50        time.Duration `json:"p50_ns"`
	P90        time.Duration `json:"p90_ns"`
	P99        time.Duration `json:"p99_ns"`
}

// StuckDelivery is a message accepted more than 8 hours before the end of
// the period with no final event.
type StuckDelivery struct {
	Recipient     string    `json:"recipient"`
	SendingDomain string    `json:"sending_domain"`
	Accepted      time.Time `json:"accepted"`
}

// TypoRow is a recipient domain that looks like a typo of another.
type TypoRow struct {
	Domain     string `json:"domain"`
	Intended   string `json:"intended"`
	Failures   int64  `json:"failures"`
	Recipients int    `json:"recipients"`
}

// LookalikeRow pairs an address that bounced as unknown with a
// near-identical one at the same domain that received mail.
type LookalikeRow struct {
	Bounced    string    `json:"bounced"`
	Delivered  string    `json:"delivered"`
	Edits      int       `json:"edits"`
	Bounces    int       `json:"bounces"`
	Deliveries int       `json:"deliveries"`
	LastBounce time.Time `json:"last_bounce"`
}

// HealthResult is everything a delivery-health report shows.
type HealthResult struct {
	Since, Until      time.Time        `json:"-"`
	PrevSince         time.Time        `json:"-"`
	Hourly            bool             `json:"hourly"`
	Totals            Totals           `json:"totals"`
	Previous          Totals           `json:"previous"`
	Volume            []VolumeBucket   `json:"volume"`
	ClassSeries       ClassSeries      `json:"class_series"`
	Classes           []ClassRow       `json:"classes"`
	Domains           []DomainRow      `json:"domains"`
	Alerts            []DomainVerdict  `json:"alerts"`
	Gateways          []GatewayRow     `json:"gateways"`
	Codes             []CodeRow        `json:"codes"`
	Enhanced          []CodeRow        `json:"enhanced_codes"`
	SuppressionDays   []SuppressionDay `json:"suppression_days"`
	NewSuppressions   []NewSuppression `json:"new_suppressions"`
	NewSuppressedMore int              `json:"new_suppressions_not_shown"`
	Delays            []DelayRow       `json:"delays"`
	Deferrals         int64            `json:"deferrals"`
	DeferredMessages  int64            `json:"deferred_messages"` // messages deferred at least once
	Stuck             []StuckDelivery  `json:"stuck"`
	StuckTotal        int              `json:"stuck_total"`
	Typos             []TypoRow        `json:"typos"`
	Lookalikes        []LookalikeRow   `json:"lookalikes"`
	FailuresScanned   int              `json:"failures_scanned"`
}

// Progress is told how far a long analysis has come, as a fraction.
type Progress func(done float64)

// Health computes the delivery-health report of a period, and of the
// period of equal length before it for comparison. It reads the counts
// kept at ingest and scans the period's failures once, so it costs about
// the same at ten million events as at ten thousand.
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
	if !q.Since.Before(q.Until) {
		return nil, fmt.Errorf("the period must start before it ends")
	}
	span := q.Until.Sub(q.Since)
	res := &HealthResult{Since: q.Since, Until: q.Until, PrevSince: q.Since.Add(-span), Hourly: span <= 48*time.Hour,
		Volume: []VolumeBucket{}, Classes: []ClassRow{}, Domains: []DomainRow{}, Alerts: []DomainVerdict{},
		Gateways: []GatewayRow{}, Codes: []CodeRow{}, Enhanced: []CodeRow{}, SuppressionDays: []SuppressionDay{},
		NewSuppressions: []NewSuppression{}, Delays: []DelayRow{}, Stuck: []StuckDelivery{}, Typos: []TypoRow{}, Lookalikes: []LookalikeRow{}}
	b := &bucketer{from: q.Since, hourly: res.Hourly}
	res.Volume = make([]VolumeBucket, b.count(q.Until))
	for i := range res.Volume {
		res.Volume[i].Start = b.start(i)
	}
	sc := &scope{}
	var err error
	if sc.sending, err = sendingDomains(ctx, db, q.SendingDomains); err != nil {
		return nil, err
	}
	if q.To != nil {
		if sc.to, err = resolve(ctx, db, *q.To); err != nil {
			return nil, err
		}
		if len(sc.to.domains) == 0 {
			return res, nil // no mail to such a domain
		}
	}
	if sc.domains, err = db.Domains(ctx); err != nil {
		return nil, err
	}
	// The counts, delays and pending deliveries are read on a second
	// connection while this one scans the failures. The goroutine owns
	// side until it sends on done; the scan owns fs.
	side := &HealthResult{Since: res.Since, Until: res.Until, PrevSince: res.PrevSince, Hourly: res.Hourly,
		Volume: slices.Clone(res.Volume), Delays: []DelayRow{}, Stuck: []StuckDelivery{}}
	done := make(chan error, 1)
	go func() {
		err := healthCounts(ctx, db, q, side, b, sc)
		if err == nil {
			err = healthDelays(ctx, db, q, side, sc)
		}
		if err == nil {
			err = healthStuck(ctx, db, q, side, sc)
		}
		done <- err
	}()
	fs, err := scanFailures(ctx, db, q, len(res.Volume), b, sc)
	if serr := <-done; err == nil {
		err = serr
	}
	if err != nil {
		return nil, err
	}
	res.Totals, res.Previous, res.Volume, res.Deferrals = side.Totals, side.Previous, side.Volume, side.Deferrals
	res.Domains, res.Gateways, res.Delays, res.Stuck, res.StuckTotal = side.Domains, side.Gateways, side.Delays, side.Stuck, side.StuckTotal
	progress(0.7)
	if err := fs.finish(ctx, db, res, sc); err != nil {
		return nil, err
	}
	progress(0.8)
	if err := healthSuppressions(ctx, db, q, res, fs, sc); err != nil {
		return nil, err
	}
	progress(1)
	return res, nil
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

// healthCounts fills the totals, the previous totals, the volume series and
// the per-domain and per-gateway counts from the counts kept at ingest.
// Days are whole UTC days; with no recipient filter, totals and volume use
// the hourly counts.
func healthCounts(ctx context.Context, db Store, q HealthQuery, res *HealthResult, b *bucketer, sc *scope) error {
	from, until, prev := q.Since, q.Until, res.PrevSince
	rdoms := sc.recipientDomains()
	if rdoms == nil {
		hs, err := db.HourlyCounts(ctx, prev, until, sc.sending)
		if err != nil {
			return err
		}
		for _, h := range hs {
			switch t := h.Time; {
			case !t.Before(from) && t.Before(until) || t.Before(from) && t.Add(time.Hour).After(from):
				res.Totals.add(h.Type, h.Outcome, h.N)
				if i := b.of(later(t, from)); i >= 0 && i < len(res.Volume) {
					res.Volume[i].add(h.Type, h.Outcome, h.N)
				}
			case !t.Before(prev) && t.Before(from):
				res.Previous.add(h.Type, h.Outcome, h.N)
			}
		}
	} else if res.Hourly {
		for _, r := range []struct {
			t           *Totals
			from, until time.Time
			intoSeries  bool
		}{{&res.Totals, from, until, true}, {&res.Previous, prev, from, false}} {
			hs, err := db.DomainHourCounts(ctx, rdoms, r.from, r.until)
			if err != nil {
				return err
			}
			for _, h := range hs {
				if !sc.sendingDomain(h.SendingDomain) {
					continue
				}
				r.t.add(h.Type, h.Outcome, h.N)
				if i := b.of(h.Time); r.intoSeries && i >= 0 && i < len(res.Volume) {
					res.Volume[i].add(h.Type, h.Outcome, h.N)
				}
			}
		}
	}
	// With a recipient filter and days as buckets: the daily counts.
	if rdoms != nil && !res.Hourly {
		cs, err := db.Counts(ctx, CountQuery{From: prev, Until: until, SendingDomains: sc.sending, RecipientDomains: rdoms, By: CountByDay})
		if err != nil {
			return err
		}
		for _, c := range cs {
			if !c.Time.Add(day).After(from) {
				res.Previous.add(c.Type, c.Outcome, c.N)
				continue
			}
			res.Totals.add(c.Type, c.Outcome, c.N)
			if i := b.of(later(c.Time, from)); i >= 0 && i < len(res.Volume) {
				res.Volume[i].add(c.Type, c.Outcome, c.N)
			}
		}
	}
	// Per recipient domain and gateway, over the period's days.
	cs, err := db.Counts(ctx, CountQuery{From: from, Until: until, SendingDomains: sc.sending, RecipientDomains: rdoms,
		By: CountByRecipientDomain, Types: []string{maildiag.Accepted, maildiag.Delivered, maildiag.Failed}})
	if err != nil {
		return err
	}
	doms := map[string]*DomainRow{}
	gws := map[string]*GatewayRow{}
	gwDomains := map[string]map[string]bool{}
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
		g := gws[gw]
		if g == nil {
			g = &GatewayRow{Gateway: gw}
			gws[gw] = g
			gwDomains[gw] = map[string]bool{}
		}
		gwDomains[gw][c.RecipientDomain] = true
		switch {
		case c.Type == maildiag.Accepted:
			d.Accepted += c.N
			g.Accepted += c.N
		case c.Type == maildiag.Delivered:
			d.Delivered += c.N
			g.Delivered += c.N
		case c.Type == maildiag.Failed && c.Outcome == maildiag.OutcomeTemporary:
			d.Deferrals += c.N
			g.Deferrals += c.N
		case c.Type == maildiag.Failed:
			d.Permanent += c.N
			g.Permanent += c.N
		}
	}
	res.Totals.finish()
	res.Previous.finish()
	for i := range res.Volume {
		res.Volume[i].finish()
	}
	res.Deferrals = res.Totals.Temporary
	var dl []DomainRow
	for _, d := range doms {
		if d.Permanent == 0 && d.Deferrals == 0 {
			continue
		}
		d.FailureRate = ratio(d.Permanent, max(d.Accepted, d.Delivered+d.Permanent))
		dl = append(dl, *d)
	}
	sort.Slice(dl, func(i, j int) bool {
		if dl[i].Permanent != dl[j].Permanent {
			return dl[i].Permanent > dl[j].Permanent
		}
		return dl[i].Domain < dl[j].Domain
	})
	res.Domains = append([]DomainRow{}, dl[:min(len(dl), worstDomains)]...)
	res.Gateways = []GatewayRow{}
	for gw, g := range gws {
		g.Domains = len(gwDomains[gw])
		g.DeliveryRate = ratio(g.Delivered, max(g.Accepted, g.Delivered+g.Permanent))
		res.Gateways = append(res.Gateways, *g)
	}
	sort.Slice(res.Gateways, func(i, j int) bool {
		if res.Gateways[i].Accepted != res.Gateways[j].Accepted {
			return res.Gateways[i].Accepted > res.Gateways[j].Accepted
		}
		return res.Gateways[i].Gateway < res.Gateways[j].Gateway
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

// failureScan is what one pass over the period's failures collects.
type failureScan struct {
	classes    map[string]int64
	classRcpts map[string]map[RecipientID]struct{}
	series     map[string][]int64
	codes      map[string]*CodeRow
	enhanced   map[string]*CodeRow
	domClass   map[string]map[string]int64
	gwClass    map[string]map[string]int64
	firstHard  map[string]map[RecipientID]*Failure // domain -> recipient -> first permanent failure (not a drop)
	unknown    map[RecipientID]*lookBounce         // recipients bounced as unknown
	noMX       map[string]*TypoRow                 // domains without MX
	noMXRcpts  map[string]map[RecipientID]struct{}
	deferred   map[delivery]struct{} // deliveries deferred at least once
	total      int64
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
		codes: map[string]*CodeRow{}, enhanced: map[string]*CodeRow{}, domClass: map[string]map[string]int64{},
		gwClass: map[string]map[string]int64{}, firstHard: map[string]map[RecipientID]*Failure{},
		unknown: map[RecipientID]*lookBounce{}, noMX: map[string]*TypoRow{}, noMXRcpts: map[string]map[RecipientID]struct{}{},
		deferred: map[delivery]struct{}{}}
	f := FailureFilter{From: q.Since, Until: q.Until, SendingDomains: sc.sending, RecipientDomains: sc.recipientDomains()}
	err := db.Failures(ctx, f, func(r *Failure) error {
		if !sc.to.has(r.Recipient) {
			return nil
		}
		fs.total++
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
		codeRow(fs.codes, orDash(codeText(r.Code)), class, r)
		if r.Enhanced != "" {
			codeRow(fs.enhanced, r.Enhanced, class, r)
		}
		rd := r.RecipientDomain
		if r.Recipient != 0 {
			dc := fs.domClass[rd]
			if dc == nil {
				dc = map[string]int64{}
				fs.domClass[rd] = dc
			}
			dc[class]++
		}
		gc := fs.gwClass[sc.gateway(rd)]
		if gc == nil {
			gc = map[string]int64{}
			fs.gwClass[sc.gateway(rd)] = gc
		}
		gc[class]++
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
			t.Failures++
			fs.noMXRcpts[rd][r.Recipient] = struct{}{}
		}
		return nil
	})
	return fs, err
}

func codeText(code int) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(code)
}

func codeRow(m map[string]*CodeRow, code, class string, r *Failure) {
	c := m[code]
	if c == nil {
		c = &CodeRow{Code: code, Class: class, sample: r.Ref}
		m[code] = c
	}
	c.Failures++
}

// finish turns the scan into the report's failure sections.
func (fs *failureScan) finish(ctx context.Context, db Store, res *HealthResult, sc *scope) error {
	res.FailuresScanned = int(fs.total)
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
	res.ClassSeries.Classes = []string{}
	res.ClassSeries.Counts = make([][]int64, len(res.Volume))
	for i := range res.ClassSeries.Counts {
		res.ClassSeries.Counts[i] = make([]int64, len(shares))
	}
	for j, s := range shares {
		info, _ := maildiag.ClassOf(s.Name)
		res.Classes = append(res.Classes, ClassRow{Class: s.Name, Title: info.Title, Hard: info.Hard, Failures: int64(s.Count),
			Share: ratio(int64(s.Count), fs.total), Recipients: len(fs.classRcpts[s.Name]), Action: info.Action})
		res.ClassSeries.Classes = append(res.ClassSeries.Classes, s.Name)
		for i, n := range fs.series[s.Name] {
			res.ClassSeries.Counts[i][j] = n
		}
	}
	res.Codes = topCodes(fs.codes, fs.total)
	res.Enhanced = topCodes(fs.enhanced, fs.total)
	for i := range res.Domains {
		d := &res.Domains[i]
		if dc := fs.domClass[d.Domain]; len(dc) > 0 {
			d.TopClass = topOf(dc)
		}
	}
	for i := range res.Gateways {
		g := &res.Gateways[i]
		if gc := fs.gwClass[g.Gateway]; len(gc) > 0 {
			g.TopClass = topOf(gc)
		}
	}
	// Each domain's causes, for its verdict: a domain-wide block is many
	// addresses of one domain failing alike. The replies quoted (the codes'
	// samples and each verdict's) are read in one batch first.
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
	var refs []Ref
	for _, rows := range [][]CodeRow{res.Codes, res.Enhanced} {
		for _, c := range rows {
			refs = append(refs, c.sample)
		}
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
	for _, rows := range [][]CodeRow{res.Codes, res.Enhanced} {
		for i := range rows {
			if d := details[rows[i].sample]; d != nil {
				rows[i].Sample = d.Text()
			}
		}
	}
	for _, c := range samples {
		c.fill(details[c.ref])
	}
	verdicts := map[string]DomainVerdict{}
	for _, rd := range slices.Sorted(maps.Keys(causes)) {
		v := verdictOf(rd, len(causes[rd]), causes[rd], nil)
		verdicts[rd] = v
		if len(causes[rd]) >= minBlockAddresses && (v.Kind == VerdictDomainBlock || v.Kind == VerdictDeadDomain) {
			res.Alerts = append(res.Alerts, v)
		}
	}
	sort.Slice(res.Alerts, func(i, j int) bool {
		if res.Alerts[i].InWindow != res.Alerts[j].InWindow {
			return res.Alerts[i].InWindow > res.Alerts[j].InWindow
		}
		return res.Alerts[i].Domain < res.Alerts[j].Domain
	})
	for i := range res.Domains {
		if v, ok := verdicts[res.Domains[i].Domain]; ok {
			res.Domains[i].Verdict = &v
		}
	}
	// Typo domains.
	known, err := typoTargets(ctx, db)
	if err != nil {
		return err
	}
	for rd, t := range fs.noMX {
		if t.Intended = TypoOf(t.Domain, known); t.Intended != "" {
			t.Recipients = len(fs.noMXRcpts[rd])
			res.Typos = append(res.Typos, *t)
		}
	}
	sort.Slice(res.Typos, func(i, j int) bool {
		if res.Typos[i].Failures != res.Typos[j].Failures {
			return res.Typos[i].Failures > res.Typos[j].Failures
		}
		return res.Typos[i].Domain < res.Typos[j].Domain
	})
	return fs.lookalikes(ctx, db, res, sc)
}

// maxLookalikeDomain is the most addresses a domain may have for its
// bounces to be compared with its deliveries: at consumer domains two
// near-identical addresses are usually two people.
const maxLookalikeDomain = 5000

// lookalikes pairs addresses that bounced as unknown with near-identical
// ones at the same domain that received mail.
func (fs *failureScan) lookalikes(ctx context.Context, db Store, res *HealthResult, sc *scope) error {
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
		return err
	}
	for d, bounced := range byDomain {
		// Close lookalikes start with the same character as the bounced
		// address (closeLookalike), or differ only in separators.
		addr := make(map[RecipientID]string, len(bounced))
		firsts := map[byte]bool{}
		for _, id := range bounced {
			a := all[id]
			addr[id] = a
			if a != "" {
				firsts[a[0]] = true
				if sq := squash(localOf(a)); sq != "" {
					firsts[sq[0]] = true
				}
			}
		}
		rs, err := db.Recipients(ctx, d, "", slices.Sorted(maps.Keys(firsts))...)
		if err != nil {
			return err
		}
		for _, r := range rs {
			addr[r.ID] = r.Address
		}
		type pair struct {
			bounced, other RecipientID
			edits          int
		}
		var pairs []pair
		cand := map[RecipientID]bool{}
		look := newLookalikes(rs)
		for _, b := range bounced {
			for _, h := range look.of(localOf(addr[b]), true) {
				pairs = append(pairs, pair{b, h.r.ID, h.edits})
				cand[h.r.ID] = true
			}
		}
		if len(pairs) == 0 {
			continue
		}
		delivered, err := db.Deliveries(ctx, sortedKeys(cand))
		if err != nil {
			return err
		}
		for _, p := range pairs {
			if delivered[p.other].N == 0 {
				continue
			}
			lb := fs.unknown[p.bounced]
			res.Lookalikes = append(res.Lookalikes, LookalikeRow{Bounced: addr[p.bounced], Delivered: addr[p.other], Edits: p.edits,
				Bounces: lb.n, Deliveries: delivered[p.other].N, LastBounce: lb.last})
		}
	}
	sort.Slice(res.Lookalikes, func(i, j int) bool {
		if res.Lookalikes[i].Bounced != res.Lookalikes[j].Bounced {
			return res.Lookalikes[i].Bounced < res.Lookalikes[j].Bounced
		}
		return res.Lookalikes[i].Delivered < res.Lookalikes[j].Delivered
	})
	return nil
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

func topCodes(m map[string]*CodeRow, total int64) []CodeRow {
	out := make([]CodeRow, 0, len(m))
	for _, c := range m {
		c.Share = ratio(c.Failures, total)
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Failures != out[j].Failures {
			return out[i].Failures > out[j].Failures
		}
		return out[i].Code < out[j].Code
	})
	return out[:min(len(out), topCodesShown)]
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
	var list []NewSuppression
	for _, r := range rows {
		created := usTime(r.CreatedUS)
		s := dayOf(created)
		switch r.List {
		case maildiag.ListBounces:
			s.Bounces++
		case maildiag.ListComplaints:
			s.Complaints++
		case maildiag.ListUnsubscribes:
			s.Unsubscribes++
		}
		list = append(list, NewSuppression{Address: r.Address, List: r.List, SendingDomain: r.SendingDomain,
			Since: created, Code: r.Code, Reason: oneLine(r.Error)})
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
				list = append(list, NewSuppression{Address: addrs[id], List: maildiag.ListBounces, SendingDomain: r.SendingDomain,
					Since: r.Time, Code: strings.TrimSpace(codeText(r.Code) + " " + r.Enhanced), cause: &ref})
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
		if !list[i].Since.Equal(list[j].Since) {
			return list[i].Since.Before(list[j].Since)
		}
		return list[i].Address < list[j].Address
	})
	if len(list) > q.MaxRows {
		res.NewSuppressedMore = len(list) - q.MaxRows
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
	for i := range list {
		if c := list[i].cause; c != nil && details[*c] != nil {
			list[i].Reason = oneLine(details[*c].Text())
		}
	}
	res.NewSuppressions = append(res.NewSuppressions, list...)
	return nil
}

// longestDelay is the delay a delivery in the store's open-ended last
// bucket counts as.
const longestDelay = 7 * day

// healthDelays reads the accepted-to-delivered delays per gateway.
func healthDelays(ctx context.Context, db Store, q HealthQuery, res *HealthResult, sc *scope) error {
	ds, err := db.Delays(ctx, q.Since, q.Until, sc.sending)
	if err != nil {
		return err
	}
	hist := map[string]map[time.Duration]int64{}
	for _, d := range ds {
		gw := orDash(d.Gateway)
		if hist[gw] == nil {
			hist[gw] = map[time.Duration]int64{}
		}
		hist[gw][min(d.Le, longestDelay)] += d.N
	}
	for gw, h := range hist {
		row := DelayRow{Gateway: gw}
		for _, n := range h {
			row.Deliveries += n
		}
		row.P50, row.P90, row.P99 = percentile(h, row.Deliveries, 0.5), percentile(h, row.Deliveries, 0.9), percentile(h, row.Deliveries, 0.99)
		res.Delays = append(res.Delays, row)
	}
	sort.Slice(res.Delays, func(i, j int) bool {
		if res.Delays[i].Deliveries != res.Delays[j].Deliveries {
			return res.Delays[i].Deliveries > res.Delays[j].Deliveries
		}
		return res.Delays[i].Gateway < res.Delays[j].Gateway
	})
	return nil
}

// percentile is the upper bound of the bucket holding the p-th delivery.
func percentile(h map[time.Duration]int64, total int64, p float64) time.Duration {
	need := int64(float64(total)*p + 0.999999)
	var seen int64
	for _, le := range slices.Sorted(maps.Keys(h)) {
		seen += h[le]
		if seen >= need && seen > 0 {
			return le
		}
	}
	return 0
}

// healthStuck lists deliveries accepted in the period, more than 8 hours
// before its end, with no final event.
func healthStuck(ctx context.Context, db Store, q HealthQuery, res *HealthResult, sc *scope) error {
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
		res.Stuck = append(res.Stuck, StuckDelivery{Recipient: addrs[p.Recipient], SendingDomain: p.SendingDomain, Accepted: p.Accepted})
	}
	res.StuckTotal = total
	return nil
}
