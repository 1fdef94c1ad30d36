package syncer

import (
	"context"
	"fmt"
	"sync"

	"github.com/maildiag/maildiag/ingest"
)

// domainRun is one sending domain in a pass.
type domainRun struct {
	name    string
	idx     int // in the plan
	client  *ingest.Client
	stats   *ingest.Stats
	sum     *DomainSummary
	windows []*window
	total   int64 // µs of events to read
	lists   map[string]*ListResult
	err     error // the first failure
	// warned holds the parts refused (403, 404) already warned about;
	// eventsRefused: the domain's events were.
	warned        map[string]bool
	eventsRefused bool
}

// window is a time range of one domain's events paged by one worker.
type window struct {
	d        *domainRun
	from, to int64
	done     int64 // end of the complete part; from until a page is stored
}

// task is a window to page or a list to snapshot.
type task struct {
	d    *domainRun
	w    *window
	list string
}

// result is what a worker hands the writer: a page of a window or a
// list, the end of one, or the error that ended it.
type result struct {
	d     *domainRun
	w     *window
	list  string
	batch *ingest.Batch
	// completeTo: events up to here (from the window's start) are read
	// once batch is stored.
	completeTo int64
	seenUS     int64 // the list snapshot's start
	listDone   bool  // the whole list was read
	err        error
}

// pass is one sync pass over the domains.
type pass struct {
	o        Options
	st       Store
	w        Writer
	progress Progress
	nowUS    int64
	cutoffUS int64 // ranges end here at the latest
	runs     []*domainRun
	tasks    []task
	fatal    error // ends the pass for every domain (a refused key)
	down     error // the request that gave up, when the server is judged down
	warnings []Warning
	stop     context.CancelCauseFunc
}

// run feeds the tasks to the workers and stores their results in this
// goroutine, the only one using the writer.
func (p *pass) run(ctx context.Context) error {
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p.stop = cancel
	tasks := make(chan task)
	// Room for the pages fetched while the writer commits: workers keep
	// paging instead of waiting for it.
	results := make(chan result, 8*p.o.Workers)
	var wg sync.WaitGroup
	for range min(p.o.Workers, max(len(p.tasks), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				p.do(rctx, t, results)
			}
		}()
	}
	go func() {
		defer close(tasks)
		for _, t := range p.tasks {
			select {
			case tasks <- t:
			case <-rctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	return p.store(ctx, results, cancel)
}

// do runs one task, sending every page to the writer as it comes.
func (p *pass) do(ctx context.Context, t task, out chan<- result) {
	if ctx.Err() != nil {
		return
	}
	d := t.d
	if t.list != "" {
		seen := p.o.Now().UnixMicro()
		_, err := d.client.ReadList(ctx, d.name, t.list, func(b *ingest.Batch) error {
			out <- result{d: d, list: t.list, batch: b, seenUS: seen}
			return nil
		})
		out <- result{d: d, list: t.list, seenUS: seen, listDone: err == nil, err: err}
		p.judge(err)
		return
	}
	w := t.w
	q := ingest.EventQuery{Domain: d.name, FromUS: w.from, ToUS: w.to}
	opts := ingest.Options{SendingDomain: d.name}
	page := d.client.EventPages
	if p.o.Source == ingest.SourceLogs {
		page = d.client.LogPages
	}
	err := page(ctx, q, opts, func(pg *ingest.Page) error {
		// Paging ascending, everything before the page's last event is in.
		out <- result{d: d, w: w, batch: pg.Batch, completeTo: pg.LastUS}
		return nil
	})
	if err != nil {
		out <- result{d: d, w: w, err: err}
		p.judge(err)
		return
	}
	out <- result{d: d, w: w, completeTo: w.to}
}

// judge stops the pass when a worker's request gave up: the server is
// down, and every task left would spend its own retries finding out, one
// after another. It runs in the worker, after the result is sent (so the
// writer sees why before the cancelled tasks) and before the next task.
func (p *pass) judge(err error) {
	if err != nil && ingest.GaveUp(err) {
		p.stop(ErrServerDown)
	}
}

// summarize fills in the counters and what the index now holds.
func (p *pass) summarize(ctx context.Context, sum *Summary) error {
	for _, d := range p.runs {
		st := d.stats.Snapshot()
		d.sum.Requests, d.sum.Retries, d.sum.RateLimited, d.sum.ServerErrors = st.Requests, st.Retries, st.RateLimited, st.ServerErrors
		d.sum.EventsSeenAgain = d.sum.EventsRead - d.sum.EventsNew
		for _, list := range ingest.Lists() {
			if l := d.lists[list]; l != nil {
				d.sum.Suppressions = append(d.sum.Suppressions, l)
			}
		}
		if d.err != nil {
			d.sum.Err, d.sum.Error = d.err, d.err.Error()
		}
		rs, err := p.st.SyncedRanges(context.WithoutCancel(ctx), d.name, p.o.Source)
		if err != nil {
			return err
		}
		d.sum.SyncedRanges = timeRanges(rs)
	}
	return nil
}

// stopped marks the domains left unfinished when the pass stopped because
// the server was judged down.
func (p *pass) stopped() {
	if p.down == nil {
		return
	}
	for _, t := range p.tasks {
		d := t.d
		if d.err != nil {
			continue
		}
		if t.w != nil && t.w.done < t.w.to || t.list != "" && (d.lists[t.list] == nil || !d.lists[t.list].Complete) {
			d.err = fmt.Errorf("sync %s: %w", d.name, ErrServerDown)
		}
	}
}

// failures is the error of a pass in which some domains failed, or whose
// every domain had its events refused.
func (p *pass) failures() error {
	refused := 0
	for _, d := range p.runs {
		if d.eventsRefused {
			refused++
		}
	}
	if refused > 0 && refused == len(p.runs) {
		return fmt.Errorf("%w: %s", ErrNothingReadable, p.warnings[0].Message)
	}
	var failed []error
	for _, d := range p.runs {
		if d.err != nil {
			failed = append(failed, d.err) // names the domain
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &DomainsFailed{Errs: failed, Total: len(p.runs)}
}
