package syncer

import (
	"context"
	"fmt"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/ingest"
)

// minWindow is the shortest window a pass plans, unless Options.Window says.
const minWindow = 15 * time.Minute

// resolveDomains returns the named domains, checked to exist, or every
// domain of the account.
func resolveDomains(ctx context.Context, client *ingest.Client, domains []string) ([]string, error) {
	if len(domains) == 0 {
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
	for _, d := range domains {
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

// plan finds each domain's missing ranges, cuts them into windows and
// reports the plan.
func (p *pass) plan(ctx context.Context, client *ingest.Client, names []string, fromUS int64, sum *Summary) error {
	var gaps [][]maildiag.Range
	var all []maildiag.Range
	for i, name := range names {
		covered, err := p.st.SyncedRanges(ctx, name, p.o.Source)
		if err != nil {
			return err
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
	p.progress.Plan(pl)
	size := p.o.Window.Microseconds()
	if size == 0 {
		size = windowSize(totalLength(all), p.o.Workers, minWindow.Microseconds())
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
	return nil
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

// splitRanges cuts ranges into windows of at most size, the cuts inside a
// range on whole seconds (the Events API takes whole seconds).
func splitRanges(rs []maildiag.Range, size int64) []maildiag.Range {
	size = max(size, usPerSec)
	var out []maildiag.Range
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
