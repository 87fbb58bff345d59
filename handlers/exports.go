package handlers

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/authz"
)

// exportsHandler writes the filtered applicants list as CSV and one
// applicant's case file as JSON. Each export is audited before a byte of
// it leaves.
type exportsHandler struct{ *Handlers }

// csvCell neutralises spreadsheet formula injection: a cell that starts
// with = + - @ (or a tab or carriage return, which some spreadsheets skip
// before reading a formula) gets a leading apostrophe, so it is read as
// text.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// applicantsCSV streams the applicants list with the list's filters,
// page by page on the list's keyset (never OFFSET), flushing as it goes,
// so a million rows need neither memory nor a long first byte.
func (h *exportsHandler) applicantsCSV(c echo.Context) error {
	ctx := c.Request().Context()
	st, _ := web.StaffFrom(c)
	f, _, err := parseListQuery(c.QueryParams(), len(c.Request().URL.RawQuery))
	if err != nil {
		return err
	}
	// The search text can be a name: the audit says only that there was one.
	detail := fmt.Sprintf("provider=%s status=%s search=%t", f.Provider, f.Status, f.Q != "")
	if err := h.audit(c, "export.applicants_csv", "applicants", detail); err != nil {
		return err
	}
	pii := st.Can(authz.ViewPII)
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="applicants-%s.csv"`, h.deps.Now().UTC().Format("20060102-1504")))
	res.WriteHeader(http.StatusOK)
	w := csv.NewWriter(res)
	_ = w.Write([]string{"reference", "name", "email", "status", "providers", "assignee", "created_at", "updated_at", "archived_at", "legal_hold"})
	filter := db.ApplicantFilter{Provider: f.Provider, Status: f.Status, Query: f.Q, Limit: db.MaxPageSize}
	if authz.OwnOnly(st.Role) {
		filter.CreatedBy = st.ID
	}
	for {
		page, err := h.deps.DB.ListApplicants(ctx, filter)
		if err != nil {
			// Headers are gone: the error can only end the stream, and is logged.
			h.deps.Logger.Error("export applicants csv", "id", web.RequestID(c), "err", err)
			return nil
		}
		for _, a := range page.Rows {
			name, email := a.Name, a.Email
			if !pii {
				name, email = "", ""
			}
			_ = w.Write([]string{csvCell(a.Ref), csvCell(name), csvCell(email), csvCell(a.Status), csvCell(strings.Join(a.Providers, " ")),
				csvCell(a.Assignee), csvTime(a.CreatedAt), csvTime(a.UpdatedAt), csvTime(a.ArchivedAt), fmt.Sprint(a.LegalHold)})
		}
		w.Flush()
		res.Flush()
		if err := w.Error(); err != nil || page.Next.IsZero() || ctx.Err() != nil {
			return nil
		}
		filter.After = page.Next
	}
}

// caseFile is one applicant's exported case file.
type caseFile struct {
	ExportedAt    time.Time          `json:"exported_at"`
	ExportedBy    string             `json:"exported_by"`
	Applicant     caseApplicant      `json:"applicant"`
	Providers     []caseLink         `json:"providers"`
	Verifications []caseVerification `json:"verifications"`
	Timeline      []caseEvent        `json:"timeline"`
	Decisions     []caseDecision     `json:"decisions"`
	Notes         []caseNote         `json:"notes"`
	Certificates  []caseCertificate  `json:"certificates"`
	Attributes    []caseAttribute    `json:"attributes"`
	// PersonalData says whether names, emails, attribute values and notes
	// are in the file (the exporter's role and the applicant's state).
	PersonalData bool `json:"personal_data"`
}

type caseApplicant struct {
	Ref        string     `json:"ref"`
	Name       string     `json:"name,omitempty"`
	Email      string     `json:"email,omitempty"`
	Status     string     `json:"status"`
	Assignee   string     `json:"assignee,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
	LegalHold  bool       `json:"legal_hold"`
}

type caseLink struct {
	Provider   string `json:"provider"`
	Reference  string `json:"reference"`
	ExternalID string `json:"external_id,omitempty"`
	Status     string `json:"status"`
}

type caseVerification struct {
	ID             int64     `json:"id"`
	Provider       string    `json:"provider"`
	Status         string    `json:"status"`
	ProviderStatus string    `json:"provider_status"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

type caseEvent struct {
	At             time.Time `json:"at"`
	Source         string    `json:"source"`
	Provider       string    `json:"provider,omitempty"`
	Status         string    `json:"status,omitempty"`
	ProviderStatus string    `json:"provider_status,omitempty"`
	Detail         string    `json:"detail,omitempty"`
	Actor          string    `json:"actor,omitempty"`
	TxHash         string    `json:"tx_hash,omitempty"`
}

type caseDecision struct {
	Verification   int64      `json:"verification"`
	Decision       string     `json:"proposed_decision"`
	Reason         string     `json:"reason"`
	Comment        string     `json:"comment,omitempty"`
	ProposedBy     string     `json:"proposed_by"`
	ProposedAt     time.Time  `json:"proposed_at"`
	EvidenceDigest string     `json:"evidence_digest"`
	Outcome        string     `json:"outcome"`
	ClosedBy       string     `json:"closed_by,omitempty"`
	ClosedAt       *time.Time `json:"closed_at,omitempty"`
	Note           string     `json:"note,omitempty"`
}

type caseNote struct {
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Body   string    `json:"body"`
}

type caseCertificate struct {
	Provider  string    `json:"provider"`
	Name      string    `json:"name"`
	Value     string    `json:"value"`
	CreatedAt time.Time `json:"created_at"`
}

type caseAttribute struct {
	Provider  string    `json:"provider"`
	Meaning   string    `json:"meaning"`
	Name      string    `json:"name"`
	Value     *string   `json:"value,omitempty"` // only for roles that see personal data
	CreatedAt time.Time `json:"created_at"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// caseFileJSON exports one applicant's case file: timeline, decisions,
// notes, certificates, and the attributes with the values the exporter's
// role may see.
func (h *exportsHandler) caseFileJSON(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := h.applicants.load(c)
	if err != nil {
		return err
	}
	st, _ := web.StaffFrom(c)
	pii := st.Can(authz.ViewPII) && !a.Archived()
	if err := h.audit(c, "export.case_file", fmt.Sprintf("applicant:%d", a.ID), fmt.Sprintf("personal_data=%t", pii)); err != nil {
		return err
	}
	f := caseFile{ExportedAt: h.deps.Now().UTC(), ExportedBy: st.Email, PersonalData: pii,
		Applicant: caseApplicant{Ref: a.Ref, Status: a.Status, Assignee: a.Assignee, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
			ArchivedAt: timePtr(a.ArchivedAt), LegalHold: a.LegalHold}}
	if pii {
		f.Applicant.Name, f.Applicant.Email = a.Name, a.Email
	}
	links, err := h.deps.DB.ProviderLinks(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, l := range links {
		f.Providers = append(f.Providers, caseLink{Provider: l.Provider, Reference: l.Reference, ExternalID: l.ExternalID, Status: l.Status})
	}
	vers, err := h.deps.DB.Verifications(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, v := range vers {
		f.Verifications = append(f.Verifications, caseVerification{ID: v.ID, Provider: v.Provider, Status: v.Status, ProviderStatus: v.ProviderStatus,
			CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt})
	}
	events, err := h.deps.DB.Timeline(ctx, a.ID, 1000)
	if err != nil {
		return err
	}
	for _, e := range events {
		f.Timeline = append(f.Timeline, caseEvent{At: e.At, Source: e.Source, Provider: e.Provider, Status: e.Status,
			ProviderStatus: e.ProviderStatus, Detail: e.Detail, Actor: e.Actor, TxHash: e.TxHash})
	}
	props, err := h.deps.DB.Proposals(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, p := range props {
		d := caseDecision{Verification: p.VerificationID, Decision: p.Decision, Reason: p.Reason, ProposedBy: p.Proposer, ProposedAt: p.ProposedAt,
			EvidenceDigest: p.Evidence.Digest, Outcome: p.Outcome(), ClosedBy: p.Closer, ClosedAt: timePtr(p.ClosedAt), Note: p.CloseNote}
		if pii {
			d.Comment = p.Comment
		}
		f.Decisions = append(f.Decisions, d)
	}
	if pii {
		notes, err := h.deps.DB.Notes(ctx, a.ID, 1000)
		if err != nil {
			return err
		}
		for _, n := range notes {
			f.Notes = append(f.Notes, caseNote{At: n.CreatedAt, Author: n.Author, Body: n.Body})
		}
	}
	certs, err := h.deps.DB.Certificates(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, ct := range certs {
		f.Certificates = append(f.Certificates, caseCertificate{Provider: ct.Provider, Name: ct.Name, Value: ct.Value, CreatedAt: ct.CreatedAt})
	}
	if pii {
		attrs, err := h.deps.DB.Attributes(ctx, a.ID)
		if err != nil && !errors.Is(err, db.ErrKeyDestroyed) {
			return err
		}
		for _, at := range attrs {
			value := at.Value
			f.Attributes = append(f.Attributes, caseAttribute{Provider: at.Provider, Meaning: at.Meaning, Name: at.Name, Value: &value, CreatedAt: at.CreatedAt})
		}
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="case-%s.json"`, a.Ref))
	return c.JSONPretty(http.StatusOK, f, "  ")
}
