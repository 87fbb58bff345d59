package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxNoteLen bounds a note (characters).
const MaxNoteLen = 4000

// Note is a staff note on an applicant. Notes are append-only: the
// database refuses any edit, and a delete while the applicant is not
// archived.
type Note struct {
	ID          int64
	ApplicantID int64
	AuthorID    int64
	Author      string
	Body        string
	CreatedAt   time.Time
}

// AddNote appends a note to one applicant.
func (d *DB) AddNote(ctx context.Context, applicantID, authorID int64, body string, audit AuditEntry) (Note, error) {
	n, err := d.AddNotes(ctx, []int64{applicantID}, authorID, body, 0, audit)
	if err != nil {
		return Note{}, err
	}
	if n == 0 {
		return Note{}, fmt.Errorf("db: add note: applicant %d: %w", applicantID, ErrNotFound)
	}
	notes, err := d.Notes(ctx, applicantID, 1)
	if err != nil || len(notes) == 0 {
		return Note{}, fmt.Errorf("db: add note: read back: %w", err)
	}
	return notes[0], nil
}

// AddNotes appends the same note to up to MaxBulk applicants in one
// transaction, one audit entry each (the note's text stays out of the
// audit log: it may hold personal data). createdBy, if set, limits it to
// applicants that user created. Archived applicants are skipped. It returns
// how many notes were added.
func (d *DB) AddNotes(ctx context.Context, applicantIDs []int64, authorID int64, body string, createdBy int64, audit AuditEntry) (int, error) {
	body = strings.TrimSpace(body)
	if body == "" || utf8.RuneCountInString(body) > MaxNoteLen || authorID <= 0 {
		return 0, fmt.Errorf("db: add note: %w", ErrInvalid)
	}
	if len(applicantIDs) == 0 || len(applicantIDs) > MaxBulk {
		return 0, fmt.Errorf("db: add note: %d applicants (1 to %d): %w", len(applicantIDs), MaxBulk, ErrInvalid)
	}
	added := 0
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.millis()
		for _, id := range dedupe(applicantIDs) {
			var noteID int64
			err := tx.QueryRowContext(ctx, `INSERT INTO notes(applicant_id, author_id, body, created_at)
				SELECT id, ?, ?, ? FROM applicants WHERE id = ? AND archived_at IS NULL AND (? = 0 OR created_by = ?)
				RETURNING id`, authorID, body, now, id, createdBy, createdBy).Scan(&noteID)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("db: add note: %w", err)
			}
			added++
			e := audit
			e.Action, e.Object, e.Detail = "note.add", fmt.Sprintf("applicant:%d", id), fmt.Sprintf("note=%d", noteID)
			if err := d.appendAudit(ctx, tx, &e); err != nil {
				return err
			}
		}
		return nil
	})
	return added, err
}

// Notes lists an applicant's notes, newest first.
func (d *DB) Notes(ctx context.Context, applicantID int64, limit int) ([]Note, error) {
	if limit <= 0 {
		limit = 200
	}
	rows, err := d.read.QueryContext(ctx, `SELECT n.id, n.applicant_id, n.author_id, u.email, n.body, n.created_at
		FROM notes n JOIN users u ON u.id = n.author_id WHERE n.applicant_id = ? ORDER BY n.created_at DESC, n.id DESC LIMIT ?`, applicantID, limit)
	if err != nil {
		return nil, fmt.Errorf("db: notes: %w", err)
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		var n Note
		var at int64
		if err := rows.Scan(&n.ID, &n.ApplicantID, &n.AuthorID, &n.Author, &n.Body, &at); err != nil {
			return nil, fmt.Errorf("db: notes: %w", err)
		}
		n.CreatedAt = fromMillis(at)
		out = append(out, n)
	}
	return out, rows.Err()
}

// TimelineWithNotes is the applicant's timeline with the notes woven in,
// newest first: a note is an Event with Source "note", its author as
// Actor and its text as Detail.
func (d *DB) TimelineWithNotes(ctx context.Context, applicantID int64, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = 200
	}
	rows, err := d.read.QueryContext(ctx, `SELECT * FROM (
		SELECT e.id, e.applicant_id, COALESCE(e.verification_id, 0), e.provider, e.source, e.status,
			e.provider_status, e.tx_hash, e.detail, e.payload_digest, COALESCE(e.actor_id, 0), COALESCE(u.email, ''), e.at
		FROM verification_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.applicant_id = ? ORDER BY e.at DESC, e.id DESC LIMIT ?)
		UNION ALL SELECT * FROM (
		SELECT n.id, n.applicant_id, 0, '', 'note', '', '', '', n.body, '', n.author_id, u.email, n.created_at
		FROM notes n JOIN users u ON u.id = n.author_id
		WHERE n.applicant_id = ? ORDER BY n.created_at DESC, n.id DESC LIMIT ?)
		ORDER BY 13 DESC, 1 DESC LIMIT ?`, applicantID, limit, applicantID, limit, limit)
	if err != nil {
		return nil, fmt.Errorf("db: timeline: %w", err)
	}
	return scanEvents(rows)
}
