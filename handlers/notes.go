package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views/reviews"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/authz"
)

// notesHandler adds append-only notes to an applicant and draws the
// applicant page's notes and decisions block.
type notesHandler struct{ *Handlers }

// add appends a note and goes back to where the form was (the applicant
// page or a case).
func (h *notesHandler) add(c echo.Context) error {
	a, err := h.applicants.load(c)
	if err != nil {
		return err
	}
	st, _ := web.StaffFrom(c)
	body := strings.TrimSpace(c.FormValue("body"))
	if body == "" || utf8.RuneCountInString(body) > db.MaxNoteLen {
		return badRequest("A note needs some text (at most %d characters). Go back and write it.", db.MaxNoteLen)
	}
	_, err = h.deps.DB.AddNote(c.Request().Context(), a.ID, st.ID, body, h.auditEntry(c))
	if errors.Is(err, db.ErrNotFound) {
		return web.Errorf(http.StatusConflict, "This applicant is archived: notes can no longer be added.")
	}
	if err != nil {
		return err
	}
	h.deps.Web.Sessions.Flash(c, "Note added.")
	back := c.FormValue("return")
	if !strings.HasPrefix(back, "/applicants/") && !strings.HasPrefix(back, "/reviews/") {
		back = fmt.Sprintf("/applicants/%d#notes", a.ID)
	}
	return web.Redirect(c, safeNext(back))
}

// applicantSection loads the applicant page's review block.
func (h *notesHandler) applicantSection(c echo.Context, a db.Applicant) (reviews.ApplicantReview, error) {
	ctx := c.Request().Context()
	st, _ := web.StaffFrom(c)
	v := reviews.ApplicantReview{
		ApplicantID: a.ID,
		CanNote:     st.Can(authz.EditApplicants),
		CanExport:   st.Can(authz.Export),
		Archived:    a.Archived(),
		Now:         h.deps.Now(),
	}
	var err error
	if v.Notes, err = h.deps.DB.Notes(ctx, a.ID, 200); err != nil {
		return v, err
	}
	if v.Proposals, err = h.deps.DB.Proposals(ctx, a.ID); err != nil {
		return v, err
	}
	return v, nil
}
