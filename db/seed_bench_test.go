package db

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSeed reports bulk-seed throughput (applicants/s) into a fresh
// store: 200,000 applicants by default (KYCDESK_BENCH_SEED_N to change).
// Untimed, it then checks the store's and the search index's integrity: at
// this size the index builds sort on worker threads and the search index
// is swapped in from its own file, which the tests' small seeds do not
// reach.
// Run it once:
//
//	go test ./db -run '^$' -bench Seed -benchtime 1x
func BenchmarkSeed(b *testing.B) {
	n := benchSize("KYCDESK_BENCH_SEED_N", 200000)
	ctx := context.Background()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d := openBench(b)
		b.StartTimer()
		start := time.Now()
		progress := func(done int) {
			if done%(n/10) == 0 {
				b.Logf("%d rows in %s", done, time.Since(start).Round(time.Millisecond))
			}
		}
		if err := d.Seed(ctx, SeedOptions{N: n, Seed: uint64(i + 1), Progress: progress}); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		checkIntegrity(b, d)
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "applicants/s")
}

// checkIntegrity fails b unless SQLite finds the store and the search
// index sound.
func checkIntegrity(b *testing.B, d *DB) {
	b.Helper()
	ctx := context.Background()
	var result string
	if err := d.write.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil || result != "ok" {
		b.Fatalf("integrity_check: %q, %v", result, err)
	}
	if err := searchIntegrity(d); err != nil {
		b.Fatalf("search index: %v", err)
	}
}
