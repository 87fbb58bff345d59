package db

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestEnsureBlockpassVerification(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)

	// A candidate we did not invite becomes an applicant with a link whose
	// reference is its refId and external id its recordId.
	got, err := d.EnsureBlockpassVerification(ctx, BlockpassCandidate{RefID: "their-ref-1", RecordID: "rec1", Name: "Ada Byron", Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Created || got.Reference != "their-ref-1" || got.ProviderRef != "rec1" || got.Provider != "blockpass" {
		t.Fatalf("ensure = %+v, want a new verification with reference their-ref-1 and provider ref rec1", got)
	}
	links, err := d.ProviderLinks(ctx, got.ApplicantID)
	if err != nil || len(links) != 1 || links[0].Reference != "their-ref-1" || links[0].ExternalID != "rec1" {
		t.Fatalf("links = %+v, %v", links, err)
	}
	a, _ := d.Applicant(ctx, got.ApplicantID)
	if a.Name != "Ada Byron" {
		t.Errorf("applicant name %q, want the candidate's", a.Name)
	}
	if entries, _ := d.ListAudit(ctx, AuditFilter{Action: "applicant.create", Limit: 10}); len(entries) != 1 || entries[0].Actor != "system" {
		t.Errorf("audit = %+v, want one system applicant.create", entries)
	}
	page, err := d.ListApplicants(ctx, ApplicantFilter{Query: "rec1", Limit: 10})
	if err != nil || len(page.Rows) != 1 {
		t.Errorf("search by recordId found %d applicants (%v), want 1", len(page.Rows), err)
	}

	// The same candidate again: found, nothing new.
	again, err := d.EnsureBlockpassVerification(ctx, BlockpassCandidate{RefID: "their-ref-1", RecordID: "rec1"})
	if err != nil || again.Created || again.ID != got.ID {
		t.Fatalf("second ensure = %+v, %v; want the same verification", again, err)
	}

	// No refId: the recordId is the reference; found again by it.
	bare, err := d.EnsureBlockpassVerification(ctx, BlockpassCandidate{RecordID: "rec2"})
	if err != nil || !bare.Created || bare.Reference != "rec2" {
		t.Fatalf("ensure without refId = %+v, %v", bare, err)
	}
	if again, _ := d.EnsureBlockpassVerification(ctx, BlockpassCandidate{RecordID: "rec2"}); again.ID != bare.ID || again.Created {
		t.Fatalf("refId-less candidate not found again: %+v", again)
	}

	// One of ours (started by staff, refId = our reference): found, and it
	// learns the recordId.
	ours, err := d.CreateApplicant(ctx, NewApplicant{Name: "Grace"}, AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	started, err := d.StartVerification(ctx, NewVerification{ApplicantID: ours.ID, Provider: "blockpass", Reference: "kdbl_ours", Status: "invited"}, AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	found, err := d.EnsureBlockpassVerification(ctx, BlockpassCandidate{RefID: "kdbl_ours", RecordID: "rec3"})
	if err != nil || found.Created || found.ID != started.ID || found.ProviderRef != "rec3" {
		t.Fatalf("ensure for our refId = %+v, %v; want verification %d with provider ref rec3", found, err, started.ID)
	}
	if links, _ := d.ProviderLinks(ctx, ours.ID); links[0].ExternalID != "rec3" {
		t.Errorf("our link's external id %q, want rec3", links[0].ExternalID)
	}

	if _, err := d.EnsureBlockpassVerification(ctx, BlockpassCandidate{RefID: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("ensure without recordId: %v, want ErrInvalid", err)
	}
}

func TestBlockpassRecordRoundTrip(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	v, err := d.EnsureBlockpassVerification(ctx, BlockpassCandidate{RefID: "r", RecordID: "rec"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.BlockpassRecord(ctx, "rec"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unseen record: %v, want ErrNotFound", err)
	}
	waiting := t0.Add(-time.Hour)
	r := BlockpassRecord{RecordID: "rec", ApplicantID: v.ApplicantID, VerificationID: v.ID, RefID: "r", Status: "waiting",
		SubmitCount: 1, WaitingAt: waiting, WillArchiveAt: t0.Add(10 * time.Second), ExtractedAt: t0, Attributes: 7, Documents: 3}
	if err := d.SaveBlockpassRecord(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := d.BlockpassRecord(ctx, "rec")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "waiting" || !got.WaitingAt.Equal(waiting) || !got.InreviewAt.IsZero() || got.Attributes != 7 ||
		!got.FirstSeenAt.Equal(t0) || got.IsArchived || !got.ArchivedSeenAt.IsZero() {
		t.Fatalf("record = %+v", got)
	}
	// A later metadata-only save keeps the extract's counts and time.
	r2 := got
	r2.IsArchived, r2.ExtractedAt, r2.Attributes, r2.Documents = true, time.Time{}, 0, 0
	if err := d.SaveBlockpassRecord(ctx, r2); err != nil {
		t.Fatal(err)
	}
	got, _ = d.BlockpassRecord(ctx, "rec")
	if !got.IsArchived || got.ArchivedSeenAt.IsZero() || got.Attributes != 7 || !got.ExtractedAt.Equal(t0) {
		t.Fatalf("after archive: %+v", got)
	}
	list, err := d.BlockpassRecordsOf(ctx, v.ApplicantID)
	if err != nil || len(list) != 1 {
		t.Fatalf("records of applicant: %v, %v", list, err)
	}
}

func TestBlockpassCertificatesStoredOnce(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	v, _ := d.EnsureBlockpassVerification(ctx, BlockpassCandidate{RefID: "r", RecordID: "rec"})
	up := VerificationUpdate{VerificationID: v.ID, Source: "poll", Status: "in_progress", ProviderStatus: "waiting",
		Certificates: []CertificateInput{{Provider: "blockpass", Name: "blockPassID", Value: "bp1"}}}
	for i := 0; i < 3; i++ {
		if err := d.ApplyUpdate(ctx, up); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.PutCertificate(ctx, v.ApplicantID, CertificateInput{Provider: "blockpass", Name: "willArchiveAt", Value: "2026-11-01T09:00:10Z"}); err != nil {
		t.Fatal(err)
	}
	if err := d.PutCertificate(ctx, v.ApplicantID, CertificateInput{Provider: "blockpass", Name: "willArchiveAt", Value: "2026-11-01T09:00:10Z"}); err != nil {
		t.Fatal(err)
	}
	if err := d.PutCertificate(ctx, v.ApplicantID, CertificateInput{Provider: "blockpass", Name: "willArchiveAt", Value: "2026-12-01T09:00:10Z"}); err != nil {
		t.Fatal(err)
	}
	certs, _ := d.Certificates(ctx, v.ApplicantID)
	if len(certs) != 3 {
		t.Fatalf("certificates = %+v, want blockPassID once and the two distinct willArchiveAt values", certs)
	}
}

func TestBlockpassSyncRuns(t *testing.T) {
	ctx := context.Background()
	now := t0
	d := openTest(t, now)
	admin, err := d.CreateUser(ctx, "admin@example.com", "admin", "x", AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	stale := now.Add(-2 * time.Minute)
	run, fresh, err := d.RequestBlockpassSync(ctx, SyncManual, stale, AuditEntry{ActorID: admin.ID, Actor: admin.Email})
	if err != nil || !fresh || run.State != SyncQueued || run.RequestedBy != admin.ID {
		t.Fatalf("request = %+v, %v, %v", run, fresh, err)
	}
	// A second request while one waits returns it.
	again, fresh, err := d.RequestBlockpassSync(ctx, SyncSchedule, stale, AuditEntry{})
	if err != nil || fresh || again.ID != run.ID {
		t.Fatalf("second request = %+v, fresh %v, %v; want the queued run", again, fresh, err)
	}
	if entries, _ := d.ListAudit(ctx, AuditFilter{Action: "blockpass.sync_request", Limit: 10}); len(entries) != 1 || entries[0].ActorID != admin.ID {
		t.Errorf("audit = %+v, want the manual request once", entries)
	}
	claimed, ok, err := d.ClaimBlockpassSync(ctx, stale)
	if err != nil || !ok || claimed.ID != run.ID || claimed.State != SyncRunning {
		t.Fatalf("claim = %+v, %v, %v", claimed, ok, err)
	}
	if _, ok, _ := d.ClaimBlockpassSync(ctx, stale); ok {
		t.Fatal("claimed a second run while none is queued")
	}
	if err := d.ProgressBlockpassSync(ctx, run.ID, SyncCounts{Total: 10, Seen: 4, Created: 4}); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.BlockpassSyncRun(ctx, run.ID); got.Counts.Seen != 4 || got.Counts.Total != 10 {
		t.Fatalf("progress not recorded: %+v", got.Counts)
	}
	if err := d.FinishBlockpassSync(ctx, run.ID, SyncCounts{Total: 10, Seen: 10, Created: 10}, nil); err != nil {
		t.Fatal(err)
	}
	runs, _ := d.BlockpassSyncRuns(ctx, 5)
	if len(runs) != 1 || runs[0].State != SyncDone || runs[0].Counts.Seen != 10 {
		t.Fatalf("runs = %+v", runs)
	}

	// A running sync whose worker died is failed by the next request, which
	// queues a new one.
	r2, _, _ := d.RequestBlockpassSync(ctx, SyncSchedule, stale, AuditEntry{})
	if _, _, err := d.ClaimBlockpassSync(ctx, stale); err != nil {
		t.Fatal(err)
	}
	r3, fresh, err := d.RequestBlockpassSync(ctx, SyncSchedule, now.Add(time.Second), AuditEntry{})
	if err != nil || !fresh || r3.ID == r2.ID {
		t.Fatalf("request after a dead worker = %+v, fresh %v, %v", r3, fresh, err)
	}
	if dead, _ := d.BlockpassSyncRun(ctx, r2.ID); dead.State != SyncFailed || dead.Error == "" {
		t.Errorf("dead run = %+v, want failed with a reason", dead)
	}
	if last, err := d.LastBlockpassSyncRequest(ctx); err != nil || !last.Equal(now) {
		t.Errorf("last request = %v, %v", last, err)
	}
	if _, _, err := d.RequestBlockpassSync(ctx, "cron", stale, AuditEntry{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown trigger: %v", err)
	}
}

func TestImportBlockpassExport(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	id, err := d.ImportBlockpassExport(ctx, BlockpassImport{
		New:          &NewApplicant{Name: "Imported Person"},
		Attributes:   []AttributeInput{{Provider: "blockpass", Meaning: "email", Name: "email", Value: "ip@example.com"}},
		Documents:    []DocumentInput{{Provider: "blockpass", Name: "selfie.jpg", ContentType: "image/jpeg", Data: []byte{0xff, 0xd8, 0xff}}},
		Certificates: []CertificateInput{{Provider: "blockpass", Name: "onfido", Value: "{}"}},
		Detail:       "Imported a Blockpass export",
	}, AuditEntry{Actor: "admin@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := d.Attributes(ctx, id)
	docs, _ := d.Documents(ctx, id)
	certs, _ := d.Certificates(ctx, id)
	events, _ := d.Timeline(ctx, id, 10)
	if len(attrs) != 1 || attrs[0].Value != "ip@example.com" || len(docs) != 1 || len(certs) != 1 || len(events) != 1 || events[0].Source != "staff" {
		t.Fatalf("import stored attrs=%v docs=%v certs=%v events=%v", attrs, docs, certs, events)
	}
	if n := searchCount(t, d, "imported"); n != 1 {
		t.Errorf("a search finds the imported applicant %d times, want 1", n)
	}
	if entries, _ := d.ListAudit(ctx, AuditFilter{Action: "blockpass.export_import", Limit: 10}); len(entries) != 1 {
		t.Errorf("audit entries %d, want 1", len(entries))
	}
	if _, err := d.ImportBlockpassExport(ctx, BlockpassImport{ApplicantID: 999}, AuditEntry{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("import for a missing applicant: %v, want ErrNotFound", err)
	}
}

func TestPendingBlockpassWithdrawals(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	v, _ := d.EnsureBlockpassVerification(ctx, BlockpassCandidate{RefID: "r", RecordID: "rec"})
	other, _ := d.EnsureBlockpassVerification(ctx, BlockpassCandidate{RefID: "r2", RecordID: "rec2"})
	at := t0.Add(-time.Minute)
	if err := d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: v.ID, Source: "webhook", Status: "withdrawn", ProviderStatus: "approved", At: at}); err != nil {
		t.Fatal(err)
	}
	if err := d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: other.ID, Source: "poll", Status: "approved", ProviderStatus: "approved"}); err != nil {
		t.Fatal(err)
	}
	pending, err := d.PendingBlockpassWithdrawals(ctx, 10)
	if err != nil || len(pending) != 1 || pending[0].ApplicantID != v.ApplicantID || !pending[0].At.Equal(at) {
		t.Fatalf("pending = %+v, %v; want applicant %d withdrawn at %v", pending, err, v.ApplicantID, at)
	}
}

func TestAddBlockpassCandidate(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	n := NewBlockpassCandidate{
		BlockpassCandidate: BlockpassCandidate{RefID: "their-ref", RecordID: "rec9", Name: "New Person", Email: "np@example.com"},
		Status:             "needs_review", ProviderStatus: "inreview", Detail: "Found by the Blockpass sync", At: t0.Add(-time.Hour),
		Attributes:   []AttributeInput{{Provider: "blockpass", Meaning: "given_name", Name: "given_name", Value: "New"}},
		Certificates: []CertificateInput{{Provider: "blockpass", Name: "willArchiveAt", Value: "2026-11-01T10:00:00Z"}},
		Record:       BlockpassRecord{Status: "inreview", SubmitCount: 1, ExtractedAt: t0, Attributes: 1},
	}
	v, err := d.AddBlockpassCandidate(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != "needs_review" || v.ProviderStatus != "inreview" || v.Reference != "their-ref" || v.ProviderRef != "rec9" {
		t.Fatalf("verification = %+v", v)
	}
	a, _ := d.Applicant(ctx, v.ApplicantID)
	events, _ := d.Timeline(ctx, v.ApplicantID, 10)
	attrs, _ := d.Attributes(ctx, v.ApplicantID)
	certs, _ := d.Certificates(ctx, v.ApplicantID)
	rec, err := d.BlockpassRecord(ctx, "rec9")
	if a.Status != "needs_review" || a.Name != "New Person" || len(events) != 1 || events[0].Source != "poll" || !events[0].At.Equal(t0.Add(-time.Hour)) ||
		len(attrs) != 1 || len(certs) != 1 || err != nil || rec.VerificationID != v.ID || rec.Attributes != 1 {
		t.Fatalf("applicant %+v events %+v attrs %v certs %v record %+v (%v)", a, events, attrs, certs, rec, err)
	}
	// In the review queue, like any verification that needs review.
	var queued int
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM review_queue WHERE verification_id = ?", v.ID).Scan(&queued); err != nil || queued != 1 {
		t.Errorf("review queue rows %d (%v), want 1", queued, err)
	}
	// Taken in already: refused, nothing changes.
	if _, err := d.AddBlockpassCandidate(ctx, n); !errors.Is(err, ErrConflict) {
		t.Fatalf("second add: %v, want ErrConflict", err)
	}
	if events, _ := d.Timeline(ctx, v.ApplicantID, 10); len(events) != 1 {
		t.Errorf("second add wrote %d events", len(events)-1)
	}
}
