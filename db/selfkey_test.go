package db

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const (
	walletA = "did:eth:0xa53e8abf48e320e5a23dd731127abdabd624759d"
	walletB = "did:eth:0x00000000000000000000000000000000000000b0"
)

var walletClient = SelfKeyClient{UserAgent: "SelfKeyIDW/2.1.3", Origin: "IDW"}

func TestSelfKeyChallengeIsSpentOnce(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	store := d.SelfKeyChallenges()
	exp := t0.Add(30 * time.Minute)

	// Concurrent answers to the same challenge: exactly one is first.
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := store.Use(ctx, "challenge:abc", exp)
			if err != nil {
				t.Error(err)
				return
			}
			if first {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firsts != 1 {
		t.Fatalf("%d of 8 concurrent uses were first, want exactly 1", firsts)
	}
	if first, _ := store.Use(ctx, "user:abc", exp); !first {
		t.Fatal("a different key was refused")
	}

	// An id long expired is purged by a later use, so the table stays small.
	old := t0.Add(-3 * time.Hour)
	if first, _ := store.Use(ctx, "challenge:old", old); !first {
		t.Fatal("first use of an expired id refused")
	}
	if _, err := store.Use(ctx, "challenge:other", exp); err != nil {
		t.Fatal(err)
	}
	var n int
	d.read.QueryRowContext(ctx, "SELECT count(*) FROM selfkey_spent WHERE key = 'challenge:old'").Scan(&n)
	if n != 0 {
		t.Fatal("expired spent id not purged")
	}
	if _, err := store.Use(ctx, "", exp); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty key: %v", err)
	}
}

func TestSelfKeyUploadsAreSealedAndSingleUse(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	marker := []byte("PLAINTEXT-PASSPORT-SCAN-MARKER")
	if err := d.SelfKeyWalletSeen(ctx, walletA, walletClient); err != nil {
		t.Fatal(err)
	}
	id, err := d.StoreSelfKeyFile(ctx, SelfKeyFileInput{Subject: walletA, ContentType: "image/png", Data: marker, Client: walletClient, ExpiresAt: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	other, err := d.StoreSelfKeyFile(ctx, SelfKeyFileInput{Subject: walletB, ContentType: "image/jpeg", Data: []byte("b's file"), ExpiresAt: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	assertNotOnDisk(t, d, marker)

	user := func(files ...SelfKeyFileRef) (SelfKeyResult, error) {
		return d.SaveSelfKeyUser(ctx, SelfKeyUserInput{SelfKeySubmission: SelfKeySubmission{Subject: walletA, Files: files,
			Attributes: []AttributeInput{{Provider: "selfkey", Meaning: "first_name", Name: "first-name", Value: "Ada"}},
			Status:     "in_progress", ProviderStatus: "UPLOADED", Client: walletClient}, Name: "Ada Lovelace"})
	}
	for _, tc := range []struct {
		name string
		ref  SelfKeyFileRef
		want error
	}{
		{"another wallet's file", SelfKeyFileRef{FileID: other, Name: "passport.image"}, ErrSelfKeyFileUnknown},
		{"unknown id", SelfKeyFileRef{FileID: "0123456789abcdef0123456789abcdef", Name: "passport.image"}, ErrSelfKeyFileUnknown},
		{"declared JPEG, is PNG", SelfKeyFileRef{FileID: id, Name: "passport.image", DeclaredType: "image/jpeg"}, ErrSelfKeyFileMislabelled},
	} {
		if _, err := user(tc.ref); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	r, err := user(SelfKeyFileRef{FileID: id, Name: "passport.image", DeclaredType: "image/png"})
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := d.Documents(ctx, r.ApplicantID)
	if len(docs) != 1 || docs[0].ContentType != "image/png" || docs[0].Name != "passport.image" {
		t.Fatalf("documents = %+v", docs)
	}
	if _, data, _ := d.DocumentData(ctx, r.ApplicantID, docs[0].ID); !bytes.Equal(data, marker) {
		t.Fatal("document bytes differ from the upload")
	}
	if _, err := user(SelfKeyFileRef{FileID: id, Name: "passport.image"}); !errors.Is(err, ErrSelfKeyFileUnknown) {
		t.Fatalf("a used file was accepted again: %v", err)
	}

	// With a user, an upload is sealed with the applicant's data key.
	id2, err := d.StoreSelfKeyFile(ctx, SelfKeyFileInput{Subject: walletA, ContentType: "image/png", Data: marker, ExpiresAt: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var owner int64
	d.read.QueryRowContext(ctx, "SELECT applicant_id FROM selfkey_files WHERE file_id = ?", id2).Scan(&owner)
	if owner != r.ApplicantID {
		t.Fatalf("upload of a known wallet not bound to its applicant: %d", owner)
	}
	d.Checkpoint(ctx)
	assertNotOnDisk(t, d, marker)

	// A wallet cannot pile up unused uploads.
	for i := 0; ; i++ {
		_, err := d.StoreSelfKeyFile(ctx, SelfKeyFileInput{Subject: walletB, ContentType: "image/png", Data: []byte("x"), ExpiresAt: t0.Add(time.Hour)})
		if errors.Is(err, ErrSelfKeyTooManyFiles) {
			if i+1 != MaxSelfKeyPendingFiles { // walletB already has one
				t.Fatalf("refused after %d more uploads", i)
			}
			break
		}
		if err != nil || i > MaxSelfKeyPendingFiles {
			t.Fatalf("upload %d: %v", i, err)
		}
	}

	// Expired uploads are refused and purged.
	late, err := d.StoreSelfKeyFile(ctx, SelfKeyFileInput{Subject: walletA, ContentType: "image/png", Data: []byte("late"), ExpiresAt: t0.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := user(SelfKeyFileRef{FileID: late, Name: "x"}); !errors.Is(err, ErrSelfKeyFileUnknown) {
		t.Fatalf("expired upload accepted: %v", err)
	}
}

// assertNotOnDisk fails when b is anywhere in the database's files.
func assertNotOnDisk(t *testing.T, d *DB, b []byte) {
	t.Helper()
	matches, _ := filepath.Glob(d.Path() + "*")
	for _, m := range matches {
		raw, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, b) {
			t.Fatalf("%s holds the plaintext", filepath.Base(m))
		}
	}
}

func TestSelfKeyUserThenApplicationEntersReview(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	sub := func(status, providerStatus string, attrs ...AttributeInput) SelfKeySubmission {
		return SelfKeySubmission{Subject: walletA, Attributes: attrs, Status: status, ProviderStatus: providerStatus, Client: walletClient}
	}
	app := SelfKeyApplicationInput{SelfKeySubmission: sub("needs_review", "IN_PROGRESS",
		AttributeInput{Provider: "selfkey", Meaning: "date_of_birth", Name: "date-of-birth", Value: "1990-12-10"}), TemplateID: "standard", TemplateName: "Identity verification"}
	if _, err := d.SeedSelfKeyTemplates(ctx, []SelfKeyTemplate{{ID: "standard", Name: "Identity verification",
		Attributes: []SelfKeyTemplateAttribute{{ID: "dob", SchemaID: "http://platform.selfkey.org/schema/attribute/date-of-birth.json", Required: true}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateSelfKeyApplication(ctx, app); !errors.Is(err, ErrSelfKeyNoUser) {
		t.Fatalf("application before the user: %v", err)
	}
	if _, err := d.SelfKeyLatestVerification(ctx, walletA); !errors.Is(err, ErrSelfKeyNoUser) {
		t.Fatalf("login before the user: %v", err)
	}

	u, err := d.SaveSelfKeyUser(ctx, SelfKeyUserInput{SelfKeySubmission: sub("in_progress", "UPLOADED",
		AttributeInput{Provider: "selfkey", Meaning: "first_name", Name: "first-name", Value: "Ada"}), Name: "Ada Lovelace", Email: "ada@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := d.Applicant(ctx, u.ApplicantID)
	if !u.NewApplicant || a.Name != "Ada Lovelace" || a.Status != "in_progress" {
		t.Fatalf("applicant = %+v (new %v)", a, u.NewApplicant)
	}
	w, err := d.SelfKeyWallet(ctx, walletA)
	if err != nil || w.ApplicantID != u.ApplicantID || w.Client != walletClient {
		t.Fatalf("wallet = %+v, %v", w, err)
	}
	links, _ := d.ProviderLinks(ctx, u.ApplicantID)
	if len(links) != 1 || links[0].ExternalID != walletA || links[0].Reference == "" {
		t.Fatalf("links = %+v", links)
	}
	// Searchable by name and by the link's reference, indexed with it.
	if searchCount(t, d, "lovelace") != 1 || searchCount(t, d, links[0].Reference) != 1 {
		t.Error("a search does not find the wallet's new applicant by name and link reference")
	}
	// The same wallet sharing again adds to the same applicant and login.
	again, err := d.SaveSelfKeyUser(ctx, SelfKeyUserInput{SelfKeySubmission: sub("in_progress", "UPLOADED")})
	if err != nil || again.ApplicantID != u.ApplicantID || again.VerificationID != u.VerificationID || again.NewApplicant {
		t.Fatalf("second /users = %+v, %v", again, err)
	}

	r, err := d.CreateSelfKeyApplication(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if r.VerificationID != u.VerificationID || len(r.ApplicationID) != 32 {
		t.Fatalf("the application did not take the login's verification: %+v", r)
	}
	v, _ := d.Verification(ctx, r.VerificationID)
	if v.Status != "needs_review" || v.ProviderStatus != "IN_PROGRESS" || v.ProviderRef != r.ApplicationID {
		t.Fatalf("verification = %s / %s / %s", v.Status, v.ProviderStatus, v.ProviderRef)
	}
	var queued int
	d.read.QueryRowContext(ctx, "SELECT count(*) FROM review_queue WHERE verification_id = ?", v.ID).Scan(&queued)
	if queued != 1 {
		t.Fatal("the application is not in the review queue")
	}
	rec, err := d.SelfKeyApplicationByVerification(ctx, v.ID)
	if err != nil || rec.TemplateID != "standard" || rec.Attributes != 1 || rec.Client.UserAgent != "SelfKeyIDW/2.1.3" {
		t.Fatalf("application record = %+v, %v", rec, err)
	}
	// A second application is a verification of its own.
	r2, err := d.CreateSelfKeyApplication(ctx, app)
	if err != nil || r2.VerificationID == r.VerificationID {
		t.Fatalf("second application = %+v, %v", r2, err)
	}
	latest, err := d.SelfKeyLatestVerification(ctx, walletA)
	if err != nil || latest.ID != r2.VerificationID {
		t.Fatalf("login target = %d, %v", latest.ID, err)
	}
	if got := len(auditOf(t, d, "selfkey.application")); got != 2 {
		t.Fatalf("%d application audit entries", got)
	}
}

func TestSelfKeyUserJoinsALinkByReference(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	a, err := d.CreateApplicant(ctx, NewApplicant{Name: "Invited Person"}, AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.StartVerification(ctx, NewVerification{ApplicantID: a.ID, Provider: "selfkey", Reference: "sk_invite", Status: "invited"}, AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	in := func(subject, ref string) SelfKeyUserInput {
		return SelfKeyUserInput{SelfKeySubmission: SelfKeySubmission{Subject: subject, Status: "in_progress", ProviderStatus: "UPLOADED"}, Reference: ref, Name: "Someone"}
	}
	r, err := d.SaveSelfKeyUser(ctx, in(walletA, "sk_invite"))
	if err != nil || r.ApplicantID != a.ID || r.NewApplicant {
		t.Fatalf("wallet did not join the invited applicant: %+v, %v", r, err)
	}
	// A second wallet naming the same reference gets an applicant of its own.
	r2, err := d.SaveSelfKeyUser(ctx, in(walletB, "sk_invite"))
	if err != nil || r2.ApplicantID == a.ID || !r2.NewApplicant {
		t.Fatalf("a second wallet took over the link: %+v, %v", r2, err)
	}
}

func TestSelfKeyArchiveTakesTheWallet(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	r, err := d.SaveSelfKeyUser(ctx, SelfKeyUserInput{SelfKeySubmission: SelfKeySubmission{Subject: walletA, Status: "in_progress", ProviderStatus: "UPLOADED"}, Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.StoreSelfKeyFile(ctx, SelfKeyFileInput{Subject: walletA, ContentType: "image/jpeg", Data: []byte("pending"), ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Archive(ctx, r.ApplicantID, ArchiveRequest{Rule: RuleManual, Audit: AuditEntry{Actor: "test"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SelfKeyWallet(ctx, walletA); !errors.Is(err, ErrNotFound) {
		t.Fatalf("wallet kept after archive: %v", err)
	}
	var files int
	d.read.QueryRowContext(ctx, "SELECT count(*) FROM selfkey_files").Scan(&files)
	if files != 0 {
		t.Fatalf("%d pending uploads kept after archive", files)
	}
	// The wallet coming back is a new user, not the archived applicant.
	again, err := d.SaveSelfKeyUser(ctx, SelfKeyUserInput{SelfKeySubmission: SelfKeySubmission{Subject: walletA, Status: "in_progress", ProviderStatus: "UPLOADED"}, Name: "Ada"})
	if err != nil || again.ApplicantID == r.ApplicantID {
		t.Fatalf("returning wallet = %+v, %v", again, err)
	}
}

func TestSelfKeyTemplates(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	std := SelfKeyTemplate{ID: "standard", Name: "Identity", Attributes: []SelfKeyTemplateAttribute{
		{ID: "first_name", SchemaID: "http://platform.selfkey.org/schema/attribute/first-name.json", Required: true}}}
	if seeded, err := d.SeedSelfKeyTemplates(ctx, []SelfKeyTemplate{std}); err != nil || !seeded {
		t.Fatalf("first seed: %v %v", seeded, err)
	}
	std.Active = false
	if err := d.UpdateSelfKeyTemplate(ctx, std, AuditEntry{Actor: "admin@example.com"}); err != nil {
		t.Fatal(err)
	}
	// Seeding again never brings a template back.
	if seeded, err := d.SeedSelfKeyTemplates(ctx, []SelfKeyTemplate{{ID: "other", Name: "x", Attributes: std.Attributes}}); err != nil || seeded {
		t.Fatalf("second seed: %v %v", seeded, err)
	}
	if active, _ := d.SelfKeyTemplates(ctx, true); len(active) != 0 {
		t.Fatalf("inactive template offered: %+v", active)
	}
	all, _ := d.SelfKeyTemplates(ctx, false)
	if len(all) != 1 || all[0].UpdatedBy != "admin@example.com" || all[0].Attributes[0].SchemaID != std.Attributes[0].SchemaID {
		t.Fatalf("templates = %+v", all)
	}
	if err := d.CreateSelfKeyTemplate(ctx, std, AuditEntry{Actor: "admin@example.com"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate id: %v", err)
	}
	if err := d.UpdateSelfKeyTemplate(ctx, SelfKeyTemplate{ID: "nope", Name: "x", Attributes: std.Attributes}, AuditEntry{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a missing template: %v", err)
	}
	if err := d.CreateSelfKeyTemplate(ctx, SelfKeyTemplate{ID: "empty", Name: "x"}, AuditEntry{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("template without attributes: %v", err)
	}
	// The database refuses what Go might let through.
	if _, err := d.write.ExecContext(ctx, `INSERT INTO selfkey_templates(id, name, attributes, created_at, updated_at) VALUES ('bad', 'x', '[]', 0, 0)`); err == nil {
		t.Fatal("a template without attributes was stored")
	}
	if got := len(auditOf(t, d, "selfkey.template.update")); got != 1 {
		t.Fatalf("%d update audit entries", got)
	}
}

func auditOf(t *testing.T, d *DB, action string) []AuditEntry {
	t.Helper()
	entries, err := d.ListAudit(context.Background(), AuditFilter{Action: action, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}
