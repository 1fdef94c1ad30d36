package synth

import (
	"context"
	"fmt"
	"math"
)

// Generate produces the account described by cfg and calls emit for each
// event in ascending time order, exactly cfg.Events times. It stops early
// when emit returns an error or ctx is cancelled, and returns that error.
func Generate(ctx context.Context, cfg Config, emit func(*Event) error) (*Result, error) {
	return generate(ctx, cfg, emit, false)
}

// generate is Generate; with recycle set, emit must not keep events (or
// anything reachable from them) after it returns, and memory is reused.
func generate(ctx context.Context, cfg Config, emit func(*Event) error, recycle bool) (*Result, error) {
	g, err := newGenerator(cfg)
	if err != nil {
		return nil, err
	}
	g.short.recycle = recycle
	if err := g.run(ctx, emit); err != nil {
		return nil, err
	}
	return g.result(), nil
}

type generator struct {
	cfg        Config
	start, end int64
	limit      int
	rng        rng
	pop        *population
	senders    []*sender
	senderCum  []float64
	tl         *timeline
	state      map[suppKey]*suppState
	lists      []*listBuilder
	reserved   map[string]bool
	q          queue
	scratch    []byte
	addrBuf    []byte
	mc         msgCtx
	short      slabs // objects emitted within lateUS of acceptance
	long       slabs // later events and their message copies

	txn     bool // ProfileTransactional
	stories *Stories
	wave    *waveStory

	u          float64 // virtual time of the last background message
	scheduled  int
	emitted    int
	bgMsgs     int
	bgEvents   int
	messages   int
	maxPending int
	byType     [len(eventTypes)]int
	bySender   []int
}

func newGenerator(cfg Config) (*generator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g := &generator{
		cfg:      cfg,
		end:      cfg.End.UnixMicro(),
		limit:    cfg.Events,
		rng:      newRNG(cfg.Seed, streamBackground),
		state:    make(map[suppKey]*suppState),
		reserved: make(map[string]bool),
		scratch:  make([]byte, 0, 1024),
	}
	g.start = g.end - int64(cfg.Days)*dayUS
	g.senders = newSenders(cfg.SendingDomains)
	w := make([]float64, len(g.senders))
	for i, s := range g.senders {
		w[i] = s.weight
		lb := newListBuilder()
		lb.allow = allowlistFor(s, g.start)
		g.lists = append(g.lists, lb)
	}
	g.senderCum = cumulative(w)
	g.bySender = make([]int, len(g.senders))
	g.txn = cfg.Profile == ProfileTransactional
	g.pop = newPopulation(cfg.Seed, cfg.Events, cfg.Profile)
	var forced map[int64]*sender
	if !cfg.NoStories {
		forced = g.planStories()
	}
	g.tl = newTimeline(cfg.Seed, g.start, g.end, g.senders, forced, !g.txn)
	if !cfg.NoStories {
		g.short.now = neverRecycle // stories are kept in the Result
		g.plantStories()
		if need := g.scheduled + minBackground; cfg.Events < need {
			return nil, fmt.Errorf("events: %d too few for the planted stories (need at least %d, or NoStories)", cfg.Events, need)
		}
	}
	return g, nil
}

// lateUS is when an event counts as late: it may wait in the reorder
// window for up to two days, so it lives in the long-lived slabs.
const lateUS = hourUS

// arena returns the slabs for something of the message in c emitted at t.
func (g *generator) arena(c *msgCtx, t int64) *slabs {
	if t-c.m.accepted >= lateUS {
		return &g.long
	}
	return &g.short
}

// push schedules an event of the message in c, unless it falls after the
// end of the range (it has not happened yet).
func (g *generator) push(c *msgCtx, ev Event) {
	if ev.Time >= g.end {
		return
	}
	a := g.arena(c, ev.Time)
	if a == &g.long && ev.Msg == c.m {
		ev.Msg = g.lateCopy(c)
	}
	e := a.event()
	*e = ev
	var id [22]byte
	e.ID = a.str(c.r.appendEventID(id[:0]))
	if c.sc != nil && c.sc.capture != nil {
		c.sc.capture(e)
	}
	g.q.push(e)
	g.scheduled++
	if n := g.q.len(); n > g.maxPending {
		g.maxPending = n
	}
}

func (g *generator) newStatus(a *slabs, st DeliveryStatus) *DeliveryStatus {
	p := a.status()
	*p = st
	if a == &g.long {
		p.LastMessage = a.clone(p.LastMessage)
	}
	return p
}

func (g *generator) run(ctx context.Context, emit func(*Event) error) error {
	t, h, more := g.nextArrival()
	for g.emitted < g.limit {
		for more && (g.q.len() == 0 || t <= g.q.minTime()) {
			g.background(t, h)
			t, h, more = g.nextArrival()
		}
		if g.q.len() == 0 {
			break
		}
		e := g.q.pop()
		g.short.frontier = e.Time
		g.record(e)
		if err := emit(e); err != nil {
			return err
		}
		g.emitted++
		if g.emitted&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	if g.emitted != g.limit {
		return fmt.Errorf("generate: emitted %d events, want %d", g.emitted, g.limit)
	}
	return ctx.Err()
}

// nextArrival places the next background message. The rate adapts to what
// is left: remaining events spread over the remaining virtual time, so that
// exactly Events are scheduled by the end of the range whatever the mix.
func (g *generator) nextArrival() (int64, int, bool) {
	remaining := g.limit - g.scheduled
	if remaining <= 0 {
		return 0, 0, false
	}
	epm := 2.3
	if g.bgMsgs >= 100 {
		epm = float64(g.bgEvents) / float64(g.bgMsgs)
	}
	step := (1 - g.u) * epm / float64(remaining) * -math.Log(1-g.rng.float())
	if g.u+step >= 1 {
		step = (1 - g.u) / 2
	}
	g.u += step
	t, h := g.tl.at(g.u)
	return t, h, true
}
