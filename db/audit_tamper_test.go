package db

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// tamperable returns a database with n audit entries whose append-only
// triggers are dropped, as an attacker with access to the file could.
func tamperable(t *testing.T, n int) *DB {
	t.Helper()
	ctx := context.Background()
	d := openTest(t, t0)
	for i := 1; i <= n; i++ {
		if err := d.Audit(ctx, AuditEntry{Actor: "a@example.com", ActorID: 1, Action: "applicant.view_pii", Object: fmt.Sprintf("applicant:%d", i), IP: "10.0.0.1"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, brk, err := d.VerifyAudit(ctx); err != nil || brk != nil {
		t.Fatalf("fresh log does not verify: %v %+v", err, brk)
	}
	for _, trg := range []string{"audit_log_no_update", "audit_log_no_delete"} {
		if _, err := d.write.ExecContext(ctx, "DROP TRIGGER "+trg); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestAuditLogRefusesChangesInTheDatabase(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	if err := d.Audit(ctx, AuditEntry{Action: "test"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log"} {
		if _, err := d.write.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err %v, want the append-only refusal", q, err)
		}
	}
}

// TestVerifyAuditNamesTheFirstBadEntry tampers with the log in each way the
// issue lists and checks that verify names the first entry where the chain
// stops holding.
func TestVerifyAuditNamesTheFirstBadEntry(t *testing.T) {
	const n = 8
	exec := func(t *testing.T, d *DB, queries ...string) {
		t.Helper()
		for _, q := range queries {
			if _, err := d.write.ExecContext(context.Background(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	entry := func(t *testing.T, d *DB, id int64) AuditEntry {
		t.Helper()
		es, err := d.ListAudit(context.Background(), AuditFilter{Before: id + 1, Limit: 1})
		if err != nil || len(es) != 1 || es[0].ID != id {
			t.Fatalf("entry %d: %v %v", id, es, err)
		}
		return es[0]
	}
	insert := func(t *testing.T, d *DB, e AuditEntry) {
		t.Helper()
		_, err := d.write.ExecContext(context.Background(), `INSERT INTO audit_log(id, at, actor_id, actor, action, object, ip, detail, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.At.UnixMilli(), nullID(e.ActorID), e.Actor, e.Action, e.Object, e.IP, e.Detail, e.PrevHash, e.Hash)
		if err != nil {
			t.Fatal(err)
		}
	}
	// shiftUp renumbers entries from..n to from+1..n+1, last first, to make
	// room for a forged entry.
	shiftUp := func(t *testing.T, d *DB, from int64) {
		t.Helper()
		for id := int64(n); id >= from; id-- {
			exec(t, d, fmt.Sprintf("UPDATE audit_log SET id = %d WHERE id = %d", id+1, id))
		}
	}
	tests := []struct {
		name       string
		tamper     func(t *testing.T, d *DB)
		wantID     int64
		wantReason string
	}{
		{
			name:       "edited field",
			tamper:     func(t *testing.T, d *DB) { exec(t, d, "UPDATE audit_log SET object = 'applicant:99' WHERE id = 3") },
			wantID:     3,
			wantReason: "edited",
		},
		{
			name:       "edited field with its own hash recomputed",
			wantID:     4, // entry 3 is self-consistent; 4 no longer links to it
			wantReason: "does not link",
			tamper: func(t *testing.T, d *DB) {
				e := entry(t, d, 3)
				e.Actor = "someone-else@example.com"
				e.Hash = auditHash(&e)
				exec(t, d, "DELETE FROM audit_log WHERE id = 3")
				insert(t, d, e)
			},
		},
		{
			name:       "deleted row",
			tamper:     func(t *testing.T, d *DB) { exec(t, d, "DELETE FROM audit_log WHERE id = 5") },
			wantID:     6,
			wantReason: "expected entry 5",
		},
		{
			name: "reordered pair",
			tamper: func(t *testing.T, d *DB) {
				exec(t, d, "UPDATE audit_log SET id = 100 WHERE id = 4", "UPDATE audit_log SET id = 4 WHERE id = 5", "UPDATE audit_log SET id = 5 WHERE id = 100")
			},
			wantID:     4,
			wantReason: "does not link",
		},
		{
			name: "inserted forged row with a made-up hash",
			tamper: func(t *testing.T, d *DB) {
				shiftUp(t, d, 4)
				insert(t, d, AuditEntry{ID: 4, At: t0, Actor: "system", Action: "auth.login", PrevHash: entry(t, d, 3).Hash, Hash: strings.Repeat("ab", 32)})
			},
			wantID:     4,
			wantReason: "edited",
		},
		{
			name: "inserted forged row that chains to its predecessor",
			tamper: func(t *testing.T, d *DB) {
				shiftUp(t, d, 4)
				forged := AuditEntry{ID: 4, At: t0, Actor: "system", Action: "auth.login", PrevHash: entry(t, d, 3).Hash}
				forged.Hash = auditHash(&forged)
				insert(t, d, forged)
			},
			wantID:     5, // the forgery itself is consistent; the entry after it is not
			wantReason: "does not link",
		},
		{
			name:       "truncated tail",
			tamper:     func(t *testing.T, d *DB) { exec(t, d, fmt.Sprintf("DELETE FROM audit_log WHERE id > %d", n-2)) },
			wantID:     n - 1,
			wantReason: "tail was removed",
		},
		{
			name: "forged rows appended with a correct chain",
			tamper: func(t *testing.T, d *DB) {
				forged := AuditEntry{ID: n + 1, At: t0, Actor: "system", Action: "auth.login", PrevHash: entry(t, d, n).Hash}
				forged.Hash = auditHash(&forged)
				insert(t, d, forged)
			},
			wantID:     n + 1,
			wantReason: "not written by KYC Desk",
		},
		{
			name: "forged row appended and the head mark rewritten without the KEK",
			tamper: func(t *testing.T, d *DB) {
				forged := AuditEntry{ID: n + 1, At: t0, Actor: "system", Action: "auth.login", PrevHash: entry(t, d, n).Hash}
				forged.Hash = auditHash(&forged)
				insert(t, d, forged)
				exec(t, d, fmt.Sprintf("UPDATE settings SET value = '%d:%s' WHERE key = 'audit.head'", n+1, forged.Hash))
			},
			wantID:     n + 1,
			wantReason: "MAC does not match",
		},
		{
			name:       "every entry deleted",
			tamper:     func(t *testing.T, d *DB) { exec(t, d, "DELETE FROM audit_log") },
			wantID:     1,
			wantReason: "tail was removed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tamperable(t, n)
			tt.tamper(t, d)
			_, brk, err := d.VerifyAudit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if brk == nil {
				t.Fatal("tampering not detected")
			}
			if brk.ID != tt.wantID || !strings.Contains(brk.Reason, tt.wantReason) {
				t.Errorf("break at %d (%s), want %d (%s)", brk.ID, brk.Reason, tt.wantID, tt.wantReason)
			}
		})
	}
}
