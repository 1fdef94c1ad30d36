package main

import (
	"github.com/maildiag/maildiag"
)

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
