package mgserver

import (
	"sync"
	"testing"
	"time"
)

func TestClockStandsUntilSet(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	c := NewClock(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("new clock: got %v, want %v", got, t0)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			c.Set(t0.Add(time.Duration(i) * time.Hour))
			c.Now()
		})
	}
	wg.Wait()
	back := t0.Add(-time.Hour)
	c.Set(back)
	if got := c.Now(); !got.Equal(back) {
		t.Errorf("after Set back: got %v, want %v", got, back)
	}
	if got := new(Clock).Now(); !got.IsZero() {
		t.Errorf("zero clock: got %v, want the zero time", got)
	}
}
