package db

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// canary is one applicant's distinctive personal data: every value is
// unique, so a hit in raw bytes names its owner.
type canary struct {
	Name, Email, DOB, DocNumber, CoreID, JPEGMark string
	Wallet                                        string // a SelfKey subject, when the test adds one
}

func canaryFor(i int) canary {
	return canary{
		Name:      fmt.Sprintf("Quillonia Canaryname%03d", i),
		Email:     fmt.Sprintf("canarymail%03d@example.test", i),
		DOB:       fmt.Sprintf("18%02d-11-%02d", i%100, 1+i%28),
		DocNumber: fmt.Sprintf("XQ%07dZC", i),
		CoreID:    fmt.Sprintf("cb%02d%040d", 11+i%80, 7770000+i),
		JPEGMark:  fmt.Sprintf("JPEGCANARY%03d", i),
	}
}

// strings lists the values that appear in plain text while the applicant
// is live (the rest are sealed).
func (c canary) plain() []string {
	if c.Wallet != "" {
		return []string{c.Name, c.Email, c.CoreID, c.Wallet}
	}
	return []string{c.Name, c.Email, c.CoreID}
}

// all lists every canary value.
func (c canary) all() []string {
	all := []string{c.Name, c.Email, c.DOB, c.DocNumber, c.CoreID, c.JPEGMark}
	if c.Wallet != "" {
		all = append(all, c.Wallet)
	}
	return all
}

// canaryJPEG is a minimal JPEG (SOI, a comment segment carrying the mark,
// EOI).
func canaryJPEG(mark string) []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xFE, 0, byte(len(mark) + 2)}
	b = append(b, mark...)
	return append(b, 0xFF, 0xD9)
}

// addCanary creates an applicant holding c: a CorePass verification with
// the Core ID, attributes (one with a pepper), a JPEG, a certificate.
func addCanary(t *testing.T, d *DB, c canary) Applicant {
	t.Helper()
	ctx := context.Background()
	a, err := d.CreateApplicant(ctx, NewApplicant{Name: c.Name, Email: c.Email}, AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := d.StartVerification(ctx, NewVerification{ApplicantID: a.ID, Provider: "corepass", Reference: "cp-" + a.Ref,
		ProviderRef: c.CoreID + ":full_name,dob", ExternalID: c.CoreID, Status: "invited", ProviderStatus: "PENDING",
		Link: "https://connector.example/qr?session=" + a.Ref, QRPNG: []byte("png"), Detail: "verification started"}, AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	err = d.ApplyUpdate(ctx, VerificationUpdate{VerificationID: v.ID, Source: "callback", Status: "approved", ProviderStatus: "FINISH_SUCCESS",
		TxHash: "0xabc" + a.Ref,
		Attributes: []AttributeInput{
			{Provider: "corepass", Meaning: "full_name", Name: "SH_FullName", Value: c.Name, Pepper: "pepper-" + c.DocNumber},
			{Provider: "corepass", Meaning: "date_of_birth", Name: "SH_DOB", Value: c.DOB},
			{Provider: "corepass", Meaning: "document_number", Name: "SH_DocNo", Value: c.DocNumber},
		},
		Documents:    []DocumentInput{{Provider: "corepass", Name: "face.jpg", ContentType: "image/jpeg", Data: canaryJPEG(c.JPEGMark)}},
		Certificates: []CertificateInput{{Provider: "corepass", Name: "tx_hash", Value: "0xcert" + a.Ref}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestArchiveDeletesPersonalDataAndKeepsTheRecord(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	c := canaryFor(1)
	a := addCanary(t, d, c)
	other := addCanary(t, d, canaryFor(2))
	timelineBefore, _ := d.Timeline(ctx, a.ID, 0)

	r, err := d.Archive(ctx, a.ID, ArchiveRequest{Reason: "customer asked", Audit: AuditEntry{ActorID: 0, Actor: "checker@example.com", IP: "10.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Deleted{Attributes: 3, Peppers: 1, Documents: 1, DocumentBytes: int64(len(canaryJPEG(c.JPEGMark))), DataKeys: 1, SearchRows: 1,
		Name: 1, Email: 1, ProviderIDs: 1, Links: 1}
	if r.Deleted != want {
		t.Errorf("receipt counts = %+v\nwant %+v", r.Deleted, want)
	}
	if r.Rule != RuleManual || r.Reason != "customer asked" || r.Actor != "checker@example.com" || r.Ref != a.Ref {
		t.Errorf("receipt = %+v", r)
	}

	got, err := d.Applicant(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Archived() || got.Name != "" || got.Email != "" || got.Status != "approved" {
		t.Errorf("archived applicant = %+v", got)
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := d.read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for q, wantN := range map[string]int{
		"SELECT count(*) FROM attributes WHERE applicant_id = ?":                                           0,
		"SELECT count(*) FROM documents WHERE applicant_id = ?":                                            0,
		"SELECT count(*) FROM data_keys WHERE applicant_id = ?":                                            0,
		"SELECT count(*) FROM provider_links WHERE applicant_id = ? AND external_id != ''":                 0,
		"SELECT count(*) FROM verifications WHERE applicant_id = ? AND (link != '' OR qr_png IS NOT NULL)": 0,
		"SELECT count(*) FROM verifications WHERE applicant_id = ? AND provider_ref != ''":                 0,
		"SELECT count(*) FROM certificates WHERE applicant_id = ?":                                         1,
		"SELECT count(*) FROM provider_links WHERE applicant_id = ? AND status = 'approved'":               1,
	} {
		if n := count(q, a.ID); n != wantN {
			t.Errorf("%s = %d, want %d", q, n, wantN)
		}
	}
	if _, err := d.Attributes(ctx, a.ID); err != nil {
		t.Errorf("attributes of an archived applicant: %v (want none, no error)", err)
	}
	timeline, _ := d.Timeline(ctx, a.ID, 0)
	if len(timeline) != len(timelineBefore)+1 || !strings.Contains(timeline[0].Detail, "Archived") || timeline[len(timeline)-1].TxHash == "" && timelineBefore[len(timelineBefore)-1].TxHash != "" {
		t.Errorf("timeline not kept plus one archive event: %d -> %d events", len(timelineBefore), len(timeline))
	}
	for _, q := range []string{"canaryname001", c.Email, c.CoreID} {
		page, err := d.ListApplicants(ctx, ApplicantFilter{Query: q})
		if err != nil || len(page.Rows) != 0 {
			t.Errorf("search %q still finds %d rows (%v)", q, len(page.Rows), err)
		}
	}
	if page, _ := d.ListApplicants(ctx, ApplicantFilter{Query: "canaryname002"}); len(page.Rows) != 1 || page.Rows[0].ID != other.ID {
		t.Error("the other applicant is no longer found by name")
	}
	if attrs, err := d.Attributes(ctx, other.ID); err != nil || len(attrs) != 3 {
		t.Errorf("the other applicant's attributes: %d, %v", len(attrs), err)
	}

	// The receipt is chained into the audit log and verifies.
	if _, err := d.VerifyReceipt(ctx, a.ID); err != nil {
		t.Errorf("receipt: %v", err)
	}
	entries, _ := d.ListAudit(ctx, AuditFilter{Action: "applicant.archive"})
	if len(entries) != 1 || entries[0].Hash != r.AuditHash || !strings.Contains(entries[0].Detail, r.Digest) || strings.Contains(entries[0].Detail, "customer") {
		t.Errorf("audit entries = %+v", entries)
	}
	if _, brk, err := d.VerifyAudit(ctx); err != nil || brk != nil {
		t.Errorf("audit chain: %v %v", brk, err)
	}

	// Archiving is final and total, also below the Go API.
	if _, err := d.Archive(ctx, a.ID, ArchiveRequest{}); !errors.Is(err, ErrArchived) {
		t.Errorf("second archive: %v, want ErrArchived", err)
	}
	if err := d.PutPII(ctx, a.ID, []AttributeInput{{Provider: "corepass", Meaning: "x", Name: "x", Value: "late"}}, nil); err == nil {
		t.Error("personal data stored for an archived applicant")
	}
	for _, q := range []string{
		"UPDATE applicants SET archived_at = NULL WHERE id = ?",
		"UPDATE applicants SET display_name = 'Back Again' WHERE id = ?",
		"INSERT INTO data_keys(applicant_id, kek_id, wrapped, created_at) VALUES (?, 'x', x'00', 0)",
		"INSERT INTO documents(applicant_id, provider, name, content_type, size, data_ct, created_at) VALUES (?, 'x', 'x', 'x', 0, x'00', 0)",
		"UPDATE deletion_receipts SET reason = 'edited' WHERE applicant_id = ?",
		"DELETE FROM deletion_receipts WHERE applicant_id = ?",
	} {
		if _, err := d.write.ExecContext(ctx, q, a.ID); err == nil {
			t.Errorf("the database accepted %q", q)
		}
	}
}

func TestArchiveRefusesLegalHoldAndMissing(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	a := addCanary(t, d, canaryFor(1))
	if err := d.SetLegalHold(ctx, a.ID, true, "subpoena 17", AuditEntry{Actor: "admin@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Archive(ctx, a.ID, ArchiveRequest{}); !errors.Is(err, ErrLegalHold) {
		t.Fatalf("archive on hold: %v", err)
	}
	if _, err := d.write.ExecContext(ctx, "UPDATE applicants SET archived_at = 1 WHERE id = ?", a.ID); err == nil {
		t.Error("the database archived an applicant on legal hold")
	}
	if _, err := d.Archive(ctx, 999, ArchiveRequest{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("archive missing: %v", err)
	}
	holds, _ := d.ListAudit(ctx, AuditFilter{Action: "applicant.legal_hold"})
	if len(holds) != 1 || holds[0].Detail != "placed: subpoena 17" {
		t.Errorf("hold audit = %+v", holds)
	}
	if err := d.SetLegalHold(ctx, a.ID, false, "", AuditEntry{Actor: "admin@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Archive(ctx, a.ID, ArchiveRequest{}); err != nil {
		t.Fatalf("archive after the hold was lifted: %v", err)
	}
	if err := d.SetLegalHold(ctx, a.ID, true, "", AuditEntry{}); !errors.Is(err, ErrArchived) {
		t.Errorf("hold on an archived applicant: %v", err)
	}
}

func TestArchiveManyReportsWhatItSkipped(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	if err := d.Seed(ctx, SeedOptions{N: 250, WithPII: true, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	ids, _ := queryIDs(ctx, d.read, "SELECT id FROM applicants ORDER BY id")
	if err := d.SetLegalHold(ctx, ids[3], true, "", AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Archive(ctx, ids[4], ArchiveRequest{}); err != nil {
		t.Fatal(err)
	}
	res, err := d.ArchiveMany(ctx, append(ids, 99999), ArchiveRequest{Reason: "bulk", Audit: AuditEntry{Actor: "admin@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Receipts) != 248 || len(res.Held) != 1 || res.Held[0] != ids[3] || len(res.Already) != 1 || len(res.Missing) != 1 {
		t.Fatalf("bulk = %d receipts, held %v, already %v, missing %v", len(res.Receipts), res.Held, res.Already, res.Missing)
	}
	var left int
	d.read.QueryRowContext(ctx, "SELECT count(*) FROM data_keys").Scan(&left)
	if left != 1 {
		t.Errorf("%d data keys left, want 1 (the applicant on hold)", left)
	}
	if _, brk, err := d.VerifyAudit(ctx); err != nil || brk != nil {
		t.Errorf("audit chain: %v %v", brk, err)
	}
}

func TestReceiptTamperingIsDetected(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	a := addCanary(t, d, canaryFor(1))
	if _, err := d.Archive(ctx, a.ID, ArchiveRequest{Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	// Someone with write access to the file drops the trigger and edits
	// the receipt: the digest no longer matches.
	for _, q := range []string{"DROP TRIGGER deletion_receipts_no_update", "UPDATE deletion_receipts SET deleted = replace(deleted, '\"attributes\":3', '\"attributes\":0')"} {
		if _, err := d.write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.VerifyReceipt(ctx, a.ID); !errors.Is(err, ErrReceiptBroken) {
		t.Errorf("edited receipt verified: %v", err)
	}
}

// TestEveryApplicantTableClassified makes whoever adds a table that refers
// to applicants decide what an archive does with it.
func TestEveryApplicantTableClassified(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	rows, err := d.read.QueryContext(ctx, `SELECT m.name FROM sqlite_schema m WHERE m.type = 'table'
		AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'applicant_id')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		rows.Scan(&name)
		if _, ok := archivePolicy[name]; !ok {
			t.Errorf("table %s refers to applicants but archivePolicy (db/archive.go) does not say what an archive does with it: "+
				"classify it there and delete or blank its personal data in archiveTx", name)
		}
	}
}
