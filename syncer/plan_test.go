package syncer

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
)

func rg(from, to int64) maildiag.Range { return maildiag.Range{FromUS: from, ToUS: to} }

func TestMissingRanges(t *testing.T) {
	tests := []struct {
		name     string
		from, to int64
		covered  []maildiag.Range
		want     []maildiag.Range
	}{
		{"nothing covered", 0, 100, nil, []maildiag.Range{rg(0, 100)}},
		{"all covered", 10, 90, []maildiag.Range{rg(0, 100)}, nil},
		{"tail missing (the late threshold)", 0, 100, []maildiag.Range{rg(0, 70)}, []maildiag.Range{rg(70, 100)}},
		{"head missing (a longer --since)", 0, 100, []maildiag.Range{rg(40, 100)}, []maildiag.Range{rg(0, 40)}},
		{"gaps between", 0, 100, []maildiag.Range{rg(10, 20), rg(30, 40), rg(95, 200)}, []maildiag.Range{rg(0, 10), rg(20, 30), rg(40, 95)}},
		{"ranges outside", 50, 60, []maildiag.Range{rg(0, 10), rg(70, 80)}, []maildiag.Range{rg(50, 60)}},
		{"touching", 0, 30, []maildiag.Range{rg(0, 10), rg(10, 30)}, nil},
		{"empty request", 50, 50, nil, nil},
	}
	for _, tt := range tests {
		if got := missingRanges(tt.from, tt.to, tt.covered); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSplitRanges(t *testing.T) {
	const s = usPerSec
	got := splitRanges([]maildiag.Range{rg(500_000, 10*s+250_000), rg(20*s, 21*s)}, 4*s)
	want := []maildiag.Range{rg(500_000, 4*s), rg(4*s, 8*s), rg(8*s, 10*s+250_000), rg(20*s, 21*s)}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// Windows cover the ranges exactly, and cuts fall on whole seconds.
	rs := []maildiag.Range{rg(123_456, 987*s+654_321)}
	ws := splitRanges(rs, 13*s+1)
	if ws[0].FromUS != rs[0].FromUS || ws[len(ws)-1].ToUS != rs[0].ToUS {
		t.Fatalf("windows %v do not span %v", ws, rs)
	}
	for i := 1; i < len(ws); i++ {
		if ws[i].FromUS != ws[i-1].ToUS || ws[i].FromUS%s != 0 || ws[i].ToUS-ws[i].FromUS > 13*s+1 {
			t.Fatalf("window %d %v after %v", i, ws[i], ws[i-1])
		}
	}
	// A size under a second still advances.
	if n := len(splitRanges([]maildiag.Range{rg(0, 5*s)}, 1)); n != 5 {
		t.Errorf("%d windows of at least a second in 5 s, want 5", n)
	}
}

func TestWindowSize(t *testing.T) {
	day := int64(86400 * usPerSec)
	if got := windowSize(32*day, 8, 1); got != day {
		t.Errorf("32 days for 8 workers: %d, want a day", got)
	}
	if got := windowSize(60*usPerSec, 8, 900*usPerSec); got != 900*usPerSec {
		t.Errorf("a minute: %d, want the minimum", got)
	}
}

func TestInterleave(t *testing.T) {
	got := interleave([][]int{{1, 2, 3}, {10}, {20, 21}})
	if want := []int{1, 10, 20, 2, 21, 3}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestPlanBounded: no window, however short, makes a plan of more than
// MaxWindows windows; the refusal names the shortest window that fits.
// --window 1ms over 30 days planned 10.4 million windows, and over 1000
// days ran out of memory.
func TestPlanBounded(t *testing.T) {
	const s = usPerSec
	day := int64(86400 * s)
	rs := []maildiag.Range{rg(123_456, 1000*day), rg(1000*day+7, 1000*day+5*s)}
	for _, size := range []int64{1, 1000, 4 * s, 13*s + 1, day} {
		want := int64(len(splitRanges(rs[1:], size)))
		if size >= 13*s {
			want += int64(len(splitRanges(rs[:1], size)))
		} else {
			want = -1 // too many to cut; counted only
		}
		got := countWindows(rs, size)
		if want >= 0 && got != want {
			t.Errorf("size %d: counted %d windows, cut %d", size, got, want)
		}
	}
	err := tooLarge(rs, 1000, countWindows(rs, 1000))
	var pe *PlanTooLarge
	if !errors.As(err, &pe) || pe.Windows != countWindows(rs, 1) || pe.Least <= 0 {
		t.Fatalf("got %v, want a PlanTooLarge with the count and the least window", err)
	}
	if n := countWindows(rs, pe.Least.Microseconds()); n > MaxWindows {
		t.Errorf("the least window %s still cuts %d windows", pe.Least, n)
	}
	if n := countWindows(rs, (pe.Least - time.Minute).Microseconds()); n <= MaxWindows {
		t.Errorf("a minute less than the least window %s cuts only %d windows", pe.Least, n)
	}
}
