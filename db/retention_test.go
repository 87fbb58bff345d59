package db

import (
	"context"
	"errors"
	"testing"
	"time"
)

// agedApplicant creates an applicant whose one verification with provider
// ended in status, the last event lastEvent ago (by the store's clock).
func agedApplicant(t *testing.T, d *DB, name, provider, status string, lastEvent time.Time) Applicant {
	t.Helper()
	ctx := context.Background()
	a, err := d.CreateApplicant(ctx, NewApplicant{Name: name}, AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := d.StartVerification(ctx, NewVerification{ApplicantID: a.ID, Provider: provider, Reference: provider + "-" + a.Ref, Status: "invited"}, AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.PutPII(ctx, a.ID, []AttributeInput{{Provider: provider, Meaning: "full_name", Name: "name", Value: name}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: v.ID, Source: "webhook", Status: status, ProviderStatus: status, At: lastEvent}); err != nil {
		t.Fatal(err)
	}
	// Every earlier event happened before the last one.
	if _, err := d.write.ExecContext(ctx, "UPDATE verification_events SET at = ? WHERE applicant_id = ? AND at > ?", lastEvent.UnixMilli(), a.ID, lastEvent.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRetentionJobArchivesExactlyTheDueOnes(t *testing.T) {
	ctx := context.Background()
	now := t0
	d := openTest(t, t0)
	d.now = func() time.Time { return now }
	err := d.SetRetentionRules(ctx, []RetentionRule{
		{Provider: RetentionAny, Outcome: OutcomeApproved, Days: 30},
		{Provider: "blockpass", Outcome: OutcomeApproved, Days: 90},
		{Provider: RetentionAny, Outcome: OutcomeAbandoned, Days: 10},
	}, AuditEntry{Actor: "admin@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	limit := 30 * day
	cases := []struct {
		name     string
		provider string
		status   string
		age      time.Duration
		hold     bool
		archived bool
	}{
		{"one day before the limit", "idfy", "approved", limit - day, false, false},
		{"on the limit", "idfy", "approved", limit, false, true},
		{"one day after the limit", "idfy", "approved", limit + day, false, true},
		{"after the limit, on legal hold", "idfy", "approved", limit + day, true, false},
		{"a provider's own rule is longer", "blockpass", "approved", limit + day, false, false},
		{"a provider's own rule, one day after", "blockpass", "approved", 91 * day, false, true},
		{"no rule for rejected: kept", "idfy", "rejected", 400 * day, false, false},
		{"abandoned: no outcome, no event for 10 days", "corepass", "in_progress", 10 * day, false, true},
		{"abandoned, an event 9 days ago", "corepass", "needs_review", 9 * day, false, false},
	}
	ids := map[string]int64{}
	for _, tc := range cases {
		a := agedApplicant(t, d, tc.name, tc.provider, tc.status, now.Add(-tc.age))
		ids[tc.name] = a.ID
		if tc.hold {
			if err := d.SetLegalHold(ctx, a.ID, true, "litigation", AuditEntry{Actor: "admin@example.com"}); err != nil {
				t.Fatal(err)
			}
		}
	}

	dry, err := d.RunRetention(ctx, RetentionRun{Now: now, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	wantDue := 0
	for _, tc := range cases {
		if tc.archived {
			wantDue++
		}
	}
	if len(dry.Due) != wantDue || len(dry.Archived) != 0 {
		t.Fatalf("dry run lists %d due and archived %d; want %d and 0", len(dry.Due), len(dry.Archived), wantDue)
	}
	rep, err := d.RunRetention(ctx, RetentionRun{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Archived) != wantDue {
		t.Errorf("archived %d, want %d", len(rep.Archived), wantDue)
	}
	for _, tc := range cases {
		a, err := d.Applicant(ctx, ids[tc.name])
		if err != nil {
			t.Fatal(err)
		}
		if a.Archived() != tc.archived {
			t.Errorf("%s: archived = %v, want %v", tc.name, a.Archived(), tc.archived)
		}
		if tc.archived {
			r, err := d.VerifyReceipt(ctx, a.ID)
			if err != nil || r.Actor != "system" || r.Rule == RuleManual {
				t.Errorf("%s: receipt %+v, %v", tc.name, r, err)
			}
		}
	}
	on, _ := d.DeletionReceipt(ctx, ids["on the limit"])
	if on.Rule != "retention:any/approved/30d" {
		t.Errorf("rule = %q", on.Rule)
	}
	bp, _ := d.DeletionReceipt(ctx, ids["a provider's own rule, one day after"])
	if bp.Rule != "retention:blockpass/approved/90d" {
		t.Errorf("rule = %q", bp.Rule)
	}
	// A second run finds nothing; a day later the one-day-before applicant
	// is due, and so is the one abandoned 9 days ago.
	again, _ := d.RunRetention(ctx, RetentionRun{Now: now})
	if len(again.Archived) != 0 {
		t.Errorf("second run archived %d", len(again.Archived))
	}
	now = now.Add(day)
	later, _ := d.RunRetention(ctx, RetentionRun{Now: now})
	got := map[int64]bool{}
	for _, r := range later.Archived {
		got[r.ApplicantID] = true
	}
	if len(got) != 2 || !got[ids["one day before the limit"]] || !got[ids["abandoned, an event 9 days ago"]] {
		t.Errorf("a day later archived %+v", later.Archived)
	}
	info, _ := d.LastRetentionRun(ctx)
	if !info.At.Equal(now) || info.Archived != 2 {
		t.Errorf("last run = %+v", info)
	}
}

func TestRetentionPlansForBadges(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	if err := d.SetRetentionRules(ctx, []RetentionRule{{Provider: RetentionAny, Outcome: OutcomeApproved, Days: 30}}, AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	fresh := agedApplicant(t, d, "Fresh", "idfy", "approved", t0.Add(-18*day))
	kept := agedApplicant(t, d, "Kept", "idfy", "rejected", t0.Add(-18*day))
	held := agedApplicant(t, d, "Held", "idfy", "approved", t0)
	d.SetLegalHold(ctx, held.ID, true, "", AuditEntry{})
	gone := agedApplicant(t, d, "Gone", "idfy", "approved", t0)
	d.Archive(ctx, gone.ID, ArchiveRequest{})
	plans, err := d.RetentionPlans(ctx, reread(t, d, fresh, kept, held, gone))
	if err != nil {
		t.Fatal(err)
	}
	if p := plans[fresh.ID]; !p.DueAt.Equal(t0.Add(12*day)) || p.Due(t0) {
		t.Errorf("fresh plan = %+v", p)
	}
	if p := plans[kept.ID]; !p.DueAt.IsZero() || p.Kept != "no rule for idfy rejected" {
		t.Errorf("kept plan = %+v", p)
	}
	if p := plans[held.ID]; !p.Held || p.Due(t0.Add(1000*day)) {
		t.Errorf("held plan = %+v", p)
	}
	if p := plans[gone.ID]; !p.Archived {
		t.Errorf("archived plan = %+v", p)
	}
}

// reread reads the applicants again, as a list page would have them now.
func reread(t *testing.T, d *DB, as ...Applicant) []Applicant {
	t.Helper()
	out := make([]Applicant, len(as))
	for i, a := range as {
		var err error
		if out[i], err = d.Applicant(context.Background(), a.ID); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestRetentionPlansWithoutRules: with no rule nothing is due, and the
// plans (read from the rows, without a query) still say held and archived.
func TestRetentionPlansWithoutRules(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	kept := agedApplicant(t, d, "Kept", "idfy", "approved", t0.Add(-3000*day))
	held := agedApplicant(t, d, "Held", "idfy", "approved", t0)
	d.SetLegalHold(ctx, held.ID, true, "", AuditEntry{})
	gone := agedApplicant(t, d, "Gone", "idfy", "approved", t0)
	d.Archive(ctx, gone.ID, ArchiveRequest{})
	// The rows as the list page passes them (its own columns, not
	// Applicant's).
	page, err := d.ListApplicants(ctx, ApplicantFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	rows := page.Rows
	if len(rows) != 3 {
		t.Fatalf("the list has %d rows, want 3", len(rows))
	}
	plans, err := d.RetentionPlans(ctx, rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 3 {
		t.Fatalf("%d plans, want 3", len(plans))
	}
	for id, p := range plans {
		if !p.DueAt.IsZero() || p.Due(t0.Add(10000*day)) || p.ApplicantID != id {
			t.Errorf("plan %d = %+v: nothing is due without a rule", id, p)
		}
	}
	if p := plans[kept.ID]; p.Held || p.Archived || p.Ref != kept.Ref {
		t.Errorf("kept plan = %+v", p)
	}
	if p := plans[held.ID]; !p.Held || p.Archived {
		t.Errorf("held plan = %+v", p)
	}
	if p := plans[gone.ID]; !p.Archived {
		t.Errorf("archived plan = %+v", p)
	}
	// The badges keep the policy for a few seconds; a rule set here shows
	// at once.
	if err := d.SetRetentionRules(ctx, []RetentionRule{{Provider: RetentionAny, Outcome: OutcomeApproved, Days: 30}}, AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if plans, err = d.RetentionPlans(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if p := plans[kept.ID]; p.DueAt.IsZero() || !p.Due(t0) {
		t.Errorf("after a 30-day rule, the 3000-day-old plan = %+v, want due", p)
	}
}

func TestApplyWithdrawal(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	err := d.SetRetentionRules(ctx, []RetentionRule{
		{Provider: RetentionAny, Outcome: OutcomeApproved, Days: 365},
		{Provider: "verifyyou", Outcome: OutcomeProviderWithdrawal, Days: 0},
		{Provider: "blockpass", Outcome: OutcomeProviderWithdrawal, Days: 14},
	}, AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	vy := agedApplicant(t, d, "Vy", "verifyyou", "approved", t0)
	res, err := d.ApplyWithdrawal(ctx, vy.ID, "verifyyou", "connection_deleted", t0)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Archived || res.Receipt.Rule != "withdrawal:verifyyou/0d" {
		t.Fatalf("verifyyou withdrawal = %+v", res)
	}
	bp := agedApplicant(t, d, "Bp", "blockpass", "approved", t0)
	res, err = d.ApplyWithdrawal(ctx, bp.ID, "blockpass", "user.deleted", t0)
	if err != nil || res.Archived || !res.Plan.DueAt.Equal(t0.Add(14*day)) {
		t.Fatalf("blockpass withdrawal = %+v, %v", res, err)
	}
	// The same event again changes nothing; the job archives on the day.
	if _, err := d.ApplyWithdrawal(ctx, bp.ID, "blockpass", "user.deleted", t0.Add(5*day)); err != nil {
		t.Fatal(err)
	}
	if rep, _ := d.RunRetention(ctx, RetentionRun{Now: t0.Add(14*day - time.Minute)}); len(rep.Archived) != 0 {
		t.Error("archived before the withdrawal rule ran out")
	}
	if rep, _ := d.RunRetention(ctx, RetentionRun{Now: t0.Add(14 * day)}); len(rep.Archived) != 1 || rep.Archived[0].Rule != "withdrawal:blockpass/14d" {
		t.Errorf("withdrawal run = %+v", rep.Archived)
	}
	held := agedApplicant(t, d, "Held", "verifyyou", "approved", t0)
	d.SetLegalHold(ctx, held.ID, true, "", AuditEntry{})
	if res, err := d.ApplyWithdrawal(ctx, held.ID, "verifyyou", "connection_deleted", t0); err != nil || res.Archived || !res.Plan.Held {
		t.Errorf("withdrawal on hold = %+v, %v", res, err)
	}
	if _, err := d.ApplyWithdrawal(ctx, 9999, "verifyyou", "connection_deleted", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown applicant: %v", err)
	}
	if got := len(mustAudit(t, d, "retention.withdrawal")); got != 3 {
		t.Errorf("%d withdrawal audit entries, want 3", got)
	}
}

func TestSetRetentionRulesValidatesAndAudits(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	for _, bad := range []RetentionRule{
		{Provider: "acme", Outcome: OutcomeApproved, Days: 1},
		{Provider: RetentionAny, Outcome: "maybe", Days: 1},
		{Provider: RetentionAny, Outcome: OutcomeApproved, Days: -1},
		{Provider: RetentionAny, Outcome: OutcomeApproved, Days: MaxRetentionDays + 1},
	} {
		if err := d.SetRetentionRules(ctx, []RetentionRule{bad}, AuditEntry{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	d.SetRetentionRules(ctx, []RetentionRule{{Provider: RetentionAny, Outcome: OutcomeApproved, Days: 30}}, AuditEntry{Actor: "a"})
	d.SetRetentionRules(ctx, []RetentionRule{{Provider: RetentionAny, Outcome: OutcomeApproved, Days: 60}, {Provider: "idfy", Outcome: OutcomeRejected, Days: 5}}, AuditEntry{Actor: "a"})
	d.SetRetentionRules(ctx, []RetentionRule{{Provider: RetentionAny, Outcome: OutcomeApproved, Days: 60}, {Provider: "idfy", Outcome: OutcomeRejected, Days: 5}}, AuditEntry{Actor: "a"})
	entries := mustAudit(t, d, "retention.rules")
	if len(entries) != 2 || entries[0].Detail != "any/approved 30d->60d; idfy/rejected keep->5d" {
		t.Errorf("audit = %+v", entries)
	}
}

func mustAudit(t *testing.T, d *DB, action string) []AuditEntry {
	t.Helper()
	e, err := d.ListAudit(context.Background(), AuditFilter{Action: action, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestProviderCopies(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	a, _ := d.CreateApplicant(ctx, NewApplicant{Name: "Copies"}, AuditEntry{})
	start := func(provider string) Verification {
		v, err := d.StartVerification(ctx, NewVerification{ApplicantID: a.ID, Provider: provider, Reference: provider + "-ref", Status: "invited"}, AuditEntry{})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	bp, idfy := start("blockpass"), start("idfy")
	start("corepass")
	start("verifyyou")
	will := t0.Add(10 * day)
	if err := d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: bp.ID, Source: "poll", Status: "approved", ProviderStatus: "approved",
		Certificates: []CertificateInput{{Provider: "blockpass", Name: "willArchiveAt", Value: will.Format(time.RFC3339)}}}); err != nil {
		t.Fatal(err)
	}
	if err := d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: idfy.ID, Source: "poll", Status: "withdrawn", ProviderStatus: "purged", At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ApplyWithdrawal(ctx, a.ID, "verifyyou", "connection_deleted", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	copies, err := d.ProviderCopies(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]ProviderCopy{}
	for _, c := range copies {
		got[c.Provider] = c
	}
	if len(got) != 4 || !got["blockpass"].DeletesAt.Equal(will) || got["blockpass"].Deleted {
		t.Errorf("blockpass = %+v", got["blockpass"])
	}
	if c := got["idfy"]; !c.Deleted || !c.DeletedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("idfy = %+v", c)
	}
	if c := got["verifyyou"]; c.WithdrawnEvent != "connection_deleted" || !c.Withdrawn.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("verifyyou = %+v", c)
	}
	if c := got["corepass"]; c.Deleted || !c.DeletesAt.IsZero() {
		t.Errorf("corepass = %+v", c)
	}
	// Blockpass later reports the copy archived.
	if err := d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: bp.ID, Source: "poll",
		Certificates: []CertificateInput{{Provider: "blockpass", Name: "isArchived", Value: "true"}}}); err != nil {
		t.Fatal(err)
	}
	copies, _ = d.ProviderCopies(ctx, a.ID)
	for _, c := range copies {
		if c.Provider == "blockpass" && !c.Deleted {
			t.Errorf("blockpass after isArchived = %+v", c)
		}
	}
}
