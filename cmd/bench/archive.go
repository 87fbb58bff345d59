package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kycdesk/kycdesk/db"
)

// benchArchive measures bulk archiving (issue 9): n applicants seeded with
// encrypted personal data in a database of their own, then every one
// archived through db.ArchiveMany (a batch of applicants per transaction,
// each whole or not at all, with its audit entry, receipt and the WAL
// checkpoint after). It reports applicants/s and what the CPU spent per
// applicant, and asserts nothing. n = 0 skips it.
func benchArchive(ctx context.Context, n int, out io.Writer) error {
	if n <= 0 {
		return nil
	}
	dir, err := os.MkdirTemp("", "kycdesk-bench-archive-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "archive.db")
	d, err := openBenchDB(ctx, path)
	if err != nil {
		return err
	}
	defer d.Close()
	start := time.Now()
	if err := d.Seed(ctx, db.SeedOptions{N: n, WithPII: true, Seed: 2}); err != nil {
		return err
	}
	if _, err := d.CheckpointTruncate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "\narchive: seeded %s applicants with encrypted personal data in %s; database %s\n",
		thousands(int64(n)), time.Since(start).Round(100*time.Millisecond), fileSizes(path))
	// A fresh database numbers the seeded applicants 1..n.
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	cpu0 := cpuTime()
	start = time.Now()
	res, err := d.ArchiveMany(ctx, ids, db.ArchiveRequest{Reason: "bench", Audit: db.AuditEntry{Actor: "bench"}})
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	if err != nil {
		return err
	}
	if len(res.Receipts) != n {
		return fmt.Errorf("archive bench: archived %d of %d", len(res.Receipts), n)
	}
	fmt.Fprintf(out, "archive: %s applicants archived in %s = %s applicants/s (CPU %s per applicant, %.1f cores busy); database %s after the checkpoint\n",
		thousands(int64(n)), el.Round(100*time.Millisecond), thousands(int64(float64(n)/el.Seconds())),
		(cpu / time.Duration(n)).Round(time.Microsecond), cpu.Seconds()/el.Seconds(), fileSizes(path))
	return nil
}
