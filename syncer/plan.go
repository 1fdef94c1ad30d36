package syncer

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/ingest"
)

// minWindow is the shortest window a pass plans, unless Options.Window says.
const minWindow = 15 * time.Minute

// MaxWindows bounds the windows of one pass, whatever Options.Window and
// the missing time: each window is held in memory and costs at least one
// request (--window 1ms over 30 days planned 10.4 million, 3.4 GB).
const MaxWindows = 100_000

// PlanTooLarge is the error of a pass whose window cuts the missing time
// into more than MaxWindows windows; nothing was fetched.
type PlanTooLarge struct {
	Windows int64         // what the window would have cut
	Window  time.Duration // the window asked for
	Least   time.Duration // the shortest window within MaxWindows, in whole minutes; 0: none
}

// Error says how many windows the plan would have had, and the way out.
func (e *PlanTooLarge) Error() string {
	if e.Least == 0 {
		return fmt.Sprintf("the missing time falls in more than the %d windows a pass plans", MaxWindows)
	}
	return fmt.Sprintf("a window of %s cuts the missing time into %d windows, more than the %d a pass plans: use a window of at least %s",
		e.Window, e.Windows, MaxWindows, e.Least)
}

// resolveDomains returns the named domains, checked to exist, or every
// domain of the account. A named domain the key may not read (403: a
// subaccount's, say) is left out with a warning; one the account does not
// have (404) is an error, as it is most likely a typo.
func resolveDomains(ctx context.Context, client *ingest.Client, domains []string) ([]string, []Warning, error) {
	if len(domains) == 0 {
		names, err := client.Domains(ctx)
		if err != nil {
			return nil, nil, err
		}
		if len(names) == 0 {
			return nil, nil, fmt.Errorf("the account at %s has no sending domains", client.Host())
		}
		return names, nil, nil
	}
	var warnings []Warning
	seen := map[string]bool{}
	var names []string
	for _, d := range domains {
		if seen[d] {
			continue
		}
		seen[d] = true
		if err := client.CheckDomain(ctx, d); err != nil {
			if ae, ok := ingest.AsAPIError(err); ok && ae.Status == http.StatusForbidden {
				warnings = append(warnings, Warning{Domain: d, Status: ae.Status,
					Message: fmt.Sprintf("domain %s skipped: %d: %s (a restricted key, or a subaccount's domain?)", d, ae.Status, ae.Message)})
				continue
			}
			return nil, nil, err
		}
		names = append(names, d)
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("%w: %s", ErrNothingReadable, warnings[0].Message)
	}
	return names, warnings, nil
}

// plan finds each domain's missing ranges and cuts them into windows; the
// caller reports the plan it returns.
func (p *pass) plan(ctx context.Context, client *ingest.Client, names []string, fromUS int64, sum *Summary) (Plan, error) {
	var gaps [][]maildiag.Range
	var all []maildiag.Range
	for i, name := range names {
		covered, err := p.st.SyncedRanges(ctx, name, p.o.Source)
		if err != nil {
			return Plan{}, err
		}
		g := missingRanges(fromUS, p.nowUS, covered)
		gaps = append(gaps, g)
		all = append(all, g...)
		st := &ingest.Stats{}
		d := &domainRun{name: name, idx: i, client: client.WithStats(st), stats: st, lists: map[string]*ListResult{},
			sum: &DomainSummary{Domain: name}}
		p.runs = append(p.runs, d)
		sum.Domains = append(sum.Domains, d.sum)
	}
	pl := Plan{Now: microTime(p.nowUS), Domains: names}
	if len(all) > 0 {
		pl.Oldest = microTime(minFrom(all))
	}
	if !p.o.NoSuppressions {
		pl.Lists = len(ingest.Lists())
	}
	size := p.o.Window.Microseconds()
	if size == 0 {
		size = windowSize(totalLength(all), p.o.Workers, minWindow.Microseconds())
	}
	size = wholeSeconds(size)
	if n := countWindows(all, size); n > MaxWindows {
		return Plan{}, tooLarge(all, size, n)
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
	if !p.o.NoSuppressions {
		for _, list := range ingest.Lists() {
			for _, d := range p.runs {
				p.tasks = append(p.tasks, task{d: d, list: list})
			}
		}
	}
	return pl, nil
}

func minFrom(rs []maildiag.Range) int64 {
	m := rs[0].FromUS
	for _, r := range rs[1:] {
		m = min(m, r.FromUS)
	}
	return m
}

// usPerSec is a second in microseconds, the unit of every time here.
const usPerSec = 1_000_000

// missingRanges returns the parts of [from, to) that covered (merged and in
// order, as index.DB.SyncedRanges returns them) leaves out.
func missingRanges(from, to int64, covered []maildiag.Range) []maildiag.Range {
	var out []maildiag.Range
	at := from
	for _, c := range covered {
		if c.ToUS <= at {
			continue
		}
		if c.FromUS >= to {
			break
		}
		if c.FromUS > at {
			out = append(out, maildiag.Range{FromUS: at, ToUS: c.FromUS})
		}
		at = max(at, c.ToUS)
		if at >= to {
			return out
		}
	}
	if at < to {
		out = append(out, maildiag.Range{FromUS: at, ToUS: to})
	}
	return out
}

// wholeSeconds is a window size rounded down to whole seconds, at least one.
func wholeSeconds(size int64) int64 {
	return max(size/usPerSec*usPerSec, usPerSec)
}

// countWindows is how many windows splitRanges cuts rs into, counted
// without cutting them.
func countWindows(rs []maildiag.Range, size int64) int64 {
	size = wholeSeconds(size)
	var n int64
	for _, r := range rs {
		if r.ToUS <= r.FromUS {
			continue
		}
		// The first cut falls on a whole second, the others size apart.
		first := (r.FromUS + size) / usPerSec * usPerSec
		n++
		if first < r.ToUS {
			n += (r.ToUS - first + size - 1) / size
		}
	}
	return n
}

// tooLarge is the error of a plan of n windows of size over rs, with the
// shortest window that would fit (in whole minutes).
func tooLarge(rs []maildiag.Range, size, n int64) error {
	e := &PlanTooLarge{Windows: n, Window: time.Duration(size) * time.Microsecond}
	if len(rs) >= MaxWindows {
		return e // a window per gap is already too many: no window fits
	}
	// The fewest whole seconds that fit: the count only falls as they grow.
	lo, hi := int64(1), totalLength(rs)/usPerSec+1
	for lo < hi {
		if mid := (lo + hi) / 2; countWindows(rs, mid*usPerSec) > MaxWindows {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	e.Least = (time.Duration(lo)*time.Second + time.Minute - 1).Truncate(time.Minute)
	return e
}

// splitRanges cuts ranges into windows of at most size, the cuts inside a
// range on whole seconds (the Events API takes whole seconds).
func splitRanges(rs []maildiag.Range, size int64) []maildiag.Range {
	size = wholeSeconds(size)
	out := make([]maildiag.Range, 0, countWindows(rs, size))
	for _, r := range rs {
		for from := r.FromUS; from < r.ToUS; {
			to := (from + size) / usPerSec * usPerSec
			if to <= from || to >= r.ToUS {
				to = r.ToUS
			}
			out = append(out, maildiag.Range{FromUS: from, ToUS: to})
			from = to
		}
	}
	return out
}

// windowSize picks the window length that splits total microseconds of
// missing events into about four windows per worker, so that uneven
// traffic still leaves no worker idle for long, but no window shorter
// than least (each window costs one extra request, its empty last page).
func windowSize(total int64, workers int, least int64) int64 {
	n := int64(max(workers, 1) * 4)
	return max((total+n-1)/n, least)
}

// totalLength is the summed length of ranges.
func totalLength(rs []maildiag.Range) int64 {
	var n int64
	for _, r := range rs {
		n += r.ToUS - r.FromUS
	}
	return n
}

// interleave orders per-domain window lists round-robin, so that every
// domain advances from the start.
func interleave[T any](lists [][]T) []T {
	var out []T
	for i := 0; ; i++ {
		added := false
		for _, l := range lists {
			if i < len(l) {
				out = append(out, l[i])
				added = true
			}
		}
		if !added {
			return out
		}
	}
}

// hasWindows tells whether the plan reads any events.
func (p *pass) hasWindows() bool {
	for _, d := range p.runs {
		if len(d.windows) > 0 {
			return true
		}
	}
	return false
}
