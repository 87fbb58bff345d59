package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/kycdesk/kycdesk/db/seal"
)

// The SelfKey wallet's calls reach the store through this file: spent
// challenges, wallets, uploads waiting for the request that names them, and
// the submissions (POST /users, POST /applications) that become an
// applicant's personal data and a verification in one transaction.

// Errors of the SelfKey store; each also matches ErrNotFound or ErrInvalid.
var (
	// ErrSelfKeyNoUser: the wallet has not created its user yet (or that
	// user was archived, which takes the wallet with it).
	ErrSelfKeyNoUser = fmt.Errorf("selfkey wallet has no user: %w", ErrNotFound)
	// ErrSelfKeyFileUnknown: a file id that this wallet did not upload,
	// that was used already, or that expired.
	ErrSelfKeyFileUnknown = fmt.Errorf("selfkey file unknown, used or expired: %w", ErrNotFound)
	// ErrSelfKeyFileMislabelled: the wallet declared a file as one type and
	// its content is another.
	ErrSelfKeyFileMislabelled = fmt.Errorf("selfkey file content does not match its declared type: %w", ErrInvalid)
	// ErrSelfKeyTooManyFiles: the wallet has MaxSelfKeyPendingFiles
	// uploads that no request used yet.
	ErrSelfKeyTooManyFiles = fmt.Errorf("selfkey wallet has too many unused uploads: %w", ErrConflict)
)

// MaxSelfKeyPendingFiles bounds the uploads one wallet may have waiting,
// so a wallet cannot fill the disk with files it never uses.
const MaxSelfKeyPendingFiles = 32

// selfKeyProvider is the provider name SelfKey rows carry.
const selfKeyProvider = "selfkey"

// selfKeyActor is the audit actor of what a wallet does.
const selfKeyActor = "selfkey wallet"

// selfKeySpentMargin keeps a spent token's id past the token's expiry,
// longer than any clock leeway, so the id refuses a second use for as long
// as the token itself could pass.
const selfKeySpentMargin = time.Hour

// SelfKeyClient is what a wallet request says about the wallet: its
// User-Agent ("SelfKeyIDW/<version>") and Origin ("IDW" or a website).
type SelfKeyClient struct {
	UserAgent string
	Origin    string
}

// clean bounds the headers and drops control characters: they are shown
// to staff and kept in the timeline.
func (c SelfKeyClient) clean() SelfKeyClient {
	return SelfKeyClient{UserAgent: printable(c.UserAgent, 200), Origin: printable(c.Origin, 300)}
}

func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > max {
		s = s[:max]
	}
	return strings.ToValidUTF8(s, "")
}

// describe is the client for a timeline line: "SelfKeyIDW/2.1.3, origin IDW".
func (c SelfKeyClient) describe() string {
	ua, origin := c.UserAgent, c.Origin
	if ua == "" {
		ua = "no User-Agent"
	}
	if origin == "" {
		origin = "none"
	}
	return ua + ", origin " + origin
}

// randomID is an unguessable id handed to a wallet (a file or an
// application): a wallet must not be able to name another wallet's.
func randomID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("db: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// SelfKeyChallenges is the database-backed single-use store of SelfKey
// challenges and user tokens (it satisfies selfkey.ChallengeStore), shared
// by every instance of the app.
type SelfKeyChallenges struct{ d *DB }

// SelfKeyChallenges returns the single-use token store.
func (d *DB) SelfKeyChallenges() SelfKeyChallenges { return SelfKeyChallenges{d} }

// Use records key as spent until exp (plus a margin) and reports whether
// this was its first use. Of two concurrent uses exactly one is first: the
// insert of the primary key decides, in one write transaction. Expired
// entries are purged a few at a time on the way.
func (s SelfKeyChallenges) Use(ctx context.Context, key string, exp time.Time) (bool, error) {
	if key == "" || len(key) > 200 {
		return false, fmt.Errorf("db: selfkey spend token: %w: key must be 1-200 bytes", ErrInvalid)
	}
	var first bool
	err := s.d.inTx(ctx, func(tx *sql.Tx) error {
		now := s.d.millis()
		if _, err := tx.ExecContext(ctx, `DELETE FROM selfkey_spent WHERE key IN
			(SELECT key FROM selfkey_spent WHERE expires_at < ? LIMIT 100)`, now); err != nil {
			return fmt.Errorf("db: selfkey spend token: purge: %w", err)
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO selfkey_spent(key, expires_at) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
			key, exp.Add(selfKeySpentMargin).UnixMilli())
		if err != nil {
			return fmt.Errorf("db: selfkey spend token: %w", err)
		}
		n, _ := res.RowsAffected()
		first = n == 1
		return nil
	})
	return first, err
}

// SelfKeyWallet is a wallet that proved it holds its key.
type SelfKeyWallet struct {
	Subject     string // did:eth / did:selfkey DID, or the legacy 0x+128-hex key
	ApplicantID int64  // 0 until the wallet creates its user
	Client      SelfKeyClient
	FirstSeenAt time.Time
	LastSeenAt  time.Time
}

// SelfKeyWalletSeen records a wallet that answered a challenge, with the
// headers it sent.
func (d *DB) SelfKeyWalletSeen(ctx context.Context, subject string, c SelfKeyClient) error {
	return d.inTx(ctx, func(tx *sql.Tx) error { return d.touchWallet(ctx, tx, subject, c) })
}

func (d *DB) touchWallet(ctx context.Context, tx *sql.Tx, subject string, c SelfKeyClient) error {
	if subject == "" || len(subject) > 200 {
		return fmt.Errorf("db: selfkey wallet: %w: subject must be 1-200 bytes", ErrInvalid)
	}
	c = c.clean()
	now := d.millis()
	_, err := tx.ExecContext(ctx, `INSERT INTO selfkey_wallets(subject, user_agent, origin, first_seen_at, last_seen_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(subject) DO UPDATE SET user_agent = excluded.user_agent, origin = excluded.origin, last_seen_at = excluded.last_seen_at`,
		subject, c.UserAgent, c.Origin, now, now)
	if err != nil {
		return fmt.Errorf("db: selfkey wallet: %w", err)
	}
	return nil
}

// SelfKeyWallet returns a wallet by subject; ErrNotFound when it never
// answered a challenge here (or its user was archived).
func (d *DB) SelfKeyWallet(ctx context.Context, subject string) (SelfKeyWallet, error) {
	return scanWallet(d.read.QueryRowContext(ctx, `SELECT subject, COALESCE(applicant_id, 0), user_agent, origin, first_seen_at, last_seen_at
		FROM selfkey_wallets WHERE subject = ?`, subject))
}

func scanWallet(row *sql.Row) (SelfKeyWallet, error) {
	var w SelfKeyWallet
	var first, last int64
	err := row.Scan(&w.Subject, &w.ApplicantID, &w.Client.UserAgent, &w.Client.Origin, &first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return w, ErrNotFound
	}
	if err != nil {
		return w, fmt.Errorf("db: selfkey wallet: %w", err)
	}
	w.FirstSeenAt, w.LastSeenAt = fromMillis(first), fromMillis(last)
	return w, nil
}

// SelfKeyFileInput is a document a wallet uploaded ahead of the request
// that will name it. ContentType is the sniffed type, Data already
// sanitised.
type SelfKeyFileInput struct {
	Subject     string
	ContentType string
	Data        []byte
	Client      SelfKeyClient
	ExpiresAt   time.Time // unused files are purged after this
}

// fileLabel binds a system-sealed upload to its id.
func fileLabel(fileID string) string { return "selfkey/file/" + fileID }

// StoreSelfKeyFile keeps an upload sealed until a request uses it: with
// the applicant's data key when the wallet has a user, else with the
// key-encryption key. It returns the file id for the wallet. Expired unused
// uploads are purged on the way.
func (d *DB) StoreSelfKeyFile(ctx context.Context, in SelfKeyFileInput) (string, error) {
	if d.kek == nil {
		return "", fmt.Errorf("db: selfkey file: no data key configured")
	}
	if len(in.Data) == 0 {
		return "", fmt.Errorf("db: selfkey file: %w: empty", ErrInvalid)
	}
	id := randomID()
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.millis()
		if _, err := tx.ExecContext(ctx, "DELETE FROM selfkey_files WHERE id IN (SELECT id FROM selfkey_files WHERE expires_at < ? LIMIT 100)", now); err != nil {
			return fmt.Errorf("db: selfkey file: purge: %w", err)
		}
		if err := d.touchWallet(ctx, tx, in.Subject, in.Client); err != nil {
			return err
		}
		var pending int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM selfkey_files WHERE subject = ? AND expires_at >= ?", in.Subject, now).Scan(&pending); err != nil {
			return fmt.Errorf("db: selfkey file: %w", err)
		}
		if pending >= MaxSelfKeyPendingFiles {
			return ErrSelfKeyTooManyFiles
		}
		var applicant sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT applicant_id FROM selfkey_wallets WHERE subject = ?", in.Subject).Scan(&applicant); err != nil {
			return fmt.Errorf("db: selfkey file: %w", err)
		}
		var ct []byte
		if applicant.Valid {
			dk, err := d.dataKey(ctx, tx, applicant.Int64)
			if err != nil {
				return err
			}
			ct = dk.Seal(in.Data)
		} else {
			ct = d.kek.SealSystem(fileLabel(id), in.Data)
		}
		c := in.Client.clean()
		_, err := tx.ExecContext(ctx, `INSERT INTO selfkey_files(file_id, subject, applicant_id, content_type, size, data_ct,
			user_agent, origin, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, in.Subject, applicant, in.ContentType, len(in.Data), ct, c.UserAgent, c.Origin, now, in.ExpiresAt.UnixMilli())
		if err != nil {
			return fmt.Errorf("db: selfkey file: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// SelfKeyFileRef is an uploaded file a submission names: the id the wallet
// got, the document name to store it under, and the type the wallet
// declared for it ("" when it declared none).
type SelfKeyFileRef struct {
	FileID       string
	Name         string
	DeclaredType string
}

// SelfKeySubmission is what a wallet request brings: personal data to
// store for the wallet's applicant and the statuses to move its SelfKey
// verification to.
type SelfKeySubmission struct {
	Subject        string
	Attributes     []AttributeInput
	Documents      []DocumentInput // sent inline, already sanitised
	Files          []SelfKeyFileRef
	Status         string // normalised
	ProviderStatus string // verbatim KYC-Chain name
	Client         SelfKeyClient
}

// SelfKeyUserInput is a POST /users: the submission, the reference the
// relying party passed in meta (a SelfKey link to join, if it names one no
// other wallet took), and the applicant's name and email for the list.
type SelfKeyUserInput struct {
	SelfKeySubmission
	Reference string
	Name      string
	Email     string
}

// SelfKeyApplicationInput is a POST /applications: the submission and the
// template it answers.
type SelfKeyApplicationInput struct {
	SelfKeySubmission
	TemplateID   string
	TemplateName string
}

// SelfKeyResult is what a stored submission became.
type SelfKeyResult struct {
	ApplicantID    int64
	NewApplicant   bool
	VerificationID int64
	Token          string // the verification's end-user page token
	ApplicationID  string // for an application
	Attributes     int
	Documents      int
}

// SaveSelfKeyUser stores a wallet's POST /users in one transaction: the
// wallet's applicant (joined by reference, or created), its attributes and
// documents sealed with the applicant's data key, the uploads it names
// (which leave the upload table), and its SelfKey verification (the open
// one, or a new one) with a timeline event and an audit entry.
func (d *DB) SaveSelfKeyUser(ctx context.Context, in SelfKeyUserInput) (SelfKeyResult, error) {
	var r SelfKeyResult
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.touchWallet(ctx, tx, in.Subject, in.Client); err != nil {
			return err
		}
		applicantID, reference, created, err := d.walletApplicant(ctx, tx, in)
		if err != nil {
			return err
		}
		r.ApplicantID, r.NewApplicant = applicantID, created
		docs, err := d.takeSelfKeyFiles(ctx, tx, in.Subject, applicantID, in.Files)
		if err != nil {
			return err
		}
		docs = append(docs, in.Documents...)
		now := d.millis()
		// The newest verification still open is this login's: a wallet
		// that shares its data again adds to it rather than starting over.
		var vid int64
		var token, status, providerStatus string
		err = tx.QueryRowContext(ctx, `SELECT id, token, status, provider_status FROM verifications WHERE applicant_id = ? AND provider = ?
			AND status IN ('in_progress', 'needs_review') ORDER BY id DESC LIMIT 1`, applicantID, selfKeyProvider).Scan(&vid, &token, &status, &providerStatus)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			vid, token, err = d.insertSelfKeyVerification(ctx, tx, applicantID, reference, in.Status, in.ProviderStatus, "", now)
			if err != nil {
				return err
			}
			status, providerStatus = in.Status, in.ProviderStatus
		case err != nil:
			return fmt.Errorf("db: selfkey user: %w", err)
		}
		if err := upsertLink(ctx, tx, applicantID, selfKeyProvider, reference, in.Subject, status, now); err != nil {
			return err
		}
		detail := fmt.Sprintf("SelfKey wallet shared %s and %s (%s)", plural(len(in.Attributes), "attribute"), plural(len(docs), "document"), in.Client.clean().describe())
		if err := d.addEvent(ctx, tx, Event{ApplicantID: applicantID, VerificationID: vid, Provider: selfKeyProvider, Source: "callback",
			Status: status, ProviderStatus: providerStatus, Detail: detail}); err != nil {
			return err
		}
		if err := d.putPII(ctx, tx, applicantID, in.Attributes, docs); err != nil {
			return err
		}
		if err := touchApplicant(ctx, tx, applicantID, status, now); err != nil {
			return err
		}
		if err := reindexApplicant(ctx, tx, applicantID); err != nil {
			return err
		}
		r.VerificationID, r.Token, r.Attributes, r.Documents = vid, token, len(in.Attributes), len(docs)
		audit := AuditEntry{Actor: selfKeyActor, Action: "selfkey.user", Object: fmt.Sprintf("applicant:%d", applicantID),
			Detail: fmt.Sprintf("verification=%d attributes=%d documents=%d", vid, len(in.Attributes), len(docs))}
		return d.appendAudit(ctx, tx, &audit)
	})
	if err != nil {
		return SelfKeyResult{}, err
	}
	return r, nil
}

// walletApplicant finds or makes the applicant of a wallet's POST /users:
// the wallet's own; else the SelfKey link the meta reference names, when
// no other wallet holds it; else a new applicant. It binds the wallet to
// it and returns the SelfKey link's reference.
func (d *DB) walletApplicant(ctx context.Context, tx *sql.Tx, in SelfKeyUserInput) (id int64, reference string, created bool, err error) {
	var own sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT applicant_id FROM selfkey_wallets WHERE subject = ?", in.Subject).Scan(&own); err != nil {
		return 0, "", false, fmt.Errorf("db: selfkey user: %w", err)
	}
	if own.Valid {
		id = own.Int64
	} else if in.Reference != "" && len(in.Reference) <= 200 {
		var linked int64
		var external string
		err := tx.QueryRowContext(ctx, `SELECT l.applicant_id, l.external_id FROM provider_links l JOIN applicants a ON a.id = l.applicant_id
			WHERE l.provider = ? AND l.reference = ? AND a.archived_at IS NULL`, selfKeyProvider, in.Reference).Scan(&linked, &external)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, "", false, fmt.Errorf("db: selfkey user: %w", err)
		}
		if err == nil && (external == "" || external == in.Subject) {
			id = linked
		}
	}
	if id == 0 {
		if id, err = d.createApplicantTx(ctx, tx, NewApplicant{Name: printable(in.Name, 200), Email: printable(in.Email, 254)}); err != nil {
			return 0, "", false, err
		}
		created = true
		audit := AuditEntry{Actor: selfKeyActor, Action: "applicant.create", Object: fmt.Sprintf("applicant:%d", id), Detail: "provider=selfkey"}
		if err := d.appendAudit(ctx, tx, &audit); err != nil {
			return 0, "", false, err
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE selfkey_wallets SET applicant_id = ? WHERE subject = ?", id, in.Subject); err != nil {
		return 0, "", false, fmt.Errorf("db: selfkey user: bind wallet: %w", err)
	}
	err = tx.QueryRowContext(ctx, "SELECT reference FROM provider_links WHERE applicant_id = ? AND provider = ?", id, selfKeyProvider).Scan(&reference)
	if errors.Is(err, sql.ErrNoRows) {
		return id, "sk_" + randomID()[:24], created, nil
	}
	if err != nil {
		return 0, "", false, fmt.Errorf("db: selfkey user: %w", err)
	}
	return id, reference, created, nil
}

// insertSelfKeyVerification adds a SelfKey verification for the applicant,
// with its end-user page token.
func (d *DB) insertSelfKeyVerification(ctx context.Context, tx *sql.Tx, applicantID int64, reference, status, providerStatus, providerRef string, now int64) (int64, string, error) {
	token := NewToken()
	res, err := tx.ExecContext(ctx, `INSERT INTO verifications(applicant_id, provider, reference, provider_ref, status, provider_status,
		token, token_expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		applicantID, selfKeyProvider, reference, providerRef, status, providerStatus, token,
		now+(7*24*time.Hour).Milliseconds(), now, now)
	if err != nil {
		return 0, "", fmt.Errorf("db: selfkey verification: %w", err)
	}
	id, _ := res.LastInsertId()
	return id, token, nil
}

// takeSelfKeyFiles turns the uploads a submission names into documents:
// each must be this wallet's, unused and unexpired, and of the type the
// wallet declared; it is opened and its row deleted (the document holds it
// from now on, sealed with the applicant's data key).
func (d *DB) takeSelfKeyFiles(ctx context.Context, tx *sql.Tx, subject string, applicantID int64, refs []SelfKeyFileRef) ([]DocumentInput, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	type file struct {
		id          int64
		contentType string
		data        []byte
	}
	opened := map[string]file{}
	now := d.millis()
	var docs []DocumentInput
	for _, ref := range refs {
		f, ok := opened[ref.FileID]
		if !ok {
			var owner sql.NullInt64
			var ct []byte
			err := tx.QueryRowContext(ctx, `SELECT id, applicant_id, content_type, data_ct FROM selfkey_files
				WHERE file_id = ? AND subject = ? AND expires_at >= ?`, ref.FileID, subject, now).Scan(&f.id, &owner, &f.contentType, &ct)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, ErrSelfKeyFileUnknown
			}
			if err != nil {
				return nil, fmt.Errorf("db: selfkey file: %w", err)
			}
			if owner.Valid {
				dk, err := d.dataKey(ctx, tx, owner.Int64)
				if err != nil {
					return nil, err
				}
				f.data, err = dk.Open(ct)
			} else {
				f.data, err = d.kek.OpenSystem(fileLabel(ref.FileID), ct)
			}
			if errors.Is(err, seal.ErrDecrypt) {
				// Sealed under a key-encryption key rotated away since: the
				// upload is lost, and the wallet sends it again.
				return nil, fmt.Errorf("db: selfkey file: sealed under another key: %w", ErrSelfKeyFileUnknown)
			}
			if err != nil {
				return nil, fmt.Errorf("db: selfkey file: %w", err)
			}
			opened[ref.FileID] = f
		}
		if !sameMediaType(ref.DeclaredType, f.contentType) {
			return nil, ErrSelfKeyFileMislabelled
		}
		docs = append(docs, DocumentInput{Provider: selfKeyProvider, Name: ref.Name, ContentType: f.contentType, Data: f.data})
	}
	for _, f := range opened {
		if _, err := tx.ExecContext(ctx, "DELETE FROM selfkey_files WHERE id = ?", f.id); err != nil {
			return nil, fmt.Errorf("db: selfkey file: %w", err)
		}
	}
	return docs, nil
}

// sameMediaType reports whether a declared type agrees with the sniffed
// one; nothing declared agrees with anything, and image/jpg is JPEG.
func sameMediaType(declared, sniffed string) bool {
	declared, _, _ = strings.Cut(declared, ";")
	declared = strings.ToLower(strings.TrimSpace(declared))
	switch declared {
	case "":
		return true
	case "image/jpg", "image/pjpeg":
		declared = "image/jpeg"
	}
	return declared == sniffed
}

// CreateSelfKeyApplication stores a wallet's POST /applications in one
// transaction: the application is a SelfKey verification of the wallet's
// applicant in in.Status (needs_review puts it in the review queue), made
// from the verification the wallet's login opened if it has no application
// yet, else a new one; its attributes and documents are sealed with the
// applicant's data key; a timeline event and an audit entry record it.
// ErrSelfKeyNoUser when the wallet has not created its user.
func (d *DB) CreateSelfKeyApplication(ctx context.Context, in SelfKeyApplicationInput) (SelfKeyResult, error) {
	var r SelfKeyResult
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.touchWallet(ctx, tx, in.Subject, in.Client); err != nil {
			return err
		}
		var applicantID sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT applicant_id FROM selfkey_wallets WHERE subject = ?", in.Subject).Scan(&applicantID); err != nil {
			return fmt.Errorf("db: selfkey application: %w", err)
		}
		if !applicantID.Valid {
			return ErrSelfKeyNoUser
		}
		aid := applicantID.Int64
		docs, err := d.takeSelfKeyFiles(ctx, tx, in.Subject, aid, in.Files)
		if err != nil {
			return err
		}
		docs = append(docs, in.Documents...)
		now := d.millis()
		appID := randomID()
		var reference string
		if err := tx.QueryRowContext(ctx, "SELECT reference FROM provider_links WHERE applicant_id = ? AND provider = ?", aid, selfKeyProvider).Scan(&reference); err != nil {
			return fmt.Errorf("db: selfkey application: link: %w", err)
		}
		var vid int64
		var token string
		err = tx.QueryRowContext(ctx, `SELECT v.id, v.token FROM verifications v WHERE v.applicant_id = ? AND v.provider = ? AND v.status = 'in_progress'
			AND NOT EXISTS (SELECT 1 FROM selfkey_applications s WHERE s.verification_id = v.id) ORDER BY v.id DESC LIMIT 1`,
			aid, selfKeyProvider).Scan(&vid, &token)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if vid, token, err = d.insertSelfKeyVerification(ctx, tx, aid, reference, in.Status, in.ProviderStatus, appID, now); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("db: selfkey application: %w", err)
		default:
			if _, err := tx.ExecContext(ctx, "UPDATE verifications SET status = ?, provider_status = ?, provider_ref = ?, updated_at = ? WHERE id = ?",
				in.Status, in.ProviderStatus, appID, now, vid); err != nil {
				return fmt.Errorf("db: selfkey application: %w", err)
			}
		}
		c := in.Client.clean()
		if _, err := tx.ExecContext(ctx, `INSERT INTO selfkey_applications(id, verification_id, template_id, template_name, attributes, documents,
			user_agent, origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			appID, vid, in.TemplateID, printable(in.TemplateName, 200), len(in.Attributes), len(docs), c.UserAgent, c.Origin, now); err != nil {
			return fmt.Errorf("db: selfkey application: %w", err)
		}
		if err := upsertLink(ctx, tx, aid, selfKeyProvider, reference, in.Subject, in.Status, now); err != nil {
			return err
		}
		detail := fmt.Sprintf("SelfKey application for template %q: %s, %s (%s)",
			printable(in.TemplateName, 200), plural(len(in.Attributes), "attribute"), plural(len(docs), "document"), c.describe())
		if err := d.addEvent(ctx, tx, Event{ApplicantID: aid, VerificationID: vid, Provider: selfKeyProvider, Source: "callback",
			Status: in.Status, ProviderStatus: in.ProviderStatus, Detail: detail}); err != nil {
			return err
		}
		if err := d.putPII(ctx, tx, aid, in.Attributes, docs); err != nil {
			return err
		}
		if err := touchApplicant(ctx, tx, aid, in.Status, now); err != nil {
			return err
		}
		r = SelfKeyResult{ApplicantID: aid, VerificationID: vid, Token: token, ApplicationID: appID, Attributes: len(in.Attributes), Documents: len(docs)}
		audit := AuditEntry{Actor: selfKeyActor, Action: "selfkey.application", Object: fmt.Sprintf("applicant:%d", aid),
			Detail: fmt.Sprintf("verification=%d template=%s attributes=%d documents=%d", vid, in.TemplateID, len(in.Attributes), len(docs))}
		return d.appendAudit(ctx, tx, &audit)
	})
	if err != nil {
		return SelfKeyResult{}, err
	}
	return r, nil
}

// SelfKeyApplication is a stored application's record (no personal data).
type SelfKeyApplication struct {
	ID             string
	VerificationID int64
	TemplateID     string
	TemplateName   string
	Attributes     int
	Documents      int
	Client         SelfKeyClient
	CreatedAt      time.Time
}

// SelfKeyApplicationByVerification returns the application a verification
// is; ErrNotFound for a SelfKey verification that has none (a login).
func (d *DB) SelfKeyApplicationByVerification(ctx context.Context, verificationID int64) (SelfKeyApplication, error) {
	var a SelfKeyApplication
	var created int64
	err := d.read.QueryRowContext(ctx, `SELECT id, verification_id, template_id, template_name, attributes, documents, user_agent, origin, created_at
		FROM selfkey_applications WHERE verification_id = ?`, verificationID).
		Scan(&a.ID, &a.VerificationID, &a.TemplateID, &a.TemplateName, &a.Attributes, &a.Documents, &a.Client.UserAgent, &a.Client.Origin, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("db: selfkey application: %w", err)
	}
	a.CreatedAt = fromMillis(created)
	return a, nil
}

// SelfKeyLatestVerification returns the newest SelfKey verification of the
// wallet's applicant: where POST /login sends the browser.
// ErrSelfKeyNoUser when the wallet has none.
func (d *DB) SelfKeyLatestVerification(ctx context.Context, subject string) (Verification, error) {
	v, err := scanVerification(d.read.QueryRowContext(ctx, "SELECT "+verificationColumns+` FROM verifications
		WHERE provider = ? AND applicant_id = (SELECT applicant_id FROM selfkey_wallets WHERE subject = ?)
		ORDER BY id DESC LIMIT 1`, selfKeyProvider, subject))
	if errors.Is(err, ErrNotFound) {
		return v, ErrSelfKeyNoUser
	}
	return v, err
}
