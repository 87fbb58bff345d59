// Command bench measures KYC Desk at scale (`make bench`): it seeds a
// database with synthetic applicants, serves it in-process on loopback as
// cmd/kycdesk does, signs in, and loads the applicants list (filtered first
// page, a deep keyset page) and search with concurrent requests, beside a
// hello-world Go handler measured in the same run as the ceiling. It reports
// requests/s, p50/p99 latency, the ratio to the ceiling and the process's
// memory. It asserts nothing: figures are for people to read.
//
//	go run ./cmd/bench                                  # 1,000,000 applicants
//	go run ./cmd/bench -applicants 20000 -duration 3s   # a quick try
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/db/seal"
	"github.com/kycdesk/kycdesk/web/password"
)

// options are the command-line flags.
type options struct {
	applicants  int
	duration    time.Duration
	rounds      int
	warmup      time.Duration
	requests    int
	concurrency int
	depth       int
	filter      string
	query       string
	dbPath      string
	cpuProfile  string
	blockpass   int // candidates of the Blockpass sync scenario (cmd/bench/blockpass.go)
	archive     int // applicants for the archive throughput (cmd/bench/archive.go)
	seedOnly    bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var o options
	flag.IntVar(&o.applicants, "applicants", 1_000_000, "applicants to seed")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long each scenario runs, over all rounds")
	flag.IntVar(&o.rounds, "rounds", 3, "how many times the scenarios take turns, each for -duration/rounds: a scenario's share of the ceiling is its median over the rounds, each against the hello world of its own round, so the machine's speed drifting during the run cancels out")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load before each scenario in each round")
	flag.IntVar(&o.requests, "requests", 0, "stop each scenario after this many requests (0: only -duration bounds it)")
	flag.IntVar(&o.concurrency, "concurrency", 32, "concurrent clients")
	flag.IntVar(&o.depth, "depth", 200, "how many next-page links the deep-page scenario follows")
	flag.StringVar(&o.filter, "filter", "status=approved&provider=corepass", "the filtered list's query string")
	flag.StringVar(&o.query, "q", "Schmidt", "the search term (a family name every ~60th applicant has)")
	flag.StringVar(&o.dbPath, "db", "", "database file to use; seeded only when it has no applicants (default: a temporary one, removed at exit)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of each scenario to <this>-<scenario>.pprof")
	flag.IntVar(&o.blockpass, "blockpass-candidates", 100_000, "Blockpass candidates to sync from the simulator (0: skip)")
	flag.IntVar(&o.archive, "archive-applicants", 100_000, "applicants to seed with personal data and bulk-archive (0: skip)")
	flag.BoolVar(&o.seedOnly, "seed-only", false, "seed -db with -applicants and exit (the bench runs itself so, keeping the seeding's memory out of the server's RSS)")
	flag.Parse()
	run := bench
	if o.seedOnly {
		run = seedOnly
	}
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// scenario is one measured URL.
type scenario struct {
	key, name string
	url       string
	cookie    string
	result    loadResult   // all rounds merged
	rounds    []loadResult // each round
	ratios    []float64    // each round's req/s over that round's ceiling
	ratio     float64      // the median of ratios
	rssKiB    int64
	cpu       float64 // process CPU time over wall time: 2.0 is two cores busy
	cpuTime   time.Duration
}

// median is the middle value of xs, or the mean of the two middle ones.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 0 {
		return (sorted[mid-1] + sorted[mid]) / 2
	}
	return sorted[mid]
}

// ofCeiling is the scenario's share of the ceiling as a percentage.
func (s *scenario) ofCeiling() float64 { return 100 * s.ratio }

// settle merges the rounds and takes the ratios against the ceiling's
// rounds.
func (s *scenario) settle(ceiling *scenario) {
	s.result = merge(s.rounds)
	if s.result.elapsed > 0 {
		s.cpu = s.cpuTime.Seconds() / s.result.elapsed.Seconds()
	}
	s.ratios = s.ratios[:0]
	for i, r := range s.rounds {
		if c := ceiling.rounds[i].perSecond(); c > 0 {
			s.ratios = append(s.ratios, r.perSecond()/c)
		}
	}
	s.ratio = median(s.ratios)
	for i := range s.rounds {
		s.rounds[i].lat = nil // merged; the server's memory is measured in this process
	}
	s.result.lat = nil
}

func bench(ctx context.Context, o options, out io.Writer) error {
	if o.applicants <= 0 || o.concurrency <= 0 || o.duration <= 0 || o.rounds <= 0 {
		return errors.New("-applicants, -concurrency, -duration and -rounds must be positive")
	}
	if o.dbPath == "" {
		dir, err := os.MkdirTemp("", "kycdesk-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.dbPath = filepath.Join(dir, "bench.db")
	}
	fmt.Fprintf(out, "KYC Desk bench: %s applicants, %d concurrent clients, %s per scenario in %d rounds (each after %s warm-up), GOMAXPROCS=%d, %s %s/%s\n",
		thousands(int64(o.applicants)), o.concurrency, o.duration, o.rounds, o.warmup, runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)

	seedTook, err := seedInChild(ctx, o, out)
	if err != nil {
		return err
	}
	d, err := openBenchDB(ctx, o.dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	const email = "bench@kycdesk.test"
	pw := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := ensureAdmin(ctx, d, email, pw); err != nil {
		return err
	}

	// Measure the server from here on, not the seeding.
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()

	hello, err := listen(helloWorld)
	if err != nil {
		return err
	}
	defer hello.close()
	app, err := listen(func(u string) (http.Handler, error) { return appHandler(d, u) })
	if err != nil {
		return err
	}
	defer app.close()

	cookie, err := signIn(ctx, app.url, email, pw)
	if err != nil {
		return err
	}
	filtered := "/applicants?" + o.filter
	deep, depth, err := deepPage(ctx, app.url, filtered, cookie, o.depth)
	if err != nil {
		return err
	}
	search := "/applicants?q=" + url.QueryEscape(o.query)
	scenarios := []*scenario{
		{key: "ceiling", name: "hello world (ceiling)", url: hello.url + "/"},
		{key: "filtered", name: "list " + o.filter + ", first page", url: app.url + filtered, cookie: cookie},
		{key: "deep", name: fmt.Sprintf("list %s, page %d", o.filter, depth+1), url: app.url + deep, cookie: cookie},
		{key: "search", name: fmt.Sprintf("search q=%s", o.query), url: app.url + search, cookie: cookie},
	}
	if err := checkPages(ctx, app.url, cookie, scenarios[1:], out); err != nil {
		return err
	}
	reviews := reviewScenarios(app.url, cookie) // cmd/bench/reviews.go
	if err := checkReviewPages(ctx, app.url, reviews, out); err != nil {
		return err
	}
	scenarios = append(scenarios, reviews...)

	client := newLoadClient(o.concurrency)
	for round := range o.rounds {
		for _, s := range scenarios {
			// Each round warms up afresh: another page ran just before.
			l := load{url: s.url, cookie: s.cookie, concurrency: o.concurrency, duration: o.warmup}
			l.run(ctx, client)
			l.duration, l.requests = o.duration/time.Duration(o.rounds), o.requests/o.rounds
			if o.requests > 0 {
				l.requests = max(1, l.requests)
			}
			stopProfile := func() {}
			if round == 0 { // one profile per scenario: the first round's
				var err error
				if stopProfile, err = startProfile(o.cpuProfile, s.key); err != nil {
					return err
				}
			}
			cpu0 := cpuTime()
			s.rounds = append(s.rounds, l.run(ctx, client))
			s.cpuTime += cpuTime() - cpu0
			stopProfile()
			s.rssKiB, _ = procStatus("VmRSS")
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	for _, s := range scenarios {
		s.settle(scenarios[0])
	}
	report(out, scenarios, o.applicants, seedTook)
	reportReviews(out, reviews)
	if err := benchBlockpass(ctx, o.blockpass, out); err != nil {
		return err
	}
	return benchArchive(ctx, o.archive, out)
}

// seedInChild seeds the database in a child process (this program with
// -seed-only): a bulk seed's page cache stays in the process's memory after
// it is freed, and the server's RSS is reported. It returns how long the
// child took, or 0 when the database already had applicants (the child then
// seeds nothing).
func seedInChild(ctx context.Context, o options, out io.Writer) (time.Duration, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	had, _ := tableRows(ctx, o.dbPath, "applicants") // no file or no table yet: none
	cmd := exec.CommandContext(ctx, exe, "-seed-only", "-db", o.dbPath, "-applicants", strconv.Itoa(o.applicants))
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	if had > 0 {
		return 0, nil
	}
	return time.Since(start), nil
}

// seedOnly is -seed-only: open the database and seed it.
func seedOnly(ctx context.Context, o options, out io.Writer) error {
	d, err := openBenchDB(ctx, o.dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	return seed(ctx, d, o, out)
}

// openBenchDB opens the bench database under a throwaway KEK: the bench
// stores no personal data, so no process needs another's key.
func openBenchDB(ctx context.Context, path string) (*db.DB, error) {
	kek, err := seal.NewKEK(seal.NewKey())
	if err != nil {
		return nil, err
	}
	return db.Open(ctx, path, db.Options{KEK: kek})
}

// seed fills an empty database through db.Seed and reports the rate.
func seed(ctx context.Context, d *db.DB, o options, out io.Writer) error {
	page, err := d.ListApplicants(ctx, db.ApplicantFilter{Limit: 1})
	if err != nil {
		return err
	}
	if len(page.Rows) > 0 {
		fmt.Fprintf(out, "seed: skipped, %s already has applicants\n", o.dbPath)
		return nil
	}
	defer db.SeedGC()() // as `kycdesk seed` does
	start := time.Now()
	err = d.Seed(ctx, db.SeedOptions{N: o.applicants, Seed: 1, Progress: func(done int) {
		if done%200_000 == 0 && done < o.applicants {
			fmt.Fprintf(out, "  seeded %s…\n", thousands(int64(done)))
		}
	}})
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(out, "seed: %s applicants (with provider link, verification, timeline and data key each) in %s = %s applicants/s; database %s\n",
		thousands(int64(o.applicants)), el.Round(100*time.Millisecond), thousands(int64(float64(o.applicants)/el.Seconds())), fileSizes(o.dbPath))
	rows, err := tableRows(ctx, o.dbPath, "applicants", "data_keys", "provider_links", "verifications", "verification_events")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seed: that is %s table rows (%s rows/s), besides their secondary indexes and the search index\n",
		thousands(rows), thousands(int64(float64(rows)/el.Seconds())))
	return nil
}

// tableRows counts the rows of tables in the database file, read-only.
func tableRows(ctx context.Context, path string, tables ...string) (int64, error) {
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, fmt.Errorf("count rows: %w", err)
	}
	defer conn.Close()
	var total int64
	for _, t := range tables {
		var n int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return 0, fmt.Errorf("count rows of %s: %w", t, err)
		}
		total += n
	}
	return total, nil
}

func ensureAdmin(ctx context.Context, d *db.DB, email, pw string) error {
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	u, err := d.UserByEmail(ctx, email)
	switch {
	case err == nil:
		return d.SetPassword(ctx, u.ID, hash)
	case errors.Is(err, db.ErrNotFound):
		_, err = d.CreateUser(ctx, email, "admin", hash, db.AuditEntry{Actor: "bench"})
		return err
	default:
		return err
	}
}

// checkPages fetches each scenario once and says what it serves, so a
// figure is never read off an error page or an empty list.
func checkPages(ctx context.Context, base, cookie string, scenarios []*scenario, out io.Writer) error {
	c := newLoadClient(1)
	for _, s := range scenarios {
		start := time.Now()
		doc, status, err := getPage(ctx, c, s.url, cookie)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if status != 200 || rowCount(doc) == 0 {
			return fmt.Errorf("%s: %s answered %d with %d rows; nothing to measure", s.name, strings.TrimPrefix(s.url, base), status, rowCount(doc))
		}
		fmt.Fprintf(out, "page: %-45s %2d rows, first fetch %s  %s\n", s.name, rowCount(doc), time.Since(start).Round(10*time.Microsecond), strings.TrimPrefix(s.url, base))
	}
	return nil
}

func report(out io.Writer, scenarios []*scenario, applicants int, seedTook time.Duration) {
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trequests\treq/s\tof ceiling\tp50\tp99\tmax\tavg size\tCPU/req\tCPU busy\terrors\tRSS after\t")
	for _, s := range scenarios {
		r := s.result
		var size int64
		var cpuPerReq time.Duration
		if r.requests > 0 {
			size = r.bytes / int64(r.requests)
			cpuPerReq = time.Duration(s.cpu * float64(r.elapsed) / float64(r.requests))
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.1f%%\t%s\t%s\t%s\t%s\t%d µs\t%.2f\t%d\t%s\t\n", s.name, r.requests, r.perSecond(),
			s.ofCeiling(), ms(r.p50), ms(r.p99), ms(r.max), byteSize(size), cpuPerReq.Microseconds(), s.cpu, r.errors, kib(s.rssKiB))
	}
	tw.Flush()
	rss, _ := procStatus("VmRSS")
	hwm, _ := procStatus("VmHWM")
	fmt.Fprintf(out, "\n\"of ceiling\" is the median over the rounds of each round's req/s over that round's hello world (per round: %s).\n", roundRatios(scenarios))
	fmt.Fprintf(out, "CPU/req and CPU busy count the whole process (server and load generator; %d CPUs): CPU busy 2.00 is two cores busy.\n", runtime.NumCPU())
	fmt.Fprintf(out, "server memory (in-process, with the load generator): VmRSS %s now, VmHWM %s peak since seeding\n", kib(rss), kib(hwm))

	f, deep, search := scenarios[1], scenarios[2], scenarios[3]
	fmt.Fprintln(out, "targets at 1M applicants (reported, not asserted):")
	fmt.Fprintf(out, "  filtered list, first page >= 10%% of ceiling (stretch 25%%), p99 <= 50 ms: %.1f%%, p99 %s  %s\n",
		f.ofCeiling(), ms(f.result.p99), verdict(f.ratio >= 0.10 && f.result.p99 <= 50*time.Millisecond))
	fmt.Fprintf(out, "  filtered list, deep page (same targets):                               %.1f%%, p99 %s  %s\n",
		deep.ofCeiling(), ms(deep.result.p99), verdict(deep.ratio >= 0.10 && deep.result.p99 <= 50*time.Millisecond))
	fmt.Fprintf(out, "  search p99 <= 50 ms:                                                   p99 %s  %s\n", ms(search.result.p99), verdict(search.result.p99 <= 50*time.Millisecond))
	if seedTook > 0 && applicants == 1_000_000 {
		fmt.Fprintf(out, "  seed 1,000,000 applicants in well under a minute (< 60 s; child process, start to exit): %s  %s\n",
			seedTook.Round(100*time.Millisecond), verdict(seedTook < time.Minute))
	}
}

// roundRatios lists each scenario's per-round shares of the ceiling.
func roundRatios(scenarios []*scenario) string {
	var parts []string
	for _, s := range scenarios[1:] {
		var rs []string
		for _, r := range s.ratios {
			rs = append(rs, fmt.Sprintf("%.1f%%", 100*r))
		}
		parts = append(parts, s.key+" "+strings.Join(rs, "/"))
	}
	return strings.Join(parts, ", ")
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func kib(k int64) string {
	switch {
	case k >= 1024*1024:
		return fmt.Sprintf("%.2f GiB", float64(k)/(1024*1024))
	case k >= 1024:
		return fmt.Sprintf("%.1f MiB", float64(k)/1024)
	}
	return fmt.Sprintf("%d KiB", k)
}

func byteSize(n int64) string {
	if n >= 1024 {
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%d B", n)
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// fileSizes is the size of the database with its WAL.
func fileSizes(path string) string {
	var total int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			total += fi.Size()
		}
	}
	return kib(total / 1024)
}

// procStatus reads one kB figure (VmRSS, VmHWM) of this process from
// /proc/self/status.
func procStatus(field string) (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, rest, ok := strings.Cut(line, ":"); ok && name == field {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s not in /proc/self/status", field)
}

// cpuTime is the CPU time this process used so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS restarts VmHWM from the current RSS (Linux: writing 5 to
// clear_refs), so the peak is the server's and not the seeding's.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func startProfile(prefix, key string) (func(), error) {
	if prefix == "" {
		return func() {}, nil
	}
	f, err := os.Create(prefix + "-" + key + ".pprof")
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
