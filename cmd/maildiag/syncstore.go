package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
			p.bars.draw(false)
		case <-tick.C:
			if time.Since(pend.since) >= commitAfter {
				commit()
			}
			p.bars.draw(false)
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
		if p.fatal != nil && errors.Is(r.err, context.Canceled) {
			return nil // stopped because of another domain's refused key
		}
		if d.err == nil {
			d.err = r.err
		}
		if refused(r.err) && p.fatal == nil {
			p.fatal = r.err
			cancel(r.err)
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
		if err := p.w.AddRejects(wctx, "sync "+p.o.source+" "+d.name, 0, b.Rejects); err != nil {
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
			if err := p.w.AddSyncedRange(wctx, d.name, p.o.source, maildiag.Range{FromUS: w.from, ToUS: to}, p.nowUS); err != nil {
				return fmt.Errorf("record synced range of %s: %w", d.name, err)
			}
			pend.pages++ // worth committing even without events
		}
		p.progress(d)
	}
	return nil
}

// applyList stores a page of a list snapshot, or ends the snapshot.
func (p *pass) applyList(wctx context.Context, r result, pend *pending) error {
	d := r.d
	l := d.lists[r.list]
	if l == nil {
		l = &listResult{List: r.list}
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
		p.progress(d)
	}
	return nil
}

// progress redraws a domain's bar: the share of its missing time read.
func (p *pass) progress(d *domainRun) {
	var done int64
	for _, w := range d.windows {
		done += w.done - w.from
	}
	steps := int64(barSteps)
	if d.total > 0 {
		steps = done * barSteps / d.total
	}
	lists := 0
	for _, l := range d.lists {
		if l.Complete {
			lists++
		}
	}
	desc := fmt.Sprintf("%d events (%d new)", d.sum.EventsRead, d.sum.EventsNew)
	if !p.o.noSuppressions {
		desc += fmt.Sprintf(", lists %d/%d", lists, len(ingest.Lists()))
	}
	p.bars.set(d.idx, steps, desc)
}

// refused tells whether the API refused the key: nothing else will work.
func refused(err error) bool {
	ae, ok := ingest.AsAPIError(err)
	return ok && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden)
}

// explainAPIError turns an API error into a message the user can act on,
// keeping the error underneath for errors.Is and errors.As.
func explainAPIError(err error, o *syncOptions) error {
	other := "eu"
	if o.region == "eu" && o.apiBase == "" {
		other = "us"
	}
	if errors.Is(err, ingest.ErrNoSuchDomain) {
		return &hintError{fmt.Sprintf("%v (wrong region? try --region %s)", err, other), err}
	}
	ae, ok := ingest.AsAPIError(err)
	switch {
	case !ok:
		return err
	case ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden:
		return &hintError{fmt.Sprintf("%d from %s: bad API key, or the domain is in the other region (try --region %s)", ae.Status, ae.Host, other), err}
	case ae.Status == http.StatusNotFound:
		return &hintError{fmt.Sprintf("%v (is the domain name right, and in this region? try --region %s)", err, other), err}
	}
	return err
}

// hintError is an error with a message written for the user.
type hintError struct {
	msg string
	err error
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }

// retryLater tells whether a failed pass is worth repeating in --watch
// mode: not when the key is refused or a domain does not exist.
func retryLater(err error) bool {
	return !refused(err) && !errors.Is(err, ingest.ErrNoSuchDomain)
}
