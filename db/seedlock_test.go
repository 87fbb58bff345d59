//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package db

import (
	"context"
	"errors"
	"testing"
)

// TestRunningBulkSeedIsNotFinished: while a bulk seed runs, its store is
// refused as running, even to `seed --finish`, and a second bulk seed
// does not start; once the seed has ended, the store opens.
func TestRunningBulkSeedIsNotFinished(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	run, err := d.startBulkSeed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, finish := range []bool{false, true} {
		other, err := Open(ctx, d.path, Options{KEK: d.kek, FinishBulkSeed: finish})
		if err == nil {
			other.Close()
		}
		if !errors.Is(err, ErrBulkSeedRunning) {
			t.Fatalf("open (finish %v) beside a running bulk seed: %v, want ErrBulkSeedRunning", finish, err)
		}
	}
	if _, err := d.startBulkSeed(ctx); !errors.Is(err, ErrBulkSeedRunning) {
		t.Errorf("a second bulk seed beside the first: %v, want ErrBulkSeedRunning", err)
	}
	if err := run.finish(ctx, true); err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, d.path, Options{KEK: d.kek})
	if err != nil {
		t.Fatalf("open after the seed ended: %v", err)
	}
	other.Close()
	// The ended seed let go of its lock: the next one starts.
	next, err := d.startBulkSeed(ctx)
	if err != nil {
		t.Fatalf("a bulk seed after the first: %v", err)
	}
	if err := next.finish(ctx, true); err != nil {
		t.Fatal(err)
	}
}
