package db

import (
	"errors"
	"fmt"
	"os"
)

// A bulk seed holds a lock on a file beside the store (<db>-seed.lock)
// from its start until its finish has ended. Finishing a stopped seed
// (Options.FinishBulkSeed, `kycdesk seed --finish`) takes the same lock,
// so it cannot "finish" a seed that is still running: that would build
// the indexes, triggers and statistics under the running seed's feet, and
// the running seed would then find nothing left to finish. The operating
// system drops the lock when the process ends, however it ends, so a
// stopped seed never leaves it held.

// seedLockSuffix names the lock file: the store's path with this appended.
const seedLockSuffix = "-seed.lock"

// ErrBulkSeedRunning: a bulk seed is running on the store, or being
// finished (another process, or this one, holds its lock).
var ErrBulkSeedRunning = errors.New("db: a bulk seed is running on this store (or being finished): wait for it to end")

// errLocked is what tryLock returns for a lock held elsewhere.
var errLocked = errors.New("locked")

// seedLock is a held bulk-seed lock.
type seedLock struct{ f *os.File }

// lockSeed takes the bulk-seed lock of the store at path, without waiting.
func lockSeed(path string) (*seedLock, error) {
	f, err := os.OpenFile(path+seedLockSuffix, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("db: seed lock: %w", err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, ErrBulkSeedRunning
		}
		return nil, fmt.Errorf("db: seed lock: %w", err)
	}
	return &seedLock{f}, nil
}

// unlock releases the lock. The file stays: removing it would let a
// second locker lock a new file while a third still holds the old one.
func (l *seedLock) unlock() {
	if l != nil {
		l.f.Close()
	}
}
