package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/views/applicants"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/authz"
)

type applicantsHandler struct{ *Handlers }

// pageSize is the list's page size.
const pageSize = 50

// maxQueryLen bounds the list's query string: a bookmarkable URL, never a
// payload.
const maxQueryLen = 1024

// parseListQuery validates the list's query string. Unknown values are an
// error the page explains; nothing is guessed.
func parseListQuery(q url.Values, rawLen int) (applicants.Filter, db.Cursor, error) {
	var f applicants.Filter
	var cur db.Cursor
	if rawLen > maxQueryLen {
		return f, cur, badRequest("This address is too long to be a list view. Start again from the applicants page.")
	}
	f.Provider, f.Status, f.Q = q.Get("provider"), q.Get("status"), strings.TrimSpace(q.Get("q"))
	if f.Provider != "" && !providers.Name(f.Provider).Valid() {
		return applicants.Filter{}, cur, badRequest("Unknown provider %q. Choose one from the list.", f.Provider)
	}
	if f.Status != "" && !providers.Status(f.Status).Valid() {
		return applicants.Filter{}, cur, badRequest("Unknown status %q. Choose one from the list.", f.Status)
	}
	if len(f.Q) > 200 {
		return applicants.Filter{}, cur, badRequest("Search is limited to 200 characters.")
	}
	if after := q.Get("after"); after != "" {
		ts, id, ok := strings.Cut(after, "-")
		var err1, err2 error
		cur.UpdatedAt, err1 = strconv.ParseInt(ts, 10, 64)
		cur.ID, err2 = strconv.ParseInt(id, 10, 64)
		if !ok || err1 != nil || err2 != nil || cur.ID <= 0 || cur.UpdatedAt < 0 {
			return applicants.Filter{}, db.Cursor{}, badRequest("This page link is broken. Start again from the first page.")
		}
	}
	return f, cur, nil
}

func listURL(f applicants.Filter, cur db.Cursor) string {
	q := url.Values{}
	if f.Q != "" {
		q.Set("q", f.Q)
	}
	if f.Provider != "" {
		q.Set("provider", f.Provider)
	}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if !cur.IsZero() {
		q.Set("after", fmt.Sprintf("%d-%d", cur.UpdatedAt, cur.ID))
	}
	if len(q) == 0 {
		return "/applicants"
	}
	return "/applicants?" + q.Encode()
}

// list shows the applicants, filtered, searched and paged by keyset. An
// htmx request gets only the results.
func (h *applicantsHandler) list(c echo.Context) error {
	st, _ := web.StaffFrom(c)
	f, cur, err := parseListQuery(c.QueryParams(), len(c.Request().URL.RawQuery))
	if err != nil {
		return err
	}
	filter := db.ApplicantFilter{Provider: f.Provider, Status: f.Status, Query: f.Q, After: cur, Limit: pageSize}
	if authz.OwnOnly(st.Role) {
		filter.CreatedBy = st.ID
	}
	page, err := h.deps.DB.ListApplicants(c.Request().Context(), filter)
	if err != nil {
		return err
	}
	v := applicants.ListView{
		Filter:    f,
		Rows:      page.Rows,
		Now:       h.deps.Now(),
		Providers: providerNames(),
		Statuses:  statusNames(),
		CanCreate: st.Can(authz.StartVerification),
		CanExport: st.Can(authz.Export),
	}
	if st.Can(authz.StartVerification) {
		v.SelfKeySim = h.selfKey.simURL("")
	}
	switch {
	case db.OnlyWholeWords(f.Q):
		v.Notice = fmt.Sprintf("One character finds that word whole, such as an initial. Type more to search names and emails by how they begin (references and provider ids from their first %d characters).", db.RefPrefixMin)
	case len(page.Rows) == 0 && db.RefTooShort(f.Q):
		v.Notice = fmt.Sprintf("References and provider ids are found from their first %d characters. Type more of one to find it.", db.RefPrefixMin)
	}
	if v.Retention, err = h.archive.badges(c.Request().Context(), page.Rows); err != nil {
		return err
	}
	v.CanArchive, v.ReturnURL = st.Can(authz.Archive), listURL(f, cur)
	if !page.Next.IsZero() {
		v.NextURL = listURL(f, page.Next)
	}
	if !cur.IsZero() {
		v.FirstURL = listURL(f, db.Cursor{})
	}
	if web.IsHTMX(c) {
		return web.Render(c, http.StatusOK, applicants.Results(v))
	}
	v.Page = h.page(c, "Applicants", "applicants")
	return web.Render(c, http.StatusOK, applicants.List(v))
}

// shownPII is an applicant's personal data as a page shows it, or why it
// is not shown.
type shownPII struct {
	attributes []db.Attribute
	documents  []db.Document
	notice     string
}

// personalData reads an applicant's personal data for a page (the
// applicant page and the review case both show it): decrypting it is an
// access, audited first; archived applicants, roles without ViewPII and a
// destroyed data key get a notice instead (archivedNotice is the page's
// wording); auditDetail goes into the audit entry.
func (h *Handlers) personalData(c echo.Context, a db.Applicant, archivedNotice, auditDetail string) (shownPII, error) {
	st, _ := web.StaffFrom(c)
	switch {
	case a.Archived():
		return shownPII{notice: archivedNotice}, nil
	case !st.Can(authz.ViewPII):
		return shownPII{notice: "Your role does not show personal data."}, nil
	}
	if err := h.audit(c, "applicant.view_pii", fmt.Sprintf("applicant:%d", a.ID), auditDetail); err != nil {
		return shownPII{}, err
	}
	ctx := c.Request().Context()
	attrs, err := h.deps.DB.Attributes(ctx, a.ID)
	if errors.Is(err, db.ErrKeyDestroyed) {
		return shownPII{notice: "The data key of this applicant is destroyed: its personal data cannot be read."}, nil
	}
	if err != nil {
		return shownPII{}, err
	}
	docs, err := h.deps.DB.Documents(ctx, a.ID)
	if err != nil {
		return shownPII{}, err
	}
	return shownPII{attributes: attrs, documents: docs}, nil
}

// load fetches an applicant and checks the object rule: link creators see
// only applicants they created.
func (h *applicantsHandler) load(c echo.Context) (db.Applicant, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.Applicant{}, echo.ErrNotFound
	}
	a, err := h.deps.DB.Applicant(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return a, echo.ErrNotFound
	}
	if err != nil {
		return a, err
	}
	st, _ := web.StaffFrom(c)
	if authz.OwnOnly(st.Role) && a.CreatedBy != st.ID {
		h.OnDenied(c, st, "not the creator of applicant "+strconv.FormatInt(id, 10))
		// Same answer as a missing applicant: do not confirm it exists.
		return a, echo.ErrNotFound
	}
	return a, nil
}

// show is the applicant page. Decrypting personal data is an access: it is
// audited before anything is shown.
func (h *applicantsHandler) show(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := h.load(c)
	if err != nil {
		return err
	}
	st, _ := web.StaffFrom(c)
	v := applicants.ShowView{Applicant: a, Now: h.deps.Now()}
	links, err := h.deps.DB.ProviderLinks(ctx, a.ID)
	if err != nil {
		return err
	}
	vers, err := h.deps.DB.Verifications(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, l := range links {
		card := applicants.LinkCard{Link: l}
		for _, ver := range vers {
			if ver.Provider == l.Provider {
				card.Verifications = append(card.Verifications, ver)
			}
		}
		v.Links = append(v.Links, card)
	}
	if v.Timeline, err = h.deps.DB.TimelineWithNotes(ctx, a.ID, 200); err != nil {
		return err
	}
	if v.Certificates, err = h.deps.DB.Certificates(ctx, a.ID); err != nil {
		return err
	}
	pii, err := h.personalData(c, a, "Archived: the personal data was deleted. Status, history and certificates are kept.", "")
	if err != nil {
		return err
	}
	v.Attributes, v.Documents, v.PIINotice = pii.attributes, pii.documents, pii.notice
	if v.Review, err = h.notes.applicantSection(c, a); err != nil {
		return err
	}
	if v.Archive, err = h.archive.panel(c, a); err != nil {
		return err
	}
	if st.Can(authz.StartVerification) {
		v.SelfKeySim = h.selfKey.applicantSimURL(a, links)
	}
	if v.Blockpass, err = h.blockpass.panel(c, a, links, v.Certificates, v.Attributes, v.Documents, v.PIINotice == ""); err != nil {
		return err
	}
	v.CanStart = st.Can(authz.StartVerification)
	v.Page = h.page(c, applicantTitle(a), "applicants")
	return web.Render(c, http.StatusOK, applicants.Show(v))
}

func applicantTitle(a db.Applicant) string {
	if a.Archived() {
		return "Archived applicant " + a.Ref
	}
	return a.Name
}

// timeline is the polled htmx partial of the applicant page.
func (h *applicantsHandler) timeline(c echo.Context) error {
	a, err := h.load(c)
	if err != nil {
		return err
	}
	events, err := h.deps.DB.TimelineWithNotes(c.Request().Context(), a.ID, 200)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, applicants.Timeline(a.ID, events, h.deps.Now()))
}

// document serves one decrypted document inline, audited.
func (h *applicantsHandler) document(c echo.Context) error {
	a, err := h.load(c)
	if err != nil {
		return err
	}
	docID, err := strconv.ParseInt(c.Param("doc"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	doc, data, err := h.deps.DB.DocumentData(c.Request().Context(), a.ID, docID)
	if errors.Is(err, db.ErrNotFound) || errors.Is(err, db.ErrKeyDestroyed) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := h.audit(c, "document.view", fmt.Sprintf("applicant:%d", a.ID), fmt.Sprintf("document=%d", doc.ID)); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; sandbox")
	c.Response().Header().Set("Content-Disposition", "inline")
	return c.Blob(http.StatusOK, doc.ContentType, data)
}

func providerNames() []string {
	out := make([]string, len(providers.All))
	for i, p := range providers.All {
		out[i] = string(p)
	}
	return out
}

func statusNames() []string {
	out := make([]string, len(providers.Statuses))
	for i, s := range providers.Statuses {
		out[i] = string(s)
	}
	return out
}
