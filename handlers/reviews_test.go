package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/web/authz"
	"github.com/kycdesk/kycdesk/web/password"
)

// reviewCase puts a new applicant's verification into the review queue,
// with one attribute of evidence, and returns it.
func (a *testApp) reviewCase(name, provider string) db.Verification {
	a.t.Helper()
	ctx := context.Background()
	ap, err := a.db.CreateApplicant(ctx, db.NewApplicant{Name: name, CreatedBy: a.users[authz.LinkCreator].ID}, db.AuditEntry{Actor: "test"})
	if err != nil {
		a.t.Fatal(err)
	}
	v, err := a.db.StartVerification(ctx, db.NewVerification{ApplicantID: ap.ID, Provider: provider, Reference: "rv-" + strconv.FormatInt(ap.ID, 10),
		Status: "in_progress", ProviderStatus: "waiting"}, db.AuditEntry{Actor: "test"})
	if err != nil {
		a.t.Fatal(err)
	}
	if err := a.db.ApplyUpdate(ctx, db.VerificationUpdate{VerificationID: v.ID, Source: "webhook", Status: "needs_review", ProviderStatus: "inreview",
		Attributes: []db.AttributeInput{{Provider: provider, Meaning: "full_name", Name: "name", Value: name}}}); err != nil {
		a.t.Fatal(err)
	}
	return v
}

// caseForm reads what the case page's proposal form carries: the pinned
// evidence digest and the first reason offered for a decision.
func caseForm(t *testing.T, c *client, vid int64, decision string) (digest, reason string) {
	t.Helper()
	resp := c.get(caseURL(vid))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("case page: status %d", resp.StatusCode)
	}
	doc := parse(t, resp)
	form := doc.Find(`[data-testid="propose-form"]`)
	if form.Length() != 1 {
		t.Fatal("the case page shows no proposal form")
	}
	digest, _ = form.Find(`input[name="evidence"]`).Attr("value")
	reason, _ = form.Find(`option[data-decision="` + decision + `"]`).First().Attr("value")
	if len(digest) != 64 || reason == "" {
		t.Fatalf("proposal form: digest %q, reason %q", digest, reason)
	}
	return digest, reason
}

func (c *client) propose(vid int64, decision, reason, digest string) *http.Response {
	c.app.t.Helper()
	return c.postForm(caseURL(vid)+"/propose", url.Values{"decision": {decision}, "reason": {reason}, "evidence": {digest}, "comment": {"checked the passport"}})
}

func (c *client) decide(vid, proposal int64, action, note string) *http.Response {
	c.app.t.Helper()
	return c.postForm(caseURL(vid)+"/decide", url.Values{"proposal": {strconv.FormatInt(proposal, 10)}, "action": {action}, "note": {note}})
}

func (a *testApp) pending(vid int64) db.Proposal {
	a.t.Helper()
	p, err := a.db.PendingProposal(context.Background(), vid)
	if err != nil {
		a.t.Fatalf("pending proposal of %d: %v", vid, err)
	}
	return p
}

func TestFourEyesThroughTheUI(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	v := app.reviewCase("Ada Foureyes", "blockpass")
	maker, checker := app.signedIn(authz.Maker), app.signedIn(authz.Checker)

	resp := maker.postForm("/reviews/next", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != caseURL(v.ID) {
		t.Fatalf("next case: %d to %q, want the case %s", resp.StatusCode, resp.Header.Get("Location"), caseURL(v.ID))
	}
	doc := parse(t, maker.get(caseURL(v.ID)))
	if doc.Find(`[data-testid="claim-mine"]`).Length() != 1 || !strings.Contains(doc.Find(`[data-testid="case-attributes"]`).Text(), "Ada Foureyes") {
		t.Fatal("the maker's case page does not show their claim and the evidence")
	}
	digest, reason := caseForm(t, maker, v.ID, db.DecisionApprove)
	resp = maker.propose(v.ID, db.DecisionApprove, reason, digest)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("propose: status %d", resp.StatusCode)
	}
	if flash := parse(t, maker.get(resp.Header.Get("Location"))).Find(`[data-testid="flash"]`).Text(); !strings.Contains(flash, "Proposal sent to a checker") {
		t.Fatalf("flash after proposing = %q", flash)
	}
	p := app.pending(v.ID)

	// The maker sees their proposal waiting, with no way to decide it.
	doc = parse(t, maker.get(caseURL(v.ID)))
	if doc.Find(`[data-testid="decision-panel"]`).Length() != 1 || doc.Find(`[data-testid="confirm"]`).Length() != 0 {
		t.Fatal("the maker's view of their own proposal offers a decision")
	}

	// The checker's queue lists it; the case shows proposal and evidence side by side.
	doc = parse(t, checker.get("/reviews?state=proposed"))
	if !strings.Contains(doc.Find(`[data-testid="queue-table"]`).Text(), "Ada Foureyes") {
		t.Fatal("the proposal is not in the checkers' queue")
	}
	doc = parse(t, checker.get(caseURL(v.ID)))
	if !strings.Contains(doc.Find(`[data-testid="proposal"]`).Text(), "maker@example.com") ||
		doc.Find(`[data-testid="evidence-unchanged"]`).Length() != 1 || doc.Find(`[data-testid="confirm"]`).Length() != 1 {
		t.Fatal("the checker's side-by-side view is incomplete")
	}
	resp = checker.decide(v.ID, p.ID, "confirm", "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/applicants/%d", v.ApplicantID) {
		t.Fatalf("confirm: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	doc = parse(t, checker.get(fmt.Sprintf("/applicants/%d", v.ApplicantID)))
	if s, _ := doc.Find(`header [data-status]`).First().Attr("data-status"); s != "approved" {
		t.Fatalf("applicant status badge = %q, want approved", s)
	}
	timeline := doc.Find(`[data-testid="timeline"] li`).First().Text()
	if !strings.Contains(timeline, "maker@example.com") || !strings.Contains(timeline, "checker@example.com") || !strings.Contains(timeline, "Approved") {
		t.Fatalf("newest timeline entry = %q, want the approval naming both people", timeline)
	}
	if out, _ := doc.Find(`[data-testid="decisions"] [data-outcome]`).First().Attr("data-outcome"); out != "approve" {
		t.Fatalf("decisions section outcome = %q", out)
	}
	for _, action := range []string{"review.claim", "review.propose", "review.decide"} {
		if len(app.auditActions(t, action)) != 1 {
			t.Errorf("no single %s audit entry", action)
		}
	}
	if vv, _ := app.db.Verification(ctx, v.ID); vv.Status != "approved" {
		t.Fatalf("verification status %s", vv.Status)
	}
}

// TestSelfDecisionRefused covers a proposal made by someone who can also
// decide (here a checker whose proposal entered the store directly, as a
// role change would leave it): the page offers no decision, and a
// hand-made POST is refused by the database's four-eyes rule.
func TestSelfDecisionRefused(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	v := app.reviewCase("Sam Selfie", "idfy")
	checkerUser := app.users[authz.Checker]
	ev, _ := app.db.EvidenceFor(ctx, v.ID)
	reasons, _ := app.db.Reasons(ctx, false)
	p, err := app.db.Propose(ctx, db.NewProposal{VerificationID: v.ID, Decision: db.DecisionApprove, ReasonID: reasons[0].ID,
		SeenDigest: ev.Digest, By: checkerUser.ID}, db.AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	checker := app.signedIn(authz.Checker)
	doc := parse(t, checker.get(caseURL(v.ID)))
	if doc.Find(`[data-testid="own-proposal"]`).Length() != 1 || doc.Find(`[data-testid="confirm"]`).Length() != 0 {
		t.Fatal("the proposer is offered a decision on their own proposal")
	}
	resp := checker.decide(v.ID, p.ID, "confirm", "")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("hand-made self-approval: status %d, want 403", resp.StatusCode)
	}
	if msg := parse(t, resp).Find(`[data-testid="error-message"]`).Text(); !strings.Contains(msg, "four eyes") {
		t.Fatalf("refusal message = %q", msg)
	}
	if vv, _ := app.db.Verification(ctx, v.ID); vv.Status != "needs_review" {
		t.Fatalf("self-approval moved the verification to %s", vv.Status)
	}
	denied := app.auditActions(t, "access.denied")
	if len(denied) == 0 || !strings.Contains(denied[0].Detail, "four eyes") {
		t.Fatalf("the refused self-decision is not in the audit log: %+v", denied)
	}
	// The maker role cannot even reach the decision route.
	maker := app.signedIn(authz.Maker)
	if resp := maker.decide(v.ID, p.ID, "confirm", ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("maker deciding: status %d", resp.StatusCode)
	}
}

func TestDecisionOnChangedEvidenceGoesBackToMaker(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	v := app.reviewCase("Eve Moving", "corepass")
	maker, checker := app.signedIn(authz.Maker), app.signedIn(authz.Checker)
	maker.postForm("/reviews/next", nil)
	digest, reason := caseForm(t, maker, v.ID, db.DecisionApprove)

	// New data before the maker sends: the proposal is refused and the
	// form comes back with the new evidence and the maker's choices.
	if err := app.db.ApplyUpdate(ctx, db.VerificationUpdate{VerificationID: v.ID, Source: "callback", ProviderStatus: "FINISH_SUCCESS"}); err != nil {
		t.Fatal(err)
	}
	resp := maker.propose(v.ID, db.DecisionApprove, reason, digest)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stale proposal: status %d, want the form again", resp.StatusCode)
	}
	doc := parse(t, resp)
	newDigest, _ := doc.Find(`input[name="evidence"]`).Attr("value")
	if !strings.Contains(doc.Find(`[data-testid="form-error"]`).Text(), "New data arrived") || newDigest == digest {
		t.Fatal("a proposal on stale evidence was not sent back with the new evidence")
	}
	if doc.Find(`#decision-approve[checked]`).Length() != 1 {
		t.Error("the maker's decision was not kept")
	}
	if resp := maker.propose(v.ID, db.DecisionApprove, reason, newDigest); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("proposal on fresh evidence: status %d", resp.StatusCode)
	}
	p := app.pending(v.ID)

	// New data after the proposal: the checker sees it and cannot approve.
	if err := app.db.ApplyUpdate(ctx, db.VerificationUpdate{VerificationID: v.ID, Source: "callback",
		Attributes: []db.AttributeInput{{Provider: "corepass", Meaning: "date_of_birth", Name: "dob", Value: "1970-01-01"}}}); err != nil {
		t.Fatal(err)
	}
	doc = parse(t, checker.get(caseURL(v.ID)))
	if !strings.Contains(doc.Find(`[data-testid="evidence-changed"]`).Text(), "1 new attribute") {
		t.Fatal("the checker is not told the evidence changed")
	}
	resp = checker.decide(v.ID, p.ID, "confirm", "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm on changed evidence: status %d", resp.StatusCode)
	}
	flash := parse(t, checker.get(resp.Header.Get("Location"))).Find(`[data-testid="flash"]`).Text()
	if !strings.Contains(flash, "Not decided") || !strings.Contains(flash, "maker@example.com") {
		t.Fatalf("flash = %q", flash)
	}
	if vv, _ := app.db.Verification(ctx, v.ID); vv.Status != "needs_review" {
		t.Fatalf("approval on changed evidence moved the verification to %s", vv.Status)
	}
	// Back with the maker, claimed for them, with the reason in the history.
	doc = parse(t, maker.get(caseURL(v.ID)))
	if doc.Find(`[data-testid="claim-mine"]`).Length() != 1 || doc.Find(`[data-testid="propose-form"]`).Length() != 1 ||
		!strings.Contains(doc.Find(`[data-testid="case-history"]`).Text(), "Evidence changed since the proposal") {
		t.Fatal("the returned case is not back with its maker with the note why")
	}
}

func TestCheckerReturnsWithNote(t *testing.T) {
	app := newTestApp(t)
	v := app.reviewCase("Rita Return", "selfkey")
	maker, checker := app.signedIn(authz.Maker), app.signedIn(authz.Checker)
	digest, reason := caseForm(t, maker, v.ID, db.DecisionReject)
	maker.propose(v.ID, db.DecisionReject, reason, digest)
	p := app.pending(v.ID)
	if resp := checker.decide(v.ID, p.ID, "return", ""); resp.StatusCode != http.StatusOK ||
		parse(t, resp).Find(`[data-testid="decide-error"]`).Length() != 1 {
		t.Fatal("a return without a note was not sent back to the checker")
	}
	if resp := checker.decide(v.ID, p.ID, "return", "The selfie matches; look again."); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("return: status %d", resp.StatusCode)
	}
	doc := parse(t, maker.get(caseURL(v.ID)))
	if !strings.Contains(doc.Find(`[data-testid="case-history"]`).Text(), "The selfie matches") {
		t.Fatal("the checker's note is not on the case")
	}
	if len(app.auditActions(t, "review.return")) != 1 {
		t.Fatal("no audit entry for the return")
	}
}

func TestNextCaseRaceOverHTTP(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	const cases, makers = 3, 7
	for i := 0; i < cases; i++ {
		app.reviewCase(fmt.Sprintf("Racer %d", i), "idfy")
	}
	hash, _ := password.Hash(testPassword)
	var clients []*client
	var tokens []string
	for i := 0; i < makers; i++ {
		email := fmt.Sprintf("racer%d@example.com", i)
		if _, err := app.db.CreateUser(ctx, email, "maker", hash, db.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
		c := app.client()
		if resp := c.postForm("/login", url.Values{"email": {email}, "password": {testPassword}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in %s: %d", email, resp.StatusCode)
		}
		tokens = append(tokens, c.csrf())
		clients = append(clients, c)
	}
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range clients {
		wg.Add(1)
		go func(c *client, token string) {
			defer wg.Done()
			<-start
			resp, err := c.http.PostForm(app.srv.URL+"/reviews/next", url.Values{"_csrf": {token}})
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			got[resp.Header.Get("Location")]++
			mu.Unlock()
		}(c, tokens[i])
	}
	close(start)
	wg.Wait()
	if got["/reviews?state=open"] != makers-cases {
		t.Fatalf("%d makers told nothing waits, want %d (%v)", got["/reviews?state=open"], makers-cases, got)
	}
	for loc, n := range got {
		if strings.HasPrefix(loc, "/reviews/") && n != 1 {
			t.Fatalf("case %s handed to %d makers", loc, n)
		}
	}
	if len(got) != cases+1 {
		t.Fatalf("outcomes %v, want %d distinct cases and the empty queue", got, cases)
	}
}

func TestQueuePageFiltersAndBulk(t *testing.T) {
	app := newTestApp(t)
	v1, v2 := app.reviewCase("Bulk One", "corepass"), app.reviewCase("Bulk Two", "idfy")
	checker, maker := app.signedIn(authz.Checker), app.signedIn(authz.Maker)

	doc := parse(t, maker.get("/reviews"))
	if doc.Find(`[data-testid="queue-row"]`).Length() != 2 || doc.Find(`[data-testid="next-case"]`).Length() != 1 {
		t.Fatal("the maker's queue does not list both cases with a Next case button")
	}
	doc = parse(t, maker.get("/reviews?state=open&provider=idfy", "HX-Request", "true"))
	if doc.Find(`#queue-results`).Length() != 1 || doc.Find(`[data-testid="queue-row"]`).Length() != 1 ||
		!strings.Contains(doc.Text(), "Bulk Two") || doc.Find("header nav").Length() != 0 {
		t.Fatal("the provider filter over htmx did not return only the idfy row fragment")
	}
	if resp := maker.get("/reviews?provider=nope"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown provider filter: status %d", resp.StatusCode)
	}

	form := url.Values{"action": {"assign"}, "assignee": {strconv.FormatInt(app.users[authz.Maker].ID, 10)},
		"applicant": {strconv.FormatInt(v1.ApplicantID, 10), strconv.FormatInt(v2.ApplicantID, 10)}, "return": {"/reviews?state=open"}}
	resp := checker.postForm("/reviews/bulk", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/reviews?state=open" {
		t.Fatalf("bulk assign: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	doc = parse(t, maker.get("/reviews?state=open&assignee=me"))
	if doc.Find(`[data-testid="queue-row"]`).Length() != 2 {
		t.Fatal("the assigned cases are not in the maker's 'assigned to me' view")
	}
	resp = checker.postForm("/reviews/bulk", url.Values{"action": {"note"}, "note": {"Escalated: same address as a rejected case."},
		"applicant": {strconv.FormatInt(v1.ApplicantID, 10), strconv.FormatInt(v2.ApplicantID, 10)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bulk note: status %d", resp.StatusCode)
	}
	for _, v := range []db.Verification{v1, v2} {
		notes, _ := app.db.Notes(context.Background(), v.ApplicantID, 10)
		if len(notes) != 1 || notes[0].Author != "checker@example.com" {
			t.Fatalf("notes of applicant %d = %+v", v.ApplicantID, notes)
		}
	}
	var many []string
	for i := 1; i <= db.MaxBulk+1; i++ {
		many = append(many, strconv.Itoa(i))
	}
	if resp := checker.postForm("/reviews/bulk", url.Values{"action": {"note"}, "note": {"x"}, "applicant": many}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bulk over a page: status %d", resp.StatusCode)
	}
	if resp := checker.postForm("/reviews/bulk", url.Values{"action": {"approve"}, "applicant": {strconv.FormatInt(v1.ApplicantID, 10)}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bulk approve: status %d, want refused", resp.StatusCode)
	}
	if n := len(app.auditActions(t, "applicant.assign")); n != 2 {
		t.Fatalf("%d assign audit entries", n)
	}
}

// TestReviewActionsRoleLimits tries each review action as each role that
// must not do it, on a real case, and checks nothing changed.
func TestReviewActionsRoleLimits(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	v := app.reviewCase("Role Limits", "blockpass")
	other, err := app.db.CreateApplicant(ctx, db.NewApplicant{Name: "Not Theirs"}, db.AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	maker := app.signedIn(authz.Maker)
	digest, reason := caseForm(t, maker, v.ID, db.DecisionApprove)
	maker.propose(v.ID, db.DecisionApprove, reason, digest)
	p := app.pending(v.ID)
	id := strconv.FormatInt(v.ID, 10)
	aid := strconv.FormatInt(v.ApplicantID, 10)
	cases := []struct {
		role   authz.Role
		method string
		path   string
		form   url.Values
		want   int
	}{
		{authz.Checker, "POST", "/reviews/next", nil, http.StatusForbidden},
		{authz.Admin, "POST", "/reviews/next", nil, http.StatusForbidden},
		{authz.Checker, "POST", "/reviews/" + id + "/propose", url.Values{"decision": {"approve"}, "reason": {reason}, "evidence": {digest}}, http.StatusForbidden},
		{authz.Admin, "POST", "/reviews/" + id + "/decide", url.Values{"proposal": {strconv.FormatInt(p.ID, 10)}, "action": {"confirm"}}, http.StatusForbidden},
		{authz.Maker, "POST", "/reviews/" + id + "/decide", url.Values{"proposal": {strconv.FormatInt(p.ID, 10)}, "action": {"confirm"}}, http.StatusForbidden},
		{authz.LinkCreator, "POST", "/reviews/" + id + "/decide", url.Values{"proposal": {strconv.FormatInt(p.ID, 10)}, "action": {"confirm"}}, http.StatusForbidden},
		{authz.Auditor, "POST", "/reviews/" + id + "/decide", url.Values{"proposal": {strconv.FormatInt(p.ID, 10)}, "action": {"confirm"}}, http.StatusForbidden},
		{authz.Auditor, "POST", "/applicants/" + aid + "/notes", url.Values{"body": {"x"}}, http.StatusForbidden},
		{authz.Auditor, "POST", "/reviews/bulk", url.Values{"action": {"note"}, "note": {"x"}, "applicant": {aid}}, http.StatusForbidden},
		{authz.Maker, "GET", "/exports/applicants.csv", nil, http.StatusForbidden},
		{authz.LinkCreator, "GET", "/applicants/" + aid + "/export.json", nil, http.StatusForbidden},
		{authz.Auditor, "GET", "/exports/applicants.csv", nil, http.StatusForbidden},
		{authz.Checker, "GET", "/reviews/settings", nil, http.StatusForbidden},
		{authz.Maker, "POST", "/reviews/reasons", url.Values{"decision": {"approve"}, "label": {"Because"}}, http.StatusForbidden},
		// Object rule: link creators reach only their own applicants.
		{authz.LinkCreator, "POST", fmt.Sprintf("/applicants/%d/notes", other.ID), url.Values{"body": {"x"}}, http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s %s %s", tc.role, tc.method, tc.path), func(t *testing.T) {
			c := app.signedIn(tc.role)
			var resp *http.Response
			if tc.method == "GET" {
				resp = c.get(tc.path)
			} else {
				resp = c.postForm(tc.path, tc.form)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if vv, _ := app.db.Verification(ctx, v.ID); vv.Status != "needs_review" {
		t.Fatalf("a refused action moved the verification to %s", vv.Status)
	}
	if got, _ := app.db.Proposal(ctx, p.ID); got.State != db.ProposalPending {
		t.Fatalf("a refused action closed the proposal (%s)", got.State)
	}
	if notes, _ := app.db.Notes(ctx, v.ApplicantID, 10); len(notes) != 0 {
		t.Fatal("a refused note was stored")
	}
	if len(app.auditActions(t, "export.applicants_csv")) != 0 || len(app.auditActions(t, "export.case_file")) != 0 {
		t.Fatal("a refused export was audited as an export")
	}
}

func TestReviewSettingsReasons(t *testing.T) {
	app := newTestApp(t)
	v := app.reviewCase("Reason Person", "idfy")
	admin, maker := app.signedIn(authz.Admin), app.signedIn(authz.Maker)
	resp := admin.postForm("/reviews/reasons", url.Values{"decision": {"reject"}, "label": {"Address in a sanctioned region"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add reason: status %d", resp.StatusCode)
	}
	offered := func() bool {
		return strings.Contains(parse(t, maker.get(caseURL(v.ID))).Find(`select[name="reason"]`).Text(), "Address in a sanctioned region")
	}
	if !offered() {
		t.Fatal("the new reason is not offered to makers")
	}
	rs, _ := app.db.Reasons(context.Background(), true)
	id := rs[len(rs)-1].ID
	for _, r := range rs {
		if r.Label == "Address in a sanctioned region" {
			id = r.ID
		}
	}
	admin.postForm("/reviews/reasons/active", url.Values{"reason": {strconv.FormatInt(id, 10)}, "active": {"false"}})
	if offered() {
		t.Fatal("a hidden reason is still offered")
	}
	if resp := admin.postForm("/reviews/settings", url.Values{"claim_minutes": {"45"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save settings: status %d", resp.StatusCode)
	}
	if s, _ := app.db.ReviewSettings(context.Background()); s.ClaimTTL.Minutes() != 45 {
		t.Fatalf("claim TTL = %s", s.ClaimTTL)
	}
}
