package db

import (
	"context"
	"testing"
	"time"
)

// TestCountersMatchTheTables seeds, changes statuses every way the app does
// (provider updates, review decisions) and compares every aggregate with a
// real COUNT over its table.
func TestCountersMatchTheTables(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	if err := f.d.Seed(ctx, SeedOptions{N: 600, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	v := f.inReview("Counted Person", "corepass")
	p := f.propose(v, f.maker, DecisionApprove, f.approveReason)
	if _, err := f.d.Decide(ctx, DecisionInput{ProposalID: p.ID, By: f.checker.ID, Confirm: true}, AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	page, _ := f.d.ListQueue(ctx, QueueFilter{Limit: 5})
	for _, it := range page.Rows {
		if err := f.d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: it.VerificationID, Source: "webhook", Status: "rejected"}); err != nil {
			t.Fatal(err)
		}
	}
	checks := []struct {
		name, counter, truth string
	}{
		{"applicants by status", "SELECT status, n FROM stats_applicant_status WHERE n > 0 ORDER BY 1",
			"SELECT status, count(*) FROM applicants GROUP BY status ORDER BY 1"},
		{"provider links by provider and status", "SELECT provider || '/' || status, n FROM stats_provider_status WHERE n > 0 ORDER BY 1",
			"SELECT provider || '/' || status, count(*) FROM provider_links GROUP BY provider, status ORDER BY 1"},
		{"verifications by provider and status", "SELECT provider || '/' || status, n FROM stats_verification_status WHERE n > 0 ORDER BY 1",
			"SELECT provider || '/' || status, count(*) FROM verifications GROUP BY provider, status ORDER BY 1"},
		{"queue", "SELECT 'q', count(*) FROM review_queue", "SELECT 'q', count(*) FROM verifications WHERE status = 'needs_review'"},
		{"queue by provider and state", "SELECT provider || '/' || state, n FROM stats_queue WHERE n > 0 ORDER BY 1",
			"SELECT provider || '/' || state, count(*) FROM review_queue GROUP BY provider, state ORDER BY 1"},
		{"decisions", "SELECT provider, sum(approved) || '/' || sum(rejected) FROM stats_decisions GROUP BY provider ORDER BY 1",
			"SELECT provider, sum(status = 'approved') || '/' || sum(status = 'rejected') FROM verifications WHERE status IN ('approved','rejected') GROUP BY provider ORDER BY 1"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			got, want := f.pairs(c.counter), f.pairs(c.truth)
			if len(want) == 0 {
				t.Fatal("the fixture has nothing to count")
			}
			if len(got) != len(want) {
				t.Fatalf("counter %v, table %v", got, want)
			}
			for k, n := range want {
				if got[k] != n {
					t.Fatalf("%s: counter %s, table %s", k, got[k], n)
				}
			}
		})
	}
	o, err := f.d.Overview(ctx, 90)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	f.d.read.QueryRowContext(ctx, "SELECT count(*) FROM applicants").Scan(&total)
	if o.Total != total || len(o.ByProvider) != 5 {
		t.Fatalf("overview total %d (want %d), %d providers", o.Total, total, len(o.ByProvider))
	}
	var waiting int64
	for _, p := range o.ByProvider {
		waiting += p.Waiting
	}
	if waiting != o.Queue.Open+o.Queue.Proposed || o.Queue.OldestOpen.IsZero() {
		t.Fatalf("queue %+v vs waiting per provider %d", o.Queue, waiting)
	}
	if len(o.Decisions) == 0 {
		t.Fatal("no decision statistics over 90 days of seeded data")
	}
}

func (f *reviewFixture) pairs(q string) map[string]string {
	f.t.Helper()
	rows, err := f.d.read.QueryContext(context.Background(), q)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			f.t.Fatal(err)
		}
		out[k] = v
	}
	return out
}

func TestDecisionStatsPerPeriod(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	// Three corepass decisions today taking 10 min, 2 h and 3 days (one
	// rejected), one idfy approval 40 days ago.
	mk := func(provider, status string, started, decided time.Time) {
		a, _ := f.d.CreateApplicant(ctx, NewApplicant{Name: "Stat"}, AuditEntry{})
		*f.now = started
		v, err := f.d.StartVerification(ctx, NewVerification{ApplicantID: a.ID, Provider: provider, Reference: "r" + started.String(), Status: "in_progress"}, AuditEntry{})
		if err != nil {
			t.Fatal(err)
		}
		*f.now = decided
		if err := f.d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: v.ID, Source: "webhook", Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	today := t0.Add(10 * time.Hour)
	mk("corepass", "approved", today.Add(-10*time.Minute), today)
	mk("corepass", "approved", today.Add(-2*time.Hour), today)
	mk("corepass", "rejected", today.Add(-72*time.Hour), today)
	mk("idfy", "approved", today.Add(-40*24*time.Hour-time.Hour), today.Add(-40*24*time.Hour))
	*f.now = today

	o7, err := f.d.Overview(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(o7.Decisions) != 1 || o7.Decisions[0].Provider != "corepass" {
		t.Fatalf("7-day decisions = %+v", o7.Decisions)
	}
	cp := o7.Decisions[0]
	if cp.Approved != 2 || cp.Rejected != 1 || cp.ApprovalRate() < 0.66 || cp.ApprovalRate() > 0.67 {
		t.Fatalf("corepass = %+v rate %f", cp, cp.ApprovalRate())
	}
	// The middle decision took 2 h; the histogram places it in (1 h, 4 h].
	if cp.Median <= time.Hour || cp.Median > 4*time.Hour {
		t.Fatalf("median %s, want within the 1-4 h bucket", cp.Median)
	}
	o90, _ := f.d.Overview(ctx, 90)
	if len(o90.Decisions) != 2 || o90.Decisions[1].Provider != "idfy" || o90.Decisions[1].Approved != 1 {
		t.Fatalf("90-day decisions = %+v", o90.Decisions)
	}
	if _, err := f.d.Overview(ctx, 0); err == nil {
		t.Fatal("a zero-day period was accepted")
	}
}

func TestMedianFromBuckets(t *testing.T) {
	counts := make([]int64, 15)
	if medianFromBuckets(counts) != 0 {
		t.Fatal("median of nothing")
	}
	counts[3] = 4 // all in (15 min, 1 h]
	if got := medianFromBuckets(counts); got != 15*time.Minute+time.Duration(0.5*float64(45*time.Minute)) {
		t.Fatalf("median = %s", got)
	}
	counts[14] = 100
	if got := medianFromBuckets(counts); got <= 120*24*time.Hour {
		t.Fatalf("median = %s, want in the open last bucket", got)
	}
}
