package syncer

import "time"

// Progress hears how a pass goes: Plan once, before the first event is
// read; Domain whenever a domain has moved on (a range read, a list
// done); Tick after every page stored and a few times a second between,
// a moment to redraw. All calls come from one goroutine, in order.
type Progress interface {
	Plan(Plan)
	Domain(DomainProgress)
	Tick()
}

// Plan is what a pass is about to read.
type Plan struct {
	Now     time.Time // the pass's clock when it began
	Domains []string  // in the order of DomainProgress.Index
	// Oldest is the earliest time any domain misses events from; zero when
	// the store has everything up to the pass.
	Oldest time.Time
	Lists  int // suppression lists read per domain; 0 with NoSuppressions
}

// DomainProgress is how far a pass has come with one domain.
type DomainProgress struct {
	Index      int
	Domain     string
	Share      float64 // of the domain's missing time read, 0 to 1 (1 when nothing is missing)
	EventsRead int
	EventsNew  int
	ListsDone  int // of Plan.Lists
}

// report tells the Progress how far d has come.
func (p *pass) report(d *domainRun) {
	var done int64
	for _, w := range d.windows {
		done += w.done - w.from
	}
	share := 1.0
	if d.total > 0 {
		share = float64(done) / float64(d.total)
	}
	lists := 0
	for _, l := range d.lists {
		if l.Complete {
			lists++
		}
	}
	p.progress.Domain(DomainProgress{Index: d.idx, Domain: d.name, Share: share, EventsRead: d.sum.EventsRead,
		EventsNew: d.sum.EventsNew, ListsDone: lists})
}

// quiet is the Progress of a caller that wants none.
type quiet struct{}

func (quiet) Plan(Plan)             {}
func (quiet) Domain(DomainProgress) {}
func (quiet) Tick()                 {}

func orQuiet(p Progress) Progress {
	if p == nil {
		return quiet{}
	}
	return p
}
