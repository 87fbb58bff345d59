package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/blockpass"
	blockpasssim "github.com/kycdesk/kycdesk/providers/blockpass/sim"
	"github.com/kycdesk/kycdesk/providers/flow"
)

// benchBlockpass measures the Blockpass sync (issue 5): the simulator
// serves n candidates on loopback (every status, a tenth without a refId,
// some archived, three pictures each), and flow.SyncBlockpass takes them
// into a fresh database through the real adapter, page by page: first
// every candidate is new (fetched, extracted, encrypted, stored), then a
// re-sync finds every one unchanged. It reports candidates/s of both, the
// Go heap at its largest and the process's peak RSS, which stay flat
// however many candidates there are because the sync streams. The
// simulator's archive-after-extract is off so that it keeps no
// per-candidate state itself. n = 0 skips it.
func benchBlockpass(ctx context.Context, n int, out io.Writer) error {
	if n <= 0 {
		return nil
	}
	dir, err := os.MkdirTemp("", "kycdesk-bench-blockpass-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "blockpass.db")
	d, err := openBenchDB(ctx, path)
	if err != nil {
		return err
	}
	defer d.Close()

	const apiKey = "bench-api-key"
	sim := blockpasssim.New(blockpasssim.Config{APIKey: apiKey, ArchiveAfter: -1})
	sim.Seed(n)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	client, err := blockpass.NewClient(blockpass.Config{URL: srv.URL, ClientID: sim.ClientID(), APIKey: apiKey}, nil)
	if err != nil {
		return err
	}
	fl := flow.New(flow.Service{DB: d, Registry: providers.NewRegistry(&providers.Adapter{Name: providers.Blockpass, Refresher: client}),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})

	runtime.GC()
	resetPeakRSS()
	var peakHeap uint64
	progress := func(c db.SyncCounts) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peakHeap = max(peakHeap, m.HeapInuse)
		if c.Seen%20_000 == 0 && c.Seen > 0 && c.Seen < n {
			fmt.Fprintf(out, "  blockpass: %s of %s…\n", thousands(int64(c.Seen)), thousands(int64(n)))
		}
	}
	fmt.Fprintf(out, "\nblockpass: syncing %s simulated candidates over loopback into an empty database\n", thousands(int64(n)))
	for _, pass := range []string{"initial sync (all new)", "re-sync (all unchanged)"} {
		cpu0 := cpuTime()
		start := time.Now()
		counts, err := fl.SyncBlockpass(ctx, client, 0, progress)
		el := time.Since(start)
		cpu := cpuTime() - cpu0
		if err != nil {
			return fmt.Errorf("blockpass bench: %s: %w", pass, err)
		}
		if counts.Seen != n || counts.Failed != 0 {
			return fmt.Errorf("blockpass bench: %s saw %d of %d candidates, %d failed", pass, counts.Seen, n, counts.Failed)
		}
		fmt.Fprintf(out, "blockpass: %s: %s candidates in %s = %s candidates/s (new %d, unchanged %d; CPU %s per candidate, %.1f cores busy, simulator included); database %s\n",
			pass, thousands(int64(n)), el.Round(100*time.Millisecond), thousands(int64(float64(n)/el.Seconds())), counts.Created, counts.Unchanged,
			(cpu / time.Duration(n)).Round(time.Microsecond), cpu.Seconds()/el.Seconds(), fileSizes(path))
	}
	hwm, _ := procStatus("VmHWM")
	fmt.Fprintf(out, "blockpass: Go heap in use at most %.1f MiB; peak RSS %s during the sync (the process holds one page of candidates at a time)\n",
		float64(peakHeap)/(1<<20), kib(hwm))
	return nil
}
