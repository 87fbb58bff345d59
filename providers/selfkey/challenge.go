package selfkey

import (
	"context"
	"sync"
	"time"
)

// ChallengeStore remembers which challenges (and user tokens) have been
// used, so each is accepted once. The app backs it with the database (a
// unique key and an expiry column) so that several instances agree.
type ChallengeStore interface {
	// Use records key as used until exp and reports whether this was the
	// first use. It must be atomic: of two concurrent calls with the same
	// key, exactly one gets true.
	Use(ctx context.Context, key string, exp time.Time) (first bool, err error)
}

// MemoryChallengeStore is a ChallengeStore in process memory, for tests and
// the simulator only: it is lost on restart and not shared between
// instances.
type MemoryChallengeStore struct {
	now  func() time.Time
	mu   sync.Mutex
	used map[string]time.Time
}

// NewMemoryChallengeStore returns an empty store; now (nil = time.Now)
// decides when entries may be forgotten.
func NewMemoryChallengeStore(now func() time.Time) *MemoryChallengeStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryChallengeStore{now: now, used: map[string]time.Time{}}
}

// Use implements ChallengeStore.
func (m *MemoryChallengeStore) Use(_ context.Context, key string, exp time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for k, e := range m.used {
		// Keep entries past exp by the leeway, while the token could still
		// be accepted.
		if now.After(e.Add(ClockLeeway)) {
			delete(m.used, k)
		}
	}
	if _, ok := m.used[key]; ok {
		return false, nil
	}
	m.used[key] = exp
	return true, nil
}
