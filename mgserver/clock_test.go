package mgserver

import (
	"sync"
	"testing"
	"time"
)

func TestClockStandsUntilSet(t *testing.T) {
	c := NewClock(testEnd)
	if got := c.Now(); !got.Equal(testEnd) {
		t.Fatalf("new clock: got %v, want %v", got, testEnd)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			c.Set(testEnd.Add(time.Duration(i) * time.Hour))
			c.Now()
		})
	}
	wg.Wait()
	back := testEnd.Add(-time.Hour)
	c.Set(back)
	if got := c.Now(); !got.Equal(back) {
		t.Errorf("after Set back: got %v, want %v", got, back)
	}
	if got := new(Clock).Now(); !got.IsZero() {
		t.Errorf("zero clock: got %v, want the zero time", got)
	}
}
