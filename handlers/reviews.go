package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/views/reviews"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/authz"
)

// reviewsHandler is review under four eyes: the queue, claims, the
// maker's proposal and the checker's decision. The rules themselves (one
// claim per case, no self-decision, evidence pinned) live in db.
type reviewsHandler struct{ *Handlers }

// parseQueueQuery validates the queue's query string; unknown values are an
// error the page explains.
func parseQueueQuery(q url.Values, rawLen int, st web.Staff) (reviews.QueueFilter, db.QueueFilter, error) {
	var f reviews.QueueFilter
	var dbf db.QueueFilter
	if rawLen > maxQueryLen {
		return f, dbf, badRequest("This address is too long to be a queue view. Start again from the reviews page.")
	}
	f.State, f.Provider, f.Age, f.Assignee = q.Get("state"), q.Get("provider"), q.Get("age"), q.Get("assignee")
	if f.State == "" {
		// Checkers start where their work is: proposals to decide.
		f.State = db.QueueOpen
		if st.Can(authz.Decide) {
			f.State = db.QueueProposed
		}
	}
	if f.State != db.QueueOpen && f.State != db.QueueProposed {
		return f, dbf, badRequest("Unknown queue %q. Choose \"To review\" or \"Awaiting a checker\".", f.State)
	}
	if f.Provider != "" && !providers.Name(f.Provider).Valid() {
		return f, dbf, badRequest("Unknown provider %q. Choose one from the list.", f.Provider)
	}
	dbf = db.QueueFilter{State: f.State, Provider: f.Provider, Limit: pageSize}
	if f.Age != "" {
		ok := false
		for _, o := range reviews.AgeOptions {
			ok = ok || o.Value == f.Age
		}
		d, err := time.ParseDuration(f.Age)
		if !ok || err != nil {
			return f, dbf, badRequest("Unknown age filter %q. Choose one from the list.", f.Age)
		}
		dbf.OlderThan = d
	}
	switch f.Assignee {
	case "":
	case "me":
		dbf.Assignee = st.ID
	case "none":
		dbf.Assignee = db.AssigneeNone
	default:
		id, err := strconv.ParseInt(f.Assignee, 10, 64)
		if err != nil || id <= 0 {
			return f, dbf, badRequest("Unknown assignee %q. Choose one from the list.", f.Assignee)
		}
		dbf.Assignee = id
	}
	if authz.OwnOnly(st.Role) {
		dbf.CreatedBy = st.ID
	}
	if after := q.Get("after"); after != "" {
		ts, id, ok := strings.Cut(after, "-")
		var err1, err2 error
		dbf.After.Since, err1 = strconv.ParseInt(ts, 10, 64)
		dbf.After.ID, err2 = strconv.ParseInt(id, 10, 64)
		if !ok || err1 != nil || err2 != nil || dbf.After.ID <= 0 {
			return f, dbf, badRequest("This page link is broken. Start again from the first page.")
		}
	}
	return f, dbf, nil
}

func queueURL(f reviews.QueueFilter, cur db.QueueCursor) string {
	q := url.Values{}
	q.Set("state", f.State)
	for k, v := range map[string]string{"provider": f.Provider, "age": f.Age, "assignee": f.Assignee} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !cur.IsZero() {
		q.Set("after", fmt.Sprintf("%d-%d", cur.Since, cur.ID))
	}
	return "/reviews?" + q.Encode()
}

// queue is the review queue, oldest first; htmx requests get the results
// only.
func (h *reviewsHandler) queue(c echo.Context) error {
	ctx := c.Request().Context()
	st, _ := web.StaffFrom(c)
	f, dbf, err := parseQueueQuery(c.QueryParams(), len(c.Request().URL.RawQuery), st)
	if err != nil {
		return err
	}
	page, err := h.deps.DB.ListQueue(ctx, dbf)
	if err != nil {
		return err
	}
	v := reviews.QueueView{
		Filter:    f,
		Rows:      page.Rows,
		Now:       h.deps.Now(),
		Providers: providerNames(),
		CanClaim:  st.Can(authz.ProposeDecision) && f.State == db.QueueOpen,
		CanBulk:   st.Can(authz.EditApplicants),
		ReturnURL: queueURL(f, dbf.After),
	}
	if !page.Next.IsZero() {
		v.NextURL = queueURL(f, page.Next)
	}
	if !dbf.After.IsZero() {
		v.FirstURL = queueURL(f, db.QueueCursor{})
	}
	if v.Staff, err = h.reviewers(c); err != nil {
		return err
	}
	if web.IsHTMX(c) {
		return web.Render(c, http.StatusOK, reviews.QueueResults(v))
	}
	if v.Counts, err = h.deps.DB.CountQueue(ctx); err != nil {
		return err
	}
	open, proposed := f, f
	open.State, proposed.State = db.QueueOpen, db.QueueProposed
	v.TabURLs = [2]string{queueURL(open, db.QueueCursor{}), queueURL(proposed, db.QueueCursor{})}
	v.Page = h.page(c, "Reviews", "reviews")
	return web.Render(c, http.StatusOK, reviews.Queue(v))
}

// reviewers are the staff cases can be assigned to.
func (h *reviewsHandler) reviewers(c echo.Context) ([]db.User, error) {
	users, err := h.deps.DB.ListUsers(c.Request().Context())
	if err != nil {
		return nil, err
	}
	var out []db.User
	for _, u := range users {
		r := authz.Role(u.Role)
		if !u.Disabled && (authz.Can(r, authz.ProposeDecision) || authz.Can(r, authz.Decide)) {
			out = append(out, u)
		}
	}
	return out, nil
}

// next claims the oldest free case for the maker and opens it.
func (h *reviewsHandler) next(c echo.Context) error {
	st, _ := web.StaffFrom(c)
	provider := c.FormValue("provider")
	if provider != "" && !providers.Name(provider).Valid() {
		return badRequest("Unknown provider %q.", provider)
	}
	it, err := h.deps.DB.ClaimNext(c.Request().Context(), st.ID, provider, h.auditEntry(c))
	if errors.Is(err, db.ErrNotFound) {
		h.deps.Web.Sessions.Flash(c, "No case is waiting for a proposal right now.")
		return web.Redirect(c, "/reviews?state=open")
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, caseURL(it.VerificationID))
}

func caseURL(verificationID int64) string { return "/reviews/" + strconv.FormatInt(verificationID, 10) }

// loadCase finds the verification behind /reviews/:id and its applicant,
// with the object rule of the applicants pages.
func (h *reviewsHandler) loadCase(c echo.Context) (db.Verification, db.Applicant, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.Verification{}, db.Applicant{}, echo.ErrNotFound
	}
	v, err := h.deps.DB.Verification(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return v, db.Applicant{}, echo.ErrNotFound
	}
	if err != nil {
		return v, db.Applicant{}, err
	}
	a, err := h.deps.DB.Applicant(c.Request().Context(), v.ApplicantID)
	if err != nil {
		return v, a, err
	}
	st, _ := web.StaffFrom(c)
	if authz.OwnOnly(st.Role) && a.CreatedBy != st.ID {
		h.OnDenied(c, st, "not the creator of applicant "+strconv.FormatInt(a.ID, 10))
		return v, a, echo.ErrNotFound
	}
	return v, a, nil
}

// show is one case.
func (h *reviewsHandler) show(c echo.Context) error {
	return h.renderCase(c, reviews.ProposeForm{}, "")
}

// renderCase draws the case page, with a proposal form's state or a
// decision error when a POST comes back to it.
func (h *reviewsHandler) renderCase(c echo.Context, form reviews.ProposeForm, decideErr string) error {
	ctx := c.Request().Context()
	ver, a, err := h.loadCase(c)
	if err != nil {
		return err
	}
	st, _ := web.StaffFrom(c)
	now := h.deps.Now()
	v := reviews.CaseView{Applicant: a, Verification: ver, Now: now, Form: form, DecideError: decideErr}
	v.Item, err = h.deps.DB.QueueEntry(ctx, ver.ID)
	switch {
	case err == nil:
		v.InReview = true
	case !errors.Is(err, db.ErrNotInReview):
		return err
	}
	if v.Evidence, err = h.deps.DB.EvidenceFor(ctx, ver.ID); err != nil {
		return err
	}
	all, err := h.deps.DB.Proposals(ctx, a.ID)
	if err != nil {
		return err
	}
	for i := range all {
		switch {
		case all[i].VerificationID != ver.ID:
		case all[i].State == db.ProposalPending:
			v.Pending = &all[i]
		default:
			v.History = append(v.History, all[i])
		}
	}
	if v.Reasons, err = h.deps.DB.Reasons(ctx, false); err != nil {
		return err
	}
	if v.Certificates, err = h.deps.DB.Certificates(ctx, a.ID); err != nil {
		return err
	}
	if v.Timeline, err = h.deps.DB.TimelineWithNotes(ctx, a.ID, 200); err != nil {
		return err
	}
	pii, err := h.personalData(c, a, "Archived: the personal data was deleted.", fmt.Sprintf("review verification=%d", ver.ID))
	if err != nil {
		return err
	}
	v.Attributes, v.Documents, v.PIINotice = pii.attributes, pii.documents, pii.notice
	open := v.InReview && v.Item.State == db.QueueOpen
	v.ClaimedByMe = open && v.Item.ClaimedBy == st.ID && v.Item.ClaimedAt(now)
	maker := st.Can(authz.ProposeDecision)
	v.CanPropose = maker && open && (v.ClaimedByMe || !v.Item.ClaimedAt(now))
	v.CanClaim = maker && open && !v.Item.ClaimedAt(now)
	v.IsProposer = v.Pending != nil && v.Pending.ProposedBy == st.ID
	v.CanDecide = st.Can(authz.Decide) && v.Pending != nil && !v.IsProposer
	v.CanNote = st.Can(authz.EditApplicants) && !a.Archived()
	v.Page = h.page(c, "Review: "+applicantTitle(a), "reviews")
	return web.Render(c, http.StatusOK, reviews.Case(v))
}

// claim takes one case for the maker.
func (h *reviewsHandler) claim(c echo.Context) error {
	ver, _, err := h.loadCase(c)
	if err != nil {
		return err
	}
	st, _ := web.StaffFrom(c)
	if err := h.deps.DB.Claim(c.Request().Context(), ver.ID, st.ID, h.auditEntry(c)); err != nil {
		return reviewConflict(err)
	}
	return web.Redirect(c, caseURL(ver.ID))
}

// release gives the maker's claim back to the queue.
func (h *reviewsHandler) release(c echo.Context) error {
	ver, _, err := h.loadCase(c)
	if err != nil {
		return err
	}
	st, _ := web.StaffFrom(c)
	err = h.deps.DB.ReleaseClaim(c.Request().Context(), ver.ID, st.ID, h.auditEntry(c))
	if errors.Is(err, db.ErrNotFound) {
		return web.Errorf(http.StatusConflict, "You do not hold this case (the claim may have expired).")
	}
	if err != nil {
		return err
	}
	h.deps.Web.Sessions.Flash(c, "The case is back in the queue.")
	return web.Redirect(c, "/reviews?state=open")
}

// reviewConflict turns the store's refusals into messages saying what to
// do next.
func reviewConflict(err error) error {
	switch {
	case errors.Is(err, db.ErrClaimed):
		return web.Errorf(http.StatusConflict, "Another reviewer holds this case. Take the next case instead.")
	case errors.Is(err, db.ErrNotInReview):
		return web.Errorf(http.StatusConflict, "This verification is no longer waiting for review.")
	case errors.Is(err, db.ErrConflict):
		return web.Errorf(http.StatusConflict, "This case already has a proposal waiting for a checker.")
	}
	return err
}

// propose records the maker's proposal. Mistakes come back on the form;
// new evidence since the page was drawn is shown before anything is sent.
func (h *reviewsHandler) propose(c echo.Context) error {
	ver, _, err := h.loadCase(c)
	if err != nil {
		return err
	}
	st, _ := web.StaffFrom(c)
	form := reviews.ProposeForm{Decision: c.FormValue("decision"), Comment: c.FormValue("comment")}
	form.ReasonID, _ = strconv.ParseInt(c.FormValue("reason"), 10, 64)
	switch {
	case !db.ValidDecision(form.Decision):
		form.Error = "Choose approve, reject or request more information."
	case form.ReasonID <= 0:
		form.Error = "Choose a reason."
	case len(strings.TrimSpace(form.Comment)) > db.MaxCommentLen:
		form.Error = fmt.Sprintf("The comment is limited to %d characters.", db.MaxCommentLen)
	}
	if form.Error != "" {
		return h.renderCase(c, form, "")
	}
	_, err = h.deps.DB.Propose(c.Request().Context(), db.NewProposal{VerificationID: ver.ID, Decision: form.Decision, ReasonID: form.ReasonID,
		Comment: form.Comment, SeenDigest: c.FormValue("evidence"), By: st.ID}, h.auditEntry(c))
	switch {
	case errors.Is(err, db.ErrEvidenceChanged):
		form.Error = "New data arrived since you opened this case. Look at the evidence again, then send your proposal."
		return h.renderCase(c, form, "")
	case errors.Is(err, db.ErrInvalid):
		form.Error = "This reason does not belong to that decision, or it needs a comment."
		return h.renderCase(c, form, "")
	case err != nil:
		return reviewConflict(err)
	}
	h.deps.Web.Sessions.Flash(c, "Proposal sent to a checker.")
	return web.Redirect(c, "/reviews?state=open")
}

// decide is the checker's confirm or return. The store refuses a decision
// by the proposal's maker (in the database) and a confirmation on moved
// evidence (the case goes back to the maker).
func (h *reviewsHandler) decide(c echo.Context) error {
	ver, a, err := h.loadCase(c)
	if err != nil {
		return err
	}
	st, _ := web.StaffFrom(c)
	pid, err := strconv.ParseInt(c.FormValue("proposal"), 10, 64)
	if err != nil || pid <= 0 {
		return badRequest("This form names no proposal. Reload the case and try again.")
	}
	action := c.FormValue("action")
	if action != "confirm" && action != "return" {
		return badRequest("Choose to confirm the proposal or return it to the maker.")
	}
	p, err := h.deps.DB.Proposal(c.Request().Context(), pid)
	if errors.Is(err, db.ErrNotFound) || (err == nil && p.VerificationID != ver.ID) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	in := db.DecisionInput{ProposalID: pid, By: st.ID, Confirm: action == "confirm", Note: c.FormValue("note")}
	if len(strings.TrimSpace(in.Note)) > db.MaxCommentLen {
		return h.renderCase(c, reviews.ProposeForm{}, fmt.Sprintf("The note is limited to %d characters.", db.MaxCommentLen))
	}
	got, err := h.deps.DB.Decide(c.Request().Context(), in, h.auditEntry(c))
	switch {
	case errors.Is(err, db.ErrSelfDecision):
		h.OnDenied(c, st, fmt.Sprintf("four eyes: decision on own proposal %d", pid))
		return web.Errorf(http.StatusForbidden, "You made this proposal, so you cannot decide it: another checker must (four eyes).")
	case errors.Is(err, db.ErrEvidenceChanged):
		h.deps.Web.Sessions.Flash(c, "Not decided: "+got.CloseNote+" The case went back to "+got.Proposer+".")
		return web.Redirect(c, "/reviews?state=proposed")
	case errors.Is(err, db.ErrInvalid):
		return h.renderCase(c, reviews.ProposeForm{}, "Say why the case goes back to the maker.")
	case errors.Is(err, db.ErrConflict):
		return web.Errorf(http.StatusConflict, "This proposal is already closed (decided, returned or superseded). Reload the case.")
	case err != nil:
		return err
	}
	if in.Confirm {
		h.deps.Web.Sessions.Flash(c, fmt.Sprintf("%s under four eyes: proposed by %s, confirmed by you.", reviews.OutcomeTitle(got), got.Proposer))
		return web.Redirect(c, fmt.Sprintf("/applicants/%d", a.ID))
	}
	h.deps.Web.Sessions.Flash(c, "The case went back to "+got.Proposer+" with your note.")
	return web.Redirect(c, "/reviews?state=proposed")
}

// bulk assigns or notes up to a page of ticked rows. There is no bulk
// approve: every decision is made on one case under four eyes.
func (h *reviewsHandler) bulk(c echo.Context) error {
	ctx := c.Request().Context()
	st, _ := web.StaffFrom(c)
	form, err := c.FormParams()
	if err != nil {
		return badRequest("This form could not be read.")
	}
	var ids []int64
	for _, s := range form["applicant"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return badRequest("The ticked rows could not be read. Reload the page and try again.")
		}
		ids = append(ids, id)
	}
	back := c.FormValue("return")
	if !strings.HasPrefix(back, "/reviews") {
		back = "/reviews"
	}
	back = safeNext(back)
	if len(ids) == 0 {
		return badRequest("Tick at least one row first.")
	}
	if len(ids) > db.MaxBulk {
		return badRequest("A bulk action covers at most %d rows (one page).", db.MaxBulk)
	}
	var createdBy int64
	if authz.OwnOnly(st.Role) {
		createdBy = st.ID
	}
	var msg string
	switch c.FormValue("action") {
	case "assign":
		assignee, err := strconv.ParseInt(c.FormValue("assignee"), 10, 64)
		if err != nil || assignee < 0 {
			return badRequest("Choose whom to assign the rows to.")
		}
		n, err := h.deps.DB.Assign(ctx, ids, assignee, createdBy, h.auditEntry(c))
		if errors.Is(err, db.ErrInvalid) {
			return badRequest("That person cannot be assigned cases.")
		}
		if err != nil {
			return err
		}
		msg = fmt.Sprintf("Assignee changed on %d of %d applicants.", n, len(ids))
	case "note":
		n, err := h.deps.DB.AddNotes(ctx, ids, st.ID, c.FormValue("note"), createdBy, h.auditEntry(c))
		if errors.Is(err, db.ErrInvalid) {
			return badRequest("Write the note (at most %d characters) before applying it.", db.MaxNoteLen)
		}
		if err != nil {
			return err
		}
		msg = fmt.Sprintf("Note added to %d of %d applicants.", n, len(ids))
	// Bulk archive belongs to the archive feature (issue 9): it plugs in
	// here as case "archive", calling its own db transaction per applicant.
	default:
		return badRequest("Choose assign or add a note.")
	}
	h.deps.Web.Sessions.Flash(c, msg)
	return web.Redirect(c, back)
}

// settings is the admin page for reasons and the claim timeout.
func (h *reviewsHandler) settings(c echo.Context) error {
	return h.renderSettings(c, "")
}

func (h *reviewsHandler) renderSettings(c echo.Context, msg string) error {
	ctx := c.Request().Context()
	rs, err := h.deps.DB.Reasons(ctx, true)
	if err != nil {
		return err
	}
	s, err := h.deps.DB.ReviewSettings(ctx)
	if err != nil {
		return err
	}
	v := reviews.SettingsView{Reasons: rs, ClaimMinutes: int(s.ClaimTTL / time.Minute), Error: msg, Page: h.page(c, "Review settings", "reviews")}
	return web.Render(c, http.StatusOK, reviews.Settings(v))
}

func (h *reviewsHandler) saveSettings(c echo.Context) error {
	mins, err := strconv.Atoi(c.FormValue("claim_minutes"))
	if err != nil || mins < 1 || mins > 24*60 {
		return h.renderSettings(c, "The claim time is a number of minutes from 1 to 1440.")
	}
	if err := h.deps.DB.SetReviewSettings(c.Request().Context(), db.ReviewSettings{ClaimTTL: time.Duration(mins) * time.Minute}, h.auditEntry(c)); err != nil {
		return err
	}
	h.deps.Web.Sessions.Flash(c, fmt.Sprintf("Claims now last %d minutes.", mins))
	return web.Redirect(c, "/reviews/settings")
}

func (h *reviewsHandler) addReason(c echo.Context) error {
	decision, label := c.FormValue("decision"), strings.TrimSpace(c.FormValue("label"))
	if !db.ValidDecision(decision) || label == "" || len(label) > db.MaxReasonLen {
		return h.renderSettings(c, fmt.Sprintf("Choose a decision and write a reason of at most %d characters.", db.MaxReasonLen))
	}
	_, err := h.deps.DB.AddReason(c.Request().Context(), decision, label, c.FormValue("requires_note") != "", h.auditEntry(c))
	if errors.Is(err, db.ErrConflict) {
		return h.renderSettings(c, "That reason is already on the list for this decision.")
	}
	if err != nil {
		return err
	}
	h.deps.Web.Sessions.Flash(c, "Reason added.")
	return web.Redirect(c, "/reviews/settings")
}

func (h *reviewsHandler) setReasonActive(c echo.Context) error {
	id, err := strconv.ParseInt(c.FormValue("reason"), 10, 64)
	if err != nil || id <= 0 {
		return badRequest("This form names no reason. Reload the page and try again.")
	}
	active := c.FormValue("active") == "true"
	err = h.deps.DB.SetReasonActive(c.Request().Context(), id, active, h.auditEntry(c))
	if errors.Is(err, db.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	h.deps.Web.Sessions.Flash(c, "Reason list updated.")
	return web.Redirect(c, "/reviews/settings")
}
