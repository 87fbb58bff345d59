package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kycdesk/kycdesk/db/seal"
)

// ErrKeyDestroyed is returned when an applicant's data key is gone
// (archived): its personal data can no longer be read.
var ErrKeyDestroyed = errors.New("the applicant's data key is destroyed")

func newDataKeyBytes() []byte { return seal.NewKey() }

// AttributeInput is one attribute to store, in plaintext, before sealing.
type AttributeInput struct {
	Provider string
	Meaning  string
	Name     string
	Value    string
	Pepper   string
}

// Attribute is a stored attribute, decrypted.
type Attribute struct {
	ID        int64
	Provider  string
	Meaning   string
	Name      string
	Value     string
	Pepper    string
	CreatedAt time.Time
}

// DocumentInput is one document to store.
type DocumentInput struct {
	Provider    string
	Name        string
	ContentType string
	Data        []byte
}

// Document is a stored document's metadata; DocumentData decrypts the bytes.
type Document struct {
	ID          int64
	ApplicantID int64
	Provider    string
	Name        string
	ContentType string
	Size        int64
	CreatedAt   time.Time
}

// dataKey loads and unwraps the applicant's data key using q (the read pool
// or a transaction).
func (d *DB) dataKey(ctx context.Context, q querier, applicantID int64) (*seal.DataKey, error) {
	if d.kek == nil {
		return nil, fmt.Errorf("db: no data key configured")
	}
	var wrapped []byte
	err := q.QueryRowContext(ctx, "SELECT wrapped FROM data_keys WHERE applicant_id = ?", applicantID).Scan(&wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrKeyDestroyed
	}
	if err != nil {
		return nil, fmt.Errorf("db: data key: %w", err)
	}
	dk, err := d.kek.Unwrap(applicantID, wrapped)
	if err != nil {
		return nil, fmt.Errorf("db: data key: %w", err)
	}
	return dk, nil
}

// putPII seals and stores attributes and documents for an applicant inside
// tx.
func (d *DB) putPII(ctx context.Context, tx *sql.Tx, applicantID int64, attrs []AttributeInput, docs []DocumentInput) error {
	if len(attrs) == 0 && len(docs) == 0 {
		return nil
	}
	dk, err := d.dataKey(ctx, tx, applicantID)
	if err != nil {
		return err
	}
	now := d.millis()
	for _, a := range attrs {
		// A provider re-sends what it sent before (refreshes, retries):
		// store a value once, so the evidence a review pinned stays put.
		same, err := d.hasAttribute(ctx, tx, dk, applicantID, a)
		if err != nil {
			return err
		}
		if same {
			continue
		}
		var pepper []byte
		if a.Pepper != "" {
			pepper = dk.Seal([]byte(a.Pepper))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO attributes(applicant_id, provider, meaning, name, value_ct, pepper_ct, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, applicantID, a.Provider, a.Meaning, a.Name, dk.Seal([]byte(a.Value)), pepper, now); err != nil {
			return fmt.Errorf("db: store attribute: %w", err)
		}
	}
	for _, doc := range docs {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM documents WHERE applicant_id = ? AND provider = ? AND name = ? AND size = ?",
			applicantID, doc.Provider, doc.Name, len(doc.Data)).Scan(&n); err != nil {
			return fmt.Errorf("db: store document: %w", err)
		}
		if n > 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO documents(applicant_id, provider, name, content_type, size, data_ct, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, applicantID, doc.Provider, doc.Name, doc.ContentType, len(doc.Data), dk.Seal(doc.Data), now); err != nil {
			return fmt.Errorf("db: store document: %w", err)
		}
	}
	return nil
}

// hasAttribute reports whether the applicant already holds this exact
// attribute value (and pepper) from this provider.
func (d *DB) hasAttribute(ctx context.Context, tx *sql.Tx, dk *seal.DataKey, applicantID int64, a AttributeInput) (bool, error) {
	rows, err := tx.QueryContext(ctx, "SELECT value_ct, pepper_ct FROM attributes WHERE applicant_id = ? AND provider = ? AND name = ?", applicantID, a.Provider, a.Name)
	if err != nil {
		return false, fmt.Errorf("db: store attribute: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v, p []byte
		if err := rows.Scan(&v, &p); err != nil {
			return false, fmt.Errorf("db: store attribute: %w", err)
		}
		val, err := dk.Open(v)
		if err != nil || string(val) != a.Value {
			continue
		}
		pep := []byte{}
		if p != nil {
			if pep, err = dk.Open(p); err != nil {
				continue
			}
		}
		if string(pep) == a.Pepper {
			return true, nil
		}
	}
	return false, rows.Err()
}

// PutPII stores attributes and documents for an applicant.
func (d *DB) PutPII(ctx context.Context, applicantID int64, attrs []AttributeInput, docs []DocumentInput) error {
	return d.inTx(ctx, func(tx *sql.Tx) error { return d.putPII(ctx, tx, applicantID, attrs, docs) })
}

// Attributes decrypts an applicant's attributes. Reading personal data is
// an access the caller must audit (ViewPII does both).
func (d *DB) Attributes(ctx context.Context, applicantID int64) ([]Attribute, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, provider, meaning, name, value_ct, pepper_ct, created_at
		FROM attributes WHERE applicant_id = ? ORDER BY meaning, id`, applicantID)
	if err != nil {
		return nil, fmt.Errorf("db: attributes: %w", err)
	}
	defer rows.Close()
	type sealed struct {
		a      Attribute
		value  []byte
		pepper []byte
	}
	var all []sealed
	for rows.Next() {
		var s sealed
		var created int64
		if err := rows.Scan(&s.a.ID, &s.a.Provider, &s.a.Meaning, &s.a.Name, &s.value, &s.pepper, &created); err != nil {
			return nil, fmt.Errorf("db: attributes: %w", err)
		}
		s.a.CreatedAt = fromMillis(created)
		all = append(all, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: attributes: %w", err)
	}
	if len(all) == 0 {
		return nil, nil
	}
	dk, err := d.dataKey(ctx, d.read, applicantID)
	if err != nil {
		return nil, err
	}
	out := make([]Attribute, 0, len(all))
	for _, s := range all {
		v, err := dk.Open(s.value)
		if err != nil {
			return nil, fmt.Errorf("db: attribute %d: %w", s.a.ID, err)
		}
		s.a.Value = string(v)
		if s.pepper != nil {
			p, err := dk.Open(s.pepper)
			if err != nil {
				return nil, fmt.Errorf("db: attribute %d pepper: %w", s.a.ID, err)
			}
			s.a.Pepper = string(p)
		}
		out = append(out, s.a)
	}
	return out, nil
}

// Documents lists an applicant's documents (metadata only).
func (d *DB) Documents(ctx context.Context, applicantID int64) ([]Document, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, applicant_id, provider, name, content_type, size, created_at
		FROM documents WHERE applicant_id = ? ORDER BY id`, applicantID)
	if err != nil {
		return nil, fmt.Errorf("db: documents: %w", err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		var doc Document
		var created int64
		if err := rows.Scan(&doc.ID, &doc.ApplicantID, &doc.Provider, &doc.Name, &doc.ContentType, &doc.Size, &created); err != nil {
			return nil, fmt.Errorf("db: documents: %w", err)
		}
		doc.CreatedAt = fromMillis(created)
		out = append(out, doc)
	}
	return out, rows.Err()
}

// DocumentData decrypts one document of an applicant.
func (d *DB) DocumentData(ctx context.Context, applicantID, documentID int64) (Document, []byte, error) {
	var doc Document
	var created int64
	var ct []byte
	err := d.read.QueryRowContext(ctx, `SELECT id, applicant_id, provider, name, content_type, size, created_at, data_ct
		FROM documents WHERE id = ? AND applicant_id = ?`, documentID, applicantID).
		Scan(&doc.ID, &doc.ApplicantID, &doc.Provider, &doc.Name, &doc.ContentType, &doc.Size, &created, &ct)
	if errors.Is(err, sql.ErrNoRows) {
		return doc, nil, ErrNotFound
	}
	if err != nil {
		return doc, nil, fmt.Errorf("db: document: %w", err)
	}
	doc.CreatedAt = fromMillis(created)
	dk, err := d.dataKey(ctx, d.read, applicantID)
	if err != nil {
		return doc, nil, err
	}
	data, err := dk.Open(ct)
	if err != nil {
		return doc, nil, fmt.Errorf("db: document %d: %w", documentID, err)
	}
	return doc, data, nil
}

// DestroyDataKey deletes an applicant's wrapped data key: every ciphertext
// of that applicant, here and in any backup, becomes unreadable.
func (d *DB) DestroyDataKey(ctx context.Context, applicantID int64) error {
	if _, err := d.write.ExecContext(ctx, "DELETE FROM data_keys WHERE applicant_id = ?", applicantID); err != nil {
		return fmt.Errorf("db: destroy data key: %w", err)
	}
	return nil
}
