package db

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// TestMutexHandles: recursive (connection) mutexes are the no-op handle;
// static ones are real locks, one per kind; fast ones are real, distinct
// locks whose handles go back to the free list.
func TestMutexHandles(t *testing.T) {
	// SQLite itself hands out these handles: the methods are installed.
	tls := libc.NewTLS()
	defer tls.Close()
	if h := sqlite3.Xsqlite3_mutex_alloc(tls, sqlite3.SQLITE_MUTEX_RECURSIVE); h != noMutex {
		t.Fatalf("SQLite's recursive mutex = handle %d, want the no-op %d: the mutex methods are not installed", h, noMutex)
	}
	if h := sqlite3.Xsqlite3_mutex_alloc(tls, sqlite3.SQLITE_MUTEX_STATIC_LRU); lockOf(h) != &staticMutexes[sqlite3.SQLITE_MUTEX_STATIC_LRU-staticFirst] {
		t.Fatalf("SQLite's page-cache mutex = handle %d, not this package's lock", h)
	}
	if h := mutexAlloc(nil, sqlite3.SQLITE_MUTEX_RECURSIVE); h != noMutex || lockOf(h) != nil {
		t.Errorf("recursive mutex = handle %d lock %p, want the no-op handle without a lock", h, lockOf(h))
	}
	mutexEnter(nil, noMutex) // no-ops, never block
	mutexEnter(nil, noMutex)
	mutexLeave(nil, noMutex)
	mutexLeave(nil, noMutex)

	seen := map[uintptr]bool{}
	for kind := int32(staticFirst); kind <= staticLast; kind++ {
		h := mutexAlloc(nil, kind)
		if h != mutexAlloc(nil, kind) {
			t.Errorf("static mutex %d: two allocations gave two handles", kind)
		}
		if seen[h] || lockOf(h) == nil {
			t.Errorf("static mutex %d: handle %d reused or without a lock", kind, h)
		}
		seen[h] = true
	}
	if h := mutexAlloc(nil, staticLast+1); h != 0 {
		t.Errorf("unknown mutex kind: handle %d, want 0 (SQLite's out of memory)", h)
	}

	a, b := mutexAlloc(nil, sqlite3.SQLITE_MUTEX_FAST), mutexAlloc(nil, sqlite3.SQLITE_MUTEX_FAST)
	if a == b || a < fastFirst || b < fastFirst {
		t.Fatalf("fast mutexes: handles %d and %d", a, b)
	}
	mutexEnter(nil, a)
	if rc := mutexTry(nil, a); rc != sqlite3.SQLITE_BUSY {
		t.Errorf("try on a held fast mutex = %d, want SQLITE_BUSY", rc)
	}
	if rc := mutexTry(nil, b); rc != sqlite3.SQLITE_OK {
		t.Errorf("try on another fast mutex = %d, want SQLITE_OK", rc)
	}
	mutexLeave(nil, b)
	mutexLeave(nil, a)
	if rc := mutexTry(nil, a); rc != sqlite3.SQLITE_OK {
		t.Errorf("try on a released fast mutex = %d, want SQLITE_OK", rc)
	}
	mutexLeave(nil, a)
	mutexFree(nil, a)
	fastMutexes.RLock()
	freed := slices.Contains(fastMutexes.free, a) && fastMutexes.locks[a-fastFirst] == nil
	fastMutexes.RUnlock()
	if !freed {
		t.Errorf("fast mutex %d is not on the free list after mutexFree", a)
	}
	mutexFree(nil, b)
}

// TestConnectionsWorkInParallel: with connection mutexes gone, the read
// pool's connections still run side by side with the writer (they share
// only what the static mutexes guard) and every read and write lands.
func TestConnectionsWorkInParallel(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	const writes = 200
	var wg sync.WaitGroup
	var reads atomic.Int64
	errs := make(chan error, 16)
	stop := make(chan struct{})
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := d.ListApplicants(ctx, ApplicantFilter{Query: "ana"}); err != nil {
					errs <- err
					return
				}
				if _, err := d.ListApplicants(ctx, ApplicantFilter{}); err != nil {
					errs <- err
					return
				}
				reads.Add(1)
			}
		}()
	}
	for i := 0; i < writes; i++ {
		if _, err := d.CreateApplicant(ctx, NewApplicant{Name: fmt.Sprintf("Ana Costa %d", i)}, AuditEntry{}); err != nil {
			t.Fatal(err)
		}
	}
	readsDuringWrites := reads.Load()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if readsDuringWrites == 0 {
		t.Error("no read finished while the writes went on; nothing ran side by side")
	}
	if found := searchCount(t, d, "ana costa"); found != writes {
		t.Errorf("search finds %d of the %d applicants written while others read", found, writes)
	}
}
