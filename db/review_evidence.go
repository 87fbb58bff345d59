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
)

// Evidence is what a review decision rests on: the verification's statuses
// and the applicant's attributes, documents, certificates and provider
// events, pinned by a digest. A proposal stores the digest it was made on;
// a decision is refused when the digest has moved since.
type Evidence struct {
	Digest         string       `json:"-"`
	Status         string       `json:"status"`
	ProviderStatus string       `json:"provider_status"`
	Attributes     EvidencePart `json:"attributes"`
	Documents      EvidencePart `json:"documents"`
	Certificates   EvidencePart `json:"certificates"`
	Events         EvidencePart `json:"events"`
}

// EvidencePart summarises one kind of evidence: how many items, and a short
// hash of their ids and times (to tell "replaced" from "unchanged").
type EvidencePart struct {
	N    int    `json:"n"`
	Hash string `json:"hash"`
}

// evidenceParts lists the queries behind each part, in digest order. Only
// provider-sourced events count: staff and system events are our own
// actions on the case (a proposal writes one), not new evidence.
var evidenceParts = []struct {
	name, query string
}{
	{"attributes", "SELECT id, created_at FROM attributes WHERE applicant_id = ? ORDER BY id"},
	{"documents", "SELECT id, created_at FROM documents WHERE applicant_id = ? ORDER BY id"},
	{"certificates", "SELECT id, created_at FROM certificates WHERE applicant_id = ? ORDER BY id"},
	{"events", "SELECT id, at FROM verification_events WHERE applicant_id = ? AND source IN ('webhook','callback','poll') ORDER BY id"},
}

// EvidenceFor computes the current evidence of a verification.
func (d *DB) EvidenceFor(ctx context.Context, verificationID int64) (Evidence, error) {
	return evidenceOf(ctx, d.read, verificationID)
}

// evidenceOf is the one digest function: proposals and decisions both call
// it (inside their transactions), so they can never disagree on what
// "the same evidence" means. The digest is SHA-256 over a versioned,
// line-oriented text of the verification id and statuses and of every
// item's id and time.
func evidenceOf(ctx context.Context, q querier, verificationID int64) (Evidence, error) {
	var e Evidence
	var applicantID int64
	err := q.QueryRowContext(ctx, "SELECT applicant_id, status, provider_status FROM verifications WHERE id = ?", verificationID).
		Scan(&applicantID, &e.Status, &e.ProviderStatus)
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("db: evidence: verification %d: %w", verificationID, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("db: evidence: %w", err)
	}
	all := sha256.New()
	fmt.Fprintf(all, "kycdesk-evidence-v1\nverification %d\nstatus %q\nprovider_status %q\n", verificationID, e.Status, e.ProviderStatus)
	parts := []*EvidencePart{&e.Attributes, &e.Documents, &e.Certificates, &e.Events}
	for i, p := range evidenceParts {
		part := sha256.New()
		rows, err := q.QueryContext(ctx, p.query, applicantID)
		if err != nil {
			return e, fmt.Errorf("db: evidence: %s: %w", p.name, err)
		}
		n := 0
		for rows.Next() {
			var id, at int64
			if err := rows.Scan(&id, &at); err != nil {
				rows.Close()
				return e, fmt.Errorf("db: evidence: %s: %w", p.name, err)
			}
			fmt.Fprintf(part, "%d %d\n", id, at)
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return e, fmt.Errorf("db: evidence: %s: %w", p.name, err)
		}
		sum := part.Sum(nil)
		fmt.Fprintf(all, "%s %d %x\n", p.name, n, sum)
		*parts[i] = EvidencePart{N: n, Hash: hex.EncodeToString(sum[:6])}
	}
	e.Digest = hex.EncodeToString(all.Sum(nil))
	return e, nil
}

// summaryJSON is how a proposal keeps the evidence summary.
func (e Evidence) summaryJSON() string {
	b, _ := json.Marshal(e)
	return string(b)
}

func parseEvidenceSummary(s, digest string) Evidence {
	var e Evidence
	_ = json.Unmarshal([]byte(s), &e)
	e.Digest = digest
	return e
}

// ChangesSince says in words what differs from an earlier evidence
// summary, for the note that sends a case back to its maker.
func (e Evidence) ChangesSince(old Evidence) string {
	var out []string
	if e.Status != old.Status {
		out = append(out, fmt.Sprintf("status %s → %s", orDash(old.Status), orDash(e.Status)))
	}
	if e.ProviderStatus != old.ProviderStatus {
		out = append(out, fmt.Sprintf("provider status %s → %s", orDash(old.ProviderStatus), orDash(e.ProviderStatus)))
	}
	for _, p := range []struct {
		name     string
		now, was EvidencePart
	}{
		{"attribute", e.Attributes, old.Attributes},
		{"document", e.Documents, old.Documents},
		{"certificate", e.Certificates, old.Certificates},
		{"provider event", e.Events, old.Events},
	} {
		switch {
		case p.now.N > p.was.N:
			out = append(out, plural(p.now.N-p.was.N, "new "+p.name))
		case p.now.N < p.was.N:
			out = append(out, plural(p.was.N-p.now.N, p.name)+" removed")
		case p.now.Hash != p.was.Hash:
			out = append(out, p.name+"s replaced")
		}
	}
	if len(out) == 0 {
		return "the evidence changed"
	}
	return strings.Join(out, "; ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
