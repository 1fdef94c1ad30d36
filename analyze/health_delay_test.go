package analyze

import (
	"testing"
	"time"
)

// Percentiles from delay buckets are interpolated within the bucket that
// holds them, not its upper bound.
func TestPercentileInterpolates(t *testing.T) {
	les := []time.Duration{time.Second, time.Minute, 30 * time.Minute, time.Hour, longestDelay}
	h := map[time.Duration]int64{time.Second: 50, 30 * time.Minute: 40, time.Hour: 9, longestDelay: 1}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{
		{0.25, 500 * time.Millisecond},              // half of the first bucket, from 0
		{0.5, time.Second},                          // its top
		{0.7, time.Minute + 29*time.Minute/2},       // half of 1 to 30 min (the 1 min bucket is empty)
		{0.9, 30 * time.Minute},                     // the top of 30 min
		{0.95, 30*time.Minute + 5*30*time.Minute/9}, // 5 of the 9 in 30 to 60 min
		{0.995, time.Hour},                          // the open last bucket: its lower bound
	} {
		got := percentile(h, les, 100, c.p)
		if d := got - c.want; d > time.Millisecond || d < -time.Millisecond {
			t.Errorf("p%v: got %v, want %v", c.p*100, got, c.want)
		}
	}
	if got := percentile(map[time.Duration]int64{}, les, 0, 0.5); got != 0 {
		t.Errorf("no deliveries: got %v, want 0", got)
	}
}
