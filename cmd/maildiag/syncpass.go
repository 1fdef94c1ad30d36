package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
)

// minWindow is the shortest window a pass plans, unless --window says.
const minWindow = 15 * time.Minute

// domainRun is one sending domain in a pass.
type domainRun struct {
	name    string
	idx     int // its bar
	client  *ingest.Client
	stats   *ingest.Stats
	sum     *domainSummary
	windows []*window
	total   int64 // µs of events to read
	lists   map[string]*listResult
	err     error // the first failure
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
	s        *streams
	o        *syncOptions
	db       *index.DB
	w        *index.Writer
	nowUS    int64
	cutoffUS int64 // ranges end here at the latest
	runs     []*domainRun
	tasks    []task
	bars     *multiBar
	clock    func() time.Time
	fatal    error // ends the pass for every domain (a refused key)
}

// syncPass plans one pass from what the index holds, fetches it in
// parallel and stores it through one writer.
func syncPass(ctx context.Context, s *streams, g *globals, db *index.DB, client *ingest.Client, o *syncOptions) (*syncSummary, error) {
	started := time.Now().UTC()
	now := g.now()
	names, err := resolveDomains(ctx, client, o)
	if err != nil {
		return nil, failure(explainAPIError(err, o))
	}
	p := &pass{s: s, o: o, db: db, nowUS: now.UnixMicro(), clock: g.now}
	p.cutoffUS = p.nowUS - o.lateThreshold.Microseconds()
	sum := &syncSummary{Source: o.source, APIBase: client.BaseURL(), Started: started, Workers: o.workers}
	if err := p.plan(ctx, client, names, o.sinceTime(now).UnixMicro(), sum); err != nil {
		return nil, failure(err)
	}
	w, err := db.NewWriter(ctx)
	if err != nil {
		return nil, failure(err)
	}
	defer w.Close()
	if err := ensureRules(ctx, s, db, w); err != nil {
		return nil, failure(err)
	}
	p.w = w
	p.bars = newMultiBar(s, names)
	runErr := p.run(ctx)
	p.bars.finish()
	if err := p.summarize(ctx, sum); err != nil && runErr == nil {
		runErr = err
	}
	sum.Finished = time.Now().UTC()
	sum.Seconds = sum.Finished.Sub(started).Seconds()
	switch {
	case runErr != nil:
		return sum, failure(runErr)
	case p.fatal != nil:
		return sum, failure(explainAPIError(p.fatal, o))
	case ctx.Err() != nil && !o.watch:
		return sum, failure(ctx.Err())
	}
	return sum, p.failures()
}

// resolveDomains returns the named domains, checked to exist, or every
// domain of the account.
func resolveDomains(ctx context.Context, client *ingest.Client, o *syncOptions) ([]string, error) {
	if len(o.domains) == 0 {
		names, err := client.Domains(ctx)
		if err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("the account at %s has no sending domains", client.Host())
		}
		return names, nil
	}
	seen := map[string]bool{}
	var names []string
	for _, d := range o.domains {
		if seen[d] {
			continue
		}
		seen[d] = true
		if err := client.CheckDomain(ctx, d); err != nil {
			return nil, err
		}
		names = append(names, d)
	}
	return names, nil
}

// plan finds each domain's missing ranges and cuts them into windows.
func (p *pass) plan(ctx context.Context, client *ingest.Client, names []string, fromUS int64, sum *syncSummary) error {
	var gaps [][]maildiag.Range
	var all []maildiag.Range
	for i, name := range names {
		covered, err := p.db.SyncedRanges(ctx, name, p.o.source)
		if err != nil {
			return err
		}
		g := missingRanges(fromUS, p.nowUS, covered)
		gaps = append(gaps, g)
		all = append(all, g...)
		st := &ingest.Stats{}
		d := &domainRun{name: name, idx: i, client: client.WithStats(st), stats: st, lists: map[string]*listResult{},
			sum: &domainSummary{Domain: name}}
		p.runs = append(p.runs, d)
		sum.Domains = append(sum.Domains, d.sum)
	}
	if oldest := p.nowUS - p.o.retentionDur.Microseconds(); len(all) > 0 && minFrom(all) < oldest {
		fmt.Fprintf(p.s.err, "maildiag: warning: --since %s reaches back to %s, past Mailgun's log retention of %s (--retention): events before %s may be gone from Mailgun and cannot be synced\n",
			p.o.since, microTime(minFrom(all)).Format(time.RFC3339), p.o.retention, microTime(oldest).Format(time.RFC3339))
	}
	size := p.o.window.Microseconds()
	if size == 0 {
		size = windowSize(totalLength(all), p.o.workers, minWindow.Microseconds())
	}
	var perDomain [][]task
	for i, d := range p.runs {
		var ts []task
		for _, r := range splitRanges(gaps[i], size) {
			w := &window{d: d, from: r.FromUS, to: r.ToUS, done: r.FromUS}
			d.windows = append(d.windows, w)
			d.total += r.ToUS - r.FromUS
			ts = append(ts, task{d: d, w: w})
		}
		d.sum.Windows = len(d.windows)
		if len(gaps[i]) > 0 {
			from, to := microTime(gaps[i][0].FromUS), microTime(gaps[i][len(gaps[i])-1].ToUS)
			d.sum.FetchedFrom, d.sum.FetchedTo = &from, &to
		}
		perDomain = append(perDomain, ts)
	}
	p.tasks = interleave(perDomain)
	if !p.o.noSuppressions {
		for _, list := range ingest.Lists() {
			for _, d := range p.runs {
				p.tasks = append(p.tasks, task{d: d, list: list})
			}
		}
	}
	return nil
}

func minFrom(rs []maildiag.Range) int64 {
	m := rs[0].FromUS
	for _, r := range rs[1:] {
		m = min(m, r.FromUS)
	}
	return m
}

// run feeds the tasks to the workers and stores their results in this
// goroutine, the only one using the writer.
func (p *pass) run(ctx context.Context) error {
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	tasks := make(chan task)
	// Room for the pages fetched while the writer commits: workers keep
	// paging instead of waiting for it.
	results := make(chan result, 8*p.o.workers)
	var wg sync.WaitGroup
	for range min(p.o.workers, max(len(p.tasks), 1)) {
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
		seen := p.clock().UnixMicro()
		_, err := d.client.ReadList(ctx, d.name, t.list, func(b *ingest.Batch) error {
			out <- result{d: d, list: t.list, batch: b, seenUS: seen}
			return nil
		})
		out <- result{d: d, list: t.list, seenUS: seen, listDone: err == nil, err: err}
		return
	}
	w := t.w
	q := ingest.EventQuery{Domain: d.name, FromUS: w.from, ToUS: w.to}
	opts := ingest.Options{SendingDomain: d.name}
	page := d.client.EventPages
	if p.o.source == ingest.SourceLogs {
		page = d.client.LogPages
	}
	err := page(ctx, q, opts, func(pg *ingest.Page) error {
		// Paging ascending, everything before the page's last event is in.
		out <- result{d: d, w: w, batch: pg.Batch, completeTo: pg.LastUS}
		return nil
	})
	if err != nil {
		out <- result{d: d, w: w, err: err}
		return
	}
	out <- result{d: d, w: w, completeTo: w.to}
}

// summarize fills in the counters and what the index now holds.
func (p *pass) summarize(ctx context.Context, sum *syncSummary) error {
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
			d.sum.Error = explainAPIError(d.err, p.o).Error()
		}
		rs, err := p.db.SyncedRanges(context.WithoutCancel(ctx), d.name, p.o.source)
		if err != nil {
			return err
		}
		d.sum.SyncedRanges = timeRanges(rs)
	}
	return nil
}

// failures is the error of a pass in which some domains failed.
func (p *pass) failures() error {
	var failed []error
	for _, d := range p.runs {
		if d.err != nil {
			failed = append(failed, explainAPIError(d.err, p.o)) // names the domain
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return failure(fmt.Errorf("sync failed for %d of %d domains (what was read is committed; run sync again to resume): %w",
		len(failed), len(p.runs), errors.Join(failed...)))
}
