package idfy

import (
	"strings"
	"sync"
	"time"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// fakeClock is a settable clock shared by the adapter and the simulator
// (the simulator reads it from its server goroutines).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
