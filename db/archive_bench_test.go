package db

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db/seal"
)

// BenchmarkArchive reports bulk-archive throughput (applicants/s) over a
// seeded store with personal data: 100,000 applicants by default
// (KYCDESK_BENCH_ARCHIVE_N to change). Run it once:
//
//	go test ./db -run '^$' -bench Archive -benchtime 1x
func BenchmarkArchive(b *testing.B) {
	n := benchSize("KYCDESK_BENCH_ARCHIVE_N", 100000)
	ctx := context.Background()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d := openBench(b)
		if err := d.Seed(ctx, SeedOptions{N: n, WithPII: true, Seed: uint64(i + 1)}); err != nil {
			b.Fatal(err)
		}
		if _, err := d.CheckpointTruncate(ctx); err != nil {
			b.Fatal(err)
		}
		ids, err := queryIDs(ctx, d.read, "SELECT id FROM applicants ORDER BY id")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		res, err := d.ArchiveMany(ctx, ids, ArchiveRequest{Reason: "bench", Audit: AuditEntry{Actor: "bench"}})
		total += time.Since(start)
		b.StopTimer()
		if err != nil || len(res.Receipts) != n {
			b.Fatalf("archived %d of %d: %v", len(res.Receipts), n, err)
		}
		d.Close()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "applicants/s")
	b.ReportMetric(0, "ns/op")
}

// benchSize is the positive number in the environment variable name, or def.
func benchSize(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func openBench(b *testing.B) *DB {
	b.Helper()
	kek, err := seal.NewKEK(seal.NewKey())
	if err != nil {
		b.Fatal(err)
	}
	d, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), Options{KEK: kek})
	if err != nil {
		b.Fatal(err)
	}
	return d
}
