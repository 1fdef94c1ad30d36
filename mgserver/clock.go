package mgserver

import (
	"sync"
	"time"
)

// Clock is a clock that stands still until it is set: its Now fits
// Options.Now, so that tests and demos decide when late events appear,
// stored messages expire and new suppressions are dated. It is safe for
// concurrent use; the zero Clock stands at the zero time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t, forward or back.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
