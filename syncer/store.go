package syncer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/ingest"
)

// Commit cadence: a transaction holds at most this many events or pages,
// or this much time, so that a kill loses little and commits stay cheap.
const (
	commitEvents = 6000
	commitPages  = 20
	commitAfter  = time.Second
)

// pending is what the open transaction holds.
type pending struct {
	events, pages int
	since         time.Time
}

// store is the one writer: it applies every result in arrival order (a
// window's pages arrive in page order) and commits every few pages, each
// range in the transaction of the events it covers. It reads results until
// the workers are done, also after an error, so that no worker blocks.
func (p *pass) store(ctx context.Context, results <-chan result, cancel context.CancelCauseFunc) error {
	// An interrupt stops the fetching, not the storing of what was fetched.
	wctx := context.WithoutCancel(ctx)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var pend pending
	var werr error
	commit := func() {
		if werr != nil || pend.pages == 0 && pend.events == 0 {
			return
		}
		if err := p.w.Commit(wctx); err != nil {
			werr = fmt.Errorf("commit sync: %w", err)
			cancel(werr)
		}
		pend = pending{}
	}
	for {
		select {
		case r, ok := <-results:
			if !ok {
				commit()
				return werr
			}
			if werr != nil {
				continue
			}
			if err := p.apply(wctx, ctx, r, &pend, cancel); err != nil {
				p.w.Rollback()
				werr = err
				cancel(err)
				continue
			}
			if pend.events >= commitEvents || pend.pages >= commitPages || time.Since(pend.since) >= commitAfter {
				commit()
			}
			p.progress.Tick()
		case <-tick.C:
			if time.Since(pend.since) >= commitAfter {
				commit()
			}
			p.progress.Tick()
		}
	}
}

// apply stores one result in the open transaction.
func (p *pass) apply(wctx, ctx context.Context, r result, pend *pending, cancel context.CancelCauseFunc) error {
	d := r.d
	if pend.pages == 0 && pend.events == 0 {
		pend.since = time.Now()
	}
	if r.err != nil {
		if ctx.Err() != nil && errors.Is(r.err, context.Canceled) {
			return nil // interrupted, not failed
		}
		if (p.fatal != nil || p.down != nil) && errors.Is(r.err, context.Canceled) {
			return nil // stopped because of a refused key or a server judged down
		}
		if p.down != nil && ingest.GaveUp(r.err) {
			return nil // in flight when the server was judged down
		}
		if ae, ok := partRefused(r.err); ok {
			p.warn(d, r.list, ae)
			return nil
		}
		if d.err == nil {
			d.err = r.err
		}
		switch {
		case KeyRefused(r.err) && p.fatal == nil:
			p.fatal = r.err
			cancel(r.err)
		case ingest.GaveUp(r.err) && p.fatal == nil && p.down == nil:
			// Every other request would spend its retries the same way,
			// one window after another: stop the pass.
			p.down = r.err
			d.err = fmt.Errorf("%w (%w)", r.err, ErrServerDown)
			cancel(ErrServerDown) // the worker did already (judge)
		}
		return nil
	}
	if r.list != "" {
		return p.applyList(wctx, r, pend)
	}
	w := r.w
	if b := r.batch; b != nil {
		n, err := p.w.AddEvents(wctx, b.Events, 0)
		if err != nil {
			return fmt.Errorf("store events of %s: %w", d.name, err)
		}
		if err := p.w.AddRejects(wctx, "sync "+p.o.Source+" "+d.name, 0, b.Rejects); err != nil {
			return fmt.Errorf("store rejects of %s: %w", d.name, err)
		}
		d.sum.EventsRead += len(b.Events)
		d.sum.EventsNew += n
		d.sum.Rejects += len(b.Rejects)
		d.sum.Pages++
		pend.events += len(b.Events)
		pend.pages++
	}
	if done := min(r.completeTo, w.to); done > w.done {
		w.done = done
		// Never closer to the sync than the late threshold: late events
		// may still appear before it.
		if to := min(done, p.cutoffUS); to > w.from {
			if err := p.w.AddSyncedRange(wctx, d.name, p.o.Source, maildiag.Range{FromUS: w.from, ToUS: to}, p.nowUS); err != nil {
				return fmt.Errorf("record synced range of %s: %w", d.name, err)
			}
			pend.pages++ // worth committing even without events
		}
		p.report(d)
	}
	return nil
}

// applyList stores a page of a list snapshot, or ends the snapshot.
func (p *pass) applyList(wctx context.Context, r result, pend *pending) error {
	d := r.d
	l := d.lists[r.list]
	if l == nil {
		l = &ListResult{List: r.list}
		d.lists[r.list] = l
	}
	if b := r.batch; b != nil {
		n, err := p.w.AddSuppressions(wctx, b.Suppressions, 0, r.seenUS)
		if err != nil {
			return fmt.Errorf("store %s of %s: %w", r.list, d.name, err)
		}
		if err := p.w.AddRejects(wctx, "sync "+r.list+" "+d.name, 0, b.Rejects); err != nil {
			return fmt.Errorf("store rejects of %s: %w", d.name, err)
		}
		l.Read += len(b.Suppressions)
		l.New += n
		l.Pages++
		pend.pages++
	}
	if r.listDone {
		removed, err := p.w.FinishListSync(wctx, d.name, r.list, r.seenUS)
		if err != nil {
			return fmt.Errorf("finish %s of %s: %w", r.list, d.name, err)
		}
		l.Removed, l.Complete = removed, true
		pend.pages++
		p.report(d)
	}
	return nil
}

// warn records, once per part, that the API refused a list or a domain's
// events: the part is skipped (a list refused is not marked complete, so
// nothing of it is marked removed) and the pass goes on.
func (p *pass) warn(d *domainRun, list string, ae *ingest.APIError) {
	key := list
	if list == "" {
		key = "\x00events"
		d.eventsRefused = true
	}
	if d.warned == nil {
		d.warned = map[string]bool{}
	}
	if d.warned[key] {
		return
	}
	d.warned[key] = true
	what := "events (" + p.o.Source + " API)"
	if list != "" {
		what = list
	}
	p.warnings = append(p.warnings, Warning{Domain: d.name, List: list, Status: ae.Status,
		Message: fmt.Sprintf("%s of %s skipped: %d: %s (a restricted key, a plan without it, or a subaccount's domain?)", what, d.name, ae.Status, ae.Message)})
}
