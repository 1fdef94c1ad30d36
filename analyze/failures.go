package analyze

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// Dimensions failures can be grouped by.
const (
	ByClass         = "class"
	ByCode          = "code"
	ByEnhanced      = "enhanced"
	ByDomain        = "domain" // recipient domain
	ByProvider      = "provider"
	ByGateway       = "gateway"
	ByDay           = "day"
	ByHour          = "hour"
	BySendingDomain = "sending-domain"
	BySeverity      = "severity"
	BySendingIP     = "sending-ip"
	ByMX            = "mx"
	ByRecipient     = "recipient"
	ByTag           = "tag" // the event's tags, as a set: "a, b"
)

// Dimensions lists the dimensions in the order help texts show them.
var Dimensions = []string{ByClass, ByCode, ByEnhanced, ByDomain, ByProvider, ByGateway, ByDay, ByHour, BySendingDomain, BySeverity,
	BySendingIP, ByMX, ByRecipient, ByTag}

// FailureQuery selects and groups failures.
type FailureQuery struct {
	Codes          []int
	Enhanced       []string // exact, or a prefix ending in '.'
	Classes        []string
	To             *Pattern // recipient pattern
	From           string   // From header contains
	Subject        string   // subject contains
	SendingDomains []string
	Providers      []string // gateway or Mailgun's recipient-provider
	Severities     []string
	Since, Until   time.Time // [Since, Until); zero: open
	By             []string  // default: class
	Top            int       // groups shown; 0: 20
}

// Sample is one failure shown for its group.
type Sample struct {
	Time      time.Time `json:"time"`
	Recipient string    `json:"recipient"`
	Code      int       `json:"code,omitempty"`
	Enhanced  string    `json:"enhanced_code,omitempty"`
	Reply     string    `json:"reply,omitempty"`
	MXHost    string    `json:"mx_host,omitempty"`
	Class     string    `json:"class,omitempty"`
	Rule      string    `json:"rule,omitempty"`
}

// FailureGroup is one group of failures.
type FailureGroup struct {
	Key        []string `json:"key"` // one value per dimension of By
	Failures   int      `json:"failures"`
	Share      float64  `json:"share"` // of all selected failures
	Recipients int      `json:"recipients"`
	// Messages counts each message to a recipient once, however many
	// attempts it took: FailedMessages failed for good (a permanent
	// failure, a drop, a rejection), DeferredMessages had at least one
	// temporary failure (Deferrals in all), and DeliveredLater of those
	// were delivered after all (-1 when not looked up: too many).
	Messages         int `json:"messages"`
	FailedMessages   int `json:"failed_messages"`
	DeferredMessages int `json:"deferred_messages"`
	Deferrals        int `json:"deferrals"`
	DeliveredLater   int `json:"delivered_later"`
	// Deliveries are the delivered events in the group's scope: the same
	// recipient domains, gateways, days and sending domains; dimensions
	// deliveries do not have (class, code, ...) do not narrow it. -1 when
	// the index cannot say.
	Deliveries int64 `json:"deliveries"`
	// FailureRate counts messages: failed messages / (failed messages +
	// deliveries); -1 when unknown. A message deferred twice and then
	// delivered is a delivery, not a failure.
	FailureRate float64 `json:"failure_rate"`
	TopClass    string  `json:"top_class,omitempty"`
	Hard        bool    `json:"hard"`
	Sample      Sample  `json:"sample"`
}

// FailuresResult is the answer to a FailureQuery.
type FailuresResult struct {
	By       []string  `json:"by"`
	Since    time.Time `json:"since,omitzero"`
	Until    time.Time `json:"until,omitzero"`
	Failures int       `json:"failures"`
	// Messages, FailedMessages, DeferredMessages and Deferrals as in
	// FailureGroup, over every selected failure.
	Messages         int            `json:"messages"`
	FailedMessages   int            `json:"failed_messages"`
	DeferredMessages int            `json:"deferred_messages"`
	Deferrals        int            `json:"deferrals"`
	Deliveries       int64          `json:"deliveries"`
	FailureRate      float64        `json:"failure_rate"` // failed messages / (failed messages + deliveries)
	Groups           []FailureGroup `json:"groups"`
	OtherGroups      int            `json:"other_groups"` // groups beyond Top
	Other            int            `json:"other_failures"`
}

// deliveryDims are the dimensions delivered events can be split by.
var deliveryDims = map[string]bool{ByDomain: true, ByProvider: true, ByGateway: true, ByDay: true, BySendingDomain: true}

type group struct {
	g       FailureGroup
	rcpts   map[RecipientID]struct{}
	msgs    map[int32]uint8 // what became of each message (by its place in msgs.list): msgFailed | msgDeferred
	class   map[string]int
	samples map[string]*sampled // the first failure of each class
}

type sampled struct {
	s               Sample
	rcpt            RecipientID
	ref             Ref
	domain, sending string
	ties            []*sampled // as early, to other recipients
}

// tiedWith turns the comparison with a failure round: the sample as a
// failure, and the failure's time and domains. A failure no earlier than
// the sample, with the sample no earlier than it, ties.
func (s *sampled) tiedWith(r *Failure) (*Failure, time.Time, string, string) {
	return &Failure{Time: s.s.Time, RecipientDomain: s.domain, SendingDomain: s.sending}, r.Time, r.RecipientDomain, r.SendingDomain
}

// earlier tells whether a failure comes before a sample's: by time, then
// by recipient and sending domain, so that every engine picks the same
// sample whatever order it reads failures in.
func earlier(r *Failure, t time.Time, domain, sending string) bool {
	if !r.Time.Equal(t) {
		return r.Time.Before(t)
	}
	if r.RecipientDomain != domain {
		return r.RecipientDomain < domain
	}
	return r.SendingDomain < sending
}

// MessageDay is one message to one recipient, with a day it had an event.
type MessageDay struct {
	Message   MessageRef
	Recipient RecipientID
	Day       int64
}

// messages are the messages of the failures read, each once: a message is
// known by its message-id and recipient, and one without a message-id is a
// message of its own.
type messages struct {
	idx  map[MessageDay]int32 // by message and recipient (Day zero)
	list []messageSeen
}

type messageSeen struct {
	first MessageDay // with the day of the first failure read
	kinds uint8      // msgFailed | msgDeferred
}

// of returns the place of a failure's message in the list, adding it when
// new.
func (ms *messages) of(r *Failure) int32 {
	i := int32(len(ms.list))
	m := MessageDay{Message: r.Message, Recipient: r.Recipient}
	if r.Message == 0 {
		// Never met again: not worth a map entry.
		m.Day = int64(i) + 1<<40
		ms.list = append(ms.list, messageSeen{first: m})
		return i
	}
	if ms.idx == nil {
		ms.idx = map[MessageDay]int32{}
	}
	if j, ok := ms.idx[m]; ok {
		return j
	}
	ms.idx[m] = i
	m.Day = r.Ref[0]
	ms.list = append(ms.list, messageSeen{first: m})
	return i
}

// deliveredReader tells which deferred messages were delivered after all.
type deliveredReader interface {
	DeliveredMessages(ctx context.Context, ms []MessageDay) (map[MessageDay]bool, error)
}

// maxLookups bounds the deferred messages looked up for DeliveredLater.
const maxLookups = 20000

const (
	msgFailed   = 1
	msgDeferred = 2
)

// Failures groups the failures a query selects.
func Failures(ctx context.Context, db Store, q FailureQuery) (*FailuresResult, error) {
	if len(q.By) == 0 {
		q.By = []string{ByClass}
	}
	for _, b := range q.By {
		if !slices.Contains(Dimensions, b) {
			return nil, fmt.Errorf("cannot group by %q: use %s", b, strings.Join(Dimensions, ", "))
		}
	}
	if q.Top <= 0 {
		q.Top = 20
	}
	f := FailureFilter{From: q.Since, Until: q.Until, Codes: q.Codes, Enhanced: q.Enhanced, Classes: q.Classes,
		Severities: q.Severities, Gateways: q.Providers, FromContains: q.From, SubjectContains: q.Subject}
	var err error
	if f.SendingDomains, err = sendingDomains(ctx, db, q.SendingDomains); err != nil {
		return nil, err
	}
	res := &FailuresResult{By: q.By, Since: q.Since, Until: q.Until, Groups: []FailureGroup{}}
	var to *resolved
	if q.To != nil {
		if to, err = resolve(ctx, db, *q.To); err != nil {
			return nil, err
		}
		if len(to.domains) == 0 {
			return res, nil
		}
		to.filter(&f)
	}
	// The deliveries in scope are counted while the failures are read:
	// another of the store's connections, and a core of its own.
	type counted struct {
		d   *deliveries
		err error
	}
	dc := make(chan counted, 1)
	go func() {
		d, err := deliveriesFor(ctx, db, q, f, to)
		dc <- counted{d, err}
	}()
	groups := map[string]*group{}
	var msgs messages
	keyBuf := make([]string, len(q.By))
	err = db.Failures(ctx, f, func(r *Failure) error {
		if !to.has(r.Recipient) {
			return nil
		}
		// The group's key without a slice made for every failure.
		var k string
		if len(q.By) == 1 {
			k = dimValue(q.By[0], r)
		} else {
			for i, b := range q.By {
				keyBuf[i] = dimValue(b, r)
			}
			k = strings.Join(keyBuf, "\x00")
		}
		g := groups[k]
		if g == nil {
			key := []string{k}
			if len(q.By) > 1 {
				key = slices.Clone(keyBuf)
			}
			g = &group{g: FailureGroup{Key: key}, rcpts: map[RecipientID]struct{}{}, msgs: map[int32]uint8{},
				class: map[string]int{}, samples: map[string]*sampled{}}
			groups[k] = g
		}
		g.g.Failures++
		kind := uint8(msgFailed)
		if r.Outcome == maildiag.OutcomeTemporary {
			kind = msgDeferred
			g.g.Deferrals++
			res.Deferrals++
		}
		i := msgs.of(r)
		g.msgs[i] |= kind
		msgs.list[i].kinds |= kind
		g.rcpts[r.Recipient] = struct{}{}
		c := classOrOther(r.Class)
		g.class[c]++
		// The earliest failure of the class: the same on every engine,
		// whatever order its store reads them in (ties: the first
		// address, once addresses are read).
		old, ok := g.samples[c]
		switch {
		case !ok || earlier(r, old.s.Time, old.domain, old.sending):
			g.samples[c] = &sampled{s: Sample{Time: r.Time, Code: r.Code, Enhanced: r.Enhanced, MXHost: r.MXHost,
				Class: r.Class, Rule: r.Rule}, rcpt: r.Recipient, ref: r.Ref, domain: r.RecipientDomain, sending: r.SendingDomain}
		case !earlier(old.tiedWith(r)):
			old.ties = append(old.ties, &sampled{s: Sample{Time: r.Time, Code: r.Code, Enhanced: r.Enhanced, MXHost: r.MXHost,
				Class: r.Class, Rule: r.Rule}, rcpt: r.Recipient, ref: r.Ref, domain: r.RecipientDomain, sending: r.SendingDomain})
		}
		res.Failures++
		return nil
	})
	dl := <-dc
	if err != nil {
		return nil, err
	}
	if dl.err != nil {
		return nil, dl.err
	}
	res.Messages = len(msgs.list)
	for _, m := range msgs.list {
		if m.kinds&msgFailed != 0 {
			res.FailedMessages++
		}
		if m.kinds&msgDeferred != 0 {
			res.DeferredMessages++
		}
	}
	all := make([]*group, 0, len(groups))
	for _, g := range groups {
		g.g.Recipients = len(g.rcpts)
		g.g.Messages = len(g.msgs)
		for _, k := range g.msgs {
			if k&msgFailed != 0 {
				g.g.FailedMessages++
			}
			if k&msgDeferred != 0 {
				g.g.DeferredMessages++
			}
		}
		g.g.Share = ratio(int64(g.g.Failures), int64(res.Failures))
		top := sortedShares(g.class)[0].Name
		g.g.TopClass = top
		info, _ := maildiag.ClassOf(top)
		g.g.Hard = info.Hard
		g.g.Sample = g.samples[top].s
		all = append(all, g)
	}
	timeOnly := true
	for _, b := range q.By {
		timeOnly = timeOnly && (b == ByDay || b == ByHour)
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i].g, all[j].g
		if !timeOnly && a.Failures != b.Failures {
			return a.Failures > b.Failures
		}
		return slices.Compare(a.Key, b.Key) < 0
	})
	if !timeOnly && len(all) > q.Top {
		for _, g := range all[q.Top:] {
			res.Other += g.g.Failures
		}
		res.OtherGroups = len(all) - q.Top
		all = all[:q.Top]
	}
	var candidates []RecipientID
	for _, g := range all {
		sm := g.samples[g.g.TopClass]
		candidates = append(candidates, sm.rcpt)
		for _, t := range sm.ties {
			candidates = append(candidates, t.rcpt)
		}
	}
	addrs, err := db.Addresses(ctx, candidates)
	if err != nil {
		return nil, err
	}
	sampleIDs := make([]RecipientID, len(all))
	refs := make([]Ref, len(all))
	for i, g := range all {
		sm := g.samples[g.g.TopClass]
		for _, t := range sm.ties {
			if addrs[t.rcpt] < addrs[sm.rcpt] {
				sm = t
			}
		}
		g.g.Sample = sm.s
		sampleIDs[i], refs[i] = sm.rcpt, sm.ref
	}
	details, err := db.FailureDetails(ctx, refs)
	if err != nil {
		return nil, err
	}
	if i := slices.Index(q.By, ByRecipient); i >= 0 {
		ids := make([]RecipientID, 0, len(all))
		for _, g := range all {
			n, _ := strconv.ParseInt(g.g.Key[i], 10, 64)
			ids = append(ids, RecipientID(n))
		}
		names, err := db.Addresses(ctx, ids)
		if err != nil {
			return nil, err
		}
		for j, g := range all {
			g.g.Key[i] = orDash(names[ids[j]])
		}
	}
	for i, g := range all {
		g.g.Sample.Recipient = addrs[sampleIDs[i]]
		if d := details[refs[i]]; d != nil {
			g.g.Sample.Reply, g.g.Sample.MXHost, g.g.Sample.Rule = d.Text(), d.MXHost, d.Rule
		}
	}
	if err := deliveredLater(ctx, db, all, msgs.list); err != nil {
		return nil, err
	}
	res.Deliveries = dl.d.total
	res.FailureRate = rate(int64(res.FailedMessages), dl.d.total)
	for _, g := range all {
		g.g.Deliveries = dl.d.of(q.By, g.g.Key)
		g.g.FailureRate = rate(int64(g.g.FailedMessages), g.g.Deliveries)
		res.Groups = append(res.Groups, g.g)
	}
	return res, nil
}

// deliveredLater looks up which deferred messages of the groups shown were
// delivered after all, when the store can say and they are not too many.
func deliveredLater(ctx context.Context, db Store, groups []*group, list []messageSeen) error {
	var ms []MessageDay
	for _, g := range groups {
		g.g.DeliveredLater = -1
		for i, k := range g.msgs {
			if m := list[i].first; k&msgDeferred != 0 && m.Message != 0 {
				ms = append(ms, m)
			}
		}
	}
	dr, ok := db.(deliveredReader)
	if !ok || len(ms) > maxLookups {
		return nil
	}
	got, err := dr.DeliveredMessages(ctx, ms)
	if err != nil {
		return err
	}
	for _, g := range groups {
		g.g.DeliveredLater = 0
		for i, k := range g.msgs {
			if k&msgDeferred != 0 && got[list[i].first] {
				g.g.DeliveredLater++
			}
		}
	}
	return nil
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func rate(failures, deliveries int64) float64 {
	if deliveries < 0 {
		return -1
	}
	return ratio(failures, failures+deliveries)
}

// dimValue is the value of a failure on one dimension.
func dimValue(by string, r *Failure) string {
	switch by {
	case ByClass:
		return classOrOther(r.Class)
	case ByCode:
		if r.Code == 0 {
			return "-"
		}
		return strconv.Itoa(r.Code)
	case ByEnhanced:
		return orDash(r.Enhanced)
	case ByDomain:
		return orDash(r.RecipientDomain)
	case ByProvider:
		return orDash(r.Provider)
	case ByGateway:
		return orDash(r.Gateway)
	case ByDay:
		return r.Time.Format("2006-01-02")
	case ByHour:
		return r.Time.Format("2006-01-02T15")
	case BySendingDomain:
		return orDash(r.SendingDomain)
	case BySeverity:
		return orDash(r.Severity)
	case BySendingIP:
		return orDash(r.SendingIP)
	case ByMX:
		return orDash(r.MXHost)
	case ByRecipient:
		return strconv.FormatInt(int64(r.Recipient), 10) // an id until the groups shown are named
	case ByTag:
		return orDash(strings.Join(r.Tags, ", "))
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// deliveries counts delivered events by the dimensions they have.
type deliveries struct {
	total  int64
	known  bool
	hourly bool             // counted by hour: ByHour is one of the key's parts
	byKey  map[string]int64 // values of the dimensions of By that deliveries have, joined
}

func (d *deliveries) of(by []string, key []string) int64 {
	if !d.known {
		return -1
	}
	var parts []string
	for i, b := range by {
		switch {
		case deliveryDims[b]:
			parts = append(parts, key[i])
		case b == ByHour && d.hourly:
			parts = append(parts, key[i])
		case b == ByHour, b == ByRecipient, b == BySendingIP, b == ByMX, b == ByTag:
			return -1 // not counted at ingest
		}
	}
	if len(parts) == 0 {
		return d.total
	}
	return d.byKey[strings.Join(parts, "\x00")]
}

// deliveriesFor counts the delivered events in the query's scope, by whole
// UTC days.
func deliveriesFor(ctx context.Context, db Store, q FailureQuery, f FailureFilter, to *resolved) (*deliveries, error) {
	d := &deliveries{byKey: map[string]int64{}}
	cq := CountQuery{From: q.Since, Until: q.Until, SendingDomains: f.SendingDomains, Types: []string{maildiag.Delivered}}
	if to != nil {
		if to.recipients != nil {
			// Deliveries to single addresses are not counted at ingest.
			return d, nil
		}
		cq.RecipientDomains = to.domains
	}
	if slices.Contains(q.By, ByHour) {
		return hourlyDeliveries(ctx, db, q, f, to)
	}
	for _, b := range q.By {
		switch b {
		case ByDomain, ByProvider, ByGateway:
			cq.By |= CountByRecipientDomain
		case ByDay:
			cq.By |= CountByDay
		case BySendingDomain:
			cq.By |= CountBySendingDomain
		}
	}
	if len(q.Providers) > 0 {
		cq.By |= CountByRecipientDomain
	}
	counts, err := db.Counts(ctx, cq)
	if err != nil {
		return nil, err
	}
	var doms map[string]Domain
	if cq.By&CountByRecipientDomain != 0 {
		if doms, err = db.Domains(ctx); err != nil {
			return nil, err
		}
	}
	var provs map[string]bool
	if len(q.Providers) > 0 {
		provs = map[string]bool{}
		for _, p := range q.Providers {
			provs[strings.ToLower(p)] = true
		}
	}
	d.known = true
	for _, c := range counts {
		if c.Type != maildiag.Delivered {
			continue
		}
		rd := doms[c.RecipientDomain]
		if provs != nil && !provs[strings.ToLower(rd.Gateway)] && !provs[strings.ToLower(rd.Provider)] {
			continue
		}
		d.total += c.N
		var parts []string
		for _, b := range q.By {
			switch b {
			case ByDomain:
				parts = append(parts, orDash(c.RecipientDomain))
			case ByProvider:
				parts = append(parts, orDash(rd.Provider))
			case ByGateway:
				parts = append(parts, orDash(rd.Gateway))
			case ByDay:
				parts = append(parts, c.Time.Format("2006-01-02"))
			case BySendingDomain:
				parts = append(parts, orDash(c.SendingDomain))
			}
		}
		if len(parts) > 0 {
			d.byKey[strings.Join(parts, "\x00")] += c.N
		}
	}
	return d, nil
}

// hourlyDeliveries counts the delivered events in the query's scope by
// whole UTC hours: the hourly counts kept at ingest, or the events of the
// recipient domains of --to. Hourly counts have no recipient domain, so
// --by hour with a recipient-domain dimension (domain, provider, gateway)
// or --provider leaves deliveries unknown.
func hourlyDeliveries(ctx context.Context, db Store, q FailureQuery, f FailureFilter, to *resolved) (*deliveries, error) {
	d := &deliveries{byKey: map[string]int64{}, hourly: true}
	if len(q.Providers) > 0 || slices.ContainsFunc(q.By, func(b string) bool { return b == ByDomain || b == ByProvider || b == ByGateway }) ||
		to != nil && to.recipients != nil {
		return d, nil
	}
	from, until := q.Since, q.Until
	if from.IsZero() || until.IsZero() {
		sp, err := db.Span(ctx)
		if err != nil {
			return nil, err
		}
		if sp.First.IsZero() {
			d.known = true
			return d, nil
		}
		if from.IsZero() {
			from = sp.First
		}
		if until.IsZero() {
			until = sp.Last.Add(time.Microsecond)
		}
	}
	var counts []Count
	var err error
	if to != nil {
		counts, err = db.DomainHourCounts(ctx, to.domains, from, until)
	} else {
		counts, err = db.HourlyCounts(ctx, from, until, f.SendingDomains)
	}
	if err != nil {
		return nil, err
	}
	d.known = true
	for _, c := range counts {
		if c.Type != maildiag.Delivered || len(f.SendingDomains) > 0 && !slices.Contains(f.SendingDomains, c.SendingDomain) {
			continue
		}
		d.total += c.N
		var parts []string
		for _, b := range q.By {
			switch b {
			case ByHour:
				parts = append(parts, c.Time.Format("2006-01-02T15"))
			case ByDay:
				parts = append(parts, c.Time.Format("2006-01-02"))
			case BySendingDomain:
				parts = append(parts, orDash(c.SendingDomain))
			}
		}
		d.byKey[strings.Join(parts, "\x00")] += c.N
	}
	return d, nil
}
