package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Review errors callers can test with errors.Is.
var (
	// ErrNotInReview: the verification is not (or no longer) waiting for review.
	ErrNotInReview = errors.New("not waiting for review")
	// ErrClaimed: another reviewer holds a live claim on the case.
	ErrClaimed = errors.New("claimed by another reviewer")
)

// QueueItem is one verification waiting for a human.
type QueueItem struct {
	VerificationID int64
	ApplicantID    int64
	Ref            string
	Name           string // blank once archived
	Archived       bool
	Provider       string
	ProviderStatus string
	Since          time.Time // entered review
	State          string    // open (needs a proposal) or proposed (needs a decision)
	AssigneeID     int64
	Assignee       string
	ClaimedBy      int64
	Claimer        string
	ClaimExpiresAt time.Time
}

// ClaimedAt reports whether the case is claimed at time now.
func (q QueueItem) ClaimedAt(now time.Time) bool {
	return q.ClaimedBy != 0 && q.ClaimExpiresAt.After(now)
}

// Queue states.
const (
	QueueOpen     = "open"
	QueueProposed = "proposed"
)

// AssigneeNone filters the queue to unassigned cases.
const AssigneeNone int64 = -1

// QueueCursor is a keyset position in the queue (oldest first).
type QueueCursor struct {
	Since int64
	ID    int64
}

// IsZero reports whether the cursor points at the first page.
func (c QueueCursor) IsZero() bool { return c.ID == 0 }

// QueueFilter narrows ListQueue. Zero values mean "any".
type QueueFilter struct {
	State     string        // QueueOpen (default) or QueueProposed
	Provider  string        //
	OlderThan time.Duration // waiting at least this long
	Assignee  int64         // a user id, or AssigneeNone
	CreatedBy int64         // link creators see only their own applicants
	After     QueueCursor
	Limit     int
}

// QueuePage is one page of the queue; Next is zero on the last page.
type QueuePage struct {
	Rows []QueueItem
	Next QueueCursor
}

// queueColumns leave NULLs as they are: SQLite hands a NULL over in one
// call and a value in two or three, and most rows have no assignee, no
// claim and no archive (see listColumns in applicants.go).
const queueColumns = `q.verification_id, q.applicant_id, a.ref, a.display_name, a.archived_at, q.provider,
	q.provider_status, q.since, q.state, q.assignee_id, au.email, q.claimed_by, cu.email, q.claim_expires_at`

// queueFrom joins what a queue row shows; the verification's provider
// status is kept on the queue row itself (migration 014).
const queueFrom = ` FROM review_queue q JOIN applicants a ON a.id = q.applicant_id
	LEFT JOIN users au ON au.id = q.assignee_id LEFT JOIN users cu ON cu.id = q.claimed_by`

func scanQueueItem(row interface{ Scan(...any) error }) (QueueItem, error) {
	var it QueueItem
	var since, expires int64
	var archived, assignee, claimedBy sql.NullInt64
	var assigneeEmail, claimer sql.NullString
	err := row.Scan(&it.VerificationID, &it.ApplicantID, &it.Ref, &it.Name, &archived, &it.Provider, &it.ProviderStatus,
		&since, &it.State, &assignee, &assigneeEmail, &claimedBy, &claimer, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return it, ErrNotFound
	}
	if err != nil {
		return it, err
	}
	it.Archived, it.Since = archived.Valid, fromMillis(since)
	it.AssigneeID, it.Assignee = assignee.Int64, assigneeEmail.String
	it.ClaimedBy, it.Claimer = claimedBy.Int64, claimer.String
	if expires > 0 {
		it.ClaimExpiresAt = fromMillis(expires)
	}
	return it, nil
}

// ListQueue pages through the queue oldest first, by keyset on an index
// for each filter (state with provider, assignee or neither).
func (d *DB) ListQueue(ctx context.Context, f QueueFilter) (QueuePage, error) {
	if f.Limit <= 0 || f.Limit > MaxPageSize {
		f.Limit = 50
	}
	if f.State == "" {
		f.State = QueueOpen
	}
	var q strings.Builder
	q.WriteString("SELECT " + queueColumns + queueFrom + " WHERE q.state = ?")
	args := []any{f.State}
	if f.Provider != "" {
		q.WriteString(" AND q.provider = ?")
		args = append(args, f.Provider)
	}
	if f.OlderThan > 0 {
		q.WriteString(" AND q.since <= ?")
		args = append(args, d.now().Add(-f.OlderThan).UnixMilli())
	}
	switch {
	case f.Assignee == AssigneeNone:
		q.WriteString(" AND q.assignee_id IS NULL")
	case f.Assignee > 0:
		q.WriteString(" AND q.assignee_id = ?")
		args = append(args, f.Assignee)
	}
	if f.CreatedBy != 0 {
		q.WriteString(" AND a.created_by = ?")
		args = append(args, f.CreatedBy)
	}
	if !f.After.IsZero() {
		q.WriteString(" AND (q.since, q.verification_id) > (?, ?)")
		args = append(args, f.After.Since, f.After.ID)
	}
	q.WriteString(" ORDER BY q.since, q.verification_id LIMIT ?")
	args = append(args, f.Limit+1)
	rows, err := d.read.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return QueuePage{}, fmt.Errorf("db: list queue: %w", err)
	}
	defer rows.Close()
	var page QueuePage
	for rows.Next() {
		it, err := scanQueueItem(rows)
		if err != nil {
			return QueuePage{}, fmt.Errorf("db: list queue: %w", err)
		}
		page.Rows = append(page.Rows, it)
	}
	if err := rows.Err(); err != nil {
		return QueuePage{}, fmt.Errorf("db: list queue: %w", err)
	}
	if len(page.Rows) > f.Limit {
		page.Rows = page.Rows[:f.Limit]
		last := page.Rows[f.Limit-1]
		page.Next = QueueCursor{Since: last.Since.UnixMilli(), ID: last.VerificationID}
	}
	return page, nil
}

// QueueEntry returns the queue row of one verification; ErrNotInReview when
// it is not waiting for review.
func (d *DB) QueueEntry(ctx context.Context, verificationID int64) (QueueItem, error) {
	it, err := scanQueueItem(d.read.QueryRowContext(ctx, "SELECT "+queueColumns+queueFrom+" WHERE q.verification_id = ?", verificationID))
	if errors.Is(err, ErrNotFound) {
		return it, ErrNotInReview
	}
	if err != nil {
		return it, fmt.Errorf("db: queue entry: %w", err)
	}
	return it, nil
}

// QueueCounts sizes the queue for the page header and the overview.
type QueueCounts struct {
	Open       int64     // waiting for a proposal
	Proposed   int64     // waiting for a checker
	OldestOpen time.Time // zero when nothing waits
}

// CountQueue reads the queue's size from its aggregate table and the
// oldest case from the queue's index, never by counting the queue.
func (d *DB) CountQueue(ctx context.Context) (QueueCounts, error) {
	var c QueueCounts
	var oldest sql.NullInt64
	err := d.read.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT sum(n) FROM stats_queue WHERE state = 'open'), 0),
		COALESCE((SELECT sum(n) FROM stats_queue WHERE state = 'proposed'), 0),
		(SELECT min(since) FROM review_queue WHERE state = 'open')`).Scan(&c.Open, &c.Proposed, &oldest)
	if err != nil {
		return c, fmt.Errorf("db: count queue: %w", err)
	}
	c.OldestOpen = nullMillis(oldest)
	return c, nil
}

// DefaultClaimTTL is how long a claim lasts unless an admin sets another.
const DefaultClaimTTL = 30 * time.Minute

const claimTTLKey = "reviews.claim_ttl_seconds"

// ReviewSettings are the admin-set review parameters.
type ReviewSettings struct {
	ClaimTTL time.Duration
}

// ReviewSettings returns the current review settings.
func (d *DB) ReviewSettings(ctx context.Context) (ReviewSettings, error) {
	ttl, err := claimTTL(ctx, d.read)
	return ReviewSettings{ClaimTTL: ttl}, err
}

func claimTTL(ctx context.Context, q querier) (time.Duration, error) {
	var v string
	err := q.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", claimTTLKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultClaimTTL, nil
	}
	if err != nil {
		return 0, fmt.Errorf("db: review settings: %w", err)
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs <= 0 {
		return DefaultClaimTTL, nil
	}
	return time.Duration(secs) * time.Second, nil
}

// SetReviewSettings stores the review settings (claim TTL between 1 minute
// and 24 hours).
func (d *DB) SetReviewSettings(ctx context.Context, s ReviewSettings, audit AuditEntry) error {
	if s.ClaimTTL < time.Minute || s.ClaimTTL > 24*time.Hour {
		return fmt.Errorf("db: review settings: claim TTL %s out of range: %w", s.ClaimTTL, ErrInvalid)
	}
	return d.inTx(ctx, func(tx *sql.Tx) error {
		secs := strconv.FormatInt(int64(s.ClaimTTL/time.Second), 10)
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES (?, ?)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value`, claimTTLKey, secs); err != nil {
			return fmt.Errorf("db: review settings: %w", err)
		}
		audit.Action, audit.Object, audit.Detail = "review.settings", "settings:reviews", "claim_ttl_seconds="+secs
		return d.appendAudit(ctx, tx, &audit)
	})
}

// ClaimNext gives the reviewer a case: the one they already hold, or else
// the oldest open case whose claim is free or expired, claimed by a single
// UPDATE ... RETURNING on the one write connection, so two concurrent
// callers can never receive the same case. ErrNotFound when nothing waits.
// provider, if set, limits the choice to that provider.
func (d *DB) ClaimNext(ctx context.Context, userID int64, provider string, audit AuditEntry) (QueueItem, error) {
	var vid int64
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.millis()
		ttl, err := claimTTL(ctx, tx)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT verification_id FROM review_queue
			WHERE claimed_by = ? AND claim_expires_at > ? AND state = 'open' AND (? = '' OR provider = ?)
			ORDER BY since, verification_id LIMIT 1`, userID, now, provider, provider).Scan(&vid)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("db: claim next: %w", err)
		}
		var applicantID int64
		err = tx.QueryRowContext(ctx, `UPDATE review_queue SET claimed_by = ?, claim_expires_at = ?
			WHERE verification_id = (
				SELECT verification_id FROM review_queue
				WHERE state = 'open' AND (claimed_by IS NULL OR claim_expires_at <= ?) AND (? = '' OR provider = ?)
				ORDER BY since, verification_id LIMIT 1)
			AND (claimed_by IS NULL OR claim_expires_at <= ?)
			RETURNING verification_id, applicant_id`,
			userID, now+ttl.Milliseconds(), now, provider, provider, now).Scan(&vid, &applicantID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("db: claim next: %w", err)
		}
		audit.Action, audit.Object = "review.claim", fmt.Sprintf("applicant:%d", applicantID)
		audit.Detail = fmt.Sprintf("verification=%d next=1", vid)
		return d.appendAudit(ctx, tx, &audit)
	})
	if err != nil {
		return QueueItem{}, err
	}
	return d.QueueEntry(ctx, vid)
}

// Claim takes (or renews) the claim on one open case. ErrClaimed when
// another reviewer holds a live claim, ErrConflict when the case already
// waits for a checker.
func (d *DB) Claim(ctx context.Context, verificationID, userID int64, audit AuditEntry) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.millis()
		ttl, err := claimTTL(ctx, tx)
		if err != nil {
			return err
		}
		var applicantID int64
		err = tx.QueryRowContext(ctx, `UPDATE review_queue SET claimed_by = ?, claim_expires_at = ?
			WHERE verification_id = ? AND state = 'open' AND (claimed_by IS NULL OR claimed_by = ? OR claim_expires_at <= ?)
			RETURNING applicant_id`, userID, now+ttl.Milliseconds(), verificationID, userID, now).Scan(&applicantID)
		if errors.Is(err, sql.ErrNoRows) {
			if err := queueRefusal(ctx, tx, verificationID, userID, now); err != nil {
				return err
			}
			return fmt.Errorf("db: claim: %w", ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("db: claim: %w", err)
		}
		audit.Action, audit.Object = "review.claim", fmt.Sprintf("applicant:%d", applicantID)
		audit.Detail = fmt.Sprintf("verification=%d", verificationID)
		return d.appendAudit(ctx, tx, &audit)
	})
}

// queueRefusal explains why a case cannot be claimed or proposed on.
func queueRefusal(ctx context.Context, tx *sql.Tx, verificationID, userID, now int64) error {
	var state string
	var claimedBy sql.NullInt64
	var expires int64
	err := tx.QueryRowContext(ctx, "SELECT state, claimed_by, claim_expires_at FROM review_queue WHERE verification_id = ?", verificationID).
		Scan(&state, &claimedBy, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("db: review: verification %d: %w", verificationID, ErrNotInReview)
	case err != nil:
		return fmt.Errorf("db: review: %w", err)
	case state != QueueOpen:
		return fmt.Errorf("db: review: verification %d already has a proposal: %w", verificationID, ErrConflict)
	case claimedBy.Valid && claimedBy.Int64 != userID && expires > now:
		return fmt.Errorf("db: review: verification %d: %w", verificationID, ErrClaimed)
	}
	return nil
}

// ReleaseClaim gives a claimed case back to the queue.
func (d *DB) ReleaseClaim(ctx context.Context, verificationID, userID int64, audit AuditEntry) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var applicantID int64
		err := tx.QueryRowContext(ctx, `UPDATE review_queue SET claimed_by = NULL, claim_expires_at = 0
			WHERE verification_id = ? AND claimed_by = ? RETURNING applicant_id`, verificationID, userID).Scan(&applicantID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("db: release claim: %w", ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("db: release claim: %w", err)
		}
		audit.Action, audit.Object = "review.release", fmt.Sprintf("applicant:%d", applicantID)
		audit.Detail = fmt.Sprintf("verification=%d", verificationID)
		return d.appendAudit(ctx, tx, &audit)
	})
}

// MaxBulk bounds a bulk action: at most one page of rows.
const MaxBulk = 50

// Assign sets (assigneeID > 0) or clears (0) the assignee of up to MaxBulk
// applicants, one audit entry each. createdBy, if set, limits the change to
// applicants that user created (link creators). It returns how many
// applicants changed.
func (d *DB) Assign(ctx context.Context, applicantIDs []int64, assigneeID, createdBy int64, audit AuditEntry) (int, error) {
	if len(applicantIDs) == 0 || len(applicantIDs) > MaxBulk {
		return 0, fmt.Errorf("db: assign: %d applicants (1 to %d): %w", len(applicantIDs), MaxBulk, ErrInvalid)
	}
	changed := 0
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if assigneeID != 0 {
			var disabled bool
			err := tx.QueryRowContext(ctx, "SELECT disabled FROM users WHERE id = ?", assigneeID).Scan(&disabled)
			if errors.Is(err, sql.ErrNoRows) || disabled {
				return fmt.Errorf("db: assign: user %d: %w", assigneeID, ErrInvalid)
			}
			if err != nil {
				return fmt.Errorf("db: assign: %w", err)
			}
		}
		for _, id := range dedupe(applicantIDs) {
			res, err := tx.ExecContext(ctx, `UPDATE applicants SET assignee_id = ? WHERE id = ? AND archived_at IS NULL
				AND (? = 0 OR created_by = ?) AND assignee_id IS NOT ?`, nullID(assigneeID), id, createdBy, createdBy, nullID(assigneeID))
			if err != nil {
				return fmt.Errorf("db: assign: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			changed++
			e := audit
			e.Action, e.Object, e.Detail = "applicant.assign", fmt.Sprintf("applicant:%d", id), fmt.Sprintf("assignee=user:%d", assigneeID)
			if err := d.appendAudit(ctx, tx, &e); err != nil {
				return err
			}
		}
		return nil
	})
	return changed, err
}

func dedupe(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id > 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
