package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// More review errors callers can test with errors.Is.
var (
	// ErrSelfDecision: the maker of a proposal tried to decide it. The
	// database refuses it (CHECK and trigger on review_decisions); this
	// error is how that refusal reaches callers.
	ErrSelfDecision = errors.New("the maker of a proposal cannot decide it")
	// ErrEvidenceChanged: the evidence moved since it was looked at.
	ErrEvidenceChanged = errors.New("the evidence changed")
)

// Review decisions a maker can propose.
const (
	DecisionApprove     = "approve"
	DecisionReject      = "reject"
	DecisionRequestMore = "request_more"
)

// Decisions lists the proposable decisions in display order.
var Decisions = []string{DecisionApprove, DecisionReject, DecisionRequestMore}

// ValidDecision reports whether s is a proposable decision.
func ValidDecision(s string) bool {
	for _, d := range Decisions {
		if d == s {
			return true
		}
	}
	return false
}

// decisionStatus is the normalised status a confirmed decision moves the
// verification and applicant to. "Request more" reopens the verification:
// it waits for the applicant again.
var decisionStatus = map[string]string{
	DecisionApprove:     "approved",
	DecisionReject:      "rejected",
	DecisionRequestMore: "in_progress",
}

// Limits on free text in reviews.
const (
	MaxCommentLen = 2000
	MaxReasonLen  = 200
)

// Reason is one entry of the configurable reason list.
type Reason struct {
	ID           int64
	Decision     string
	Label        string
	RequiresNote bool
	Active       bool
	Position     int
}

// Reasons lists the reasons by decision and position; inactive ones only
// when asked (the admin page).
func (d *DB) Reasons(ctx context.Context, includeInactive bool) ([]Reason, error) {
	q := "SELECT id, decision, label, requires_note, active, position FROM review_reasons"
	if !includeInactive {
		q += " WHERE active = 1"
	}
	q += " ORDER BY CASE decision WHEN 'approve' THEN 0 WHEN 'reject' THEN 1 ELSE 2 END, position, id"
	rows, err := d.read.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("db: reasons: %w", err)
	}
	defer rows.Close()
	var out []Reason
	for rows.Next() {
		var r Reason
		if err := rows.Scan(&r.ID, &r.Decision, &r.Label, &r.RequiresNote, &r.Active, &r.Position); err != nil {
			return nil, fmt.Errorf("db: reasons: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AddReason adds a reason at the end of its decision's list. ErrConflict
// when the label exists for that decision.
func (d *DB) AddReason(ctx context.Context, decision, label string, requiresNote bool, audit AuditEntry) (Reason, error) {
	label = strings.TrimSpace(label)
	if !ValidDecision(decision) || label == "" || len(label) > MaxReasonLen {
		return Reason{}, fmt.Errorf("db: add reason: %w", ErrInvalid)
	}
	r := Reason{Decision: decision, Label: label, RequiresNote: requiresNote, Active: true}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO review_reasons(decision, label, requires_note, position, created_at)
			VALUES (?, ?, ?, (SELECT COALESCE(max(position), 0) + 10 FROM review_reasons WHERE decision = ?), ?)
			RETURNING id, position`, decision, label, requiresNote, decision, d.millis()).Scan(&r.ID, &r.Position)
		if isConstraint(err) {
			return fmt.Errorf("db: add reason: %w", ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("db: add reason: %w", err)
		}
		audit.Action, audit.Object, audit.Detail = "review.reason_add", fmt.Sprintf("reason:%d", r.ID), "decision="+decision
		return d.appendAudit(ctx, tx, &audit)
	})
	return r, err
}

// SetReasonActive shows or hides a reason in the makers' list.
func (d *DB) SetReasonActive(ctx context.Context, id int64, active bool, audit AuditEntry) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE review_reasons SET active = ? WHERE id = ?", active, id)
		if err != nil {
			return fmt.Errorf("db: set reason active: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("db: set reason active: %w", ErrNotFound)
		}
		audit.Action, audit.Object, audit.Detail = "review.reason_active", fmt.Sprintf("reason:%d", id), fmt.Sprintf("active=%t", active)
		return d.appendAudit(ctx, tx, &audit)
	})
}

// Proposal states.
const (
	ProposalPending    = "pending"
	ProposalDecided    = "decided"
	ProposalReturned   = "returned"
	ProposalSuperseded = "superseded"
)

// Proposal is a maker's proposal and, once closed, its outcome.
type Proposal struct {
	ID             int64
	VerificationID int64
	ApplicantID    int64
	Provider       string
	Decision       string
	ReasonID       int64
	Reason         string
	Comment        string
	Evidence       Evidence // as it was when proposed
	ProposedBy     int64
	Proposer       string
	ProposedAt     time.Time
	State          string
	ClosedBy       int64
	Closer         string
	ClosedAt       time.Time
	CloseNote      string
}

// Outcome is the proposal's result in one word: pending, approve, reject,
// request_more, returned or superseded.
func (p Proposal) Outcome() string {
	if p.State == ProposalDecided {
		return p.Decision
	}
	return p.State
}

const proposalColumns = `p.id, p.verification_id, p.applicant_id, v.provider, p.decision, p.reason_id, p.reason, p.comment,
	p.evidence_digest, p.evidence_summary, p.proposed_by, pu.email, p.proposed_at, p.state, COALESCE(p.closed_by, 0),
	COALESCE(cu.email, ''), p.closed_at, p.close_note`

const proposalFrom = ` FROM review_proposals p JOIN verifications v ON v.id = p.verification_id
	JOIN users pu ON pu.id = p.proposed_by LEFT JOIN users cu ON cu.id = p.closed_by`

func scanProposal(row interface{ Scan(...any) error }) (Proposal, error) {
	var p Proposal
	var digest, summary string
	var proposed int64
	var closed sql.NullInt64
	err := row.Scan(&p.ID, &p.VerificationID, &p.ApplicantID, &p.Provider, &p.Decision, &p.ReasonID, &p.Reason, &p.Comment,
		&digest, &summary, &p.ProposedBy, &p.Proposer, &proposed, &p.State, &p.ClosedBy, &p.Closer, &closed, &p.CloseNote)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, err
	}
	p.Evidence = parseEvidenceSummary(summary, digest)
	p.ProposedAt, p.ClosedAt = fromMillis(proposed), nullMillis(closed)
	return p, nil
}

// Proposal returns one proposal.
func (d *DB) Proposal(ctx context.Context, id int64) (Proposal, error) {
	p, err := scanProposal(d.read.QueryRowContext(ctx, "SELECT "+proposalColumns+proposalFrom+" WHERE p.id = ?", id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("db: proposal: %w", err)
	}
	return p, err
}

// PendingProposal returns the proposal waiting for a checker on a
// verification; ErrNotFound when there is none.
func (d *DB) PendingProposal(ctx context.Context, verificationID int64) (Proposal, error) {
	p, err := scanProposal(d.read.QueryRowContext(ctx, "SELECT "+proposalColumns+proposalFrom+
		" WHERE p.verification_id = ? AND p.state = 'pending'", verificationID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("db: pending proposal: %w", err)
	}
	return p, err
}

// Proposals lists an applicant's proposals and their outcomes, newest
// first.
func (d *DB) Proposals(ctx context.Context, applicantID int64) ([]Proposal, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT "+proposalColumns+proposalFrom+" WHERE p.applicant_id = ? ORDER BY p.id DESC", applicantID)
	if err != nil {
		return nil, fmt.Errorf("db: proposals: %w", err)
	}
	defer rows.Close()
	var out []Proposal
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, fmt.Errorf("db: proposals: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// NewProposal is what a maker proposes.
type NewProposal struct {
	VerificationID int64
	Decision       string
	ReasonID       int64
	Comment        string
	// SeenDigest is the evidence digest of the page the maker decided on:
	// the proposal is refused (ErrEvidenceChanged) if it moved since.
	SeenDigest string
	By         int64
}

// Propose records a maker's proposal on an open case, pinned to the
// evidence digest, and hands the case to the checkers: the claim is
// released, a timeline event and an audit entry are written, all in one
// transaction. It refuses a case another reviewer has claimed (ErrClaimed),
// one that already has a proposal (ErrConflict), one not in review
// (ErrNotInReview), a reason that does not fit (ErrInvalid), and evidence
// that moved since the maker looked (ErrEvidenceChanged).
func (d *DB) Propose(ctx context.Context, p NewProposal, audit AuditEntry) (Proposal, error) {
	p.Comment = strings.TrimSpace(p.Comment)
	if !ValidDecision(p.Decision) || p.ReasonID <= 0 || len(p.Comment) > MaxCommentLen || p.SeenDigest == "" || p.By <= 0 {
		return Proposal{}, fmt.Errorf("db: propose: %w", ErrInvalid)
	}
	var id int64
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.millis()
		var applicantID, claimedBy, expires int64
		var provider, state string
		err := tx.QueryRowContext(ctx, `SELECT applicant_id, provider, state, COALESCE(claimed_by, 0), claim_expires_at
			FROM review_queue WHERE verification_id = ?`, p.VerificationID).Scan(&applicantID, &provider, &state, &claimedBy, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("db: propose: verification %d: %w", p.VerificationID, ErrNotInReview)
		}
		if err != nil {
			return fmt.Errorf("db: propose: %w", err)
		}
		if state != QueueOpen {
			return fmt.Errorf("db: propose: verification %d already has a proposal: %w", p.VerificationID, ErrConflict)
		}
		if claimedBy != 0 && claimedBy != p.By && expires > now {
			return fmt.Errorf("db: propose: verification %d: %w", p.VerificationID, ErrClaimed)
		}
		var reasonDecision, label string
		var requiresNote, active bool
		err = tx.QueryRowContext(ctx, "SELECT decision, label, requires_note, active FROM review_reasons WHERE id = ?", p.ReasonID).
			Scan(&reasonDecision, &label, &requiresNote, &active)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (reasonDecision != p.Decision || !active || (requiresNote && p.Comment == ""))) {
			return fmt.Errorf("db: propose: reason %d does not fit: %w", p.ReasonID, ErrInvalid)
		}
		if err != nil {
			return fmt.Errorf("db: propose: %w", err)
		}
		ev, err := evidenceOf(ctx, tx, p.VerificationID)
		if err != nil {
			return err
		}
		if ev.Digest != p.SeenDigest {
			return fmt.Errorf("db: propose: verification %d: %w", p.VerificationID, ErrEvidenceChanged)
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO review_proposals(verification_id, applicant_id, decision, reason_id, reason, comment,
			evidence_digest, evidence_summary, proposed_by, proposed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			p.VerificationID, applicantID, p.Decision, p.ReasonID, label, p.Comment, ev.Digest, ev.summaryJSON(), p.By, now).Scan(&id)
		if isConstraint(err) {
			return fmt.Errorf("db: propose: %w", ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("db: propose: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE review_queue SET state = 'proposed', claimed_by = NULL, claim_expires_at = 0
			WHERE verification_id = ?`, p.VerificationID); err != nil {
			return fmt.Errorf("db: propose: %w", err)
		}
		maker, err := userEmail(ctx, tx, p.By)
		if err != nil {
			return err
		}
		if err := d.addEvent(ctx, tx, Event{ApplicantID: applicantID, VerificationID: p.VerificationID, Provider: provider, Source: "staff",
			Detail: fmt.Sprintf("%s proposed %s (%s); waiting for a checker", maker, DecisionLabel(p.Decision), label), ActorID: p.By}); err != nil {
			return err
		}
		audit.Action, audit.Object = "review.propose", fmt.Sprintf("applicant:%d", applicantID)
		audit.Detail = fmt.Sprintf("verification=%d proposal=%d decision=%s reason=%d", p.VerificationID, id, p.Decision, p.ReasonID)
		return d.appendAudit(ctx, tx, &audit)
	})
	if err != nil {
		return Proposal{}, err
	}
	return d.Proposal(ctx, id)
}

// DecisionInput is a checker's action on a pending proposal.
type DecisionInput struct {
	ProposalID int64
	By         int64
	// Confirm makes the proposal take effect; otherwise the case goes back
	// to its maker with Note (required) saying why.
	Confirm bool
	Note    string
}

// Decide closes a pending proposal, in one transaction: the decision row
// (which the database refuses when By is the proposal's maker:
// ErrSelfDecision), the proposal's outcome, for a confirmation the
// verification's and applicant's new status, a timeline event naming both
// people, and an audit entry. When the evidence changed since the proposal
// the confirmation does not happen: the case goes back to the maker with a
// note saying what changed, that return is committed, and Decide returns
// the returned proposal with ErrEvidenceChanged.
func (d *DB) Decide(ctx context.Context, in DecisionInput, audit AuditEntry) (Proposal, error) {
	in.Note = strings.TrimSpace(in.Note)
	if len(in.Note) > MaxCommentLen || (!in.Confirm && in.Note == "") || in.By <= 0 {
		return Proposal{}, fmt.Errorf("db: decide: %w", ErrInvalid)
	}
	stale := false
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.millis()
		p, err := scanProposal(tx.QueryRowContext(ctx, "SELECT "+proposalColumns+proposalFrom+" WHERE p.id = ?", in.ProposalID))
		if err != nil {
			return fmt.Errorf("db: decide: proposal %d: %w", in.ProposalID, err)
		}
		if p.State != ProposalPending {
			return fmt.Errorf("db: decide: proposal %d is %s: %w", p.ID, p.State, ErrConflict)
		}
		ev, err := evidenceOf(ctx, tx, p.VerificationID)
		if err != nil {
			return err
		}
		outcome, note := p.Decision, in.Note
		if !in.Confirm {
			outcome = ProposalReturned
		} else if ev.Digest != p.Evidence.Digest {
			stale = true
			outcome = ProposalReturned
			note = "Evidence changed since the proposal (" + ev.ChangesSince(p.Evidence) + "). Review it again and propose anew."
		}
		// The decision row first: the four-eyes CHECK and trigger refuse a
		// self-decision before anything else moves.
		if _, err := tx.ExecContext(ctx, `INSERT INTO review_decisions(proposal_id, verification_id, applicant_id, outcome,
			proposed_by, decided_by, evidence_digest, note, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.VerificationID, p.ApplicantID, outcome, p.ProposedBy, in.By, ev.Digest, note, now); err != nil {
			if strings.Contains(err.Error(), "four_eyes") {
				return fmt.Errorf("db: decide: proposal %d: %w", p.ID, ErrSelfDecision)
			}
			if isConstraint(err) {
				return fmt.Errorf("db: decide: proposal %d: %w", p.ID, ErrConflict)
			}
			return fmt.Errorf("db: decide: %w", err)
		}
		state := ProposalDecided
		if outcome == ProposalReturned {
			state = ProposalReturned
		}
		if _, err := tx.ExecContext(ctx, "UPDATE review_proposals SET state = ?, closed_by = ?, closed_at = ?, close_note = ? WHERE id = ?",
			state, in.By, now, note, p.ID); err != nil {
			if strings.Contains(err.Error(), "four_eyes") {
				return fmt.Errorf("db: decide: proposal %d: %w", p.ID, ErrSelfDecision)
			}
			return fmt.Errorf("db: decide: %w", err)
		}
		checker, err := userEmail(ctx, tx, in.By)
		if err != nil {
			return err
		}
		ev2 := Event{ApplicantID: p.ApplicantID, VerificationID: p.VerificationID, Provider: p.Provider, Source: "staff", ActorID: in.By}
		if state == ProposalReturned {
			ttl, err := claimTTL(ctx, tx)
			if err != nil {
				return err
			}
			// Back to the maker: open again and claimed for them.
			if _, err := tx.ExecContext(ctx, `UPDATE review_queue SET state = 'open', claimed_by = ?, claim_expires_at = ?
				WHERE verification_id = ?`, p.ProposedBy, now+ttl.Milliseconds(), p.VerificationID); err != nil {
				return fmt.Errorf("db: decide: %w", err)
			}
			ev2.Detail = fmt.Sprintf("%s returned the case to %s (proposed %s): %s", checker, p.Proposer, DecisionLabel(p.Decision), note)
			if err := d.addEvent(ctx, tx, ev2); err != nil {
				return err
			}
			audit.Action = "review.return"
		} else {
			status := decisionStatus[p.Decision]
			if _, err := tx.ExecContext(ctx, "UPDATE verifications SET status = ?, updated_at = ? WHERE id = ?", status, now, p.VerificationID); err != nil {
				return fmt.Errorf("db: decide: %w", err)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE provider_links SET status = ? WHERE applicant_id = ? AND provider = ?", status, p.ApplicantID, p.Provider); err != nil {
				return fmt.Errorf("db: decide: %w", err)
			}
			ev2.Status = status
			ev2.Detail = fmt.Sprintf("%s by %s (four eyes: proposed by %s; reason: %s)", decidedLabel(p.Decision), checker, p.Proposer, p.Reason)
			if note != "" {
				ev2.Detail += "; note: " + note
			}
			if err := d.addEvent(ctx, tx, ev2); err != nil {
				return err
			}
			if err := touchApplicant(ctx, tx, p.ApplicantID, status, now); err != nil {
				return err
			}
			audit.Action = "review.decide"
		}
		audit.Object = fmt.Sprintf("applicant:%d", p.ApplicantID)
		audit.Detail = fmt.Sprintf("verification=%d proposal=%d outcome=%s proposed_by=user:%d", p.VerificationID, p.ID, outcome, p.ProposedBy)
		if stale {
			audit.Detail += " evidence_changed=1"
		}
		return d.appendAudit(ctx, tx, &audit)
	})
	if err != nil {
		return Proposal{}, err
	}
	p, err := d.Proposal(ctx, in.ProposalID)
	if err != nil {
		return p, err
	}
	if stale {
		return p, fmt.Errorf("db: decide: proposal %d: %w", p.ID, ErrEvidenceChanged)
	}
	return p, nil
}

// DecisionLabel is a proposable decision in words.
func DecisionLabel(decision string) string {
	switch decision {
	case DecisionApprove:
		return "approve"
	case DecisionReject:
		return "reject"
	case DecisionRequestMore:
		return "request more information"
	}
	return decision
}

func decidedLabel(decision string) string {
	switch decision {
	case DecisionApprove:
		return "Approved"
	case DecisionReject:
		return "Rejected"
	}
	return "More information requested"
}

func userEmail(ctx context.Context, q querier, id int64) (string, error) {
	var email string
	if err := q.QueryRowContext(ctx, "SELECT email FROM users WHERE id = ?", id).Scan(&email); err != nil {
		return "", fmt.Errorf("db: user %d: %w", id, err)
	}
	return email, nil
}
