package flow

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/blockpass"
	"github.com/kycdesk/kycdesk/providers/blockpass/sim"
)

// Seeded candidates the tests look at (see sim.SeedStatus: the seven
// statuses in turn; every tenth has no refId; some reviewed ones start
// archived).
const (
	seedWaiting  = 1  // waiting, refId seed-000001
	seedApproved = 3  // approved
	seedNoRef    = 9  // inreview, no refId
	seedArchived = 10 // approved, archived at Blockpass from the start
)

func TestSyncBlockpassTakesInNewCandidates(t *testing.T) {
	e := newBPEnv(t, bpOptions{})
	ctx := context.Background()
	e.sim.Seed(30)

	counts := e.sync(t)
	if counts.Total != 30 || counts.Seen != 30 || counts.Created != 30 || counts.Failed != 0 {
		t.Fatalf("first sync counts = %+v, want 30 new candidates", counts)
	}
	if n := e.applicantCount(t); n != 30 {
		t.Fatalf("%d applicants, want one per candidate", n)
	}

	// A waiting candidate: an applicant named after them, linked by refId
	// and recordId, its identity in our store, its status verbatim on the
	// timeline, and the date Blockpass deletes its copy as a certificate.
	rec := e.record(t, sim.SeedRecordID(seedWaiting))
	if rec.Status != "waiting" || rec.ExtractedAt.IsZero() || rec.Attributes == 0 || rec.Documents != 3 {
		t.Fatalf("record = %+v, want waiting, extracted with 3 pictures", rec)
	}
	a, _ := e.db.Applicant(ctx, rec.ApplicantID)
	person := sim.FakePerson(seedWaiting)
	if a.Name != person.GivenName+" "+person.FamilyName || a.Email != person.Email || a.Status != string(providers.StatusInProgress) {
		t.Errorf("applicant = %q <%s> %s, want %s %s <%s> in progress", a.Name, a.Email, a.Status, person.GivenName, person.FamilyName, person.Email)
	}
	links, _ := e.db.ProviderLinks(ctx, a.ID)
	if len(links) != 1 || links[0].Reference != sim.SeedRefID(seedWaiting) || links[0].ExternalID != sim.SeedRecordID(seedWaiting) {
		t.Errorf("link = %+v, want reference = refId, external id = recordId", links)
	}
	attrs, _ := e.db.Attributes(ctx, a.ID)
	if !hasAttr(attrs, "date_of_birth") || !hasAttr(attrs, "city") || !hasAttr(attrs, "phone") {
		t.Errorf("attributes %v lack date of birth, city or phone", attrs)
	}
	events := e.timeline(t, a.ID)
	if len(events) != 1 || events[0].ProviderStatus != "waiting" || events[0].Source != "poll" || !strings.Contains(events[0].Detail, "Blockpass sync") {
		t.Errorf("timeline = %+v, want one poll event with the verbatim status", events)
	}
	wantArchive := e.clock.Now().Add(bpArchiveAfter).Format(time.RFC3339)
	if c := certNamed(t, e, a.ID, CertWillArchiveAt); c != wantArchive {
		t.Errorf("willArchiveAt certificate = %q, want %s", c, wantArchive)
	}
	if !rec.WillArchiveAt.Equal(e.clock.Now().Add(bpArchiveAfter)) {
		t.Errorf("record archive date %v", rec.WillArchiveAt)
	}
	if c := certNamed(t, e, a.ID, blockpass.CertBlockPassID); c == "" {
		t.Error("blockPassID certificate missing")
	}

	// A reviewed candidate also brings its certificates (redacted), not the
	// raw JSON as a document.
	appr := e.record(t, sim.SeedRecordID(seedApproved))
	if c := certNamed(t, e, appr.ApplicantID, "member_check_cert"); c == "" {
		t.Error("the AML certificate is missing")
	}
	docs, _ := e.db.Documents(ctx, appr.ApplicantID)
	for _, d := range docs {
		if strings.HasSuffix(d.Name, ".json") {
			t.Errorf("document %s stored: only JPEG, PNG and PDF go into the document store", d.Name)
		}
	}

	// A candidate without a refId is linked by its recordId.
	noRef := e.record(t, sim.SeedRecordID(seedNoRef))
	links, _ = e.db.ProviderLinks(ctx, noRef.ApplicantID)
	if links[0].Reference != sim.SeedRecordID(seedNoRef) {
		t.Errorf("refId-less candidate linked by %q, want its recordId", links[0].Reference)
	}

	// An archived candidate: metadata only, never a fetch of data that is gone.
	arch := e.record(t, sim.SeedRecordID(seedArchived))
	if !arch.IsArchived || !arch.ExtractedAt.IsZero() {
		t.Errorf("archived record = %+v, want archived and never extracted", arch)
	}
	if attrs, _ := e.db.Attributes(ctx, arch.ApplicantID); len(attrs) != 0 {
		t.Errorf("archived candidate has %d attributes", len(attrs))
	}
	if ev := e.timeline(t, arch.ApplicantID); len(ev) != 1 || ev[0].ProviderStatus != "approved" || !strings.Contains(ev[0].Detail, "Blockpass archived its copy") {
		t.Errorf("archived candidate timeline = %+v", ev)
	}
	if counts.Archived == 0 {
		t.Error("no candidate counted as archived at Blockpass")
	}
}

func TestSyncBlockpassUnchangedChangedArchived(t *testing.T) {
	e := newBPEnv(t, bpOptions{})
	ctx := context.Background()
	e.sim.Seed(30)
	e.sync(t)
	lengths := map[int64]int{}
	waiting := e.record(t, sim.SeedRecordID(seedWaiting))
	for i := 0; i < 30; i++ {
		r := e.record(t, sim.SeedRecordID(i))
		lengths[r.ApplicantID] = len(e.timeline(t, r.ApplicantID))
	}

	// Unchanged: nothing fetched, nothing written to any timeline.
	calls := e.sim.APICalls()
	counts := e.sync(t)
	if counts.Unchanged != 30 || counts.Changed != 0 || counts.Created != 0 {
		t.Fatalf("second sync counts = %+v, want all 30 unchanged", counts)
	}
	if n := e.sim.APICalls() - calls; n != 2 {
		t.Errorf("an unchanged sync made %d API calls, want 2 (the total and one page)", n)
	}
	for id, n := range lengths {
		if got := len(e.timeline(t, id)); got != n {
			t.Errorf("applicant %d: timeline grew from %d to %d on an unchanged sync", id, n, got)
		}
	}

	// Changed: the operator starts the review; one event, verbatim.
	if err := e.sim.Review(sim.SeedRecordID(seedWaiting), sim.ActionStartReview); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	counts = e.sync(t)
	if counts.Changed != 1 || counts.Unchanged != 29 {
		t.Fatalf("third sync counts = %+v, want 1 changed", counts)
	}
	events := e.timeline(t, waiting.ApplicantID)
	if len(events) != 2 || events[0].ProviderStatus != "inreview" || events[0].Status != string(providers.StatusNeedsReview) {
		t.Fatalf("timeline after the review started = %+v", events)
	}
	if r := e.record(t, sim.SeedRecordID(seedWaiting)); r.InreviewAt.IsZero() || r.Status != "inreview" {
		t.Errorf("record after review = %+v", r)
	}

	// Blockpass archives what we extracted once its date passes: one
	// "archived" line each, no fetch, our copy kept.
	e.clock.Advance(bpArchiveAfter)
	calls = e.sim.APICalls()
	counts = e.sync(t)
	if counts.Archived == 0 || counts.Changed != counts.Archived || counts.Created != 0 {
		t.Fatalf("sync after the archive date counts = %+v", counts)
	}
	if n := e.sim.APICalls() - calls; n != 2 {
		t.Errorf("taking in archived candidates made %d API calls, want 2: nothing is fetched", n)
	}
	events = e.timeline(t, waiting.ApplicantID)
	if len(events) != 3 || !strings.Contains(events[0].Detail, "Blockpass archived its copy") {
		t.Fatalf("timeline after Blockpass archived = %+v", events)
	}
	if attrs, _ := e.db.Attributes(ctx, waiting.ApplicantID); len(attrs) == 0 {
		t.Error("our copy of the attributes went with Blockpass's")
	}
	if r := e.record(t, sim.SeedRecordID(seedWaiting)); !r.IsArchived || r.ArchivedSeenAt.IsZero() {
		t.Errorf("record = %+v, want archived at Blockpass", r)
	}
	if counts := e.sync(t); counts.Unchanged != 30 {
		t.Errorf("sync after that = %+v, want all unchanged", counts)
	}
}

func TestSyncBlockpassRidesOutRateLimits(t *testing.T) {
	e := newBPEnv(t, bpOptions{simCfg: sim.Config{RateLimitEvery: 3, Scope: sim.ScopeNoPictures}})
	e.sim.Seed(120)
	counts, err := e.svc.SyncBlockpass(context.Background(), e.client, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Seen != 120 || counts.Created != 120 {
		t.Fatalf("counts = %+v", counts)
	}
	if len(*e.sleeps) == 0 {
		t.Error("the sync never waited although every third call was a 429")
	}
}

func TestSyncBlockpassResumesAfterARateLimitOutlastsRetries(t *testing.T) {
	e := newBPEnv(t, bpOptions{simCfg: sim.Config{Scope: sim.ScopeNoPictures}, clientOpts: []blockpass.Option{blockpass.WithRateLimitRetries(2)}})
	e.sim.Seed(120)
	ctx := context.Background()
	// Blockpass starts answering 429 to everything after the first page.
	counts, err := e.svc.SyncBlockpass(ctx, e.client, 50, func(c db.SyncCounts) {
		if c.Seen >= 50 {
			e.sim.SetRateLimited(true)
		}
	})
	if !blockpass.IsRateLimited(err) {
		t.Fatalf("sync error = %v, want the rate limit", err)
	}
	if counts.Seen != 50 {
		t.Fatalf("counts = %+v, want the first page taken in", counts)
	}

	e.sim.SetRateLimited(false)
	counts = e.sync(t)
	if counts.Unchanged != 50 || counts.Created != 70 {
		t.Fatalf("resumed sync = %+v, want 50 unchanged and 70 new", counts)
	}
	if n := e.applicantCount(t); n != 120 {
		t.Errorf("%d applicants after the resumed sync, want 120", n)
	}
}

func TestSyncBlockpassAfterWebhooksAddsNoDuplicates(t *testing.T) {
	e := newBPEnv(t, bpOptions{})
	ctx := context.Background()
	// One of ours: staff started it, the user shared their identity.
	ours, err := e.db.CreateApplicant(ctx, db.NewApplicant{Name: "Invited Person"}, db.AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.db.StartVerification(ctx, db.NewVerification{ApplicantID: ours.ID, Provider: "blockpass", Reference: "kdbl_ours1",
		Status: "invited"}, db.AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	recordID, err := e.sim.Submit("kdbl_ours1", sim.FakePerson(77))
	if err != nil {
		t.Fatal(err)
	}
	e.deliverAll(t) // user.created, user.readyToReview
	before := e.timeline(t, ours.ID)
	if len(before) != 3 || before[0].ProviderStatus != "waiting" {
		t.Fatalf("timeline after the webhooks = %+v", before)
	}
	if c := certNamed(t, e, ours.ID, CertWillArchiveAt); c == "" {
		t.Error("the webhook's fetch did not record willArchiveAt")
	}

	counts := e.sync(t)
	if counts.Created != 0 || counts.Seen != 1 {
		t.Fatalf("counts = %+v, want our candidate found, not created", counts)
	}
	if after := e.timeline(t, ours.ID); len(after) != len(before) {
		t.Errorf("the sync added %d events the webhooks had recorded", len(after)-len(before))
	}
	rec := e.record(t, recordID)
	if rec.VerificationID != v.ID || rec.ApplicantID != ours.ID {
		t.Errorf("record joined to applicant %d verification %d, want %d/%d", rec.ApplicantID, rec.VerificationID, ours.ID, v.ID)
	}
	if got, _ := e.db.Verification(ctx, v.ID); got.ProviderRef != recordID {
		t.Errorf("verification provider ref %q, want %s", got.ProviderRef, recordID)
	}
}

func TestBlockpassWebhooksEveryEvent(t *testing.T) {
	e := newBPEnv(t, bpOptions{})
	ctx := context.Background()
	ours, _ := e.db.CreateApplicant(ctx, db.NewApplicant{Name: "Every Event"}, db.AuditEntry{Actor: "test"})
	if _, err := e.db.StartVerification(ctx, db.NewVerification{ApplicantID: ours.ID, Provider: "blockpass", Reference: "kdbl_all",
		Status: "invited"}, db.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.Register("kdbl_all", sim.FakePerson(5)); err != nil { // user.created
		t.Fatal(err)
	}
	recordID, _ := e.sim.Submit("kdbl_all", sim.FakePerson(5)) // user.readyToReview
	steps := []sim.Action{sim.ActionStartReview, sim.ActionReject, sim.ActionApprove, sim.ActionBlock}
	for _, a := range steps { // user.inReview, review.rejected, review.approved, user.blocked
		if err := e.sim.Review(recordID, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.sim.Delete(recordID); err != nil { // user.deleted
		t.Fatal(err)
	}
	e.deliverAll(t)
	events := e.timeline(t, ours.ID)
	seen := map[string]bool{}
	for _, ev := range events {
		for _, name := range blockpass.Events() {
			if strings.HasPrefix(ev.Detail, name) {
				seen[name] = true
			}
		}
	}
	for _, name := range blockpass.Events() {
		if !seen[name] {
			t.Errorf("no timeline event for %s (timeline %+v)", name, events)
		}
	}
	if events[0].Status != string(providers.StatusWithdrawn) {
		t.Errorf("newest event %+v, want withdrawn", events[0])
	}
}

func TestBlockpassWithdrawalFollowsRetention(t *testing.T) {
	e := newBPEnv(t, bpOptions{})
	ctx := context.Background()
	e.sim.Seed(3)
	e.sync(t)
	gone := e.record(t, sim.SeedRecordID(1))
	kept := e.record(t, sim.SeedRecordID(2))
	if err := e.db.SetRetentionRules(ctx, []db.RetentionRule{{Provider: "blockpass", Outcome: db.OutcomeProviderWithdrawal, Days: 0}},
		db.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Delete(sim.SeedRecordID(1)); err != nil {
		t.Fatal(err)
	}
	e.deliverAll(t)
	if v, _ := e.db.Verification(ctx, gone.VerificationID); v.Status != string(providers.StatusWithdrawn) {
		t.Fatalf("verification after user.deleted: %s, want withdrawn", v.Status)
	}
	n, err := e.svc.ApplyBlockpassWithdrawals(ctx)
	if err != nil || n != 1 {
		t.Fatalf("withdrawals handed over: %d, %v; want 1", n, err)
	}
	if a, _ := e.db.Applicant(ctx, gone.ApplicantID); !a.Archived() {
		t.Error("a 0-day withdrawal rule did not archive the deleted candidate's applicant")
	}
	if a, _ := e.db.Applicant(ctx, kept.ApplicantID); a.Archived() {
		t.Error("another applicant was archived")
	}
	if n, err := e.svc.ApplyBlockpassWithdrawals(ctx); err != nil || n != 0 {
		t.Errorf("second run handed over %d, %v; want nothing", n, err)
	}

	// The archived applicant's candidate is gone from the listing; the rest
	// syncs as before.
	if counts := e.sync(t); counts.Seen != 2 || counts.Unchanged != 2 {
		t.Errorf("sync after the withdrawal = %+v", counts)
	}
}

func TestSyncBlockpassRespectsOurArchive(t *testing.T) {
	e := newBPEnv(t, bpOptions{})
	ctx := context.Background()
	e.sim.Seed(2)
	e.sync(t)
	r := e.record(t, sim.SeedRecordID(1))
	if _, err := e.db.Archive(ctx, r.ApplicantID, db.ArchiveRequest{Reason: "test", Audit: db.AuditEntry{Actor: "test"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Review(sim.SeedRecordID(1), sim.ActionApprove); err != nil {
		t.Fatal(err)
	}
	calls := e.sim.APICalls()
	counts := e.sync(t)
	if counts.Changed != 1 || counts.Failed != 0 {
		t.Fatalf("counts = %+v, want the approval taken in", counts)
	}
	if n := e.sim.APICalls() - calls; n != 2 {
		t.Errorf("%d API calls: identity data was fetched for an applicant we archived", n)
	}
	if ev := e.timeline(t, r.ApplicantID); ev[0].ProviderStatus != "approved" {
		t.Errorf("newest event %+v, want the approval", ev[0])
	}
}

func TestRunQueuedBlockpassSync(t *testing.T) {
	e := newBPEnv(t, bpOptions{})
	ctx := context.Background()
	e.sim.Seed(5)
	if _, ran, err := e.svc.RunQueuedBlockpassSync(ctx, e.client, 0); ran || err != nil {
		t.Fatalf("ran %v, %v with nothing queued", ran, err)
	}
	admin, err := e.db.CreateUser(ctx, "admin@example.com", "admin", "x", db.AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	queued, fresh, err := e.svc.RequestBlockpassSync(ctx, Actor{ID: admin.ID, Email: admin.Email})
	if err != nil || !fresh {
		t.Fatalf("request: %v, %v", fresh, err)
	}
	run, ran, err := e.svc.RunQueuedBlockpassSync(ctx, e.client, 0)
	if err != nil || !ran || run.ID != queued.ID || run.State != db.SyncDone || run.Counts.Created != 5 {
		t.Fatalf("run = %+v, ran %v, %v", run, ran, err)
	}
	if cursor, _, _ := e.db.JobState(ctx, blockpassJobName); !strings.Contains(cursor, "seen=5") {
		t.Errorf("job cursor %q", cursor)
	}

	// A failing run is recorded as failed with the reason.
	e.sim.SetRateLimited(true)
	e.client = mustClient(t, e, blockpass.WithRateLimitRetries(0))
	if _, _, err := e.svc.RequestBlockpassSync(ctx, Actor{ID: admin.ID, Email: admin.Email}); err != nil {
		t.Fatal(err)
	}
	run, _, err = e.svc.RunQueuedBlockpassSync(ctx, e.client, 0)
	if !blockpass.IsRateLimited(err) || run.State != db.SyncFailed || !strings.Contains(run.Error, "rate_limited") {
		t.Fatalf("rate-limited run = %+v, %v", run, err)
	}
}

func TestBlockpassTickSchedulesSyncs(t *testing.T) {
	e := newBPEnv(t, bpOptions{})
	ctx := context.Background()
	e.sim.Seed(3)
	opts := BlockpassSyncOptions{Interval: 15 * time.Minute}.withDefaults()
	e.svc.blockpassTick(ctx, e.client, opts)
	runs, _ := e.db.BlockpassSyncRuns(ctx, 10)
	if len(runs) != 1 || runs[0].Trigger != db.SyncSchedule || runs[0].State != db.SyncDone {
		t.Fatalf("after the first tick: %+v, want one scheduled run done", runs)
	}
	e.clock.Advance(14 * time.Minute)
	e.svc.blockpassTick(ctx, e.client, opts)
	if runs, _ := e.db.BlockpassSyncRuns(ctx, 10); len(runs) != 1 {
		t.Fatalf("a sync ran before the interval passed: %+v", runs)
	}
	e.clock.Advance(time.Minute)
	e.svc.blockpassTick(ctx, e.client, opts)
	if runs, _ := e.db.BlockpassSyncRuns(ctx, 10); len(runs) != 2 {
		t.Fatalf("no sync once the interval passed: %+v", runs)
	}
	off := BlockpassSyncOptions{Interval: -1}.withDefaults()
	e.clock.Advance(time.Hour)
	e.svc.blockpassTick(ctx, e.client, off)
	if runs, _ := e.db.BlockpassSyncRuns(ctx, 10); len(runs) != 2 {
		t.Fatalf("a sync was scheduled with the schedule off: %+v", runs)
	}
}

func TestParseBlockpassSyncInterval(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"", DefaultBlockpassSyncInterval, false},
		{"30m", 30 * time.Minute, false},
		{"2h", 2 * time.Hour, false},
		{"45", 45 * time.Minute, false},
		{"off", -1, false},
		{"0", -1, false},
		{"10s", 0, true},
		{"soon", 0, true},
	} {
		got, err := ParseBlockpassSyncInterval(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("ParseBlockpassSyncInterval(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func mustClient(t *testing.T, e *bpEnv, opts ...blockpass.Option) *blockpass.Client {
	t.Helper()
	base, _ := e.svc.Registry.Get(providers.Blockpass)
	c, err := blockpass.NewClient(blockpass.Config{URL: base.BaseURL, ClientID: e.sim.ClientID(), APIKey: "test-api-key"}, nil,
		append([]blockpass.Option{blockpass.WithSleep(func(context.Context, time.Duration) error { return nil })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func hasAttr(attrs []db.Attribute, meaning string) bool {
	for _, a := range attrs {
		if a.Meaning == meaning && a.Value != "" {
			return true
		}
	}
	return false
}

// certNamed returns the newest certificate with name, "" if none.
func certNamed(t *testing.T, e *bpEnv, applicantID int64, name string) string {
	t.Helper()
	certs, err := e.db.Certificates(context.Background(), applicantID)
	if err != nil {
		t.Fatal(err)
	}
	v := ""
	for _, c := range certs {
		if c.Name == name {
			v = c.Value
		}
	}
	return v
}

var _ = errors.Is
