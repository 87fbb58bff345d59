package db

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db/seal"
)

// hits returns the canary values found in the raw bytes of path (its
// lower-cased form too: the search index stores tokens folded).
func hits(t *testing.T, path string, values []string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, v := range values {
		if bytes.Contains(raw, []byte(v)) || bytes.Contains(raw, []byte(strings.ToLower(v))) {
			found = append(found, v)
		}
	}
	return found
}

// heldKeys is every raw data key the system still holds: the live
// database's and the current key export's, unwrapped with the KEK.
func heldKeys(t *testing.T, d *DB, kekRaw []byte, keysPath string) map[int64][]byte {
	t.Helper()
	out := map[int64][]byte{}
	add := func(q *sql.DB, query string) {
		rows, err := q.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var w []byte
			rows.Scan(&id, &w)
			raw, err := unwrapRaw(kekRaw, id, w)
			if err != nil {
				t.Fatalf("a held key does not unwrap: %v", err)
			}
			out[id] = raw
		}
	}
	add(d.read.DB, "SELECT applicant_id, wrapped FROM data_keys")
	exp, err := openPlain(keysPath)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close()
	add(exp, "SELECT applicant_id, wrapped FROM key_export")
	return out
}

// ciphertexts lists every sealed value of an applicant in a database file.
func ciphertexts(t *testing.T, path string, applicantID int64) [][]byte {
	t.Helper()
	s, err := openPlain(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out [][]byte
	for _, q := range []string{
		"SELECT value_ct FROM attributes WHERE applicant_id = ?",
		"SELECT pepper_ct FROM attributes WHERE applicant_id = ? AND pepper_ct IS NOT NULL",
		"SELECT data_ct FROM documents WHERE applicant_id = ?",
		"SELECT ct FROM backup_sealed WHERE applicant_id = ?",
	} {
		rows, err := s.Query(q, applicantID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var b []byte
			rows.Scan(&b)
			out = append(out, b)
		}
		rows.Close()
	}
	return out
}

// opens counts the ciphertexts any held key opens, trying every key as if
// it were the applicant's.
func opens(t *testing.T, cts [][]byte, applicantID int64, keys map[int64][]byte) int {
	t.Helper()
	n := 0
	for _, ct := range cts {
		for _, raw := range keys {
			dk, _ := seal.NewDataKey(applicantID, raw)
			if _, err := dk.Open(ct); err == nil {
				n++
				break
			}
		}
	}
	return n
}

func TestBackupBeforeAnArchiveForgetsTheArchived(t *testing.T) {
	ctx := context.Background()
	kekRaw := seal.NewKey()
	kek, _ := seal.NewKEK(kekRaw)
	dir := t.TempDir()
	d, err := Open(ctx, filepath.Join(dir, "live.db"), Options{KEK: kek, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	staff, err := d.CreateUser(ctx, "checker@example.com", "checker", "x", AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	var people []Applicant
	var canaries []canary
	for i := range 6 {
		c := canaryFor(i)
		canaries = append(canaries, c)
		people = append(people, addCanary(t, d, c))
		// Staff notes may quote personal data.
		if _, err := d.AddNote(ctx, people[i].ID, staff.ID, "called "+c.Name+" about "+c.DocNumber, AuditEntry{Actor: staff.Email}); err != nil {
			t.Fatal(err)
		}
		// A SelfKey wallet's subject identifies the person too (when the
		// SelfKey tables exist).
		if hasTable(t, d, "selfkey_wallets") {
			subject := "did:eth:0x" + strings.Repeat("c", 30) + c.DocNumber
			canaries[i].Wallet = subject
			if _, err := d.write.ExecContext(ctx, `INSERT INTO selfkey_wallets(subject, applicant_id, first_seen_at, last_seen_at) VALUES (?, ?, 0, 0)`, subject, people[i].ID); err != nil {
				t.Fatal(err)
			}
			if _, err := d.write.ExecContext(ctx, `INSERT INTO selfkey_files(file_id, subject, applicant_id, content_type, size, data_ct, created_at, expires_at)
				VALUES (?, ?, ?, 'image/png', 1, zeroblob(40), 0, 0)`, fmt.Sprintf("file-%016d", i), subject, people[i].ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	keys := filepath.Join(dir, "kycdesk-keys.db")
	pre := filepath.Join(dir, "before.db")
	rep, err := d.Backup(ctx, pre, keys)
	if err != nil {
		t.Fatal(err)
	}
	sealed := 5 // name, email, Core ID link, transfer ref, note
	if canaries[0].Wallet != "" {
		sealed++ // the SelfKey wallet subject
	}
	if rep.Applicants != 6 || rep.Keys != 6 || rep.Sealed != 6*sealed {
		t.Errorf("backup report = %+v", rep)
	}
	archived := []int64{people[0].ID, people[1].ID, people[2].ID}
	if _, err := d.ArchiveMany(ctx, archived, ArchiveRequest{Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	post := filepath.Join(dir, "after.db")
	if _, err := d.Backup(ctx, post, keys); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Backup(ctx, post, keys); !errors.Is(err, ErrConflict) {
		t.Errorf("backup over an existing file: %v", err)
	}

	// No snapshot and no key export holds anyone's plain-text data.
	var every []string
	for _, c := range canaries {
		every = append(every, c.all()...)
	}
	for _, f := range []string{pre, post, keys} {
		if h := hits(t, f, every); len(h) > 0 {
			t.Errorf("%s holds plain-text personal data: %v", filepath.Base(f), h)
		}
	}

	// With every key the system still holds, the snapshot made before the
	// archive opens none of the archived applicants' data, and all of the
	// others' (so the attempt is real).
	held := heldKeys(t, d, kekRaw, keys)
	for i, a := range people {
		cts := ciphertexts(t, pre, a.ID)
		if len(cts) != 3+1+1+sealed { // 3 attributes, 1 pepper, 1 document, the sealed fields
			t.Fatalf("applicant %d: %d ciphertexts in the old snapshot", i, len(cts))
		}
		n := opens(t, cts, a.ID, held)
		if i < 3 && n != 0 {
			t.Errorf("archived applicant %d: %d of its ciphertexts in the old snapshot still open", i, n)
		}
		if i >= 3 && n != len(cts) {
			t.Errorf("live applicant %d: only %d of %d ciphertexts open", i, n, len(cts))
		}
	}

	// Restoring either snapshot with the current key export brings the
	// others back whole and the archived ones back archived.
	for _, snap := range []string{pre, post} {
		t.Run("restore "+filepath.Base(snap), func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "restored.db")
			rr, err := Restore(ctx, snap, keys, target, Options{KEK: kek, Now: func() time.Time { return t0 }}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rr.Applicants != 3 {
				t.Errorf("restore report = %+v", rr)
			}
			r, err := Open(ctx, target, Options{KEK: kek})
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range people {
				got, err := r.Applicant(ctx, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				if i < 3 {
					if !got.Archived() || got.Name != "" {
						t.Errorf("archived applicant %d restored as %+v", i, got)
					}
					continue
				}
				c := canaries[i]
				attrs, err := r.Attributes(ctx, a.ID)
				if err != nil || got.Name != c.Name || got.Email != c.Email || len(attrs) != 3 {
					t.Fatalf("applicant %d restored as %+v with %d attributes (%v)", i, got, len(attrs), err)
				}
				docs, _ := r.Documents(ctx, a.ID)
				_, data, err := r.DocumentData(ctx, a.ID, docs[0].ID)
				if err != nil || !bytes.Contains(data, []byte(c.JPEGMark)) {
					t.Errorf("applicant %d document: %v", i, err)
				}
				links, _ := r.ProviderLinks(ctx, a.ID)
				if len(links) != 1 || links[0].ExternalID != c.CoreID {
					t.Errorf("applicant %d links = %+v", i, links)
				}
				if page, _ := r.ListApplicants(ctx, ApplicantFilter{Query: c.Name}); len(page.Rows) != 1 {
					t.Errorf("applicant %d not found by name after restore", i)
				}
				if notes, _ := r.Notes(ctx, a.ID, 10); len(notes) != 1 || !strings.Contains(notes[0].Body, c.Name) {
					t.Errorf("applicant %d notes after restore = %+v", i, notes)
				}
				if c.Wallet != "" {
					var n int
					r.read.QueryRowContext(ctx, "SELECT count(*) FROM selfkey_wallets w JOIN selfkey_files f ON f.subject = w.subject WHERE w.subject = ? AND w.applicant_id = ?", c.Wallet, a.ID).Scan(&n)
					if n != 1 {
						t.Errorf("applicant %d wallet and file not restored", i)
					}
				}
			}
			if _, brk, err := r.VerifyAudit(ctx); brk != nil || err != nil {
				t.Errorf("restored audit chain: %v %v", brk, err)
			}
			if _, err := r.write.ExecContext(ctx, "UPDATE notes SET body = 'edited'"); err == nil {
				t.Error("notes are editable after a restore: the append-only trigger was not put back")
			}
			r.Close()
			for i, c := range canaries {
				h := hits(t, target, c.plain())
				if i < 3 && len(h) > 0 {
					t.Errorf("restored file holds archived applicant %d's %v", i, h)
				}
				if i >= 3 && len(h) != len(c.plain()) {
					t.Errorf("restored file lacks live applicant %d's data (found %v)", i, h)
				}
			}
		})
	}
}

func TestKeyRotationIsResumableAndIdempotent(t *testing.T) {
	ctx := context.Background()
	oldRaw, newRaw := seal.NewKey(), seal.NewKey()
	oldKEK, _ := seal.NewKEK(oldRaw)
	newKEK, _ := seal.NewKEK(newRaw)
	dir := t.TempDir()
	path := filepath.Join(dir, "live.db")
	d, err := Open(ctx, path, Options{KEK: oldKEK})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Seed(ctx, SeedOptions{N: 1200, WithPII: true, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys.db")
	snap := filepath.Join(dir, "snap.db")
	if _, err := d.Backup(ctx, snap, keys); err != nil {
		t.Fatal(err)
	}
	d.Close()

	d, err = Open(ctx, path, Options{KEK: newKEK})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A key that does not open under the old KEK stops the rotation in its
	// second batch: the first batch stays done.
	if _, err := d.write.ExecContext(ctx, "UPDATE data_keys SET wrapped = x'0100' WHERE applicant_id = 700"); err != nil {
		t.Fatal(err)
	}
	rep, err := d.RotateDataKeys(ctx, oldRaw, AuditEntry{Actor: "cli"})
	if err == nil || rep.Rewrapped != 500 {
		t.Fatalf("interrupted rotation = %+v, %v", rep, err)
	}
	st, _ := d.KeyStatus(ctx)
	if st[newKEK.ID()] != 500 || st[oldKEK.ID()] != 700 {
		t.Fatalf("key status after the interruption = %v", st)
	}
	// The operator gives up on that one key (it was lost) and runs again:
	// the rest is done, the lost key is reported.
	if _, err := d.write.ExecContext(ctx, "UPDATE data_keys SET kek_id = 'lost' WHERE applicant_id = 700"); err != nil {
		t.Fatal(err)
	}
	rep, err = d.RotateDataKeys(ctx, oldRaw, AuditEntry{Actor: "cli"})
	if !errors.Is(err, ErrUnknownKEK) || rep.Rewrapped != 699 || rep.Current != 500 || rep.Unknown != 1 {
		t.Fatalf("resumed rotation = %+v, %v", rep, err)
	}
	if _, err := d.write.ExecContext(ctx, "DELETE FROM data_keys WHERE applicant_id = 700"); err != nil {
		t.Fatal(err)
	}
	rep, err = d.RotateDataKeys(ctx, oldRaw, AuditEntry{Actor: "cli"})
	if err != nil || rep.Rewrapped != 0 || rep.Current != 1199 {
		t.Fatalf("third rotation = %+v, %v", rep, err)
	}
	if _, err := d.RotateDataKeys(ctx, newRaw, AuditEntry{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("rotation to the same key: %v", err)
	}
	// The audit log's signed head moved to the new key with the rotation.
	if _, brk, err := d.VerifyAudit(ctx); err != nil || brk != nil {
		t.Fatalf("audit chain after rotation: %+v, %v", brk, err)
	}
	attrs, err := d.Attributes(ctx, 1)
	if err != nil || len(attrs) != 4 {
		t.Fatalf("attributes after rotation: %d, %v", len(attrs), err)
	}
	rows, _ := d.read.Query("SELECT applicant_id, wrapped FROM data_keys")
	for rows.Next() {
		var id int64
		var w []byte
		rows.Scan(&id, &w)
		if _, err := unwrapRaw(oldRaw, id, w); err == nil {
			t.Fatalf("the old key still opens applicant %d's data key", id)
		}
	}
	rows.Close()
	if n := len(mustAudit(t, d, "keys.rotate")); n != 3 {
		t.Errorf("%d rotation audit entries, want 3 (one per committed batch)", n)
	}

	// A snapshot whose key export predates the rotation restores with the
	// old key given.
	target := filepath.Join(dir, "restored.db")
	if _, err := Restore(ctx, snap, keys, target, Options{KEK: newKEK}, nil); !errors.Is(err, ErrUnknownKEK) {
		t.Errorf("restore without the old key: %v", err)
	}
	rr, err := Restore(ctx, snap, keys, target, Options{KEK: newKEK}, oldRaw)
	if err != nil || rr.Rewrapped != 1200 || rr.Applicants != 1200 {
		t.Fatalf("restore with the old key = %+v, %v", rr, err)
	}
}

func hasTable(t *testing.T, d *DB, name string) bool {
	t.Helper()
	var n int
	if err := d.read.QueryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}
