package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views/archive"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/authz"
)

// archiveHandler archives applicants (one, or a page of ticked rows),
// places and lifts legal holds, serves deletion receipts, and loads the
// archive panel and retention badges the applicant pages show.
type archiveHandler struct{ *Handlers }

// maxReason bounds an archive or hold reason.
const maxReason = 500

func archiveReason(c echo.Context) (string, error) {
	reason := strings.TrimSpace(c.FormValue("reason"))
	if len(reason) < 3 || len(reason) > maxReason {
		return "", badRequest("Give a reason for archiving (3 to %d characters, no personal data).", maxReason)
	}
	return reason, nil
}

// archiveOne deletes one applicant's personal data now.
func (h *archiveHandler) archiveOne(c echo.Context) error {
	a, err := h.applicants.load(c)
	if err != nil {
		return err
	}
	reason, err := archiveReason(c)
	if err != nil {
		return err
	}
	r, err := h.deps.DB.Archive(c.Request().Context(), a.ID, db.ArchiveRequest{Rule: db.RuleManual, Reason: reason, Audit: h.auditEntry(c)})
	switch {
	case errors.Is(err, db.ErrLegalHold):
		return web.Errorf(http.StatusConflict, "This applicant is on legal hold and cannot be archived. Lift the hold first if that is right.")
	case errors.Is(err, db.ErrArchived):
		h.deps.Web.Sessions.Flash(c, "This applicant was already archived.")
	case err != nil:
		return err
	default:
		h.deps.Web.Sessions.Flash(c, fmt.Sprintf("Archived: the personal data is deleted and the data key destroyed. Receipt %s.", r.Digest[:12]))
	}
	return web.Redirect(c, fmt.Sprintf("/applicants/%d", a.ID))
}

// bulk archives up to a page of rows ticked in the list.
func (h *archiveHandler) bulk(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return badRequest("This form could not be read.")
	}
	var ids []int64
	seen := map[int64]bool{}
	for _, s := range form["applicant"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return badRequest("The ticked rows could not be read. Reload the page and try again.")
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return badRequest("Tick at least one row first.")
	}
	if len(ids) > pageSize {
		return badRequest("A bulk archive covers at most %d rows (one page).", pageSize)
	}
	reason, err := archiveReason(c)
	if err != nil {
		return err
	}
	back := c.FormValue("return")
	if !strings.HasPrefix(back, "/applicants") {
		back = "/applicants"
	}
	back = safeNext(back)
	res, err := h.deps.DB.ArchiveMany(c.Request().Context(), ids, db.ArchiveRequest{Rule: db.RuleManual, Reason: reason, Audit: h.auditEntry(c)})
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Archived %d of %d applicants.", len(res.Receipts), len(ids))
	if n := len(res.Held); n > 0 {
		msg += fmt.Sprintf(" %d on legal hold left as they are.", n)
	}
	if n := len(res.Already); n > 0 {
		msg += fmt.Sprintf(" %d were already archived.", n)
	}
	if n := len(res.Missing); n > 0 {
		msg += fmt.Sprintf(" %d no longer exist.", n)
	}
	h.deps.Web.Sessions.Flash(c, msg)
	return web.Redirect(c, back)
}

// hold places or lifts a legal hold.
func (h *archiveHandler) hold(c echo.Context) error {
	a, err := h.applicants.load(c)
	if err != nil {
		return err
	}
	var on bool
	switch c.FormValue("hold") {
	case "on":
		on = true
	case "off":
	default:
		return badRequest("Choose to place or to lift the legal hold.")
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	if len(reason) > 200 {
		return badRequest("Keep the hold's reason under 200 characters (a case reference, no personal data).")
	}
	err = h.deps.DB.SetLegalHold(c.Request().Context(), a.ID, on, reason, h.auditEntry(c))
	switch {
	case errors.Is(err, db.ErrArchived):
		return web.Errorf(http.StatusConflict, "This applicant is already archived: there is no personal data left to hold.")
	case err != nil:
		return err
	case on:
		h.deps.Web.Sessions.Flash(c, "Legal hold placed: nothing archives this applicant until it is lifted.")
	default:
		h.deps.Web.Sessions.Flash(c, "Legal hold lifted: the retention policy applies again.")
	}
	return web.Redirect(c, fmt.Sprintf("/applicants/%d", a.ID))
}

// receiptJSON is the machine-readable deletion receipt.
type receiptJSON struct {
	Applicant string     `json:"applicant"`
	At        string     `json:"at"`
	Actor     string     `json:"actor"`
	Rule      string     `json:"rule"`
	Reason    string     `json:"reason"`
	Deleted   db.Deleted `json:"deleted"`
	Digest    string     `json:"digest"`
	AuditID   int64      `json:"audit_entry"`
	AuditHash string     `json:"audit_hash"`
	Verified  bool       `json:"verified"`
}

// receipt serves an archived applicant's deletion receipt as JSON.
func (h *archiveHandler) receipt(c echo.Context) error {
	a, err := h.applicants.load(c)
	if err != nil {
		return err
	}
	r, err := h.deps.DB.VerifyReceipt(c.Request().Context(), a.ID)
	verified := err == nil
	switch {
	case errors.Is(err, db.ErrNotFound):
		return web.Errorf(http.StatusNotFound, "This applicant is not archived: there is no deletion receipt.")
	case err != nil && !errors.Is(err, db.ErrReceiptBroken):
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "receipt-"+r.Ref+".json"))
	return c.JSONPretty(http.StatusOK, receiptJSON{Applicant: r.Ref, At: r.At.Format("2006-01-02T15:04:05.000Z07:00"), Actor: r.Actor,
		Rule: r.Rule, Reason: r.Reason, Deleted: r.Deleted, Digest: r.Digest, AuditID: r.AuditID, AuditHash: r.AuditHash, Verified: verified}, "  ")
}

// panel loads the applicant page's archive panel.
func (h *archiveHandler) panel(c echo.Context, a db.Applicant) (archive.PanelView, error) {
	ctx := c.Request().Context()
	st, _ := web.StaffFrom(c)
	now := h.deps.Now()
	v := archive.PanelView{ApplicantID: a.ID, CSRF: h.deps.Web.Sessions.CSRFToken(c), Archived: a.Archived(), LegalHold: a.LegalHold,
		CanArchive: st.Can(authz.Archive), Now: now}
	plans, err := h.deps.DB.RetentionPlans(ctx, []db.Applicant{a})
	if err != nil {
		return v, err
	}
	v.Plan = plans[a.ID]
	v.Badge = archive.BadgeFor(v.Plan, now)
	if a.Archived() {
		v.Receipt, err = h.deps.DB.VerifyReceipt(ctx, a.ID)
		switch {
		case errors.Is(err, db.ErrReceiptBroken):
			v.ReceiptErr = "This receipt does not match its digest or its audit-log entry: it was changed after the archive. Check the audit log."
		case errors.Is(err, db.ErrNotFound):
			v.ReceiptErr = "This applicant was archived without a receipt (before receipts existed)."
		case err != nil:
			return v, err
		}
	}
	copies, err := h.deps.DB.ProviderCopies(ctx, a.ID)
	if err != nil {
		return v, err
	}
	v.Statements = archive.Statements(copies, now)
	return v, nil
}

// badges loads the retention badge of each row of a list page.
func (h *archiveHandler) badges(ctx context.Context, rows []db.Applicant) (map[int64]archive.Badge, error) {
	plans, err := h.deps.DB.RetentionPlans(ctx, rows)
	if err != nil {
		return nil, err
	}
	now := h.deps.Now()
	out := make(map[int64]archive.Badge, len(plans))
	for id, p := range plans {
		out[id] = archive.BadgeFor(p, now)
	}
	return out, nil
}
