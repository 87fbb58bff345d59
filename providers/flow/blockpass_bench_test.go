package flow

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers/blockpass/sim"
)

// BenchmarkBlockpassSync syncs a simulated Blockpass service of
// KYCDESK_BENCH_BLOCKPASS candidates (default 100,000; every status, a
// tenth without a refId, some archived, three pictures each) into a fresh
// store on disk: first the initial sync (every candidate new: fetched,
// extracted, encrypted, stored), then a re-sync (every candidate
// unchanged). It reports candidates/s of each and the heap and peak RSS,
// which stay flat as the sync streams one page at a time. The simulator
// runs in the same process, with archive-after-extract off so that it
// holds no per-candidate state either.
//
//	go test ./providers/flow -run '^$' -bench BlockpassSync -benchtime 1x
func BenchmarkBlockpassSync(b *testing.B) {
	n := 100_000
	if v := os.Getenv("KYCDESK_BENCH_BLOCKPASS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("KYCDESK_BENCH_BLOCKPASS=%q: want a positive count", v)
		}
	}
	for i := 0; i < b.N; i++ {
		e := newBPEnv(b, bpOptions{simCfg: sim.Config{ArchiveAfter: -1}})
		e.sim.Seed(n)
		var peakHeap uint64
		progress := func(db.SyncCounts) {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peakHeap = max(peakHeap, m.HeapInuse)
		}
		ctx := context.Background()

		start := time.Now()
		counts, err := e.svc.SyncBlockpass(ctx, e.client, 0, progress)
		initial := time.Since(start)
		if err != nil || counts.Created != n {
			b.Fatalf("initial sync: %+v, %v", counts, err)
		}
		start = time.Now()
		counts, err = e.svc.SyncBlockpass(ctx, e.client, 0, progress)
		resync := time.Since(start)
		if err != nil || counts.Unchanged != n {
			b.Fatalf("re-sync: %+v, %v", counts, err)
		}
		b.ReportMetric(float64(n)/initial.Seconds(), "new/s")
		b.ReportMetric(float64(n)/resync.Seconds(), "unchanged/s")
		b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(peakRSSKiB())/1024, "peak-RSS-MiB")
		b.Logf("%d candidates: initial sync %s (%.0f/s), re-sync %s (%.0f/s), peak heap %.1f MiB, peak RSS %.1f MiB",
			n, initial.Round(time.Millisecond), float64(n)/initial.Seconds(), resync.Round(time.Millisecond),
			float64(n)/resync.Seconds(), float64(peakHeap)/(1<<20), float64(peakRSSKiB())/1024)
	}
}

// peakRSSKiB is the process's peak resident set (VmHWM), 0 if unknown.
func peakRSSKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kib
		}
	}
	return 0
}
