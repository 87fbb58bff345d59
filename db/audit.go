package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	ID       int64
	At       time.Time
	ActorID  int64  // 0 for the system or an anonymous caller
	Actor    string // email, "system", or "anonymous"
	Action   string // e.g. "auth.login", "applicant.view_pii", "access.denied"
	Object   string // e.g. "applicant:42"
	IP       string
	Detail   string // never PII or secrets
	PrevHash string
	Hash     string
}

// genesisHash is the PrevHash of the first entry.
const genesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Audit appends one entry to the audit log in its own transaction.
func (d *DB) Audit(ctx context.Context, e AuditEntry) error {
	return d.inTx(ctx, func(tx *sql.Tx) error { return d.appendAudit(ctx, tx, &e) })
}

// appendAudit appends e inside tx, chaining it to the last entry. The write
// pool has one connection, so the read of the last hash and the insert
// cannot interleave with another writer.
func (d *DB) appendAudit(ctx context.Context, tx *sql.Tx, e *AuditEntry) error {
	if e.At.IsZero() {
		e.At = d.now()
	}
	if e.Actor == "" {
		e.Actor = "system"
	}
	var lastID int64
	prev := genesisHash
	err := tx.QueryRowContext(ctx, "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").Scan(&lastID, &prev)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("db: audit: last entry: %w", err)
	}
	e.ID = lastID + 1
	e.PrevHash = prev
	e.Hash = auditHash(e)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log(id, at, actor_id, actor, action, object, ip, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.At.UnixMilli(), nullID(e.ActorID), e.Actor, e.Action, e.Object, e.IP, e.Detail, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("db: audit: append: %w", err)
	}
	// The head mark lets verify notice a removed tail, which a chain alone
	// cannot show.
	_, err = tx.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES ('audit.head', ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, d.auditHeadMark(e.ID, e.Hash))
	if err != nil {
		return fmt.Errorf("db: audit: head mark: %w", err)
	}
	return nil
}

// auditHash covers every field of the entry, its id (so a reordered pair
// breaks the chain) and the previous entry's hash.
func auditHash(e *AuditEntry) string {
	fields, _ := json.Marshal([]any{e.ID, e.At.UnixMilli(), e.ActorID, e.Actor, e.Action, e.Object, e.IP, e.Detail, e.PrevHash})
	sum := sha256.Sum256(fields)
	return hex.EncodeToString(sum[:])
}

// AuditFilter narrows ListAudit. Before is the keyset cursor (an entry id).
type AuditFilter struct {
	Actor  string
	Action string
	Object string
	Since  time.Time
	Until  time.Time
	Before int64
	Limit  int
}

// ListAudit returns entries newest first.
func (d *DB) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.Object != "" {
		where, args = append(where, "object = ?"), append(args, f.Object)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "at < ?"), append(args, f.Until.UnixMilli())
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q := "SELECT id, at, COALESCE(actor_id, 0), actor, action, object, ip, detail, prev_hash, hash FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	rows, err := d.read.QueryContext(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("db: list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Actor, &e.Action, &e.Object, &e.IP, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("db: list audit: %w", err)
		}
		e.At = fromMillis(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditBreak names the first entry where the chain does not hold.
type AuditBreak struct {
	ID     int64
	Reason string
}

// VerifyAudit walks the whole chain and returns the first break, or nil
// when every entry's hash and link hold. Entries counts what was checked.
func (d *DB) VerifyAudit(ctx context.Context) (entries int64, brk *AuditBreak, err error) {
	rows, err := d.read.QueryContext(ctx, "SELECT id, at, COALESCE(actor_id, 0), actor, action, object, ip, detail, prev_hash, hash FROM audit_log ORDER BY id")
	if err != nil {
		return 0, nil, fmt.Errorf("db: verify audit: %w", err)
	}
	defer rows.Close()
	prev, wantID := genesisHash, int64(1)
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Actor, &e.Action, &e.Object, &e.IP, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return entries, nil, fmt.Errorf("db: verify audit: %w", err)
		}
		e.At = fromMillis(at)
		entries++
		switch {
		case e.ID != wantID:
			return entries, &AuditBreak{ID: e.ID, Reason: fmt.Sprintf("expected entry %d here: an entry is missing or was inserted", wantID)}, nil
		case e.PrevHash != prev:
			return entries, &AuditBreak{ID: e.ID, Reason: "does not link to the previous entry's hash"}, nil
		case auditHash(&e) != e.Hash:
			return entries, &AuditBreak{ID: e.ID, Reason: "content does not match its hash (edited)"}, nil
		}
		prev, wantID = e.Hash, e.ID+1
	}
	if err := rows.Err(); err != nil {
		return entries, nil, fmt.Errorf("db: verify audit: %w", err)
	}
	// A chain alone cannot show a removed tail, nor rows appended with a
	// correct chain by someone who can write the file: compare with the head
	// mark, which carries a MAC under the KEK.
	var mark sql.NullString
	err = d.read.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = 'audit.head'").Scan(&mark)
	if err != nil && err != sql.ErrNoRows {
		return entries, nil, fmt.Errorf("db: verify audit: %w", err)
	}
	last := wantID - 1
	if !mark.Valid || mark.String == "" {
		if last > 0 {
			return entries, &AuditBreak{ID: last, Reason: "the head mark is missing"}, nil
		}
		return entries, nil, nil
	}
	parts := strings.Split(mark.String, ":")
	headID, perr := strconv.ParseInt(parts[0], 10, 64)
	if perr != nil || len(parts) < 2 {
		return entries, &AuditBreak{ID: last, Reason: "the head mark is unreadable"}, nil
	}
	if d.kek != nil && (len(parts) != 3 || parts[2] != d.auditHeadMAC(headID, parts[1])) {
		return entries, &AuditBreak{ID: last, Reason: "the head mark was not written by KYC Desk (its MAC does not match)"}, nil
	}
	switch {
	case headID > last:
		return entries, &AuditBreak{ID: wantID, Reason: fmt.Sprintf("log ends at entry %d but entry %d was written: the tail was removed", last, headID)}, nil
	case headID < last:
		return entries, &AuditBreak{ID: headID + 1, Reason: fmt.Sprintf("entries after %d were not written by KYC Desk (the signed head is %d)", headID, headID)}, nil
	case parts[1] != prev:
		return entries, &AuditBreak{ID: last, Reason: "the last entry is not the one KYC Desk wrote"}, nil
	}
	return entries, nil, nil
}

// auditHeadMark is the head mark written with every entry: id, hash and,
// when a KEK is configured, a MAC over both.
func (d *DB) auditHeadMark(id int64, hash string) string {
	if d.kek == nil {
		return fmt.Sprintf("%d:%s", id, hash)
	}
	return fmt.Sprintf("%d:%s:%s", id, hash, d.auditHeadMAC(id, hash))
}

func (d *DB) auditHeadMAC(id int64, hash string) string {
	return hex.EncodeToString(d.kek.MAC("audit-head", []byte(fmt.Sprintf("%d:%s", id, hash))))
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
