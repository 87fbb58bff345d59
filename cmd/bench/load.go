package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// load is one bounded run of the load generator: concurrency workers GET
// one URL over keep-alive connections until duration passes or requests
// were sent.
type load struct {
	url         string
	cookie      string
	concurrency int
	duration    time.Duration
	requests    int // 0: no bound but the duration
}

// loadResult is what one load run measured.
type loadResult struct {
	requests int
	errors   int // transport errors and non-200 answers
	bytes    int64
	elapsed  time.Duration
	p50, p99 time.Duration
	max      time.Duration
	lat      []time.Duration // every request's latency, sorted
}

// merge combines the results of several runs of the same scenario: the
// counts add up, the percentiles are over every request.
func merge(runs []loadResult) loadResult {
	var m loadResult
	for _, r := range runs {
		m.requests += r.requests
		m.errors += r.errors
		m.bytes += r.bytes
		m.elapsed += r.elapsed
		m.lat = append(m.lat, r.lat...)
	}
	slices.Sort(m.lat)
	m.setPercentiles()
	return m
}

func (r *loadResult) setPercentiles() {
	if len(r.lat) == 0 {
		return
	}
	r.p50 = r.lat[len(r.lat)*50/100]
	r.p99 = r.lat[min(len(r.lat)-1, len(r.lat)*99/100)]
	r.max = r.lat[len(r.lat)-1]
}

// perSecond is the throughput of successful requests.
func (r loadResult) perSecond() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests-r.errors) / r.elapsed.Seconds()
}

// newLoadClient is a client with enough idle connections that every worker
// keeps its own.
func newLoadClient(concurrency int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        concurrency * 2,
			MaxIdleConnsPerHost: concurrency * 2,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
}

func (l load) run(ctx context.Context, client *http.Client) loadResult {
	var (
		sent    atomic.Int64
		mu      sync.Mutex
		all     []time.Duration
		errs    int
		bytes   int64
		wg      sync.WaitGroup
		started = time.Now()
	)
	deadline := started.Add(l.duration)
	for range l.concurrency {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 4096)
			var werrs int
			var wbytes int64
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if l.requests > 0 && sent.Add(1) > int64(l.requests) {
					break
				}
				t0 := time.Now()
				n, ok := l.once(ctx, client)
				lat = append(lat, time.Since(t0))
				wbytes += n
				if !ok {
					werrs++
				}
			}
			mu.Lock()
			all = append(all, lat...)
			errs += werrs
			bytes += wbytes
			mu.Unlock()
		})
	}
	wg.Wait()
	r := loadResult{requests: len(all), errors: errs, bytes: bytes, elapsed: time.Since(started), lat: all}
	slices.Sort(r.lat)
	r.setPercentiles()
	return r
}

// once sends one request and reads the whole answer, as a browser would.
func (l load) once(ctx context.Context, client *http.Client) (int64, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.url, nil)
	if err != nil {
		return 0, false
	}
	if l.cookie != "" {
		req.Header.Set("Cookie", l.cookie)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, false
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return n, err == nil && resp.StatusCode == http.StatusOK
}
