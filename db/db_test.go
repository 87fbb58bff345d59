package db

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestMigrateTwiceChangesNothing(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	schema := func() string {
		var s string
		if err := d.read.QueryRowContext(ctx, "SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name)").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := schema()
	v1, _ := d.SchemaVersion(ctx)
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	v2, _ := d.SchemaVersion(ctx)
	if schema() != before || v1 != v2 || v1 == 0 {
		t.Fatalf("second migrate changed the schema (versions %d -> %d)", v1, v2)
	}
}

func TestPragmas(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "secure_delete": "1"} {
		var got string
		if err := d.write.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if _, err := d.read.ExecContext(ctx, "INSERT INTO settings(key, value) VALUES ('x', 'y')"); err == nil {
		t.Error("the read pool accepted a write")
	}
}

func TestPIIEncryptedAndDestroyable(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	a, err := d.CreateApplicant(ctx, NewApplicant{Name: "Canary Person"}, AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := d.CreateApplicant(ctx, NewApplicant{Name: "Other Person"}, AuditEntry{Actor: "test"})
	if err := d.PutPII(ctx, a.ID, []AttributeInput{{Provider: "corepass", Meaning: "date_of_birth", Name: "SH_IDCard_DOB", Value: "1971-02-03", Pepper: "pep"}},
		[]DocumentInput{{Provider: "corepass", Name: "face.jpg", ContentType: "image/jpeg", Data: []byte("JPEGCANARY")}}); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := d.read.QueryRowContext(ctx, "SELECT value_ct FROM attributes WHERE applicant_id = ?", a.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if string(raw) == "1971-02-03" || len(raw) < 20 {
		t.Fatal("attribute stored in plaintext")
	}
	attrs, err := d.Attributes(ctx, a.ID)
	if err != nil || len(attrs) != 1 || attrs[0].Value != "1971-02-03" || attrs[0].Pepper != "pep" {
		t.Fatalf("attributes = %+v, %v", attrs, err)
	}
	// A ciphertext moved to another applicant does not open.
	if _, err := d.write.ExecContext(ctx, "UPDATE attributes SET applicant_id = ? WHERE applicant_id = ?", b.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Attributes(ctx, b.ID); err == nil {
		t.Fatal("a ciphertext moved to another applicant decrypted")
	}
	if _, err := d.write.ExecContext(ctx, "UPDATE attributes SET applicant_id = ? WHERE applicant_id = ?", a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	// Tampered ciphertext.
	if _, err := d.write.ExecContext(ctx, "UPDATE documents SET data_ct = substr(data_ct, 1, length(data_ct) - 1) || x'00' WHERE applicant_id = ?", a.ID); err != nil {
		t.Fatal(err)
	}
	docs, _ := d.Documents(ctx, a.ID)
	if _, _, err := d.DocumentData(ctx, a.ID, docs[0].ID); err == nil {
		t.Fatal("a tampered document decrypted")
	}
	if err := d.DestroyDataKey(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Attributes(ctx, a.ID); !errors.Is(err, ErrKeyDestroyed) {
		t.Fatalf("after key destruction err = %v, want ErrKeyDestroyed", err)
	}
}

func TestListApplicantsKeysetAndFilters(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	if err := d.Seed(ctx, SeedOptions{N: 1234, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	var total int
	d.read.QueryRowContext(ctx, "SELECT count(*) FROM applicants").Scan(&total)
	if total != 1234 {
		t.Fatalf("seeded %d applicants", total)
	}
	cases := []struct {
		name string
		f    ApplicantFilter
		want string // SQL count of matches
		args []any
	}{
		{"all", ApplicantFilter{}, "SELECT count(*) FROM applicants", nil},
		{"status", ApplicantFilter{Status: "approved"}, "SELECT count(*) FROM applicants WHERE status = 'approved'", nil},
		{"provider", ApplicantFilter{Provider: "corepass"}, "SELECT count(*) FROM provider_links WHERE provider = 'corepass'", nil},
		{"provider+status", ApplicantFilter{Provider: "idfy", Status: "needs_review"}, "SELECT count(*) FROM provider_links WHERE provider = 'idfy' AND status = 'needs_review'", nil},
		{"search", ApplicantFilter{Query: "okafor"}, "SELECT count(*) FROM applicants WHERE display_name LIKE '%Okafor%'", nil},
		{"search+provider", ApplicantFilter{Query: "Okafor", Provider: "blockpass"}, "SELECT count(*) FROM applicants a JOIN provider_links l ON l.applicant_id = a.id WHERE display_name LIKE '%Okafor%' AND l.provider = 'blockpass'", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want int
			if err := d.read.QueryRowContext(ctx, tc.want).Scan(&want); err != nil {
				t.Fatal(err)
			}
			if want == 0 {
				t.Fatal("the fixture has no matching rows; the case proves nothing")
			}
			seen := map[int64]bool{}
			f := tc.f
			f.Limit = 50
			var lastKey int64 = 1 << 62
			for pages := 0; ; pages++ {
				page, err := d.ListApplicants(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range page.Rows {
					if seen[a.ID] {
						t.Fatalf("applicant %d on two pages", a.ID)
					}
					seen[a.ID] = true
					if tc.f.Status != "" && tc.f.Provider == "" && a.Status != tc.f.Status {
						t.Fatalf("row status %s", a.Status)
					}
					key := a.UpdatedAt.UnixMilli()
					if tc.f.Query != "" {
						key = a.ID
					}
					if key > lastKey {
						t.Fatal("rows out of order")
					}
					lastKey = key
				}
				if page.Next.IsZero() {
					break
				}
				f.After = page.Next
			}
			if len(seen) != want {
				t.Fatalf("paged through %d rows, want %d", len(seen), want)
			}
		})
	}
}

func TestFTSQueryIsSafe(t *testing.T) {
	for in, want := range map[string]string{
		`erika`:               `"erika"*`,
		`"; DROP TABLE x; --`: `"drop"* AND "table"* AND "x" AND "--"*`,
		`NEAR(a b) OR c*`:     `"near"* AND "a" AND "b" AND "or"* AND "c"`,
		`schmidt96 Lukas`:     `("schmidt96"* OR ("schmidt" "96"*)) AND "lukas"*`,
		`O'Brien`:             `"o" AND "brien"*`,
		`nakamura7`:           `("nakamura7"* OR ("nakamura" "7"*))`,
		`é`:                   `"é"`,
		`KD-7K2M`:             `"kd-7k2m"*`,
		``:                    ``,
	} {
		if got := ftsQuery(in); got != want {
			t.Errorf("ftsQuery(%q) = %q, want %q", in, got, want)
		}
	}
	d := openTest(t, t0)
	for _, q := range []string{`"`, `*`, `a"b`, `NEAR(`, `-`, "\x00"} {
		if _, err := d.ListApplicants(context.Background(), ApplicantFilter{Query: q}); err != nil {
			t.Errorf("query %q: %v", q, err)
		}
	}
}

func TestSessionsTimeOutAndEnd(t *testing.T) {
	ctx := context.Background()
	now := t0
	d := openTest(t, t0)
	d.now = func() time.Time { return now }
	u, err := d.CreateUser(ctx, "a@example.com", "admin", "x", AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	lim := SessionLimits{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}
	id, _ := d.CreateSession(ctx, u.ID, "")
	for i := 0; i < 30; i++ { // active every 25 minutes for 12.5 hours
		now = now.Add(25 * time.Minute)
		_, err := d.SessionUser(ctx, id, lim)
		if now.Sub(t0) <= 12*time.Hour && err != nil {
			t.Fatalf("session ended early at %s: %v", now.Sub(t0), err)
		}
		if now.Sub(t0) > 12*time.Hour && err == nil {
			t.Fatal("session outlived its absolute lifetime")
		}
	}
	id2, _ := d.CreateSession(ctx, u.ID, "")
	now = now.Add(31 * time.Minute)
	if _, err := d.SessionUser(ctx, id2, lim); err == nil {
		t.Fatal("idle session still valid")
	}
	id3, _ := d.CreateSession(ctx, u.ID, "")
	d.DeleteSession(ctx, id3)
	if _, err := d.SessionUser(ctx, id3, lim); err == nil {
		t.Fatal("deleted session still valid")
	}
}

func TestOnlyWholeWords(t *testing.T) {
	for q, want := range map[string]bool{"k": true, "K.": true, "k l": true, "é": true, "kl": false, "k lukas": false, "": false, "!!": false} {
		if got := OnlyWholeWords(q); got != want {
			t.Errorf("OnlyWholeWords(%q) = %v, want %v", q, got, want)
		}
	}
}

// TestSearchOneCharacterWords: a one-character word matches that word
// whole (prefixTerm), so "O'Brien" finds O'Brien and not every name
// starting with an O.
func TestSearchOneCharacterWords(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	var ids []int64
	// Brien Olsen has a word starting with o and none that is o.
	for _, name := range []string{"Finn O'Brien", "Olu Obi", "Ana B. Costa", "Brien Olsen"} {
		a, err := d.CreateApplicant(ctx, NewApplicant{Name: name}, AuditEntry{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	for q, want := range map[string]int64{"o'brien": ids[0], "O Brien": ids[0], "b": ids[2], "costa b": ids[2]} {
		page, err := d.ListApplicants(ctx, ApplicantFilter{Query: q})
		if err != nil || len(page.Rows) != 1 || page.Rows[0].ID != want {
			t.Errorf("search %q: %d rows, %v", q, len(page.Rows), err)
		}
	}
}

func TestSearchFindsEmailsWithDigits(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	a, err := d.CreateApplicant(ctx, NewApplicant{Name: "Lukas Schmidt", Email: "lukas.schmidt96@example.com"}, AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"lukas.schmidt96@example.com", "schmidt96", "schmidt", "schm", "lukas schmidt", "schmidt9"} {
		page, err := d.ListApplicants(ctx, ApplicantFilter{Query: q})
		if err != nil || len(page.Rows) != 1 || page.Rows[0].ID != a.ID {
			t.Errorf("search %q: %d rows, %v", q, len(page.Rows), err)
		}
	}
	if page, _ := d.ListApplicants(ctx, ApplicantFilter{Query: "schmidt97"}); len(page.Rows) != 0 {
		t.Error("search schmidt97 found schmidt96")
	}
	if page, _ := d.ListApplicants(ctx, ApplicantFilter{Query: a.Ref}); len(page.Rows) != 1 {
		t.Error("search by the full reference found nothing")
	}
}

// TestListApplicantsShowsAssigneesAndHolds: the list reads assignees by id
// and their emails after, once per page, and the legal hold as NULL unless
// it is on.
func TestListApplicantsShowsAssigneesAndHolds(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	if err := d.Seed(ctx, SeedOptions{N: 60, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	checker, err := d.CreateUser(ctx, "checker@example.com", "checker", "x", AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	maker, err := d.CreateUser(ctx, "maker@example.com", "maker", "x", AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	page, err := d.ListApplicants(ctx, ApplicantFilter{Limit: 50})
	if err != nil || len(page.Rows) != 50 {
		t.Fatalf("%d rows, %v", len(page.Rows), err)
	}
	want := map[int64]string{page.Rows[0].ID: checker.Email, page.Rows[1].ID: maker.Email, page.Rows[2].ID: checker.Email}
	for id, email := range want {
		uid := checker.ID
		if email == maker.Email {
			uid = maker.ID
		}
		if _, err := d.write.ExecContext(ctx, "UPDATE applicants SET assignee_id = ? WHERE id = ?", uid, id); err != nil {
			t.Fatal(err)
		}
	}
	held := page.Rows[4].ID
	if err := d.SetLegalHold(ctx, held, true, "subpoena", AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	page, err = d.ListApplicants(ctx, ApplicantFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range page.Rows {
		if a.Assignee != want[a.ID] {
			t.Errorf("applicant %d: assignee %q, want %q", a.ID, a.Assignee, want[a.ID])
		}
		if a.LegalHold != (a.ID == held) {
			t.Errorf("applicant %d: legal hold %v", a.ID, a.LegalHold)
		}
	}
}

// TestPartialIndexesAreUsed: migration 015's indexes are partial, and
// the lookups by creator and by a provider's own ref read them, which
// they can only if their conditions imply the index's.
func TestPartialIndexesAreUsed(t *testing.T) {
	d := openTest(t, t0)
	for _, name := range []string{"applicants_created_by", "verifications_created_by", "verifications_provider_own_ref"} {
		var def string
		if err := d.read.QueryRowContext(context.Background(), "SELECT sql FROM sqlite_schema WHERE name = ?", name).Scan(&def); err != nil || !strings.Contains(def, " WHERE ") {
			t.Errorf("index %s: %q (%v), want a partial index", name, def, err)
		}
	}
	creator := ApplicantFilter{CreatedBy: 3, Limit: 50}
	creatorSQL, creatorArgs := listQuery(creator, listShape(creator))
	for _, q := range []struct {
		name, sql, index string
		args             []any
	}{
		{"a link creator's applicants", creatorSQL, "applicants_created_by", creatorArgs},
		{"a provider's own ref", "SELECT id FROM verifications WHERE " + byOwnRef + " ORDER BY id DESC LIMIT 1",
			"verifications_provider_own_ref", []any{"blockpass", "rec-1"}},
	} {
		if p := queryPlan(t, d, q.sql, q.args...); !strings.Contains(p, q.index) {
			t.Errorf("%s: %s", q.name, p)
		}
	}
}
