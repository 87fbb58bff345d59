package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// blockpassProvider is the provider name Blockpass rows carry (db imports no
// provider package).
const blockpassProvider = "blockpass"

// BlockpassRecord is what we last saw of one Blockpass candidate: metadata
// only (statuses, ids, dates), never identity data. A sync compares a
// listing with it to tell new and changed candidates from unchanged ones.
type BlockpassRecord struct {
	RecordID       string
	ApplicantID    int64
	VerificationID int64
	RefID          string
	BlockPassID    string
	Status         string // verbatim
	SubmitCount    int
	WaitingAt      time.Time
	InreviewAt     time.Time
	ApprovedAt     time.Time
	WillArchiveAt  time.Time // Blockpass deletes its copy after this
	IsArchived     bool      // Blockpass's copy of the identity data is gone
	ArchivedSeenAt time.Time
	FirstSeenAt    time.Time
	ChangedAt      time.Time
	SyncedAt       time.Time
	ExtractedAt    time.Time // zero: no identity data taken in yet
	Attributes     int       // attributes and documents of the last extract
	Documents      int
}

const blockpassRecordColumns = `record_id, applicant_id, verification_id, ref_id, block_pass_id, status, submit_count,
	waiting_at, inreview_at, approved_at, will_archive_at, is_archived, archived_seen_at, first_seen_at, changed_at,
	synced_at, extracted_at, attributes, documents`

func scanBlockpassRecord(row interface{ Scan(...any) error }) (BlockpassRecord, error) {
	var r BlockpassRecord
	var waiting, inreview, approved, willArchive, archivedSeen, extracted sql.NullInt64
	var first, changed, synced int64
	err := row.Scan(&r.RecordID, &r.ApplicantID, &r.VerificationID, &r.RefID, &r.BlockPassID, &r.Status, &r.SubmitCount,
		&waiting, &inreview, &approved, &willArchive, &r.IsArchived, &archivedSeen, &first, &changed, &synced, &extracted,
		&r.Attributes, &r.Documents)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("db: blockpass record: %w", err)
	}
	r.WaitingAt, r.InreviewAt, r.ApprovedAt = nullMillis(waiting), nullMillis(inreview), nullMillis(approved)
	r.WillArchiveAt, r.ArchivedSeenAt, r.ExtractedAt = nullMillis(willArchive), nullMillis(archivedSeen), nullMillis(extracted)
	r.FirstSeenAt, r.ChangedAt, r.SyncedAt = fromMillis(first), fromMillis(changed), fromMillis(synced)
	return r, nil
}

// BlockpassRecord returns what we last saw of the candidate with recordID
// (ErrNotFound: never seen).
func (d *DB) BlockpassRecord(ctx context.Context, recordID string) (BlockpassRecord, error) {
	return scanBlockpassRecord(d.read.QueryRowContext(ctx, "SELECT "+blockpassRecordColumns+
		" FROM blockpass_records WHERE record_id = ?", recordID))
}

// BlockpassRecordsOf lists the Blockpass records linked to an applicant,
// most recently changed first.
func (d *DB) BlockpassRecordsOf(ctx context.Context, applicantID int64) ([]BlockpassRecord, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT "+blockpassRecordColumns+
		" FROM blockpass_records WHERE applicant_id = ? ORDER BY changed_at DESC, record_id", applicantID)
	if err != nil {
		return nil, fmt.Errorf("db: blockpass records: %w", err)
	}
	defer rows.Close()
	var out []BlockpassRecord
	for rows.Next() {
		r, err := scanBlockpassRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveBlockpassRecord stores what was seen of a candidate. FirstSeenAt and
// ArchivedSeenAt keep their first value; SyncedAt is now, and so is
// ChangedAt unless set; the extract's time and counts change only with a
// new extract.
func (d *DB) SaveBlockpassRecord(ctx context.Context, r BlockpassRecord) error {
	return d.saveBlockpassRecord(ctx, d.write, r)
}

func (d *DB) saveBlockpassRecord(ctx context.Context, q execer, r BlockpassRecord) error {
	if r.RecordID == "" || r.ApplicantID == 0 || r.VerificationID == 0 {
		return fmt.Errorf("db: save blockpass record: %w: record id, applicant and verification are required", ErrInvalid)
	}
	now := d.millis()
	changed := now
	if !r.ChangedAt.IsZero() {
		changed = r.ChangedAt.UnixMilli()
	}
	var archivedSeen any
	if r.IsArchived {
		archivedSeen = now
		if !r.ArchivedSeenAt.IsZero() {
			archivedSeen = r.ArchivedSeenAt.UnixMilli()
		}
	}
	_, err := q.ExecContext(ctx, `INSERT INTO blockpass_records(record_id, applicant_id, verification_id, ref_id, block_pass_id,
		status, submit_count, waiting_at, inreview_at, approved_at, will_archive_at, is_archived, archived_seen_at,
		first_seen_at, changed_at, synced_at, extracted_at, attributes, documents)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(record_id) DO UPDATE SET applicant_id = excluded.applicant_id, verification_id = excluded.verification_id,
			ref_id = excluded.ref_id, block_pass_id = excluded.block_pass_id, status = excluded.status,
			submit_count = excluded.submit_count, waiting_at = excluded.waiting_at, inreview_at = excluded.inreview_at,
			approved_at = excluded.approved_at, will_archive_at = excluded.will_archive_at, is_archived = excluded.is_archived,
			archived_seen_at = CASE WHEN excluded.is_archived THEN COALESCE(archived_seen_at, excluded.archived_seen_at) END,
			changed_at = excluded.changed_at, synced_at = excluded.synced_at,
			extracted_at = COALESCE(excluded.extracted_at, extracted_at),
			attributes = CASE WHEN excluded.extracted_at IS NOT NULL THEN excluded.attributes ELSE attributes END,
			documents = CASE WHEN excluded.extracted_at IS NOT NULL THEN excluded.documents ELSE documents END`,
		r.RecordID, r.ApplicantID, r.VerificationID, r.RefID, r.BlockPassID, r.Status, r.SubmitCount,
		nullTime(r.WaitingAt), nullTime(r.InreviewAt), nullTime(r.ApprovedAt), nullTime(r.WillArchiveAt), r.IsArchived,
		archivedSeen, now, changed, now, nullTime(r.ExtractedAt), r.Attributes, r.Documents)
	if err != nil {
		return fmt.Errorf("db: save blockpass record: %w", err)
	}
	return nil
}

// BlockpassCandidate identifies a candidate a sync found, with the name and
// email to list a new applicant under (personal data: plaintext only while
// the applicant is not archived, like every applicant's).
type BlockpassCandidate struct {
	RefID    string // the merchant reference; ours when we started the verification
	RecordID string
	Name     string
	Email    string
}

// EnsuredVerification is the verification a Blockpass candidate belongs to.
type EnsuredVerification struct {
	Verification
	// Created says the applicant, link and verification were made now.
	Created bool
	// ApplicantArchived says our copy is archived: no personal data may be
	// stored for it any more.
	ApplicantArchived bool
}

// EnsureBlockpassVerification finds the verification a Blockpass candidate
// belongs to (by our reference = its refId, else by its recordId) or, for a
// candidate we did not invite, creates the applicant, its Blockpass link
// (reference = the refId, or the recordId when there is none; external id =
// the recordId) and a verification for it, with an audit entry, in one
// transaction. A found verification learns the recordId if it lacked it.
// It writes no timeline event: the caller applies the candidate's status.
func (d *DB) EnsureBlockpassVerification(ctx context.Context, c BlockpassCandidate) (EnsuredVerification, error) {
	if c.RecordID == "" {
		return EnsuredVerification{}, fmt.Errorf("db: ensure blockpass verification: %w: no recordId", ErrInvalid)
	}
	var out EnsuredVerification
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		out = EnsuredVerification{}
		id, err := findBlockpassVerification(ctx, tx, c)
		if err != nil {
			return err
		}
		now := d.millis()
		if id == 0 {
			if id, err = d.createBlockpassVerification(ctx, tx, c, "invited", "", now); err != nil {
				return err
			}
			out.Created = true
		} else if err := learnRecordID(ctx, tx, id, c.RecordID); err != nil {
			return err
		}
		v, err := scanVerification(tx.QueryRowContext(ctx, "SELECT "+verificationColumns+" FROM verifications WHERE id = ?", id))
		if err != nil {
			return err
		}
		out.Verification = v
		var archived sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT archived_at FROM applicants WHERE id = ?", v.ApplicantID).Scan(&archived); err != nil {
			return fmt.Errorf("db: ensure blockpass verification: %w", err)
		}
		out.ApplicantArchived = archived.Valid
		return nil
	})
	return out, err
}

// findBlockpassVerification returns the newest Blockpass verification with
// reference refId, else with the recordId as provider ref or reference; 0
// when there is none.
func findBlockpassVerification(ctx context.Context, tx *sql.Tx, c BlockpassCandidate) (int64, error) {
	queries := []struct{ where, arg string }{
		{"provider = ? AND reference = ?", c.RefID},
		{byOwnRef, c.RecordID},
		{"provider = ? AND reference = ?", c.RecordID},
	}
	for _, q := range queries {
		if q.arg == "" {
			continue
		}
		var id int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM verifications WHERE "+q.where+" ORDER BY id DESC LIMIT 1",
			blockpassProvider, q.arg).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("db: ensure blockpass verification: find: %w", err)
		}
	}
	return 0, nil
}

// learnRecordID records the recordId on a verification and its provider
// link where they lack it, and reindexes the applicant so that a search
// for the recordId finds it.
func learnRecordID(ctx context.Context, tx *sql.Tx, verificationID int64, recordID string) error {
	var applicantID int64
	if err := tx.QueryRowContext(ctx, "SELECT applicant_id FROM verifications WHERE id = ?", verificationID).Scan(&applicantID); err != nil {
		return fmt.Errorf("db: ensure blockpass verification: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE verifications SET provider_ref = ? WHERE id = ? AND provider_ref = ''", recordID, verificationID); err != nil {
		return fmt.Errorf("db: ensure blockpass verification: %w", err)
	}
	res, err := tx.ExecContext(ctx, "UPDATE provider_links SET external_id = ? WHERE applicant_id = ? AND provider = ? AND external_id = ''",
		recordID, applicantID, blockpassProvider)
	if err != nil {
		return fmt.Errorf("db: ensure blockpass verification: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		var archived sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT archived_at FROM applicants WHERE id = ?", applicantID).Scan(&archived); err != nil {
			return fmt.Errorf("db: ensure blockpass verification: %w", err)
		}
		if !archived.Valid {
			return reindexApplicant(ctx, tx, applicantID)
		}
	}
	return nil
}

// createBlockpassVerification makes the applicant, link and verification
// of a candidate who came to Blockpass without our invitation. The
// verification has no end-user page (its token is born expired): the
// candidate is already in the Blockpass app.
func (d *DB) createBlockpassVerification(ctx context.Context, tx *sql.Tx, c BlockpassCandidate, status, providerStatus string, now int64) (int64, error) {
	applicantID, err := d.createApplicantTx(ctx, tx, NewApplicant{Name: c.Name, Email: c.Email})
	if err != nil {
		return 0, err
	}
	reference := c.RefID
	if reference == "" {
		reference = c.RecordID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO verifications(applicant_id, provider, reference, provider_ref, status, provider_status,
		token, token_expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		applicantID, blockpassProvider, reference, c.RecordID, status, providerStatus, NewToken(), now, now, now)
	if err != nil {
		return 0, fmt.Errorf("db: ensure blockpass verification: create verification: %w", err)
	}
	id, _ := res.LastInsertId()
	if err := upsertLink(ctx, tx, applicantID, blockpassProvider, reference, c.RecordID, status, now); err != nil {
		return 0, err
	}
	if err := reindexApplicant(ctx, tx, applicantID); err != nil {
		return 0, err
	}
	audit := AuditEntry{Actor: "system", Action: "applicant.create", Object: fmt.Sprintf("applicant:%d", applicantID),
		Detail: fmt.Sprintf("source=blockpass-sync verification=%d", id)}
	if err := d.appendAudit(ctx, tx, &audit); err != nil {
		return 0, err
	}
	return id, nil
}

// NewBlockpassCandidate is a candidate a sync takes in for the first time,
// with everything to record about it.
type NewBlockpassCandidate struct {
	BlockpassCandidate
	Status         string // normalised
	ProviderStatus string // verbatim
	Detail         string // the timeline line, never personal data
	At             time.Time
	Attributes     []AttributeInput
	Documents      []DocumentInput
	Certificates   []CertificateInput
	// Record is the metadata to keep; its applicant and verification ids
	// are filled in here.
	Record BlockpassRecord
}

// AddBlockpassCandidate takes in a candidate no verification exists for,
// in one transaction: the applicant (with its data key and search row),
// its Blockpass link, a verification in the candidate's status, the
// timeline event, the personal data sealed with the applicant's key, the
// certificates, the candidate's metadata, and an audit entry. If a
// verification appeared meanwhile (a webhook got there first) it changes
// nothing and returns ErrConflict: update that one instead.
func (d *DB) AddBlockpassCandidate(ctx context.Context, n NewBlockpassCandidate) (Verification, error) {
	res, err := d.AddBlockpassCandidates(ctx, []NewBlockpassCandidate{n})
	if err != nil {
		return Verification{}, err
	}
	if res[0].Conflict {
		return Verification{}, fmt.Errorf("db: add blockpass candidate: verification %d exists: %w", res[0].VerificationID, ErrConflict)
	}
	return d.Verification(ctx, res[0].VerificationID)
}

// AddedCandidate is what AddBlockpassCandidates did with one candidate.
type AddedCandidate struct {
	VerificationID int64
	ApplicantID    int64
	// Conflict says a verification existed already (VerificationID is
	// that one): nothing was written for this candidate.
	Conflict bool
}

// AddBlockpassCandidates takes in a batch of new candidates as
// AddBlockpassCandidate does, all in one transaction: each is complete on
// its own (applicant, link, verification, event, personal data,
// certificates, metadata, audit entry), and one commit makes the batch
// durable at once, which is what makes a first sync of many candidates
// affordable. A candidate that has a verification already is skipped and
// reported as a conflict; any other failure rolls the whole batch back.
func (d *DB) AddBlockpassCandidates(ctx context.Context, batch []NewBlockpassCandidate) ([]AddedCandidate, error) {
	for _, n := range batch {
		if n.RecordID == "" || n.Status == "" {
			return nil, fmt.Errorf("db: add blockpass candidates: %w: recordId and status are required", ErrInvalid)
		}
	}
	var out []AddedCandidate
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		out = make([]AddedCandidate, 0, len(batch))
		for _, n := range batch {
			added, err := d.addBlockpassCandidate(ctx, tx, n)
			if err != nil {
				return err
			}
			out = append(out, added)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (d *DB) addBlockpassCandidate(ctx context.Context, tx *sql.Tx, n NewBlockpassCandidate) (AddedCandidate, error) {
	found, err := findBlockpassVerification(ctx, tx, n.BlockpassCandidate)
	if err != nil {
		return AddedCandidate{}, err
	}
	if found != 0 {
		return AddedCandidate{VerificationID: found, Conflict: true}, nil
	}
	now := d.millis()
	id, err := d.createBlockpassVerification(ctx, tx, n.BlockpassCandidate, n.Status, n.ProviderStatus, now)
	if err != nil {
		return AddedCandidate{}, err
	}
	var applicantID int64
	if err := tx.QueryRowContext(ctx, "SELECT applicant_id FROM verifications WHERE id = ?", id).Scan(&applicantID); err != nil {
		return AddedCandidate{}, fmt.Errorf("db: add blockpass candidate: %w", err)
	}
	if err := d.addEvent(ctx, tx, Event{ApplicantID: applicantID, VerificationID: id, Provider: blockpassProvider, Source: "poll",
		Status: n.Status, ProviderStatus: n.ProviderStatus, Detail: n.Detail, PayloadDigest: "blockpass-sync", At: n.At}); err != nil {
		return AddedCandidate{}, err
	}
	if err := touchApplicant(ctx, tx, applicantID, n.Status, now); err != nil {
		return AddedCandidate{}, err
	}
	if err := d.putPII(ctx, tx, applicantID, n.Attributes, n.Documents); err != nil {
		return AddedCandidate{}, err
	}
	for _, c := range n.Certificates {
		if _, err := tx.ExecContext(ctx, "INSERT INTO certificates(applicant_id, provider, name, value, created_at) VALUES (?, ?, ?, ?, ?)",
			applicantID, c.Provider, c.Name, c.Value, now); err != nil {
			return AddedCandidate{}, fmt.Errorf("db: add blockpass candidate: certificate: %w", err)
		}
	}
	rec := n.Record
	rec.RecordID, rec.ApplicantID, rec.VerificationID = n.RecordID, applicantID, id
	if err := d.saveBlockpassRecord(ctx, tx, rec); err != nil {
		return AddedCandidate{}, err
	}
	return AddedCandidate{VerificationID: id, ApplicantID: applicantID}, nil
}

// LastProviderEvent returns the provider status and time of the newest
// provider-reported event (webhook, callback or poll) of a verification;
// ok is false when it has none.
func (d *DB) LastProviderEvent(ctx context.Context, applicantID, verificationID int64) (providerStatus string, at time.Time, ok bool, err error) {
	var ms int64
	err = d.read.QueryRowContext(ctx, `SELECT provider_status, at FROM verification_events
		WHERE applicant_id = ? AND verification_id = ? AND source IN ('webhook','callback','poll') ORDER BY id DESC LIMIT 1`,
		applicantID, verificationID).Scan(&providerStatus, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("db: last provider event: %w", err)
	}
	return providerStatus, fromMillis(ms), true, nil
}

// PutCertificate stores one provider certificate (metadata that survives
// archiving) for an applicant. A Blockpass certificate identical to one
// already stored is not stored again (a database rule, see migration 007).
func (d *DB) PutCertificate(ctx context.Context, applicantID int64, c CertificateInput) error {
	if c.Provider == "" || c.Name == "" {
		return fmt.Errorf("db: put certificate: %w: provider and name are required", ErrInvalid)
	}
	_, err := d.write.ExecContext(ctx, "INSERT INTO certificates(applicant_id, provider, name, value, created_at) VALUES (?, ?, ?, ?, ?)",
		applicantID, c.Provider, c.Name, c.Value, d.millis())
	if err != nil {
		return fmt.Errorf("db: put certificate: %w", err)
	}
	return nil
}

// PendingWithdrawal is an applicant whose Blockpass verification was
// withdrawn (user.deleted) and whose withdrawal the retention policy has
// not taken in yet.
type PendingWithdrawal struct {
	ApplicantID int64
	At          time.Time // when the withdrawal was recorded on the timeline
}

// PendingBlockpassWithdrawals lists up to limit applicants, not archived,
// with a withdrawn Blockpass verification and no recorded Blockpass
// withdrawal.
func (d *DB) PendingBlockpassWithdrawals(ctx context.Context, limit int) ([]PendingWithdrawal, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.read.QueryContext(ctx, `SELECT v.applicant_id, MAX(COALESCE((SELECT MAX(e.at) FROM verification_events e
			WHERE e.applicant_id = v.applicant_id AND e.verification_id = v.id AND e.status = 'withdrawn'), v.updated_at))
		FROM verifications v JOIN applicants a ON a.id = v.applicant_id
		WHERE v.provider = ? AND v.status = 'withdrawn' AND a.archived_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM retention_withdrawals w WHERE w.applicant_id = v.applicant_id AND w.provider = ?)
		GROUP BY v.applicant_id ORDER BY v.applicant_id LIMIT ?`, blockpassProvider, blockpassProvider, limit)
	if err != nil {
		return nil, fmt.Errorf("db: pending blockpass withdrawals: %w", err)
	}
	defer rows.Close()
	var out []PendingWithdrawal
	for rows.Next() {
		var p PendingWithdrawal
		var at int64
		if err := rows.Scan(&p.ApplicantID, &at); err != nil {
			return nil, fmt.Errorf("db: pending blockpass withdrawals: %w", err)
		}
		p.At = fromMillis(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// BlockpassImport is the content of a decrypted Blockpass profile export to
// store for an applicant.
type BlockpassImport struct {
	// ApplicantID is an existing applicant, or 0 with New set.
	ApplicantID  int64
	New          *NewApplicant
	Attributes   []AttributeInput
	Documents    []DocumentInput
	Certificates []CertificateInput
	// Detail is the timeline line (counts, never personal data).
	Detail string
}

// ImportBlockpassExport stores an export's attributes, documents (sealed
// with the applicant's data key) and certificates for an applicant,
// creating it first when asked, with a timeline event and an audit entry,
// all in one transaction. An archived applicant is refused (ErrConflict).
// It returns the applicant's id.
func (d *DB) ImportBlockpassExport(ctx context.Context, in BlockpassImport, audit AuditEntry) (int64, error) {
	if in.ApplicantID == 0 && in.New == nil {
		return 0, fmt.Errorf("db: import blockpass export: %w: no applicant", ErrInvalid)
	}
	var applicantID int64
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		applicantID = in.ApplicantID
		created := false
		if applicantID == 0 {
			n := *in.New
			n.CreatedBy = audit.ActorID
			id, err := d.createApplicantTx(ctx, tx, n)
			if err != nil {
				return err
			}
			if err := reindexApplicant(ctx, tx, id); err != nil {
				return err
			}
			applicantID, created = id, true
			create := audit
			create.Action, create.Object, create.Detail = "applicant.create", fmt.Sprintf("applicant:%d", id), "source=blockpass-export"
			if err := d.appendAudit(ctx, tx, &create); err != nil {
				return err
			}
		}
		var archived sql.NullInt64
		err := tx.QueryRowContext(ctx, "SELECT archived_at FROM applicants WHERE id = ?", applicantID).Scan(&archived)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("db: import blockpass export: applicant %d: %w", applicantID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("db: import blockpass export: %w", err)
		}
		if archived.Valid {
			return fmt.Errorf("db: import blockpass export: applicant %d is archived: %w", applicantID, ErrConflict)
		}
		if err := d.putPII(ctx, tx, applicantID, in.Attributes, in.Documents); err != nil {
			return err
		}
		now := d.millis()
		for _, c := range in.Certificates {
			if _, err := tx.ExecContext(ctx, "INSERT INTO certificates(applicant_id, provider, name, value, created_at) VALUES (?, ?, ?, ?, ?)",
				applicantID, c.Provider, c.Name, c.Value, now); err != nil {
				return fmt.Errorf("db: import blockpass export: certificate: %w", err)
			}
		}
		if err := d.addEvent(ctx, tx, Event{ApplicantID: applicantID, Provider: blockpassProvider, Source: "staff",
			Detail: in.Detail, ActorID: audit.ActorID}); err != nil {
			return err
		}
		if err := touchApplicant(ctx, tx, applicantID, "", now); err != nil {
			return err
		}
		audit.Action, audit.Object = "blockpass.export_import", fmt.Sprintf("applicant:%d", applicantID)
		audit.Detail = fmt.Sprintf("attributes=%d documents=%d certificates=%d new_applicant=%t",
			len(in.Attributes), len(in.Documents), len(in.Certificates), created)
		return d.appendAudit(ctx, tx, &audit)
	})
	if err != nil {
		return 0, err
	}
	return applicantID, nil
}

// Blockpass sync run triggers and states.
const (
	SyncManual   = "manual"
	SyncSchedule = "schedule"

	SyncQueued  = "queued"
	SyncRunning = "running"
	SyncDone    = "done"
	SyncFailed  = "failed"
)

// SyncCounts is a sync run's progress.
type SyncCounts struct {
	Total     int // Blockpass's count when the run began (0: unknown)
	Seen      int
	Created   int // new candidates that became applicants
	Changed   int // candidates whose status or dates changed
	Unchanged int
	Archived  int // newly seen as archived at Blockpass
	Failed    int // candidates that could not be taken in (see the log)
}

// BlockpassSyncRun is one sync run.
type BlockpassSyncRun struct {
	ID          int64
	Trigger     string
	RequestedBy int64
	State       string
	RequestedAt time.Time
	StartedAt   time.Time
	HeartbeatAt time.Time
	FinishedAt  time.Time
	Counts      SyncCounts
	Error       string
}

// Active reports whether the run is queued or running.
func (r BlockpassSyncRun) Active() bool { return r.State == SyncQueued || r.State == SyncRunning }

const syncRunColumns = `id, trigger, COALESCE(requested_by, 0), state, requested_at, started_at, heartbeat_at, finished_at,
	total, seen, created, changed, unchanged, archived, failed, error`

func scanSyncRun(row interface{ Scan(...any) error }) (BlockpassSyncRun, error) {
	var r BlockpassSyncRun
	var requested int64
	var started, heartbeat, finished sql.NullInt64
	c := &r.Counts
	err := row.Scan(&r.ID, &r.Trigger, &r.RequestedBy, &r.State, &requested, &started, &heartbeat, &finished,
		&c.Total, &c.Seen, &c.Created, &c.Changed, &c.Unchanged, &c.Archived, &c.Failed, &r.Error)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("db: blockpass sync run: %w", err)
	}
	r.RequestedAt = fromMillis(requested)
	r.StartedAt, r.HeartbeatAt, r.FinishedAt = nullMillis(started), nullMillis(heartbeat), nullMillis(finished)
	return r, nil
}

// failStaleSyncs marks running syncs without a heartbeat since staleBefore
// as failed: their worker is gone.
func failStaleSyncs(ctx context.Context, tx *sql.Tx, staleBefore time.Time, now int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE blockpass_sync_runs SET state = 'failed', finished_at = ?,
		error = 'interrupted: the worker stopped reporting progress' WHERE state = 'running' AND heartbeat_at < ?`,
		now, staleBefore.UnixMilli())
	if err != nil {
		return fmt.Errorf("db: blockpass sync: %w", err)
	}
	return nil
}

// RequestBlockpassSync queues a sync run unless one is already queued or
// running (a running one without a heartbeat since staleBefore counts as
// dead). It returns the queued or active run and whether it was queued now.
// A manual request is a staff action: audit describes who, and is appended
// in the same transaction; a scheduled one is not audited.
func (d *DB) RequestBlockpassSync(ctx context.Context, trigger string, staleBefore time.Time, audit AuditEntry) (BlockpassSyncRun, bool, error) {
	if trigger != SyncManual && trigger != SyncSchedule {
		return BlockpassSyncRun{}, false, fmt.Errorf("db: request blockpass sync: %w: trigger %q", ErrInvalid, trigger)
	}
	var id int64
	fresh := false
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.millis()
		if err := failStaleSyncs(ctx, tx, staleBefore, now); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, "SELECT id FROM blockpass_sync_runs WHERE state IN ('queued','running') ORDER BY id LIMIT 1").Scan(&id)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("db: request blockpass sync: %w", err)
		}
		var by any
		if trigger == SyncManual {
			by = nullID(audit.ActorID)
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO blockpass_sync_runs(trigger, requested_by, state, requested_at) VALUES (?, ?, 'queued', ?)",
			trigger, by, now)
		if err != nil {
			return fmt.Errorf("db: request blockpass sync: %w", err)
		}
		id, _ = res.LastInsertId()
		fresh = true
		if trigger != SyncManual {
			return nil
		}
		audit.Action, audit.Object, audit.Detail = "blockpass.sync_request", fmt.Sprintf("blockpass_sync:%d", id), ""
		return d.appendAudit(ctx, tx, &audit)
	})
	if err != nil {
		return BlockpassSyncRun{}, false, err
	}
	run, err := d.BlockpassSyncRun(ctx, id)
	return run, fresh, err
}

// ClaimBlockpassSync moves the oldest queued run to running and returns it;
// ok is false when none is queued. Runs without a heartbeat since
// staleBefore are failed first.
func (d *DB) ClaimBlockpassSync(ctx context.Context, staleBefore time.Time) (BlockpassSyncRun, bool, error) {
	var id int64
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.millis()
		if err := failStaleSyncs(ctx, tx, staleBefore, now); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, "SELECT id FROM blockpass_sync_runs WHERE state = 'queued' ORDER BY id LIMIT 1").Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			id = 0
			return nil
		}
		if err != nil {
			return fmt.Errorf("db: claim blockpass sync: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE blockpass_sync_runs SET state = 'running', started_at = ?, heartbeat_at = ? WHERE id = ?",
			now, now, id); err != nil {
			return fmt.Errorf("db: claim blockpass sync: %w", err)
		}
		return nil
	})
	if err != nil || id == 0 {
		return BlockpassSyncRun{}, false, err
	}
	run, err := d.BlockpassSyncRun(ctx, id)
	return run, err == nil, err
}

// ProgressBlockpassSync records a running sync's counts and heartbeat.
func (d *DB) ProgressBlockpassSync(ctx context.Context, id int64, c SyncCounts) error {
	_, err := d.write.ExecContext(ctx, `UPDATE blockpass_sync_runs SET heartbeat_at = ?, total = ?, seen = ?, created = ?, changed = ?,
		unchanged = ?, archived = ?, failed = ? WHERE id = ? AND state = 'running'`,
		d.millis(), c.Total, c.Seen, c.Created, c.Changed, c.Unchanged, c.Archived, c.Failed, id)
	if err != nil {
		return fmt.Errorf("db: blockpass sync progress: %w", err)
	}
	return nil
}

// FinishBlockpassSync ends a run: done, or failed with runErr's message
// (which must carry no secret or personal data).
func (d *DB) FinishBlockpassSync(ctx context.Context, id int64, c SyncCounts, runErr error) error {
	state, msg := SyncDone, ""
	if runErr != nil {
		state, msg = SyncFailed, runErr.Error()
		if len(msg) > 500 {
			msg = strings.ToValidUTF8(msg[:500], "")
		}
	}
	now := d.millis()
	_, err := d.write.ExecContext(ctx, `UPDATE blockpass_sync_runs SET state = ?, error = ?, finished_at = ?, heartbeat_at = ?,
		total = ?, seen = ?, created = ?, changed = ?, unchanged = ?, archived = ?, failed = ? WHERE id = ?`,
		state, msg, now, now, c.Total, c.Seen, c.Created, c.Changed, c.Unchanged, c.Archived, c.Failed, id)
	if err != nil {
		return fmt.Errorf("db: finish blockpass sync: %w", err)
	}
	return nil
}

// BlockpassSyncRun returns one run.
func (d *DB) BlockpassSyncRun(ctx context.Context, id int64) (BlockpassSyncRun, error) {
	return scanSyncRun(d.read.QueryRowContext(ctx, "SELECT "+syncRunColumns+" FROM blockpass_sync_runs WHERE id = ?", id))
}

// BlockpassSyncRuns lists the newest runs first.
func (d *DB) BlockpassSyncRuns(ctx context.Context, limit int) ([]BlockpassSyncRun, error) {
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	rows, err := d.read.QueryContext(ctx, "SELECT "+syncRunColumns+" FROM blockpass_sync_runs ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("db: blockpass sync runs: %w", err)
	}
	defer rows.Close()
	var out []BlockpassSyncRun
	for rows.Next() {
		r, err := scanSyncRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LastBlockpassSyncRequest returns when the newest run was requested;
// zero when none was.
func (d *DB) LastBlockpassSyncRequest(ctx context.Context) (time.Time, error) {
	var at sql.NullInt64
	if err := d.read.QueryRowContext(ctx, "SELECT MAX(requested_at) FROM blockpass_sync_runs").Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("db: last blockpass sync: %w", err)
	}
	return nullMillis(at), nil
}

// ApplicantByRef finds an applicant by our public reference (KD-…),
// case-insensitively.
func (d *DB) ApplicantByRef(ctx context.Context, ref string) (Applicant, error) {
	var id int64
	err := d.read.QueryRowContext(ctx, "SELECT id FROM applicants WHERE ref = ?", strings.ToUpper(strings.TrimSpace(ref))).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Applicant{}, ErrNotFound
	}
	if err != nil {
		return Applicant{}, fmt.Errorf("db: applicant by ref: %w", err)
	}
	return d.Applicant(ctx, id)
}
