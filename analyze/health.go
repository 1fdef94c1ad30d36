package analyze

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
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

	sample index.FailureKey // the failure whose reply is the sample
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

	cause *index.FailureKey // the hard bounce it is derived from, when no list shows it
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
func Health(ctx context.Context, db *index.DB, q HealthQuery, progress Progress) (*HealthResult, error) {
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
	names, err := db.Domains(ctx)
	if err != nil {
		return nil, err
	}
	sds, err := sendingDomainIDs(names, q.SendingDomains)
	if err != nil {
		return nil, err
	}
	var rdoms []int64
	var to *resolved
	if q.To != nil {
		if to, err = resolve(ctx, db, *q.To); err != nil {
			return nil, err
		}
		rdoms = append(to.domains, -1) // -1: never a domain, so none matched selects nothing
	}
	b := &bucketer{from: q.Since, hourly: res.Hourly}
	n := b.count(q.Until)
	res.Volume = make([]VolumeBucket, n)
	for i := range res.Volume {
		res.Volume[i].Start = b.start(i)
	}
	// The counts, delays and pending deliveries are read on a second
	// connection while this one scans the failures.
	side := make(chan error, 1)
	go func() {
		err := healthCounts(ctx, db, q, res, b, sds, rdoms, names)
		if err == nil {
			err = healthDelays(ctx, db, q, res, sds)
		}
		if err == nil {
			err = healthStuck(ctx, db, q, res, rdoms, names)
		}
		side <- err
	}()
	sc, err := scanFailures(ctx, db, q, res, b, sds, rdoms, to, names)
	if serr := <-side; err == nil {
		err = serr
	}
	if err != nil {
		return nil, err
	}
	progress(0.7)
	if err := sc.finish(ctx, db, q, res, names); err != nil {
		return nil, err
	}
	progress(0.8)
	if err := healthSuppressions(ctx, db, q, res, sds, rdoms, sc, names); err != nil {
		return nil, err
	}
	progress(1)
	return res, nil
}

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

func (b *bucketer) of(us int64) int { return int(usTime(us).Sub(b.origin()) / b.unit()) }

// healthCounts fills the totals, the previous totals, the volume series and
// the per-domain and per-gateway counts from the counts kept at ingest.
// Days are whole UTC days; with no recipient filter, totals and volume use
// the hourly counts.
func healthCounts(ctx context.Context, db *index.DB, q HealthQuery, res *HealthResult, b *bucketer,
	sds, rdoms []int64, names map[int64]index.Domain) error {
	fromUS, toUS, prevUS := q.Since.UnixMicro(), q.Until.UnixMicro(), res.PrevSince.UnixMicro()
	if rdoms == nil {
		hs, err := db.HourlyCounts(ctx, prevUS/3_600_000_000, (toUS-1)/3_600_000_000, sds)
		if err != nil {
			return err
		}
		for _, h := range hs {
			us := h.Hour * 3_600_000_000
			switch {
			case us >= fromUS && us < toUS || us < fromUS && us+3_600_000_000 > fromUS:
				res.Totals.add(h.Type, h.Outcome, h.N)
				if i := b.of(max(us, fromUS)); i >= 0 && i < len(res.Volume) {
					res.Volume[i].add(h.Type, h.Outcome, h.N)
				}
			case us >= prevUS && us < fromUS:
				res.Previous.add(h.Type, h.Outcome, h.N)
			}
		}
	} else if res.Hourly {
		for _, r := range []struct {
			t          *Totals
			from, to   int64
			intoSeries bool
		}{{&res.Totals, fromUS, toUS, true}, {&res.Previous, prevUS, fromUS, false}} {
			hs, err := db.DomainHourCounts(ctx, rdoms, r.from, r.to)
			if err != nil {
				return err
			}
			for _, h := range hs {
				if len(sds) > 0 && !containsID(sds, h.SendingDomainID) {
					continue
				}
				r.t.add(h.Type, h.Outcome, h.N)
				if i := b.of(h.Hour * 3_600_000_000); r.intoSeries && i >= 0 && i < len(res.Volume) {
					res.Volume[i].add(h.Type, h.Outcome, h.N)
				}
			}
		}
	}
	// With a recipient filter and days as buckets: the daily counts.
	if rdoms != nil && !res.Hourly {
		cs, err := db.DailyCounts(ctx, index.CountQuery{FromDay: prevUS / usPerDay, ToDay: (toUS - 1) / usPerDay,
			SendingDomains: sds, RecipientDomains: rdoms, By: index.CountByDay})
		if err != nil {
			return err
		}
		for _, c := range cs {
			dayUS := c.Day * usPerDay
			if dayUS+usPerDay <= fromUS {
				res.Previous.add(c.Type, c.Outcome, c.N)
				continue
			}
			res.Totals.add(c.Type, c.Outcome, c.N)
			if i := b.of(max(dayUS, fromUS)); i >= 0 && i < len(res.Volume) {
				res.Volume[i].add(c.Type, c.Outcome, c.N)
			}
		}
	}
	// Per recipient domain and gateway, over the period's days.
	cs, err := db.DailyCounts(ctx, index.CountQuery{FromDay: fromUS / usPerDay, ToDay: (toUS - 1) / usPerDay,
		SendingDomains: sds, RecipientDomains: rdoms, By: index.CountByRecipientDomain,
		Types: []string{maildiag.Accepted, maildiag.Delivered, maildiag.Failed}})
	if err != nil {
		return err
	}
	doms := map[int64]*DomainRow{}
	gws := map[string]*GatewayRow{}
	gwDomains := map[string]map[int64]bool{}
	for _, c := range cs {
		if c.RecipientDomainID == 0 {
			continue
		}
		d := doms[c.RecipientDomainID]
		if d == nil {
			dn := names[c.RecipientDomainID]
			d = &DomainRow{Domain: dn.Name, Gateway: dn.Gateway}
			doms[c.RecipientDomainID] = d
		}
		gw := orDash(names[c.RecipientDomainID].Gateway)
		g := gws[gw]
		if g == nil {
			g = &GatewayRow{Gateway: gw}
			gws[gw] = g
			gwDomains[gw] = map[int64]bool{}
		}
		gwDomains[gw][c.RecipientDomainID] = true
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
	res.Domains = append(res.Domains, dl[:min(len(dl), worstDomains)]...)
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

// worstDomains is how many customer domains the report lists.
const worstDomains = 25

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// failureScan is what one pass over the period's failures collects.
type failureScan struct {
	classes    map[string]int64
	classRcpts map[string]map[int64]struct{}
	series     map[string][]int64
	codes      map[string]*CodeRow
	enhanced   map[string]*CodeRow
	domClass   map[int64]map[string]int64
	gwClass    map[string]map[string]int64
	firstHard  map[int64]map[int64]*index.FailureRow // domain -> recipient -> first permanent failure (not a drop)
	unknown    map[int64]*lookBounce                 // recipients bounced as unknown
	noMX       map[int64]*TypoRow                    // domains without MX
	noMXRcpts  map[int64]map[int64]struct{}
	deferred   map[[2]int64]struct{} // (message key, recipient) deferred at least once
	total      int64
}

type lookBounce struct {
	n    int
	last int64
}

func scanFailures(ctx context.Context, db *index.DB, q HealthQuery, res *HealthResult, b *bucketer,
	sds, rdoms []int64, to *resolved, names map[int64]index.Domain) (*failureScan, error) {
	sc := &failureScan{classes: map[string]int64{}, classRcpts: map[string]map[int64]struct{}{}, series: map[string][]int64{},
		codes: map[string]*CodeRow{}, enhanced: map[string]*CodeRow{}, domClass: map[int64]map[string]int64{},
		gwClass: map[string]map[string]int64{}, firstHard: map[int64]map[int64]*index.FailureRow{},
		unknown: map[int64]*lookBounce{}, noMX: map[int64]*TypoRow{}, noMXRcpts: map[int64]map[int64]struct{}{},
		deferred: map[[2]int64]struct{}{}}
	f := index.FailureFilter{FromUS: q.Since.UnixMicro(), ToUS: q.Until.UnixMicro(), SendingDomains: sds, Light: true}
	if rdoms != nil {
		f.RecipientDomains = rdoms
	}
	err := db.Failures(ctx, f, func(r *index.FailureRow) error {
		if !to.has(r.RecipientID) {
			return nil
		}
		sc.total++
		class := classOrOther(r.Class)
		sc.classes[class]++
		cr := sc.classRcpts[class]
		if cr == nil {
			cr = map[int64]struct{}{}
			sc.classRcpts[class] = cr
		}
		cr[r.RecipientID] = struct{}{}
		s := sc.series[class]
		if s == nil {
			s = make([]int64, len(res.Volume))
			sc.series[class] = s
		}
		if i := b.of(r.TS); i >= 0 && i < len(s) {
			s[i]++
		}
		codeRow(sc.codes, orDash(codeText(r.Code)), class, r)
		if r.Enhanced != "" {
			codeRow(sc.enhanced, r.Enhanced, class, r)
		}
		rd := index.DomainOfRecipient(r.RecipientID)
		if r.RecipientID != 0 {
			dc := sc.domClass[rd]
			if dc == nil {
				dc = map[string]int64{}
				sc.domClass[rd] = dc
			}
			dc[class]++
		}
		gc := sc.gwClass[orDash(names[rd].Gateway)]
		if gc == nil {
			gc = map[string]int64{}
			sc.gwClass[orDash(names[rd].Gateway)] = gc
		}
		gc[class]++
		if r.Outcome == maildiag.OutcomePermanent && r.RecipientID != 0 && !r.DelayedBounce {
			fh := sc.firstHard[rd]
			if fh == nil {
				fh = map[int64]*index.FailureRow{}
				sc.firstHard[rd] = fh
			}
			if old := fh[r.RecipientID]; old == nil || r.TS < old.TS {
				c := *r
				fh[r.RecipientID] = &c
			}
		}
		if r.Outcome == maildiag.OutcomeTemporary {
			sc.deferred[[2]int64{r.MessageKey, r.RecipientID}] = struct{}{}
		}
		if class == maildiag.ClassUserUnknown {
			lb := sc.unknown[r.RecipientID]
			if lb == nil {
				lb = &lookBounce{}
				sc.unknown[r.RecipientID] = lb
			}
			lb.n++
			lb.last = max(lb.last, r.TS)
		}
		if class == maildiag.ClassDomainNotFound && r.RecipientID != 0 {
			t := sc.noMX[rd]
			if t == nil {
				t = &TypoRow{Domain: names[rd].Name}
				sc.noMX[rd] = t
				sc.noMXRcpts[rd] = map[int64]struct{}{}
			}
			t.Failures++
			sc.noMXRcpts[rd][r.RecipientID] = struct{}{}
		}
		return nil
	})
	return sc, err
}

func codeText(code int) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(code)
}

func codeRow(m map[string]*CodeRow, code, class string, r *index.FailureRow) {
	c := m[code]
	if c == nil {
		c = &CodeRow{Code: code, Class: class, sample: r.Key()}
		m[code] = c
	}
	c.Failures++
}

// finish turns the scan into the report's failure sections.
func (sc *failureScan) finish(ctx context.Context, db *index.DB, q HealthQuery, res *HealthResult, names map[int64]index.Domain) error {
	res.FailuresScanned = int(sc.total)
	res.DeferredMessages = int64(len(sc.deferred))
	shares := make([]Share, 0, len(sc.classes))
	for c, n := range sc.classes {
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
			Share: ratio(int64(s.Count), sc.total), Recipients: len(sc.classRcpts[s.Name]), Action: info.Action})
		res.ClassSeries.Classes = append(res.ClassSeries.Classes, s.Name)
		for i, n := range sc.series[s.Name] {
			res.ClassSeries.Counts[i][j] = n
		}
	}
	res.Codes = topCodes(sc.codes, sc.total)
	res.Enhanced = topCodes(sc.enhanced, sc.total)
	var keys []index.FailureKey
	for _, rows := range [][]CodeRow{res.Codes, res.Enhanced} {
		for _, c := range rows {
			keys = append(keys, c.sample)
		}
	}
	details, err := db.FailureDetails(ctx, keys)
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
	fill := func(c *Cause) error {
		ds, err := db.FailureDetails(ctx, []index.FailureKey{c.key})
		if d := ds[c.key]; err == nil && d != nil {
			c.Reply, c.MXHost, c.Rule, c.EventID = d.Text(), d.MXHost, d.Rule, d.EventID
		}
		return err
	}
	ids := map[string]int64{}
	for id, d := range names {
		ids[d.Name] = id
	}
	for i := range res.Domains {
		d := &res.Domains[i]
		if dc := sc.domClass[ids[d.Domain]]; len(dc) > 0 {
			d.TopClass = topOf(dc)
		}
	}
	for i := range res.Gateways {
		g := &res.Gateways[i]
		if gc := sc.gwClass[g.Gateway]; len(gc) > 0 {
			g.TopClass = topOf(gc)
		}
	}
	// Domain-wide blocks: many addresses of one domain failing alike.
	byDomain := map[string]*DomainVerdict{}
	rcptIDs := map[int64]bool{}
	for _, fh := range sc.firstHard {
		if len(fh) >= minBlockAddresses {
			for id := range fh {
				rcptIDs[id] = true
			}
		}
	}
	for rd, fh := range sc.firstHard {
		if len(fh) < minBlockAddresses {
			continue
		}
		causes := make([]*Cause, 0, len(fh))
		for _, r := range fh {
			causes = append(causes, causeOf(r, names))
		}
		v, err := verdictOf(names[rd].Name, len(causes), causes, nil, fill)
		if err != nil {
			return err
		}
		if v.Kind == VerdictDomainBlock || v.Kind == VerdictDeadDomain {
			res.Alerts = append(res.Alerts, v)
			byDomain[v.Domain] = &res.Alerts[len(res.Alerts)-1]
		}
	}
	sort.Slice(res.Alerts, func(i, j int) bool {
		if res.Alerts[i].InWindow != res.Alerts[j].InWindow {
			return res.Alerts[i].InWindow > res.Alerts[j].InWindow
		}
		return res.Alerts[i].Domain < res.Alerts[j].Domain
	})
	for i := range res.Alerts {
		byDomain[res.Alerts[i].Domain] = &res.Alerts[i]
	}
	for i := range res.Domains {
		d := &res.Domains[i]
		if v := byDomain[d.Domain]; v != nil {
			c := *v
			d.Verdict = &c
		} else if fh := sc.firstHard[ids[d.Domain]]; len(fh) > 0 {
			causes := make([]*Cause, 0, len(fh))
			for _, r := range fh {
				causes = append(causes, causeOf(r, names))
			}
			v, err := verdictOf(d.Domain, len(causes), causes, nil, fill)
			if err != nil {
				return err
			}
			d.Verdict = &v
		}
	}
	// Typo domains.
	known, err := typoTargets(ctx, db)
	if err != nil {
		return err
	}
	for rd, t := range sc.noMX {
		if t.Intended = TypoOf(t.Domain, known); t.Intended != "" {
			t.Recipients = len(sc.noMXRcpts[rd])
			res.Typos = append(res.Typos, *t)
		}
	}
	sort.Slice(res.Typos, func(i, j int) bool {
		if res.Typos[i].Failures != res.Typos[j].Failures {
			return res.Typos[i].Failures > res.Typos[j].Failures
		}
		return res.Typos[i].Domain < res.Typos[j].Domain
	})
	return sc.lookalikes(ctx, db, res, names)
}

// maxLookalikeDomain is the most addresses a domain may have for its
// bounces to be compared with its deliveries: at consumer domains two
// near-identical addresses are usually two people.
const maxLookalikeDomain = 5000

// lookalikes pairs addresses that bounced as unknown with near-identical
// ones at the same domain that received mail.
func (sc *failureScan) lookalikes(ctx context.Context, db *index.DB, res *HealthResult, names map[int64]index.Domain) error {
	byDomain := map[int64][]int64{}
	for id := range sc.unknown {
		d := index.DomainOfRecipient(id)
		byDomain[d] = append(byDomain[d], id)
	}
	var small []int64
	for d, bounced := range byDomain {
		if names[d].Recipients <= maxLookalikeDomain {
			small = append(small, bounced...)
		}
	}
	all, err := db.Addresses(ctx, small)
	if err != nil {
		return err
	}
	for d, bounced := range byDomain {
		if names[d].Recipients > maxLookalikeDomain {
			continue
		}
		// Close lookalikes start with the same character as the bounced
		// address (closeLookalike), or differ only in separators.
		baddrs := make(map[int64]string, len(bounced))
		for _, id := range bounced {
			baddrs[id] = all[id]
		}
		firsts := map[string]bool{}
		for _, a := range baddrs {
			if a != "" {
				firsts[a[:1]] = true
				if sq := squash(localOf(a)); sq != "" {
					firsts[sq[:1]] = true
				}
			}
		}
		rs, err := db.RecipientsStartingWith(ctx, d, setKeys(firsts))
		if err != nil {
			return err
		}
		addr := baddrs
		for _, r := range rs {
			addr[r.ID] = r.Address
		}
		type pair struct {
			bounced, other int64
			edits          int
		}
		var pairs []pair
		cand := map[int64]bool{}
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
		evs, err := db.EventsOf(ctx, mapKeys(cand), nil)
		if err != nil {
			return err
		}
		delivered := map[int64]int{}
		for _, e := range evs {
			if e.Type == maildiag.Delivered {
				delivered[e.RecipientID]++
			}
		}
		for _, p := range pairs {
			if delivered[p.other] == 0 {
				continue
			}
			lb := sc.unknown[p.bounced]
			res.Lookalikes = append(res.Lookalikes, LookalikeRow{Bounced: addr[p.bounced], Delivered: addr[p.other], Edits: p.edits,
				Bounces: lb.n, Deliveries: delivered[p.other], LastBounce: usTime(lb.last)})
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
func healthSuppressions(ctx context.Context, db *index.DB, q HealthQuery, res *HealthResult, sds, rdoms []int64, sc *failureScan,
	names map[int64]index.Domain) error {
	rows, err := db.Suppressions(ctx, index.SuppressionFilter{Domains: rdoms, SendingDomains: sds,
		CreatedFrom: q.Since.UnixMicro(), CreatedTo: q.Until.UnixMicro(),
		Lists: []string{maildiag.ListBounces, maildiag.ListComplaints, maildiag.ListUnsubscribes}})
	if err != nil {
		return err
	}
	days := map[int64]*SuppressionDay{}
	day := func(us int64) *SuppressionDay {
		d := us / usPerDay
		s := days[d]
		if s == nil {
			s = &SuppressionDay{Day: usTime(d * usPerDay)}
			days[d] = s
		}
		return s
	}
	var list []NewSuppression
	for _, r := range rows {
		s := day(r.CreatedUS)
		switch r.List {
		case maildiag.ListBounces:
			s.Bounces++
		case maildiag.ListComplaints:
			s.Complaints++
		case maildiag.ListUnsubscribes:
			s.Unsubscribes++
		}
		list = append(list, NewSuppression{Address: r.Address, List: r.List, SendingDomain: r.SendingDomain,
			Since: usTime(r.CreatedUS), Code: r.Code, Reason: oneLine(r.Error)})
	}
	if len(rows) == 0 {
		// No lists: the first hard bounce of an address in the period.
		var ids []int64
		for _, fh := range sc.firstHard {
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
		for _, fh := range sc.firstHard {
			for id, r := range fh {
				if r.Reason != maildiag.ReasonBounce {
					continue
				}
				day(r.TS).Bounces++
				k := r.Key()
				list = append(list, NewSuppression{Address: addrs[id], List: maildiag.ListBounces, SendingDomain: names[r.SendingDomainID].Name,
					Since: usTime(r.TS), Code: strings.TrimSpace(codeText(r.Code) + " " + r.Enhanced), cause: &k})
			}
		}
		for i := range res.Volume {
			v := &res.Volume[i]
			if v.Complaints+v.Unsubscribes > 0 {
				s := day(v.Start.UnixMicro())
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
	var keys []index.FailureKey
	for _, n := range list {
		if n.cause != nil {
			keys = append(keys, *n.cause)
		}
	}
	details, err := db.FailureDetails(ctx, keys)
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

// healthDelays reads the accepted-to-delivered delays per gateway.
func healthDelays(ctx context.Context, db *index.DB, q HealthQuery, res *HealthResult, sds []int64) error {
	ds, err := db.DelayCounts(ctx, q.Since.UnixMicro()/usPerDay, (q.Until.UnixMicro()-1)/usPerDay, sds)
	if err != nil {
		return err
	}
	hist := map[string]map[int64]int64{}
	for _, d := range ds {
		gw := orDash(d.Gateway)
		if hist[gw] == nil {
			hist[gw] = map[int64]int64{}
		}
		hist[gw][d.LeMS] += d.N
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
func percentile(h map[int64]int64, total int64, p float64) time.Duration {
	need := int64(float64(total)*p + 0.999999)
	var seen int64
	for _, le := range index.DelayBuckets {
		seen += h[le]
		if seen >= need && seen > 0 {
			return time.Duration(min(le, 7*86_400_000)) * time.Millisecond
		}
	}
	return 0
}

// healthStuck lists deliveries accepted in the period, more than 8 hours
// before its end, with no final event.
func healthStuck(ctx context.Context, db *index.DB, q HealthQuery, res *HealthResult, rdoms []int64, names map[int64]index.Domain) error {
	until := q.Until
	if q.Now.Before(until) {
		until = q.Now
	}
	until = until.Add(-retryWindow)
	if !until.After(q.Since) {
		return nil
	}
	limit := q.MaxRows
	if rdoms != nil {
		limit = 0
	}
	ps, total, err := db.Pending(ctx, q.Since.UnixMicro(), until.UnixMicro(), limit)
	if err != nil {
		return err
	}
	if rdoms != nil {
		var keep []index.PendingDelivery
		for _, p := range ps {
			if containsID(rdoms, index.DomainOfRecipient(p.RecipientID)) {
				keep = append(keep, p)
			}
		}
		ps, total = keep[:min(len(keep), q.MaxRows)], len(keep)
	}
	ids := make([]int64, len(ps))
	for i, p := range ps {
		ids[i] = p.RecipientID
	}
	addrs, err := db.Addresses(ctx, ids)
	if err != nil {
		return err
	}
	for _, p := range ps {
		res.Stuck = append(res.Stuck, StuckDelivery{Recipient: addrs[p.RecipientID], SendingDomain: names[p.SendingDomainID].Name, Accepted: usTime(p.AcceptedUS)})
	}
	res.StuckTotal = total
	return nil
}

func setKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
