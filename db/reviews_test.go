package db

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// reviewFixture is a database with a maker, a second maker, a checker and
// helpers to put verifications into review.
type reviewFixture struct {
	t                       *testing.T
	d                       *DB
	now                     *time.Time
	maker, maker2, checker  User
	approveReason, rejectID int64
}

func newReviewFixture(t *testing.T) *reviewFixture {
	t.Helper()
	d := openTest(t, t0)
	now := t0
	d.now = func() time.Time { return now }
	f := &reviewFixture{t: t, d: d, now: &now}
	ctx := context.Background()
	var err error
	for _, u := range []struct {
		dst  *User
		mail string
		role string
	}{{&f.maker, "maker@example.com", "maker"}, {&f.maker2, "maker2@example.com", "maker"}, {&f.checker, "checker@example.com", "checker"}} {
		if *u.dst, err = d.CreateUser(ctx, u.mail, u.role, "x", AuditEntry{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	reasons, err := d.Reasons(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reasons {
		if r.Decision == DecisionApprove && !r.RequiresNote && f.approveReason == 0 {
			f.approveReason = r.ID
		}
		if r.Decision == DecisionReject && !r.RequiresNote && f.rejectID == 0 {
			f.rejectID = r.ID
		}
	}
	if f.approveReason == 0 || f.rejectID == 0 {
		t.Fatal("the seeded reason list lacks approve/reject reasons")
	}
	return f
}

func (f *reviewFixture) advance(d time.Duration) { *f.now = f.now.Add(d) }

// inReview creates an applicant with a verification waiting for review and
// one attribute of evidence.
func (f *reviewFixture) inReview(name, provider string) Verification {
	f.t.Helper()
	ctx := context.Background()
	a, err := f.d.CreateApplicant(ctx, NewApplicant{Name: name}, AuditEntry{Actor: "test"})
	if err != nil {
		f.t.Fatal(err)
	}
	v, err := f.d.StartVerification(ctx, NewVerification{ApplicantID: a.ID, Provider: provider, Reference: "ref-" + name,
		Status: "in_progress", ProviderStatus: "waiting"}, AuditEntry{Actor: "test"})
	if err != nil {
		f.t.Fatal(err)
	}
	f.advance(time.Second)
	if err := f.d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: v.ID, Source: "webhook", Status: "needs_review", ProviderStatus: "inreview",
		Attributes: []AttributeInput{{Provider: provider, Meaning: "full_name", Name: "name", Value: name}}}); err != nil {
		f.t.Fatal(err)
	}
	f.advance(time.Second)
	return v
}

func (f *reviewFixture) propose(v Verification, by User, decision string, reason int64) Proposal {
	f.t.Helper()
	ctx := context.Background()
	ev, err := f.d.EvidenceFor(ctx, v.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := f.d.Propose(ctx, NewProposal{VerificationID: v.ID, Decision: decision, ReasonID: reason, SeenDigest: ev.Digest, By: by.ID},
		AuditEntry{ActorID: by.ID, Actor: by.Email})
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func TestQueueFollowsVerificationStatus(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	v := f.inReview("Queue Person", "blockpass")
	it, err := f.d.QueueEntry(ctx, v.ID)
	if err != nil {
		t.Fatalf("a verification in needs_review is not queued: %v", err)
	}
	if it.State != QueueOpen || it.Provider != "blockpass" || it.Name != "Queue Person" || it.ProviderStatus != "inreview" {
		t.Fatalf("queue item = %+v", it)
	}
	// The queue keeps the provider status (migration 014): a change while
	// the verification waits shows in the queue.
	if err := f.d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: v.ID, Source: "webhook", Status: "needs_review", ProviderStatus: "review_requested"}); err != nil {
		t.Fatal(err)
	}
	if it, err := f.d.QueueEntry(ctx, v.ID); err != nil || it.ProviderStatus != "review_requested" {
		t.Fatalf("after a provider status change in review: queue item %+v (%v), want provider status review_requested", it, err)
	}
	if err := f.d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: v.ID, Source: "webhook", Status: "approved", ProviderStatus: "approved"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.QueueEntry(ctx, v.ID); !errors.Is(err, ErrNotInReview) {
		t.Fatalf("an approved verification is still queued (err %v)", err)
	}
}

func TestClaimNextRaceClaimsEachCaseOnce(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	const cases, reviewers = 12, 30
	for i := 0; i < cases; i++ {
		f.inReview(fmt.Sprintf("Race %02d", i), "idfy")
	}
	var users []User
	for i := 0; i < reviewers; i++ {
		u, err := f.d.CreateUser(ctx, fmt.Sprintf("m%02d@example.com", i), "maker", "x", AuditEntry{})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	var mu sync.Mutex
	got := map[int64]int64{} // verification -> user
	misses := 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, u := range users {
		wg.Add(1)
		go func(u User) {
			defer wg.Done()
			<-start
			it, err := f.d.ClaimNext(ctx, u.ID, "", AuditEntry{ActorID: u.ID, Actor: u.Email})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrNotFound):
				misses++
			case err != nil:
				t.Errorf("claim next: %v", err)
			default:
				if prev, dup := got[it.VerificationID]; dup {
					t.Errorf("case %d given to user %d and user %d", it.VerificationID, prev, u.ID)
				}
				got[it.VerificationID] = u.ID
				if it.ClaimedBy != u.ID {
					t.Errorf("case %d reports claimer %d, want %d", it.VerificationID, it.ClaimedBy, u.ID)
				}
			}
		}(u)
	}
	close(start)
	wg.Wait()
	if len(got) != cases || misses != reviewers-cases {
		t.Fatalf("%d cases claimed and %d callers sent away; want %d and %d", len(got), misses, cases, reviewers-cases)
	}
	claims, _ := f.d.ListAudit(ctx, AuditFilter{Action: "review.claim", Limit: 100})
	if len(claims) != cases {
		t.Fatalf("%d claim audit entries, want %d", len(claims), cases)
	}
}

func TestClaimsExpireAndAreKept(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	v := f.inReview("Expiry Person", "corepass")
	it, err := f.d.ClaimNext(ctx, f.maker.ID, "", AuditEntry{})
	if err != nil || it.VerificationID != v.ID {
		t.Fatalf("claim next = %+v, %v", it, err)
	}
	again, err := f.d.ClaimNext(ctx, f.maker.ID, "", AuditEntry{})
	if err != nil || again.VerificationID != v.ID {
		t.Fatalf("a reviewer's second 'next case' did not return the case they hold: %+v, %v", again, err)
	}
	if _, err := f.d.ClaimNext(ctx, f.maker2.ID, "", AuditEntry{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a claimed case was handed to a second maker (err %v)", err)
	}
	if err := f.d.Claim(ctx, v.ID, f.maker2.ID, AuditEntry{}); !errors.Is(err, ErrClaimed) {
		t.Fatalf("claiming a live claim: err %v, want ErrClaimed", err)
	}
	f.advance(DefaultClaimTTL + time.Second)
	it, err = f.d.ClaimNext(ctx, f.maker2.ID, "", AuditEntry{})
	if err != nil || it.VerificationID != v.ID || it.ClaimedBy != f.maker2.ID {
		t.Fatalf("an expired claim was not given up: %+v, %v", it, err)
	}

	if err := f.d.SetReviewSettings(ctx, ReviewSettings{ClaimTTL: 5 * time.Minute}, AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	f.advance(DefaultClaimTTL + time.Second)
	it, _ = f.d.ClaimNext(ctx, f.maker.ID, "", AuditEntry{})
	if got := it.ClaimExpiresAt.Sub(*f.now); got != 5*time.Minute {
		t.Fatalf("claim lasts %s, want the configured 5m", got)
	}
	if err := f.d.SetReviewSettings(ctx, ReviewSettings{ClaimTTL: time.Second}, AuditEntry{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a 1 s claim TTL was accepted (err %v)", err)
	}
}

func TestProposeChecks(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	v := f.inReview("Propose Person", "blockpass")
	ev, _ := f.d.EvidenceFor(ctx, v.ID)
	base := NewProposal{VerificationID: v.ID, Decision: DecisionApprove, ReasonID: f.approveReason, SeenDigest: ev.Digest, By: f.maker.ID}
	if err := f.d.Claim(ctx, v.ID, f.maker2.ID, AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(p *NewProposal)
		want error
	}{
		{"claimed by someone else", func(p *NewProposal) {}, ErrClaimed},
		{"reason of another decision", func(p *NewProposal) { p.By = f.maker2.ID; p.ReasonID = f.rejectID }, ErrInvalid},
		{"unknown decision", func(p *NewProposal) { p.By = f.maker2.ID; p.Decision = "wave_through" }, ErrInvalid},
		{"evidence seen is not the evidence now", func(p *NewProposal) { p.By = f.maker2.ID; p.SeenDigest = strings.Repeat("0", 64) }, ErrEvidenceChanged},
		{"not in review", func(p *NewProposal) { p.By = f.maker2.ID; p.VerificationID = v.ID + 100 }, ErrNotInReview},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := base
			tc.edit(&p)
			if _, err := f.d.Propose(ctx, p, AuditEntry{}); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	p := base
	p.By = f.maker2.ID
	prop, err := f.d.Propose(ctx, p, AuditEntry{Actor: f.maker2.Email})
	if err != nil {
		t.Fatal(err)
	}
	if prop.State != ProposalPending || prop.Evidence.Digest != ev.Digest || prop.Evidence.Attributes.N != 1 {
		t.Fatalf("proposal = %+v", prop)
	}
	it, _ := f.d.QueueEntry(ctx, v.ID)
	if it.State != QueueProposed || it.ClaimedBy != 0 {
		t.Fatalf("after a proposal the case is %s, claimed by %d", it.State, it.ClaimedBy)
	}
	if _, err := f.d.Propose(ctx, p, AuditEntry{}); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second proposal on the same case: err %v, want ErrConflict", err)
	}
	if a, _ := f.d.ListAudit(ctx, AuditFilter{Action: "review.propose"}); len(a) != 1 {
		t.Fatalf("%d propose audit entries", len(a))
	}
}

func TestDecisionByProposerRefusedInTheDatabase(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	v := f.inReview("Self Approver", "selfkey")
	p := f.propose(v, f.maker, DecisionApprove, f.approveReason)

	if _, err := f.d.Decide(ctx, DecisionInput{ProposalID: p.ID, By: f.maker.ID, Confirm: true}, AuditEntry{}); !errors.Is(err, ErrSelfDecision) {
		t.Fatalf("self-decision through Decide: err %v, want ErrSelfDecision", err)
	}
	direct := []struct {
		name string
		sql  string
		args []any
	}{
		{"insert a decision by the proposer", `INSERT INTO review_decisions(proposal_id, verification_id, applicant_id, outcome, proposed_by, decided_by, evidence_digest, decided_at)
			VALUES (?, ?, ?, 'approve', ?, ?, 'x', 0)`, []any{p.ID, v.ID, v.ApplicantID, f.maker.ID, f.maker.ID}},
		{"insert a decision that lies about the proposer", `INSERT INTO review_decisions(proposal_id, verification_id, applicant_id, outcome, proposed_by, decided_by, evidence_digest, decided_at)
			VALUES (?, ?, ?, 'approve', ?, ?, 'x', 0)`, []any{p.ID, v.ID, v.ApplicantID, f.checker.ID, f.maker.ID}},
		{"close the proposal as decided by its maker", `UPDATE review_proposals SET state = 'decided', closed_by = proposed_by, closed_at = 1 WHERE id = ?`, []any{p.ID}},
		{"rewrite the proposal's maker", `UPDATE review_proposals SET proposed_by = ? WHERE id = ?`, []any{f.checker.ID, p.ID}},
		{"delete the proposal", `DELETE FROM review_proposals WHERE id = ?`, []any{p.ID}},
	}
	for _, tc := range direct {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.d.write.ExecContext(ctx, tc.sql, tc.args...); err == nil {
				t.Fatal("the database accepted it")
			}
		})
	}
	got, _ := f.d.Verification(ctx, v.ID)
	pp, _ := f.d.Proposal(ctx, p.ID)
	if got.Status != "needs_review" || pp.State != ProposalPending {
		t.Fatalf("after refused self-decisions: verification %s, proposal %s", got.Status, pp.State)
	}
	if a, _ := f.d.ListAudit(ctx, AuditFilter{Action: "review.decide"}); len(a) != 0 {
		t.Fatal("a refused decision left an audit entry")
	}
}

func TestDecisionAfterEvidenceChangedGoesBackToMaker(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	v := f.inReview("Moving Evidence", "corepass")
	p := f.propose(v, f.maker, DecisionApprove, f.approveReason)
	f.advance(time.Minute)
	if err := f.d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: v.ID, Source: "callback", ProviderStatus: "FINISH_SUCCESS",
		Attributes: []AttributeInput{{Provider: "corepass", Meaning: "date_of_birth", Name: "dob", Value: "1980-01-01"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := f.d.Decide(ctx, DecisionInput{ProposalID: p.ID, By: f.checker.ID, Confirm: true}, AuditEntry{Actor: f.checker.Email})
	if !errors.Is(err, ErrEvidenceChanged) {
		t.Fatalf("decide after new data: err %v, want ErrEvidenceChanged", err)
	}
	if got.State != ProposalReturned || !strings.Contains(got.CloseNote, "1 new attribute") || !strings.Contains(got.CloseNote, "provider status inreview → FINISH_SUCCESS") {
		t.Fatalf("returned proposal = %+v", got)
	}
	ver, _ := f.d.Verification(ctx, v.ID)
	if ver.Status != "needs_review" {
		t.Fatalf("verification moved to %s on stale evidence", ver.Status)
	}
	it, _ := f.d.QueueEntry(ctx, v.ID)
	if it.State != QueueOpen || it.ClaimedBy != f.maker.ID || !it.ClaimedAt(*f.now) {
		t.Fatalf("case did not go back to its maker: %+v", it)
	}
	tl, _ := f.d.Timeline(ctx, v.ApplicantID, 10)
	if !strings.Contains(tl[0].Detail, "returned the case to maker@example.com") {
		t.Fatalf("timeline top = %q", tl[0].Detail)
	}
	// The maker proposes again on the new evidence; now it goes through.
	p2 := f.propose(v, f.maker, DecisionApprove, f.approveReason)
	if _, err := f.d.Decide(ctx, DecisionInput{ProposalID: p2.ID, By: f.checker.ID, Confirm: true}, AuditEntry{}); err != nil {
		t.Fatal(err)
	}
}

func TestConfirmedDecisionMovesStatusesAndNamesBoth(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		decision, status string
	}{{DecisionApprove, "approved"}, {DecisionReject, "rejected"}, {DecisionRequestMore, "in_progress"}} {
		t.Run(tc.decision, func(t *testing.T) {
			v := f.inReview("Decided "+tc.decision, "idfy")
			reasons, _ := f.d.Reasons(ctx, false)
			var reason int64
			for _, r := range reasons {
				if r.Decision == tc.decision && !r.RequiresNote {
					reason = r.ID
					break
				}
			}
			p := f.propose(v, f.maker, tc.decision, reason)
			got, err := f.d.Decide(ctx, DecisionInput{ProposalID: p.ID, By: f.checker.ID, Confirm: true}, AuditEntry{Actor: f.checker.Email})
			if err != nil {
				t.Fatal(err)
			}
			if got.State != ProposalDecided || got.Outcome() != tc.decision || got.Closer != f.checker.Email {
				t.Fatalf("proposal = %+v", got)
			}
			ver, _ := f.d.Verification(ctx, v.ID)
			a, _ := f.d.Applicant(ctx, v.ApplicantID)
			if ver.Status != tc.status || a.Status != tc.status {
				t.Fatalf("verification %s, applicant %s; want %s", ver.Status, a.Status, tc.status)
			}
			tl, _ := f.d.Timeline(ctx, v.ApplicantID, 1)
			if tl[0].Source != "staff" || !strings.Contains(tl[0].Detail, "checker@example.com") || !strings.Contains(tl[0].Detail, "maker@example.com") {
				t.Fatalf("decision event = %+v", tl[0])
			}
			if _, err := f.d.QueueEntry(ctx, v.ID); !errors.Is(err, ErrNotInReview) {
				t.Fatal("a decided case stayed in the queue")
			}
			if _, err := f.d.Decide(ctx, DecisionInput{ProposalID: p.ID, By: f.checker.ID, Confirm: true}, AuditEntry{}); !errors.Is(err, ErrConflict) {
				t.Fatalf("deciding twice: err %v", err)
			}
		})
	}
	if a, _ := f.d.ListAudit(ctx, AuditFilter{Action: "review.decide"}); len(a) != 3 {
		t.Fatalf("%d decide audit entries, want 3", len(a))
	}
}

func TestCheckerReturnNeedsANote(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	v := f.inReview("Returned Person", "verifyyou")
	p := f.propose(v, f.maker, DecisionReject, f.rejectID)
	if _, err := f.d.Decide(ctx, DecisionInput{ProposalID: p.ID, By: f.checker.ID}, AuditEntry{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("return without a note: err %v", err)
	}
	got, err := f.d.Decide(ctx, DecisionInput{ProposalID: p.ID, By: f.checker.ID, Note: "The document photo is fine; look again."}, AuditEntry{})
	if err != nil || got.State != ProposalReturned {
		t.Fatalf("return = %+v, %v", got, err)
	}
	if a, _ := f.d.ListAudit(ctx, AuditFilter{Action: "review.return"}); len(a) != 1 {
		t.Fatal("no audit entry for the return")
	}
}

func TestProviderDecidingFirstSupersedesProposal(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	v := f.inReview("Provider First", "blockpass")
	p := f.propose(v, f.maker, DecisionApprove, f.approveReason)
	if err := f.d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: v.ID, Source: "webhook", Status: "rejected", ProviderStatus: "rejected"}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.d.Proposal(ctx, p.ID)
	if got.State != ProposalSuperseded {
		t.Fatalf("proposal state %s, want superseded", got.State)
	}
	if _, err := f.d.Decide(ctx, DecisionInput{ProposalID: p.ID, By: f.checker.ID, Confirm: true}, AuditEntry{}); !errors.Is(err, ErrConflict) {
		t.Fatalf("deciding a superseded proposal: err %v", err)
	}
}

func TestEvidenceDigestIgnoresStaffActions(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	v := f.inReview("Digest Person", "idfy")
	before, _ := f.d.EvidenceFor(ctx, v.ID)
	if _, err := f.d.AddNote(ctx, v.ApplicantID, f.maker.ID, "looked at it", AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	f.d.ClaimNext(ctx, f.maker.ID, "", AuditEntry{})
	same, _ := f.d.EvidenceFor(ctx, v.ID)
	if same.Digest != before.Digest {
		t.Fatal("a note or a claim changed the evidence digest")
	}
	if err := f.d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: v.ID, Source: "poll", Certificates: []CertificateInput{{Provider: "idfy", Name: "profile", Value: "p-1"}}}); err != nil {
		t.Fatal(err)
	}
	after, _ := f.d.EvidenceFor(ctx, v.ID)
	if after.Digest == before.Digest || len(after.Digest) != 64 {
		t.Fatal("a new certificate and event did not change the evidence digest")
	}
	if got := after.ChangesSince(before); !strings.Contains(got, "1 new certificate") || !strings.Contains(got, "1 new provider event") {
		t.Fatalf("changes = %q", got)
	}
}

func TestAssignBulk(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	v1, v2 := f.inReview("Assign One", "idfy"), f.inReview("Assign Two", "idfy")
	n, err := f.d.Assign(ctx, []int64{v1.ApplicantID, v2.ApplicantID, v2.ApplicantID}, f.maker.ID, 0, AuditEntry{})
	if err != nil || n != 2 {
		t.Fatalf("assign = %d, %v", n, err)
	}
	page, _ := f.d.ListQueue(ctx, QueueFilter{Assignee: f.maker.ID})
	if len(page.Rows) != 2 || page.Rows[0].Assignee != "maker@example.com" {
		t.Fatalf("queue filtered by assignee = %+v", page.Rows)
	}
	if page, _ := f.d.ListQueue(ctx, QueueFilter{Assignee: AssigneeNone}); len(page.Rows) != 0 {
		t.Fatal("assigned cases listed as unassigned")
	}
	if a, _ := f.d.ListAudit(ctx, AuditFilter{Action: "applicant.assign"}); len(a) != 2 {
		t.Fatalf("%d assign audit entries, want 2", len(a))
	}
	many := make([]int64, MaxBulk+1)
	for i := range many {
		many[i] = int64(i + 1)
	}
	if _, err := f.d.Assign(ctx, many, f.maker.ID, 0, AuditEntry{}); !errors.Is(err, ErrInvalid) {
		t.Fatal("a bulk action over a page of rows was accepted")
	}
}

func TestQueueFiltersAndPaging(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	for i := 0; i < 7; i++ {
		p := "idfy"
		if i%2 == 0 {
			p = "corepass"
		}
		f.inReview(fmt.Sprintf("Pager %d", i), p)
		f.advance(time.Hour)
	}
	var names []string
	filter := QueueFilter{Limit: 3}
	for {
		page, err := f.d.ListQueue(ctx, filter)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rows {
			names = append(names, r.Name)
		}
		if page.Next.IsZero() {
			break
		}
		filter.After = page.Next
	}
	if strings.Join(names, ",") != "Pager 0,Pager 1,Pager 2,Pager 3,Pager 4,Pager 5,Pager 6" {
		t.Fatalf("queue order (oldest first) = %v", names)
	}
	if page, _ := f.d.ListQueue(ctx, QueueFilter{Provider: "corepass"}); len(page.Rows) != 4 {
		t.Fatalf("corepass filter: %d rows", len(page.Rows))
	}
	if page, _ := f.d.ListQueue(ctx, QueueFilter{OlderThan: 5*time.Hour + 30*time.Minute}); len(page.Rows) != 2 {
		t.Fatalf("older than 5.5 h: %d rows, want 2", len(page.Rows))
	}
}

// TestQueueQueriesUseIndexes keeps the queue's hot queries off full scans:
// at a million applicants the queue holds a hundred thousand rows, and a
// scan per "Next case" or page view would be felt.
func TestQueueQueriesUseIndexes(t *testing.T) {
	f := newReviewFixture(t)
	queries := []struct {
		name, sql string
		args      []any
		index     string
	}{
		{"own claim", `SELECT verification_id FROM review_queue WHERE claimed_by = ? AND claim_expires_at > ? AND state = 'open' AND (? = '' OR provider = ?)
			ORDER BY since, verification_id LIMIT 1`, []any{1, 0, "", ""}, "review_queue_claims"},
		{"next free case", `SELECT verification_id FROM review_queue WHERE state = 'open' AND (claimed_by IS NULL OR claim_expires_at <= ?) AND (? = '' OR provider = ?)
			ORDER BY since, verification_id LIMIT 1`, []any{0, "", ""}, "review_queue_order"},
		{"oldest open", "SELECT min(since) FROM review_queue WHERE state = 'open'", nil, "COVERING INDEX review_queue_order"},
		{"queue page", "SELECT " + queueColumns + queueFrom + " WHERE q.state = ? ORDER BY q.since, q.verification_id LIMIT 51", []any{"open"}, "review_queue_order"},
		{"queue page by provider", "SELECT " + queueColumns + queueFrom + " WHERE q.state = ? AND q.provider = ? ORDER BY q.since, q.verification_id LIMIT 51", []any{"open", "idfy"}, "review_queue_provider"},
		{"queue page by assignee", "SELECT " + queueColumns + queueFrom + " WHERE q.state = ? AND q.assignee_id = ? ORDER BY q.since, q.verification_id LIMIT 51", []any{"open", 3}, "review_queue_assignee"},
	}
	for _, q := range queries {
		p := queryPlan(t, f.d, q.sql, q.args...)
		if !strings.Contains(p, q.index) || strings.Contains(p, "SCAN q ") || strings.HasSuffix(p, "SCAN q") || strings.Contains(p, "SCAN review_queue") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s: %s", q.name, p)
		}
	}
}
