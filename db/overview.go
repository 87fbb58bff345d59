package db

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// The overview never counts the big tables. At a million applicants a
// COUNT(*) GROUP BY status costs a full scan (hundreds of milliseconds) on
// every page load, so migration 004 keeps small aggregate tables instead:
// triggers on applicants, provider_links and verifications move a counter in
// the same transaction as each status change (a rollback undoes both, the
// seeder's bulk inserts are counted like any other insert, and writers we
// do not own cannot forget them). We chose counters over a TTL cache
// because they are exact at all times, cost one small indexed upsert per
// status change, and hold no process-local state a second instance would
// need. The overview then reads a few dozen rows: the status counters, the
// oldest queue entry from the queue's index, and a per-day histogram of
// decision times.

// StatusCount is how many things are in one status.
type StatusCount struct {
	Status string
	N      int64
}

// ProviderCounts are one provider's applicants by status, and its cases in
// the review queue.
type ProviderCounts struct {
	Provider string
	Total    int64
	ByStatus []StatusCount
	Waiting  int64
}

// ProviderDecisions are one provider's decisions over the period: a
// verification reaching approved or rejected, whether the provider or our
// reviewers decided.
type ProviderDecisions struct {
	Provider string
	Approved int64
	Rejected int64
	// Median time from the verification's start to its decision,
	// interpolated within the histogram bucket that holds the middle value
	// (buckets are fine where decisions cluster: minutes near a minute,
	// days near a day).
	Median time.Duration
}

// Decided is how many decisions the provider had.
func (p ProviderDecisions) Decided() int64 { return p.Approved + p.Rejected }

// ApprovalRate is approved / decided, 0 with no decisions.
func (p ProviderDecisions) ApprovalRate() float64 {
	if p.Decided() == 0 {
		return 0
	}
	return float64(p.Approved) / float64(p.Decided())
}

// Overview is the numbers on the start page.
type Overview struct {
	Total      int64
	ByStatus   []StatusCount
	ByProvider []ProviderCounts
	Queue      QueueCounts
	PeriodDays int
	Decisions  []ProviderDecisions
}

// decisionBuckets are the upper bounds of the time-to-decision buckets
// 0..13; bucket 14 is everything longer. They match the CASE expression in
// migrations/004_reviews.sql.
var decisionBuckets = []time.Duration{
	time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 48 * time.Hour, 96 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour,
	30 * 24 * time.Hour, 60 * 24 * time.Hour, 120 * 24 * time.Hour,
}

// lastBucketTop stands in for the open-ended last bucket when
// interpolating.
const lastBucketTop = 365 * 24 * time.Hour

const dayMillis = 24 * 3600 * 1000

// Overview reads the start page's numbers; periodDays (1 to 366) is the
// window for the decision statistics, ending today.
func (d *DB) Overview(ctx context.Context, periodDays int) (Overview, error) {
	if periodDays < 1 || periodDays > 366 {
		return Overview{}, fmt.Errorf("db: overview: period %d days: %w", periodDays, ErrInvalid)
	}
	o := Overview{PeriodDays: periodDays}
	rows, err := d.read.QueryContext(ctx, "SELECT status, n FROM stats_applicant_status WHERE n > 0")
	if err != nil {
		return o, fmt.Errorf("db: overview: %w", err)
	}
	for rows.Next() {
		var s StatusCount
		if err := rows.Scan(&s.Status, &s.N); err != nil {
			rows.Close()
			return o, fmt.Errorf("db: overview: %w", err)
		}
		o.ByStatus = append(o.ByStatus, s)
		o.Total += s.N
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return o, fmt.Errorf("db: overview: %w", err)
	}

	byProvider := map[string]*ProviderCounts{}
	provider := func(name string) *ProviderCounts {
		if p, ok := byProvider[name]; ok {
			return p
		}
		p := &ProviderCounts{Provider: name}
		byProvider[name] = p
		return p
	}
	rows, err = d.read.QueryContext(ctx, `SELECT 'link', provider, status, n FROM stats_provider_status WHERE n > 0
		UNION ALL SELECT 'queue', provider, state, n FROM stats_queue WHERE n > 0`)
	if err != nil {
		return o, fmt.Errorf("db: overview: %w", err)
	}
	for rows.Next() {
		var kind, name, status string
		var n int64
		if err := rows.Scan(&kind, &name, &status, &n); err != nil {
			rows.Close()
			return o, fmt.Errorf("db: overview: %w", err)
		}
		p := provider(name)
		if kind == "link" {
			p.ByStatus = append(p.ByStatus, StatusCount{Status: status, N: n})
			p.Total += n
		} else {
			p.Waiting += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return o, fmt.Errorf("db: overview: %w", err)
	}
	for _, p := range byProvider {
		o.ByProvider = append(o.ByProvider, *p)
	}
	sort.Slice(o.ByProvider, func(i, j int) bool { return o.ByProvider[i].Provider < o.ByProvider[j].Provider })
	for _, p := range o.ByProvider {
		sort.Slice(p.ByStatus, func(i, j int) bool { return p.ByStatus[i].Status < p.ByStatus[j].Status })
	}

	if o.Queue, err = d.CountQueue(ctx); err != nil {
		return o, err
	}
	if o.Decisions, err = d.decisionStats(ctx, periodDays); err != nil {
		return o, err
	}
	return o, nil
}

// decisionStats folds the per-day histograms of the period into per-
// provider approval rates and medians. The table is bounded by days,
// providers and buckets (at most 6,750 rows for 90 days), not by
// applicants: about 2 ms for the widest period, whatever the volume.
func (d *DB) decisionStats(ctx context.Context, periodDays int) ([]ProviderDecisions, error) {
	today := d.millis() / dayMillis
	rows, err := d.read.QueryContext(ctx, `SELECT provider, bucket, sum(approved), sum(rejected) FROM stats_decisions
		WHERE day > ? GROUP BY provider, bucket ORDER BY provider, bucket`, today-int64(periodDays))
	if err != nil {
		return nil, fmt.Errorf("db: decision stats: %w", err)
	}
	defer rows.Close()
	var out []ProviderDecisions
	var cur ProviderDecisions
	counts := make([]int64, len(decisionBuckets)+1)
	flush := func() {
		if cur.Decided() > 0 {
			cur.Median = medianFromBuckets(counts)
			out = append(out, cur)
		}
		clear(counts)
	}
	for rows.Next() {
		var name string
		var bucket int
		var approved, rejected int64
		if err := rows.Scan(&name, &bucket, &approved, &rejected); err != nil {
			return nil, fmt.Errorf("db: decision stats: %w", err)
		}
		if name != cur.Provider {
			flush()
			cur = ProviderDecisions{Provider: name}
		}
		cur.Approved += approved
		cur.Rejected += rejected
		if bucket >= 0 && bucket < len(counts) {
			counts[bucket] += approved + rejected
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: decision stats: %w", err)
	}
	flush()
	return out, nil
}

// medianFromBuckets finds the bucket holding the middle decision and
// interpolates linearly inside it.
func medianFromBuckets(counts []int64) time.Duration {
	var total int64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	half := float64(total) / 2
	var cum float64
	for b, c := range counts {
		if c == 0 {
			continue
		}
		if cum+float64(c) >= half {
			lo, hi := time.Duration(0), lastBucketTop
			if b > 0 {
				lo = decisionBuckets[b-1]
			}
			if b < len(decisionBuckets) {
				hi = decisionBuckets[b]
			}
			frac := (half - cum) / float64(c)
			return lo + time.Duration(frac*float64(hi-lo))
		}
		cum += float64(c)
	}
	return 0
}
