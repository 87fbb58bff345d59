package db

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSeed reports bulk-seed throughput (applicants/s) into a fresh
// store: 200,000 applicants by default (KYCDESK_BENCH_SEED_N to change).
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
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "applicants/s")
}
