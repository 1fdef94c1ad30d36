package syncer

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/reclassify"
)

// Store is what a pass reads from the index.
type Store interface {
	reclassify.Store
	SyncedRanges(ctx context.Context, sendingDomain, source string) ([]maildiag.Range, error)
}

// Writer is what a pass stores through, from one goroutine, in
// transactions it commits.
type Writer interface {
	reclassify.Writer
	AddEvents(ctx context.Context, evs []maildiag.Event, importID int64) (int, error)
	AddRejects(ctx context.Context, source string, importID int64, rs []maildiag.Reject) error
	AddSuppressions(ctx context.Context, ss []maildiag.Suppression, importID, seenUS int64) (int, error)
	AddSyncedRange(ctx context.Context, sendingDomain, source string, r maildiag.Range, syncedUS int64) error
	AddMetrics(ctx context.Context, ms []maildiag.Metric, syncedUS int64) error
	FinishListSync(ctx context.Context, sendingDomain, list string, startedUS int64) (int, error)
	Rollback()
}

// Options are the settings of a pass, resolved.
type Options struct {
	// Source is where events come from: ingest.SourceLogs or
	// ingest.SourceEvents (deprecated by Mailgun). Empty is the Logs API
	// with Fallback.
	Source string
	// Fallback, with Source ingest.SourceLogs, reads the Events API
	// instead when the Logs API refuses the account (401, 403 or 404 on
	// its endpoint), saying so in Summary.Note.
	Fallback bool
	// Domains are the sending domains to sync, lower-cased; empty: every
	// domain of the account.
	Domains []string
	// Since is the time a pass reads events from. When it is zero, a pass
	// reads from Lookback before its start.
	Since    time.Time
	Lookback time.Duration
	// LateThreshold keeps ranges this far from the time of the pass, as
	// Mailgun adds late events to pages it has served: they are read again
	// next time.
	LateThreshold time.Duration
	// Workers page windows in parallel; 0 is 1.
	Workers int
	// Window is the longest time window one worker pages through, in whole
	// seconds; 0: about four windows per worker, none shorter than 15
	// minutes. A window that cuts the missing time into more than
	// MaxWindows fails the pass before it fetches anything (*PlanTooLarge).
	Window time.Duration
	// NoSuppressions leaves the suppression lists alone.
	NoSuppressions bool
	// Metrics also reads each domain's counts from Mailgun's Metrics API
	// (daily for a year, hourly for 60 days) after the events and lists.
	Metrics bool
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Reclassify hears the re-derivation of stored classes a pass makes
	// first when the rules changed (reclassify.EnsureRules); nil is fine.
	Reclassify reclassify.Progress
}

// withDefaults fills in what o leaves to the package.
func (o Options) withDefaults() Options {
	if o.Source == "" {
		o.Source, o.Fallback = ingest.SourceLogs, true
	}
	o.Workers = max(o.Workers, 1)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Run makes one pass: it plans from what st holds, fetches the missing
// events and the suppression lists through client in parallel, and stores
// them through w, which it uses from one goroutine. The summary comes
// back whenever the pass got as far as planning, also with an error; what
// was committed stays. p may be nil.
func Run(ctx context.Context, st Store, w Writer, client *ingest.Client, o Options, p Progress) (*Summary, error) {
	o = o.withDefaults()
	started := time.Now().UTC()
	now := o.Now().UTC()
	names, skipped, err := resolveDomains(ctx, client, o.Domains)
	if err != nil {
		return nil, err
	}
	since := o.Since
	if since.IsZero() {
		since = now.Add(-o.Lookback)
	}
	newPass := func(o Options, note string) (*pass, *Summary, Plan, error) {
		ps := &pass{o: o, st: st, w: w, nowUS: now.UnixMicro(), progress: orQuiet(p)}
		ps.cutoffUS = ps.nowUS - o.LateThreshold.Microseconds()
		sum := &Summary{Source: o.Source, APIBase: client.BaseURL(), Started: started, Workers: o.Workers, Note: note, Warnings: []Warning{}}
		pl, err := ps.plan(ctx, client, names, since.UnixMicro(), sum)
		return ps, sum, pl, err
	}
	ps, sum, pl, err := newPass(o, "")
	if err != nil {
		return nil, err
	}
	// Whether the Logs API answers is asked once there are events to read
	// (a plan refused asks nothing); the ranges synced are per source, so
	// a fallback plans again.
	if o.Source == ingest.SourceLogs && o.Fallback && ps.hasWindows() {
		if err := client.ProbeLogs(ctx, names[0], now); ingest.LogsRefused(err) {
			ae, _ := ingest.AsAPIError(err)
			o.Source = ingest.SourceEvents
			note := fmt.Sprintf("the Logs API refused the account (%d: %s): read the Events API instead", ae.Status, ae.Message)
			if ps, sum, pl, err = newPass(o, note); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
	}
	ps.progress.Plan(pl)
	if err := reclassify.EnsureRules(ctx, st, w, o.Reclassify); err != nil {
		return nil, err
	}
	runErr := ps.run(ctx)
	ps.stopped()
	if o.Metrics && runErr == nil && ps.fatal == nil && ps.down == nil && ctx.Err() == nil {
		runErr = ps.syncMetrics(ctx, now)
	}
	sum.Warnings = append(append(sum.Warnings, skipped...), ps.warnings...)
	slices.SortFunc(sum.Warnings, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.List, b.List))
	})
	if err := ps.summarize(ctx, sum); err != nil && runErr == nil {
		runErr = err
	}
	sum.Finished = time.Now().UTC()
	sum.Seconds = sum.Finished.Sub(started).Seconds()
	switch {
	case runErr != nil:
		return sum, runErr
	case ps.fatal != nil:
		return sum, ps.fatal
	case ctx.Err() != nil:
		return sum, ctx.Err()
	}
	return sum, ps.failures()
}
