package handlers

import (
	"sync"
	"time"
)

// refusalBudget bounds how many refused sign-ins from one client address
// are audited per window. The ACS takes unauthenticated POSTs, and each
// refusal was an audit entry (a hash-chained, fsynced write): junk posted
// in a loop filled the audit log and held the one write connection. Past
// the budget, refusals are answered 429 and only counted; the first one
// over it is logged, so the flood itself is on record.
type refusalBudget struct {
	per    int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	started time.Time
	counts  map[string]int
}

func newRefusalBudget(per int, window time.Duration, now func() time.Time) *refusalBudget {
	return &refusalBudget{per: per, window: window, now: now, counts: map[string]int{}}
}

// take counts one refusal for addr and reports whether it is within the
// budget, and whether it is the first one over it.
func (b *refusalBudget) take(addr string) (within, firstOver bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if now.Sub(b.started) >= b.window {
		// A fixed window, forgotten whole: memory stays bounded by the
		// addresses of one window.
		b.started, b.counts = now, map[string]int{}
	}
	b.counts[addr]++
	n := b.counts[addr]
	return n <= b.per, n == b.per+1
}
