package db

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db/seal"
)

// openTest opens a fresh database in a temp dir with a pinned clock.
func openTest(t *testing.T, now time.Time) *DB {
	t.Helper()
	kek, err := seal.NewKEK(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	clock := now
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "kycdesk.db"), Options{KEK: kek, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
