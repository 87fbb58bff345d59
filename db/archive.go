package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Archive sentinels; both are conflicts (errors.Is(err, ErrConflict)).
var (
	ErrLegalHold = fmt.Errorf("applicant is on legal hold: %w", ErrConflict)
	ErrArchived  = fmt.Errorf("applicant is already archived: %w", ErrConflict)
)

// RuleManual is the rule of an archive a staff member asked for.
const RuleManual = "manual"

// archiveBatch is how many applicants one bulk-archive transaction takes:
// each applicant is still all-or-nothing, and a batch saves an fsync per
// applicant.
const archiveBatch = 100

// archivePolicy says, for every table that refers to an applicant, what an
// archive does with it. It is the checklist the archive follows; a new
// table with an applicant_id column must be added here, and the test
// TestEveryApplicantTableClassified fails until it is.
//
// Provider identifiers: the CorePass Core ID and the SelfKey DID are chosen
// by the person, reused across every service they use and resolvable on a
// public chain, so they identify the person: they are blanked, and so is
// the CorePass transfer reference (verifications.provider_ref) that embeds
// the Core ID. Blockpass recordId, VerifyYou unique_id and IDfy profile_id
// are keys the provider assigned to its own record for us: they say nothing
// outside that provider, and late webhooks (user.deleted, purge) are
// matched by them, so they are kept. external_ids (any further identifiers,
// e.g. Blockpass's cross-service blockPassID) is blanked for every provider.
var archivePolicy = map[string]string{
	"applicants":            "display_name and email blanked, archived_at set; ref, status, assignee and dates kept",
	"attributes":            "deleted (values and CorePass peppers)",
	"documents":             "deleted",
	"data_keys":             "deleted: the data key is destroyed, so old ciphertexts anywhere stay unreadable",
	"provider_links":        "external_id blanked for corepass and selfkey (Core ID, DID); external_ids blanked for all; our reference and status kept",
	"verifications":         "link and QR blanked and the end-user token expired; provider_ref blanked for corepass and selfkey (a keyed MAC of it stays in archived_provider_refs for 90 days, so a late report still finds its verification); status kept",
	"verification_events":   "kept: the timeline holds statuses, tx hashes and digests, never personal data",
	"certificates":          "kept: provider certificates survive archiving (providers redact personal fields before storing)",
	"inbox":                 "sealed raw bodies dropped; digests, statuses and delivery keys (digests) kept",
	"deletion_receipts":     "kept: the proof of the archive",
	"retention_withdrawals": "kept: when a provider reported a withdrawal",
	"notes":                 "deleted: staff's free text may quote personal data (the notes table lets them go once the applicant is archived)",
	"review_queue":          "removed: nothing is left to review",
	"review_proposals":      "kept as decisions; a pending one is closed as superseded",
	"review_decisions":      "kept: decisions survive archiving",
	"blockpass_records":     "kept: Blockpass statuses, ids and dates (the blockPassID is kept as a certificate too)",
	"selfkey_wallets":       "deleted by the selfkey_archive trigger (migration 006): the wallet's DID or key identifies the person",
	// Keyed by rowid, not applicant_id: TestEveryApplicantTableClassified
	// does not see them.
	"applicant_search":     "row deleted: name and email leave the index pages (FTS5 secure-delete) and its content table",
	"applicant_ref_search": "row deleted: refs and provider ids leave the index pages (FTS5 secure-delete) and its content table",
	"selfkey_files":        "deleted by the selfkey_archive trigger (migration 006): uploads no request used yet",
}

// scrubProviders are the providers whose identifiers identify the person.
const scrubProviders = "('corepass','selfkey')"

// ArchiveRequest says why and by whom applicants are archived.
type ArchiveRequest struct {
	Rule   string     // RuleManual, or the retention or withdrawal rule that applied
	Reason string     // the staff member's words; never personal data
	Audit  AuditEntry // who acts, from where ("system" for the retention job)
}

// Deleted counts what an archive removed, by kind.
type Deleted struct {
	Attributes    int   `json:"attributes"`
	Peppers       int   `json:"peppers"`
	Documents     int   `json:"documents"`
	DocumentBytes int64 `json:"document_bytes"`
	DataKeys      int   `json:"data_keys"`
	SearchRows    int   `json:"search_rows"`
	Name          int   `json:"name"`
	Email         int   `json:"email"`
	ProviderIDs   int   `json:"provider_ids"`
	Links         int   `json:"verification_links"`
	InboxBodies   int   `json:"inbox_bodies"`
	Notes         int   `json:"notes"`
}

// Receipt is the proof of one archive: what was deleted, by whom, when,
// under which rule, and the digest of all that, which the archive's audit
// entry carries (AuditID, AuditHash), so the receipt is chained into the
// tamper-evident audit log.
type Receipt struct {
	ID          int64
	ApplicantID int64
	Ref         string
	At          time.Time
	ActorID     int64
	Actor       string
	Rule        string
	Reason      string
	Deleted     Deleted
	Digest      string
	AuditID     int64
	AuditHash   string
}

// digest covers every field of the receipt except the audit link (which is
// made from it).
func (r Receipt) digest() string {
	b, _ := json.Marshal([]any{"kycdesk/v1/deletion-receipt", r.ApplicantID, r.Ref, r.At.UnixMilli(), r.ActorID, r.Actor, r.Rule, r.Reason, r.Deleted})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Archive deletes one applicant's personal data and keeps the record, in
// one transaction: attributes (with peppers) and documents deleted, name
// and email blanked, the search row removed, the data key destroyed, the
// identifying provider ids and open links scrubbed; status, timeline,
// decisions and certificates kept; an audit entry and a deletion receipt
// written. A WAL checkpoint follows so the bytes leave the files too.
// ErrLegalHold, ErrArchived or ErrNotFound when it cannot.
func (d *DB) Archive(ctx context.Context, applicantID int64, req ArchiveRequest) (Receipt, error) {
	var r Receipt
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		sch, err := readArchiveSchema(ctx, tx)
		if err != nil {
			return err
		}
		defer sch.close()
		if r, err = d.archiveTx(ctx, tx, sch, applicantID, req); err != nil {
			return err
		}
		return sch.finish(ctx)
	})
	if err != nil {
		return Receipt{}, err
	}
	d.checkpointAfterArchive(ctx)
	return r, nil
}

// BulkArchive is the outcome of ArchiveMany.
type BulkArchive struct {
	Receipts []Receipt
	Held     []int64 // on legal hold: left untouched
	Already  []int64 // archived before
	Missing  []int64 // no such applicant
}

// ArchiveMany archives several applicants with the same request, a batch
// of them per transaction; each applicant is archived whole or not at all.
// Applicants on legal hold, already archived or missing are reported, not
// errors. On an error the batches committed before it stay archived.
func (d *DB) ArchiveMany(ctx context.Context, ids []int64, req ArchiveRequest) (BulkArchive, error) {
	var out BulkArchive
	items := make([]archiveItem, len(ids))
	for i, id := range ids {
		items[i] = archiveItem{id: id, req: req}
	}
	err := d.archiveItems(ctx, items, &out, nil)
	if len(out.Receipts) > 0 {
		d.checkpointAfterArchive(ctx)
	}
	return out, err
}

// archiveItem is one applicant to archive under its own request.
type archiveItem struct {
	id  int64
	req ArchiveRequest
}

// archiveItems archives items in batches. recheck, if set, runs inside
// each batch's transaction and returns the ids still to archive (the
// retention job re-checks that each is still due).
func (d *DB) archiveItems(ctx context.Context, items []archiveItem, out *BulkArchive, recheck func(ctx context.Context, tx *sql.Tx, ids []int64) (map[int64]bool, error)) error {
	for start := 0; start < len(items); start += archiveBatch {
		batch := items[start:min(start+archiveBatch, len(items))]
		var res BulkArchive
		err := d.inTx(ctx, func(tx *sql.Tx) error {
			res = BulkArchive{}
			sch, err := readArchiveSchema(ctx, tx)
			if err != nil {
				return err
			}
			defer sch.close()
			var keep map[int64]bool
			if recheck != nil {
				ids := make([]int64, len(batch))
				for i, it := range batch {
					ids[i] = it.id
				}
				if keep, err = recheck(ctx, tx, ids); err != nil {
					return err
				}
			}
			for _, it := range batch {
				if keep != nil && !keep[it.id] {
					continue
				}
				r, err := d.archiveTx(ctx, tx, sch, it.id, it.req)
				switch {
				case err == nil:
					res.Receipts = append(res.Receipts, r)
				case errors.Is(err, ErrLegalHold):
					res.Held = append(res.Held, it.id)
				case errors.Is(err, ErrArchived):
					res.Already = append(res.Already, it.id)
				case errors.Is(err, ErrNotFound):
					res.Missing = append(res.Missing, it.id)
				default:
					return err
				}
			}
			return sch.finish(ctx)
		})
		if err != nil {
			return err
		}
		out.Receipts = append(out.Receipts, res.Receipts...)
		out.Held = append(out.Held, res.Held...)
		out.Already = append(out.Already, res.Already...)
		out.Missing = append(out.Missing, res.Missing...)
	}
	return nil
}

// archiveSchema is one transaction's view for archiving: which optional
// tables exist (tables other features add in their own migrations), and
// the statements prepared once per transaction (parsing them again for
// every applicant costs more than running them).
type archiveSchema struct {
	tx     *sql.Tx
	tables map[string]bool
	stmts  map[string]*sql.Stmt
	search []int64 // search rows to delete in finish
}

// finish completes the archives of this transaction: it removes their
// search rows. Every caller of archiveTx calls it before committing.
func (s *archiveSchema) finish(ctx context.Context) error {
	for len(s.search) > 0 {
		n := min(len(s.search), 500)
		for _, t := range searchTables {
			if _, err := s.tx.ExecContext(ctx, "DELETE FROM "+t.name+" WHERE rowid IN ("+idList(s.search[:n])+")"); err != nil {
				return fmt.Errorf("db: archive: search rows: %w", err)
			}
		}
		s.search = s.search[n:]
	}
	return nil
}

func (s *archiveSchema) has(table string) bool { return s.tables[table] }

func (s *archiveSchema) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts[q]; ok {
		return st, nil
	}
	st, err := s.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	s.stmts[q] = st
	return st, nil
}

func (s *archiveSchema) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (s *archiveSchema) scan(ctx context.Context, q string, args []any, dest ...any) error {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return err
	}
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

// close releases the prepared statements.
func (s *archiveSchema) close() {
	for _, st := range s.stmts {
		st.Close()
	}
}

func readArchiveSchema(ctx context.Context, tx *sql.Tx) (*archiveSchema, error) {
	s := &archiveSchema{tx: tx, tables: map[string]bool{}, stmts: map[string]*sql.Stmt{}}
	rows, err := tx.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table'")
	if err != nil {
		return s, fmt.Errorf("db: archive: schema: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return s, fmt.Errorf("db: archive: schema: %w", err)
		}
		s.tables[name] = true
	}
	return s, rows.Err()
}

// keepArchivedRefs records a keyed MAC of each provider reference the
// archive is about to blank (migrations 012, 013), so the provider's late
// reports still find their verification for archivedRefWindow. Without a
// KEK (some offline tools) or the table (an old schema being restored) the
// references just go.
func (d *DB) keepArchivedRefs(ctx context.Context, sch *archiveSchema, id int64) error {
	if d.kek == nil || !sch.has("archived_provider_refs") {
		return nil
	}
	rows, err := sch.tx.QueryContext(ctx, `SELECT id, provider, provider_ref FROM verifications
		WHERE applicant_id = ? AND provider IN `+scrubProviders+` AND provider_ref != ''`, id)
	if err != nil {
		return err
	}
	type ref struct {
		id             int64
		provider, text string
	}
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.id, &r.provider, &r.text); err != nil {
			rows.Close()
			return err
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range refs {
		if _, err := sch.exec(ctx, `INSERT OR REPLACE INTO archived_provider_refs(verification_id, provider, ref_mac, archived_at, kek_id)
			VALUES (?, ?, ?, ?, ?)`, r.id, r.provider, d.archivedRefMAC(r.provider, r.text), d.millis(), d.kek.ID()); err != nil {
			return err
		}
	}
	return nil
}

// archivedRefWindow is how long an archived provider reference stays
// recognisable: long past the CorePass connector's month of answering for
// a transfer and its callback retries. The retention job forgets older ones
// (forgetArchivedRefs): the MAC is pseudonymous data too.
const archivedRefWindow = 90 * 24 * time.Hour

// forgetArchivedRefs deletes the archived provider references older than
// archivedRefWindow at now.
func (d *DB) forgetArchivedRefs(ctx context.Context, now time.Time) error {
	if _, err := d.write.ExecContext(ctx, "DELETE FROM archived_provider_refs WHERE archived_at < ?", now.Add(-archivedRefWindow).UnixMilli()); err != nil {
		return fmt.Errorf("db: forget archived provider refs: %w", err)
	}
	return nil
}

// archivedRefMAC is the keyed MAC an archived provider reference is known
// by.
func (d *DB) archivedRefMAC(provider, ref string) string {
	return hex.EncodeToString(d.kek.MAC("archived-provider-ref/"+provider, []byte(ref)))
}

// archiveTx archives one applicant inside tx. The refusals (missing,
// archived, on hold) come before any write.
func (d *DB) archiveTx(ctx context.Context, tx *sql.Tx, sch *archiveSchema, id int64, req ArchiveRequest) (Receipt, error) {
	var ref, name, email string
	var archived sql.NullInt64
	var hold bool
	err := sch.scan(ctx, "SELECT ref, display_name, email, archived_at, legal_hold FROM applicants WHERE id = ?", []any{id},
		&ref, &name, &email, &archived, &hold)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Receipt{}, fmt.Errorf("db: archive applicant %d: %w", id, ErrNotFound)
	case err != nil:
		return Receipt{}, fmt.Errorf("db: archive applicant %d: %w", id, err)
	case archived.Valid:
		return Receipt{}, fmt.Errorf("db: archive applicant %d: %w", id, ErrArchived)
	case hold:
		return Receipt{}, fmt.Errorf("db: archive applicant %d: %w", id, ErrLegalHold)
	}
	if req.Rule == "" {
		req.Rule = RuleManual
	}
	now := d.now()
	var del Deleted
	if name != "" {
		del.Name = 1
	}
	if email != "" {
		del.Email = 1
	}
	fail := func(what string, err error) (Receipt, error) {
		return Receipt{}, fmt.Errorf("db: archive applicant %d: %s: %w", id, what, err)
	}
	if err := sch.scan(ctx, "SELECT count(*), count(pepper_ct) FROM attributes WHERE applicant_id = ?", []any{id}, &del.Attributes, &del.Peppers); err != nil {
		return fail("attributes", err)
	}
	if err := sch.scan(ctx, "SELECT count(*), COALESCE(sum(size), 0) FROM documents WHERE applicant_id = ?", []any{id}, &del.Documents, &del.DocumentBytes); err != nil {
		return fail("documents", err)
	}
	nowMS := now.UnixMilli()
	type step struct {
		what  string
		query string
		args  []any
		count *int
	}
	steps := []step{
		{"attributes", "DELETE FROM attributes WHERE applicant_id = ?", []any{id}, nil},
		{"documents", "DELETE FROM documents WHERE applicant_id = ?", []any{id}, nil},
		{"data key", "DELETE FROM data_keys WHERE applicant_id = ?", []any{id}, &del.DataKeys},
		{"provider ids", `UPDATE provider_links SET external_id = CASE WHEN provider IN ` + scrubProviders + ` THEN '' ELSE external_id END,
			external_ids = '{}' WHERE applicant_id = ? AND ((provider IN ` + scrubProviders + ` AND external_id != '') OR external_ids != '{}')`,
			[]any{id}, &del.ProviderIDs},
		{"verifications", `UPDATE verifications SET link = '', qr_png = NULL,
			provider_ref = CASE WHEN provider IN ` + scrubProviders + ` THEN '' ELSE provider_ref END,
			token_expires_at = min(token_expires_at, ?)
			WHERE applicant_id = ? AND (link != '' OR qr_png IS NOT NULL OR (provider IN ` + scrubProviders + ` AND provider_ref != '')
			OR token_expires_at > ?)`, []any{nowMS, id, nowMS}, &del.Links},
	}
	if sch.has("inbox") {
		steps = append(steps, step{"inbox", "UPDATE inbox SET body_ct = NULL WHERE applicant_id = ? AND body_ct IS NOT NULL", []any{id}, &del.InboxBodies})
	}
	if sch.has("notes") {
		steps = append(steps, step{"notes", "DELETE FROM notes WHERE applicant_id = ?", []any{id}, &del.Notes})
	}
	if sch.has("review_queue") {
		steps = append(steps, step{"review queue", "DELETE FROM review_queue WHERE applicant_id = ?", []any{id}, nil})
	}
	if sch.has("review_proposals") {
		steps = append(steps, step{"review proposals", `UPDATE review_proposals SET state = 'superseded', closed_at = ?,
			close_note = 'The applicant was archived before a checker decided.' WHERE applicant_id = ? AND state = 'pending'`, []any{nowMS, id}, nil})
	}
	// The search row goes with the batch's others in finish: one FTS
	// delete per transaction instead of one index flush per applicant.
	if err := sch.scan(ctx, "SELECT count(*) FROM applicant_search WHERE rowid = ?", []any{id}, &del.SearchRows); err != nil {
		return fail("search row", err)
	}
	// Queued whatever the count: the refs table's row goes too, and a
	// delete of a row that is not there does nothing.
	sch.search = append(sch.search, id)
	if err := d.keepArchivedRefs(ctx, sch, id); err != nil {
		return fail("provider ids", err)
	}
	// archived_at first: from here on the database refuses new personal
	// data for this applicant, and notes may leave.
	if _, err := sch.exec(ctx, "UPDATE applicants SET display_name = '', email = '', archived_at = ? WHERE id = ?", nowMS, id); err != nil {
		return fail("applicant", err)
	}
	for _, s := range steps {
		res, err := sch.exec(ctx, s.query, s.args...)
		if err != nil {
			return fail(s.what, err)
		}
		if s.count != nil {
			n, _ := res.RowsAffected()
			*s.count = int(n)
		}
	}

	r := Receipt{ApplicantID: id, Ref: ref, At: now.UTC().Truncate(time.Millisecond), ActorID: req.Audit.ActorID, Actor: req.Audit.Actor,
		Rule: req.Rule, Reason: strings.TrimSpace(req.Reason), Deleted: del}
	if r.Actor == "" {
		r.Actor = "system"
	}
	r.Digest = r.digest()
	audit := req.Audit
	audit.At, audit.Actor = r.At, r.Actor
	audit.Action, audit.Object = "applicant.archive", fmt.Sprintf("applicant:%d", id)
	audit.Detail = "rule=" + r.Rule + " receipt=" + r.Digest
	if err := d.appendAudit(ctx, tx, &audit); err != nil {
		return Receipt{}, err
	}
	r.AuditID, r.AuditHash = audit.ID, audit.Hash
	deleted, _ := json.Marshal(r.Deleted)
	res, err := sch.exec(ctx, `INSERT INTO deletion_receipts(applicant_id, at, actor_id, actor, rule, reason, deleted, digest, audit_id, audit_hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, r.At.UnixMilli(), nullID(r.ActorID), r.Actor, r.Rule, r.Reason, string(deleted), r.Digest, r.AuditID, r.AuditHash)
	if err != nil {
		return fail("receipt", err)
	}
	r.ID, _ = res.LastInsertId()
	source := "staff"
	if r.ActorID == 0 {
		source = "system"
	}
	if err := d.addEvent(ctx, tx, Event{ApplicantID: id, Source: source, ActorID: r.ActorID, At: r.At,
		Detail: "Archived: personal data deleted (" + ruleLabel(r.Rule) + "; receipt " + r.Digest[:12] + ")"}); err != nil {
		return Receipt{}, err
	}
	return r, nil
}

// ruleLabel says a rule in words for the timeline.
func ruleLabel(rule string) string {
	switch {
	case rule == RuleManual:
		return "archived by staff"
	case strings.HasPrefix(rule, "retention:"):
		return "retention rule " + strings.TrimPrefix(rule, "retention:")
	case strings.HasPrefix(rule, "withdrawal:"):
		return "provider-side withdrawal " + strings.TrimPrefix(rule, "withdrawal:")
	}
	return rule
}

// DeletionReceipt returns the receipt of an archived applicant;
// ErrNotFound when the applicant is not archived.
func (d *DB) DeletionReceipt(ctx context.Context, applicantID int64) (Receipt, error) {
	var r Receipt
	var at int64
	var deleted string
	err := d.read.QueryRowContext(ctx, `SELECT r.id, r.applicant_id, a.ref, r.at, COALESCE(r.actor_id, 0), r.actor, r.rule, r.reason, r.deleted,
		r.digest, r.audit_id, r.audit_hash FROM deletion_receipts r JOIN applicants a ON a.id = r.applicant_id WHERE r.applicant_id = ?`, applicantID).
		Scan(&r.ID, &r.ApplicantID, &r.Ref, &at, &r.ActorID, &r.Actor, &r.Rule, &r.Reason, &deleted, &r.Digest, &r.AuditID, &r.AuditHash)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("db: deletion receipt: %w", err)
	}
	r.At = fromMillis(at)
	if err := json.Unmarshal([]byte(deleted), &r.Deleted); err != nil {
		return r, fmt.Errorf("db: deletion receipt %d: %w", r.ID, err)
	}
	return r, nil
}

// ErrReceiptBroken is returned by VerifyReceipt when a receipt does not
// match its own digest or its audit entry.
var ErrReceiptBroken = errors.New("deletion receipt does not verify")

// VerifyReceipt checks an applicant's receipt against its digest and the
// audit entry it is chained to (the chain itself is VerifyAudit's job).
func (d *DB) VerifyReceipt(ctx context.Context, applicantID int64) (Receipt, error) {
	r, err := d.DeletionReceipt(ctx, applicantID)
	if err != nil {
		return r, err
	}
	if r.digest() != r.Digest {
		return r, fmt.Errorf("db: receipt %d: content does not match its digest: %w", r.ID, ErrReceiptBroken)
	}
	var e AuditEntry
	var at int64
	err = d.read.QueryRowContext(ctx, "SELECT id, at, COALESCE(actor_id, 0), actor, action, object, ip, detail, prev_hash, hash FROM audit_log WHERE id = ?", r.AuditID).
		Scan(&e.ID, &at, &e.ActorID, &e.Actor, &e.Action, &e.Object, &e.IP, &e.Detail, &e.PrevHash, &e.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("db: receipt %d: audit entry %d is missing: %w", r.ID, r.AuditID, ErrReceiptBroken)
	}
	if err != nil {
		return r, fmt.Errorf("db: verify receipt: %w", err)
	}
	e.At = fromMillis(at)
	switch {
	case e.Hash != r.AuditHash || auditHash(&e) != e.Hash:
		return r, fmt.Errorf("db: receipt %d: audit entry %d does not match: %w", r.ID, r.AuditID, ErrReceiptBroken)
	case e.Action != "applicant.archive" || e.Object != fmt.Sprintf("applicant:%d", applicantID) || !strings.Contains(e.Detail, "receipt="+r.Digest):
		return r, fmt.Errorf("db: receipt %d: audit entry %d is about something else: %w", r.ID, r.AuditID, ErrReceiptBroken)
	}
	return r, nil
}

// CheckpointResult is what PRAGMA wal_checkpoint(TRUNCATE) reported.
type CheckpointResult struct {
	Busy         bool // a reader held the WAL: not everything was copied back
	WALFrames    int
	Checkpointed int
}

// CheckpointTruncate copies the WAL into the database file and truncates
// it to zero bytes, so pages an archive rewrote leave the WAL file too.
func (d *DB) CheckpointTruncate(ctx context.Context) (CheckpointResult, error) {
	var busy, frames, done int
	if err := d.write.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done); err != nil {
		return CheckpointResult{}, fmt.Errorf("db: checkpoint: %w", err)
	}
	return CheckpointResult{Busy: busy != 0, WALFrames: frames, Checkpointed: done}, nil
}

// checkpointPending marks that an archive's checkpoint could not finish;
// the retention job retries it.
const checkpointPending = "archive.checkpoint_pending"

// checkpointAfterArchive truncates the WAL after an archive, retrying a
// few times while readers finish; if it still cannot, it leaves a mark
// that the next retention run clears.
func (d *DB) checkpointAfterArchive(ctx context.Context) CheckpointResult {
	// Clear the mark first: the checkpoint below then also takes this
	// write out of the WAL.
	_, _ = d.write.ExecContext(ctx, "DELETE FROM settings WHERE key = ?", checkpointPending)
	for attempt := 0; ; attempt++ {
		res, err := d.CheckpointTruncate(ctx)
		if err == nil && !res.Busy {
			return res
		}
		if attempt == 2 || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, _ = d.write.ExecContext(context.WithoutCancel(ctx), `INSERT INTO settings(key, value) VALUES (?, '1')
		ON CONFLICT(key) DO UPDATE SET value = '1'`, checkpointPending)
	return CheckpointResult{Busy: true}
}
