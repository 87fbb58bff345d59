package saml

import (
	"context"
	"sync"
	"time"
)

// RequestStore keeps the IDs of AuthnRequests we sent, with the RelayState to continue to and the
// hex SHA-256 of the browser binding secret (see BindingCookieName), until they expire. Take is
// single-use: it returns ok only once per id, and never after exp.
// Keeping them on the server (not in a cookie) matters because the IdP's cross-site POST to the
// ACS does not carry a SameSite=Lax cookie; and only the hash is kept, so whoever reads the store
// still cannot make a browser's cookie match.
type RequestStore interface {
	Save(ctx context.Context, id, relayState, bindingHash string, exp time.Time) error
	Take(ctx context.Context, id string, now time.Time) (relayState, bindingHash string, ok bool, err error)
}

// AssertionStore remembers accepted assertion IDs until exp. Remember reports first=false when id
// is already remembered and not yet expired: that assertion is a replay.
type AssertionStore interface {
	Remember(ctx context.Context, assertionID string, exp time.Time) (first bool, err error)
}

// Stores bundles the stores New needs.
type Stores struct {
	Requests   RequestStore
	Assertions AssertionStore
}

// MemoryRequestStore is an in-memory RequestStore for tests and single-process development; a
// deployment with more than one instance needs a shared store.
type MemoryRequestStore struct {
	mu   sync.Mutex
	reqs map[string]memoryRequest
}

type memoryRequest struct {
	relayState  string
	bindingHash string
	exp         time.Time
}

// NewMemoryRequestStore returns an empty MemoryRequestStore.
func NewMemoryRequestStore() *MemoryRequestStore {
	return &MemoryRequestStore{reqs: map[string]memoryRequest{}}
}

// Save records id, with its RelayState and binding hash, until exp.
func (m *MemoryRequestStore) Save(_ context.Context, id, relayState, bindingHash string, exp time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reqs[id] = memoryRequest{relayState: relayState, bindingHash: bindingHash, exp: exp}
	return nil
}

// Take removes id and returns its RelayState and binding hash if it was saved and has not expired
// at now.
func (m *MemoryRequestStore) Take(_ context.Context, id string, now time.Time) (string, string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, r := range m.reqs {
		if !now.Before(r.exp) {
			delete(m.reqs, k)
		}
	}
	r, ok := m.reqs[id]
	if !ok {
		return "", "", false, nil
	}
	delete(m.reqs, id)
	return r.relayState, r.bindingHash, true, nil
}

// Len returns how many requests are outstanding (expired ones included until the next Take).
func (m *MemoryRequestStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.reqs)
}

// MemoryAssertionStore is an in-memory AssertionStore for tests and single-process development.
type MemoryAssertionStore struct {
	mu   sync.Mutex
	now  func() time.Time
	seen map[string]time.Time
}

// NewMemoryAssertionStore returns an empty MemoryAssertionStore; now decides when entries may be
// dropped.
func NewMemoryAssertionStore(now func() time.Time) *MemoryAssertionStore {
	return &MemoryAssertionStore{now: now, seen: map[string]time.Time{}}
}

// Remember records assertionID until exp; first is false if it was already recorded and has not
// expired.
func (m *MemoryAssertionStore) Remember(_ context.Context, assertionID string, exp time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for k, e := range m.seen {
		if !now.Before(e) {
			delete(m.seen, k)
		}
	}
	if _, ok := m.seen[assertionID]; ok {
		return false, nil
	}
	m.seen[assertionID] = exp
	return true, nil
}
