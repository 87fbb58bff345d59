package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// Verification is one attempt with one provider.
type Verification struct {
	ID             int64
	ApplicantID    int64
	Provider       string
	Reference      string // ours, provider-specific
	ProviderRef    string // the provider's own id
	Status         string // normalised
	ProviderStatus string // verbatim
	Link           string
	QRPNG          []byte
	ExpiresAt      time.Time
	Token          string // end-user page token
	TokenExpiresAt time.Time
	CreatedBy      int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// ProviderLink joins an applicant to a provider's identifiers.
type ProviderLink struct {
	ID          int64
	ApplicantID int64
	Provider    string
	Reference   string
	ExternalID  string
	Status      string
	UpdatedAt   time.Time
}

// Event is one line of an applicant's timeline.
type Event struct {
	ID             int64
	ApplicantID    int64
	VerificationID int64
	Provider       string
	Source         string // webhook, callback, poll, staff, system
	Status         string
	ProviderStatus string
	TxHash         string
	Detail         string
	PayloadDigest  string
	ActorID        int64
	Actor          string
	At             time.Time
}

// NewVerification is what StartVerification stores.
type NewVerification struct {
	ApplicantID    int64
	Provider       string
	Reference      string
	ProviderRef    string
	ExternalID     string // identifier for the provider link (Core ID, DID, ...)
	Status         string
	ProviderStatus string
	Link           string
	QRPNG          []byte
	ExpiresAt      time.Time
	Token          string // end-user page token; NewToken() when empty
	TokenTTL       time.Duration
	CreatedBy      int64
	Detail         string // shown in the timeline, no PII
}

// NewToken returns a 256-bit random URL-safe token.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("db: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// StartVerification records a started verification, links the applicant to
// the provider, and writes the first timeline event and the audit entry in
// one transaction.
func (d *DB) StartVerification(ctx context.Context, v NewVerification, audit AuditEntry) (Verification, error) {
	var id int64
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.millis()
		if v.TokenTTL <= 0 {
			v.TokenTTL = 7 * 24 * time.Hour
		}
		if v.Token == "" {
			v.Token = NewToken()
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO verifications(applicant_id, provider, reference, provider_ref, status, provider_status,
			link, qr_png, expires_at, token, token_expires_at, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			v.ApplicantID, v.Provider, v.Reference, v.ProviderRef, v.Status, v.ProviderStatus, v.Link, v.QRPNG,
			nullTime(v.ExpiresAt), v.Token, now+v.TokenTTL.Milliseconds(), nullID(v.CreatedBy), now, now)
		if err != nil {
			return fmt.Errorf("db: start verification: %w", err)
		}
		id, _ = res.LastInsertId()
		if err := upsertLink(ctx, tx, v.ApplicantID, v.Provider, v.Reference, v.ExternalID, v.Status, now); err != nil {
			return err
		}
		if err := d.addEvent(ctx, tx, Event{ApplicantID: v.ApplicantID, VerificationID: id, Provider: v.Provider, Source: "staff",
			Status: v.Status, ProviderStatus: v.ProviderStatus, Detail: v.Detail, ActorID: v.CreatedBy}); err != nil {
			return err
		}
		if err := touchApplicant(ctx, tx, v.ApplicantID, v.Status, now); err != nil {
			return err
		}
		if err := reindexApplicant(ctx, tx, v.ApplicantID); err != nil {
			return err
		}
		audit.Action, audit.Object = "verification.start", fmt.Sprintf("applicant:%d", v.ApplicantID)
		audit.Detail = fmt.Sprintf("provider=%s verification=%d", v.Provider, id)
		return d.appendAudit(ctx, tx, &audit)
	})
	if err != nil {
		return Verification{}, err
	}
	return d.Verification(ctx, id)
}

func upsertLink(ctx context.Context, tx *sql.Tx, applicantID int64, provider, reference, externalID, status string, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO provider_links(applicant_id, provider, reference, external_id, status, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT(applicant_id, provider) DO UPDATE SET
			external_id = CASE WHEN excluded.external_id != '' THEN excluded.external_id ELSE external_id END,
			status = excluded.status, updated_at = excluded.updated_at`,
		applicantID, provider, reference, externalID, status, now)
	if err != nil {
		return fmt.Errorf("db: link provider: %w", err)
	}
	return nil
}

// touchApplicant moves the applicant's overall status and last-update time,
// and keeps the copy of that time on its provider links (the keyset the
// provider filter pages on) in step.
func touchApplicant(ctx context.Context, tx *sql.Tx, applicantID int64, status string, now int64) error {
	q := "UPDATE applicants SET updated_at = ? WHERE id = ?"
	args := []any{now, applicantID}
	if status != "" {
		q = "UPDATE applicants SET updated_at = ?, status = ? WHERE id = ?"
		args = []any{now, status, applicantID}
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("db: touch applicant: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE provider_links SET updated_at = ? WHERE applicant_id = ?", now, applicantID); err != nil {
		return fmt.Errorf("db: touch applicant: %w", err)
	}
	return nil
}

func (d *DB) addEvent(ctx context.Context, tx *sql.Tx, e Event) error {
	at := e.At
	if at.IsZero() {
		at = d.now()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO verification_events(applicant_id, verification_id, provider, source, status, provider_status,
		tx_hash, detail, payload_digest, actor_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ApplicantID, nullID(e.VerificationID), e.Provider, e.Source, e.Status, e.ProviderStatus, e.TxHash, e.Detail,
		e.PayloadDigest, nullID(e.ActorID), at.UnixMilli())
	if err != nil {
		return fmt.Errorf("db: add event: %w", err)
	}
	return nil
}

// VerificationUpdate is a provider-side change to apply to a verification.
type VerificationUpdate struct {
	VerificationID int64
	Source         string // webhook, callback, poll
	Status         string // normalised; empty keeps the current one
	ProviderStatus string
	ProviderRef    string
	TxHash         string
	Detail         string
	PayloadDigest  string
	At             time.Time
	Attributes     []AttributeInput
	Documents      []DocumentInput
	Certificates   []CertificateInput
}

// CertificateInput is provider metadata that survives archiving.
type CertificateInput struct {
	Provider string
	Name     string
	Value    string
}

// ApplyUpdate appends the update to the timeline, moves the verification's
// statuses, and stores any personal data and certificates, all in one
// transaction.
func (d *DB) ApplyUpdate(ctx context.Context, u VerificationUpdate) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var applicantID int64
		var provider, status string
		err := tx.QueryRowContext(ctx, "SELECT applicant_id, provider, status FROM verifications WHERE id = ?", u.VerificationID).Scan(&applicantID, &provider, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("db: apply update: verification %d: %w", u.VerificationID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("db: apply update: %w", err)
		}
		if u.Status != "" {
			status = u.Status
		}
		now := d.millis()
		// A provider ref that identifies the person is never written back
		// once the applicant is archived, whatever the caller checked
		// before this transaction (an archive may have committed since).
		if _, err := tx.ExecContext(ctx, `UPDATE verifications SET status = ?,
			provider_status = CASE WHEN ? != '' THEN ? ELSE provider_status END,
			provider_ref = CASE WHEN ? != '' AND NOT (provider IN `+scrubProviders+` AND
				(SELECT archived_at FROM applicants WHERE id = verifications.applicant_id) IS NOT NULL) THEN ? ELSE provider_ref END,
			updated_at = ? WHERE id = ?`,
			status, u.ProviderStatus, u.ProviderStatus, u.ProviderRef, u.ProviderRef, now, u.VerificationID); err != nil {
			return fmt.Errorf("db: apply update: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE provider_links SET status = ? WHERE applicant_id = ? AND provider = ?", status, applicantID, provider); err != nil {
			return fmt.Errorf("db: apply update: %w", err)
		}
		if err := d.addEvent(ctx, tx, Event{ApplicantID: applicantID, VerificationID: u.VerificationID, Provider: provider, Source: u.Source,
			Status: status, ProviderStatus: u.ProviderStatus, TxHash: u.TxHash, Detail: u.Detail, PayloadDigest: u.PayloadDigest, At: u.At}); err != nil {
			return err
		}
		if err := touchApplicant(ctx, tx, applicantID, status, now); err != nil {
			return err
		}
		if err := d.putPII(ctx, tx, applicantID, u.Attributes, u.Documents); err != nil {
			return err
		}
		for _, c := range u.Certificates {
			if _, err := tx.ExecContext(ctx, "INSERT INTO certificates(applicant_id, provider, name, value, created_at) VALUES (?, ?, ?, ?, ?)",
				applicantID, c.Provider, c.Name, c.Value, now); err != nil {
				return fmt.Errorf("db: store certificate: %w", err)
			}
		}
		return nil
	})
}

// byOwnRef finds a provider's verification by the provider's own ref for
// it (args: provider, ref). It states the partial index's condition
// (migration 015), without which SQLite cannot use that index.
const byOwnRef = "provider = ? AND provider_ref = ? AND provider_ref != ''"

const verificationColumns = `id, applicant_id, provider, reference, provider_ref, status, provider_status, link, qr_png,
	expires_at, token, token_expires_at, COALESCE(created_by, 0), created_at, updated_at`

func scanVerification(row interface{ Scan(...any) error }) (Verification, error) {
	var v Verification
	var expires sql.NullInt64
	var tokExp, created, updated int64
	err := row.Scan(&v.ID, &v.ApplicantID, &v.Provider, &v.Reference, &v.ProviderRef, &v.Status, &v.ProviderStatus, &v.Link, &v.QRPNG,
		&expires, &v.Token, &tokExp, &v.CreatedBy, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("db: verification: %w", err)
	}
	v.ExpiresAt, v.TokenExpiresAt = nullMillis(expires), fromMillis(tokExp)
	v.CreatedAt, v.UpdatedAt = fromMillis(created), fromMillis(updated)
	return v, nil
}

// Verification returns one verification.
func (d *DB) Verification(ctx context.Context, id int64) (Verification, error) {
	return scanVerification(d.read.QueryRowContext(ctx, "SELECT "+verificationColumns+" FROM verifications WHERE id = ?", id))
}

// VerificationByToken finds the verification behind an end-user page token.
func (d *DB) VerificationByToken(ctx context.Context, token string) (Verification, error) {
	return scanVerification(d.read.QueryRowContext(ctx, "SELECT "+verificationColumns+" FROM verifications WHERE token = ?", token))
}

// VerificationByReference finds the newest verification with a provider by
// our reference or, failing that, by the provider's own id.
func (d *DB) VerificationByReference(ctx context.Context, provider, reference, providerRef string) (Verification, error) {
	if reference != "" {
		v, err := scanVerification(d.read.QueryRowContext(ctx, "SELECT "+verificationColumns+
			" FROM verifications WHERE provider = ? AND reference = ? ORDER BY id DESC LIMIT 1", provider, reference))
		if !errors.Is(err, ErrNotFound) {
			return v, err
		}
	}
	if providerRef != "" {
		v, err := scanVerification(d.read.QueryRowContext(ctx, "SELECT "+verificationColumns+
			" FROM verifications WHERE "+byOwnRef+" ORDER BY id DESC LIMIT 1", provider, providerRef))
		if !errors.Is(err, ErrNotFound) || d.kek == nil {
			return v, err
		}
		// Archived since: the reference is known only by its MAC.
		return scanVerification(d.read.QueryRowContext(ctx, "SELECT "+verificationColumns+
			" FROM verifications WHERE id = (SELECT max(verification_id) FROM archived_provider_refs WHERE provider = ? AND ref_mac = ? AND kek_id = ?)",
			provider, d.archivedRefMAC(provider, providerRef), d.kek.ID()))
	}
	return Verification{}, ErrNotFound
}

// Verifications lists an applicant's verifications, newest first.
func (d *DB) Verifications(ctx context.Context, applicantID int64) ([]Verification, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT "+verificationColumns+" FROM verifications WHERE applicant_id = ? ORDER BY id DESC", applicantID)
	if err != nil {
		return nil, fmt.Errorf("db: verifications: %w", err)
	}
	defer rows.Close()
	var out []Verification
	for rows.Next() {
		v, err := scanVerification(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ProviderLinks lists an applicant's provider links.
func (d *DB) ProviderLinks(ctx context.Context, applicantID int64) ([]ProviderLink, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, applicant_id, provider, reference, external_id, status, updated_at
		FROM provider_links WHERE applicant_id = ? ORDER BY provider`, applicantID)
	if err != nil {
		return nil, fmt.Errorf("db: provider links: %w", err)
	}
	defer rows.Close()
	var out []ProviderLink
	for rows.Next() {
		var l ProviderLink
		var updated int64
		if err := rows.Scan(&l.ID, &l.ApplicantID, &l.Provider, &l.Reference, &l.ExternalID, &l.Status, &updated); err != nil {
			return nil, fmt.Errorf("db: provider links: %w", err)
		}
		l.UpdatedAt = fromMillis(updated)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Timeline lists an applicant's events, newest first.
func (d *DB) Timeline(ctx context.Context, applicantID int64, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = 200
	}
	rows, err := d.read.QueryContext(ctx, `SELECT e.id, e.applicant_id, COALESCE(e.verification_id, 0), e.provider, e.source, e.status,
		e.provider_status, e.tx_hash, e.detail, e.payload_digest, COALESCE(e.actor_id, 0), COALESCE(u.email, ''), e.at
		FROM verification_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.applicant_id = ? ORDER BY e.at DESC, e.id DESC LIMIT ?`, applicantID, limit)
	if err != nil {
		return nil, fmt.Errorf("db: timeline: %w", err)
	}
	return scanEvents(rows)
}

// scanEvents reads timeline rows (the columns Timeline selects) and closes
// rows.
func scanEvents(rows *sql.Rows) ([]Event, error) {
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.ID, &e.ApplicantID, &e.VerificationID, &e.Provider, &e.Source, &e.Status, &e.ProviderStatus,
			&e.TxHash, &e.Detail, &e.PayloadDigest, &e.ActorID, &e.Actor, &at); err != nil {
			return nil, fmt.Errorf("db: timeline: %w", err)
		}
		e.At = fromMillis(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: timeline: %w", err)
	}
	return out, nil
}

// Certificate is stored provider metadata.
type Certificate struct {
	ID        int64
	Provider  string
	Name      string
	Value     string
	CreatedAt time.Time
}

// Certificates lists an applicant's certificates.
func (d *DB) Certificates(ctx context.Context, applicantID int64) ([]Certificate, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT id, provider, name, value, created_at FROM certificates WHERE applicant_id = ? ORDER BY id", applicantID)
	if err != nil {
		return nil, fmt.Errorf("db: certificates: %w", err)
	}
	defer rows.Close()
	var out []Certificate
	for rows.Next() {
		var c Certificate
		var created int64
		if err := rows.Scan(&c.ID, &c.Provider, &c.Name, &c.Value, &created); err != nil {
			return nil, fmt.Errorf("db: certificates: %w", err)
		}
		c.CreatedAt = fromMillis(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// OpenVerifications lists a provider's verifications that are not yet
// terminal and were created after since, oldest update first: what a
// reconciliation job asks the provider about.
func (d *DB) OpenVerifications(ctx context.Context, provider string, since time.Time, limit int) ([]Verification, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT "+verificationColumns+` FROM verifications
		WHERE provider = ? AND status IN ('invited', 'in_progress', 'needs_review') AND created_at >= ?
		ORDER BY updated_at LIMIT ?`, provider, since.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("db: open verifications: %w", err)
	}
	defer rows.Close()
	var out []Verification
	for rows.Next() {
		v, err := scanVerification(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
