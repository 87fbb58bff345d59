package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// InboxItem is one inbound webhook or callback as received.
type InboxItem struct {
	ID             int64
	Provider       string
	Endpoint       string
	Event          string
	DeliveryKey    string
	Verified       bool
	Headers        map[string]string
	ContentType    string
	BodyDigest     string
	HasBody        bool
	ReceivedAt     time.Time
	Attempts       int
	NextAttemptAt  time.Time
	ProcessedAt    time.Time
	Error          string
	ApplicantID    int64
	VerificationID int64
	Duplicates     int
}

// Processed reports whether the item was handled successfully.
func (i InboxItem) Processed() bool { return !i.ProcessedAt.IsZero() }

// NewInboxItem is what ReceiveInbound stores.
type NewInboxItem struct {
	Provider    string
	Endpoint    string
	Event       string
	DeliveryKey string
	Verified    bool
	Headers     map[string]string
	ContentType string
	Body        []byte
}

// inboxLabel binds a sealed body to its row's identity.
func inboxLabel(provider, key string) string { return "inbox/" + provider + "/" + key }

// ReceiveInbound stores an inbound delivery durably (synchronous=FULL: it
// is on disk when this returns) unless the same delivery was stored before.
// The body is sealed with the KEK: it may carry personal data. It returns
// the stored item's id and whether it was new (the callback path answers
// with the id alone, so the row is not read back).
func (d *DB) ReceiveInbound(ctx context.Context, n NewInboxItem) (int64, bool, error) {
	if d.kek == nil {
		return 0, false, fmt.Errorf("db: receive inbound: no data key configured")
	}
	sum := sha256.Sum256(n.Body)
	headers, _ := json.Marshal(n.Headers)
	var id int64
	var fresh bool
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.millis()
		res, err := tx.ExecContext(ctx, `INSERT INTO inbox(provider, endpoint, event, delivery_key, verified, headers, content_type,
			body_digest, body_ct, received_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(provider, delivery_key) DO NOTHING`,
			n.Provider, n.Endpoint, n.Event, n.DeliveryKey, n.Verified, string(headers), n.ContentType,
			hex.EncodeToString(sum[:]), d.kek.SealSystem(inboxLabel(n.Provider, n.DeliveryKey), n.Body), now, now)
		if err != nil {
			return fmt.Errorf("db: receive inbound: %w", err)
		}
		if rows, _ := res.RowsAffected(); rows == 1 {
			id, _ = res.LastInsertId()
			fresh = true
			return nil
		}
		if err := tx.QueryRowContext(ctx, "SELECT id FROM inbox WHERE provider = ? AND delivery_key = ?", n.Provider, n.DeliveryKey).Scan(&id); err != nil {
			return fmt.Errorf("db: receive inbound: %w", err)
		}
		_, err = tx.ExecContext(ctx, "UPDATE inbox SET duplicates = duplicates + 1 WHERE id = ?", id)
		return err
	})
	if err != nil {
		return 0, false, err
	}
	return id, fresh, nil
}

const inboxColumns = `id, provider, endpoint, event, delivery_key, verified, headers, content_type, body_digest,
	body_ct IS NOT NULL, received_at, attempts, next_attempt_at, processed_at, error, COALESCE(applicant_id, 0),
	COALESCE(verification_id, 0), duplicates`

func scanInbox(row interface{ Scan(...any) error }) (InboxItem, error) {
	var i InboxItem
	var headers string
	var received, next int64
	var processed sql.NullInt64
	err := row.Scan(&i.ID, &i.Provider, &i.Endpoint, &i.Event, &i.DeliveryKey, &i.Verified, &headers, &i.ContentType, &i.BodyDigest,
		&i.HasBody, &received, &i.Attempts, &next, &processed, &i.Error, &i.ApplicantID, &i.VerificationID, &i.Duplicates)
	if errors.Is(err, sql.ErrNoRows) {
		return i, ErrNotFound
	}
	if err != nil {
		return i, fmt.Errorf("db: inbox: %w", err)
	}
	_ = json.Unmarshal([]byte(headers), &i.Headers)
	i.ReceivedAt, i.NextAttemptAt, i.ProcessedAt = fromMillis(received), fromMillis(next), nullMillis(processed)
	return i, nil
}

// InboxItem returns one item.
func (d *DB) InboxItem(ctx context.Context, id int64) (InboxItem, error) {
	return scanInbox(d.write.QueryRowContext(ctx, "SELECT "+inboxColumns+" FROM inbox WHERE id = ?", id))
}

// InboxBody decrypts an item's raw body (gone once processed).
func (d *DB) InboxBody(ctx context.Context, id int64) ([]byte, error) {
	var provider, key string
	var ct []byte
	err := d.write.QueryRowContext(ctx, "SELECT provider, delivery_key, body_ct FROM inbox WHERE id = ?", id).Scan(&provider, &key, &ct)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: inbox body: %w", err)
	}
	if ct == nil {
		return nil, fmt.Errorf("db: inbox body: %w (already processed)", ErrNotFound)
	}
	return d.kek.OpenSystem(inboxLabel(provider, key), ct)
}

// InboxResult is the outcome of processing an item.
type InboxResult struct {
	ApplicantID    int64
	VerificationID int64
	Err            error // nil = processed
}

// maxInboxAttempts bounds automatic retries; an admin can still replay.
const maxInboxAttempts = 8

// FinishInbound records a processing attempt. Success drops the sealed
// body (the data now lives in the applicant's vault) and marks it done; a
// failure keeps the body and schedules a retry with exponential backoff.
func (d *DB) FinishInbound(ctx context.Context, id int64, r InboxResult) error {
	now := d.now()
	var err error
	if r.Err == nil {
		_, err = d.write.ExecContext(ctx, `UPDATE inbox SET attempts = attempts + 1, processed_at = ?, error = '', body_ct = NULL,
			applicant_id = ?, verification_id = ? WHERE id = ?`, now.UnixMilli(), nullID(r.ApplicantID), nullID(r.VerificationID), id)
	} else {
		var attempts int
		if err := d.write.QueryRowContext(ctx, "SELECT attempts FROM inbox WHERE id = ?", id).Scan(&attempts); err != nil {
			return fmt.Errorf("db: finish inbound: %w", err)
		}
		backoff := time.Duration(1<<min(attempts, 10)) * 30 * time.Second
		next := now.Add(backoff).UnixMilli()
		if attempts+1 >= maxInboxAttempts {
			next = 1<<62 - 1 // parked: only a replay moves it
		}
		msg := r.Err.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		_, err = d.write.ExecContext(ctx, `UPDATE inbox SET attempts = attempts + 1, error = ?, next_attempt_at = ?,
			applicant_id = COALESCE(?, applicant_id), verification_id = COALESCE(?, verification_id) WHERE id = ?`,
			msg, next, nullID(r.ApplicantID), nullID(r.VerificationID), id)
	}
	if err != nil {
		return fmt.Errorf("db: finish inbound: %w", err)
	}
	return nil
}

// DueInbound lists unprocessed items whose retry time has come.
func (d *DB) DueInbound(ctx context.Context, limit int) ([]InboxItem, error) {
	return d.listInbox(ctx, "WHERE processed_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?", d.millis(), limit)
}

// InboxFilter narrows ListInbox.
type InboxFilter struct {
	Provider   string
	FailedOnly bool
	Before     int64 // keyset cursor: an item id
	Limit      int
}

// ListInbox lists items newest first.
func (d *DB) ListInbox(ctx context.Context, f InboxFilter) ([]InboxItem, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := "WHERE 1=1"
	var args []any
	if f.Provider != "" {
		q += " AND provider = ?"
		args = append(args, f.Provider)
	}
	if f.FailedOnly {
		q += " AND processed_at IS NULL"
	}
	if f.Before > 0 {
		q += " AND id < ?"
		args = append(args, f.Before)
	}
	return d.listInbox(ctx, q+" ORDER BY id DESC LIMIT ?", append(args, f.Limit)...)
}

func (d *DB) listInbox(ctx context.Context, where string, args ...any) ([]InboxItem, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT "+inboxColumns+" FROM inbox "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("db: list inbox: %w", err)
	}
	defer rows.Close()
	var out []InboxItem
	for rows.Next() {
		i, err := scanInbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// ReplayInbound makes a kept item due now (admin replay), audited.
func (d *DB) ReplayInbound(ctx context.Context, id int64, audit AuditEntry) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE inbox SET next_attempt_at = 0 WHERE id = ? AND processed_at IS NULL AND body_ct IS NOT NULL", id)
		if err != nil {
			return fmt.Errorf("db: replay inbound: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("db: replay inbound %d: %w", id, ErrConflict)
		}
		audit.Action, audit.Object = "inbox.replay", fmt.Sprintf("inbox:%d", id)
		return d.appendAudit(ctx, tx, &audit)
	})
}

// JobState returns a background job's cursor ("" when it never ran).
func (d *DB) JobState(ctx context.Context, name string) (cursor string, lastRun time.Time, err error) {
	var last int64
	err = d.read.QueryRowContext(ctx, "SELECT cursor, last_run FROM job_state WHERE name = ?", name).Scan(&cursor, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("db: job state: %w", err)
	}
	return cursor, fromMillis(last), nil
}

// SetJobState stores a job's cursor and the outcome of its run.
func (d *DB) SetJobState(ctx context.Context, name, cursor string, runErr error) error {
	msg := ""
	if runErr != nil {
		msg = runErr.Error()
	}
	_, err := d.write.ExecContext(ctx, `INSERT INTO job_state(name, cursor, last_run, last_error) VALUES (?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET cursor = excluded.cursor, last_run = excluded.last_run, last_error = excluded.last_error`,
		name, cursor, d.millis(), msg)
	if err != nil {
		return fmt.Errorf("db: set job state: %w", err)
	}
	return nil
}

// Job is a background job's last run as job_state records it.
type Job struct {
	Name      string
	LastRun   time.Time
	LastError string
}

// Jobs lists every background job that has run, by name: what operators
// look at when a provider poll or sync stops working.
func (d *DB) Jobs(ctx context.Context) ([]Job, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT name, last_run, last_error FROM job_state ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("db: jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		var j Job
		var last int64
		if err := rows.Scan(&j.Name, &last, &j.LastError); err != nil {
			return nil, fmt.Errorf("db: jobs: %w", err)
		}
		if last > 0 {
			j.LastRun = fromMillis(last)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}
